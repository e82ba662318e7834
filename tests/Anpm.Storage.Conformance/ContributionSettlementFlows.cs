using System.Numerics;
using Anpm.Abstractions;
using Anpm.Credits;
using Anpm.Pools;
using Anpm.Testing;
using Microsoft.Extensions.Options;

namespace Anpm.Storage.Conformance;

/// <summary>
/// Settling pools in pages: distributing, canceling and closing after the claim window change a unit of work's worth of
/// contributions at a time, resume after a failed page, and end with every contribution's amount or prize where it
/// belongs — small pages here, and a pool of 100,000 contributions.
/// </summary>
public abstract partial class ContributionFlowConformanceTests
{
    private const int Settlement = 3;

    private ContributionService Paged(IAnpmStore? store = null, int batch = Settlement) =>
        new(store ?? _store, _ledger, _outbox, _registry, Options.Create(new ContributionOptions { Treasury = Treasury, SettlementBatchSize = batch }), _clock);

    private async Task<IReadOnlyDictionary<ContributionStatus, int>> CountsAsync(PoolId pool)
    {
        await using var unitOfWork = await _store.BeginReadAsync();
        return await unitOfWork.Contributions.CountPoolContributionsAsync(pool);
    }

    private async Task<List<ContributionRecord>> AllContributionsAsync(PoolId pool)
    {
        var all = new List<ContributionRecord>();
        await using var unitOfWork = await _store.BeginReadAsync();
        ContributionId? after = null;
        while (true)
        {
            var page = await unitOfWork.Contributions.ListPoolContributionsAsync(pool, after, 1000);
            all.AddRange(page);
            if (page.Count < 1000)
            {
                return all;
            }

            after = page[^1].Id;
        }
    }

    private async Task<List<OutgoingTransfer>> AllDueAsync()
    {
        await using var unitOfWork = await _store.BeginReadAsync();
        return [.. await unitOfWork.Outbox.GetDueOutgoingAsync(_clock.GetUtcNow().AddYears(20), 1_000_000)];
    }

