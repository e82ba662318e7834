using System.Runtime.InteropServices;

namespace Anpm.Oracle;

/// <summary>
/// ONNX Runtime's C API function table (<c>OrtApi</c>), read from the native library: <c>OrtGetApiBase()->GetApi(version)</c>
/// returns a table of function pointers that ONNX Runtime only ever appends to, so each function keeps its index (the
/// indices below are their positions in <c>struct OrtApi</c> of <c>onnxruntime_c_api.h</c>). Only what Anpm uses is bound.
/// </summary>
internal sealed unsafe class OrtApi
{
    private readonly IntPtr _table;

    private OrtApi(IntPtr library, IntPtr table, string version, uint apiVersion)
    {
        Library = library;
        _table = table;
        Version = version;
        ApiVersion = apiVersion;
        GetErrorCode = (delegate* unmanaged[Cdecl]<IntPtr, int>)At(1);
        GetErrorMessage = (delegate* unmanaged[Cdecl]<IntPtr, IntPtr>)At(2);
        CreateEnv = (delegate* unmanaged[Cdecl]<int, byte*, IntPtr*, IntPtr>)At(3);
        CreateSession = (delegate* unmanaged[Cdecl]<IntPtr, byte*, IntPtr, IntPtr*, IntPtr>)At(7);
        CreateSessionFromArray = (delegate* unmanaged[Cdecl]<IntPtr, void*, nuint, IntPtr, IntPtr*, IntPtr>)At(8);
        Run = (delegate* unmanaged[Cdecl]<IntPtr, IntPtr, IntPtr*, IntPtr*, nuint, IntPtr*, nuint, IntPtr*, IntPtr>)At(9);
        CreateSessionOptions = (delegate* unmanaged[Cdecl]<IntPtr*, IntPtr>)At(10);
        SetSessionExecutionMode = (delegate* unmanaged[Cdecl]<IntPtr, int, IntPtr>)At(13);
        SetSessionGraphOptimizationLevel = (delegate* unmanaged[Cdecl]<IntPtr, int, IntPtr>)At(23);
        SetIntraOpNumThreads = (delegate* unmanaged[Cdecl]<IntPtr, int, IntPtr>)At(24);
        SetInterOpNumThreads = (delegate* unmanaged[Cdecl]<IntPtr, int, IntPtr>)At(25);
        SessionGetInputCount = (delegate* unmanaged[Cdecl]<IntPtr, nuint*, IntPtr>)At(30);
        SessionGetOutputCount = (delegate* unmanaged[Cdecl]<IntPtr, nuint*, IntPtr>)At(31);
        SessionGetInputTypeInfo = (delegate* unmanaged[Cdecl]<IntPtr, nuint, IntPtr*, IntPtr>)At(33);
        SessionGetOutputTypeInfo = (delegate* unmanaged[Cdecl]<IntPtr, nuint, IntPtr*, IntPtr>)At(34);
        SessionGetInputName = (delegate* unmanaged[Cdecl]<IntPtr, nuint, IntPtr, IntPtr*, IntPtr>)At(36);
        SessionGetOutputName = (delegate* unmanaged[Cdecl]<IntPtr, nuint, IntPtr, IntPtr*, IntPtr>)At(37);
        CreateRunOptions = (delegate* unmanaged[Cdecl]<IntPtr*, IntPtr>)At(39);
        RunOptionsSetTerminate = (delegate* unmanaged[Cdecl]<IntPtr, IntPtr>)At(46);
        CreateTensorWithDataAsOrtValue = (delegate* unmanaged[Cdecl]<IntPtr, void*, nuint, long*, nuint, int, IntPtr*, IntPtr>)At(49);
        GetTensorMutableData = (delegate* unmanaged[Cdecl]<IntPtr, void**, IntPtr>)At(51);
        CastTypeInfoToTensorInfo = (delegate* unmanaged[Cdecl]<IntPtr, IntPtr*, IntPtr>)At(55);
        GetOnnxTypeFromTypeInfo = (delegate* unmanaged[Cdecl]<IntPtr, int*, IntPtr>)At(56);
        GetTensorElementType = (delegate* unmanaged[Cdecl]<IntPtr, int*, IntPtr>)At(60);
        GetDimensionsCount = (delegate* unmanaged[Cdecl]<IntPtr, nuint*, IntPtr>)At(61);
        GetDimensions = (delegate* unmanaged[Cdecl]<IntPtr, long*, nuint, IntPtr>)At(62);
        GetSymbolicDimensions = (delegate* unmanaged[Cdecl]<IntPtr, IntPtr*, nuint, IntPtr>)At(63);
        GetTensorShapeElementCount = (delegate* unmanaged[Cdecl]<IntPtr, nuint*, IntPtr>)At(64);
        GetTensorTypeAndShape = (delegate* unmanaged[Cdecl]<IntPtr, IntPtr*, IntPtr>)At(65);
        CreateCpuMemoryInfo = (delegate* unmanaged[Cdecl]<int, int, IntPtr*, IntPtr>)At(69);
        AllocatorFree = (delegate* unmanaged[Cdecl]<IntPtr, IntPtr, IntPtr>)At(76);
        GetAllocatorWithDefaultOptions = (delegate* unmanaged[Cdecl]<IntPtr*, IntPtr>)At(78);
        ReleaseEnv = (delegate* unmanaged[Cdecl]<IntPtr, void>)At(92);
        ReleaseStatus = (delegate* unmanaged[Cdecl]<IntPtr, void>)At(93);
        ReleaseMemoryInfo = (delegate* unmanaged[Cdecl]<IntPtr, void>)At(94);
        ReleaseSession = (delegate* unmanaged[Cdecl]<IntPtr, void>)At(95);
        ReleaseValue = (delegate* unmanaged[Cdecl]<IntPtr, void>)At(96);
        ReleaseRunOptions = (delegate* unmanaged[Cdecl]<IntPtr, void>)At(97);
        ReleaseTypeInfo = (delegate* unmanaged[Cdecl]<IntPtr, void>)At(98);
        ReleaseTensorTypeAndShapeInfo = (delegate* unmanaged[Cdecl]<IntPtr, void>)At(99);
        ReleaseSessionOptions = (delegate* unmanaged[Cdecl]<IntPtr, void>)At(100);
        SetDeterministicCompute = apiVersion >= 17 ? (delegate* unmanaged[Cdecl]<IntPtr, byte, IntPtr>)At(273) : null;
        AppendCuda = NativeLibrary.TryGetExport(library, "OrtSessionOptionsAppendExecutionProvider_CUDA", out var cuda)
            ? (delegate* unmanaged[Cdecl]<IntPtr, int, IntPtr>)cuda
            : null;
    }

