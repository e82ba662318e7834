using System.Numerics;
using Anpm.Abstractions;
using Anpm.Credits;
using Anpm.Pools;
using Anpm.Testing;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Anpm.Storage.Conformance;

/// <summary>
/// Staking and daily incentives over each store, checked after every step against <see cref="StakingReference"/>, a
/// brute-force computation over every staker: joining and leaving mid-epoch, aging, missed days, underfunded days.
/// </summary>
public abstract class StakingFlowConformanceTests(StoreFactory factory) : ConformanceSuite(factory)
{
    private static readonly Address Alice = Address.Parse("0x70997970c51812dc3a010c7d01b50e0d17dc79c8");
    private static readonly Address Bob = Address.Parse("0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc");
    private static readonly Address Carol = Address.Parse("0x15d34aaf54267db7d7c367839aaf71a00a2c6a65");
    private static readonly Address Dave = Address.Parse("0x9965507d1a55bcc2695c58ba16fb37d819b0a4dc");
    private static readonly Address Treasury = Address.Parse("0x90f79bf6eb2c4f870365e785982e1f101e93b906");
    private static readonly PoolId Pool = PoolId.Parse("stake");

    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 11, 21, 12, 0, 0, TimeSpan.Zero));
    private IAnpmStore _store = null!;
    private Ledger _ledger = null!;
    private Outbox _outbox = null!;
    private PoolRegistry _registry = null!;
    private StakingService _staking = null!;
    private TokenNoticeProcessor _notices = null!;
    private int _messages;
    private int _ledgerChecks; // how often the pot and reserve were compared (not only the statuses)
    private BigInteger _received;

    public override async Task InitializeAsync()
    {
        _store = await Factory.CreateAsync();
        _ledger = new Ledger(_store, Options.Create(new LedgerOptions()), _clock);
        _outbox = new Outbox(_store, _ledger, new NullGateway(), Options.Create(new OutboxOptions()), _clock);
        _registry = new PoolRegistry(_store, _clock);
        _staking = NewService();
        _notices = new TokenNoticeProcessor(_store, _ledger, _outbox, _clock, [_staking]);
    }

    private StakingService NewService() => new(_store, _ledger, _outbox, _registry, Options.Create(new StakingOptions { Treasury = Treasury }), _clock);

    private sealed class NullGateway : ITokenGateway
    {
        public ValueTask<GatewaySendResult> SendAsync(OutgoingTransfer transfer, CancellationToken cancellationToken = default) =>
            new(new GatewaySendResult(GatewaySendStatus.RetryLater));
    }

    private async Task CreatePoolAsync(PoolId id, ulong capacity, ulong dailyReward, long minStakeAgeSeconds)
    {
        var config = "{\"name\":\"Stake\",\"staking\":{\"capacity\":\"" + capacity + "\",\"dailyReward\":\"" + dailyReward + "\",\"minStakeAgeSeconds\":" + minStakeAgeSeconds + "}}";
        Assert.Equal(CreatePoolResult.Created, (await _registry.CreateAsync(id, Alice, config)).Result);
    }

    private async Task<string> NoticeAsync(string action, Address sender, BigInteger quantity, PoolId? pool = null)
    {
        var outcome = await _notices.ApplyAsync(new TokenNotice
        {
            MessageId = "m" + _messages++,
            Sender = sender,
            Quantity = new TokenAmount((UInt128)quantity),
            Action = action,
            PoolId = (pool ?? Pool).ToString(),
            Reference = string.Empty,
            ReceivedAt = default,
            Outcome = string.Empty,
        });
        _received += quantity;
        return outcome.Outcome;
    }

    private async Task<BigInteger> BalanceAsync(AccountId account) => (await _ledger.GetAccountAsync(account))?.PostedBalance ?? 0;

    private async Task AssertMatchesAsync(StakingReference reference, string context)
    {
        reference.CatchUp(_clock.GetUtcNow());
        BigInteger pending = 0;
        foreach (var staker in reference.Stakers)
        {
            var status = (await _staking.GetStatusAsync(Pool, staker))!;
            var expected = (reference.Staked(staker), reference.Pending(staker), reference.Claimed(staker));
            var actual = ((BigInteger)status.Staked.BaseUnits, (BigInteger)status.Pending.BaseUnits, (BigInteger)status.Claimed.BaseUnits);
            Assert.True(expected == actual, $"{context}: {staker} staked/pending/claimed {actual}, the reference says {expected}.");
            pending += reference.Pending(staker);
        }

        // Nothing is paid that was not funded, and the pot holds every unclaimed reward plus the rounding dust. The status
        // above counted missed epochs without writing them; the ledger can be compared once the store has processed them.
        await LedgerAssert.InvariantHoldsAsync(_ledger);
        Assert.Equal(reference.Stakers.Aggregate(BigInteger.Zero, (sum, s) => sum + reference.Staked(s)), await BalanceAsync(PoolAccounts.Stakes(Pool)));
        Assert.Equal(-_received, await BalanceAsync(SystemAccounts.Issuance(WellKnownAssets.Apus)));
        var stored = await _store.RunAsync(0, static (unitOfWork, _, ct) => unitOfWork.Staking.GetPoolStakingAsync(Pool, ct));
        if (stored?.LastEpochDay != reference.LastDay)
        {
            return;
        }

        var pot = await BalanceAsync(PoolAccounts.RewardPot(Pool));
        Assert.True(pot >= pending, $"{context}: the reward pot holds {pot} but {pending} is pending.");
        Assert.Equal(reference.PaidToPot - reference.Stakers.Aggregate(BigInteger.Zero, (sum, s) => sum + reference.Claimed(s)), pot);
        Assert.Equal(reference.Reserve, await BalanceAsync(PoolAccounts.RewardReserve(Pool)));
        Assert.True(reference.PaidToPot <= reference.Funded, $"{context}: paid {reference.PaidToPot} of {reference.Funded} funded.");
        _ledgerChecks++;
    }

    private async Task<IReadOnlyList<StakeEpoch>> EpochsAsync() => await _staking.GetEpochsAsync(Pool, null, 500);

    // A status read computes the missed epochs without writing them: it neither waits for nor fails against another
    // instance that is processing them (a store whose units of work run side by side).
    protected async Task StatusRead_WhileAnotherInstanceProcessesTheEpochs_NeitherWaitsNorFails()
    {
        await CreatePoolAsync(Pool, capacity: 10_000, dailyReward: 1_000, minStakeAgeSeconds: 0);
        Assert.Equal("rewards-funded", await NoticeAsync("Fund-Rewards", Treasury, 2_500));
        Assert.Equal("staked", await NoticeAsync("Stake", Alice, 3_000));
        _clock.Advance(TimeSpan.FromDays(3));
        var stored = (await _store.RunAsync(0, static (unitOfWork, _, ct) => unitOfWork.Staking.GetPoolStakingAsync(Pool, ct)))!;
        StakeStatus duringProcessing;
        await using (var processing = await _store.BeginAsync())
        {
            var day = stored.LastEpochDay + 1;
            Assert.True(await processing.Staking.TryInsertEpochAsync(new StakeEpoch
            {
                PoolId = Pool, Day = day, Eligible = new TokenAmount(3_000), Budget = new TokenAmount(1_000), Paid = new TokenAmount(1_000),
                Shortfall = TokenAmount.Zero, RewardPerTokenAfter = 1, ProcessedAt = _clock.GetUtcNow(),
            }));
            var read = _staking.GetStatusAsync(Pool, Alice).AsTask();
            Assert.Same(read, await Task.WhenAny(read, Task.Delay(TimeSpan.FromSeconds(60))));
            duringProcessing = (await read)!;
        }

        Assert.Equal(new TokenAmount(1_999), duringProcessing.Pending); // the two epochs the stake was eligible for, 1 000 each, less the rounding unit
        Assert.Equal(duringProcessing, await _staking.GetStatusAsync(Pool, Alice));
        Assert.Equal(3, (await _staking.ProcessEpochsAsync()).EpochsProcessed);
        Assert.Equal(duringProcessing, await _staking.GetStatusAsync(Pool, Alice));
        await LedgerAssert.InvariantHoldsAsync(_ledger);
    }

    [Fact]
    public async Task WhatIfApr_HandComputed_FromTheDailyRewardTheEligibleStakeAndTheReserveRunway()
    {
        // 100 a day, a day's minimum age; Alice's 900 earns from the day after tomorrow; the treasury funds 10,000.
        await CreatePoolAsync(Pool, capacity: 10_000, dailyReward: 100, minStakeAgeSeconds: 86_400);
        Assert.Equal("staked", await NoticeAsync("Stake", Alice, 900));
        Assert.Equal("rewards-funded", await NoticeAsync("Fund-Rewards", Treasury, 10_000));
        _clock.Advance(TimeSpan.FromDays(3)); // one epoch paid Alice 100: 9,900 left, 99 days of runway

        // Bob stakes 100 now: it earns from two days on (day 3 of the 365 simulated) while the reserve lasts (days 1–99):
        // 97 days × 100 × 100 / 1,000 = 970, so 970 / 100 = 9.7 (970 %).
        var projection = (await _staking.ProjectStakeAsync(Pool, new TokenAmount(100)))!;
        Assert.Equal((new TokenAmount(100), 9.7m, new TokenAmount(970), 99, new TokenAmount(900), new TokenAmount(9_100)),
            (projection.Amount, projection.Apr, projection.ProjectedRewards, projection.RunwayDays, projection.Eligible, projection.Room));
        Assert.Equal(DateOnly.FromDateTime(_clock.GetUtcNow().UtcDateTime).AddDays(2), projection.EarnsFrom);

        // More than the capacity takes: only the room counts (9,100 earns 91 a day for 97 days = 8,827).
        var capped = (await _staking.ProjectStakeAsync(Pool, new TokenAmount(20_000)))!;
        Assert.Equal((new TokenAmount(9_100), new TokenAmount(8_827), 0.97m), (capped.Amount, capped.ProjectedRewards, capped.Apr));
        Assert.Null((await _staking.ProjectStakeAsync(Pool, TokenAmount.Zero))!.Apr);
        Assert.Null(await _staking.ProjectStakeAsync(PoolId.Parse("none"), new TokenAmount(1)));

        // The projection wrote nothing: the reserve is untouched until the epoch job pays the one epoch Alice earned.
        Assert.Equal(10_000, await BalanceAsync(PoolAccounts.RewardReserve(Pool)));
        Assert.Equal(3, (await _staking.ProcessEpochsAsync()).EpochsProcessed);
        Assert.Equal(9_900, await BalanceAsync(PoolAccounts.RewardReserve(Pool)));
    }

    [Fact]
    public async Task Scenario_JoinAgeLeaveMissedAndUnderfundedDays_MatchesTheReferenceToTheUnit()
    {
        await CreatePoolAsync(Pool, capacity: 10_000, dailyReward: 1_000, minStakeAgeSeconds: 86_400);
        var reference = new StakingReference(1_000, 86_400, 10_000, DateOnly.FromDateTime(_clock.GetUtcNow().UtcDateTime).DayNumber);
        async Task StakeAsync(Address who, ulong quantity, string expected)
        {
            Assert.Equal(expected, await NoticeAsync("Stake", who, quantity));
            reference.Stake(_clock.GetUtcNow(), who, quantity);
        }

        async Task FundAsync(ulong quantity)
        {
            Assert.Equal("rewards-funded", await NoticeAsync("Fund-Rewards", Treasury, quantity));
            reference.Fund(_clock.GetUtcNow(), quantity);
        }

        await FundAsync(2_500);
        await StakeAsync(Alice, 3_000, "staked");                  // 21 Nov 12:00 → eligible from 23 Nov
        _clock.Advance(TimeSpan.FromHours(6));
        await StakeAsync(Bob, 1_000, "staked");                    // 21 Nov 18:00 → eligible from 23 Nov
        await AssertMatchesAsync(reference, "day 0");
        _clock.Advance(TimeSpan.FromHours(16));
        await StakeAsync(Carol, 7_000, "staked-partly");           // 22 Nov 10:00: 6000 fit, 1000 refunded; eligible from 24 Nov
        _clock.Advance(TimeSpan.FromHours(38));                     // 24 Nov 00:00: epoch 23 Nov pays 1000 over 4000
        Assert.Equal(1, (await _staking.ProcessEpochsAsync()).EpochsProcessed - 1); // 22 and 23 Nov
        await AssertMatchesAsync(reference, "23 Nov");
        _clock.Advance(TimeSpan.FromHours(13));                    // 24 Nov 13:00: Bob leaves half way through the day
        Assert.Equal(StakeCommandResult.Done, (await _staking.UnstakeAsync(TransferId.Parse("u1"), Pool, Bob, new TokenAmount(500))).Result);
        reference.Unstake(_clock.GetUtcNow(), Bob, 500);
        await AssertMatchesAsync(reference, "24 Nov");
        _clock.Advance(TimeSpan.FromDays(3));                      // 27 Nov: the job never ran; 24 Nov pays 1000, 25 Nov 500 of 1000, 26 Nov nothing
        var claimed = await _staking.ClaimRewardsAsync(TransferId.Parse("c1"), Pool, Alice);
        Assert.Equal(StakeCommandResult.Done, claimed.Result);
        Assert.Equal(reference.Claim(_clock.GetUtcNow(), Alice), (BigInteger)claimed.Amount.BaseUnits);
        Assert.Equal(StakeCommandResult.Exists, (await _staking.ClaimRewardsAsync(TransferId.Parse("c1"), Pool, Alice)).Result);
        Assert.Equal(StakeCommandResult.NothingToClaim, (await _staking.ClaimRewardsAsync(TransferId.Parse("c2"), Pool, Alice)).Result);
        Assert.Equal(StakeCommandResult.IdTaken, (await _staking.UnstakeAsync(TransferId.Parse("c1"), Pool, Alice, new TokenAmount(1))).Result);
        Assert.Equal(StakeCommandResult.Exists, (await _staking.UnstakeAsync(TransferId.Parse("u1"), Pool, Bob, new TokenAmount(500))).Result);
        await AssertMatchesAsync(reference, "27 Nov");
        await FundAsync(100_000);                                    // counts from 27 Nov on
        _clock.Advance(TimeSpan.FromDays(2));
        await AssertMatchesAsync(reference, "29 Nov, before the job");
        await _staking.ProcessEpochsAsync();
        await AssertMatchesAsync(reference, "29 Nov");

        var epochs = (await EpochsAsync()).ToDictionary(e => e.Day);
        foreach (var (day, (eligible, paid, shortfall)) in reference.Epochs)
        {
            Assert.Equal((eligible, paid, shortfall), ((BigInteger)epochs[day].Eligible.BaseUnits, (BigInteger)epochs[day].Paid.BaseUnits, (BigInteger)epochs[day].Shortfall.BaseUnits));
        }

        var d25 = epochs[new DateOnly(2026, 11, 25).DayNumber];
        Assert.Equal((new TokenAmount(500), new TokenAmount(500)), (d25.Paid, d25.Shortfall)); // underfunded: paid what the reserve covered
        Assert.Equal(TokenAmount.Zero, epochs[new DateOnly(2026, 11, 26).DayNumber].Paid);
        var alice = (await _staking.GetStatusAsync(Pool, Alice))!;
        Assert.True(alice.RealisedApr > 0);
        Assert.Equal(new DateOnly(2026, 11, 28), alice.LastEpochDay);
    }

    [Fact]
    public Task RandomDays_EveryStakerMatchesTheReferenceAfterEveryStep() => TestSeed.RunAsync(SimulateStakingDaysAsync);

    private async Task SimulateStakingDaysAsync(int seed)
    {
        var random = new Random(seed);
        await CreatePoolAsync(Pool, capacity: 50_000, dailyReward: 977, minStakeAgeSeconds: 43_200);
        var reference = new StakingReference(977, 43_200, 50_000, DateOnly.FromDateTime(_clock.GetUtcNow().UtcDateTime).DayNumber);
        Address[] stakers = [Alice, Bob, Carol, Dave];

        // The walk goes on past its length (up to 8 times) until it has reached every case it must: a short walk (the
        // PostgreSQL one) may not have paid two stakers yet on some seeds.
        bool Covered() => reference.Epochs.Values.Any(e => e.Shortfall > 0) && reference.Epochs.Values.Any(e => e.Paid > 0 && e.Shortfall == 0)
            && stakers.Count(s => reference.Claimed(s) > 0) >= 2;
        var length = Factory.SimulationOperations / 250;
        for (var step = 0; step < length || (step < 8 * length && !Covered()); step++)
        {
            _clock.Advance(TimeSpan.FromMinutes(random.Next(1, 60 * 20)));
            var who = stakers[random.Next(stakers.Length)];
            var now = _clock.GetUtcNow();
            string what;
            switch (random.Next(10))
            {
                case 0 or 1 or 2:
                {
                    var quantity = random.Next(1, 9_000);
                    var outcome = await NoticeAsync("Stake", who, quantity);
                    var accepted = reference.Stake(now, who, quantity);
                    Assert.Equal(accepted == quantity ? "staked" : accepted == 0 ? "refunded:capacity-reached" : "staked-partly", outcome);
                    what = $"stake {quantity} by {who}";
                    break;
                }

                case 3 or 4:
                {
                    var staked = reference.Staked(who);
                    var amount = random.Next(3) == 0 ? staked + 1 : staked <= 1 ? 1 : 1 + random.NextInt64((long)staked);
                    var result = (await _staking.UnstakeAsync(TransferId.Parse("u" + step), Pool, who, new TokenAmount((UInt128)amount))).Result;
                    Assert.Equal(reference.Unstake(now, who, amount) ? StakeCommandResult.Done : StakeCommandResult.InsufficientStake, result);
                    what = $"unstake {amount} by {who}";
                    break;
                }

                case 5:
                {
                    var claimed = await _staking.ClaimRewardsAsync(TransferId.Parse("c" + step), Pool, who);
                    Assert.Equal(reference.Claim(now, who), (BigInteger)claimed.Amount.BaseUnits);
                    what = $"claim by {who}: {claimed.Result}";
                    break;
                }

                case 6:
                {
                    var quantity = random.Next(0, 3) * 1_500;
                    if (quantity > 0)
                    {
                        await NoticeAsync("Fund-Rewards", Treasury, quantity);
                        reference.Fund(now, quantity);
                    }

                    what = $"fund {quantity}";
                    break;
                }

                case 7:
                    what = "job: " + (await _staking.ProcessEpochsAsync()).EpochsProcessed;
                    break;
                default:
                    _clock.Advance(TimeSpan.FromDays(random.Next(1, 4))); // whole days pass, the job down
                    what = "days pass";
                    break;
            }

            await AssertMatchesAsync(reference, $"seed {seed}, step {step} ({what}, {_clock.GetUtcNow():O})");
        }

        Assert.True(reference.Epochs.Values.Any(e => e.Shortfall > 0), "The walk never had an underfunded day.");
        Assert.True(reference.Epochs.Values.Any(e => e.Paid > 0 && e.Shortfall == 0), "The walk never had a fully funded day.");
        Assert.True(stakers.Count(s => reference.Claimed(s) > 0) >= 2, "The walk never paid two stakers.");
        Assert.True(_ledgerChecks > Factory.SimulationOperations / 500, $"The pot was compared only {_ledgerChecks} times.");
    }

    [Fact]
    public async Task Unstake_OneRequestOnTwoInstancesAtOnce_PaidOnce_NoFailure()
    {
        await CreatePoolAsync(Pool, capacity: 10_000, dailyReward: 10, minStakeAgeSeconds: 0);
        Assert.Equal("staked", await NoticeAsync("Stake", Alice, 3_000));

        // Each copy checks the request id, then enqueues the payout: a copy that loses the race finds the payout enqueued
        // by the other and runs again (a lost race), answering the replay — never an error.
        var other = await Factory.OpenAnotherInstanceAsync(_store);
        var otherLedger = new Ledger(other, Options.Create(new LedgerOptions()), _clock);
        var otherService = new StakingService(other, otherLedger, new Outbox(other, otherLedger, new NullGateway(), Options.Create(new OutboxOptions()), _clock),
            new PoolRegistry(other, _clock), Options.Create(new StakingOptions { Treasury = Treasury }), _clock);
        var request = TransferId.Parse("unstake-once");
        var outcomes = await Task.WhenAll(Enumerable.Range(0, 8).Select(i =>
            (i % 2 == 0 ? _staking : otherService).UnstakeAsync(request, Pool, Alice, new TokenAmount(1_000)).AsTask()));
        Assert.Equal(1, outcomes.Count(o => o.Result == StakeCommandResult.Done));
        Assert.All(outcomes, o => Assert.True(o.Result is StakeCommandResult.Done or StakeCommandResult.Exists, o.ToString()));
        Assert.Equal(new TokenAmount(2_000), (await _staking.GetStatusAsync(Pool, Alice))!.Staked);
        await LedgerAssert.InvariantHoldsAsync(_ledger);
    }

    [Fact]
    public async Task EpochJob_TwiceAtOnce_EachEpochOnce_AndAFailingPoolBlocksNoOther()
    {
        var broken = PoolId.Parse("broken");
        await CreatePoolAsync(Pool, capacity: 1_000, dailyReward: 10, minStakeAgeSeconds: 0);
        await CreatePoolAsync(broken, capacity: 1_000, dailyReward: 10, minStakeAgeSeconds: 0);
        await NoticeAsync("Fund-Rewards", Treasury, 1_000);
        await NoticeAsync("Stake", Alice, 100);
        await NoticeAsync("Stake", Alice, 100, broken);
        // A stray epoch row two days ahead: the broken pool's catch-up collides with it every time.
        await _store.RunAsync(broken, static async (unitOfWork, pool, ct) => await unitOfWork.Staking.TryInsertEpochAsync(new StakeEpoch
        {
            PoolId = pool,
            Day = new DateOnly(2026, 11, 23).DayNumber,
            Eligible = default,
            Budget = default,
            Paid = default,
            Shortfall = default,
            RewardPerTokenAfter = 0,
            ProcessedAt = default,
        }, ct));
        _clock.Advance(TimeSpan.FromDays(5));

        var reports = await Task.WhenAll(_staking.ProcessEpochsAsync().AsTask(), NewService().ProcessEpochsAsync().AsTask());
        Assert.Equal(5, reports.Sum(r => r.EpochsProcessed)); // 21..25 Nov of the healthy pool, once
        Assert.All(reports, r => Assert.Equal(broken, Assert.Single(r.Failures).Pool));
        Assert.Equal([25, 24, 23, 22, 21], (await EpochsAsync()).Select(e => DateOnly.FromDayNumber(e.Day).Day));
        Assert.Equal(0, (await _staking.ProcessEpochsAsync()).EpochsProcessed);
        Assert.Equal(new TokenAmount(40), (await _staking.GetStatusAsync(Pool, Alice))!.Pending); // 22..25 Nov at 10 a day
        await LedgerAssert.InvariantHoldsAsync(_ledger);
    }

    [Fact]
    public async Task Notices_RefusedOnesRefundedNamingWhy()
    {
        await CreatePoolAsync(Pool, capacity: 1_000, dailyReward: 10, minStakeAgeSeconds: 0);
        Assert.Equal(CreatePoolResult.Created, (await _registry.CreateAsync(PoolId.Parse("campaign"), Alice,
            """{"name":"C","contribution":{"startUtc":"2026-11-21T00:00:00Z","endUtc":"2026-12-21T00:00:00Z","amountLimit":"5","destination":"0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed"}}""")).Result);
        Assert.Equal("refunded:not-treasury", await NoticeAsync("Fund-Rewards", Alice, 5));
        Assert.Equal("refunded:unknown-pool", await NoticeAsync("Stake", Alice, 5, PoolId.Parse("nowhere")));
        Assert.Equal("refunded:pool-not-staking", await NoticeAsync("Stake", Alice, 5, PoolId.Parse("campaign")));
        Assert.Equal("staked", await NoticeAsync("Stake", Alice, 1_000));
        Assert.Equal("refunded:capacity-reached", await NoticeAsync("Stake", Bob, 1));
        await _registry.PauseAsync(Pool);
        Assert.Equal("refunded:pool-paused", await NoticeAsync("Stake", Bob, 1));
        await _registry.ResumeAsync(Pool);
        await new SystemPause(_store, _clock).SetAsync(true, Treasury, "incident");
        Assert.Equal("refunded:system-paused", await NoticeAsync("Stake", Bob, 1));
        Assert.Equal(StakeCommandResult.SystemPaused, (await _staking.UnstakeAsync(TransferId.Parse("u1"), Pool, Alice, new TokenAmount(1))).Result);
        Assert.Equal(StakeCommandResult.PoolNotFound, (await _staking.ClaimRewardsAsync(TransferId.Parse("c1"), PoolId.Parse("campaign"), Alice)).Result);
        Assert.Null(await _staking.GetStatusAsync(PoolId.Parse("campaign"), Alice));
        await using (var unitOfWork = await _store.BeginAsync())
        {
            var refunds = await unitOfWork.Outbox.GetDueOutgoingAsync(_clock.GetUtcNow(), 20);
            Assert.Equal(6, refunds.Count);
            Assert.All(refunds, r => Assert.Equal("refund", r.Kind.ToString()));
        }

        Assert.Equal(1_000, await BalanceAsync(PoolAccounts.Stakes(Pool)));
        await LedgerAssert.InvariantHoldsAsync(_ledger);
    }
}

public sealed class InMemoryStakingFlowTests() : StakingFlowConformanceTests(new InMemoryStoreFactory());

public sealed class SqliteStakingFlowTests() : StakingFlowConformanceTests(new SqliteStoreFactory());

[Collection(PostgresCollection.Name)]
public sealed class PostgresStakingFlowTests(PostgresServerFixture server) : StakingFlowConformanceTests(new PostgresStoreFactory(server))
{
    [Fact]
    public Task StatusRead_WhileAnotherInstanceProcessesEpochs() => StatusRead_WhileAnotherInstanceProcessesTheEpochs_NeitherWaitsNorFails();
}
