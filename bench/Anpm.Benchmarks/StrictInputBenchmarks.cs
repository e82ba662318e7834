using System.Text;
using System.Text.Json;
using Anpm.Abstractions;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using Anpm.Tensors;

namespace Anpm.Benchmarks;

/// <summary>
/// What the hostile-input checks cost on the request path: a signed body parsed as JSON (the baseline) against parsed
/// and walked by <see cref="StrictJson"/> (duplicate keys, broken Unicode); a digits task input read by the oracle's
/// parser (the baseline) against checked by the pool (<see cref="ModelIo.CheckInputs"/>: strict JSON, the format and the
/// declared tensors); and a canonical output written (the baseline) against checked (<see cref="ModelIo.CheckOutputs"/>).
/// </summary>
[Config(typeof(Config))]
[CategoriesColumn]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
public class StrictInputBenchmarks
{
    private static readonly TensorSpec[] Inputs = [new("pixels", TensorElementType.Float32, [1, 64])];
    private static readonly TensorSpec[] Outputs = [new("label", TensorElementType.Int64, [1]), new("probabilities", TensorElementType.Float32, [1, 10])];
    private byte[] _body = [];
    private string _input = string.Empty;
    private Dictionary<string, Tensor> _outputs = [];
    private string _output = string.Empty;

    [GlobalSetup]
    public void Setup()
    {
        _input = "{\"inputs\":{\"pixels\":{\"type\":\"float32\",\"shape\":[1,64],\"data\":[" + string.Join(",", Enumerable.Range(0, 64).Select(i => i % 17)) + "]}}}";
        _body = Encoding.UTF8.GetBytes(
            "{\"message\":{\"account\":\"0x70997970c51812dc3a010c7d01b50e0d17dc79c8\",\"poolId\":\"demo\",\"model\":\"digits\",\"inputHash\":\"0x"
            + new string('a', 64) + "\",\"maxCredits\":\"10\",\"nonce\":\"123456\",\"deadline\":\"1790000000\"},\"signature\":\"0x" + new string('b', 130)
            + "\",\"input\":" + JsonSerializer.Serialize(_input) + "}");
        _outputs = new Dictionary<string, Tensor>
        {
            ["label"] = Tensor.FromInt64([7], 1),
            ["probabilities"] = Tensor.FromFloat32([.. Enumerable.Range(0, 10).Select(i => i / 10f)], 1, 10),
        };
        _output = ModelIo.WriteOutputs(_outputs);
        if (ModelIo.CheckInputs(_input, Inputs) is not null || ModelIo.CheckOutputs(_output, Outputs) is not null)
        {
            throw new InvalidOperationException("The benchmark's documents must pass their checks.");
        }
    }

    [Benchmark(Baseline = true)]
    [BenchmarkCategory("Body")]
    public JsonValueKind Body_Parse()
    {
        using var document = JsonDocument.Parse(_body);
        return document.RootElement.ValueKind;
    }

    [Benchmark]
    [BenchmarkCategory("Body")]
    public string? Body_ParseAndStrictJson()
    {
        using var document = JsonDocument.Parse(_body);
        return StrictJson.FindProblem(document.RootElement);
    }

    [Benchmark(Baseline = true)]
    [BenchmarkCategory("Input")]
    public int Input_ParseInputs() => ModelIo.ParseInputs(_input).Count;

    [Benchmark]
    [BenchmarkCategory("Input")]
    public string? Input_CheckInputs() => ModelIo.CheckInputs(_input, Inputs);

    [Benchmark(Baseline = true)]
    [BenchmarkCategory("Output")]
    public int Output_WriteOutputs() => ModelIo.WriteOutputs(_outputs).Length;

    [Benchmark]
    [BenchmarkCategory("Output")]
    public string? Output_CheckOutputs() => ModelIo.CheckOutputs(_output, Outputs);

    private sealed class Config : ManualConfig
    {
        public Config() => AddJob(Job.Default.WithWarmupCount(3).WithIterationCount(12).WithId("StrictInput"));
    }
}
