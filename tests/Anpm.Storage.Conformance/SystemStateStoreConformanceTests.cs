using Anpm.Abstractions;

namespace Anpm.Storage.Conformance;

/// <summary>The system state: the initial state, optimistic versions from the first write on, round trips, atomicity.</summary>
public abstract class SystemStateStoreConformanceTests(StoreFactory factory) : ConformanceSuite(factory)
{
    private static readonly Address Admin = Address.Parse("0x70997970c51812dc3a010c7d01b50e0d17dc79c8");

    [Fact]
    public async Task NeverChanged_ReadsTheInitialState()
    {
        var store = await Factory.CreateAsync();
        await using var unitOfWork = await store.BeginAsync();
        Assert.Equal(SystemState.Initial, await unitOfWork.System.GetSystemStateAsync());
        Assert.Equal((false, 0L, (Address?)null, ""), (SystemState.Initial.Paused, SystemState.Initial.Version, SystemState.Initial.ChangedBy, SystemState.Initial.Reason));
    }

    [Fact]
    public async Task Update_WithVersion_RoundTripsEveryField_StaleRefused()
    {
        var store = await Factory.CreateAsync();
        var paused = new SystemState { Paused = true, ChangedAt = Now, ChangedBy = Admin, Reason = "incident #1 — ünïcode" };
        await using (var write = await store.BeginAsync())
        {
            await write.System.UpdateSystemStateAsync(paused with { Version = 99 }, 0);
            await RefusedByOrAfterAsync<AnpmConcurrencyException>(write, async () => await write.System.UpdateSystemStateAsync(paused, 0));
            await write.CommitAsync();
        }

        await using (var read = await store.BeginAsync())
        {
            Assert.Equal(paused with { Version = 1 }, await read.System.GetSystemStateAsync());
            var resumed = new SystemState { Paused = false, ChangedAt = Now.AddHours(1), ChangedBy = null, Reason = string.Empty };
            await RefusedByOrAfterAsync<AnpmConcurrencyException>(read, async () => await read.System.UpdateSystemStateAsync(resumed, 0));
            await RefusedByOrAfterAsync<AnpmConcurrencyException>(read, async () => await read.System.UpdateSystemStateAsync(resumed, 2));
            await read.System.UpdateSystemStateAsync(resumed, 1);
            Assert.Equal(resumed with { Version = 2 }, await read.System.GetSystemStateAsync());
            await read.CommitAsync();
        }

        var reopened = await Factory.OpenAnotherInstanceAsync(store);
        await using var again = await reopened.BeginAsync();
        Assert.Equal(2, (await again.System.GetSystemStateAsync()).Version);
    }

    [Fact]
    public async Task DisposeWithoutCommit_KeepsNoChange()
    {
        var store = await Factory.CreateAsync();
        await using (var discarded = await store.BeginAsync())
        {
            await discarded.System.UpdateSystemStateAsync(new SystemState { Paused = true, ChangedAt = Now, ChangedBy = Admin }, 0);
        }

        await using var check = await store.BeginAsync();
        Assert.Equal(SystemState.Initial, await check.System.GetSystemStateAsync());
    }

    [Fact]
    public async Task ConcurrentFirstWrites_ExactlyOneWins()
    {
        var first = await Factory.CreateAsync();
        var second = await Factory.OpenAnotherInstanceAsync(first);
        var results = await Task.WhenAll(Enumerable.Range(0, 6).Select(i => Task.Run(async () =>
        {
            try
            {
                var unitOfWork = await (i % 2 == 0 ? first : second).BeginAsync();
                await using (unitOfWork)
                {
                    await unitOfWork.System.UpdateSystemStateAsync(new SystemState { Paused = true, ChangedAt = Now, Reason = "writer " + i }, 0);
                    await unitOfWork.CommitAsync();
                    return true;
                }
            }
            catch (AnpmConcurrencyException)
            {
                return false;
            }
        })));
        Assert.Single(results, won => won);
        await using var check = await first.BeginAsync();
        Assert.Equal(1, (await check.System.GetSystemStateAsync()).Version);
    }
}

public sealed class InMemorySystemStateStoreTests() : SystemStateStoreConformanceTests(new InMemoryStoreFactory());

public sealed class SqliteSystemStateStoreTests() : SystemStateStoreConformanceTests(new SqliteStoreFactory());

[Collection(PostgresCollection.Name)]
public sealed class PostgresSystemStateStoreTests(PostgresServerFixture server) : SystemStateStoreConformanceTests(new PostgresStoreFactory(server));
