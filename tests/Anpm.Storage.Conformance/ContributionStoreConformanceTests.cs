using Anpm.Abstractions;

namespace Anpm.Storage.Conformance;

/// <summary>The contribution store: written once per id, optimistic versions, per-pool listing, overdue queries, atomicity.</summary>
public abstract class ContributionStoreConformanceTests(StoreFactory factory) : ConformanceSuite(factory)
{
    private static readonly PoolId Demo = PoolId.Parse("demo");

    private static ContributionRecord Contribution(string id, string pool = "demo", int payBeforeSeconds = 3600) => new()
    {
        Id = ContributionId.Parse(id),
        PoolId = PoolId.Parse(pool),
        Owner = Address.Parse("0x70997970c51812dc3a010c7d01b50e0d17dc79c8"),
        Amount = new TokenAmount(1500),
        Status = ContributionStatus.PendingPayment,
        CreatedAt = Now,
        PayBefore = Now.AddSeconds(payBeforeSeconds),
    };

    private async Task<IAnpmStore> StoreWithPoolsAsync()
    {
        var store = await Factory.CreateAsync();
        await using var unitOfWork = await store.BeginAsync();
        foreach (var id in new[] { "demo", "other" })
        {
            Assert.True(await unitOfWork.Pools.TryInsertPoolAsync(new PoolRecord
            {
                Id = PoolId.Parse(id),
                Owner = Address.Zero,
                ConfigJson = "{}",
                Status = PoolStatus.Active,
                CreatedAt = Now,
                StatusChangedAt = Now,
            }));
        }

        await unitOfWork.CommitAsync();
        return store;
    }

    [Fact]
    public async Task CountPoolContributions_ByStatusForThatPoolOnly()
    {
        var store = await StoreWithPoolsAsync();
        await using var unitOfWork = await store.BeginAsync();
        Assert.Empty(await unitOfWork.Contributions.CountPoolContributionsAsync(Demo));
        foreach (var (id, pool, status) in new[] { ("a", "demo", ContributionStatus.Paid), ("b", "demo", ContributionStatus.Paid), ("c", "demo", ContributionStatus.PendingPayout), ("d", "other", ContributionStatus.Paid) })
        {
            Assert.True(await unitOfWork.Contributions.TryInsertContributionAsync(Contribution(id, pool) with { Status = status }));
        }

        await unitOfWork.Contributions.UpdateContributionAsync(Contribution("c") with { Status = ContributionStatus.RewardPaidout }, 0);
        Assert.Equal(
            new Dictionary<ContributionStatus, int> { [ContributionStatus.Paid] = 2, [ContributionStatus.RewardPaidout] = 1 },
            await unitOfWork.Contributions.CountPoolContributionsAsync(Demo));
        Assert.Empty(await unitOfWork.Contributions.CountPoolContributionsAsync(PoolId.Parse("nowhere")));
    }

    [Fact]
    public async Task Insert_ThenRead_RoundTripsExactly()
    {
        var store = await StoreWithPoolsAsync();
        var contribution = Contribution("c1") with { Amount = TokenAmount.MaxValue, Paidout = new TokenAmount(7) };
        await using (var write = await store.BeginAsync())
        {
            Assert.True(await write.Contributions.TryInsertContributionAsync(contribution));
            Assert.False(await write.Contributions.TryInsertContributionAsync(Contribution("c1") with { Amount = new TokenAmount(1) }));
            await write.CommitAsync();
        }

        await using var read = await store.BeginAsync();
        Assert.Equal(contribution, await read.Contributions.GetContributionAsync(ContributionId.Parse("c1")));
        Assert.Null(await read.Contributions.GetContributionAsync(ContributionId.Parse("none")));
        Assert.Null(await read.Contributions.GetContributionAsync(default));
    }

    [Fact]
    public async Task Insert_UnknownPool_ThrowsAnpmException()
    {
        var store = await StoreWithPoolsAsync();
        await using var unitOfWork = await store.BeginAsync();
        await Assert.ThrowsAnyAsync<AnpmException>(async () => await unitOfWork.Contributions.TryInsertContributionAsync(Contribution("c1", pool: "ghost")));
    }

    [Fact]
    public async Task Update_WithVersion_ThenStaleRefused()
    {
        var store = await StoreWithPoolsAsync();
        await using var unitOfWork = await store.BeginAsync();
        Assert.True(await unitOfWork.Contributions.TryInsertContributionAsync(Contribution("c1")));
        var paid = Contribution("c1") with { Status = ContributionStatus.Paid, PayBefore = null };
        await unitOfWork.Contributions.UpdateContributionAsync(paid, 0);
        Assert.Equal(paid with { Version = 1 }, await unitOfWork.Contributions.GetContributionAsync(ContributionId.Parse("c1")));
        await RefusedByOrAfterAsync<AnpmConcurrencyException>(unitOfWork, async () => await unitOfWork.Contributions.UpdateContributionAsync(paid, 0));
        await RefusedByOrAfterAsync<AnpmException>(unitOfWork, async () => await unitOfWork.Contributions.UpdateContributionAsync(Contribution("none"), 0));
    }

