using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using Anpm.Abstractions;

namespace Anpm.Credits;

/// <summary>A wallet's grant of a session key (the fields of its signed <c>Delegate</c> message).</summary>
/// <param name="Id">The key's id (from the grant request: a replay finds it).</param>
/// <param name="Account">The wallet that signed the grant.</param>
/// <param name="Delegate">The session key's address.</param>
/// <param name="Pool">The one pool the delegate may act in; <see langword="null"/> for all pools.</param>
/// <param name="Actions">What the delegate may sign.</param>
/// <param name="SpendCap">The most credits its tasks may take.</param>
/// <param name="ExpiresAt">When it stops being accepted.</param>
public sealed record SessionKeyGrant(string Id, Address Account, Address Delegate, PoolId? Pool, SessionKeyActions Actions, TokenAmount SpendCap, DateTimeOffset ExpiresAt);

/// <summary>The outcome of granting or revoking a session key.</summary>
public enum SessionKeyResult
{
    /// <summary>Granted (any earlier unrevoked key of the same delegate is revoked).</summary>
    Granted = 1,

    /// <summary>The same grant was made before under this id (a replay); nothing changed now.</summary>
    Exists = 2,

    /// <summary>Revoked.</summary>
    Revoked = 3,

    /// <summary>The account has no unrevoked session key for that delegate.</summary>
    NotFound = 4,

    /// <summary>A field is not acceptable; the message names it.</summary>
    Invalid = 5,

    /// <summary>The id was used for another grant.</summary>
    IdTaken = 6,

    /// <summary>The grant names a pool that does not exist.</summary>
    PoolNotFound = 7,
}

/// <summary>The result of <see cref="SessionKeyService.GrantAsync(SessionKeyGrant, CancellationToken)"/> and <see cref="SessionKeyService.RevokeAsync(Address, Address, CancellationToken)"/>.</summary>
public sealed record SessionKeyOutcome(SessionKeyResult Result, SessionKey? Key, string? Error)
{
    /// <summary>Whether the grant or revocation was refused; then <see cref="Error"/> says why, and nothing changed.</summary>
    [MemberNotNullWhen(true, nameof(Error))]
    [MemberNotNullWhen(false, nameof(Key))]
    public bool IsRefused => Result is not (SessionKeyResult.Granted or SessionKeyResult.Exists or SessionKeyResult.Revoked);
}

/// <summary>Why a session key may not sign a request (or take a spend); <see cref="None"/> when it may.</summary>
public enum SessionKeyRefusal
{
    /// <summary>Allowed.</summary>
    None = 0,

    /// <summary>The account never granted this delegate a session key.</summary>
    Unknown = 1,

    /// <summary>The wallet revoked the key (or replaced it with a newer grant).</summary>
    Revoked = 2,

    /// <summary>The key expired.</summary>
    Expired = 3,

    /// <summary>The key does not allow this kind of request, or not in this pool.</summary>
    NotAllowed = 4,

    /// <summary>The spend would take the key past its spend cap.</summary>
    CapReached = 5,
}

/// <summary>Whether a session key may sign a request or take a spend, and why not.</summary>
/// <param name="Refusal">Why not; <see cref="SessionKeyRefusal.None"/> when allowed.</param>
/// <param name="Key">The key that was judged, when there is one.</param>
/// <param name="Error">The refusal in words.</param>
public sealed record SessionKeyCheck(SessionKeyRefusal Refusal, SessionKey? Key, string? Error)
{
    /// <summary>Whether the request or spend is allowed; then <see cref="Key"/> is the key that allows it.</summary>
    [MemberNotNullWhen(true, nameof(Key))]
    public bool IsAllowed => Refusal == SessionKeyRefusal.None;
}

/// <summary>
/// Session keys: a wallet grants a delegate address the right to sign some of its requests (<see cref="SessionKeyActions"/>),
/// in one pool or all, until an expiry, with a cap on the credits its tasks take; the wallet revokes it at any time. A
/// task added with a session key charges its price to the key in the unit of work that holds it — the key's row locked,
/// so concurrent tasks of one delegate never pass the cap — and records the key on the task; a voided hold gives the
/// charge back (<see cref="ChargeAsync"/>, <see cref="ReleaseAsync"/>).
/// </summary>
public sealed class SessionKeyService
{
    /// <summary>The longest a session key may live: one year from its grant.</summary>
    public static readonly TimeSpan MaxLifetime = TimeSpan.FromDays(365);

