using System.Numerics;
using Anpm.Abstractions;

namespace Anpm.Storage.Conformance;

/// <summary>The staking store: pool state and stakers with versions, the eligibility schedule, epochs once per day, lots, atomicity.</summary>
public abstract class StakingStoreConformanceTests(StoreFactory factory) : ConformanceSuite(factory)
{
    private static readonly PoolId Demo = PoolId.Parse("demo");
    private static readonly Address Alice = Address.Parse("0x70997970c51812dc3a010c7d01b50e0d17dc79c8");
    private static readonly BigInteger Huge = BigInteger.Pow(10, 60) + 7;

    private async Task<IAnpmStore> StoreWithPoolAsync()
    {
        var store = await Factory.CreateAsync();
        await store.RunAsync(0, static async (unitOfWork, _, ct) => await unitOfWork.Pools.TryInsertPoolAsync(new PoolRecord
        {
            Id = Demo,
            Owner = Address.Zero,
            ConfigJson = "{}",
            Status = PoolStatus.Active,
            CreatedAt = Now,
            StatusChangedAt = Now,
        }, ct));
        return store;
    }

    [Fact]
    public async Task PoolState_InsertedOnce_RoundTripsHugeAccumulators_VersionedUpdates()
    {
        var store = await StoreWithPoolAsync();
        var state = new PoolStakingState { PoolId = Demo, Staked = TokenAmount.MaxValue, Eligible = new TokenAmount(5), RewardPerToken = Huge, LastEpochDay = 739_000 };
        await using (var write = await store.BeginAsync())
        {
            Assert.Null(await write.Staking.GetPoolStakingAsync(Demo));
            Assert.True(await write.Staking.TryInsertPoolStakingAsync(state with { Version = 9 }));
            Assert.False(await write.Staking.TryInsertPoolStakingAsync(state));
            await write.Staking.UpdatePoolStakingAsync(state with { RewardPerToken = Huge * 2, LastEpochDay = 739_001 }, 0);
            await Assert.ThrowsAsync<AnpmConcurrencyException>(async () => await write.Staking.UpdatePoolStakingAsync(state, 0));
            await write.CommitAsync();
        }

        await using var read = await store.BeginAsync();
        Assert.Equal(state with { RewardPerToken = Huge * 2, LastEpochDay = 739_001, Version = 1 }, await read.Staking.GetPoolStakingAsync(Demo));
        await Assert.ThrowsAsync<AnpmException>(async () => await read.Staking.UpdatePoolStakingAsync(state with { PoolId = PoolId.Parse("missing") }, 0));
    }

    [Fact]
    public async Task Schedule_SetReadAndClearedByZero()
    {
        var store = await StoreWithPoolAsync();
        await using var unitOfWork = await store.BeginAsync();
        Assert.Equal(TokenAmount.Zero, await unitOfWork.Staking.GetScheduledEligibilityAsync(Demo, 10));
        await unitOfWork.Staking.SetScheduledEligibilityAsync(Demo, 10, new TokenAmount(7));
        await unitOfWork.Staking.SetScheduledEligibilityAsync(Demo, 11, new TokenAmount(1));
        await unitOfWork.Staking.SetScheduledEligibilityAsync(Demo, 10, new TokenAmount(9));
        Assert.Equal((new TokenAmount(9), new TokenAmount(1)), (await unitOfWork.Staking.GetScheduledEligibilityAsync(Demo, 10), await unitOfWork.Staking.GetScheduledEligibilityAsync(Demo, 11)));
        await unitOfWork.Staking.SetScheduledEligibilityAsync(Demo, 10, TokenAmount.Zero);
        Assert.Equal(TokenAmount.Zero, await unitOfWork.Staking.GetScheduledEligibilityAsync(Demo, 10));
    }