    public IntPtr Library { get; }

    /// <summary>The library's version, e.g. <c>1.30.0</c>.</summary>
    public string Version { get; }

    /// <summary>The C API version the table was requested for (the library's minor version).</summary>
    public uint ApiVersion { get; }

    public delegate* unmanaged[Cdecl]<IntPtr, int> GetErrorCode { get; }

    public delegate* unmanaged[Cdecl]<IntPtr, IntPtr> GetErrorMessage { get; }

    public delegate* unmanaged[Cdecl]<int, byte*, IntPtr*, IntPtr> CreateEnv { get; }

    public delegate* unmanaged[Cdecl]<IntPtr, byte*, IntPtr, IntPtr*, IntPtr> CreateSession { get; }

    public delegate* unmanaged[Cdecl]<IntPtr, void*, nuint, IntPtr, IntPtr*, IntPtr> CreateSessionFromArray { get; }

    public delegate* unmanaged[Cdecl]<IntPtr, IntPtr, IntPtr*, IntPtr*, nuint, IntPtr*, nuint, IntPtr*, IntPtr> Run { get; }

    public delegate* unmanaged[Cdecl]<IntPtr*, IntPtr> CreateSessionOptions { get; }

    public delegate* unmanaged[Cdecl]<IntPtr, int, IntPtr> SetSessionExecutionMode { get; }

    public delegate* unmanaged[Cdecl]<IntPtr, int, IntPtr> SetSessionGraphOptimizationLevel { get; }

    public delegate* unmanaged[Cdecl]<IntPtr, int, IntPtr> SetIntraOpNumThreads { get; }

    public delegate* unmanaged[Cdecl]<IntPtr, int, IntPtr> SetInterOpNumThreads { get; }

    public delegate* unmanaged[Cdecl]<IntPtr, nuint*, IntPtr> SessionGetInputCount { get; }

