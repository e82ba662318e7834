using Anpm.Abstractions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Anpm.Tensors;

namespace Anpm.Oracle.Tests;

/// <summary>
/// The ONNX backend on ONNX Runtime's official packages (here the GPU package on its CPU provider) and the committed
/// digits model, checked against an independent NumPy forward pass of the same weights (tools/models/train_digits.py).
/// </summary>
public sealed class OnnxBackendTests : IDisposable
{
    private readonly OnnxInferenceBackend _backend = Digits.Backend();

    public void Dispose() => _backend.Dispose();

    [Fact]
    public void Models_DescribeTheDigitsModel()
    {
        var model = _backend.Models["digits"];
        Assert.Equal(("digits", Digits.Model, Digits.Sha256, ExecutionDevice.Cpu), (model.Id, model.Path, model.Sha256, model.Device));
        Assert.Null(model.FallbackReason); // Device = Cpu: CUDA was never tried
        Assert.Null(model.CudaOptions);
        var input = Assert.Single(model.Inputs);
        Assert.Equal(("pixels", (TensorElementType?)TensorElementType.Float32), (input.Name, input.ElementType));
        Assert.Equal([-1L, 64L], input.Shape);
        Assert.Equal("N", input.SymbolicDimensions[0]);
        Assert.Equal(["label", "probabilities"], model.Outputs.Select(o => o.Name));
        Assert.Equal([TensorElementType.Int64, TensorElementType.Float32], model.Outputs.Select(o => o.ElementType!.Value));
        Assert.Equal("1.31.0", _backend.RuntimeVersion); // Microsoft.ML.OnnxRuntime.Gpu.Linux's native library
    }

    [Fact]
    public void Run_Batch32_MatchesTheNumPyReference()
    {
        var (pixels, labels, probabilities, _) = Digits.Vectors();
        var outputs = _backend.Run("digits", new Dictionary<string, Tensor> { ["pixels"] = Tensor.FromFloat32(pixels, labels.Length, 64) });
        Assert.Equal(labels, outputs["label"].ToInt64());
        Assert.Equal([(long)labels.Length, 10L], outputs["probabilities"].Shape);
        var actual = outputs["probabilities"].ToFloat32();
        for (var i = 0; i < labels.Length; i++)
        {
            for (var j = 0; j < 10; j++)
            {
                // float32 sums in another order than NumPy's: agreement to 1e-5 absolute (probabilities are in [0, 1]).
                Assert.True(Math.Abs(actual[(i * 10) + j] - probabilities[i][j]) <= 1e-5f, $"sample {i}, class {j}: {actual[(i * 10) + j]} vs {probabilities[i][j]}");
            }
        }
    }

    [Fact]
    public async Task RunAsync_Deterministic_SameBytesAHundredTimes()
    {
        var (_, labels, _, rows) = Digits.Vectors();
        var request = new InferenceRequest("digits", Digits.Sha256, Digits.Input(rows[3]));
        var first = await _backend.RunAsync(request);
        Assert.Equal(ModelIo.OutputHash(first.Output), first.OutputHash);
        for (var i = 0; i < 100; i++)
        {
            Assert.Equal(first, await _backend.RunAsync(request));
        }

        Assert.Equal(labels[3], Digits.Label(first.Output));
    }

    [Fact]
    public void Run_ThreadSettings_SameBytesAsDeterministicMode()
    {
        var (pixels, labels, _, _) = Digits.Vectors();
        var inputs = new Dictionary<string, Tensor> { ["pixels"] = Tensor.FromFloat32(pixels, labels.Length, 64) };
        var reference = ModelIo.WriteOutputs(_backend.Run("digits", inputs));
        foreach (var threads in new[] { 1, 2, 4 })
        {
            using var threaded = Digits.Backend(o => (o.Deterministic, o.IntraOpThreads, o.InterOpThreads) = (false, threads, threads));
            Assert.Equal(reference, ModelIo.WriteOutputs(threaded.Run("digits", inputs)));
        }
    }

