using Anpm.Abstractions;
using Anpm.Credits;
using Anpm.Pools;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace Anpm.AspNetCore;

/// <summary>The signed commands of admins, the feeder and the token gateway.</summary>
internal static class AdminEndpoints
{
    public static async Task<Results<Ok<PoolView>, Accepted<PoolView>, ProblemHttpResult>> SetPoolStatusAsync(
        string poolId, SignedRequest request, PoolRegistry registry, ContributionService contributions, AnpmRoles roles, CancellationToken ct)
    {
        if (request.Text("poolId") != poolId || !PoolId.TryParse(poolId, out var pool))
        {
            return AnpmProblems.Invalid("message.poolId must be the pool of the route.");
        }

        var record = await request.UnitOfWork.Pools.GetPoolAsync(pool, ct);
        if (record is null)
        {
            return AnpmProblems.NotFound($"There is no pool '{poolId}'.");
        }

        var number = request.Integer("status");
        var target = number >= 0 && number <= 255 ? (PoolStatus)(int)number : (PoolStatus)(-1);
        var ownerMayPause = target == PoolStatus.Paused || (target == PoolStatus.Active && record.Status == PoolStatus.Paused);
        if (!roles.IsAdmin(request.Signer) && !(ownerMayPause && record.Owner == request.Signer))
        {
            return AnpmProblems.Forbidden($"{request.Signer} may not set pool '{poolId}' to {target}.");
        }

        var change = target switch
        {
            PoolStatus.Paused => await registry.PauseAsync(request.UnitOfWork, pool, ct),
            PoolStatus.Active when record.Status == PoolStatus.Paused => await registry.ResumeAsync(request.UnitOfWork, pool, ct),
            PoolStatus.Funding => await contributions.StartFundingAsync(request.UnitOfWork, pool, force: true, ct),
            PoolStatus.Canceled => await contributions.CancelPoolAsync(request.UnitOfWork, pool, ct),
            PoolStatus.Closed => await contributions.ClosePoolAsync(request.UnitOfWork, pool, ct),
            _ => new PoolStatusChange(PoolStatusChangeResult.InvalidTransition, record,
                $"Pool is {record.Status}: status {number} is set by another route or not at all (Distributing: /admin/pools/{{poolId}}/distributing)."),
        };
        return await StatusAsync(change, request.UnitOfWork, ct);
    }

    public static async Task<Results<Ok<PoolView>, Accepted<PoolView>, ProblemHttpResult>> SetAmountDistributingAsync(
        string poolId, SignedRequest request, ContributionService contributions, CancellationToken ct)
    {
        if (request.Text("poolId") != poolId || !PoolId.TryParse(poolId, out var pool) || request.Amount("amount") is not { } amount)
        {
            return AnpmProblems.Invalid("message.poolId must be the pool of the route, and amount in range.");
        }

        return await StatusAsync(await contributions.StartDistributingAsync(request.UnitOfWork, pool, amount, ct), request.UnitOfWork, ct);
    }

    public static async Task<Results<Ok<RateView>, ProblemHttpResult>> SetExchangeRateAsync(SignedRequest request, CreditService credits, CancellationToken ct)
    {
        if (request.Amount("credits") is not { } creditsPer || request.Amount("tokenUnits") is not { } units)
        {
            return AnpmProblems.Invalid("message.credits and message.tokenUnits must be in range.");
        }

        // A time past the calendar becomes the latest one; the service refuses any after CreditService.LatestEffectiveAt.
        var effective = request.Integer("effectiveAt");
        DateTimeOffset? at = effective == 0 ? null
            : effective <= DateTimeOffset.MaxValue.ToUnixTimeSeconds() ? DateTimeOffset.FromUnixTimeSeconds((long)effective) : DateTimeOffset.MaxValue;
        var set = await credits.SetExchangeRateAsync(request.UnitOfWork, request.Signer, creditsPer, units, at, ct);
        if (!set.IsRefused)
        {
            return TypedResults.Ok(new RateView(set.Rate.Credits, set.Rate.TokenUnits, set.Rate.EffectiveAt));
        }

        return set.Result == SetExchangeRateResult.Conflict ? AnpmProblems.Conflict(set.Error) : AnpmProblems.Invalid(set.Error);
    }

    public static async Task<Ok<PauseView>> PauseAsync(SignedRequest request, SystemPause pause, CancellationToken ct)
    {
        var set = await pause.SetAsync(request.UnitOfWork, request.Boolean("paused"), request.Signer, "admin", ct);
        return TypedResults.Ok(new PauseView(set.State.Paused, set.State.ChangedAt, set.State.ChangedBy));
    }

