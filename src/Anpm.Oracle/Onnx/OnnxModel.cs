using Anpm.Abstractions;

namespace Anpm.Oracle;

/// <summary>Where a model runs.</summary>
public enum ExecutionDevice
{
    /// <summary>CUDA when ONNX Runtime can use it, otherwise the CPU with one warning that gives ONNX Runtime's reason.</summary>
    Auto = 0,

    /// <summary>The CPU.</summary>
    Cpu = 1,

    /// <summary>CUDA, or fail at start with ONNX Runtime's reason.</summary>
    Cuda = 2,
}

/// <summary>A model the <see cref="OnnxInferenceBackend"/> loaded: its file, where it runs and what it takes and gives.</summary>
public sealed class OnnxModel
{
    internal OnnxModel(string id, string path, string sha256, ExecutionDevice device, string? fallbackReason, string? cudaOptions,
        IReadOnlyList<TensorInfo> inputs, IReadOnlyList<TensorInfo> outputs)
    {
        Id = id;
        Path = path;
        Sha256 = sha256;
        Device = device;
        FallbackReason = fallbackReason;
        CudaOptions = cudaOptions;
        Inputs = inputs;
        Outputs = outputs;
    }

    /// <summary>The model id (a pool config's model id).</summary>
    public string Id { get; }

    /// <summary>The ONNX file it was loaded from.</summary>
    public string Path { get; }

    /// <summary>The file's SHA-256 (<c>0x</c> + 64 lowercase hex digits): the hash a task must name.</summary>
    public string Sha256 { get; }

    /// <summary>Where it runs: <see cref="ExecutionDevice.Cpu"/> or <see cref="ExecutionDevice.Cuda"/>, never Auto.</summary>
    public ExecutionDevice Device { get; }

    /// <summary>Why CUDA was not used when <see cref="ExecutionDevice.Auto"/> fell back to the CPU (ONNX Runtime's words); null otherwise.</summary>
    public string? FallbackReason { get; }

    /// <summary>The CUDA execution provider's options as ONNX Runtime reports them, when the model runs on CUDA; null otherwise.</summary>
    public string? CudaOptions { get; }

    /// <summary>The model's inputs, in the model's order.</summary>
    public IReadOnlyList<TensorInfo> Inputs { get; }

    /// <summary>The model's outputs, in the model's order.</summary>
    public IReadOnlyList<TensorInfo> Outputs { get; }
}

/// <summary>A model could not be loaded: a file ONNX Runtime refuses, a SHA-256 other than the configured one, or CUDA required and unusable.</summary>
public sealed class ModelLoadException : AnpmException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="model">The model id.</param>
    /// <param name="message">What went wrong, with ONNX Runtime's own words where it refused.</param>
    /// <param name="innerException">ONNX Runtime's exception, if any.</param>
    public ModelLoadException(string model, string message, Exception? innerException = null)
        : base(message, innerException!)
    {
        Model = model;
    }

    /// <summary>The model id.</summary>
    public string Model { get; }
}
