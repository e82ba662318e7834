using Anpm.Abstractions;
using Anpm.Credits;
using Anpm.Pools;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Anpm.AspNetCore;

/// <summary>Low-balance alerts: an account sets its threshold in a pool (<c>SetBalanceAlert</c>); anyone reads an account's.</summary>
internal static class BalanceAlertRoutes
{
    public static async Task<Results<Ok<BalanceAlertView>, ProblemHttpResult>> SetAsync(string poolId, SignedRequest request, BalanceAlertService alerts, CancellationToken ct)
    {
        if (request.Text("poolId") != poolId || !PoolId.TryParse(poolId, out var pool))
        {
            return AnpmProblems.Invalid("message.poolId must be the pool of the route.");
        }

        if (request.Amount("threshold") is not { } threshold)
        {
            return AnpmProblems.Invalid("message.threshold is larger than any balance can be.");
        }

        if (await request.UnitOfWork.Pools.GetPoolAsync(pool, ct) is null)
        {
            return AnpmProblems.NotFound($"There is no pool '{poolId}'.");
        }

        var status = await alerts.SetAsync(request.UnitOfWork, request.Signer, pool, threshold, ct);
        if (status is not null)
        {
            return TypedResults.Ok(BalanceAlertView.Of(status));
        }

        // Threshold 0 removed the alert: the answer still shows the credits it watched.
        var inPool = (await request.UnitOfWork.Ledger.GetAccountAsync(CreditAccounts.InPool(pool, request.Signer), ct))?.AvailableBalance ?? TokenAmount.Zero;
        return TypedResults.Ok(new BalanceAlertView(pool, TokenAmount.Zero, false, inPool, false));
    }

    public static async Task<Results<Ok<BalanceAlertsPage>, ProblemHttpResult>> ListAsync(string address, BalanceAlertService alerts, CancellationToken ct)
    {
        if (!Address.TryParse(address, out var account, out var error))
        {
            return AnpmProblems.Invalid("address: " + error);
        }

        return TypedResults.Ok(new BalanceAlertsPage([.. (await alerts.ListAsync(account, ct)).Select(BalanceAlertView.Of)]));
    }
}

/// <summary>A low-balance alert: the threshold, whether it is armed, the credits it watches and whether they are low now.</summary>
/// <param name="PoolId">The pool.</param>
/// <param name="Threshold">The level at or below which it fires (zero: no alert).</param>
/// <param name="Armed">Whether the next fall through the threshold fires it.</param>
/// <param name="Credits">The account's available credits in the pool.</param>
/// <param name="Low">Whether they are at or below the threshold now.</param>
public sealed record BalanceAlertView(PoolId PoolId, TokenAmount Threshold, bool Armed, TokenAmount Credits, bool Low)
{
    /// <summary>The view of an alert's status.</summary>
    public static BalanceAlertView Of(BalanceAlertStatus status)
    {
        ArgumentNullException.ThrowIfNull(status);
        return new(status.Alert.PoolId, status.Alert.Threshold, status.Alert.Armed, status.Credits, status.IsLow);
    }
}

/// <summary><c>GET /accounts/{address}/alerts</c>: an account's low-balance alerts, in pool order.</summary>
public sealed record BalanceAlertsPage(IReadOnlyList<BalanceAlertView> Alerts);
