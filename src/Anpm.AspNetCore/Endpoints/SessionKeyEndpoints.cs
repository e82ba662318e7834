using Anpm.Abstractions;
using Anpm.Credits;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Anpm.AspNetCore;

/// <summary>Session keys: a wallet grants (<c>Delegate</c>) and revokes (<c>RevokeDelegate</c>) them; anyone reads an account's.</summary>
internal static class SessionKeyEndpoints
{
    public static async Task<Results<Created<SessionKeyView>, ProblemHttpResult>> GrantAsync(SignedRequest request, SessionKeyService sessionKeys, TimeProvider timeProvider, CancellationToken ct)
    {
        if (!Address.TryParse(request.Text("delegate"), out var @delegate, out var delegateError))
        {
            return AnpmProblems.Invalid("message.delegate: " + delegateError);
        }

        PoolId? pool = null;
        if (request.Text("poolId") is { Length: > 0 } poolText)
        {
            if (!PoolId.TryParse(poolText, out var id, out var poolError))
            {
                return AnpmProblems.Invalid("message.poolId: " + poolError + " (\"\" for every pool)");
            }

            pool = id;
        }

        if (!SessionKeyService.TryParseActions(request.Text("actions"), out var actions, out var actionsError))
        {
            return AnpmProblems.Invalid("message.actions: " + actionsError);
        }

        if (request.Amount("spendCap") is not { } cap)
        {
            return AnpmProblems.Invalid("message.spendCap is larger than any balance can be.");
        }

        var expiresAt = request.Integer("expiresAt");
        if (expiresAt > DateTimeOffset.MaxValue.ToUnixTimeSeconds())
        {
            return AnpmProblems.Invalid("message.expiresAt is out of range.");
        }

        var granted = await sessionKeys.GrantAsync(request.UnitOfWork, new SessionKeyGrant("k" + request.ShortId[..31], request.Signer, @delegate, pool, actions, cap,
            DateTimeOffset.FromUnixTimeSeconds((long)expiresAt)), ct);
        if (!granted.IsRefused)
        {
            return TypedResults.Created((string?)null, SessionKeyView.Of(granted.Key, timeProvider.GetUtcNow()));
        }

        return granted.Result switch
        {
            SessionKeyResult.PoolNotFound => AnpmProblems.NotFound(granted.Error),
            SessionKeyResult.IdTaken => AnpmProblems.Conflict(granted.Error),
            _ => AnpmProblems.Invalid(granted.Error),
        };
    }

    public static async Task<Results<Ok<SessionKeyView>, ProblemHttpResult>> RevokeAsync(SignedRequest request, SessionKeyService sessionKeys, TimeProvider timeProvider, CancellationToken ct)
    {
        if (!Address.TryParse(request.Text("delegate"), out var @delegate, out var delegateError))
        {
            return AnpmProblems.Invalid("message.delegate: " + delegateError);
        }

        var revoked = await sessionKeys.RevokeAsync(request.UnitOfWork, request.Signer, @delegate, ct);
        return !revoked.IsRefused
            ? TypedResults.Ok(SessionKeyView.Of(revoked.Key, timeProvider.GetUtcNow()))
            : AnpmProblems.NotFound(revoked.Error);
    }

    public static async Task<Results<Ok<SessionKeysPage>, ProblemHttpResult>> ListAsync(string address, SessionKeyService sessionKeys, TimeProvider timeProvider, CancellationToken ct)
    {
        if (!Address.TryParse(address, out var account, out var error))
        {
            return AnpmProblems.Invalid("address: " + error);
        }

        var now = timeProvider.GetUtcNow();
        return TypedResults.Ok(new SessionKeysPage([.. (await sessionKeys.ListAsync(account, 100, ct)).Select(k => SessionKeyView.Of(k, now))]));
    }
}

/// <summary>A session key: who may sign for whom, where, what, how much is left and until when.</summary>
/// <param name="SessionKeyId">Its id.</param>
/// <param name="Account">The wallet that granted it.</param>
/// <param name="Delegate">The session key's address.</param>
/// <param name="PoolId">The one pool it acts in; <c>""</c> for every pool (as the <c>Delegate</c> message writes it).</param>
/// <param name="Actions">The message types it may sign, comma-separated.</param>
/// <param name="SpendCap">The most credits its tasks may take.</param>
/// <param name="Spent">What its tasks hold or were charged (a voided hold gives back).</param>
/// <param name="Remaining">What it may still spend.</param>
/// <param name="ExpiresAt">When it stops being accepted.</param>
/// <param name="CreatedAt">When it was granted.</param>
/// <param name="RevokedAt">When it was revoked (or replaced); <see langword="null"/> while not.</param>
/// <param name="Status"><c>Active</c>, <c>Expired</c> or <c>Revoked</c>.</param>
public sealed record SessionKeyView(string SessionKeyId, Address Account, Address Delegate, string PoolId, string Actions, TokenAmount SpendCap, TokenAmount Spent,
    TokenAmount Remaining, DateTimeOffset ExpiresAt, DateTimeOffset CreatedAt, DateTimeOffset? RevokedAt, string Status)
{
    /// <summary>The view of a key at <paramref name="now"/>.</summary>
    public static SessionKeyView Of(SessionKey key, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(key);
        return new(key.Id, key.Account, key.Delegate, key.PoolId?.ToString() ?? string.Empty, SessionKeyService.FormatActions(key.Actions), key.SpendCap, key.Spent, key.Remaining, key.ExpiresAt,
            key.CreatedAt, key.RevokedAt, key.RevokedAt is not null ? "Revoked" : key.IsActiveAt(now) ? "Active" : "Expired");
    }
}

/// <summary><c>GET /accounts/{address}/session-keys</c>: an account's session keys, the unrevoked first, then newest first (at most 100).</summary>
public sealed record SessionKeysPage(IReadOnlyList<SessionKeyView> SessionKeys);
