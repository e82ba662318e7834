using Anpm.Abstractions;
using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.ML.OnnxRuntime;
using Anpm.Tensors;

namespace Anpm.Oracle;

/// <summary>
/// One model in ONNX Runtime: an <see cref="InferenceSession"/> built for the configured device and determinism, and
/// <see cref="Run"/>, which checks the inputs against the model and runs them through pooled <see cref="BoundBuffers"/>:
/// pinned buffers bound once to an <see cref="OrtIoBinding"/>, the outputs written in place where the model's declared
/// dimensions give their shapes from the inputs', else allocated by ONNX Runtime and copied. Runs may be concurrent.
/// </summary>
internal sealed class OnnxModelSession : IDisposable
{
    /// <summary>The session option that makes ONNX Runtime pick deterministic kernels (CPU and CUDA).</summary>
    internal const string DeterministicComputeKey = "session.use_deterministic_compute";

    private readonly InferenceSession _session;
    private readonly string[] _inputNames;
    private readonly string[] _outputNames;
    private readonly (int Input, long Value)[]?[] _outputPlan;
    private readonly TensorElementType[] _outputTypes;
    private readonly BoundBufferPool _pool = new();
    private readonly string _logId;
    private readonly ILogger _logger;
    private volatile bool _preallocate;

    private OnnxModelSession(InferenceSession session, OnnxModel model, string logId, ILogger logger)
    {
        _session = session;
        _logId = logId;
        _logger = logger;
        Model = model;
        _inputNames = [.. model.Inputs.Select(i => i.Name)];
        _outputNames = [.. model.Outputs.Select(o => o.Name)];
        _outputPlan = [.. model.Outputs.Select(o => Plan(o, model.Inputs))];
        _preallocate = model.Outputs.All(o => o.ElementType is not null) && _outputPlan.All(p => p is not null);
        _outputTypes = [.. model.Outputs.Select(o => o.ElementType.GetValueOrDefault())];
    }

    /// <summary>What was loaded, where it runs, what it takes and gives.</summary>
    public OnnxModel Model { get; }

    /// <summary>
    /// The CUDA execution provider's options for reproducible results on one GPU model and library version: the default
    /// convolution algorithm instead of benchmarking at run time (which may choose differently from run to run), no TF32
    /// arithmetic (float32 stays float32), no tunable operators (no run-time kernel tuning).
    /// </summary>
    internal static Dictionary<string, string> CudaProviderOptions(int deviceId) => new(StringComparer.Ordinal)
    {
        ["device_id"] = deviceId.ToString(CultureInfo.InvariantCulture),
        ["cudnn_conv_algo_search"] = "DEFAULT",
        ["use_tf32"] = "0",
        ["tunable_op_enable"] = "0",
        ["tunable_op_tuning_enable"] = "0",
    };

    /// <summary>
    /// Loads <paramref name="bytes"/> as model <paramref name="id"/> on the configured device. With Auto, CUDA is tried
    /// first; when its provider cannot be used, <paramref name="cuda"/> remembers why (the backend's other models go
    /// straight to the CPU) and the session is built for the CPU.
    /// </summary>
    /// <exception cref="ModelLoadException">ONNX Runtime refused the model, or CUDA was required and cannot be used.</exception>
    public static OnnxModelSession Load(string id, string path, byte[] bytes, string sha256, OnnxBackendOptions options, CudaProbe cuda, ILogger logger, ILogger runtimeLogger)
    {
        var logId = OnnxRuntimeLog.Register(runtimeLogger, id);
        var level = OnnxRuntimeLog.SessionLevel(runtimeLogger);
        try
        {
            using var scope = OnnxRuntimeLog.Enter(runtimeLogger);
            InferenceSession? session = null;
            string? reason = null;
            string? cudaOptions = null;
            if (options.Device != ExecutionDevice.Cpu)
            {
                session = TryCuda(bytes, options, logId, level, cuda, runtimeLogger, out reason, out cudaOptions);
                if (session is null && options.Device == ExecutionDevice.Cuda)
                {
                    throw new ModelLoadException(id, $"Model {id}: CUDA was required (Device = Cuda) but cannot be used: {reason}");
                }
            }

            var device = session is null ? ExecutionDevice.Cpu : ExecutionDevice.Cuda;
            if (session is null)
            {
                using var sessionOptions = SessionOptionsFor(options, logId, level);
                session = Create(id, bytes, sessionOptions);
            }

            try
            {
                var model = new OnnxModel(id, path, sha256, device, device == ExecutionDevice.Cpu ? reason : null, cudaOptions,
                    [.. session.InputNames.Select(n => Describe(n, session.InputMetadata[n]))],
                    [.. session.OutputNames.Select(n => Describe(n, session.OutputMetadata[n]))]);
                return new OnnxModelSession(session, model, logId, logger);
            }
            catch
            {
                session.Dispose();
                throw;
            }
        }
        catch
        {
            OnnxRuntimeLog.Unregister(logId);
            throw;
        }
    }