    [Fact]
    public void Run_BadInputs_RefusedNamingTheProblem()
    {
        var good = Tensor.FromFloat32(new float[64], 1, 64);
        string Refusal(Dictionary<string, Tensor> inputs) => Assert.Throws<InferenceFailedException>(() => _backend.Run("digits", inputs)).Message;
        Assert.Contains("no input 'image'; its inputs are pixels", Refusal(new() { ["image"] = good }), StringComparison.Ordinal);
        Assert.Contains("Input 'pixels' is missing", Refusal([]), StringComparison.Ordinal);
        Assert.Contains("must be float32, not int64", Refusal(new() { ["pixels"] = Tensor.FromInt64(new long[64], 1, 64) }), StringComparison.Ordinal);
        Assert.Contains("must have shape [?,64], not [1,63]", Refusal(new() { ["pixels"] = Tensor.FromFloat32(new float[63], 1, 63) }), StringComparison.Ordinal);
        Assert.Contains("not loaded", Assert.Throws<InferenceFailedException>(() => _backend.Run("qwen", new Dictionary<string, Tensor>())).Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => Tensor.FromFloat32(new float[10], 1, 64));
    }

    [Fact]
    public void Run_Cancelled_Throws()
    {
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        Assert.ThrowsAny<OperationCanceledException>(() => _backend.Run("digits", new Dictionary<string, Tensor> { ["pixels"] = Tensor.FromFloat32(new float[64], 1, 64) }, cancelled.Token));
    }

    [Fact]
    public void Load_CorruptModel_OnnxRuntimesReasonInTheException()
    {
        var corrupt = Path.GetTempFileName();
        try
        {
            File.WriteAllBytes(corrupt, [1, 2, 3, 4]);
            var error = Assert.Throws<ModelLoadException>(() => Digits.Backend(o => o.Models["broken"] = corrupt));
            Assert.Equal("broken", error.Model);
            Assert.StartsWith("Model broken: ONNX Runtime refused it: ", error.Message, StringComparison.Ordinal);
            Assert.DoesNotContain("[ErrorCode", error.Message, StringComparison.Ordinal); // ONNX Runtime's words, not its prefixes
            Assert.NotNull(error.InnerException);
        }
        finally
        {
            File.Delete(corrupt);
        }
    }

    [Fact]
    public void Load_AnotherFileThanTheConfiguredSha256_Refused()
    {
        var expected = "0x" + new string('a', 64);
        var error = Assert.Throws<ModelLoadException>(() => Digits.Backend(o => o.ModelSha256["digits"] = expected));
        Assert.Equal($"Model digits: '{Digits.Model}' has sha256 {Digits.Sha256}, not the configured {expected}.", error.Message);
        using var matching = Digits.Backend(o => o.ModelSha256["digits"] = Digits.Sha256.ToUpperInvariant().Replace("0X", "0x", StringComparison.Ordinal));
        Assert.Equal(Digits.Sha256, matching.Models["digits"].Sha256);
    }