    public delegate* unmanaged[Cdecl]<IntPtr, nuint*, IntPtr> SessionGetOutputCount { get; }

    public delegate* unmanaged[Cdecl]<IntPtr, nuint, IntPtr*, IntPtr> SessionGetInputTypeInfo { get; }

    public delegate* unmanaged[Cdecl]<IntPtr, nuint, IntPtr*, IntPtr> SessionGetOutputTypeInfo { get; }

    public delegate* unmanaged[Cdecl]<IntPtr, nuint, IntPtr, IntPtr*, IntPtr> SessionGetInputName { get; }

    public delegate* unmanaged[Cdecl]<IntPtr, nuint, IntPtr, IntPtr*, IntPtr> SessionGetOutputName { get; }

    public delegate* unmanaged[Cdecl]<IntPtr*, IntPtr> CreateRunOptions { get; }

    public delegate* unmanaged[Cdecl]<IntPtr, IntPtr> RunOptionsSetTerminate { get; }

    public delegate* unmanaged[Cdecl]<IntPtr, void*, nuint, long*, nuint, int, IntPtr*, IntPtr> CreateTensorWithDataAsOrtValue { get; }

    public delegate* unmanaged[Cdecl]<IntPtr, void**, IntPtr> GetTensorMutableData { get; }

    public delegate* unmanaged[Cdecl]<IntPtr, IntPtr*, IntPtr> CastTypeInfoToTensorInfo { get; }

    public delegate* unmanaged[Cdecl]<IntPtr, int*, IntPtr> GetOnnxTypeFromTypeInfo { get; }

    public delegate* unmanaged[Cdecl]<IntPtr, int*, IntPtr> GetTensorElementType { get; }

    public delegate* unmanaged[Cdecl]<IntPtr, nuint*, IntPtr> GetDimensionsCount { get; }

    public delegate* unmanaged[Cdecl]<IntPtr, long*, nuint, IntPtr> GetDimensions { get; }

    public delegate* unmanaged[Cdecl]<IntPtr, IntPtr*, nuint, IntPtr> GetSymbolicDimensions { get; }

    public delegate* unmanaged[Cdecl]<IntPtr, nuint*, IntPtr> GetTensorShapeElementCount { get; }

    public delegate* unmanaged[Cdecl]<IntPtr, IntPtr*, IntPtr> GetTensorTypeAndShape { get; }

    public delegate* unmanaged[Cdecl]<int, int, IntPtr*, IntPtr> CreateCpuMemoryInfo { get; }

    public delegate* unmanaged[Cdecl]<IntPtr, IntPtr, IntPtr> AllocatorFree { get; }

    public delegate* unmanaged[Cdecl]<IntPtr*, IntPtr> GetAllocatorWithDefaultOptions { get; }

    public delegate* unmanaged[Cdecl]<IntPtr, void> ReleaseEnv { get; }

    public delegate* unmanaged[Cdecl]<IntPtr, void> ReleaseStatus { get; }

    public delegate* unmanaged[Cdecl]<IntPtr, void> ReleaseMemoryInfo { get; }

    public delegate* unmanaged[Cdecl]<IntPtr, void> ReleaseSession { get; }

    public delegate* unmanaged[Cdecl]<IntPtr, void> ReleaseValue { get; }

    public delegate* unmanaged[Cdecl]<IntPtr, void> ReleaseRunOptions { get; }

    public delegate* unmanaged[Cdecl]<IntPtr, void> ReleaseTypeInfo { get; }

    public delegate* unmanaged[Cdecl]<IntPtr, void> ReleaseTensorTypeAndShapeInfo { get; }

    public delegate* unmanaged[Cdecl]<IntPtr, void> ReleaseSessionOptions { get; }

    /// <summary><c>SetDeterministicCompute</c> (C API 17 and later); null on older libraries.</summary>
    public delegate* unmanaged[Cdecl]<IntPtr, byte, IntPtr> SetDeterministicCompute { get; }

    /// <summary>The exported <c>OrtSessionOptionsAppendExecutionProvider_CUDA</c>; null when the library has none.</summary>
    public delegate* unmanaged[Cdecl]<IntPtr, int, IntPtr> AppendCuda { get; }

