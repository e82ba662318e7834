using System.Numerics;
using Anpm.Abstractions;
using Anpm.Credits;
using Anpm.Pools;
using Anpm.Testing;

namespace Anpm.Storage.Conformance;

/// <summary>
/// A seeded random walk over every contribution command and token notice on several pools — with pool and system pauses,
/// closes after the claim window and emergency withdrawals of stray tokens — checking after each step that the ledger
/// balances, every token the system holds is held for a pool, a prize or the outbox, each pool's contributions account
/// matches its contributions' statuses, and the token's real holdings always cover what the ledger owes.
/// </summary>
public abstract partial class ContributionFlowConformanceTests
{
    private readonly List<PoolId> _simulatedPools = [];
    private static readonly Address[] SimulatedUsers = [Alice, Bob, Treasury];

    [Fact]
    public Task Simulation_RandomCommandsAndNotices_EveryTokenAccountedAfterEachStep() => TestSeed.RunAsync(SimulateContributionsAsync);

    private async Task SimulateContributionsAsync(int seed)
    {
        var random = new Random(seed);
        var operations = Factory.SimulationOperations / 200;
        var live = new PoolId[3];
        for (var i = 0; i < live.Length; i++)
        {
            live[i] = await CreateSimulatedPoolAsync();
        }

        var notices = new List<TokenNotice>();
        var holdings = new SimulatedHoldings(); // what the token really holds: notices in, stray transfers in, confirmations out
        var withdrawal = new EmergencyWithdrawal(_store, _ledger, _outbox, holdings);
        var pause = new SystemPause(_store, _clock);
        var systemPaused = false;
        BigInteger received = 0;
        BigInteger confirmedOut = 0;
        var outcomes = new Dictionary<string, int>();

        // The walk must reach the interesting states, not only refusals: it goes on past its length (up to eight times)
        // until it has, whatever the seed.
        string[] mustReach = ["notice contribution-paid", "notice distribution-received", "cancel Changed", "distribute Changed", "claim-refund Claimed", "claim-payout Claimed",
            "confirm Confirmed", "close Changed", "close after the window Changed", "pool-pause Changed", "system-pause Changed", "emergency Enqueued", "emergency ExceedsSurplus"];
        for (var step = 0; step < operations * 8 && (step < operations || !mustReach.All(outcomes.ContainsKey)); step++)
        {
            // A closed pool is replaced by a new one, so the walk keeps visiting every status.
            var slot = random.Next(live.Length);
            if ((await _registry.GetAsync(live[slot]))!.Status == PoolStatus.Closed)
            {
                live[slot] = await CreateSimulatedPoolAsync();
            }

            var pool = live[slot];
            var user = SimulatedUsers[random.Next(SimulatedUsers.Length)];
            var contribution = ContributionId.Parse($"{pool}c{random.Next(8)}");
            var operation = systemPaused && random.Next(2) == 0 ? 16 + random.Next(2) // resume, or withdraw stray tokens while paused
                : random.Next(10) == 0 ? random.Next(18)
                : ChooseFor((await _registry.GetAsync(pool))!.Status, random);
            string what;
            switch (operation)
            {
                case 0:
                    what = "create " + (await _contributions.CreateAsync(contribution, pool, user, new TokenAmount((ulong)random.Next(1, 700)))).Result;
                    break;
                case 1 or 2 or 3 or 4 or 5:
                {
                    if (operation == 1 && await AnyContributionAsync(pool, random) is { } known)
                    {
                        contribution = known;
                    }

                    var existing = await ContributionOrNullAsync(contribution);
                    var quantity = operation switch
                    {
                        1 when existing is not null && random.Next(5) > 0 => (ulong)existing.Amount.BaseUnits,
                        _ => (ulong)random.Next(0, 1200),
                    };
                    var notice = operation switch
                    {
                        1 => Notice("n" + step, user, quantity, pool: pool.ToString(), reference: contribution.ToString()),
                        2 => Notice("n" + step, user, quantity, pool: pool.ToString()),
                        3 => Notice("n" + step, user, quantity, action: "Distribute", pool: pool.ToString()),
                        4 => Notice("n" + step, user, quantity, action: random.Next(2) == 0 ? "Stake" : "Contribute", pool: random.Next(2) == 0 ? "nowhere" : pool.ToString()),
                        _ => notices.Count > 0 ? notices[random.Next(notices.Count)] with { Quantity = random.Next(3) == 0 ? new TokenAmount(1) : notices[random.Next(notices.Count)].Quantity } : Notice("n" + step, user, 1),
                    };
                    var outcome = await _notices.ApplyAsync(notice);
                    if (!outcome.IsReplay && !outcome.IsConflict)
                    {
                        received += notice.Quantity.BaseUnits;
                        holdings.Value += notice.Quantity.BaseUnits;
                        notices.Add(notice);
                    }

                    what = "notice " + outcome.Outcome + (outcome.IsReplay ? " (replay)" : outcome.IsConflict ? " (conflict)" : string.Empty);
                    break;
                }

                case 6:
                    _clock.Advance(TimeSpan.FromMinutes(random.Next(1, 90)));
                    what = "timeout " + await _contributions.CancelOverdueAsync();
                    break;
                case 7:
                    what = random.Next(2) == 0 ? "funding " + (await _contributions.StartFundingAsync(pool, force: true)).Result
                        : "create " + (await _contributions.CreateAsync(contribution, pool, user, new TokenAmount((ulong)random.Next(1, 700)))).Result;
                    break;
                case 8:
                {
                    var back = await BalanceAsync(PoolAccounts.Distribution(pool));
                    what = "distribute " + (await _contributions.StartDistributingAsync(pool, new TokenAmount((ulong)random.Next(0, (int)back + 20)))).Result;
                    break;
                }

                case 9:
                    what = "cancel " + (await _contributions.CancelPoolAsync(pool)).Result;
                    break;
                case 10:
                    what = "claim-refund " + (await _contributions.ClaimRefundAsync(await AnyContributionAsync(pool, random) ?? contribution)).Result;
                    break;
                case 11:
                    what = "claim-payout " + (await _contributions.ClaimPayoutAsync(await AnyContributionAsync(pool, random) ?? contribution)).Result;
                    break;
                case 12 or 13:
                {
                    IReadOnlyList<OutgoingTransfer> due;
                    await using (var unitOfWork = await _store.BeginAsync())
                    {
                        due = await unitOfWork.Outbox.GetDueOutgoingAsync(_clock.GetUtcNow().AddDays(1), 100);
                    }

                    var transfer = due.Count > 0 ? due[random.Next(due.Count)] : null;
                    var confirmed = transfer is null ? ConfirmResult.NotFound : await _outbox.ConfirmAsync(transfer.Id, "tx");
                    if (confirmed == ConfirmResult.Confirmed)
                    {
                        confirmedOut += transfer!.Amount.BaseUnits;
                        holdings.Value -= transfer.Amount.BaseUnits;
                    }

                    what = "confirm " + confirmed;
                    break;
                }

                case 14:
                {
                    var afterWindow = random.Next(4) == 0;
                    if (afterWindow)
                    {
                        _clock.Advance(TimeSpan.FromDays(31)); // past the claim window: unclaimed payouts go to their owners
                    }

                    what = "close " + (afterWindow ? "after the window " : string.Empty) + (await _contributions.ClosePoolAsync(pool)).Result;
                    break;
                }

                case 15:
                    what = "pool-pause " + (random.Next(2) == 0 ? await _registry.PauseAsync(pool) : await _registry.ResumeAsync(pool)).Result;
                    break;
                case 16:
                {
                    var set = await pause.SetAsync(random.Next(8) == 0 ? systemPaused : !systemPaused, Treasury, "simulation");
                    systemPaused = set.State.Paused;
                    what = "system-pause " + set.Result;
                    break;
                }

                default:
                {
                    if (random.Next(2) == 0)
                    {
                        holdings.Value += random.Next(1, 100); // tokens sent to the manager without a notice: nobody's
                    }

                    var solvency = await withdrawal.GetSolvencyAsync(WellKnownAssets.Apus);
                    var asked = new TokenAmount((ulong)random.Next(0, (int)(ulong)solvency.Surplus.BaseUnits + 30));
                    var withdrawn = await withdrawal.WithdrawAsync(TransferId.Parse("emergency:" + step), WellKnownAssets.Apus, Treasury, asked);
                    if (withdrawn.Result == EmergencyWithdrawalResult.Enqueued)
                    {
                        received += asked.BaseUnits; // it is now owed to the withdrawal's address, through the outbox
                    }

                    what = "emergency " + withdrawn.Result;
                    break;
                }
            }

            outcomes[what] = outcomes.GetValueOrDefault(what) + 1;
            await AssertSimulationConsistentAsync(received - confirmedOut, $"seed {seed}, step {step}: {what}");
            var obligations = (await withdrawal.GetSolvencyAsync(WellKnownAssets.Apus)).Obligations.BaseUnits;
            Assert.True(holdings.Value >= obligations, $"seed {seed}, step {step}: {what}: the token holds {holdings.Value} but {obligations} are owed.");
        }

        var seen = string.Join(", ", outcomes.Select(o => $"{o.Key} ×{o.Value}"));
        foreach (var reached in mustReach)
        {
            Assert.True(outcomes.ContainsKey(reached), $"The simulation never reached '{reached}': {seen}");
        }
    }

