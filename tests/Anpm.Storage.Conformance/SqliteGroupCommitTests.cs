using Anpm.Abstractions;
using Anpm.Storage.Sqlite;
using Microsoft.Extensions.Options;

namespace Anpm.Storage.Conformance;

/// <summary>
/// SQLite's group commit: a unit of work that commits while another writer waits shares that writer's transaction and
/// flush; its commit returns only once the group is on disk; a member that ends without committing undoes only its own
/// work.
/// </summary>
public sealed class SqliteGroupCommitTests : IAsyncLifetime
{
    private readonly string _folder = Directory.CreateTempSubdirectory("anpm-group-").FullName;
    private SqliteAnpmStore _store = null!;

    public Task InitializeAsync()
    {
        _store = new SqliteAnpmStore(Options.Create(new SqliteStoreOptions { ConnectionString = $"Data Source={Path.Combine(_folder, "g.db")};Pooling=false", GroupCommitMaxDelayMs = 1_000 }), TimeProvider.System);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _store.DisposeAsync();
        Directory.Delete(_folder, recursive: true);
    }

    private async Task<long?> CheckpointAsync(string name) =>
        (await _store.RunReadAsync(name, static (u, n, c) => u.Checkpoints.GetCheckpointAsync(n, cancellationToken: c)))?.Value;

    [Fact]
    public async Task CommitWhileAWriterWaits_JoinsItsGroup_DurableOnlyWithIt_AndAFailingMemberUndoesOnlyItsOwnWork()
    {
        await _store.MigrateAsync();
        var first = await _store.BeginAsync();
        Assert.True(await first.Checkpoints.TryInsertCheckpointAsync("kept", 1));
        var second = _store.BeginAsync().AsTask(); // waits for the writer
        Assert.False(second.IsCompleted);

        // The first commits while the second waits: its group stays open for the second, so its commit is not yet durable.
        var firstCommit = first.CommitAsync().AsTask();
        var next = await second;
        Assert.False(firstCommit.IsCompleted);
        Assert.Null(await CheckpointAsync("kept")); // a reader sees nothing of the open group

        // The second sees the first's write (one transaction), writes, and ends without committing: only its work goes.
        Assert.Equal(1, (await next.Checkpoints.GetCheckpointAsync("kept"))!.Value);
        Assert.True(await next.Checkpoints.TryInsertCheckpointAsync("undone", 2));
        await next.DisposeAsync(); // no writer waits: the group commits now
        await firstCommit.WaitAsync(TimeSpan.FromSeconds(60));
        await first.DisposeAsync();
        Assert.Equal(1, await CheckpointAsync("kept"));
        Assert.Null(await CheckpointAsync("undone"));

        // After a reopen (another process), the first's commit is there.
        await using var reopened = new SqliteAnpmStore(Options.Create(new SqliteStoreOptions { ConnectionString = $"Data Source={Path.Combine(_folder, "g.db")};Pooling=false" }), TimeProvider.System);
        Assert.Equal(1, (await reopened.RunReadAsync(0, static (u, _, c) => u.Checkpoints.GetCheckpointAsync("kept", cancellationToken: c)))!.Value);
    }

    [Fact]
    public async Task MemberEndingWithoutCommit_AfterAKeptOne_ReturnsOnlyWithTheGroup_AloneAtOnce()
    {
        await _store.MigrateAsync();
        var first = await _store.BeginAsync();
        Assert.True(await first.Checkpoints.TryInsertCheckpointAsync("paid", 1));
        var second = _store.BeginAsync().AsTask();
        var firstCommit = first.CommitAsync().AsTask();
        var next = await second;

        // The second answers from the first's write (as a replay would) and ends without writing while a third writer
        // waits: its answer rests on a write not yet on disk, so it returns only with the group.
        Assert.Equal(1, (await next.Checkpoints.GetCheckpointAsync("paid"))!.Value);
        var third = _store.BeginAsync().AsTask();
        var secondEnd = next.DisposeAsync().AsTask();
        var last = await third;
        var (secondEndedEarly, firstCommittedEarly) = (secondEnd.IsCompleted, firstCommit.IsCompleted);
        await last.DisposeAsync(); // nobody waits: the group commits
        await Task.WhenAll(firstCommit, secondEnd).WaitAsync(TimeSpan.FromSeconds(60));
        Assert.False(secondEndedEarly);
        Assert.False(firstCommittedEarly);
        await first.DisposeAsync();
        Assert.Equal(1, await CheckpointAsync("paid"));

        // A member that ends without committing in a group with nothing kept before it returns at once.
        var alone = await _store.BeginAsync();
        var waiting = _store.BeginAsync().AsTask();
        Assert.True(alone.DisposeAsync().IsCompleted);
        await (await waiting).DisposeAsync();
    }

    [Fact]
    public async Task ManyWriters_EachCommitAcknowledgedOnlyOnDisk_AllKept()
    {
        var writes = await Task.WhenAll(Enumerable.Range(0, 64).Select(i => _store.RunAsync(i, static async (u, n, c) =>
            await u.Checkpoints.TryInsertCheckpointAsync("w" + n, n, c)).AsTask()));
        Assert.All(writes, Assert.True);
        await using var reopened = new SqliteAnpmStore(Options.Create(new SqliteStoreOptions { ConnectionString = $"Data Source={Path.Combine(_folder, "g.db")};Pooling=false" }), TimeProvider.System);
        for (var i = 0; i < 64; i++)
        {
            Assert.Equal(i, (await reopened.RunReadAsync(i, static (u, n, c) => u.Checkpoints.GetCheckpointAsync("w" + n, cancellationToken: c)))!.Value);
        }
    }
}
