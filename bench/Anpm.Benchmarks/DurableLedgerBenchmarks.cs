using Anpm.Abstractions;
using Anpm.Credits;
using Anpm.Storage.Postgres;
using Anpm.Storage.Sqlite;
using Anpm.Testing;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using Microsoft.Extensions.Options;

namespace Anpm.Benchmarks;

/// <summary>
/// Durable transfers on SQLite (WAL, synchronous=FULL) and PostgreSQL (fsync on), by 1 and 8 concurrent writers, single
/// or 8 to a unit of work, each beside the raw ADO.NET baseline doing the same row work over the same tables in the same
/// run. Every invocation moves 64 transfers, so the reported time is per transfer.
/// </summary>
[Config(typeof(Config))]
[CategoriesColumn]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory, BenchmarkLogicalGroupRule.ByParams)]
public class DurableLedgerBenchmarks
{
    private const int TransfersPerInvoke = 64;
    private const int UsersPerWriter = 50;
    private static readonly TransferKind Kind = TransferKind.Parse("bench");

    private PostgresTestServer? _server;
    private string _folder = string.Empty;
    private IAnpmStore _store = null!;
    private Ledger _ledger = null!;
    private IRawLedger _raw = null!;
    private long _next;

    [Params("Sqlite", "Postgres")]
    public string Store { get; set; } = "Sqlite";

    [Params(1, 8)]
    public int Writers { get; set; } = 1;

    [GlobalSetup]
    public async Task SetupAsync()
    {
        _folder = Directory.CreateTempSubdirectory("anpm-bench-").FullName;
        if (Store == "Postgres")
        {
            _server = await PostgresTestServer.StartAsync();
        }

        // Ledger and baseline each get a fresh, identically funded database made by the ledger's own migrations.
        (_store, _ledger) = await OpenFundedAsync("ledger");
        var (baselineStore, _) = await OpenFundedAsync("raw");
        await ((IAsyncDisposable)baselineStore).DisposeAsync();
        _raw = Store == "Postgres"
            ? new RawPostgresLedger(_server!.ConnectionString, "raw")
            : new RawSqliteLedger(Path.Combine(_folder, "raw.db"));
    }

    [GlobalCleanup]
    public async Task CleanupAsync()
    {
        await _raw.DisposeAsync();
        await ((IAsyncDisposable)_store).DisposeAsync();
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }

        Directory.Delete(_folder, recursive: true);
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = TransfersPerInvoke)]
    [BenchmarkCategory("Single")]
    public Task Raw_SingleTransfers() => RunWritersAsync(1, batch => _raw.TransferAsync(batch));

    [Benchmark(OperationsPerInvoke = TransfersPerInvoke)]
    [BenchmarkCategory("Single")]
    public Task Ledger_SingleTransfers() => RunWritersAsync(1, LedgerAsync);

    [Benchmark(Baseline = true, OperationsPerInvoke = TransfersPerInvoke)]
    [BenchmarkCategory("Batch8")]
    public Task Raw_BatchedTransfers() => RunWritersAsync(8, batch => _raw.TransferAsync(batch));

    [Benchmark(OperationsPerInvoke = TransfersPerInvoke)]
    [BenchmarkCategory("Batch8")]
    public Task Ledger_BatchedTransfers() => RunWritersAsync(8, LedgerAsync);

    private async Task LedgerAsync(IReadOnlyList<(string Id, string Debit, string Credit, ulong Amount)> batch)
    {
        var requests = batch.Select(t => new TransferRequest
        {
            Id = TransferId.Parse(t.Id),
            DebitAccountId = AccountId.Parse(t.Debit),
            CreditAccountId = AccountId.Parse(t.Credit),
            Asset = WellKnownAssets.Apus,
            Amount = new TokenAmount(t.Amount),
            Kind = Kind,
        }).ToArray();
        var results = await _ledger.CreateTransfersAsync(requests);
        if (results.Any(r => r != CreateTransferResult.Created))
        {
            throw new InvalidOperationException("The ledger refused a transfer: " + string.Join(", ", results));
        }
    }

    // Each writer moves money among its own users, so writers measure throughput rather than waiting on each other's rows.
    private Task RunWritersAsync(int batchSize, Func<IReadOnlyList<(string Id, string Debit, string Credit, ulong Amount)>, Task> apply) =>
        Task.WhenAll(Enumerable.Range(0, Writers).Select(writer => Task.Run(async () =>
        {
            var perWriter = TransfersPerInvoke / Writers;
            for (var done = 0; done < perWriter; done += batchSize)
            {
                var batch = new (string, string, string, ulong)[Math.Min(batchSize, perWriter - done)];
                for (var i = 0; i < batch.Length; i++)
                {
                    var n = Interlocked.Increment(ref _next);
                    batch[i] = ($"t{n}", User(writer, (int)(n % UsersPerWriter)), User(writer, (int)((n + 1) % UsersPerWriter)), 1);
                }

                await apply(batch);
            }
        })));

    private static string User(int writer, int user) => $"user-{writer}-{user}";

    private async Task<(IAnpmStore Store, Ledger Ledger)> OpenFundedAsync(string name)
    {
        IAnpmStore store = Store == "Postgres"
            ? new PostgresAnpmStore(Options.Create(new PostgresStoreOptions { ConnectionString = _server!.ConnectionString, Schema = name }), TimeProvider.System)
            : new SqliteAnpmStore(Options.Create(new SqliteStoreOptions { ConnectionString = $"Data Source={Path.Combine(_folder, name + ".db")};Pooling=false" }), TimeProvider.System);
        var ledger = new Ledger(store, Options.Create(new LedgerOptions()), TimeProvider.System);
        var users = Enumerable.Range(0, 8).SelectMany(w => Enumerable.Range(0, UsersPerWriter).Select(u => User(w, u))).ToArray();
        var accounts = new List<NewAccount> { new(AccountId.Parse("mint"), WellKnownAssets.Apus, AccountFlags.None) };
        accounts.AddRange(users.Select(u => new NewAccount(AccountId.Parse(u), WellKnownAssets.Apus, AccountFlags.DebitsMustNotExceedCredits)));
        await ledger.CreateAccountsAsync(accounts);
        var funding = users.Select(u => new TransferRequest
        {
            Id = TransferId.Parse("fund-" + u),
            DebitAccountId = AccountId.Parse("mint"),
            CreditAccountId = AccountId.Parse(u),
            Asset = WellKnownAssets.Apus,
            Amount = new TokenAmount(1_000_000_000),
            Kind = Kind,
        }).ToArray();
        if ((await ledger.CreateTransfersAsync(funding)).Any(r => r != CreateTransferResult.Created))
        {
            throw new InvalidOperationException("Funding failed.");
        }

        return (store, ledger);
    }

    private sealed class Config : ManualConfig
    {
        public Config() => AddJob(Job.Default
            .WithWarmupCount(2)
            .WithIterationCount(12)
            .WithInvocationCount(24)
            .WithUnrollFactor(1)
            .WithId("Durable"));
    }
}
