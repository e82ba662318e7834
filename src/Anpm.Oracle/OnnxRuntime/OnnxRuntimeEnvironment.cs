using System.Runtime.InteropServices;
using System.Text;

namespace Anpm.Oracle;

/// <summary>Where a session runs.</summary>
public enum ExecutionDevice
{
    /// <summary>CUDA when this ONNX Runtime can use it, otherwise the CPU (the caller is told which).</summary>
    Auto = 0,

    /// <summary>The CPU.</summary>
    Cpu = 1,

    /// <summary>CUDA, or fail with a clear message.</summary>
    Cuda = 2,
}

/// <summary>ONNX Runtime's graph optimisation levels.</summary>
public enum GraphOptimization
{
    /// <summary>No optimisation.</summary>
    None = 0,

    /// <summary>Basic, semantics-preserving rewrites.</summary>
    Basic = 1,

    /// <summary>Extended rewrites.</summary>
    Extended = 2,

    /// <summary>All optimisations (the default).</summary>
    All = 99,
}

/// <summary>How a session is created.</summary>
public sealed class OnnxSessionOptions
{
    /// <summary>Where it runs. Default <see cref="ExecutionDevice.Cpu"/>.</summary>
    public ExecutionDevice Device { get; set; } = ExecutionDevice.Cpu;

    /// <summary>The CUDA device when running on CUDA. Default 0.</summary>
    public int CudaDeviceId { get; set; }

    /// <summary>
    /// Deterministic mode: one intra-op thread, sequential execution and deterministic compute (CUDA), so identical
    /// inputs give byte-identical outputs. Overrides the thread settings. Default true.
    /// </summary>
    public bool Deterministic { get; set; } = true;

    /// <summary>Threads within an operator (0: ONNX Runtime's default). Ignored in deterministic mode.</summary>
    public int IntraOpThreads { get; set; }

    /// <summary>Threads across operators (0: default). Ignored in deterministic mode.</summary>
    public int InterOpThreads { get; set; }

    /// <summary>Graph optimisation. Default <see cref="GraphOptimization.All"/>.</summary>
    public GraphOptimization Optimization { get; set; } = GraphOptimization.All;
}

/// <summary>
/// A loaded ONNX Runtime (the native library and one <c>OrtEnv</c>); create sessions from it. Thread-safe; dispose it
/// after its sessions.
/// </summary>
public sealed unsafe class OnnxRuntimeEnvironment : IDisposable
{
    /// <summary>The library's file name, looked for beside the Anpm.Oracle assembly unless a path is given.</summary>
    public const string LibraryFileName = "libonnxruntime.so.1";

    private readonly OrtHandle _env;
    private readonly OrtHandle _cpuMemory;

    private OnnxRuntimeEnvironment(OrtApi api, OrtHandle env, OrtHandle cpuMemory)
    {
        Api = api;
        _env = env;
        _cpuMemory = cpuMemory;
    }

    /// <summary>The ONNX Runtime version, e.g. <c>1.30.0</c>.</summary>
    public string Version => Api.Version;

    /// <summary>Whether this library can try CUDA at all (it exports the CUDA provider entry point).</summary>
    public bool HasCudaEntryPoint => Api.AppendCuda != null;

    internal OrtApi Api { get; }

    internal IntPtr Env => _env.DangerousGetHandle();

    internal IntPtr CpuMemory => _cpuMemory.DangerousGetHandle();

    /// <summary>Loads ONNX Runtime from <paramref name="libraryPath"/>, or from beside the Anpm.Oracle assembly.</summary>
    /// <exception cref="OnnxRuntimeException">The library is missing, not ONNX Runtime or too old.</exception>
    public static OnnxRuntimeEnvironment Load(string? libraryPath = null)
    {
        var path = libraryPath ?? Path.Combine(Path.GetDirectoryName(typeof(OnnxRuntimeEnvironment).Assembly.Location) ?? AppContext.BaseDirectory, LibraryFileName);
        var api = OrtApi.Load(path);
        IntPtr env;
        var logId = Encoding.UTF8.GetBytes("anpm\0");
        fixed (byte* id = logId)
        {
            api.Check(api.CreateEnv(3 /* ORT_LOGGING_LEVEL_ERROR */, id, &env), "CreateEnv");
        }

        var envHandle = new OrtHandle(env, api.ReleaseEnv);
        IntPtr memory;
        api.Check(api.CreateCpuMemoryInfo(0 /* OrtDeviceAllocator */, 0 /* OrtMemTypeDefault */, &memory), "CreateCpuMemoryInfo");
        return new OnnxRuntimeEnvironment(api, envHandle, new OrtHandle(memory, api.ReleaseMemoryInfo));
    }

    /// <summary>Creates a session for the model file at <paramref name="modelPath"/>.</summary>
    /// <exception cref="OnnxRuntimeException">ONNX Runtime refused the model or the options (its message included).</exception>
    public OnnxSession CreateSession(string modelPath, OnnxSessionOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(modelPath);
        return OnnxSession.Create(this, options ?? new OnnxSessionOptions(), (api, env, sessionOptions) =>
        {
            IntPtr session;
            var path = Encoding.UTF8.GetBytes(modelPath + "\0");
            fixed (byte* p = path)
            {
                api.Check(api.CreateSession(env, p, sessionOptions, &session), $"Loading model '{modelPath}'");
            }

            return session;
        });
    }

    /// <summary>Creates a session for a model held in memory.</summary>
    /// <exception cref="OnnxRuntimeException">ONNX Runtime refused the model or the options (its message included).</exception>
    public OnnxSession CreateSession(ReadOnlyMemory<byte> model, OnnxSessionOptions? options = null) =>
        OnnxSession.Create(this, options ?? new OnnxSessionOptions(), (api, env, sessionOptions) =>
        {
            IntPtr session;
            fixed (byte* bytes = model.Span)
            {
                api.Check(api.CreateSessionFromArray(env, bytes, (nuint)model.Length, sessionOptions, &session), "Loading a model from memory");
            }

            return session;
        });

    /// <inheritdoc />
    public void Dispose()
    {
        _cpuMemory.Dispose();
        _env.Dispose();
    }
}

/// <summary>An ONNX Runtime object released by its Release function when disposed or finalized.</summary>
internal sealed unsafe class OrtHandle : SafeHandle
{
    private readonly delegate* unmanaged[Cdecl]<IntPtr, void> _release;

    public OrtHandle(IntPtr handle, delegate* unmanaged[Cdecl]<IntPtr, void> release)
        : base(IntPtr.Zero, ownsHandle: true)
    {
        _release = release;
        SetHandle(handle);
    }

    public override bool IsInvalid => handle == IntPtr.Zero;

    protected override bool ReleaseHandle()
    {
        _release(handle);
        return true;
    }
}
