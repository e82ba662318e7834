using System.Text.Json;
using Anpm.Oracle;

namespace Anpm.Oracle.Tests;

/// <summary>
/// The ONNX Runtime binding on the real library (fetched from npm at build time) and the committed digits model, checked
/// against an independent NumPy forward pass of the same weights (tools/models/train_digits.py).
/// </summary>
public sealed class OnnxBindingTests : IDisposable
{
    private static readonly string Models = Path.Combine(AppContext.BaseDirectory, "models");
    private readonly OnnxRuntimeEnvironment _runtime = OnnxRuntimeEnvironment.Load();

    public void Dispose() => _runtime.Dispose();

    private static (float[] Pixels, long[] Labels, float[][] Probabilities, int Count) Vectors()
    {
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(Models, "digits.vectors.json")));
        var inputs = json.RootElement.GetProperty("inputs").EnumerateArray().Select(row => row.EnumerateArray().Select(v => (float)v.GetInt32()).ToArray()).ToArray();
        var labels = json.RootElement.GetProperty("expectedLabels").EnumerateArray().Select(v => v.GetInt64()).ToArray();
        var probabilities = json.RootElement.GetProperty("probabilities").EnumerateArray().Select(row => row.EnumerateArray().Select(v => (float)v.GetDouble()).ToArray()).ToArray();
        Assert.True(json.RootElement.GetProperty("heldOutAccuracy").GetDouble() >= 0.95);
        return ([.. inputs.SelectMany(r => r)], labels, probabilities, inputs.Length);
    }

    [Fact]
    public void Load_ReportsTheVersionFetchedFromNpm()
    {
        Assert.Equal("1.30.0", _runtime.Version);
    }

    [Fact]
    public void Load_MissingLibrary_ClearError()
    {
        var error = Assert.Throws<OnnxRuntimeException>(() => OnnxRuntimeEnvironment.Load("/nonexistent/libonnxruntime.so.1"));
        Assert.Contains("could not be loaded", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Session_DescribesTheDigitsModel()
    {
        using var session = _runtime.CreateSession(Path.Combine(Models, "digits.onnx"));
        var input = Assert.Single(session.Inputs);
        Assert.Equal(("pixels", (TensorElementType?)TensorElementType.Float32), (input.Name, input.ElementType));
        Assert.Equal([-1L, 64L], input.Shape);
        Assert.Equal("N", input.SymbolicDimensions[0]);
        Assert.Equal(["label", "probabilities"], session.Outputs.Select(o => o.Name));
        Assert.Equal([TensorElementType.Int64, TensorElementType.Float32], session.Outputs.Select(o => o.ElementType!.Value));
        Assert.Equal(ExecutionDevice.Cpu, session.Device);
    }

    [Fact]
    public void Run_Batch32_MatchesTheNumPyReference()
    {
        var (pixels, labels, probabilities, count) = Vectors();
        using var session = _runtime.CreateSession(File.ReadAllBytes(Path.Combine(Models, "digits.onnx")));
        var outputs = session.Run(new Dictionary<string, Tensor> { ["pixels"] = Tensor.FromFloat32(pixels, count, 64) });
        Assert.Equal(labels, outputs["label"].ToInt64());
        Assert.Equal([(long)count, 10L], outputs["probabilities"].Shape);
        var actual = outputs["probabilities"].ToFloat32();
        for (var i = 0; i < count; i++)
        {
            for (var j = 0; j < 10; j++)
            {
                // float32 sums in another order than NumPy's: agreement to 1e-5 absolute (probabilities are in [0, 1]).
                Assert.True(Math.Abs(actual[i * 10 + j] - probabilities[i][j]) <= 1e-5f, $"sample {i}, class {j}: {actual[i * 10 + j]} vs {probabilities[i][j]}");
            }
        }
    }

    [Fact]
    public void Run_DeterministicMode_SameBytesEveryTime()
    {
        var (pixels, _, _, count) = Vectors();
        using var session = _runtime.CreateSession(Path.Combine(Models, "digits.onnx"), new OnnxSessionOptions { Deterministic = true });
        var input = new Dictionary<string, Tensor> { ["pixels"] = Tensor.FromFloat32(pixels, count, 64) };
        var first = session.Run(input)["probabilities"].Data.ToArray();
        for (var i = 0; i < 100; i++)
        {
            Assert.Equal(first, session.Run(input)["probabilities"].Data.ToArray());
        }
    }

    [Fact]
    public void Run_DeterministicMode_SameBytesAcrossThreadSettingsAndSessions()
    {
        var (pixels, _, _, count) = Vectors();
        var input = new Dictionary<string, Tensor> { ["pixels"] = Tensor.FromFloat32(pixels, count, 64) };
        byte[]? reference = null;
        foreach (var threads in new[] { 1, 2, 4 })
        {
            using var session = _runtime.CreateSession(Path.Combine(Models, "digits.onnx"),
                new OnnxSessionOptions { Deterministic = true, IntraOpThreads = threads, InterOpThreads = threads });
            var bytes = ModelIo.WriteOutputs(session.Run(input));
            reference ??= System.Text.Encoding.UTF8.GetBytes(bytes);
            Assert.Equal(reference, System.Text.Encoding.UTF8.GetBytes(bytes));
        }
    }

    [Fact]
    public void Run_BadInputs_RejectedNamingTheProblem()
    {
        using var session = _runtime.CreateSession(Path.Combine(Models, "digits.onnx"));
        var good = Tensor.FromFloat32(new float[64], 1, 64);
        Assert.Contains("no input 'image'", Assert.Throws<ArgumentException>(() => session.Run(new Dictionary<string, Tensor> { ["image"] = good })).Message, StringComparison.Ordinal);
        Assert.Contains("Input 'pixels' is missing", Assert.Throws<ArgumentException>(() => session.Run(new Dictionary<string, Tensor>())).Message, StringComparison.Ordinal);
        Assert.Contains("must be float32, not int64", Assert.Throws<ArgumentException>(() =>
            session.Run(new Dictionary<string, Tensor> { ["pixels"] = Tensor.FromInt64(new long[64], 1, 64) })).Message, StringComparison.Ordinal);
        Assert.Contains("must have shape [?,64], not [1,63]", Assert.Throws<ArgumentException>(() =>
            session.Run(new Dictionary<string, Tensor> { ["pixels"] = Tensor.FromFloat32(new float[63], 1, 63) })).Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => Tensor.FromFloat32(new float[10], 1, 64));
    }

    [Fact]
    public void CreateSession_CorruptModel_OnnxRuntimesErrorInTheException()
    {
        var error = Assert.Throws<OnnxRuntimeException>(() => _runtime.CreateSession(new byte[] { 1, 2, 3, 4 }));
        Assert.Contains("Loading a model from memory", error.Message, StringComparison.Ordinal);
        Assert.NotEqual(OnnxErrorCode.Ok, error.Code);
        Assert.Throws<OnnxRuntimeException>(() => _runtime.CreateSession(Path.Combine(Models, "missing.onnx")));
    }

    [Fact]
    public void Cuda_OnAMachineWithoutIt_AutoFallsBackAndCudaFailsClearly()
    {
        using var auto = _runtime.CreateSession(Path.Combine(Models, "digits.onnx"), new OnnxSessionOptions { Device = ExecutionDevice.Auto });
        if (auto.Device == ExecutionDevice.Cuda)
        {
            return; // a machine with CUDA: nothing to fall back from
        }

        Assert.False(string.IsNullOrEmpty(auto.FallbackReason));
        var error = Assert.Throws<OnnxRuntimeException>(() => _runtime.CreateSession(Path.Combine(Models, "digits.onnx"), new OnnxSessionOptions { Device = ExecutionDevice.Cuda }));
        Assert.StartsWith("CUDA was requested but cannot be used:", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_Cancelled_Throws()
    {
        using var session = _runtime.CreateSession(Path.Combine(Models, "digits.onnx"));
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        Assert.Throws<OperationCanceledException>(() => session.Run(new Dictionary<string, Tensor> { ["pixels"] = Tensor.FromFloat32(new float[64], 1, 64) }, cancelled.Token));
    }
}