    [Fact]
    public async Task Distribute_InPages_ResumesAfterAFailedPage_EveryPrizeAsTheCalculatorSplitIt()
    {
        var service = Paged();
        await CreateCampaignAsync(limit: 1_000_000);
        for (var i = 0; i < 10; i++)
        {
            Assert.Equal("contribution-paid", (await NoticesFor(service).ApplyAsync(Notice($"m{i}", i % 2 == 0 ? Alice : Bob, 100 + (37 * (ulong)i)))).Outcome);
        }

        await service.CreateAsync(ContributionId.Parse("c-unpaid"), Campaign, Bob, new TokenAmount(50));
        await service.StartFundingAsync(Campaign, force: true);
        await NoticesFor(service).ApplyAsync(Notice("back", Alice, 5000, action: "Distribute"));
        Assert.Equal(PoolStatusChangeResult.Changed, (await service.StartDistributingAsync(Campaign, new TokenAmount(4000))).Result);
        var counts = await CountsAsync(Campaign);
        Assert.Equal(11 - Settlement, counts.GetValueOrDefault(ContributionStatus.Paid) + counts.GetValueOrDefault(ContributionStatus.PendingPayment)); // one page settled
        Assert.Equal((BigInteger)1000, await BalanceAsync(PoolAccounts.Distribution(Campaign))); // the pot left it at once
        await LedgerAssert.InvariantHoldsAsync(_ledger);

        var close = await service.ClosePoolAsync(Campaign);
        Assert.Equal(PoolStatusChangeResult.InvalidTransition, close.Result);
        Assert.Contains("still settling", close.Error, StringComparison.Ordinal);

        // A process that stops before its third page commits: the second page's work stays (the first was done), the third's is gone.
        var commits = 0;
        var stopping = Paged(new CommitFailingStore(_store, () => Interlocked.Increment(ref commits) == 3 ? new InvalidOperationException("The process stopped before this commit.") : null));
        await Assert.ThrowsAsync<InvalidOperationException>(async () => await stopping.SettlePoolAsync(Campaign));
        counts = await CountsAsync(Campaign);
        Assert.Equal(11 - (2 * Settlement), counts.GetValueOrDefault(ContributionStatus.Paid) + counts.GetValueOrDefault(ContributionStatus.PendingPayment));
        await LedgerAssert.InvariantHoldsAsync(_ledger);

        // Another instance resumes (the job): it settles what is left, once.
        Assert.Equal(11 - (2 * Settlement), await Paged().SettlePoolsAsync());
        Assert.Equal(0, await Paged().SettlePoolAsync(Campaign));
        var contributions = await AllContributionsAsync(Campaign);
        var paid = contributions.Where(c => c.Id != ContributionId.Parse("c-unpaid")).ToList();
        Assert.All(paid, c => Assert.Equal(ContributionStatus.AvailablePayout, c.Status));
        Assert.Equal(ContributionStatus.Canceled, contributions.Single(c => c.Id == ContributionId.Parse("c-unpaid")).Status);
        var collected = paid.Aggregate(BigInteger.Zero, (sum, c) => sum + (BigInteger)c.Amount.BaseUnits);
        var prizes = BigInteger.Zero;
        foreach (var contribution in paid)
        {
            var expected = (BigInteger)contribution.Amount.BaseUnits * 4000 / collected;
            Assert.Equal(expected, await BalanceAsync(PoolAccounts.Prize(contribution.Id)));
            prizes += expected;
        }

        Assert.Equal((4000 - prizes, BigInteger.Zero), (await BalanceAsync(PoolAccounts.Rounding(Campaign)), await BalanceAsync(PoolAccounts.PrizePot(Campaign))));
        await LedgerAssert.InvariantHoldsAsync(_ledger);

        // After the claim window, the close sends every unclaimed prize: a page now, the rest by the job, then it closes.
        Assert.Equal(ClaimResult.Claimed, (await service.ClaimPayoutAsync(paid[0].Id)).Result);
        _clock.Advance(TimeSpan.FromDays(31));
        var accepted = await service.ClosePoolAsync(Campaign);
        Assert.Equal((PoolStatusChangeResult.Accepted, PoolStatus.Distributing), (accepted.Result, accepted.Pool!.Status));
        Assert.Equal(PoolStatusChangeResult.InvalidTransition, (await service.StartDistributingAsync(Campaign, TokenAmount.Zero)).Result);
        var claimedByClose = (await CountsAsync(Campaign))[ContributionStatus.PendingPayout] - 1;
        Assert.InRange(claimedByClose, 1, Settlement);
        Assert.Equal(9 - claimedByClose, await service.SettlePoolsAsync());
        Assert.Equal(PoolStatus.Closed, (await _registry.GetAsync(Campaign))!.Status);
        var due = await AllDueAsync();
        foreach (var contribution in paid)
        {
            var expected = (BigInteger)contribution.Amount.BaseUnits * 4000 / collected;
            Assert.Equal(expected, (BigInteger)due.Single(t => t.Reference == contribution.Id.ToString()).Amount.BaseUnits);
            Assert.Equal(ContributionStatus.PendingPayout, (await ContributionAsync(contribution.Id.ToString())).Status);
        }

        Assert.Equal(
            [(1000, "close:pool:campaign:distribution"), ((int)(4000 - prizes), "close:pool:campaign:rounding")],
            due.Where(t => t.To == Treasury && t.Id.ToString().StartsWith("close:", StringComparison.Ordinal)).Select(t => ((int)t.Amount.BaseUnits, t.Id.ToString())).OrderBy(t => t.Item2).ToList());
        await LedgerAssert.InvariantHoldsAsync(_ledger);
    }

