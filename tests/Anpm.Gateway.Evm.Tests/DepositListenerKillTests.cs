using System.Diagnostics;
using System.Globalization;
using System.Numerics;
using Anpm.Abstractions;
using Anpm.Credits;
using Anpm.Storage.Sqlite;
using Anpm.Testing;
using Microsoft.Extensions.Options;

namespace Anpm.Gateway.Evm.Tests;

/// <summary>
/// The deposit listener as a real process on a SQLite file, killed with SIGKILL at random moments while it credits
/// (between and inside its units of work) and started again: every final deposit is credited exactly once, the credits
/// equal the custody's token balance, and the ledger balances.
/// </summary>
public sealed class DepositListenerKillTests : IAsyncLifetime
{
    private readonly string _folder = Directory.CreateTempSubdirectory("anpm-evm-kill-").FullName;
    private TestChain _chain = null!;

    public async Task InitializeAsync() => _chain = await TestChain.StartAsync();

    public async Task DisposeAsync()
    {
        await _chain.DisposeAsync();
        Directory.Delete(_folder, recursive: true);
    }

    [Fact]
    public async Task KilledAtRandomMomentsAndRestarted_CreditsEveryFinalDepositOnce()
    {
        var seed = TestSeed.Next();
        var random = new Random(seed);
        var token = await _chain.DeployAsync("TestToken");
        var custody = (await _chain.WalletAsync()).Address;
        var payer = await _chain.WalletAsync();
        await TestChain.SendAsync(_chain.Owner, token, "mint", payer.Address, new BigInteger(10_000_000));
        var deposits = 24;
        for (var i = 0; i < deposits; i++)
        {
            await TestChain.SendAsync(payer, token, "transfer", custody, new BigInteger(random.Next(1, 100_000)));
            await _chain.Node.MineAsync(random.Next(0, 6));
        }

        await _chain.Node.MineAsync(2);
        var path = Path.Combine(_folder, "anpm.db");
        var store = new SqliteAnpmStore(Options.Create(new SqliteStoreOptions { ConnectionString = $"Data Source={path};Pooling=false" }), TimeProvider.System);
        await TestRates.SetSinceYesterdayAsync(store, 1, 1);
        await store.DisposeAsync();

        // Killed six times at a random moment (0 to 400 ms after it is ready: before, between or inside its units of work,
        // one block each; runs showed kills at cursors -1, 2, 38, 73 of ~100), then run until it has caught up.
        var lastFinal = await _chain.Node.BlockNumberAsync() - 1;
        var progress = new List<long>();
        for (var kill = 0; kill < 6; kill++)
        {
            progress.Add(await RunAsync(path, custody, token, killAfterMilliseconds: random.Next(0, 400)));
        }

        await RunAsync(path, custody, token, untilCursor: lastFinal);

        store = new SqliteAnpmStore(Options.Create(new SqliteStoreOptions { ConnectionString = $"Data Source={path};Pooling=false" }), TimeProvider.System);
        try
        {
            var (ledger, _, credits, _) = CreditPipeline.Over(store);
            var (account, _) = await credits.GetBalancesAsync(Address.Parse(payer.Address));
            Assert.True((BigInteger)account.BaseUnits == await _chain.BalanceAsync(token, custody),
                $"seed {seed}: credits {account} against the custody's balance (cursors at the kills: {string.Join(", ", progress)})");
            await LedgerAssert.InvariantHoldsAsync(ledger);
        }
        finally
        {
            await store.DisposeAsync();
        }
    }

    // Starts the listener process and SIGKILLs it `killAfterMilliseconds` after it is ready, or once a poll reaches
    // `untilCursor`. Returns the highest cursor it reported (-1: none).
    private async Task<long> RunAsync(string path, string custody, Deployed token, int killAfterMilliseconds = int.MaxValue, long? untilCursor = null)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in new[]
        {
            Path.Combine(AppContext.BaseDirectory, "Anpm.Gateway.Evm.ListenerProcess.dll"), path, _chain.Node.Url,
            _chain.Node.ChainId.ToString(CultureInfo.InvariantCulture), token.Address, custody,
        })
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("The listener process did not start.");
        var errors = process.StandardError.ReadToEndAsync();
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var caughtUp = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var cursor = -1L;
        var reading = Task.Run(async () =>
        {
            while (await process.StandardOutput.ReadLineAsync() is { } line)
            {
                if (line == "ready")
                {
                    ready.TrySetResult();
                }
                else if (line.StartsWith("poll ", StringComparison.Ordinal) || line.StartsWith("cursor ", StringComparison.Ordinal))
                {
                    var reported = long.Parse(line.Split(' ')[line[0] == 'p' ? 2 : 1], CultureInfo.InvariantCulture);
                    Interlocked.Exchange(ref cursor, Math.Max(Interlocked.Read(ref cursor), reported));
                    if (untilCursor is { } until && reported >= until)
                    {
                        caughtUp.TrySetResult();
                    }
                }
            }
        });
        try
        {
            await Task.WhenAny(ready.Task, process.WaitForExitAsync(), Task.Delay(TimeSpan.FromSeconds(60)));
            Assert.True(ready.Task.IsCompleted, "The listener process did not become ready: " + (process.HasExited ? await errors : "timed out"));
            if (untilCursor is null)
            {
                await Task.Delay(killAfterMilliseconds);
            }
            else
            {
                await Task.WhenAny(caughtUp.Task, process.WaitForExitAsync(), Task.Delay(TimeSpan.FromSeconds(60)));
                Assert.True(caughtUp.Task.IsCompleted, "The listener process did not catch up: " + (process.HasExited ? await errors : "timed out"));
            }

            Assert.False(process.HasExited, "The listener process stopped by itself: " + (process.HasExited ? await errors : string.Empty));
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(); // SIGKILL: no chance to finish a commit
            }

            await process.WaitForExitAsync();
            await reading;
        }

        return Interlocked.Read(ref cursor);
    }
}