    private readonly IAnpmStore _store;
    private readonly TimeProvider _timeProvider;

    /// <summary>Creates the service.</summary>
    public SessionKeyService(IAnpmStore store, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(timeProvider);
        _store = store;
        _timeProvider = timeProvider;
    }

    // The actions a session key may have, by their names in the wire contract (the message types a delegate signs).
    private static readonly (string Name, SessionKeyActions Action)[] Actions =
        [(nameof(SessionKeyActions.AddTask), SessionKeyActions.AddTask), (nameof(SessionKeyActions.TransferCredits), SessionKeyActions.TransferCredits),
         (nameof(SessionKeyActions.WithdrawCredits), SessionKeyActions.WithdrawCredits)];

    /// <summary>The action names of the wire contract (the message types a delegate may sign), in flag order.</summary>
    public static IReadOnlyList<string> ActionNames { get; } = [.. Actions.Select(static a => a.Name)];

    /// <summary>The action a message type is, when a session key may sign it.</summary>
    /// <returns><see langword="false"/> when no session key signs messages of <paramref name="type"/>.</returns>
    public static bool TryGetAction(string? type, out SessionKeyActions action)
    {
        action = Actions.FirstOrDefault(a => a.Name == type).Action;
        return action != SessionKeyActions.None;
    }

    /// <summary>Reads a comma-separated list of action names (e.g. <c>AddTask, TransferCredits</c>; spaces around names and empty entries are ignored, as in webhook event types), each at most once.</summary>
    /// <returns><see langword="false"/> with the problem in words when a name is unknown, repeated, or the list is empty.</returns>
    public static bool TryParseActions(string? text, out SessionKeyActions actions, [System.Diagnostics.CodeAnalysis.NotNullWhen(false)] out string? error)
    {
        (actions, error) = (SessionKeyActions.None, null);
        var names = (text ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries); // as webhook event types are read
        if (names.Length == 0)
        {
            error = $"actions must name at least one of {string.Join(", ", ActionNames)}.";
            return false;
        }

        foreach (var name in names)
        {
            if (!TryGetAction(name, out var one))
            {
                error = $"'{name}' is not an action a session key may have ({string.Join(", ", ActionNames)}).";
                return false;
            }

            if ((actions & one) != 0)
            {
                error = $"'{name}' is named twice.";
                return false;
            }

            actions |= one;
        }

        return true;
    }

    /// <summary>The comma-separated names of <paramref name="actions"/>, as the wire contract writes them.</summary>
    public static string FormatActions(SessionKeyActions actions) =>
        string.Join(",", Actions.Where(a => (actions & a.Action) != 0).Select(static a => a.Name));

    /// <summary>
    /// Grants a session key (the caller verified the wallet's signed grant): the delegate another address than the
    /// account, at least one action, a cap above zero when it may add tasks, an expiry in the future and within
    /// <see cref="MaxLifetime"/>, an existing pool when one is named. An unrevoked key of the same delegate is revoked in
    /// the same unit of work. Idempotent by <see cref="SessionKeyGrant.Id"/>.
    /// </summary>
    public ValueTask<SessionKeyOutcome> GrantAsync(SessionKeyGrant grant, CancellationToken cancellationToken = default) =>
        _store.RunAsync((Service: this, Grant: grant), static (unitOfWork, r, ct) => r.Service.GrantAsync(unitOfWork, r.Grant, ct), cancellationToken);