    public static async Task<Results<Ok<OutboxPullView>, ProblemHttpResult>> PullOutboxAsync(SignedRequest request, Outbox outbox, IOptions<AnpmApiOptions> options, CancellationToken ct)
    {
        if (options.Value.OutboxDelivery != OutboxDelivery.GatewayPull || !options.Value.AcceptGatewayRequests)
        {
            return AnpmProblems.InvalidState("The outbox dispatches outgoing transfers itself (AnpmApiOptions.OutboxDelivery is Dispatch); there is nothing to pull.", "Dispatch");
        }

        var limit = request.Integer("limit");
        if (limit < 1 || limit > AnpmApiOptions.MaxPull)
        {
            return AnpmProblems.Invalid($"message.limit must be 1 to {AnpmApiOptions.MaxPull}, not {limit}.");
        }

        var pulled = await outbox.HandOutDueAsync(request.UnitOfWork, (int)limit, ct);
        return TypedResults.Ok(new OutboxPullView([.. pulled.Select(t => new PulledTransfer(t.Id, t.To, t.Asset, t.Amount, t.Kind, t.Reference, t.Attempts + 1))]));
    }

    public static async Task<Results<Ok<OutboxConfirmed>, ProblemHttpResult>> ConfirmOutboxAsync(string transferId, SignedRequest request, Outbox outbox, IOptions<AnpmApiOptions> options, CancellationToken ct)
    {
        if (!options.Value.AcceptGatewayRequests)
        {
            return AnpmProblems.InvalidState("This host's own token pays and confirms outgoing transfers (AnpmApiOptions.AcceptGatewayRequests is false); a gateway's confirmation is refused.", "OwnToken");
        }

        if (request.Text("transferId") != transferId || !TransferId.TryParse(transferId, out var id, out _))
        {
            return AnpmProblems.Invalid("message.transferId must be the transfer of the route.");
        }

        var confirmed = await outbox.ConfirmHandedOutAsync(request.UnitOfWork, id, request.Text("externalReference"), ct);
        return confirmed switch
        {
            ConfirmResult.NotFound => AnpmProblems.NotFound($"There is no outgoing transfer '{transferId}'."),
            ConfirmResult.NotHandedOut => AnpmProblems.InvalidState($"Outgoing transfer '{transferId}' was never handed out (pull it first); it stays owed.", "Pending"),
            _ => TypedResults.Ok(new OutboxConfirmed(id, confirmed.ToString())),
        };
    }

    // A changed pool is answered with its view (as GET /pools/{poolId}); a change still under way (a close sending its
    // unclaimed payouts in pages) with 202 and the view as it is now.
    private static async Task<Results<Ok<PoolView>, Accepted<PoolView>, ProblemHttpResult>> StatusAsync(PoolStatusChange change, IAnpmUnitOfWork unitOfWork, CancellationToken ct)
    {
        if (!change.IsRefused)
        {
            var view = await ReadEndpoints.PoolViewAsync(unitOfWork, change.Pool, ct);
            return change.Result == PoolStatusChangeResult.Accepted ? TypedResults.Accepted("/pools/" + change.Pool.Id, view) : TypedResults.Ok(view);
        }

        return change.Result switch
        {
            PoolStatusChangeResult.PoolNotFound => AnpmProblems.NotFound(change.Error),
            PoolStatusChangeResult.SystemPaused => AnpmProblems.Paused(change.Error),
            _ => AnpmProblems.InvalidState(change.Error, change.Pool?.Status.ToString()),
        };
    }

    public static async Task<Results<Created<CreditGrantView>, ProblemHttpResult>> GrantCreditsAsync(SignedRequest request, CreditGrantService grants, CancellationToken ct)
    {
        if (!Address.TryParse(request.Text("account"), out var account, out var accountError))
        {
            return AnpmProblems.Invalid("message.account: " + accountError);
        }

        if (!Enum.TryParse<CreditCategory>(request.Text("category"), ignoreCase: false, out var category) || !Enum.IsDefined(category) || request.Text("category") != category.ToString())
        {
            return AnpmProblems.Invalid("message.category must be Paid or Promotional.");
        }

        if (request.Amount("amount") is not { } amount)
        {
            return AnpmProblems.Invalid("message.amount is larger than any balance can be.");
        }

        var expiresAt = request.Integer("expiresAt");
        if (expiresAt > DateTimeOffset.MaxValue.ToUnixTimeSeconds())
        {
            return AnpmProblems.Invalid("message.expiresAt is out of range.");
        }

        var granted = await grants.GrantAsync(request.UnitOfWork, new CreditGrantRequest("g" + request.ShortId[..31], account, amount, category,
            expiresAt.IsZero ? null : DateTimeOffset.FromUnixTimeSeconds((long)expiresAt), (int)request.Integer("priority")), ct);
        if (!granted.IsRefused)
        {
            return TypedResults.Created((string?)null, CreditGrantView.Of(granted.Grant));
        }

        return granted.Result == CreditGrantResult.IdTaken ? AnpmProblems.Conflict(granted.Error) : AnpmProblems.Invalid(granted.Error);
    }
}
