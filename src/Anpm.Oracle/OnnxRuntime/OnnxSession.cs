using System.Runtime.InteropServices;
using System.Text;

namespace Anpm.Oracle;

/// <summary>
/// One loaded model (an <c>OrtSession</c>): its inputs and outputs as declared, and <see cref="Run"/>, which validates the
/// inputs against them first. Runs may be concurrent; dispose it after the last run.
/// </summary>
public sealed unsafe class OnnxSession : IDisposable
{
    private readonly OnnxRuntimeEnvironment _runtime;
    private readonly OrtHandle _session;

    private OnnxSession(OnnxRuntimeEnvironment runtime, OrtHandle session, ExecutionDevice device, IReadOnlyList<TensorInfo> inputs, IReadOnlyList<TensorInfo> outputs)
    {
        _runtime = runtime;
        _session = session;
        Device = device;
        Inputs = inputs;
        Outputs = outputs;
    }

    /// <summary>Where it runs (CPU or CUDA; never Auto).</summary>
    public ExecutionDevice Device { get; }

    /// <summary>The model's inputs.</summary>
    public IReadOnlyList<TensorInfo> Inputs { get; }

    /// <summary>The model's outputs.</summary>
    public IReadOnlyList<TensorInfo> Outputs { get; }

    /// <summary>Why CUDA was not used when <see cref="ExecutionDevice.Auto"/> fell back to the CPU; null otherwise.</summary>
    public string? FallbackReason { get; private init; }

    /// <summary>
    /// Runs the model on <paramref name="inputs"/> (every declared input, by name) and returns every output by name.
    /// Cancelling terminates the run inside ONNX Runtime.
    /// </summary>
    /// <exception cref="ArgumentException">An input is missing, unknown, or of the wrong type, rank or dimensions; the message names it.</exception>
    /// <exception cref="OperationCanceledException">The run was cancelled.</exception>
    /// <exception cref="OnnxRuntimeException">ONNX Runtime failed (its message included).</exception>
    public IReadOnlyDictionary<string, Tensor> Run(IReadOnlyDictionary<string, Tensor> inputs, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        Validate(inputs);
        cancellationToken.ThrowIfCancellationRequested();
        var api = _runtime.Api;
        var ordered = Inputs.Select(i => (Info: i, Tensor: inputs[i.Name])).ToArray();
        var handles = new GCHandle[ordered.Length];
        var values = new IntPtr[ordered.Length];
        var outputs = new IntPtr[Outputs.Count];
        var names = new List<IntPtr>();
        IntPtr runOptions = IntPtr.Zero;
        try
        {
            for (var i = 0; i < ordered.Length; i++)
            {
                var tensor = ordered[i].Tensor;
                handles[i] = GCHandle.Alloc(tensor.RawData, GCHandleType.Pinned);
                var shape = tensor.Shape.ToArray();
                fixed (long* dims = shape)
                {
                    IntPtr value;
                    api.Check(api.CreateTensorWithDataAsOrtValue(_runtime.CpuMemory, (void*)handles[i].AddrOfPinnedObject(), (nuint)tensor.RawData.Length,
                        dims, (nuint)shape.Length, (int)tensor.ElementType, &value), $"Creating input '{ordered[i].Info.Name}'");
                    values[i] = value;
                }
            }

            var inputNames = ordered.Select(o => Utf8(o.Info.Name, names)).ToArray();
            var outputNames = Outputs.Select(o => Utf8(o.Name, names)).ToArray();
            api.Check(api.CreateRunOptions(&runOptions), "CreateRunOptions");
            var options = runOptions;
            using (cancellationToken.Register(() => api.RunOptionsSetTerminate(options)))
            {
                IntPtr status;
                fixed (IntPtr* inNames = inputNames, inValues = values, outNames = outputNames, outValues = outputs)
                {
                    status = api.Run(_session.DangerousGetHandle(), runOptions, inNames, inValues, (nuint)values.Length, outNames, (nuint)outputNames.Length, outValues);
                }

                if (status != IntPtr.Zero && cancellationToken.IsCancellationRequested)
                {
                    api.ReleaseStatus(status);
                    cancellationToken.ThrowIfCancellationRequested();
                }

                api.Check(status, "Run");
            }

            var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
            for (var i = 0; i < outputs.Length; i++)
            {
                result[Outputs[i].Name] = ReadTensor(outputs[i], Outputs[i].Name);
            }

            return result;
        }
        finally
        {
            foreach (var value in values.Concat(outputs).Where(v => v != IntPtr.Zero))
            {
                api.ReleaseValue(value);
            }

            foreach (var handle in handles.Where(h => h.IsAllocated))
            {
                handle.Free();
            }

            foreach (var name in names)
            {
                Marshal.FreeHGlobal(name);
            }

            if (runOptions != IntPtr.Zero)
            {
                api.ReleaseRunOptions(runOptions);
            }
        }
    }

    /// <inheritdoc />
    public void Dispose() => _session.Dispose();