    /// <summary>The same command inside the caller's unit of work, which the caller commits (or ends uncommitted: then nothing of it is kept).</summary>
    public async ValueTask<SessionKeyOutcome> GrantAsync(IAnpmUnitOfWork unitOfWork, SessionKeyGrant grant, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(unitOfWork);
        ArgumentNullException.ThrowIfNull(grant);
        ArgumentException.ThrowIfNullOrEmpty(grant.Id);
        var now = _timeProvider.GetUtcNow();
        var problem = grant switch
        {
            _ when grant.Id.Length > SessionKey.MaxIdLength => $"The id is longer than {SessionKey.MaxIdLength} characters.",
            _ when grant.Delegate == grant.Account => "delegate must be another address than the account.",
            _ when grant.Delegate == Address.Zero => "delegate must not be the zero address.",
            _ when grant.Actions == SessionKeyActions.None || (grant.Actions & ~(SessionKeyActions.AddTask | SessionKeyActions.TransferCredits | SessionKeyActions.WithdrawCredits)) != 0
                => $"actions must name at least one of {string.Join(", ", ActionNames)}.",
            _ when (grant.Actions & SessionKeyActions.AddTask) != 0 && grant.SpendCap.IsZero => "spendCap must be above zero for a key that may add tasks.",
            _ when grant.ExpiresAt <= now => $"expiresAt {grant.ExpiresAt.ToUnixTimeSeconds()} is not in the future (now {now.ToUnixTimeSeconds()}).",
            _ when grant.ExpiresAt > now + MaxLifetime => $"expiresAt is more than {MaxLifetime.TotalDays.ToString(CultureInfo.InvariantCulture)} days ahead.",
            _ => null,
        };
        if (problem is not null)
        {
            return new SessionKeyOutcome(SessionKeyResult.Invalid, null, problem);
        }

        if (await unitOfWork.SessionKeys.GetSessionKeyAsync(grant.Id, cancellationToken: cancellationToken).ConfigureAwait(false) is { } existing)
        {
            var same = existing.Account == grant.Account && existing.Delegate == grant.Delegate && existing.PoolId == grant.Pool
                && existing.Actions == grant.Actions && existing.SpendCap == grant.SpendCap && existing.ExpiresAt == grant.ExpiresAt;
            return same ? new SessionKeyOutcome(SessionKeyResult.Exists, existing, null) : new SessionKeyOutcome(SessionKeyResult.IdTaken, null, "The id was used for another grant.");
        }

        if (grant.Pool is { } pool && await unitOfWork.Pools.GetPoolAsync(pool, cancellationToken).ConfigureAwait(false) is null)
        {
            return new SessionKeyOutcome(SessionKeyResult.PoolNotFound, null, $"There is no pool '{pool}'.");
        }

        if (await ActiveKeyAsync(unitOfWork, grant.Account, grant.Delegate, cancellationToken).ConfigureAwait(false) is { } previous)
        {
            await unitOfWork.SessionKeys.UpdateSessionKeyAsync(previous with { RevokedAt = now }, previous.Version, cancellationToken).ConfigureAwait(false);
        }

        var key = new SessionKey
        {
            Id = grant.Id,
            Account = grant.Account,
            Delegate = grant.Delegate,
            PoolId = grant.Pool,
            Actions = grant.Actions,
            SpendCap = grant.SpendCap,
            Spent = TokenAmount.Zero,
            ExpiresAt = grant.ExpiresAt,
            CreatedAt = now,
        };
        if (!await unitOfWork.SessionKeys.TryInsertSessionKeyAsync(key, cancellationToken).ConfigureAwait(false))
        {
            throw new AnpmConcurrencyException($"A session key of {grant.Account} for {grant.Delegate} was granted at the same time; retry.");
        }

        return new SessionKeyOutcome(SessionKeyResult.Granted, key, null);
    }

    /// <summary>Revokes the account's unrevoked session key for <paramref name="delegate"/>: from this commit on, nothing it signs is accepted.</summary>
    public ValueTask<SessionKeyOutcome> RevokeAsync(Address account, Address @delegate, CancellationToken cancellationToken = default) =>
        _store.RunAsync((Service: this, Account: account, Delegate: @delegate), static (unitOfWork, request, ct) =>
            request.Service.RevokeAsync(unitOfWork, request.Account, request.Delegate, ct), cancellationToken);

