using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Microsoft.ML.OnnxRuntime;
using OrtElementType = Microsoft.ML.OnnxRuntime.Tensors.TensorElementType;

namespace Anpm.Oracle;

/// <summary>
/// One run's worth of pinned buffers for a model and one set of input shapes: the inputs and the outputs (their shapes
/// known from the inputs') as <see cref="OrtValue"/>s bound once to an <see cref="OrtIoBinding"/>, and the
/// <see cref="RunOptions"/> a run is cancelled through. Creating and binding OrtValues costs about a third of a small
/// model's inference, so sets are pooled and reused (<see cref="BoundBufferPool"/>); one set serves one run at a time.
/// </summary>
internal sealed class BoundBuffers : IDisposable
{
    private readonly long[][] _inputShapes;

    public BoundBuffers(InferenceSession session, string[] inputNames, string[] outputNames, Tensor[] inputs, TensorElementType[] outputTypes, long[][] outputShapes)
    {
        _inputShapes = [.. inputs.Select(i => i.ShapeArray)];
        InputBuffers = [.. inputs.Select(i => GC.AllocateUninitializedArray<byte>(i.RawData.Length, pinned: true))];
        OutputTypes = outputTypes;
        OutputShapes = outputShapes;
        OutputBuffers = [.. outputShapes.Select((shape, o) =>
            GC.AllocateUninitializedArray<byte>(checked((int)(Tensor.ElementCountOf(shape) * TensorElementTypes.SizeOf(outputTypes[o]))), pinned: true))];
        Bytes = InputBuffers.Sum(b => (long)b.Length) + OutputBuffers.Sum(b => (long)b.Length);
        var values = new List<OrtValue>();
        try
        {
            for (var i = 0; i < inputs.Length; i++)
            {
                values.Add(Value(inputs[i].ElementType, _inputShapes[i], InputBuffers[i]));
            }

            for (var o = 0; o < outputShapes.Length; o++)
            {
                values.Add(Value(outputTypes[o], outputShapes[o], OutputBuffers[o]));
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
                Binding.BindOutput(outputNames[o], OutputValues[o]);
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

    public long[][] OutputShapes { get; }

    public byte[][] OutputBuffers { get; }

    public OrtValue[] OutputValues { get; }

    public OrtIoBinding Binding { get; } = null!;

    public RunOptions RunOptions { get; }

    /// <summary>The buffers' size in bytes.</summary>
    public long Bytes { get; }

    /// <summary>Whether these buffers hold inputs of exactly these shapes (the element types are the model's).</summary>
    public bool Fits(Tensor[] inputs)
    {
        for (var i = 0; i < inputs.Length; i++)
        {
            if (!inputs[i].ShapeArray.AsSpan().SequenceEqual(_inputShapes[i]))
            {
                return false;
            }
        }

        return true;
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

    /// <summary>An idle set for these inputs' shapes, or null.</summary>
    public BoundBuffers? Take(Tensor[] inputs)
    {
        for (var i = 0; i < _idle.Length; i++)
        {
            var buffers = Volatile.Read(ref _idle[i]);
            if (buffers is not null && buffers.Fits(inputs) && Interlocked.CompareExchange(ref _idle[i], null, buffers) == buffers)
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