    internal static OnnxSession Create(OnnxRuntimeEnvironment runtime, OnnxSessionOptions options, Func<OrtApi, IntPtr, IntPtr, IntPtr> load)
    {
        ArgumentNullException.ThrowIfNull(options);
        var api = runtime.Api;
        string? fallback = null;
        var device = options.Device;
        if (device != ExecutionDevice.Cpu)
        {
            // Try CUDA with a throwaway options object, so a failure leaves the CPU options untouched.
            var cudaError = TryCuda(runtime, options, load, out var cudaSession);
            if (cudaSession is not null)
            {
                return cudaSession;
            }

            if (device == ExecutionDevice.Cuda)
            {
                throw new OnnxRuntimeException(OnnxErrorCode.ExecutionProviderFail, "CUDA was requested but cannot be used: " + cudaError);
            }

            fallback = cudaError;
        }

        var session = LoadWith(runtime, options, load, cuda: false);
        return Describe(runtime, session, ExecutionDevice.Cpu).With(fallback);
    }

    private OnnxSession With(string? fallback) => new(_runtime, _session, Device, Inputs, Outputs) { FallbackReason = fallback };

    private static string TryCuda(OnnxRuntimeEnvironment runtime, OnnxSessionOptions options, Func<OrtApi, IntPtr, IntPtr, IntPtr> load, out OnnxSession? session)
    {
        session = null;
        if (runtime.Api.AppendCuda == null)
        {
            return $"ONNX Runtime {runtime.Version} has no CUDA entry point.";
        }

        try
        {
            session = Describe(runtime, LoadWith(runtime, options, load, cuda: true), ExecutionDevice.Cuda);
            return string.Empty;
        }
        catch (OnnxRuntimeException exception)
        {
            return exception.Message;
        }
    }

    private static OrtHandle LoadWith(OnnxRuntimeEnvironment runtime, OnnxSessionOptions options, Func<OrtApi, IntPtr, IntPtr, IntPtr> load, bool cuda)
    {
        var api = runtime.Api;
        IntPtr sessionOptions;
        api.Check(api.CreateSessionOptions(&sessionOptions), "CreateSessionOptions");
        try
        {
            api.Check(api.SetSessionGraphOptimizationLevel(sessionOptions, (int)options.Optimization), "SetSessionGraphOptimizationLevel");
            if (options.Deterministic)
            {
                api.Check(api.SetIntraOpNumThreads(sessionOptions, 1), "SetIntraOpNumThreads");
                api.Check(api.SetInterOpNumThreads(sessionOptions, 1), "SetInterOpNumThreads");
                api.Check(api.SetSessionExecutionMode(sessionOptions, 0 /* ORT_SEQUENTIAL */), "SetSessionExecutionMode");
                if (api.SetDeterministicCompute != null)
                {
                    api.Check(api.SetDeterministicCompute(sessionOptions, 1), "SetDeterministicCompute");
                }
            }
            else
            {
                api.Check(api.SetIntraOpNumThreads(sessionOptions, Math.Max(0, options.IntraOpThreads)), "SetIntraOpNumThreads");
                api.Check(api.SetInterOpNumThreads(sessionOptions, Math.Max(0, options.InterOpThreads)), "SetInterOpNumThreads");
            }

            if (cuda)
            {
                api.Check(api.AppendCuda(sessionOptions, options.CudaDeviceId), "Enabling CUDA");
            }

            return new OrtHandle(load(api, runtime.Env, sessionOptions), api.ReleaseSession);
        }
        finally
        {
            api.ReleaseSessionOptions(sessionOptions);
        }
    }