    /// <summary>The same command inside the caller's unit of work, which the caller commits (or ends uncommitted: then nothing of it is kept).</summary>
    public async ValueTask<SessionKeyOutcome> RevokeAsync(IAnpmUnitOfWork unitOfWork, Address account, Address @delegate, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(unitOfWork);
        var now = _timeProvider.GetUtcNow();
        if (await ActiveKeyAsync(unitOfWork, account, @delegate, cancellationToken).ConfigureAwait(false) is not { } key)
        {
            return new SessionKeyOutcome(SessionKeyResult.NotFound, null, $"{account} has no unrevoked session key for {@delegate}.");
        }

        var revoked = key with { RevokedAt = now };
        await unitOfWork.SessionKeys.UpdateSessionKeyAsync(revoked, key.Version, cancellationToken).ConfigureAwait(false);
        return new SessionKeyOutcome(SessionKeyResult.Revoked, revoked with { Version = key.Version + 1 }, null);
    }

    /// <summary>An account's session keys: the unrevoked ones first, then newest first (revoked and expired ones included).</summary>
    public ValueTask<IReadOnlyList<SessionKey>> ListAsync(Address account, int limit = 100, CancellationToken cancellationToken = default) =>
        _store.RunReadAsync((Account: account, Limit: limit), static (unitOfWork, request, ct) =>
            unitOfWork.SessionKeys.ListSessionKeysAsync(request.Account, null, request.Limit, ct), cancellationToken);

    /// <summary>
    /// Whether <paramref name="delegate"/> may sign a request of <paramref name="action"/> for <paramref name="account"/>
    /// in <paramref name="pool"/> now: its newest key not revoked, not expired, and allowing the action there. The spend
    /// cap is judged by <see cref="ChargeAsync"/>, with the spend.
    /// </summary>
    public ValueTask<SessionKeyCheck> AuthorizeAsync(Address account, Address @delegate, SessionKeyActions action, PoolId pool, CancellationToken cancellationToken = default) =>
        _store.RunReadAsync((Account: account, Delegate: @delegate, Action: action, Pool: pool, Now: _timeProvider.GetUtcNow()), static async (unitOfWork, request, ct) =>
        {
            var newest = (await unitOfWork.SessionKeys.ListSessionKeysAsync(request.Account, request.Delegate, 1, ct).ConfigureAwait(false)) is [var key] ? key : null;
            return Judge(newest, request.Account, request.Delegate, request.Action, request.Pool, request.Now);
        }, cancellationToken);

    /// <summary>
    /// Charges <paramref name="amount"/> (a task's price) to the account's session key for <paramref name="delegate"/>,
    /// inside the unit of work that holds the amount: the key is read locked and judged (revoked or expired, the pool,
    /// the action <see cref="SessionKeyActions.AddTask"/>), and refused when the amount passes what remains of its cap.
    /// Call it after the ledger's hold, so that every unit of work locks the ledger's accounts before a key. A refusal
    /// wrote nothing, but the caller must not commit what it wrote before (throw, or dispose the unit of work). Record
    /// the charged key's id with what was charged (<see cref="InferenceTask.SessionKeyId"/>) to give it back later.
    /// </summary>
    /// <returns>The judgement; when allowed, <see cref="SessionKeyCheck.Key"/> is the key as charged.</returns>
    public async ValueTask<SessionKeyCheck> ChargeAsync(
        IAnpmUnitOfWork unitOfWork, Address account, Address @delegate, PoolId pool, TokenAmount amount, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        var check = await JudgeSpendAsync(unitOfWork, account, @delegate, pool, amount, now, forUpdate: true, cancellationToken).ConfigureAwait(false);
        if (!check.IsAllowed)
        {
            return check;
        }

        var key = check.Key;
        var charged = key with { Spent = key.Spent + amount };
        await unitOfWork.SessionKeys.UpdateSessionKeyAsync(charged, key.Version, cancellationToken).ConfigureAwait(false);
        return new SessionKeyCheck(SessionKeyRefusal.None, charged with { Version = key.Version + 1 }, null);
    }

