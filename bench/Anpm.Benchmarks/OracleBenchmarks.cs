using Anpm.Abstractions;
using System.Runtime.InteropServices;
using System.Text.Json;
using Anpm.Oracle;
using Anpm.Signing;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using Microsoft.Extensions.Options;
using Microsoft.ML.OnnxRuntime;
using Anpm.Tensors;

namespace Anpm.Benchmarks;

/// <summary>
/// The oracle's cost per task on the digits model against a raw ONNX Runtime run in the same run. The baseline is
/// ONNX Runtime's official managed API at its fastest: a session with the backend's deterministic options and an
/// <see cref="OrtIoBinding"/> whose input and outputs are bound once to pinned buffers, so a run is only
/// <c>RunWithBinding</c>. Against it: the backend's <c>RunAsync</c> of one task (parse the input text, check it, run,
/// write the canonical output, Keccak-256) with the pixels as JSON numbers and as base64, and the runner's
/// <c>ProcessAsync</c> (the same plus the EIP-712 attestation signature). For 32 tasks: the backend alone, as one dynamic
/// batch or one by one, and the runner either way, per task, against one bound run of batch 32 per row. And on silero
/// VAD (a real model, fetched by eng/test.sh): the backend's task against its raw bound run.
/// </summary>
[Config(typeof(Config))]
[CategoriesColumn]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
public class OracleBenchmarks
{
    private OnnxInferenceBackend _backend = null!;
    private OracleRunner _runner = null!;
    private EthereumKey _key = null!;
    private AttestationSigner _signer = null!;
    private readonly long[] _oneLabel = new long[1];
    private readonly long[] _thirtyTwoLabels = new long[32];
    private readonly float[] _speech = new float[1];
    private RawBinding _one = null!;
    private RawBinding _thirtyTwo = null!;
    private OracleTask[] _tasks = [];
    private InferenceRequest[] _requests = [];
    private InferenceRequest _base64 = null!;
    private RawBinding _silero = null!;
    private InferenceRequest _sileroRequest = null!;

