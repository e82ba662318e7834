using Anpm.Abstractions;

namespace Anpm.Storage.Conformance;

/// <summary>The pool store: ids inserted once and never overwritten, optimistic versions, ordered listing, atomicity.</summary>
public abstract class PoolStoreConformanceTests(StoreFactory factory) : ConformanceSuite(factory)
{
    private static PoolRecord Pool(string id, PoolStatus status = PoolStatus.Active) => new()
    {
        Id = PoolId.Parse(id),
        Owner = Address.Parse("0x70997970c51812dc3a010c7d01b50e0d17dc79c8"),
        ConfigJson = "{\"name\":\"" + id + "\",\"staking\":{\"capacity\":\"10\",\"dailyReward\":\"1\"}}",
        Status = status,
        CreatedAt = Now,
        StatusChangedAt = Now,
    };

    [Fact]
    public async Task Insert_ThenRead_RoundTripsEveryField()
    {
        var store = await Factory.CreateAsync();
        await using (var write = await store.BeginAsync())
        {
            Assert.True(await write.Pools.TryInsertPoolAsync(Pool("demo") with { Status = PoolStatus.Paused }));
            await write.CommitAsync();
        }

        await using var read = await store.BeginAsync();
        Assert.Equal(Pool("demo") with { Status = PoolStatus.Paused }, await read.Pools.GetPoolAsync(PoolId.Parse("demo")));
        Assert.Null(await read.Pools.GetPoolAsync(PoolId.Parse("nothing")));
        Assert.Null(await read.Pools.GetPoolAsync(default));
    }

    [Fact]
    public async Task Insert_ExistingId_RefusedAndNeverOverwritten()
    {
        var store = await Factory.CreateAsync();
        await using var unitOfWork = await store.BeginAsync();
        Assert.True(await unitOfWork.Pools.TryInsertPoolAsync(Pool("demo")));
        Assert.False(await unitOfWork.Pools.TryInsertPoolAsync(Pool("demo") with { ConfigJson = "{}", Owner = Address.Zero }));
        Assert.Equal(Pool("demo"), await unitOfWork.Pools.GetPoolAsync(PoolId.Parse("demo")));
    }

    [Fact]
    public async Task UpdateStatus_WithVersion_AppliedOnceThenStaleRefused()
    {
        var store = await Factory.CreateAsync();
        await using var unitOfWork = await store.BeginAsync();
        Assert.True(await unitOfWork.Pools.TryInsertPoolAsync(Pool("demo")));
        await unitOfWork.Pools.UpdatePoolStatusAsync(PoolId.Parse("demo"), 0, PoolStatus.Paused, Now.AddHours(1));
        var paused = (await unitOfWork.Pools.GetPoolAsync(PoolId.Parse("demo")))!;
        Assert.Equal((PoolStatus.Paused, 1L, Now.AddHours(1), Now), (paused.Status, paused.Version, paused.StatusChangedAt, paused.CreatedAt));
        await RefusedByOrAfterAsync<AnpmConcurrencyException>(unitOfWork, async () =>
            await unitOfWork.Pools.UpdatePoolStatusAsync(PoolId.Parse("demo"), 0, PoolStatus.Canceled, Now.AddHours(2)));
        await unitOfWork.Pools.UpdatePoolStatusAsync(PoolId.Parse("demo"), 1, PoolStatus.Active, Now.AddHours(2));
        var resumed = (await unitOfWork.Pools.GetPoolAsync(PoolId.Parse("demo")))!;
        Assert.Equal((PoolStatus.Active, 2L), (resumed.Status, resumed.Version));
        await RefusedByOrAfterAsync<AnpmException>(unitOfWork, async () => await unitOfWork.Pools.UpdatePoolStatusAsync(PoolId.Parse("missing"), 0, PoolStatus.Paused, Now.AddHours(2)));
    }

    [Fact]
    public async Task List_OrdinalOrderPagedAfterAnId()
    {
        var store = await Factory.CreateAsync();
        await using var unitOfWork = await store.BeginAsync();
        foreach (var id in new[] { "b", "a", "C", "c", "a-1" })
        {
            Assert.True(await unitOfWork.Pools.TryInsertPoolAsync(Pool(id)));
        }

        Assert.Equal(["C", "a", "a-1", "b", "c"], (await unitOfWork.Pools.ListPoolsAsync(null, 10)).Select(p => p.Id.ToString()));
        Assert.Equal(["a-1", "b"], (await unitOfWork.Pools.ListPoolsAsync(PoolId.Parse("a"), 2)).Select(p => p.Id.ToString()));
        Assert.Empty(await unitOfWork.Pools.ListPoolsAsync(PoolId.Parse("c"), 10));
    }

    [Fact]
    public async Task DisposeWithoutCommit_KeepsNoPoolChange()
    {
        var store = await Factory.CreateAsync();
        await using (var setup = await store.BeginAsync())
        {
            Assert.True(await setup.Pools.TryInsertPoolAsync(Pool("kept")));
            await setup.CommitAsync();
        }

        await using (var discarded = await store.BeginAsync())
        {
            Assert.True(await discarded.Pools.TryInsertPoolAsync(Pool("gone")));
            await discarded.Pools.UpdatePoolStatusAsync(PoolId.Parse("kept"), 0, PoolStatus.Canceled, Now.AddHours(2));
        }

        await using var check = await store.BeginAsync();
        Assert.Null(await check.Pools.GetPoolAsync(PoolId.Parse("gone")));
        Assert.Equal(Pool("kept"), await check.Pools.GetPoolAsync(PoolId.Parse("kept")));
    }

    [Fact]
    public async Task ConcurrentInserts_OfOneId_ExactlyOneWins()
    {
        var first = await Factory.CreateAsync();
        var second = await Factory.OpenAnotherInstanceAsync(first);
        var results = await Task.WhenAll(Enumerable.Range(0, 6).Select(i => Task.Run(async () =>
            await (i % 2 == 0 ? first : second).RunAsync(i, static async (unitOfWork, n, ct) =>
                await unitOfWork.Pools.TryInsertPoolAsync(Pool("race") with { ConfigJson = "{\"n\":" + n + "}" }, ct)))));
        Assert.Single(results, inserted => inserted);
    }
}

public sealed class InMemoryPoolStoreTests() : PoolStoreConformanceTests(new InMemoryStoreFactory());

public sealed class SqlitePoolStoreTests() : PoolStoreConformanceTests(new SqliteStoreFactory());

[Collection(PostgresCollection.Name)]
public sealed class PostgresPoolStoreTests(PostgresServerFixture server) : PoolStoreConformanceTests(new PostgresStoreFactory(server));