    [Fact]
    public async Task StaleUpdateAsTheLastWrite_RefusedByTheCommit_NothingKept()
    {
        var store = await StoreWithPoolsAsync();
        await using (var setup = await store.BeginAsync())
        {
            Assert.True(await setup.Contributions.TryInsertContributionAsync(Contribution("c1")));
            await setup.CommitAsync();
        }

        var paid = Contribution("c1") with { Status = ContributionStatus.Paid, PayBefore = null };
        await using (var stale = await store.BeginAsync())
        {
            Assert.True(await stale.Contributions.TryInsertContributionAsync(Contribution("c2")));
            await Assert.ThrowsAsync<AnpmConcurrencyException>(async () =>
            {
                await stale.Contributions.UpdateContributionAsync(paid, 7); // nothing after it but the commit
                await stale.CommitAsync();
            });
        }

        await using var read = await store.BeginReadAsync();
        Assert.Equal(0, (await read.Contributions.GetContributionAsync(ContributionId.Parse("c1")))!.Version);
        Assert.Null(await read.Contributions.GetContributionAsync(ContributionId.Parse("c2"))); // the unit of work kept nothing
    }

    [Fact]
    public async Task ListAndOverdue_OrderedFilteredAndLimited()
    {
        var store = await StoreWithPoolsAsync();
        await using var unitOfWork = await store.BeginAsync();
        foreach (var (id, pool, due) in new[] { ("c3", "demo", 30), ("c1", "demo", 10), ("c2", "other", 20), ("c4", "demo", 20), ("c5", "demo", 100) })
        {
            Assert.True(await unitOfWork.Contributions.TryInsertContributionAsync(Contribution(id, pool, due)));
        }

        await unitOfWork.Contributions.UpdateContributionAsync(Contribution("c3", "demo", 30) with { Status = ContributionStatus.Paid }, 0);
        Assert.Equal(["c1", "c3", "c4", "c5"], (await unitOfWork.Contributions.ListPoolContributionsAsync(Demo, null, 10)).Select(c => c.Id.ToString()));
        Assert.Equal(["c4"], (await unitOfWork.Contributions.ListPoolContributionsAsync(Demo, ContributionId.Parse("c3"), 1)).Select(c => c.Id.ToString()));
        Assert.Equal(["c1", "c2", "c4"], (await unitOfWork.Contributions.GetOverdueContributionsAsync(Now.AddSeconds(30), 10)).Select(c => c.Id.ToString()));
        Assert.Equal(["c1"], (await unitOfWork.Contributions.GetOverdueContributionsAsync(Now.AddSeconds(30), 1)).Select(c => c.Id.ToString()));
    }

    [Fact]
    public async Task ListOwnerContributions_EveryPoolOrderedByIdPagedAndOnlyThatOwner()
    {
        var store = await StoreWithPoolsAsync();
        var bob = Address.Parse("0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc");
        await using var unitOfWork = await store.BeginAsync();
        foreach (var (id, pool, owner) in new[] { ("b2", "other", bob), ("a1", "demo", bob), ("a2", "demo", Address.Zero), ("b1", "demo", bob), ("c9", "other", Address.Zero) })
        {
            Assert.True(await unitOfWork.Contributions.TryInsertContributionAsync(Contribution(id, pool) with { Owner = owner }));
        }

        Assert.Equal(["a1", "b1", "b2"], (await unitOfWork.Contributions.ListOwnerContributionsAsync(bob, null, 10)).Select(c => c.Id.ToString()));
        Assert.Equal(["b1"], (await unitOfWork.Contributions.ListOwnerContributionsAsync(bob, ContributionId.Parse("a1"), 1)).Select(c => c.Id.ToString()));
        Assert.Empty(await unitOfWork.Contributions.ListOwnerContributionsAsync(bob, ContributionId.Parse("b2"), 10));
        Assert.Empty(await unitOfWork.Contributions.ListOwnerContributionsAsync(Address.Parse("0x90f79bf6eb2c4f870365e785982e1f101e93b906"), null, 10));
    }

    [Fact]
    public async Task DisposeWithoutCommit_KeepsNoContributionChange()
    {
        var store = await StoreWithPoolsAsync();
        await using (var setup = await store.BeginAsync())
        {
            Assert.True(await setup.Contributions.TryInsertContributionAsync(Contribution("kept")));
            await setup.CommitAsync();
        }

        await using (var discarded = await store.BeginAsync())
        {
            Assert.True(await discarded.Contributions.TryInsertContributionAsync(Contribution("gone")));
            await discarded.Contributions.UpdateContributionAsync(Contribution("kept") with { Status = ContributionStatus.Canceled }, 0);
        }

        await using var check = await store.BeginAsync();
        Assert.Null(await check.Contributions.GetContributionAsync(ContributionId.Parse("gone")));
        Assert.Equal(Contribution("kept"), await check.Contributions.GetContributionAsync(ContributionId.Parse("kept")));
    }
}

public sealed class InMemoryContributionStoreTests() : ContributionStoreConformanceTests(new InMemoryStoreFactory());

public sealed class SqliteContributionStoreTests() : ContributionStoreConformanceTests(new SqliteStoreFactory());

[Collection(PostgresCollection.Name)]
public sealed class PostgresContributionStoreTests(PostgresServerFixture server) : ContributionStoreConformanceTests(new PostgresStoreFactory(server));