    private static OnnxSession Describe(OnnxRuntimeEnvironment runtime, OrtHandle session, ExecutionDevice device)
    {
        var api = runtime.Api;
        var handle = session.DangerousGetHandle();
        IntPtr defaultAllocator;
        api.Check(api.GetAllocatorWithDefaultOptions(&defaultAllocator), "GetAllocatorWithDefaultOptions");
        var allocator = defaultAllocator;
        List<TensorInfo> Read(bool outputs)
        {
            nuint count;
            api.Check(outputs ? api.SessionGetOutputCount(handle, &count) : api.SessionGetInputCount(handle, &count), "Counting the model's inputs/outputs");
            var infos = new List<TensorInfo>();
            for (nuint i = 0; i < count; i++)
            {
                IntPtr namePointer;
                api.Check(outputs ? api.SessionGetOutputName(handle, i, allocator, &namePointer) : api.SessionGetInputName(handle, i, allocator, &namePointer), "Reading a name");
                var name = Marshal.PtrToStringUTF8(namePointer) ?? string.Empty;
                api.Check(api.AllocatorFree(allocator, namePointer), "AllocatorFree");
                IntPtr typeInfo;
                api.Check(outputs ? api.SessionGetOutputTypeInfo(handle, i, &typeInfo) : api.SessionGetInputTypeInfo(handle, i, &typeInfo), "Reading a type");
                try
                {
                    infos.Add(ReadInfo(api, name, typeInfo));
                }
                finally
                {
                    api.ReleaseTypeInfo(typeInfo);
                }
            }

            return infos;
        }

        try
        {
            return new OnnxSession(runtime, session, device, Read(outputs: false), Read(outputs: true));
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    private static TensorInfo ReadInfo(OrtApi api, string name, IntPtr typeInfo)
    {
        int onnxType;
        api.Check(api.GetOnnxTypeFromTypeInfo(typeInfo, &onnxType), "GetOnnxTypeFromTypeInfo");
        if (onnxType != 1 /* ONNX_TYPE_TENSOR */)
        {
            return new TensorInfo(name, null, [], []);
        }

        IntPtr tensorInfo;
        api.Check(api.CastTypeInfoToTensorInfo(typeInfo, &tensorInfo), "CastTypeInfoToTensorInfo");
        var (type, shape) = ReadTypeAndShape(api, tensorInfo);
        nuint count = (nuint)shape.Length;
        var symbolic = new IntPtr[shape.Length];
        fixed (IntPtr* s = symbolic)
        {
            api.Check(api.GetSymbolicDimensions(tensorInfo, s, count), "GetSymbolicDimensions");
        }

        return new TensorInfo(name, Enum.IsDefined((TensorElementType)type) ? (TensorElementType)type : null, shape,
            [.. symbolic.Select(p => p == IntPtr.Zero ? string.Empty : Marshal.PtrToStringUTF8(p) ?? string.Empty)]);
    }

    private static (int Type, long[] Shape) ReadTypeAndShape(OrtApi api, IntPtr tensorInfo)
    {
        int type;
        nuint count;
        api.Check(api.GetTensorElementType(tensorInfo, &type), "GetTensorElementType");
        api.Check(api.GetDimensionsCount(tensorInfo, &count), "GetDimensionsCount");
        var shape = new long[(int)count];
        fixed (long* d = shape)
        {
            api.Check(api.GetDimensions(tensorInfo, d, count), "GetDimensions");
        }

        return (type, shape);
    }

    private Tensor ReadTensor(IntPtr value, string name)
    {
        var api = _runtime.Api;
        IntPtr info;
        api.Check(api.GetTensorTypeAndShape(value, &info), $"Reading output '{name}'");
        try
        {
            var (type, shape) = ReadTypeAndShape(api, info);
            if (!Enum.IsDefined((TensorElementType)type))
            {
                throw new OnnxRuntimeException(OnnxErrorCode.NotImplemented, $"Output '{name}' has element type {type}, which Anpm does not read.");
            }

            nuint count;
            api.Check(api.GetTensorShapeElementCount(info, &count), "GetTensorShapeElementCount");
            void* data;
            api.Check(api.GetTensorMutableData(value, &data), "GetTensorMutableData");
            var bytes = checked((int)count * TensorElementTypes.SizeOf((TensorElementType)type));
            return new Tensor((TensorElementType)type, shape, new ReadOnlySpan<byte>(data, bytes));
        }
        finally
        {
            api.ReleaseTensorTypeAndShapeInfo(info);
        }
    }

    // Inputs must match the model: every declared input once, by name, with its element type, rank and fixed dimensions.
    private void Validate(IReadOnlyDictionary<string, Tensor> inputs)
    {
        foreach (var name in inputs.Keys.Where(n => Inputs.All(i => i.Name != n)))
        {
            throw new ArgumentException($"The model has no input '{name}'; its inputs are {string.Join(", ", Inputs.Select(i => i.Name))}.", nameof(inputs));
        }

        foreach (var info in Inputs)
        {
            if (!inputs.TryGetValue(info.Name, out var tensor))
            {
                throw new ArgumentException($"Input '{info.Name}' is missing.", nameof(inputs));
            }

            if (info.ElementType != tensor.ElementType)
            {
                throw new ArgumentException($"Input '{info.Name}' must be {(info.ElementType is { } t ? TensorElementTypes.NameOf(t) : "a tensor of an unsupported type")}, not {TensorElementTypes.NameOf(tensor.ElementType)}.", nameof(inputs));
            }

            var fits = tensor.Shape.Count == info.Shape.Count && tensor.Shape.Zip(info.Shape).All(d => d.Second < 0 || d.First == d.Second);
            if (!fits)
            {
                throw new ArgumentException($"Input '{info.Name}' must have shape [{string.Join(",", info.Shape.Select(d => d < 0 ? "?" : d.ToString(System.Globalization.CultureInfo.InvariantCulture)))}], not [{string.Join(",", tensor.Shape)}].", nameof(inputs));
            }
        }
    }

    private static IntPtr Utf8(string text, List<IntPtr> owned)
    {
        var bytes = Encoding.UTF8.GetBytes(text + "\0");
        var pointer = Marshal.AllocHGlobal(bytes.Length);
        Marshal.Copy(bytes, 0, pointer, bytes.Length);
        owned.Add(pointer);
        return pointer;
    }
}
