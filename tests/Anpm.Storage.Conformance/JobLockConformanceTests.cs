using Anpm.Abstractions;

namespace Anpm.Storage.Conformance;

/// <summary>Job locks: one holder per key, across every instance of the store.</summary>
public abstract class JobLockConformanceTests(StoreFactory factory) : ConformanceSuite(factory)
{
    private async Task<(IJobLockProvider First, IJobLockProvider Second)> TwoInstancesAsync()
    {
        var first = await Factory.CreateAsync();
        var second = await Factory.OpenAnotherInstanceAsync(first);
        return ((IJobLockProvider)first, (IJobLockProvider)second);
    }

    [Fact]
    public async Task TryAcquire_HeldKey_RefusedUntilReleased()
    {
        var (first, second) = await TwoInstancesAsync();
        var held = await first.TryAcquireAsync("daily-incentives:2026-11-21");
        Assert.NotNull(held);
        Assert.Null(await first.TryAcquireAsync("daily-incentives:2026-11-21"));
        Assert.Null(await second.TryAcquireAsync("daily-incentives:2026-11-21"));
        await held.DisposeAsync();
        await held.DisposeAsync();
        var again = await second.TryAcquireAsync("daily-incentives:2026-11-21");
        Assert.NotNull(again);
        await again.DisposeAsync();
    }

    [Fact]
    public async Task TryAcquire_DifferentKeys_BothHeld()
    {
        var (first, second) = await TwoInstancesAsync();
        await using var one = await first.TryAcquireAsync("revenue:2026-11-21");
        await using var other = await second.TryAcquireAsync("revenue:2026-11-22");
        Assert.NotNull(one);
        Assert.NotNull(other);
    }

    [Fact]
    public async Task TryAcquire_ManyContenders_ExactlyOneWins()
    {
        var (first, second) = await TwoInstancesAsync();
        var attempts = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => Task.Run(async () =>
            await (i % 2 == 0 ? first : second).TryAcquireAsync("sweep"))));
        Assert.Single(attempts, a => a is not null);
        foreach (var held in attempts.Where(a => a is not null))
        {
            await held!.DisposeAsync();
        }
    }

    [Fact]
    public async Task TryAcquire_BadKey_NamesTheProblem()
    {
        var (first, _) = await TwoInstancesAsync();
        await Assert.ThrowsAnyAsync<ArgumentException>(async () => await first.TryAcquireAsync(""));
        var error = await Assert.ThrowsAsync<ArgumentException>(async () => await first.TryAcquireAsync(new string('k', 201)));
        Assert.Contains("at most 200", error.Message, StringComparison.Ordinal);
    }
}

public sealed class InMemoryJobLockTests() : JobLockConformanceTests(new InMemoryStoreFactory());

public sealed class SqliteJobLockTests() : JobLockConformanceTests(new SqliteStoreFactory());

[Collection(PostgresCollection.Name)]
public sealed class PostgresJobLockTests(PostgresServerFixture server) : JobLockConformanceTests(new PostgresStoreFactory(server));
