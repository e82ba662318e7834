using System.Text;
using System.Text.Json;
using Anpm.Abstractions;
using Anpm.Credits;
using Anpm.Pools;
using Anpm.Signing;
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
/// One inference round trip without inference — add a task (credit hold), an oracle claims it (lease), signs and returns
/// a result (attestation verified, hold posted) — three units of work, on each store, beside a single ledger transfer on
/// the same store in the same run (the baseline).
/// </summary>
[Config(typeof(Config))]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByParams)]
public class InferenceBenchmarks
{
    private const string ModelHash = "0x1111111111111111111111111111111111111111111111111111111111111111";
    private const string Output = "{\"outputs\":{\"label\":{\"type\":\"int64\",\"shape\":[1],\"data\":\"BwAAAAAAAAA=\"}}}";
    private static readonly PoolId Pool = PoolId.Parse("bench");
    private static readonly Address User = Address.Parse("0x70997970c51812dc3a010c7d01b50e0d17dc79c8");
    private static readonly string OutputHash = "0x" + Convert.ToHexStringLower(Keccak256.Hash(Encoding.UTF8.GetBytes(Output)));
    private PostgresTestServer? _server;
    private string _folder = string.Empty;
    private IAnpmStore _store = null!;
    private Ledger _ledger = null!;
    private InferenceService _inference = null!;
    private SignedRequestVerifier _verifier = null!;
    private EthereumKey _oracle = null!;
    private long _next;

    [Params("InMemory", "Sqlite", "Postgres")]
    public string Store { get; set; } = "InMemory";

    [GlobalSetup]
    public async Task SetupAsync()
    {
        _folder = Directory.CreateTempSubdirectory("anpm-bench-inference-").FullName;
        if (Store == "Postgres")
        {
            _server = await PostgresTestServer.StartAsync();
        }

        _store = Store switch
        {
            "Postgres" => new PostgresAnpmStore(Options.Create(new PostgresStoreOptions { ConnectionString = _server!.ConnectionString, Schema = "inference" }), TimeProvider.System),
            "Sqlite" => new SqliteAnpmStore(Options.Create(new SqliteStoreOptions { ConnectionString = $"Data Source={Path.Combine(_folder, "inference.db")};Pooling=false" }), TimeProvider.System),
            _ => new InMemoryAnpmStore(),
        };
        _ledger = new Ledger(_store, Options.Create(new LedgerOptions()), TimeProvider.System);
        var registry = new PoolRegistry(_store, TimeProvider.System);
        _verifier = new SignedRequestVerifier(Options.Create(new SignedRequestOptions { VerifyingContract = "0x5fbdb2315678afecb367f032d93f642f64180aa3" }.AddMessageTypes(AnpmOracleMessages.All)), TimeProvider.System);
        _inference = new InferenceService(_store, _ledger, registry, _verifier, Options.Create(new InferenceOptions()), TimeProvider.System);
        _oracle = EthereumKey.Generate();
        await registry.CreateAsync(Pool, User, "{\"name\":\"Bench\",\"inference\":{\"models\":[{\"id\":\"digits\",\"sha256\":\"" + ModelHash + "\",\"price\":\"1\"}],\"oracles\":[\"" + _oracle.Address + "\"]}}");
        await _ledger.CreateAccountsAsync([new NewAccount(SystemAccounts.Issuance(WellKnownAssets.Credit), WellKnownAssets.Credit, AccountFlags.None),
            new NewAccount(CreditAccounts.InPool(Pool, User), WellKnownAssets.Credit, AccountFlags.DebitsMustNotExceedCredits),
            new NewAccount(AccountId.Parse("bench:target"), WellKnownAssets.Credit, AccountFlags.None)]);
        await _ledger.CreateTransferAsync(new TransferRequest
        {
            Id = TransferId.Parse("fund"),
            DebitAccountId = SystemAccounts.Issuance(WellKnownAssets.Credit),
            CreditAccountId = CreditAccounts.InPool(Pool, User),
            Asset = WellKnownAssets.Credit,
            Amount = new TokenAmount(1_000_000_000),
            Kind = TransferKind.Parse("purchase"),
        });
    }

    [GlobalCleanup]
    public async Task CleanupAsync()
    {
        _oracle.Dispose();
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
        var result = await _ledger.CreateTransferAsync(new TransferRequest
        {
            Id = TransferId.Parse("t" + Interlocked.Increment(ref _next)),
            DebitAccountId = SystemAccounts.Issuance(WellKnownAssets.Credit),
            CreditAccountId = AccountId.Parse("bench:target"),
            Asset = WellKnownAssets.Credit,
            Amount = new TokenAmount(1),
            Kind = TransferKind.Parse("bench"),
        });
        if (result != CreateTransferResult.Created)
        {
            throw new InvalidOperationException(result.ToString());
        }
    }

    [Benchmark]
    public async Task AddClaimResult()
    {
        var added = await _inference.AddTaskAsync("r" + Interlocked.Increment(ref _next), User, Pool, "digits", "{\"inputs\":{}}", new TokenAmount(1));
        var claim = await _inference.ClaimAsync(_oracle.Address, Pool);
        if (added.Result != AddTaskResult.Added || claim.Result != ClaimTaskResult.Leased)
        {
            throw new InvalidOperationException($"{added.Result} {claim.Result}");
        }

        var lease = claim.Lease!;
        var signature = _oracle.SignHash(_verifier.Digest("TaskResult", JsonSerializer.SerializeToElement(new Dictionary<string, string>
        {
            ["oracle"] = _oracle.Address.ToString(), ["taskId"] = lease.TaskId, ["leaseId"] = lease.Id, ["modelHash"] = ModelHash, ["outputHash"] = OutputHash,
        }))).ToString();
        var result = await _inference.SubmitResultAsync(_oracle.Address, lease.TaskId, lease.Id, ModelHash, OutputHash, Output, signature);
        if (result.Result != TaskReportResult.Accepted)
        {
            throw new InvalidOperationException(result.Result + ": " + result.Error);
        }
    }

    private sealed class Config : ManualConfig
    {
        public Config() => AddJob(Job.Default
            .WithWarmupCount(2)
            .WithIterationCount(10)
            .WithInvocationCount(128)
            .WithUnrollFactor(1)
            .WithId("Inference"));
    }
}
