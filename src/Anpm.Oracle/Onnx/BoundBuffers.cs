using Anpm.Abstractions;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Microsoft.ML.OnnxRuntime;
using OrtElementType = Microsoft.ML.OnnxRuntime.Tensors.TensorElementType;
using Anpm.Tensors;

namespace Anpm.Oracle;

/// <summary>
/// One run's worth of bindings for a model and one set of input shapes: pinned input buffers bound once as
/// <see cref="OrtValue"/>s to an <see cref="OrtIoBinding"/>, and the outputs either bound the same way to pinned buffers
/// (when their shapes are known from the inputs': ONNX Runtime writes in place) or bound to the CPU device (ONNX Runtime
/// allocates them, read after the run); and the <see cref="RunOptions"/> a run is cancelled through. Creating and binding
/// OrtValues for every run costs about a third of a small model's inference, and ONNX Runtime's name-based Run is about
/// 7 % slower than a binding on silero VAD, so sets are pooled (<see cref="BoundBufferPool"/>); one set serves one run at
/// a time.
/// </summary>
internal sealed class BoundBuffers : IDisposable
{
    private readonly long[][] _inputShapes;
    private readonly string[] _outputNames;

    /// <param name="session">The model's session.</param>
    /// <param name="inputNames">Its inputs, in the order of <paramref name="inputs"/>.</param>
    /// <param name="outputNames">Its outputs, in the order of <paramref name="outputTypes"/>.</param>
    /// <param name="inputs">A run's inputs: the shapes these buffers serve.</param>
    /// <param name="outputTypes">The outputs' element types (meaningful when <paramref name="outputShapes"/> is given).</param>
    /// <param name="outputShapes">The outputs' shapes for these inputs, or null: ONNX Runtime allocates the outputs.</param>
    public BoundBuffers(InferenceSession session, string[] inputNames, string[] outputNames, Tensor[] inputs, TensorElementType[] outputTypes, long[][]? outputShapes)
    {
        _inputShapes = [.. inputs.Select(i => i.Dimensions.ToArray())];
        _outputNames = outputNames;
        InputBuffers = [.. inputs.Select(i => GC.AllocateUninitializedArray<byte>(i.Data.Length, pinned: true))];
        OutputTypes = outputTypes;
        OutputShapes = outputShapes;
        OutputBuffers = outputShapes is null ? [] : [.. outputShapes.Select((shape, o) =>
            GC.AllocateUninitializedArray<byte>(checked((int)(Tensor.ElementCountOf(shape) * TensorElementTypes.SizeOf(outputTypes[o]))), pinned: true))];
        Bytes = InputBuffers.Sum(b => (long)b.Length) + OutputBuffers.Sum(b => (long)b.Length);
        var values = new List<OrtValue>();
        try
        {
            for (var i = 0; i < inputs.Length; i++)
            {
                values.Add(Value(inputs[i].ElementType, _inputShapes[i], InputBuffers[i]));
            }

            for (var o = 0; o < OutputBuffers.Length; o++)
            {
                values.Add(Value(outputTypes[o], outputShapes![o], OutputBuffers[o]));
            }

            InputValues = [.. values.Take(inputs.Length)];
            OutputValues = [.. values.Skip(inputs.Length)];
            Binding = session.CreateIoBinding();
            for (var i = 0; i < inputNames.Length; i++)
            {
                Binding.BindInput(inputNames[i], InputValues[i]);
            }

            for (var o = 0; o < outputNames.Length; o++)
            {
                if (outputShapes is null)
                {
                    Binding.BindOutputToDevice(outputNames[o], OrtMemoryInfo.DefaultInstance);
                }
                else
                {
                    Binding.BindOutput(outputNames[o], OutputValues[o]);
                }
            }

            RunOptions = new RunOptions();
        }
        catch
        {
            Binding?.Dispose();
            values.ForEach(v => v.Dispose());
            throw;
        }
    }

    public byte[][] InputBuffers { get; }

    public OrtValue[] InputValues { get; }

    public TensorElementType[] OutputTypes { get; }

    /// <summary>The outputs' shapes when they are written into <see cref="OutputBuffers"/>; null when ONNX Runtime allocates them.</summary>
    public long[][]? OutputShapes { get; }

    public byte[][] OutputBuffers { get; }

    public OrtValue[] OutputValues { get; }

    public OrtIoBinding Binding { get; } = null!;

    public RunOptions RunOptions { get; }

    /// <summary>The pinned buffers' size in bytes.</summary>
    public long Bytes { get; }