    /// <summary>
    /// Whether the account's session key for <paramref name="delegate"/> may take <paramref name="amount"/> for a task in
    /// <paramref name="pool"/> now, writing nothing: its unrevoked key (read locked when <paramref name="forUpdate"/>),
    /// judged like <see cref="Judge"/>, with the amount within what remains of its cap. Without a lock it is a first
    /// look (refuse before writing anything); <see cref="ChargeAsync"/> judges again under the lock.
    /// </summary>
    public async ValueTask<SessionKeyCheck> JudgeSpendAsync(
        IAnpmUnitOfWork unitOfWork, Address account, Address @delegate, PoolId pool, TokenAmount amount, DateTimeOffset now, bool forUpdate, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(unitOfWork);
        var key = await unitOfWork.SessionKeys.GetActiveSessionKeyAsync(account, @delegate, forUpdate, cancellationToken).ConfigureAwait(false);
        if (key is null)
        {
            // No unrevoked key: say whether there never was one or it was revoked.
            var newest = (await unitOfWork.SessionKeys.ListSessionKeysAsync(account, @delegate, 1, cancellationToken).ConfigureAwait(false)) is [var last] ? last : null;
            return Judge(newest, account, @delegate, SessionKeyActions.AddTask, pool, now);
        }

        var check = Judge(key, account, @delegate, SessionKeyActions.AddTask, pool, now);
        return !check.IsAllowed || amount <= key.Remaining
            ? check
            : new SessionKeyCheck(SessionKeyRefusal.CapReached, key, $"The session key {key.Delegate} has {key.Remaining} of its {key.SpendCap} credits left; this task holds {amount}.");
    }

    /// <summary>
    /// Gives <paramref name="amount"/> back to a session key (the hold it was charged for was voided), inside the unit of
    /// work that voids the hold, after it. A revoked or expired key gets it back too: its record stays true. The caller
    /// gives each charge back once (a task fails once).
    /// </summary>
    /// <exception cref="AnpmException">There is no such key.</exception>
    public async ValueTask ReleaseAsync(IAnpmUnitOfWork unitOfWork, string sessionKeyId, TokenAmount amount, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(unitOfWork);
        ArgumentException.ThrowIfNullOrEmpty(sessionKeyId);
        var key = await unitOfWork.SessionKeys.GetSessionKeyAsync(sessionKeyId, forUpdate: true, cancellationToken).ConfigureAwait(false)
            ?? throw new AnpmException($"Session key '{sessionKeyId}' does not exist.");
        var spent = key.Spent >= amount ? key.Spent - amount : TokenAmount.Zero;
        await unitOfWork.SessionKeys.UpdateSessionKeyAsync(key with { Spent = spent }, key.Version, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Judges a key (the delegate's newest, or null when none) for a request, leaving the cap aside.</summary>
    public static SessionKeyCheck Judge(SessionKey? key, Address account, Address @delegate, SessionKeyActions action, PoolId pool, DateTimeOffset now)
    {
        if (key is null || key.Account != account)
        {
            return new SessionKeyCheck(SessionKeyRefusal.Unknown, null, $"{account} has granted {@delegate} no session key.");
        }

        if (key.RevokedAt is { } revokedAt)
        {
            return new SessionKeyCheck(SessionKeyRefusal.Revoked, key, $"The session key {key.Delegate} of {account} was revoked at {revokedAt:O}.");
        }

        if (now >= key.ExpiresAt)
        {
            return new SessionKeyCheck(SessionKeyRefusal.Expired, key, $"The session key {key.Delegate} of {account} expired at {key.ExpiresAt:O}.");
        }

        if ((key.Actions & action) == 0)
        {
            return new SessionKeyCheck(SessionKeyRefusal.NotAllowed, key, $"The session key {key.Delegate} may sign {FormatActions(key.Actions)}, not {action}.");
        }

        if (key.PoolId is { } only && only != pool)
        {
            return new SessionKeyCheck(SessionKeyRefusal.NotAllowed, key, $"The session key {key.Delegate} may act in pool '{only}' only, not '{pool}'.");
        }

        return new SessionKeyCheck(SessionKeyRefusal.None, key, null);
    }

    private static async ValueTask<SessionKey?> ActiveKeyAsync(IAnpmUnitOfWork unitOfWork, Address account, Address @delegate, CancellationToken cancellationToken) =>
        (await unitOfWork.SessionKeys.ListSessionKeysAsync(account, @delegate, 1, cancellationToken).ConfigureAwait(false)) is [{ RevokedAt: null } key] ? key : null;
}
