using Anpm.Abstractions;
using Anpm.Credits;
using Anpm.Pools;
using Anpm.Storage.InMemory;
using Anpm.Storage.Sqlite;
using Anpm.Testing;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Anpm.Benchmarks;

/// <summary>
/// The cost of one daily epoch for a pool with 1 000, 100 000 and 1 000 000 stakers (one lot each), beside the same epoch
/// for a pool of 1 000 stakers (the baseline) in the same run, on the in-memory store and on SQLite. The epoch must not
/// grow with the stakers: it touches the pool's state, the day's eligibility entry, one epoch row and one ledger transfer.
/// </summary>
[Config(typeof(Config))]
[CategoriesColumn]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByParams)]
public class StakingBenchmarks
{
    private static readonly PoolId Pool = PoolId.Parse("bench");
    private static readonly Address Treasury = Address.Parse("0x90f79bf6eb2c4f870365e785982e1f101e93b906");
    private readonly List<IAnpmStore> _stores = [];
    private string _folder = string.Empty;
    private (StakingService Service, FakeTimeProvider Clock) _baseline;
    private (StakingService Service, FakeTimeProvider Clock) _measured;

    [Params(1_000, 100_000, 1_000_000)]
    public int Stakers { get; set; } = 1_000;

    [Params("InMemory", "Sqlite")]
    public string Store { get; set; } = "InMemory";

    [GlobalSetup]
    public async Task SetupAsync()
    {
        _folder = Directory.CreateTempSubdirectory("anpm-bench-staking-").FullName;
        _baseline = await PoolWithStakersAsync("baseline", 1_000);
        _measured = await PoolWithStakersAsync("measured", Stakers);
    }

    [GlobalCleanup]
    public async Task CleanupAsync()
    {
        foreach (var store in _stores.OfType<IAsyncDisposable>())
        {
            await store.DisposeAsync();
        }

        Directory.Delete(_folder, recursive: true);
    }

    [Benchmark(Baseline = true)]
    public Task Epoch_1000Stakers() => OneEpochAsync(_baseline);

    [Benchmark]
    public Task Epoch_ParamStakers() => OneEpochAsync(_measured);

    private static async Task OneEpochAsync((StakingService Service, FakeTimeProvider Clock) pool)
    {
        pool.Clock.Advance(TimeSpan.FromDays(1));
        var report = await pool.Service.ProcessEpochsAsync();
        if (report.EpochsProcessed != 1 || report.Failures.Count > 0)
        {
            throw new InvalidOperationException($"Expected one epoch, processed {report.EpochsProcessed}: {string.Join("; ", report.Failures)}");
        }
    }

    // A pool whose N stakers hold one eligible lot each: the first stake goes through the service (accounts, state); the
    // others are written straight to the store, as the service would have, and added to the pool's eligible stake.
    private async Task<(StakingService, FakeTimeProvider)> PoolWithStakersAsync(string name, int stakers)
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 11, 21, 12, 0, 0, TimeSpan.Zero));
        IAnpmStore store = Store == "Sqlite"
            ? new SqliteAnpmStore(Options.Create(new SqliteStoreOptions { ConnectionString = $"Data Source={Path.Combine(_folder, name + ".db")};Pooling=false" }), clock)
            : new InMemoryAnpmStore();
        _stores.Add(store);
        var ledger = new Ledger(store, Options.Create(new LedgerOptions()), clock);
        var outbox = new Outbox(store, ledger, new NoGateway(), Options.Create(new OutboxOptions()), clock);
        var registry = new PoolRegistry(store, clock);
        await registry.CreateAsync(Pool, Treasury, """{"name":"Bench","staking":{"capacity":"1000000000000000000","dailyReward":"1000000000000","minStakeAgeSeconds":0}}""");
        var service = new StakingService(store, ledger, outbox, registry, Options.Create(new StakingOptions { Treasury = Treasury }), clock);
        var notices = new TokenNoticeProcessor(store, ledger, outbox, clock, [service]);
        await notices.ApplyAsync(Notice("fund", Treasury, 1_000_000_000_000_000_000, "Fund-Rewards"));
        await notices.ApplyAsync(Notice("first", Treasury, 100, "Stake"));
        const int perUnitOfWork = 50_000;
        for (var start = 1; start < stakers; start += perUnitOfWork)
        {
            await store.RunAsync((Start: start, End: Math.Min(stakers, start + perUnitOfWork), Day: DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime).DayNumber + 1, At: clock.GetUtcNow()),
                static async (unitOfWork, range, ct) =>
                {
                    for (var i = range.Start; i < range.End; i++)
                    {
                        var staker = Address.FromBytes(BitConverter.GetBytes((long)i).Concat(new byte[12]).ToArray());
                        await unitOfWork.Staking.TryInsertLotAsync(new StakeLot { Id = "lot", PoolId = Pool, Staker = staker, Amount = new TokenAmount(100), StakedAt = range.At, EligibleDay = range.Day }, ct);
                        await unitOfWork.Staking.TryInsertStakerAsync(new StakerState { PoolId = Pool, Staker = staker, SettledReward = 0, SettledStakeDays = 0, Claimed = default }, ct);
                    }

                    var state = (await unitOfWork.Staking.GetPoolStakingAsync(Pool, ct))!;
                    var added = new TokenAmount((UInt128)(range.End - range.Start) * 100);
                    var scheduled = await unitOfWork.Staking.GetScheduledEligibilityAsync(Pool, range.Day, ct);
                    await unitOfWork.Staking.SetScheduledEligibilityAsync(Pool, range.Day, scheduled + added, ct);
                    await unitOfWork.Staking.UpdatePoolStakingAsync(state with { Staked = state.Staked + added }, state.Version, ct);
                    return true;
                });
        }

        clock.Advance(TimeSpan.FromDays(1)); // the lots' eligible day begins; the first epoch after it includes them all
        await service.ProcessEpochsAsync();
        return (service, clock);
    }

    private static TokenNotice Notice(string id, Address sender, ulong quantity, string action) => new()
    {
        MessageId = id,
        Sender = sender,
        Quantity = new TokenAmount(quantity),
        Action = action,
        PoolId = Pool.ToString(),
        Reference = string.Empty,
        ReceivedAt = default,
        Outcome = string.Empty,
    };

    private sealed class NoGateway : ITokenGateway
    {
        public ValueTask<GatewaySendResult> SendAsync(OutgoingTransfer transfer, CancellationToken cancellationToken = default) =>
            new(new GatewaySendResult(GatewaySendStatus.RetryLater));
    }

    private sealed class Config : ManualConfig
    {
        public Config() => AddJob(Job.Default
            .WithWarmupCount(3)
            .WithIterationCount(12)
            .WithInvocationCount(32)
            .WithUnrollFactor(1)
            .WithId("Staking"));
    }
}