    /// <summary>Whether these buffers hold inputs of exactly these shapes (the element types are the model's), with outputs of the kind asked for.</summary>
    public bool Fits(Tensor[] inputs, bool preallocated)
    {
        if ((OutputShapes is not null) != preallocated)
        {
            return false;
        }

        for (var i = 0; i < inputs.Length; i++)
        {
            if (!inputs[i].Dimensions.SequenceEqual(_inputShapes[i]))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// The outputs of the run just made, as tensors of their own: copied from the pinned buffers (or handed over when
    /// <paramref name="handOver"/>: these buffers are not reused), or from what ONNX Runtime allocated.
    /// </summary>
    /// <exception cref="InferenceFailedException">An output is not a tensor of a type Anpm reads.</exception>
    public Dictionary<string, Tensor> Outputs(bool handOver)
    {
        var result = new Dictionary<string, Tensor>(_outputNames.Length, StringComparer.Ordinal);
        if (OutputShapes is not null)
        {
            for (var o = 0; o < _outputNames.Length; o++)
            {
                result[_outputNames[o]] = new Tensor(OutputTypes[o], OutputShapes[o], handOver ? OutputBuffers[o] : OutputBuffers[o].AsSpan().ToArray());
            }

            return result;
        }

        using var produced = Binding.GetOutputValues();
        var n = 0;
        foreach (var value in produced)
        {
            var name = _outputNames[n++];
            if (!value.IsTensor)
            {
                throw new InferenceFailedException($"inference failed: output '{name}' is a {value.OnnxType}, not a tensor Anpm reads");
            }

            var info = value.GetTensorTypeAndShape();
            var type = (TensorElementType)(int)info.ElementDataType;
            if (!Enum.IsDefined(type))
            {
                throw new InferenceFailedException($"inference failed: output '{name}' holds {info.ElementDataType}, which Anpm does not read");
            }

            result[name] = new Tensor(type, info.Shape, value.GetTensorMutableRawData().ToArray());
        }

        return result;
    }

    public void Dispose()
    {
        Binding.Dispose();
        foreach (var value in InputValues.Concat(OutputValues))
        {
            value.Dispose();
        }

        RunOptions.Dispose();
    }

    // An OrtValue over a pinned array (the pinned object heap never moves it).
    private static unsafe OrtValue Value(TensorElementType type, long[] shape, byte[] buffer) =>
        OrtValue.CreateTensorValueWithData(OrtMemoryInfo.DefaultInstance, (OrtElementType)(int)type, shape,
            (IntPtr)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(buffer)), buffer.Length);
}

/// <summary>
/// A model's idle <see cref="BoundBuffers"/>: a few slots taken and returned without locks. A set that finds no free
/// slot replaces one (the working set of shapes changes); sets larger than <see cref="MaxPooledBytes"/> are not kept.
/// </summary>
internal sealed class BoundBufferPool : IDisposable
{
    /// <summary>The largest set kept for reuse, in bytes: beyond it, allocation is small next to the inference.</summary>
    public const long MaxPooledBytes = 1 << 20;

    private readonly BoundBuffers?[] _idle = new BoundBuffers?[Math.Clamp(Environment.ProcessorCount * 2, 4, 64)];
    private volatile bool _disposed;
    private int _next;

    /// <summary>An idle set for these inputs' shapes with outputs of the kind asked for, or null.</summary>
    public BoundBuffers? Take(Tensor[] inputs, bool preallocated)
    {
        for (var i = 0; i < _idle.Length; i++)
        {
            var buffers = Volatile.Read(ref _idle[i]);
            if (buffers is not null && buffers.Fits(inputs, preallocated) && Interlocked.CompareExchange(ref _idle[i], null, buffers) == buffers)
            {
                return buffers;
            }
        }

        return null;
    }

    /// <summary>Keeps a set for reuse, or disposes it.</summary>
    public void Return(BoundBuffers buffers)
    {
        if (_disposed || buffers.Bytes > MaxPooledBytes)
        {
            buffers.Dispose();
            return;
        }

        for (var i = 0; i < _idle.Length; i++)
        {
            if (Interlocked.CompareExchange(ref _idle[i], buffers, null) is null)
            {
                return;
            }
        }

        var slot = (int)((uint)Interlocked.Increment(ref _next) % (uint)_idle.Length);
        Interlocked.Exchange(ref _idle[slot], buffers)?.Dispose();
        if (_disposed)
        {
            Interlocked.Exchange(ref _idle[slot], null)?.Dispose();
        }
    }

    public void Dispose()
    {
        _disposed = true;
        for (var i = 0; i < _idle.Length; i++)
        {
            Interlocked.Exchange(ref _idle[i], null)?.Dispose();
        }
    }
}