    [Fact]
    public async Task Cancel_InPages_RefundsAvailableToEveryPaidContribution_CloseSendsThemInPages()
    {
        var service = Paged();
        await CreateCampaignAsync(limit: 1_000_000);
        var amounts = new Dictionary<ContributionId, ulong>();
        for (var i = 0; i < 8; i++)
        {
            var id = ContributionId.Parse($"c{i}");
            amounts[id] = 10 + (ulong)i;
            await service.CreateAsync(id, Campaign, i % 2 == 0 ? Alice : Bob, new TokenAmount(amounts[id]));
            if (i != 5)
            {
                await NoticesFor(service).ApplyAsync(Notice($"m{i}", Alice, amounts[id], reference: id.ToString()));
            }
        }

        Assert.Equal(PoolStatusChangeResult.Changed, (await service.CancelPoolAsync(Campaign)).Result);
        Assert.Equal(PoolStatus.Canceled, (await _registry.GetAsync(Campaign))!.Status);
        Assert.Equal(ClaimResult.NotClaimable, (await service.ClaimRefundAsync(ContributionId.Parse("c7"))).Result); // not settled yet
        Assert.Equal(8 - Settlement, await service.SettlePoolsAsync());
        Assert.Equal(ContributionStatus.Canceled, (await ContributionAsync("c5")).Status);
        Assert.Equal(ClaimResult.Claimed, (await service.ClaimRefundAsync(ContributionId.Parse("c7"))).Result);

        Assert.Equal(PoolStatusChangeResult.InvalidTransition, (await service.ClosePoolAsync(Campaign)).Result); // the window is open
        _clock.Advance(TimeSpan.FromDays(31));
        Assert.Equal(PoolStatusChangeResult.Accepted, (await service.ClosePoolAsync(Campaign)).Result);
        Assert.Equal(6 - Settlement, await Paged().SettlePoolAsync(Campaign));
        Assert.Equal(PoolStatus.Closed, (await _registry.GetAsync(Campaign))!.Status);
        var refunds = (await AllDueAsync()).Where(t => t.Kind == ContributionPayoutConfirmations.RefundKind).ToDictionary(t => ContributionId.Parse(t.Reference), t => (ulong)t.Amount.BaseUnits);
        Assert.Equal(amounts.Where(a => a.Key != ContributionId.Parse("c5")).OrderBy(a => a.Key.Value, StringComparer.Ordinal), refunds.OrderBy(a => a.Key.Value, StringComparer.Ordinal));
        Assert.Equal(0, await BalanceAsync(PoolAccounts.Contributions(Campaign)));
        await ConfirmAllDueAsync();
        await AssertEveryTokenOwnedAsync(0);
    }

    [Fact]
    public async Task HundredThousandContributions_DistributeRefundAndClose_InBoundedUnitsOfWork()
    {
        const int Count = 100_000;
        var service = Paged(batch: 1000);
        var distributed = PoolId.Parse("big-distributed");
        var canceled = PoolId.Parse("big-canceled");
        var expected = new Dictionary<ContributionId, (PoolId Pool, ulong Amount)>(2 * Count);
        foreach (var pool in new[] { distributed, canceled })
        {
            var config = "{\"name\":\"Big\",\"contribution\":{\"startUtc\":\"2026-11-21T00:00:00Z\",\"endUtc\":\"2026-12-21T00:00:00Z\",\"amountLimit\":\"1000000000000\",\"destination\":\"0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed\"}}";
            Assert.Equal(CreatePoolResult.Created, (await _registry.CreateAsync(pool, Alice, config)).Result);
            Assert.Equal("contribution-paid", (await NoticesFor(service).ApplyAsync(Notice("first-" + pool, Alice, 1, pool: pool.ToString()))).Outcome);
            await BulkPaidContributionsAsync(pool, Count - 1, expected);
        }

        foreach (var contribution in await AllContributionsAsync(distributed))
        {
            expected.TryAdd(contribution.Id, (distributed, (ulong)contribution.Amount.BaseUnits));
        }

        foreach (var contribution in await AllContributionsAsync(canceled))
        {
            expected.TryAdd(contribution.Id, (canceled, (ulong)contribution.Amount.BaseUnits));
        }

        Assert.Equal(2 * Count, expected.Count);
        await LedgerAssert.InvariantHoldsAsync(_ledger);

        // Distribute: a pot that leaves dust over 100,000 prizes.
        await service.StartFundingAsync(distributed, force: true);
        const ulong Pot = 987_654_321;
        await NoticesFor(service).ApplyAsync(Notice("back", Alice, Pot, action: "Distribute", pool: distributed.ToString()));
        Assert.Equal(PoolStatusChangeResult.Changed, (await service.StartDistributingAsync(distributed, new TokenAmount(Pot))).Result);
        Assert.Equal(PoolStatusChangeResult.Changed, (await service.CancelPoolAsync(canceled)).Result);
        Assert.Equal((2 * Count) - 2000, await service.SettlePoolsAsync());
        var collected = expected.Values.Where(v => v.Pool == distributed).Aggregate(BigInteger.Zero, (sum, v) => sum + v.Amount);
        var prizes = BigInteger.Zero;
        await using (var unitOfWork = await _store.BeginReadAsync())
        {
            foreach (var (id, (pool, amount)) in expected.Where(e => e.Value.Pool == distributed))
            {
                var prize = (BigInteger)amount * Pot / collected;
                Assert.Equal(prize, (BigInteger?)(await unitOfWork.Ledger.GetAccountAsync(PoolAccounts.Prize(id)))?.PostedBalance ?? 0);
                prizes += prize;
            }
        }

        Assert.Equal(Pot - prizes, await BalanceAsync(PoolAccounts.Rounding(distributed)));
        var counts = await CountsAsync(distributed);
        Assert.Equal(Count, counts[ContributionStatus.AvailablePayout]);
        Assert.Equal(Count, (await CountsAsync(canceled))[ContributionStatus.AvailableRefund]);
        await LedgerAssert.InvariantHoldsAsync(_ledger);

        // Close both after the claim window: every prize and refund is sent, a page per unit of work, then each closes.
        _clock.Advance(TimeSpan.FromDays(31));
        Assert.Equal(PoolStatusChangeResult.Accepted, (await service.ClosePoolAsync(distributed)).Result);
        Assert.Equal(PoolStatusChangeResult.Accepted, (await service.ClosePoolAsync(canceled)).Result);
        Assert.Equal((2 * Count) - 2000, await service.SettlePoolsAsync());
        Assert.Equal((PoolStatus.Closed, PoolStatus.Closed), ((await _registry.GetAsync(distributed))!.Status, (await _registry.GetAsync(canceled))!.Status));
        var sent = (await AllDueAsync()).Where(t => t.Kind != TransferKind.Parse("funding")).ToList();
        Assert.Equal(2 * Count, sent.Count); // every refund, every prize but the zero one, and the dust to the treasury
        foreach (var transfer in sent.Where(t => t.To != Treasury))
        {
            var (pool, amount) = expected[ContributionId.Parse(transfer.Reference)];
            var owed = pool == distributed ? (BigInteger)amount * Pot / collected : amount;
            Assert.Equal(owed, (BigInteger)transfer.Amount.BaseUnits);
        }

        Assert.Equal(Pot - prizes, (BigInteger)sent.Single(t => t.To == Treasury).Amount.BaseUnits);
        Assert.Equal((0, 0), (await BalanceAsync(PoolAccounts.Contributions(canceled)), await BalanceAsync(PoolAccounts.PrizePot(distributed))));
        await LedgerAssert.InvariantHoldsAsync(_ledger);
    }

