using System.Diagnostics;
using Anpm.Abstractions;
using Anpm.Credits;
using Anpm.Testing;
using Xunit.Abstractions;

namespace Anpm.Storage.Conformance;

/// <summary>
/// A child process streams transfers into a durable store and is killed with SIGKILL at a random point of its stream
/// (after a random number of acknowledged transfers, while it keeps writing); the store, reopened, must hold every
/// acknowledged transfer, nothing half-applied, and a sound ledger.
/// </summary>
public abstract class CrashSafetyTests(ITestOutputHelper output)
{
    protected abstract string[] WriterArguments { get; }

    protected abstract IAnpmStore Reopen();

    [Fact]
    public async Task Writer_KilledAtRandomMoments_EveryAcknowledgedTransferKeptAndNothingHalfApplied()
    {
        var acknowledged = new List<string>();
        for (var round = 0; round < 3; round++)
        {
            acknowledged.AddRange(await RunAndKillAsync(Random.Shared.Next(100, 3000)));
        }

        output.WriteLine($"{acknowledged.Count} transfers acknowledged over 3 kills.");
        Assert.NotEmpty(acknowledged);
        var store = Reopen();
        try
        {
            var ledger = new Ledger(store, Microsoft.Extensions.Options.Options.Create(new LedgerOptions()), TimeProvider.System);
            foreach (var id in acknowledged)
            {
                Assert.True(await ledger.GetTransferAsync(TransferId.Parse(id)) is not null, $"Acknowledged transfer {id} is missing.");
            }

            await LedgerAssert.InvariantHoldsAsync(ledger);
            await LedgerAudit.AssertTotalsMatchTransfersAsync(ledger, ["mint", .. Enumerable.Range(0, 8).Select(i => "user-" + i)]);
        }
        finally
        {
            if (store is IAsyncDisposable disposable)
            {
                await disposable.DisposeAsync();
            }
        }
    }

    private async Task<List<string>> RunAndKillAsync(int killAfterAcks)
    {
        var writer = Path.Combine(AppContext.BaseDirectory, "Anpm.Storage.CrashWriter.dll");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(writer);
        foreach (var argument in WriterArguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("The writer did not start.");
        var acknowledged = new List<string>();
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var reading = Task.Run(async () =>
        {
            while (await process.StandardOutput.ReadLineAsync() is { } line)
            {
                if (line == "ready")
                {
                    ready.TrySetResult();
                }
                else if (line.StartsWith("ack ", StringComparison.Ordinal))
                {
                    lock (acknowledged)
                    {
                        acknowledged.Add(line[4..]);
                    }
                }
            }
        });
        var errors = process.StandardError.ReadToEndAsync();
        await Task.WhenAny(ready.Task, process.WaitForExitAsync(), Task.Delay(TimeSpan.FromSeconds(60)));
        if (!ready.Task.IsCompleted)
        {
            // Never leave a writer running behind a failed test.
            process.Kill();
            Assert.Fail("The writer did not become ready: " + await errors);
        }
        // Killed mid-stream: once it has acknowledged the chosen number of transfers (its next commits are in flight).
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!process.HasExited && DateTime.UtcNow < deadline && Count(acknowledged) < killAfterAcks)
        {
            await Task.Delay(5);
        }

        if (process.HasExited)
        {
            Assert.Fail("The writer stopped by itself: " + await errors);
        }

        // SIGKILL: no chance to finish a commit, flush or clean up.
        process.Kill();
        await process.WaitForExitAsync();
        await reading;
        lock (acknowledged)
        {
            return [.. acknowledged];
        }
    }

    private static int Count(List<string> acknowledged)
    {
        lock (acknowledged)
        {
            return acknowledged.Count;
        }
    }
}

public sealed class SqliteCrashSafetyTests(ITestOutputHelper output) : CrashSafetyTests(output), IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("anpm-crash-").FullName;

    private string DatabasePath => Path.Combine(_folder, "crash.db");

    protected override string[] WriterArguments => ["sqlite", DatabasePath];

    protected override IAnpmStore Reopen() => SqliteStoreFactory.Open(DatabasePath);

    public void Dispose() => Directory.Delete(_folder, recursive: true);
}

[Collection(PostgresCollection.Name)]
public sealed class PostgresCrashSafetyTests(PostgresServerFixture server, ITestOutputHelper output) : CrashSafetyTests(output)
{
    private readonly string _schema = "crash" + Guid.NewGuid().ToString("N")[..12];

    protected override string[] WriterArguments => ["postgres", server.Server.ConnectionString, _schema];

    protected override IAnpmStore Reopen() => PostgresStoreFactory.Open(server.Server.ConnectionString, _schema);
}