    [Fact]
    public void Options_Invalid_EachNamed()
    {
        var error = Assert.Throws<OptionsValidationException>(() => Digits.Backend(o =>
        {
            o.ModelSha256["qwen"] = "0x" + new string('a', 64);
            o.ModelSha256["digits"] = "abc";
            o.CudaDeviceId = -1;
            o.IntraOpThreads = 5000;
            o.TimeoutSeconds = 0;
        }));
        Assert.Contains("ModelSha256[qwen]: no model 'qwen' in Models", error.Message, StringComparison.Ordinal);
        Assert.Contains("ModelSha256[digits] must be 0x and 64 hex digits, not 'abc'", error.Message, StringComparison.Ordinal);
        Assert.Contains("CudaDeviceId must be 0 to 63, not -1", error.Message, StringComparison.Ordinal);
        Assert.Contains("IntraOpThreads and InterOpThreads must be 0 to 1024", error.Message, StringComparison.Ordinal);
        Assert.Contains("TimeoutSeconds must be 1 to 3600, not 0", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SessionOptions_ReachOnnxRuntime_AsItsOwnTraceReportsThem()
    {
        // ONNX Runtime traces every session's options at its info level, which the backend routes to Debug.
        static string Trace(Action<OnnxBackendOptions> configure)
        {
            var logs = new CapturingLoggerFactory(LogLevel.Debug);
            using (Digits.Backend(configure, logs))
            {
                return Assert.Single(logs.Messages(OnnxRuntimeLog.Category, LogLevel.Debug), m => m.Contains("Session Options", StringComparison.Ordinal));
            }
        }

        var deterministic = Trace(_ => { });
        Assert.Contains("use_deterministic_compute:1", deterministic, StringComparison.Ordinal);
        Assert.Contains("execution_mode:0", deterministic, StringComparison.Ordinal); // sequential
        Assert.Contains("intra_op_param:OrtThreadPoolParams { thread_pool_size: 1 ", deterministic, StringComparison.Ordinal);
        Assert.Contains("inter_op_param:OrtThreadPoolParams { thread_pool_size: 1 ", deterministic, StringComparison.Ordinal);
        var free = Trace(o => (o.Deterministic, o.IntraOpThreads, o.InterOpThreads) = (false, 2, 3));
        Assert.Contains("use_deterministic_compute:0", free, StringComparison.Ordinal);
        Assert.Contains("intra_op_param:OrtThreadPoolParams { thread_pool_size: 2 ", free, StringComparison.Ordinal);
        Assert.Contains("inter_op_param:OrtThreadPoolParams { thread_pool_size: 3 ", free, StringComparison.Ordinal);

        // A logger at Information: ONNX Runtime's info chatter is not even produced.
        var quiet = new CapturingLoggerFactory(LogLevel.Information);
        using (Digits.Backend(logs: quiet))
        {
            Assert.Empty(quiet.Messages(OnnxRuntimeLog.Category));
        }
    }
}

/// <summary>Anpm.Oracle hides its ONNX Runtime: no type of Microsoft.ML.OnnxRuntime in its public API.</summary>
public sealed class OracleApiTests
{
    [Fact]
    public void PublicApi_NamesNoOnnxRuntimeType()
    {
        var exported = typeof(OnnxInferenceBackend).Assembly.GetExportedTypes();
        var leaks = exported
            .SelectMany(type => type.GetMembers(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.Static | System.Reflection.BindingFlags.DeclaredOnly)
                .SelectMany(member => TypesOf(member).Select(t => $"{type.Name}.{member.Name}: {t.FullName}")))
            .Concat(exported.SelectMany(type => type.GetInterfaces().Append(type.BaseType).OfType<Type>().Select(t => $"{type.Name}: {t.FullName}")))
            .Where(text => text.Contains("Microsoft.ML", StringComparison.Ordinal))
            .ToList();
        Assert.Empty(leaks);
        Assert.Contains(exported, t => t == typeof(OnnxInferenceBackend)); // the check looked at the right assembly
    }

    private static IEnumerable<Type> TypesOf(System.Reflection.MemberInfo member) => member switch
    {
        System.Reflection.MethodInfo method => method.GetParameters().Select(p => p.ParameterType).Append(method.ReturnType),
        System.Reflection.ConstructorInfo constructor => constructor.GetParameters().Select(p => p.ParameterType),
        System.Reflection.PropertyInfo property => [property.PropertyType],
        System.Reflection.FieldInfo field => [field.FieldType],
        System.Reflection.EventInfo @event => [@event.EventHandlerType!],
        _ => [],
    };
}

/// <summary>Outputs written in place on the model's declared dimensions, and what happens when those are wrong.</summary>
public sealed class OutputPlanTests : IDisposable
{
    private readonly string _model = Path.GetTempFileName();

    public OutputPlanTests() => File.WriteAllBytes(_model, OnnxModelFile.MislabeledConcat());

    public void Dispose() => File.Delete(_model);

    [Fact]
    public void Run_DeclaredOutputShapeIsWrong_RunsAgainWithOnnxRuntimesOutputs_AndKeepsDoingSo()
    {
        var logs = new CapturingLoggerFactory(Microsoft.Extensions.Logging.LogLevel.Debug);
        var options = new OnnxBackendOptions { Device = ExecutionDevice.Cpu };
        options.Models["concat"] = _model;
        using var backend = new OnnxInferenceBackend(Microsoft.Extensions.Options.Options.Create(options), logs);
        Assert.Equal(["N"], backend.Models["concat"].Outputs[0].SymbolicDimensions); // it claims Y has X's length

        for (var run = 0; run < 3; run++)
        {
            var outputs = backend.Run("concat", new Dictionary<string, Tensor> { ["X"] = Tensor.FromFloat32([1f, 2f, 3f + run], 3) });
            Assert.Equal([6L], outputs["Y"].Shape);
            Assert.Equal([1f, 2f, 3f + run, 1f, 2f, 3f + run], outputs["Y"].ToFloat32());
        }

        // The plan was dropped once (the warm-up run found it out), with a note in the log.
        Assert.Single(logs.Messages("Anpm.Oracle.OnnxInferenceBackend"), m => m.Contains("outputs are allocated by ONNX Runtime from now on", StringComparison.Ordinal));
    }
}