    /// <summary>Loads the library and reads its function table for the C API version it reports.</summary>
    /// <exception cref="OnnxRuntimeException">The library is missing, not ONNX Runtime, or too old.</exception>
    public static OrtApi Load(string path)
    {
        if (!NativeLibrary.TryLoad(path, out var library))
        {
            throw new OnnxRuntimeException(OnnxErrorCode.NoSuchFile,
                $"The ONNX Runtime library '{path}' could not be loaded (build Anpm.Oracle to fetch it, or set OnnxRuntimeOptions.LibraryPath).");
        }

        if (!NativeLibrary.TryGetExport(library, "OrtGetApiBase", out var getApiBase))
        {
            throw new OnnxRuntimeException(OnnxErrorCode.InvalidArgument, $"'{path}' exports no OrtGetApiBase: it is not ONNX Runtime.");
        }

        var apiBase = ((delegate* unmanaged[Cdecl]<IntPtr>)getApiBase)();
        var getApi = (delegate* unmanaged[Cdecl]<uint, IntPtr>)Marshal.ReadIntPtr(apiBase, 0);
        var getVersion = (delegate* unmanaged[Cdecl]<IntPtr>)Marshal.ReadIntPtr(apiBase, IntPtr.Size);
        var version = Marshal.PtrToStringUTF8(getVersion()) ?? string.Empty;
        var parts = version.Split('.');
        if (parts.Length < 2 || !uint.TryParse(parts[1], System.Globalization.CultureInfo.InvariantCulture, out var minor) || parts[0] != "1" || minor < 16)
        {
            throw new OnnxRuntimeException(OnnxErrorCode.NotImplemented, $"ONNX Runtime {version} at '{path}' is too old; Anpm needs 1.16 or later.");
        }

        var table = getApi(minor);
        return table == IntPtr.Zero
            ? throw new OnnxRuntimeException(OnnxErrorCode.NotImplemented, $"ONNX Runtime {version} refused C API version {minor}.")
            : new OrtApi(library, table, version, minor);
    }

    /// <summary>Throws the status's error (and releases it) when the call failed.</summary>
    /// <exception cref="OnnxRuntimeException">The call failed; the message is ONNX Runtime's.</exception>
    public void Check(IntPtr status, string what)
    {
        if (status == IntPtr.Zero)
        {
            return;
        }

        var code = (OnnxErrorCode)GetErrorCode(status);
        var message = Marshal.PtrToStringUTF8(GetErrorMessage(status)) ?? string.Empty;
        ReleaseStatus(status);
        throw new OnnxRuntimeException(code, $"{what}: {message}");
    }

    private IntPtr At(int index) => Marshal.ReadIntPtr(_table, index * IntPtr.Size);
}

/// <summary>ONNX Runtime's error codes (<c>OrtErrorCode</c>).</summary>
public enum OnnxErrorCode
{
    /// <summary>No error.</summary>
    Ok = 0,

    /// <summary>A general failure.</summary>
    Fail = 1,

    /// <summary>An argument is invalid (e.g. a wrong input name, type or shape).</summary>
    InvalidArgument = 2,

    /// <summary>A file does not exist.</summary>
    NoSuchFile = 3,

    /// <summary>A model does not exist.</summary>
    NoModel = 4,

    /// <summary>The engine failed.</summary>
    EngineError = 5,

    /// <summary>A runtime error (e.g. the run was terminated).</summary>
    RuntimeException = 6,

    /// <summary>The model is not a valid ONNX protobuf.</summary>
    InvalidProtobuf = 7,

    /// <summary>The model has been loaded already.</summary>
    ModelLoaded = 8,

    /// <summary>Not implemented (e.g. an execution provider this build lacks).</summary>
    NotImplemented = 9,

    /// <summary>The graph is invalid.</summary>
    InvalidGraph = 10,

    /// <summary>An execution provider failed.</summary>
    ExecutionProviderFail = 11,
}

/// <summary>An error reported by ONNX Runtime (its code and message) or by the binding around it.</summary>
public sealed class OnnxRuntimeException : Exception
{
    /// <summary>Creates the exception.</summary>
    public OnnxRuntimeException(OnnxErrorCode code, string message)
        : base(message) => Code = code;

    /// <summary>ONNX Runtime's error code.</summary>
    public OnnxErrorCode Code { get; }
}
