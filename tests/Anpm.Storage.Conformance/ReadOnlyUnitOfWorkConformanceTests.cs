using Anpm.Abstractions;

namespace Anpm.Storage.Conformance;

/// <summary>
/// Read-only units of work: they see committed state only, refuse writes, hold one snapshot for all their reads, run
/// many at once, and — where the store serves readers apart — complete while a writing unit of work is held open.
/// </summary>
public abstract class ReadOnlyUnitOfWorkConformanceTests(StoreFactory factory) : ConformanceSuite(factory)
{
    private static readonly Address Admin = Address.Parse("0x70997970c51812dc3a010c7d01b50e0d17dc79c8");

    private static SystemState Paused(string reason) => new() { Paused = true, ChangedAt = Now, ChangedBy = Admin, Reason = reason };

    [Fact]
    public async Task Read_WhileAWriteIsHeldOpen_CompletesWithTheCommittedState()
    {
        var store = await Factory.CreateAsync();
        await store.RunAsync(0, static async (u, _, ct) =>
        {
            await u.System.UpdateSystemStateAsync(Paused("committed"), 0, ct);
            return 0;
        });

        var write = await store.BeginAsync();
        await using (write)
        {
            await write.System.UpdateSystemStateAsync(Paused("uncommitted") with { Paused = false }, 1);
            var read = store.RunReadAsync(0, static (u, _, ct) => u.System.GetSystemStateAsync(ct)).AsTask();
            if (Factory.ServesReadersBesideWriter)
            {
                // The read neither waits for the writer nor sees what it has not committed.
                var finished = await Task.WhenAny(read, Task.Delay(TimeSpan.FromSeconds(60)));
                Assert.Same(read, finished);
                Assert.Equal(("committed", true), ((await read).Reason, (await read).Paused));
                await write.CommitAsync();
            }
            else
            {
                // Readers take the writer's turn: the read waits, then sees the commit.
                await Task.Delay(100);
                Assert.False(read.IsCompleted);
                await write.CommitAsync();
                await write.DisposeAsync();
                Assert.Equal(("uncommitted", false), ((await read).Reason, (await read).Paused));
            }
        }

        Assert.Equal("uncommitted", (await store.RunReadAsync(0, static (u, _, ct) => u.System.GetSystemStateAsync(ct))).Reason);
    }

    [Fact]
    public async Task ReadOnly_RefusesWrites_AndCommittingKeepsNothing()
    {
        var store = await Factory.CreateAsync();
        await using (var read = await store.BeginReadAsync())
        {
            await Assert.ThrowsAsync<InvalidOperationException>(async () => await read.System.UpdateSystemStateAsync(Paused("no"), 0));
            await Assert.ThrowsAsync<InvalidOperationException>(async () => await read.Checkpoints.TryInsertCheckpointAsync("read-only", 1));
            await read.CommitAsync();
        }

        Assert.Equal(SystemState.Initial, await store.RunReadAsync(0, static (u, _, ct) => u.System.GetSystemStateAsync(ct)));
        Assert.Null(await store.RunReadAsync(0, static (u, _, ct) => u.Checkpoints.GetCheckpointAsync("read-only", cancellationToken: ct)));
    }

    [Fact]
    public async Task ReadOnly_HoldsOneSnapshot_WhileWritersCommit()
    {
        var store = await Factory.CreateAsync();
        if (!Factory.ServesReadersBesideWriter)
        {
            // No writer can commit while the reader holds the store's turn: the snapshot is trivially one.
            await using var only = await store.BeginReadAsync();
            var next = store.BeginAsync().AsTask();
            await Task.Delay(100);
            Assert.False(next.IsCompleted);
            await only.DisposeAsync();
            await (await next).DisposeAsync();
            return;
        }

        await using var read = await store.BeginReadAsync();
        Assert.Equal(SystemState.Initial, await read.System.GetSystemStateAsync());
        await store.RunAsync(0, static async (u, _, ct) =>
        {
            await u.System.UpdateSystemStateAsync(Paused("meanwhile"), 0, ct);
            return 0;
        });
        Assert.Equal(SystemState.Initial, await read.System.GetSystemStateAsync());
        Assert.Equal("meanwhile", (await store.RunReadAsync(0, static (u, _, ct) => u.System.GetSystemStateAsync(ct))).Reason);
    }

    [Fact]
    public async Task ManyReaders_AtOnce_AllComplete()
    {
        var store = await Factory.CreateAsync();
        await store.RunAsync(0, static async (u, _, ct) =>
        {
            await u.System.UpdateSystemStateAsync(Paused("many"), 0, ct);
            return 0;
        });
        var reads = await Task.WhenAll(Enumerable.Range(0, 40).Select(_ => store.RunReadAsync(0, static async (u, _, ct) =>
        {
            await Task.Yield();
            return (await u.System.GetSystemStateAsync(ct)).Reason;
        }).AsTask()));
        Assert.All(reads, reason => Assert.Equal("many", reason));
    }
}

public sealed class InMemoryReadOnlyUnitOfWorkTests() : ReadOnlyUnitOfWorkConformanceTests(new InMemoryStoreFactory());

public sealed class SqliteReadOnlyUnitOfWorkTests() : ReadOnlyUnitOfWorkConformanceTests(new SqliteStoreFactory());

[Collection(PostgresCollection.Name)]
public sealed class PostgresReadOnlyUnitOfWorkTests(PostgresServerFixture server) : ReadOnlyUnitOfWorkConformanceTests(new PostgresStoreFactory(server));
