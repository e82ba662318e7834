using Anpm.Abstractions;
using Anpm.Credits;
using Anpm.Storage.InMemory;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using Microsoft.Extensions.Options;

namespace Anpm.Benchmarks;

/// <summary>
/// The in-memory ledger beside a Dictionary-with-a-lock baseline doing the same checks, in the same run. Each category
/// (single transfer, linked batch of 8, pending then post) is one ratio. State is rebuilt before every iteration so both
/// sides work on equally sized maps.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(Config))]
[CategoriesColumn]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
public class LedgerBenchmarks
{
    private const int Users = 999;
    private static readonly AssetCode Asset = WellKnownAssets.Apus;
    private static readonly TransferKind Kind = TransferKind.Parse("bench");

    private readonly AccountId _mint = AccountId.Parse("mint");
    private readonly string[] _userNames = Enumerable.Range(0, Users).Select(i => "user-" + i).ToArray();
    private readonly AccountId[] _users;
    private Ledger _ledger = null!;
    private DictionaryLedger _baseline = null!;
    private long _next;

    public LedgerBenchmarks() => _users = _userNames.Select(AccountId.Parse).ToArray();

    // Each side rebuilds only its own state before every iteration, so neither measures the other's garbage.
    [IterationSetup(Targets = [nameof(Ledger_SingleTransfer), nameof(Ledger_LinkedBatchOf8), nameof(Ledger_PendingThenPost)])]
    public void SetupLedger()
    {
        _ledger = new Ledger(new InMemoryAnpmStore(), Options.Create(new LedgerOptions()), TimeProvider.System);
        var accounts = new List<NewAccount> { new(_mint, Asset, AccountFlags.None) };
        accounts.AddRange(_users.Select(u => new NewAccount(u, Asset, AccountFlags.DebitsMustNotExceedCredits)));
        _ledger.CreateAccountsAsync(accounts).AsTask().GetAwaiter().GetResult();

        // Fund every user so user-to-user transfers pass the balance check.
        for (var i = 0; i < Users; i++)
        {
            Check(_ledger.CreateTransferAsync(Plain("fund-" + i, _mint, _users[i], ulong.MaxValue)).AsTask().GetAwaiter().GetResult());
        }
    }

    [IterationSetup(Targets = [nameof(Dictionary_SingleTransfer), nameof(Dictionary_LinkedBatchOf8), nameof(Dictionary_PendingThenPost)])]
    public void SetupBaseline()
    {
        _baseline = new DictionaryLedger();
        _baseline.AddAccount("mint", Asset.Value!, mustNotGoNegative: false);
        foreach (var name in _userNames)
        {
            _baseline.AddAccount(name, Asset.Value!, mustNotGoNegative: true);
        }

        for (var i = 0; i < Users; i++)
        {
            Check(_baseline.Transfer("fund-" + i, "mint", _userNames[i], Asset.Value!, ulong.MaxValue));
        }
    }

    [Benchmark(Baseline = true)]
    [BenchmarkCategory("SingleTransfer")]
    public bool Dictionary_SingleTransfer()
    {
        var n = _next++;
        return Check(_baseline.Transfer(Id(n), _userNames[n % Users], _userNames[(n + 1) % Users], Asset.Value!, 1));
    }

    [Benchmark]
    [BenchmarkCategory("SingleTransfer")]
    public async ValueTask<CreateTransferResult> Ledger_SingleTransfer()
    {
        var n = _next++;
        return Check(await _ledger.CreateTransferAsync(Plain(Id(n), _users[n % Users], _users[(n + 1) % Users], 1)));
    }

    [Benchmark(Baseline = true)]
    [BenchmarkCategory("LinkedBatchOf8")]
    public bool Dictionary_LinkedBatchOf8()
    {
        var batch = new (string, string, string, UInt128)[8];
        for (var i = 0; i < batch.Length; i++)
        {
            var n = _next++;
            batch[i] = (Id(n), _userNames[n % Users], _userNames[(n + 1) % Users], 1);
        }

        return Check(_baseline.Batch(batch, Asset.Value!));
    }

    [Benchmark]
    [BenchmarkCategory("LinkedBatchOf8")]
    public async ValueTask<IReadOnlyList<CreateTransferResult>> Ledger_LinkedBatchOf8()
    {
        var batch = new TransferRequest[8];
        for (var i = 0; i < batch.Length; i++)
        {
            var n = _next++;
            var request = Plain(Id(n), _users[n % Users], _users[(n + 1) % Users], 1);
            batch[i] = i < batch.Length - 1 ? request with { Flags = TransferFlags.Linked } : request;
        }

        var results = await _ledger.CreateTransfersAsync(batch);
        foreach (var result in results)
        {
            Check(result);
        }

        return results;
    }

    [Benchmark(Baseline = true)]
    [BenchmarkCategory("PendingThenPost")]
    public bool Dictionary_PendingThenPost()
    {
        var n = _next++;
        var id = Id(n);
        return Check(_baseline.Pending(id, _userNames[n % Users], _userNames[(n + 1) % Users], Asset.Value!, 5)
            && _baseline.Post(id + "-post", id));
    }

    [Benchmark]
    [BenchmarkCategory("PendingThenPost")]
    public async ValueTask<CreateTransferResult> Ledger_PendingThenPost()
    {
        var n = _next++;
        var id = Id(n);
        var pending = Plain(id, _users[n % Users], _users[(n + 1) % Users], 5) with { Flags = TransferFlags.Pending, TimeoutSeconds = 60 };
        Check(await _ledger.CreateTransferAsync(pending));
        return Check(await _ledger.CreateTransferAsync(TransferRequest.PostPending(TransferId.Parse(id + "-post"), pending.Id, Kind)));
    }

    // Every measured operation must do the real work: a refused transfer would be cheaper and skew the ratio.
    private static bool Check(bool applied) => applied ? true : throw new InvalidOperationException("The baseline refused a transfer.");

    private static CreateTransferResult Check(CreateTransferResult result) =>
        result == CreateTransferResult.Created ? result : throw new InvalidOperationException($"The ledger refused a transfer: {result}.");

    private static string Id(long n) => "t" + n.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static TransferRequest Plain(string id, AccountId debit, AccountId credit, ulong amount) => new()
    {
        Id = TransferId.Parse(id),
        DebitAccountId = debit,
        CreditAccountId = credit,
        Asset = Asset,
        Amount = new TokenAmount(amount),
        Kind = Kind,
    };

    // A fixed number of invocations per iteration, because state is rebuilt before each iteration ([IterationSetup]).
    private sealed class Config : ManualConfig
    {
        public Config() => AddJob(Job.Default
            .WithWarmupCount(3)
            .WithIterationCount(15)
            .WithInvocationCount(256_000)
            .WithUnrollFactor(16)
            .WithId("InMemory"));
    }
}
