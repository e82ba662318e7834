using Anpm.Abstractions;
using Anpm.Credits;

namespace Anpm.Pools;

/// <summary>
/// Settling a campaign pool's contributions in bounded pages: after it starts distributing (prizes set aside, payouts
/// made available), after it is canceled (refunds made available) and when an admin closes it after the claim window
/// (every unclaimed payout or refund sent). The transition's own unit of work settles the first page; the rest runs a
/// page per unit of work in <see cref="SettlePoolAsync"/> (the host's <c>pool-settlement</c> job). Progress is the
/// contributions' own statuses, so a page that fails or a process that stops leaves nothing half done: the next run
/// walks the pool again and settles what is left. The checkpoint <c>pool-settlement:{pool}</c> says what is unfinished.
/// </summary>
public sealed partial class ContributionService
{
    private static readonly TransferKind PotKind = TransferKind.Parse("prize-pot");

    // Chunks of ledger batches within a page (well under LedgerOptions.MaxBatchSize's default of 1000).
    private const int LedgerChunk = 100;

    /// <summary>
    /// Settles what a pool's transition left to do, a page (<see cref="ContributionOptions.SettlementBatchSize"/>
    /// contributions) per unit of work: sets aside the prizes of a distributing pool, makes refunds available in a
    /// canceled one, and sends the unclaimed payouts and refunds of a pool an admin closed after its claim window, then
    /// closes it. Safe to run at any time, on any instance, again after a failure.
    /// </summary>
    /// <param name="poolId">The pool.</param>
    /// <param name="cancellationToken">Cancels between pages; what was committed stays.</param>
    /// <returns>How many contributions it changed.</returns>
    public async ValueTask<int> SettlePoolAsync(PoolId poolId, CancellationToken cancellationToken = default)
    {
        IReadOnlyDictionary<ContributionId, TokenAmount>? prizes = null;
        ContributionId? after = null;
        var changed = 0;
        while (true)
        {
            var page = await _store.RunAsync((Service: this, Pool: poolId, After: after, Prizes: prizes), static async (unitOfWork, request, ct) =>
            {
                var service = request.Service;
                var pool = await unitOfWork.Pools.GetPoolAsync(request.Pool, ct).ConfigureAwait(false);
                var checkpoint = await unitOfWork.Checkpoints.GetCheckpointAsync(SettlementCheckpoint(request.Pool), cancellationToken: ct).ConfigureAwait(false);
                if (pool is null || checkpoint is null || checkpoint.Value == (long)SettlementPhase.Done)
                {
                    return new SettlementPage(Done: true, null, 0, request.Prizes);
                }

                var prizes = request.Prizes;
                if (pool.Status == PoolStatus.Distributing && checkpoint.Value == (long)SettlementPhase.Settling && prizes is null)
                {
                    prizes = await service.PrizesAsync(unitOfWork, pool.Id, ct).ConfigureAwait(false);
                }

                return await service.SettlePageAsync(unitOfWork, pool, checkpoint, request.After, prizes, ct).ConfigureAwait(false);
            }, cancellationToken).ConfigureAwait(false);
            changed += page.Changed;
            if (page.Done)
            {
                return changed;
            }

            (after, prizes) = (page.Next, page.Prizes);
        }
    }

    /// <summary>
    /// Settles every pool with unfinished settlement (<see cref="SettlePoolAsync"/> each): the host's
    /// <c>pool-settlement</c> job. It reads the pools list and, for each distributing or canceled pool, its checkpoint.
    /// </summary>
    /// <returns>How many contributions it changed.</returns>
    public async ValueTask<int> SettlePoolsAsync(CancellationToken cancellationToken = default)
    {
        var changed = 0;
        PoolId? after = null;
        while (true)
        {
            var (unsettled, next) = await _store.RunReadAsync(after, static async (unitOfWork, after, ct) =>
            {
                var pools = await unitOfWork.Pools.ListPoolsAsync(after, ListPageSize, ct).ConfigureAwait(false);
                var unsettled = new List<PoolId>();
                foreach (var pool in pools.Where(static p => p.Status is PoolStatus.Distributing or PoolStatus.Canceled))
                {
                    if (await unitOfWork.Checkpoints.GetCheckpointAsync(SettlementCheckpoint(pool.Id), cancellationToken: ct).ConfigureAwait(false) is { Value: not (long)SettlementPhase.Done })
                    {
                        unsettled.Add(pool.Id);
                    }
                }

                return (unsettled, pools.Count < ListPageSize ? (PoolId?)null : pools[^1].Id);
            }, cancellationToken).ConfigureAwait(false);
            foreach (var pool in unsettled)
            {
                changed += await SettlePoolAsync(pool, cancellationToken).ConfigureAwait(false);
            }

            if (next is null)
            {
                return changed;
            }

            after = next;
        }
    }

