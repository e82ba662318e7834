using Anpm.Abstractions;
using Anpm.Credits;
using Anpm.Storage.InMemory;
using Anpm.Storage.Postgres;
using Anpm.Storage.Sqlite;
using Anpm.Testing;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using Microsoft.Extensions.Options;

namespace Anpm.Benchmarks;

/// <summary>
/// Buy-Credits token notices applied one per unit of work on each store, beside a single ledger transfer on the same
/// store in the same run (the baseline). A notice is one idempotency read, the rate in force, the revenue checkpoint, two
/// ledger transfers (token to the day's revenue, credits to the buyer) and the notice's record, all in one unit of work.
/// </summary>
[Config(typeof(Config))]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByParams)]
public class BuyCreditsBenchmarks
{
    private static readonly TransferKind Kind = TransferKind.Parse("bench");
    private PostgresTestServer? _server;
    private string _folder = string.Empty;
    private IAnpmStore _store = null!;
    private Ledger _ledger = null!;
    private TokenNoticeProcessor _notices = null!;
    private Address[] _buyers = [];
    private long _next;

    [Params("InMemory", "Sqlite", "Postgres")]
    public string Store { get; set; } = "InMemory";

    [GlobalSetup]
    public async Task SetupAsync()
    {
        _folder = Directory.CreateTempSubdirectory("anpm-bench-credits-").FullName;
        if (Store == "Postgres")
        {
            _server = await PostgresTestServer.StartAsync();
        }

        _store = Store switch
        {
            "Postgres" => new PostgresAnpmStore(Options.Create(new PostgresStoreOptions { ConnectionString = _server!.ConnectionString, Schema = "credits" }), TimeProvider.System),
            "Sqlite" => new SqliteAnpmStore(Options.Create(new SqliteStoreOptions { ConnectionString = $"Data Source={Path.Combine(_folder, "credits.db")};Pooling=false" }), TimeProvider.System),
            _ => new InMemoryAnpmStore(),
        };
        _ledger = new Ledger(_store, Options.Create(new LedgerOptions()), TimeProvider.System);
        var outbox = new Outbox(_store, _ledger, new NoGateway(), Options.Create(new OutboxOptions()), TimeProvider.System);
        var credits = new CreditService(_store, _ledger, outbox, Options.Create(new CreditOptions()), TimeProvider.System);
        _notices = new TokenNoticeProcessor(_store, _ledger, outbox, TimeProvider.System, [credits]);
        await credits.SetExchangeRateAsync(Address.Zero, new TokenAmount(1000), new TokenAmount(1_000_000_000_000), effectiveAt: null);
        _buyers = [.. Enumerable.Range(1, 50).Select(i => Address.FromBytes([.. BitConverter.GetBytes((long)i), .. new byte[12]]))];
        await _ledger.CreateAccountsAsync([new NewAccount(AccountId.Parse("mint"), WellKnownAssets.Credit, AccountFlags.None),
            .. _buyers.Select(b => new NewAccount(AccountId.Parse("bench:" + b), WellKnownAssets.Credit, AccountFlags.None))]);
        await _notices.ApplyAsync(Notice()); // warms the system accounts and the revenue checkpoint
    }

    [GlobalCleanup]
    public async Task CleanupAsync()
    {
        if (_store is IAsyncDisposable disposable)
        {
            await disposable.DisposeAsync();
        }

        if (_server is not null)
        {
            await _server.DisposeAsync();
        }

        Directory.Delete(_folder, recursive: true);
    }

    [Benchmark(Baseline = true)]
    public async Task LedgerTransfer()
    {
        var n = Interlocked.Increment(ref _next);
        var result = await _ledger.CreateTransferAsync(new TransferRequest
        {
            Id = TransferId.Parse("t" + n),
            DebitAccountId = AccountId.Parse("mint"),
            CreditAccountId = AccountId.Parse("bench:" + _buyers[n % _buyers.Length]),
            Asset = WellKnownAssets.Credit,
            Amount = new TokenAmount(1),
            Kind = Kind,
        });
        if (result != CreateTransferResult.Created)
        {
            throw new InvalidOperationException(result.ToString());
        }
    }

    [Benchmark]
    public async Task BuyCreditsNotice()
    {
        var outcome = await _notices.ApplyAsync(Notice());
        if (outcome.Outcome != "credits-bought:1")
        {
            throw new InvalidOperationException(outcome.Outcome);
        }
    }

    private TokenNotice Notice()
    {
        var n = Interlocked.Increment(ref _next);
        return new TokenNotice
        {
            MessageId = "n" + n,
            Sender = _buyers[n % _buyers.Length],
            Quantity = new TokenAmount(1_000_000_000),
            Action = "Buy-Credits",
            PoolId = string.Empty,
            Reference = string.Empty,
            ReceivedAt = default,
            Outcome = string.Empty,
        };
    }

    private sealed class NoGateway : ITokenGateway
    {
        public ValueTask<GatewaySendResult> SendAsync(OutgoingTransfer transfer, CancellationToken cancellationToken = default) =>
            new(new GatewaySendResult(GatewaySendStatus.RetryLater));
    }

    private sealed class Config : ManualConfig
    {
        public Config() => AddJob(Job.Default
            .WithWarmupCount(2)
            .WithIterationCount(12)
            .WithInvocationCount(256)
            .WithUnrollFactor(1)
            .WithId("Credits"));
    }
}
