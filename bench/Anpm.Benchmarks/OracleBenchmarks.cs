using System.Text.Json;
using Anpm.Oracle;
using Anpm.Signing;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using Microsoft.Extensions.Options;

namespace Anpm.Benchmarks;

/// <summary>
/// The oracle runner's cost per task on the digits model against the raw binding's Run in the same run: one task
/// (parse the input, run, write the canonical output, Keccak-256, sign the attestation) against one Run of batch 1; and
/// 32 tasks as one dynamic batch, or one by one, against one Run of batch 32 (per task).
/// </summary>
[Config(typeof(Config))]
[CategoriesColumn]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
public class OracleBenchmarks
{
    private OnnxInferenceBackend _backend = null!;
    private OnnxSession _session = null!;
    private OracleRunner _runner = null!;
    private EthereumKey _key = null!;
    private AttestationSigner _signer = null!;
    private Dictionary<string, Tensor> _one = null!;
    private Dictionary<string, Tensor> _thirtyTwo = null!;
    private OracleTask[] _tasks = [];

    [GlobalSetup]
    public void Setup()
    {
        var models = Path.Combine(RepositoryRoot(), "tools", "models");
        var options = new OnnxBackendOptions { Device = ExecutionDevice.Cpu };
        options.Models["digits"] = Path.Combine(models, "digits.onnx");
        _backend = new OnnxInferenceBackend(Options.Create(options));
        _session = _backend.SessionOf("digits");
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(models, "digits.vectors.json")));
        var rows = json.RootElement.GetProperty("inputs").EnumerateArray().Select(r => r.EnumerateArray().Select(v => v.GetInt32()).ToArray()).ToArray();
        _one = new() { ["pixels"] = Tensor.FromFloat32([.. rows[0].Select(v => (float)v)], 1, 64) };
        _thirtyTwo = new() { ["pixels"] = Tensor.FromFloat32([.. rows.SelectMany(r => r).Select(v => (float)v)], 32, 64) };
        var hash = _backend.ModelHashes["digits"];
        _tasks = [.. rows.Select((r, i) => new OracleTask("t" + i, "l" + i, DateTimeOffset.MaxValue, "digits", hash,
            "{\"inputs\":{\"pixels\":{\"type\":\"float32\",\"shape\":[1,64],\"data\":[" + string.Join(",", r) + "]}}}"))];
        _key = EthereumKey.Generate();
        var domain = new SignedRequestVerifier(Options.Create(new SignedRequestOptions { VerifyingContract = "0x5fbdb2315678afecb367f032d93f642f64180aa3" }), TimeProvider.System);
        _signer = new AttestationSigner(_key, domain);
        _runner = new OracleRunner(new DiscardingSource(), _backend, _signer, Options.Create(new OracleRunnerOptions { MaxBatchSize = 32 }));
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _runner.Dispose();
        _backend.Dispose();
        _key.Dispose();
    }

    [Benchmark(Baseline = true)]
    [BenchmarkCategory("Batch1")]
    public IReadOnlyDictionary<string, Tensor> RawRun_Batch1() => _session.Run(_one);

    [Benchmark]
    [BenchmarkCategory("Batch1")]
    public Task Runner_OneTask() => _runner.ProcessAsync(_tasks[0], CancellationToken.None);

    [Benchmark]
    [BenchmarkCategory("Batch1")]
    public string SignAttestationOnly() => _signer.SignResult(_tasks[0], "0x" + new string('a', 64));

    [Benchmark(Baseline = true, OperationsPerInvoke = 32)]
    [BenchmarkCategory("Batch32")]
    public IReadOnlyDictionary<string, Tensor> RawRun_Batch32() => _session.Run(_thirtyTwo);

    [Benchmark(OperationsPerInvoke = 32)]
    [BenchmarkCategory("Batch32")]
    public Task Runner_32Tasks_DynamicBatch() => _runner.ProcessBatchAsync(_tasks, CancellationToken.None);

    [Benchmark(OperationsPerInvoke = 32)]
    [BenchmarkCategory("Batch32")]
    public async Task Runner_32Tasks_OneByOne()
    {
        foreach (var task in _tasks)
        {
            await _runner.ProcessAsync(task, CancellationToken.None);
        }
    }

    private static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Anpm.sln")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("The repository root (Anpm.sln) was not found above " + AppContext.BaseDirectory);
    }

    private sealed class DiscardingSource : IOracleTaskSource
    {
        public ValueTask<OracleTask?> ClaimAsync(CancellationToken cancellationToken) => new((OracleTask?)null);

        public ValueTask SubmitResultAsync(OracleTask task, InferenceResult result, string signature, CancellationToken cancellationToken) => ValueTask.CompletedTask;

        public ValueTask SubmitFailureAsync(OracleTask task, string reason, string signature, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("The benchmark's task failed: " + reason);
    }

    private sealed class Config : ManualConfig
    {
        public Config() => AddJob(Job.Default.WithWarmupCount(3).WithIterationCount(12).WithId("Oracle"));
    }
}