    // Paid contributions written straight to the store (as many notices would), their tokens deposited to the pool in
    // one ledger transfer per chunk, so the setup of 100,000 takes seconds.
    private async Task BulkPaidContributionsAsync(PoolId pool, int count, Dictionary<ContributionId, (PoolId Pool, ulong Amount)> expected)
    {
        const int Chunk = 5000;
        for (var start = 0; start < count; start += Chunk)
        {
            var total = 0UL;
            await using var unitOfWork = await _store.BeginAsync();
            for (var i = start; i < Math.Min(count, start + Chunk); i++)
            {
                var id = ContributionId.Parse($"{pool}-{i:D6}");
                var amount = 1_000 + ((ulong)i * 7919 % 100_000);
                expected[id] = (pool, amount);
                total += amount;
                Assert.True(await unitOfWork.Contributions.TryInsertContributionAsync(new ContributionRecord
                {
                    Id = id,
                    PoolId = pool,
                    Owner = i % 2 == 0 ? Alice : Bob,
                    Amount = new TokenAmount(amount),
                    Status = ContributionStatus.Paid,
                    CreatedAt = _clock.GetUtcNow(),
                }));
            }

            var deposited = await _ledger.CreateTransfersAsync(unitOfWork,
            [
                new TransferRequest
                {
                    Id = TransferId.Derive("bulk:", $"{pool}:{start}"),
                    DebitAccountId = SystemAccounts.Issuance(WellKnownAssets.Apus),
                    CreditAccountId = PoolAccounts.Contributions(pool),
                    Asset = WellKnownAssets.Apus,
                    Amount = new TokenAmount(total),
                    Kind = TransferKind.Parse("contribution"),
                    Reference = pool.ToString(),
                },
            ]);
            Assert.Equal(CreateTransferResult.Created, deposited[0]);
            await unitOfWork.CommitAsync();
        }
    }

}