    [GlobalSetup]
    public void Setup()
    {
        var models = Path.Combine(RepositoryRoot(), "tools", "models");
        var options = new OnnxBackendOptions { Device = ExecutionDevice.Cpu };
        options.Models["digits"] = Path.Combine(models, "digits.onnx");
        options.Models["silero"] = Path.Combine(RepositoryRoot(), "tests", "onnx-node", "silero_vad_v5.onnx");
        if (!File.Exists(options.Models["silero"]))
        {
            throw new InvalidOperationException($"{options.Models["silero"]} is missing: run ./eng/test.sh once (it fetches the model).");
        }
        _backend = new OnnxInferenceBackend(Options.Create(options));
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(models, "digits.vectors.json")));
        var rows = json.RootElement.GetProperty("inputs").EnumerateArray().Select(r => r.EnumerateArray().Select(v => v.GetInt32()).ToArray()).ToArray();
        _one = RawBinding.Digits(options.Models["digits"], [.. rows[0].Select(v => (float)v)], _oneLabel);
        _thirtyTwo = RawBinding.Digits(options.Models["digits"], [.. rows.SelectMany(r => r).Select(v => (float)v)], _thirtyTwoLabels);
        var hash = _backend.Models["digits"].Sha256;
        _requests = [.. rows.Select(r => new InferenceRequest("digits", hash, "{\"inputs\":{\"pixels\":{\"type\":\"float32\",\"shape\":[1,64],\"data\":[" + string.Join(",", r) + "]}}}"))];
        _base64 = new InferenceRequest("digits", hash,
            "{\"inputs\":{\"pixels\":{\"type\":\"float32\",\"shape\":[1,64],\"data\":\"" + Convert.ToBase64String(MemoryMarshal.AsBytes<float>([.. rows[0].Select(v => (float)v)])) + "\"}}}");
        var samples = Enumerable.Range(0, 512).Select(i => (float)((0.4 * Math.Sin(2 * Math.PI * 220 * i / 16000.0)) + (0.1 * Math.Sin(2 * Math.PI * 1375 * i / 16000.0)))).ToArray();
        _silero = RawBinding.Silero(options.Models["silero"], samples, _speech);
        _sileroRequest = new InferenceRequest("silero", _backend.Models["silero"].Sha256,
            "{\"inputs\":{\"input\":{\"type\":\"float32\",\"shape\":[1,512],\"data\":\"" + Convert.ToBase64String(MemoryMarshal.AsBytes(samples.AsSpan()))
            + "\"},\"state\":{\"type\":\"float32\",\"shape\":[2,1,128],\"data\":\"" + Convert.ToBase64String(new byte[1024])
            + "\"},\"sr\":{\"type\":\"int64\",\"shape\":[],\"data\":[16000]}}}");
        _tasks = [.. _requests.Select((r, i) => new OracleTask("t" + i, "l" + i, DateTimeOffset.MaxValue, r.Model, r.ModelHash, r.Input))];
        _key = EthereumKey.Generate();
        var domain = new SignedRequestVerifier(Options.Create(new SignedRequestOptions { VerifyingContract = "0x5fbdb2315678afecb367f032d93f642f64180aa3" }.AddMessageTypes(AnpmOracleMessages.All)), TimeProvider.System);
        _signer = new AttestationSigner(_key, domain);
        _runner = new OracleRunner(new DiscardingSource(), _backend, _signer, Options.Create(new OracleRunnerOptions { MaxBatchSize = 32 }));

        // The same answers both ways, or the comparison would be meaningless.
        _one.Run();
        _silero.Run();
        var backend = _backend.Run("digits", new Dictionary<string, Tensor> { ["pixels"] = Tensor.FromFloat32([.. rows[0].Select(v => (float)v)], 1, 64) });
        using var silero = JsonDocument.Parse(_backend.RunAsync(_sileroRequest).AsTask().GetAwaiter().GetResult().Output);
        var probability = BitConverter.ToSingle(Convert.FromBase64String(silero.RootElement.GetProperty("outputs").GetProperty("output").GetProperty("data").GetString()!));
        if (_oneLabel[0] != backend["label"].ToInt64()[0] || probability != _speech[0])
        {
            throw new InvalidOperationException("The raw runs and the backend disagree.");
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _runner.Dispose();
        _backend.Dispose();
        _one.Dispose();
        _thirtyTwo.Dispose();
        _silero.Dispose();
        _key.Dispose();
    }

    [Benchmark(Baseline = true)]
    [BenchmarkCategory("Batch1")]
    public void RawRun_IoBinding() => _one.Run();

    [Benchmark]
    [BenchmarkCategory("Batch1")]
    public ValueTask<InferenceResult> Backend_OneTask_JsonNumbers() => _backend.RunAsync(_requests[0]);

    [Benchmark]
    [BenchmarkCategory("Batch1")]
    public ValueTask<InferenceResult> Backend_OneTask_Base64() => _backend.RunAsync(_base64);

    [Benchmark]
    [BenchmarkCategory("Batch1")]
    public Task Runner_OneTask() => _runner.ProcessAsync(_tasks[0], CancellationToken.None);

    [Benchmark]
    [BenchmarkCategory("Batch1")]
    public ValueTask<string> SignAttestationOnly() => _signer.SignResultAsync(_tasks[0], "0x" + new string('a', 64));

    [Benchmark(Baseline = true, OperationsPerInvoke = 32)]
    [BenchmarkCategory("Batch32")]
    public void RawRun_IoBinding_Batch32() => _thirtyTwo.Run();

    [Benchmark(OperationsPerInvoke = 32)]
    [BenchmarkCategory("Batch32")]
    public ValueTask<IReadOnlyList<BatchItemResult>> Backend_32Tasks_DynamicBatch() => _backend.RunBatchAsync(_requests);

    [Benchmark(OperationsPerInvoke = 32)]
    [BenchmarkCategory("Batch32")]
    public async Task Backend_32Tasks_OneByOne()
    {
        foreach (var request in _requests)
        {
            await _backend.RunAsync(request);
        }
    }

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

    [Benchmark(Baseline = true)]
    [BenchmarkCategory("Silero")]
    public void RawRun_IoBinding_Silero() => _silero.Run();

    [Benchmark]
    [BenchmarkCategory("Silero")]
    public ValueTask<InferenceResult> Backend_OneTask_Silero_Base64() => _backend.RunAsync(_sileroRequest);

    private static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Anpm.sln")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("The repository root (Anpm.sln) was not found above " + AppContext.BaseDirectory);
    }

    /// <summary>ONNX Runtime used directly: the backend's session options, inputs and outputs bound once to pinned buffers.</summary>
    private sealed class RawBinding : IDisposable
    {
        private readonly InferenceSession _session;
        private readonly OrtIoBinding _binding;
        private readonly RunOptions _runOptions = new();
        private readonly OrtValue[] _values;

        public RawBinding(string model, (string Name, OrtValue Value)[] inputs, (string Name, OrtValue Value)[] outputs)
        {
            using var options = new SessionOptions { IntraOpNumThreads = 1, InterOpNumThreads = 1, ExecutionMode = ExecutionMode.ORT_SEQUENTIAL };
            options.AddSessionConfigEntry("session.use_deterministic_compute", "1");
            _session = new InferenceSession(model, options);
            _values = [.. inputs.Concat(outputs).Select(v => v.Value)];
            _binding = _session.CreateIoBinding();
            foreach (var (name, value) in inputs)
            {
                _binding.BindInput(name, value);
            }

            foreach (var (name, value) in outputs)
            {
                _binding.BindOutput(name, value);
            }
        }

        /// <summary>Digits: a batch of <paramref name="rows"/> × 64 pixels; the labels land in <paramref name="labels"/>.</summary>
        public static RawBinding Digits(string model, float[] pixels, long[] labels) => new(model,
            [("pixels", OrtValue.CreateTensorValueFromMemory(pixels, [labels.Length, 64]))],
            [("label", OrtValue.CreateTensorValueFromMemory(labels, [labels.Length])), ("probabilities", OrtValue.CreateTensorValueFromMemory(new float[labels.Length * 10], [labels.Length, 10]))]);

        /// <summary>Silero VAD: one 512-sample chunk with a zero state; the speech probability lands in <paramref name="probability"/>.</summary>
        public static RawBinding Silero(string model, float[] samples, float[] probability) => new(model,
            [
                ("input", OrtValue.CreateTensorValueFromMemory(samples, [1, 512])),
                ("state", OrtValue.CreateTensorValueFromMemory(new float[256], [2, 1, 128])),
                ("sr", OrtValue.CreateTensorValueFromMemory(new[] { 16000L }, [])),
            ],
            [("output", OrtValue.CreateTensorValueFromMemory(probability, [1, 1])), ("stateN", OrtValue.CreateTensorValueFromMemory(new float[256], [2, 1, 128]))]);

        public void Run() => _session.RunWithBinding(_runOptions, _binding);

        public void Dispose()
        {
            _binding.Dispose();
            foreach (var value in _values)
            {
                value.Dispose();
            }

            _runOptions.Dispose();
            _session.Dispose();
        }
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