    [Fact]
    public async Task Epochs_OncePerPoolAndDay_ListedLatestFirst()
    {
        var store = await StoreWithPoolAsync();
        await using var unitOfWork = await store.BeginAsync();
        StakeEpoch Epoch(int day) => new()
        {
            PoolId = Demo,
            Day = day,
            Eligible = new TokenAmount(100),
            Budget = new TokenAmount(10),
            Paid = new TokenAmount(8),
            Shortfall = new TokenAmount(2),
            RewardPerTokenAfter = Huge + day,
            ProcessedAt = Now,
        };
        foreach (var day in new[] { 3, 1, 2 })
        {
            Assert.True(await unitOfWork.Staking.TryInsertEpochAsync(Epoch(day)));
        }

        Assert.False(await unitOfWork.Staking.TryInsertEpochAsync(Epoch(2) with { Paid = TokenAmount.Zero }));
        Assert.Equal(Epoch(2), await unitOfWork.Staking.GetEpochAsync(Demo, 2));
        Assert.Null(await unitOfWork.Staking.GetEpochAsync(Demo, 4));
        Assert.Equal([3, 2, 1], (await unitOfWork.Staking.ListEpochsAsync(Demo, null, 10)).Select(e => e.Day));
        Assert.Equal([2], (await unitOfWork.Staking.ListEpochsAsync(Demo, 3, 1)).Select(e => e.Day));
    }

    [Fact]
    public async Task Lots_OldestFirst_AmountUpdatedWithVersion_ZeroRemoves()
    {
        var store = await StoreWithPoolAsync();
        var first = new StakeLot { Id = "b", PoolId = Demo, Staker = Alice, Amount = new TokenAmount(10), StakedAt = Now, EligibleDay = 5 };
        var second = first with { Id = "a", StakedAt = Now.AddHours(1), EligibleDay = 6 };
        await using (var write = await store.BeginAsync())
        {
            Assert.True(await write.Staking.TryInsertLotAsync(second));
            Assert.True(await write.Staking.TryInsertLotAsync(first));
            Assert.False(await write.Staking.TryInsertLotAsync(first with { Amount = new TokenAmount(1) }));
            Assert.True(await write.Staking.TryInsertLotAsync(first with { Staker = Address.Zero }));
            await write.Staking.UpdateLotAmountAsync(first, new TokenAmount(4), 0);
            await Assert.ThrowsAsync<AnpmConcurrencyException>(async () => await write.Staking.UpdateLotAmountAsync(first, new TokenAmount(3), 0));
            await write.Staking.UpdateLotAmountAsync(second, TokenAmount.Zero, 0);
            await write.CommitAsync();
        }

        await using var read = await store.BeginAsync();
        Assert.Equal([first with { Amount = new TokenAmount(4), Version = 1 }], await read.Staking.ListLotsAsync(Demo, Alice));
        Assert.Empty(await read.Staking.ListLotsAsync(Demo, Address.Parse("0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc")));
    }

    [Fact]
    public async Task Stakers_InsertedOnce_VersionedUpdates_RolledBackWithTheUnitOfWork()
    {
        var store = await StoreWithPoolAsync();
        var staker = new StakerState { PoolId = Demo, Staker = Alice, SettledReward = Huge, SettledStakeDays = 12, Claimed = new TokenAmount(3) };
        await using (var write = await store.BeginAsync())
        {
            Assert.True(await write.Staking.TryInsertStakerAsync(staker));
            Assert.False(await write.Staking.TryInsertStakerAsync(staker));
            await write.Staking.UpdateStakerAsync(staker with { Claimed = new TokenAmount(4) }, 0);
            await Assert.ThrowsAsync<AnpmConcurrencyException>(async () => await write.Staking.UpdateStakerAsync(staker, 0));
            await write.CommitAsync();
        }

        await using (var discarded = await store.BeginAsync())
        {
            await discarded.Staking.UpdateStakerAsync(staker with { Claimed = new TokenAmount(99) }, 1);
            await discarded.Staking.SetScheduledEligibilityAsync(Demo, 1, new TokenAmount(5));
            Assert.True(await discarded.Staking.TryInsertPoolStakingAsync(new PoolStakingState { PoolId = Demo, Staked = default, Eligible = default, RewardPerToken = 0, LastEpochDay = 1 }));
        }

        await using var read = await store.BeginAsync();
        Assert.Equal(staker with { Claimed = new TokenAmount(4), Version = 1 }, await read.Staking.GetStakerAsync(Demo, Alice));
        Assert.Equal(TokenAmount.Zero, await read.Staking.GetScheduledEligibilityAsync(Demo, 1));
        Assert.Null(await read.Staking.GetPoolStakingAsync(Demo));
    }
}

public sealed class InMemoryStakingStoreTests() : StakingStoreConformanceTests(new InMemoryStoreFactory());

public sealed class SqliteStakingStoreTests() : StakingStoreConformanceTests(new SqliteStoreFactory());

[Collection(PostgresCollection.Name)]
public sealed class PostgresStakingStoreTests(PostgresServerFixture server) : StakingStoreConformanceTests(new PostgresStoreFactory(server));