    private static string SettlementCheckpoint(PoolId pool) => "pool-settlement:" + pool;

    // Marks a pool's settlement unfinished (in the transition's unit of work).
    private static async ValueTask<Checkpoint> BeginSettlementAsync(IAnpmUnitOfWork unitOfWork, PoolId pool, SettlementPhase phase, CancellationToken ct)
    {
        var name = SettlementCheckpoint(pool);
        var checkpoint = await unitOfWork.Checkpoints.GetCheckpointAsync(name, cancellationToken: ct).ConfigureAwait(false);
        if (checkpoint is null)
        {
            return await unitOfWork.Checkpoints.TryInsertCheckpointAsync(name, (long)phase, ct).ConfigureAwait(false)
                ? new Checkpoint(name, (long)phase, 0)
                : throw new AnpmConcurrencyException($"Checkpoint '{name}' was written meanwhile. Retry.");
        }

        await unitOfWork.Checkpoints.UpdateCheckpointAsync(name, (long)phase, checkpoint.Version, ct).ConfigureAwait(false);
        return checkpoint with { Value = (long)phase, Version = checkpoint.Version + 1 };
    }

    // Why a pool cannot close yet because its settlement is unfinished, or null.
    private static async ValueTask<string?> UnsettledAsync(IAnpmUnitOfWork unitOfWork, PoolRecord pool, CancellationToken ct) =>
        await unitOfWork.Checkpoints.GetCheckpointAsync(SettlementCheckpoint(pool.Id), cancellationToken: ct).ConfigureAwait(false) is { Value: (long)SettlementPhase.Settling }
            ? $"Pool '{pool.Id}' is still settling its contributions after it became {pool.Status}; it can close once they are settled (the pool-settlement job, or ContributionService.SettlePoolAsync)."
            : null;

    // One page: the contributions after `after`, settled in the caller's unit of work; the last page finishes the phase.
    private async ValueTask<SettlementPage> SettlePageAsync(
        IAnpmUnitOfWork unitOfWork, PoolRecord pool, Checkpoint checkpoint, ContributionId? after, IReadOnlyDictionary<ContributionId, TokenAmount>? prizes, CancellationToken ct)
    {
        var now = _timeProvider.GetUtcNow();
        var size = _options.SettlementBatchSize;
        var page = await unitOfWork.Contributions.ListPoolContributionsAsync(pool.Id, after, size, ct).ConfigureAwait(false);
        var changed = checkpoint.Value == (long)SettlementPhase.Closing
            ? await ClaimUnclaimedAsync(unitOfWork, page, now, ct).ConfigureAwait(false)
            : await SettleContributionsAsync(unitOfWork, pool, page, prizes, ct).ConfigureAwait(false);
        if (page.Count == size)
        {
            return new SettlementPage(Done: false, page[^1].Id, changed, prizes);
        }

        if (checkpoint.Value == (long)SettlementPhase.Closing && pool.Status != PoolStatus.Closed)
        {
            var closed = await PoolClosing.CloseAsync(unitOfWork, pool, _outbox, _options.Treasury, now, ct).ConfigureAwait(false);
            if (closed.Result != PoolStatusChangeResult.Changed)
            {
                throw new AnpmException($"Closing pool '{pool.Id}' after sending its unclaimed payouts and refunds: {closed.Error}");
            }
        }
        else if (pool.Status == PoolStatus.Distributing
            && (await unitOfWork.Ledger.GetAccountAsync(PoolAccounts.PrizePot(pool.Id), ct).ConfigureAwait(false))?.AvailableBalance is { IsZero: false } left)
        {
            throw new AnpmException($"Pool '{pool.Id}' settled every contribution and its prize pot still holds {left} base units; the prize split no longer matches the contributions.");
        }

        await unitOfWork.Checkpoints.UpdateCheckpointAsync(checkpoint.Name, (long)SettlementPhase.Done, checkpoint.Version, ct).ConfigureAwait(false);
        return new SettlementPage(Done: true, null, changed, prizes);
    }