    // Mostly the operations that move a pool in its current status on; the rest of the time any operation (refusals).
    private static int ChooseFor(PoolStatus status, Random random)
    {
        int[] choices = status switch
        {
            PoolStatus.Active => [0, 0, 0, 1, 1, 1, 1, 1, 2, 2, 4, 5, 6, 7, 9, 15, 16],
            PoolStatus.Paused => [15, 15, 1, 2, 9],
            PoolStatus.Funding => [3, 3, 3, 8, 8, 9, 12, 17],
            _ => [10, 11, 10, 11, 12, 12, 13, 14],
        };
        return choices[random.Next(choices.Length)];
    }

    private async Task<PoolId> CreateSimulatedPoolAsync()
    {
        // The window opens now and lasts a year of the walk's clock, which jumps a month at a time: a pool created late
        // in a long walk still takes contributions.
        var pool = PoolId.Parse("p" + _simulatedPools.Count);
        var now = _clock.GetUtcNow();
        var config = "{\"name\":\"Sim\",\"contribution\":{\"startUtc\":\"" + now.AddDays(-1).ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture)
            + "\",\"endUtc\":\"" + now.AddDays(365).ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture) + "\",\"amountLimit\":\"3000\","
            + "\"destination\":\"0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed\"}}";
        Assert.Equal(CreatePoolResult.Created, (await _registry.CreateAsync(pool, Alice, config)).Result);
        _simulatedPools.Add(pool);
        return pool;
    }

    private async Task<ContributionRecord?> ContributionOrNullAsync(ContributionId id)
    {
        await using var unitOfWork = await _store.BeginAsync();
        return await unitOfWork.Contributions.GetContributionAsync(id);
    }

    private async Task<ContributionId?> AnyContributionAsync(PoolId pool, Random random)
    {
        await using var unitOfWork = await _store.BeginAsync();
        var all = await unitOfWork.Contributions.ListPoolContributionsAsync(pool, null, 1000);
        return all.Count == 0 ? null : all[random.Next(all.Count)].Id;
    }

    private async Task AssertSimulationConsistentAsync(BigInteger held, string context)
    {
        await LedgerAssert.InvariantHoldsAsync(_ledger);
        BigInteger accounted = await BalanceAsync(SystemAccounts.OutboxInFlight(WellKnownAssets.Apus));
        foreach (var pool in _simulatedPools)
        {
            IReadOnlyList<ContributionRecord> contributions;
            PoolRecord record;
            await using (var unitOfWork = await _store.BeginAsync())
            {
                contributions = await unitOfWork.Contributions.ListPoolContributionsAsync(pool, null, 1000);
                record = (await unitOfWork.Pools.GetPoolAsync(pool))!;
            }

            var collected = await BalanceAsync(PoolAccounts.Contributions(pool));
            var expected = record.Status switch
            {
                PoolStatus.Active or PoolStatus.Paused => Sum(contributions, ContributionStatus.Paid),
                PoolStatus.Canceled => Sum(contributions, ContributionStatus.AvailableRefund),
                _ => BigInteger.Zero,
            };
            Assert.True(expected == collected, $"{context}: pool {pool} ({record.Status}) holds {collected} in contributions, its contributions say {expected}.");
            accounted += collected + await BalanceAsync(PoolAccounts.Distribution(pool)) + await BalanceAsync(PoolAccounts.Rounding(pool));
            Assert.True(record.Status is PoolStatus.Distributing || await BalanceAsync(PoolAccounts.Rounding(pool)) == 0, $"{context}: pool {pool} ({record.Status}) holds prize dust.");
            foreach (var contribution in contributions)
            {
                var prize = await BalanceAsync(PoolAccounts.Prize(contribution.Id));
                Assert.True(prize == 0 || contribution.Status == ContributionStatus.AvailablePayout, $"{context}: {contribution.Id} is {contribution.Status} with a prize of {prize} set aside.");
                accounted += prize;
            }
        }

        Assert.True(accounted == held, $"{context}: the system holds {held} but pools, prizes and the outbox account for {accounted}.");
        Assert.Equal(-held, await BalanceAsync(SystemAccounts.Issuance(WellKnownAssets.Apus)));
    }

    private sealed class SimulatedHoldings : ITokenHoldings
    {
        public BigInteger Value { get; set; }

        public ValueTask<TokenAmount> GetSettledHoldingsAsync(AssetCode asset, CancellationToken cancellationToken = default) =>
            new(new TokenAmount((UInt128)Value));
    }

    private static BigInteger Sum(IEnumerable<ContributionRecord> contributions, ContributionStatus status) =>
        contributions.Where(c => c.Status == status).Aggregate(BigInteger.Zero, (sum, c) => sum + c.Amount.BaseUnits);
}
