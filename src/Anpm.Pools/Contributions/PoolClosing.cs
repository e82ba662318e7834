using Anpm.Abstractions;
using Anpm.Credits;

namespace Anpm.Pools;

/// <summary>
/// Closing a Distributing or Canceled pool inside a caller's unit of work: the leftover of its accounts (prize dust,
/// tokens not distributed) goes to the treasury through the outbox and the pool becomes Closed. Used by the admin's
/// <see cref="ContributionService.ClosePoolAsync(PoolId, CancellationToken)"/> and, when the last payout or refund completes, by the pool itself.
/// </summary>
internal static class PoolClosing
{
    private static readonly TransferKind Leftover = TransferKind.Parse("treasury");

    /// <summary>
    /// Contributions of a distributing or canceled pool whose payout or refund is not done: not settled yet (still Paid or
    /// PendingPayment), available to claim, or claimed and not yet confirmed.
    /// </summary>
    public static int OpenClaims(IReadOnlyDictionary<ContributionStatus, int> counts) =>
        counts.GetValueOrDefault(ContributionStatus.Paid)
        + counts.GetValueOrDefault(ContributionStatus.PendingPayment)
        + counts.GetValueOrDefault(ContributionStatus.AvailablePayout)
        + counts.GetValueOrDefault(ContributionStatus.AvailableRefund)
        + counts.GetValueOrDefault(ContributionStatus.PendingPayout);

    /// <summary>What closing the pool now would send to the treasury, per account (accounts holding nothing left out).</summary>
    public static async ValueTask<List<(AccountId Account, TokenAmount Amount)>> LeftoversAsync(IAnpmUnitOfWork unitOfWork, PoolId pool, CancellationToken cancellationToken)
    {
        var leftovers = new List<(AccountId Account, TokenAmount Amount)>();
        foreach (var account in new[] { PoolAccounts.Contributions(pool), PoolAccounts.Distribution(pool), PoolAccounts.PrizePot(pool), PoolAccounts.Rounding(pool) })
        {
            var balance = (await unitOfWork.Ledger.GetAccountAsync(account, cancellationToken).ConfigureAwait(false))?.AvailableBalance ?? TokenAmount.Zero;
            if (!balance.IsZero)
            {
                leftovers.Add((account, balance));
            }
        }

        return leftovers;
    }

    /// <summary>
    /// Closes the pool, whose Close transition the caller checked: refused (nothing changed) when there is leftover and no
    /// treasury; otherwise the leftover is enqueued to the treasury and the status written, in the caller's unit of work.
    /// </summary>
    public static async ValueTask<PoolStatusChange> CloseAsync(
        IAnpmUnitOfWork unitOfWork, PoolRecord pool, Outbox outbox, Address? treasury, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var transition = PoolStateMachine.Definition.Fire(pool.Status, PoolTrigger.Close);
        if (!transition.IsAllowed)
        {
            return new PoolStatusChange(PoolStatusChangeResult.InvalidTransition, pool, transition.Error);
        }

        var leftovers = await LeftoversAsync(unitOfWork, pool.Id, cancellationToken).ConfigureAwait(false);
        if (leftovers.Count > 0 && treasury is null)
        {
            return new PoolStatusChange(PoolStatusChangeResult.InvalidTransition, pool,
                $"Pool '{pool.Id}' holds leftover tokens and no treasury is configured (ContributionOptions.Treasury).");
        }

        await PoolStatusUpdate.ApplyAsync(unitOfWork, pool, transition.Status, now, cancellationToken).ConfigureAwait(false);
        foreach (var (account, amount) in leftovers)
        {
            var sent = await outbox.EnqueueAsync(unitOfWork, TransferId.Derive("close:", account.ToString()), account, treasury!.Value,
                WellKnownAssets.Apus, amount, Leftover, "pool " + pool.Id, cancellationToken).ConfigureAwait(false);
            if (sent.Result != EnqueueResult.Enqueued)
            {
                throw sent.ToException($"Sending pool '{pool.Id}' leftover to the treasury");
            }
        }

        return new PoolStatusChange(PoolStatusChangeResult.Changed, pool with { Status = transition.Status, StatusChangedAt = now, Version = pool.Version + 1 }, null);
    }

    /// <summary>
    /// After a payout or refund completed: closes the pool when it is Distributing or Canceled and no claim is open. A
    /// pool that cannot close by itself (leftover and no treasury) stays as it is, for an admin.
    /// </summary>
    public static async ValueTask CloseIfDoneAsync(
        IAnpmUnitOfWork unitOfWork, PoolId poolId, Outbox outbox, Address? treasury, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var pool = await unitOfWork.Pools.GetPoolAsync(poolId, cancellationToken).ConfigureAwait(false);
        if (pool is not { Status: PoolStatus.Distributing or PoolStatus.Canceled }
            || OpenClaims(await unitOfWork.Contributions.CountPoolContributionsAsync(poolId, cancellationToken).ConfigureAwait(false)) > 0)
        {
            return;
        }

        await CloseAsync(unitOfWork, pool, outbox, treasury, now, cancellationToken).ConfigureAwait(false);
    }
}