    // Distributing: Paid → AvailablePayout with its prize set aside from the pot. Canceled: Paid → AvailableRefund.
    // Either: PendingPayment → Canceled. Contributions already settled are left as they are.
    private async ValueTask<int> SettleContributionsAsync(
        IAnpmUnitOfWork unitOfWork, PoolRecord pool, IReadOnlyList<ContributionRecord> page, IReadOnlyDictionary<ContributionId, TokenAmount>? prizes, CancellationToken ct)
    {
        var distributing = pool.Status == PoolStatus.Distributing;
        var setAside = new List<(ContributionId Id, TokenAmount Prize)>();
        var changed = 0;
        foreach (var contribution in page)
        {
            var trigger = contribution.Status switch
            {
                ContributionStatus.Paid => distributing ? ContributionTrigger.MakePayoutAvailable : ContributionTrigger.MakeRefundAvailable,
                ContributionStatus.PendingPayment => ContributionTrigger.Cancel,
                _ => (ContributionTrigger?)null,
            };
            if (trigger is not { } fired)
            {
                continue;
            }

            if (distributing && contribution.Status == ContributionStatus.Paid)
            {
                var prize = prizes!.TryGetValue(contribution.Id, out var p)
                    ? p
                    : throw new AnpmException($"Contribution '{contribution.Id}' of pool '{pool.Id}' is Paid and has no prize in the split.");
                if (!prize.IsZero)
                {
                    setAside.Add((contribution.Id, prize));
                }
            }

            var next = ContributionStateMachine.Definition.Fire(contribution.Status, fired);
            await unitOfWork.Contributions.UpdateContributionAsync(contribution with { Status = next.Status, PayBefore = null }, contribution.Version, ct).ConfigureAwait(false);
            if (next.Status is ContributionStatus.AvailablePayout or ContributionStatus.AvailableRefund)
            {
                await ContributionEventAsync(unitOfWork, next.Status == ContributionStatus.AvailablePayout ? AnpmEventTypes.ContributionPayoutAvailable : AnpmEventTypes.ContributionRefundAvailable,
                    contribution, _timeProvider.GetUtcNow(), ct).ConfigureAwait(false);
            }

            changed++;
        }

        foreach (var chunk in setAside.Chunk(LedgerChunk))
        {
            await SetAsideAsync(unitOfWork, pool.Id, chunk, ct).ConfigureAwait(false);
        }

        return changed;
    }

    // Closing after the claim window: every payout or refund still available goes to its owner.
    private async ValueTask<int> ClaimUnclaimedAsync(IAnpmUnitOfWork unitOfWork, IReadOnlyList<ContributionRecord> page, DateTimeOffset now, CancellationToken ct)
    {
        var changed = 0;
        foreach (var contribution in page.Where(static c => c.Status is ContributionStatus.AvailablePayout or ContributionStatus.AvailableRefund))
        {
            await ClaimCoreAsync(unitOfWork, contribution, contribution.Status == ContributionStatus.AvailablePayout, now, closeWhenDone: false, ct).ConfigureAwait(false);
            changed++;
        }

        return changed;
    }

    // The prize of every contribution that was paid when the pool started distributing (they are Paid until settled,
    // then AvailablePayout, PendingPayout or RewardPaidout): the calculator's split of the pot over them in id order —
    // the same split the transition checked, as the calculators are deterministic.
    private async ValueTask<IReadOnlyDictionary<ContributionId, TokenAmount>> PrizesAsync(IAnpmUnitOfWork unitOfWork, PoolId pool, CancellationToken ct)
    {
        var paid = (await ListAllAsync(unitOfWork, pool, ct).ConfigureAwait(false))
            .Where(static c => c.Status is ContributionStatus.Paid or ContributionStatus.AvailablePayout or ContributionStatus.PendingPayout or ContributionStatus.RewardPaidout)
            .ToList();
        var pot = (await unitOfWork.Ledger.GetAccountAsync(PoolAccounts.PrizePot(pool), ct).ConfigureAwait(false))?.CreditsPosted ?? TokenAmount.Zero;
        return SplitChecked(pool, paid, pot).Prizes;
    }

    // The calculator's split, by contribution, refused unless it has one prize per contribution and sums to the pot.
    private (Dictionary<ContributionId, TokenAmount> Prizes, TokenAmount Dust) SplitChecked(PoolId pool, List<ContributionRecord> paid, TokenAmount pot)
    {
        var split = _prizeCalculator.Split([.. paid.Select(static c => c.Amount)], pot);
        var total = split.Dust;
        foreach (var prize in split.Prizes)
        {
            total += prize;
        }

        if (split.Prizes.Count != paid.Count || total != pot)
        {
            throw new AnpmException($"Prize calculator '{_prizeCalculator.Name}' split {pot} into prizes and dust totalling {total} over {split.Prizes.Count} of {paid.Count} contributions of pool '{pool}'; nothing was distributed.");
        }

        var prizes = new Dictionary<ContributionId, TokenAmount>(paid.Count);
        for (var i = 0; i < paid.Count; i++)
        {
            prizes[paid[i].Id] = split.Prizes[i];
        }

        return (prizes, split.Dust);
    }

