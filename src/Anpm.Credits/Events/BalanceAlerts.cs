using System.Text.Json.Nodes;
using Anpm.Abstractions;

namespace Anpm.Credits;

/// <summary>An alert with the credits it watches.</summary>
/// <param name="Alert">The alert.</param>
/// <param name="Credits">The account's available credits in the pool now.</param>
public sealed record BalanceAlertStatus(BalanceAlert Alert, TokenAmount Credits)
{
    /// <summary>Whether the credits are at or below the threshold now.</summary>
    public bool IsLow => Credits <= Alert.Threshold;
}

/// <summary>
/// Low-balance alerts: per account and pool a threshold; when the account's available credits in the pool fall to or
/// below it, one <see cref="AnpmEventTypes.LowBalance"/> event is written in the unit of work of the change that made
/// them fall (a task's hold, a withdrawal), and no more until they rise above it again (a top-up, a voided hold).
/// </summary>
public sealed class BalanceAlertService(IAnpmStore store, TimeProvider timeProvider)
{
    /// <summary>
    /// Sets the account's threshold in a pool (zero removes the alert). Setting it writes no event: the alert fires at the
    /// next fall through it — armed now when the credits are above it, else once they have risen above it.
    /// </summary>
    /// <returns>The alert with the credits it watches, or <see langword="null"/> when removed.</returns>
    public ValueTask<BalanceAlertStatus?> SetAsync(Address account, PoolId pool, TokenAmount threshold, CancellationToken cancellationToken = default) =>
        store.RunAsync((Service: this, Account: account, Pool: pool, Threshold: threshold), static (unitOfWork, request, ct) =>
            request.Service.SetAsync(unitOfWork, request.Account, request.Pool, request.Threshold, ct), cancellationToken);

    /// <summary>The same command inside the caller's unit of work, which the caller commits (or ends uncommitted: then nothing of it is kept).</summary>
    public async ValueTask<BalanceAlertStatus?> SetAsync(IAnpmUnitOfWork unitOfWork, Address account, PoolId pool, TokenAmount threshold, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(unitOfWork);
        var now = timeProvider.GetUtcNow();
        if (threshold.IsZero)
        {
            await unitOfWork.BalanceAlerts.DeleteAlertAsync(account, pool, cancellationToken).ConfigureAwait(false);
            return null;
        }

        var credits = await CreditsAsync(unitOfWork, account, pool, cancellationToken).ConfigureAwait(false);
        var alert = new BalanceAlert { Account = account, PoolId = pool, Threshold = threshold, Armed = credits > threshold, ChangedAt = now };
        if (await unitOfWork.BalanceAlerts.GetAlertAsync(account, pool, cancellationToken).ConfigureAwait(false) is { } existing)
        {
            await unitOfWork.BalanceAlerts.UpdateAlertAsync(alert, existing.Version, cancellationToken).ConfigureAwait(false);
            alert = alert with { Version = existing.Version + 1 };
        }
        else if (!await unitOfWork.BalanceAlerts.TryInsertAlertAsync(alert, cancellationToken).ConfigureAwait(false))
        {
            throw new AnpmConcurrencyException($"An alert of {account} in pool '{pool}' was set at the same time; retry.");
        }

        return new BalanceAlertStatus(alert, credits);
    }

    /// <summary>An account's alerts with the credits each watches, in pool order.</summary>
    public ValueTask<IReadOnlyList<BalanceAlertStatus>> ListAsync(Address account, CancellationToken cancellationToken = default) =>
        store.RunReadAsync(account, static async (unitOfWork, account, ct) =>
        {
            var statuses = new List<BalanceAlertStatus>();
            foreach (var alert in await unitOfWork.BalanceAlerts.ListAlertsAsync(account, ct).ConfigureAwait(false))
            {
                statuses.Add(new BalanceAlertStatus(alert, await CreditsAsync(unitOfWork, account, alert.PoolId, ct).ConfigureAwait(false)));
            }

            return (IReadOnlyList<BalanceAlertStatus>)statuses;
        }, cancellationToken);

    /// <summary>
    /// Judges the account's alert in a pool after a change of its credits there, in the change's unit of work: a fall to
    /// or below the threshold of an armed alert writes the event and disarms it; a rise above re-arms it.
    /// </summary>
    /// <returns>Whether an event was written.</returns>
    public async ValueTask<bool> CheckAsync(IAnpmUnitOfWork unitOfWork, Address account, PoolId pool, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(unitOfWork);
        if (await unitOfWork.BalanceAlerts.GetAlertAsync(account, pool, cancellationToken).ConfigureAwait(false) is not { } alert)
        {
            return false;
        }

        var credits = await CreditsAsync(unitOfWork, account, pool, cancellationToken).ConfigureAwait(false);
        var low = credits <= alert.Threshold;
        if (low == !alert.Armed)
        {
            return false; // no crossing
        }

        await unitOfWork.BalanceAlerts.UpdateAlertAsync(alert with { Armed = !low, ChangedAt = now }, alert.Version, cancellationToken).ConfigureAwait(false);
        if (low)
        {
            await unitOfWork.Events.AppendAsync(AnpmEventTypes.LowBalance, $"{account}:{pool}:{alert.Version}", new JsonObject
            {
                ["account"] = account.ToString(), ["poolId"] = pool.ToString(), ["credits"] = credits.ToString(), ["threshold"] = alert.Threshold.ToString(),
            }, now, cancellationToken).ConfigureAwait(false);
        }

        return low;
    }

    private static async ValueTask<TokenAmount> CreditsAsync(IAnpmUnitOfWork unitOfWork, Address account, PoolId pool, CancellationToken cancellationToken) =>
        (await unitOfWork.Ledger.GetAccountAsync(CreditAccounts.InPool(pool, account), cancellationToken).ConfigureAwait(false))?.AvailableBalance ?? TokenAmount.Zero;
}