    /// <summary>
    /// Runs the model on <paramref name="inputs"/> (every declared input, by name) and returns every output by name.
    /// Cancelling terminates the run inside ONNX Runtime.
    /// </summary>
    /// <exception cref="ArgumentException">An input is missing, unknown, or of the wrong type, rank or dimensions; the message names it.</exception>
    /// <exception cref="OperationCanceledException">The run was cancelled.</exception>
    /// <exception cref="InferenceFailedException">ONNX Runtime failed (its message included), or an output is of a type Anpm does not read.</exception>
    public Dictionary<string, Tensor> Run(IReadOnlyDictionary<string, Tensor> inputs, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var ordered = Validate(inputs);
        cancellationToken.ThrowIfCancellationRequested();
        try
        {
            var preallocated = _preallocate;
            var buffers = Bind(ordered, preallocated);
            try
            {
                return RunBound(buffers, cancellationToken);
            }
            catch (OnnxRuntimeException) when (preallocated && !cancellationToken.IsCancellationRequested)
            {
                // The declared dimensions may be wrong about a produced shape: run once more with outputs ONNX Runtime
                // allocates. If that succeeds, the plan was at fault and is dropped for this model.
                var outputs = RunBound(Bind(ordered, preallocated: false), cancellationToken);
                _preallocate = false;
                OnnxLog.OutputPlanDropped(_logger, Model.Id);
                return outputs;
            }
        }
        catch (OnnxRuntimeException) when (cancellationToken.IsCancellationRequested)
        {
            throw new OperationCanceledException(cancellationToken);
        }
        catch (OnnxRuntimeException exception)
        {
            throw new InferenceFailedException("inference failed: " + ReasonOf(exception), exception);
        }
        catch (OverflowException exception)
        {
            throw new InferenceFailedException("inference failed: an output would hold more than 2 GiB", exception);
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _pool.Dispose();
        _session.Dispose();
        OnnxRuntimeLog.Unregister(_logId);
    }

    // A pooled set of bound buffers for these inputs' shapes (or a new one), holding a copy of the inputs.
    private BoundBuffers Bind(Tensor[] inputs, bool preallocated)
    {
        var buffers = _pool.Take(inputs, preallocated)
            ?? new BoundBuffers(_session, _inputNames, _outputNames, inputs, _outputTypes, preallocated ? OutputShapes(inputs) : null);
        for (var i = 0; i < inputs.Length; i++)
        {
            inputs[i].Data.CopyTo(buffers.InputBuffers[i]);
        }

        return buffers;
    }

    // Runs on the buffers and returns them to the pool (or disposes them), whatever happens.
    private Dictionary<string, Tensor> RunBound(BoundBuffers buffers, CancellationToken cancellationToken)
    {
        try
        {
            var runOptions = buffers.RunOptions;
            runOptions.Terminate = false;
            using (cancellationToken.CanBeCanceled ? cancellationToken.UnsafeRegister(static state => ((RunOptions)state!).Terminate = true, runOptions) : default)
            {
                _session.RunWithBinding(runOptions, buffers.Binding);
            }

            // Buffers too large to keep are not reused: their outputs become the tensors' own.
            return buffers.Outputs(handOver: buffers.Bytes > BoundBufferPool.MaxPooledBytes);
        }
        finally
        {
            _pool.Return(buffers);
        }
    }

    private long[][] OutputShapes(Tensor[] inputs)
    {
        var shapes = new long[_outputPlan.Length][];
        for (var o = 0; o < shapes.Length; o++)
        {
            var plan = _outputPlan[o]!;
            var shape = shapes[o] = new long[plan.Length];
            for (var d = 0; d < plan.Length; d++)
            {
                shape[d] = plan[d].Input < 0 ? plan[d].Value : inputs[plan[d].Input].Dimensions[(int)plan[d].Value];
            }
        }

        return shapes;
    }

    private static SessionOptions SessionOptionsFor(OnnxBackendOptions options, string logId, OrtLoggingLevel level)
    {
        var sessionOptions = new SessionOptions
        {
            LogId = logId,
            LogSeverityLevel = level,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
        };
        try
        {
            if (options.Deterministic)
            {
                // One thread within and across operators: the order of float additions never depends on scheduling.
                sessionOptions.IntraOpNumThreads = 1;
                sessionOptions.InterOpNumThreads = 1;
                sessionOptions.AddSessionConfigEntry(DeterministicComputeKey, "1");
            }
            else
            {
                sessionOptions.IntraOpNumThreads = options.IntraOpThreads;
                sessionOptions.InterOpNumThreads = options.InterOpThreads;
            }

            return sessionOptions;
        }
        catch
        {
            sessionOptions.Dispose();
            throw;
        }
    }

    private static InferenceSession? TryCuda(
        byte[] bytes, OnnxBackendOptions options, string logId, OrtLoggingLevel level, CudaProbe cuda, ILogger runtimeLogger, out string? reason, out string? cudaOptions)
    {
        cudaOptions = null;
        if (cuda.UnavailableReason is { } known)
        {
            reason = known;
            return null;
        }

        using var sessionOptions = SessionOptionsFor(options, logId, level);
        OrtCUDAProviderOptions? provider = null;
        try
        {
            using (OnnxRuntimeLog.Enter(runtimeLogger, probing: true))
            {
                try
                {
                    provider = new OrtCUDAProviderOptions(); // the CPU package: "CUDA execution provider is not enabled in this build"
                    provider.UpdateOptions(CudaProviderOptions(options.CudaDeviceId)); // loads the provider: names a missing CUDA library
                    sessionOptions.AppendExecutionProvider_CUDA(provider);
                    cudaOptions = provider.GetOptions();
                }
                catch (Exception exception) when (exception is OnnxRuntimeException or EntryPointNotFoundException or DllNotFoundException)
                {
                    reason = cuda.UnavailableReason = ReasonOf(exception);
                    return null;
                }
            }

            try
            {
                reason = null;
                return new InferenceSession(bytes, sessionOptions);
            }
            catch (OnnxRuntimeException exception)
            {
                reason = ReasonOf(exception); // this model on this device (e.g. out of GPU memory): the others may still use CUDA
                return null;
            }
        }
        finally
        {
            provider?.Dispose();
        }
    }

    private static InferenceSession Create(string id, byte[] bytes, SessionOptions sessionOptions)
    {
        try
        {
            return new InferenceSession(bytes, sessionOptions);
        }
        catch (OnnxRuntimeException exception)
        {
            throw new ModelLoadException(id, $"Model {id}: ONNX Runtime refused it: {ReasonOf(exception)}", exception);
        }
    }

    // ONNX Runtime's message without its error-code prefix and source location:
    // "[ErrorCode:Fail] /onnxruntime_src/…/provider_bridge_ort.cc:2043 … : 1 : FAIL : Failed to load library …" → "Failed to load library …".
    internal static string ReasonOf(Exception exception)
    {
        var message = exception.Message.Trim();
        var last = message.LastIndexOf(" : ", StringComparison.Ordinal);
        if (message.Contains("[ONNXRuntimeError]", StringComparison.Ordinal) && last >= 0)
        {
            message = message[(last + 3)..];
        }
        else if (message.StartsWith("[ErrorCode:", StringComparison.Ordinal) && message.IndexOf(']', StringComparison.Ordinal) is var end and > 0)
        {
            message = message[(end + 1)..].Trim();
        }

        return message;
    }

    private static TensorInfo Describe(string name, NodeMetadata metadata)
    {
        if (!metadata.IsTensor)
        {
            return new TensorInfo(name, null, [], []);
        }

        var type = (TensorElementType)(int)metadata.ElementDataType;
        return new TensorInfo(name, Enum.IsDefined(type) ? type : null,
            [.. metadata.Dimensions.Select(d => (long)d)],
            [.. metadata.SymbolicDimensions.Select(s => s ?? string.Empty)]);
    }

    // Where each dimension of an output comes from: a fixed size (Input -1, Value the size), or the input dimension with
    // the same symbolic name (Value its index). Null when some dimension is free and named by no input: only ONNX Runtime
    // knows it, after the run.
    private static (int Input, long Value)[]? Plan(TensorInfo output, IReadOnlyList<TensorInfo> inputs)
    {
        var plan = new (int Input, long Value)[output.Shape.Count];
        for (var d = 0; d < plan.Length; d++)
        {
            if (output.Shape[d] >= 0)
            {
                plan[d] = (-1, output.Shape[d]);
                continue;
            }

            var symbol = output.SymbolicDimensions[d];
            var source = symbol.Length == 0 ? default((int, int)?) : inputs
                .SelectMany((input, i) => input.SymbolicDimensions.Select((s, j) => (Symbol: s, Input: i, Dimension: j)))
                .Where(s => s.Symbol == symbol && inputs[s.Input].Shape[s.Dimension] < 0)
                .Select(s => ((int, int)?)(s.Input, s.Dimension))
                .FirstOrDefault();
            if (source is null)
            {
                return null;
            }

            plan[d] = source.Value;
        }

        return plan;
    }

    // Inputs must match the model: every declared input once, by name, with its element type, rank and fixed dimensions.
    private Tensor[] Validate(IReadOnlyDictionary<string, Tensor> inputs)
    {
        var inputsInfo = Model.Inputs;
        foreach (var name in inputs.Keys)
        {
            if (Array.IndexOf(_inputNames, name) < 0)
            {
                throw new ArgumentException($"The model has no input '{name}'; its inputs are {string.Join(", ", _inputNames)}.", nameof(inputs));
            }
        }

        var ordered = new Tensor[inputsInfo.Count];
        for (var i = 0; i < ordered.Length; i++)
        {
            var info = inputsInfo[i];
            if (!inputs.TryGetValue(info.Name, out var tensor))
            {
                throw new ArgumentException($"Input '{info.Name}' is missing.", nameof(inputs));
            }

            if (info.ElementType != tensor.ElementType)
            {
                throw new ArgumentException($"Input '{info.Name}' must be {(info.ElementType is { } t ? TensorElementTypes.NameOf(t) : "a tensor of an unsupported type")}, not {TensorElementTypes.NameOf(tensor.ElementType)}.", nameof(inputs));
            }

            var fits = tensor.Dimensions.Length == info.Shape.Count;
            for (var d = 0; fits && d < tensor.Dimensions.Length; d++)
            {
                fits = info.Shape[d] < 0 || tensor.Dimensions[d] == info.Shape[d];
            }

            if (!fits)
            {
                throw new ArgumentException($"Input '{info.Name}' must have shape [{string.Join(",", info.Shape.Select(d => d < 0 ? "?" : d.ToString(CultureInfo.InvariantCulture)))}], not [{string.Join(",", tensor.Shape)}].", nameof(inputs));
            }

            ordered[i] = tensor;
        }

        return ordered;
    }

    /// <summary>What a backend learned about CUDA while loading its models.</summary>
    internal sealed class CudaProbe
    {
        /// <summary>Why the CUDA provider cannot be used at all (then no model tries it again); null while unknown or usable.</summary>
        public string? UnavailableReason { get; set; }
    }
}