    // Moves the pot from the pool's distribution account into its prize pot, and the split's dust on to its rounding account.
    private async ValueTask FillPrizePotAsync(IAnpmUnitOfWork unitOfWork, PoolId pool, TokenAmount pot, TokenAmount dust, CancellationToken ct)
    {
        NewAccount[] accounts =
        [
            new(PoolAccounts.PrizePot(pool), WellKnownAssets.Apus, AccountFlags.DebitsMustNotExceedCredits),
            new(PoolAccounts.Rounding(pool), WellKnownAssets.Apus, AccountFlags.DebitsMustNotExceedCredits),
        ];
        await CreateAccountsCheckedAsync(unitOfWork, accounts, $"The prize pot of pool '{pool}'", ct).ConfigureAwait(false);
        var transfers = new List<TransferRequest>(2);
        if (!pot.IsZero)
        {
            transfers.Add(Move(TransferId.Derive("prize-pot:", pool.ToString()), PoolAccounts.Distribution(pool), PoolAccounts.PrizePot(pool), pot, PotKind, pool));
        }

        if (!dust.IsZero)
        {
            transfers.Add(Move(TransferId.Derive("dust:", pool.ToString()), PoolAccounts.PrizePot(pool), PoolAccounts.Rounding(pool), dust, RoundingDust, pool));
        }

        await CreateTransfersCheckedAsync(unitOfWork, transfers, $"Filling the prize pot of pool '{pool}'", ct).ConfigureAwait(false);
    }

    // Moves prizes from the pool's prize pot into each contribution's own prize account.
    private async ValueTask SetAsideAsync(IAnpmUnitOfWork unitOfWork, PoolId pool, (ContributionId Id, TokenAmount Prize)[] prizes, CancellationToken ct)
    {
        await CreateAccountsCheckedAsync(unitOfWork,
            [.. prizes.Select(static p => new NewAccount(PoolAccounts.Prize(p.Id), WellKnownAssets.Apus, AccountFlags.DebitsMustNotExceedCredits))],
            $"The prize accounts of pool '{pool}'", ct).ConfigureAwait(false);
        await CreateTransfersCheckedAsync(unitOfWork,
            [.. prizes.Select(p => Move(TransferId.Derive("prize:", p.Id.ToString()), PoolAccounts.PrizePot(pool), PoolAccounts.Prize(p.Id), p.Prize, PrizeSetAside, pool))],
            $"Setting aside the prizes of pool '{pool}'", ct).ConfigureAwait(false);
    }

    private static TransferRequest Move(TransferId id, AccountId from, AccountId to, TokenAmount amount, TransferKind kind, PoolId pool) => new()
    {
        Id = id,
        DebitAccountId = from,
        CreditAccountId = to,
        Asset = WellKnownAssets.Apus,
        Amount = amount,
        Kind = kind,
        Reference = pool.ToString(),
    };

    private async ValueTask CreateAccountsCheckedAsync(IAnpmUnitOfWork unitOfWork, NewAccount[] accounts, string what, CancellationToken ct)
    {
        var results = await _ledger.CreateAccountsAsync(unitOfWork, accounts, ct).ConfigureAwait(false);
        for (var i = 0; i < results.Count; i++)
        {
            if (!results[i].IsSuccess())
            {
                throw new AnpmException($"{what}: account '{accounts[i].Id}' could not be created: {results[i]}.");
            }
        }
    }

    private async ValueTask CreateTransfersCheckedAsync(IAnpmUnitOfWork unitOfWork, IReadOnlyList<TransferRequest> transfers, string what, CancellationToken ct)
    {
        if (transfers.Count == 0)
        {
            return;
        }

        foreach (var result in await _ledger.CreateTransfersAsync(unitOfWork, transfers, ct).ConfigureAwait(false))
        {
            if (result != CreateTransferResult.Created)
            {
                throw result.ToException(what);
            }
        }
    }

    // The pool-settlement checkpoint's values.
    private enum SettlementPhase : long
    {
        Done = 0,
        Settling = 1,
        Closing = 2,
    }

    private sealed record SettlementPage(bool Done, ContributionId? Next, int Changed, IReadOnlyDictionary<ContributionId, TokenAmount>? Prizes);
}
