using System.Runtime.InteropServices;

namespace Anpm.Tensors;

/// <summary>Tensor element types, numbered as ONNX numbers them (<c>ONNXTensorElementDataType</c>).</summary>
public enum TensorElementType
{
    /// <summary>32-bit float.</summary>
    Float32 = 1,

    /// <summary>8-bit unsigned integer.</summary>
    UInt8 = 2,

    /// <summary>8-bit signed integer.</summary>
    Int8 = 3,

    /// <summary>32-bit signed integer.</summary>
    Int32 = 6,

    /// <summary>64-bit signed integer.</summary>
    Int64 = 7,

    /// <summary>Boolean (one byte, 0 or 1).</summary>
    Bool = 9,

    /// <summary>16-bit IEEE float.</summary>
    Float16 = 10,
}

/// <summary>Sizes and names of the supported element types.</summary>
public static class TensorElementTypes
{
    /// <summary>The size of one element in bytes.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The type is not supported.</exception>
    public static int SizeOf(TensorElementType type) => type switch
    {
        TensorElementType.Float32 or TensorElementType.Int32 => 4,
        TensorElementType.Int64 => 8,
        TensorElementType.Float16 => 2,
        TensorElementType.UInt8 or TensorElementType.Int8 or TensorElementType.Bool => 1,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "Supported element types: float32, float16, int64, int32, int8, uint8, bool."),
    };

    /// <summary>The name used in the wire contract's model input and output (<c>float32</c>, <c>int64</c>, …).</summary>
    public static string NameOf(TensorElementType type) => type switch
    {
        TensorElementType.Float32 => "float32",
        TensorElementType.Float16 => "float16",
        TensorElementType.Int64 => "int64",
        TensorElementType.Int32 => "int32",
        TensorElementType.Int8 => "int8",
        TensorElementType.UInt8 => "uint8",
        TensorElementType.Bool => "bool",
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "Unsupported element type."),
    };

    /// <summary>Parses a name of <see cref="NameOf"/>.</summary>
    public static bool TryParse(string? name, out TensorElementType type)
    {
        TensorElementType? parsed = name switch
        {
            "float32" => TensorElementType.Float32,
            "float16" => TensorElementType.Float16,
            "int64" => TensorElementType.Int64,
            "int32" => TensorElementType.Int32,
            "int8" => TensorElementType.Int8,
            "uint8" => TensorElementType.UInt8,
            "bool" => TensorElementType.Bool,
            _ => null,
        };
        type = parsed.GetValueOrDefault();
        return parsed is not null;
    }
}

/// <summary>
/// A dense tensor: element type, shape and the elements as little-endian bytes (the layout ONNX Runtime uses on the
/// machines Anpm runs on). Immutable.
/// </summary>
public sealed class Tensor
{
    /// <summary>Creates a tensor from raw little-endian element bytes (copied).</summary>
    /// <exception cref="ArgumentException">A dimension is negative, or the data length is not the shape's element count × element size.</exception>
    /// <exception cref="OverflowException">The shape's element count does not fit a 64-bit integer.</exception>
    public Tensor(TensorElementType elementType, IReadOnlyList<long> shape, ReadOnlySpan<byte> data)
        : this(elementType, [.. shape ?? throw new ArgumentNullException(nameof(shape))], data.ToArray())
    {
    }

    // Takes ownership of the shape and the data (no copy): for buffers Anpm filled itself.
    internal Tensor(TensorElementType elementType, long[] shape, byte[] data)
    {
        var expected = checked(ElementCountOf(shape) * TensorElementTypes.SizeOf(elementType));
        if (data.Length != expected)
        {
            throw new ArgumentException($"A {TensorElementTypes.NameOf(elementType)} tensor of shape [{string.Join(",", shape)}] has {expected} data bytes, not {data.Length}.", nameof(data));
        }

        ElementType = elementType;
        ShapeArray = shape;
        ElementCount = expected / TensorElementTypes.SizeOf(elementType);
        RawData = data;
    }

    /// <summary>The element type.</summary>
    public TensorElementType ElementType { get; }

    /// <summary>The shape.</summary>
    public IReadOnlyList<long> Shape => ShapeArray;

    /// <summary>How many elements it has.</summary>
    public long ElementCount { get; }

    /// <summary>The elements as little-endian bytes.</summary>
    public ReadOnlySpan<byte> Data => RawData;

    /// <summary>A float32 tensor.</summary>
    public static Tensor FromFloat32(ReadOnlySpan<float> values, params long[] shape) => new(TensorElementType.Float32, shape, MemoryMarshal.AsBytes(values));

    /// <summary>An int64 tensor.</summary>
    public static Tensor FromInt64(ReadOnlySpan<long> values, params long[] shape) => new(TensorElementType.Int64, shape, MemoryMarshal.AsBytes(values));

    /// <summary>An int32 tensor.</summary>
    public static Tensor FromInt32(ReadOnlySpan<int> values, params long[] shape) => new(TensorElementType.Int32, shape, MemoryMarshal.AsBytes(values));

    /// <summary>The elements as float32 values.</summary>
    /// <exception cref="InvalidOperationException">It is not a float32 tensor.</exception>
    public float[] ToFloat32() => Read<float>(TensorElementType.Float32);

    /// <summary>The elements as int64 values.</summary>
    /// <exception cref="InvalidOperationException">It is not an int64 tensor.</exception>
    public long[] ToInt64() => Read<long>(TensorElementType.Int64);

    /// <summary>The elements as int32 values.</summary>
    /// <exception cref="InvalidOperationException">It is not an int32 tensor.</exception>
    public int[] ToInt32() => Read<int>(TensorElementType.Int32);

    /// <summary>The shape as a span (no allocation).</summary>
    public ReadOnlySpan<long> Dimensions => ShapeArray;

    internal long[] ShapeArray { get; }

    internal byte[] RawData { get; }

    /// <summary>The element count of <paramref name="shape"/>.</summary>
    /// <exception cref="ArgumentException">A dimension is negative.</exception>
    /// <exception cref="OverflowException">The count does not fit a 64-bit integer.</exception>
    public static long ElementCountOf(ReadOnlySpan<long> shape)
    {
        long count = 1;
        foreach (var dimension in shape)
        {
            if (dimension < 0)
            {
                throw new ArgumentException($"A tensor's dimensions are not negative; got [{string.Join(",", shape.ToArray())}].", nameof(shape));
            }

            count = checked(count * dimension);
        }

        return count;
    }

    private T[] Read<T>(TensorElementType expected)
        where T : unmanaged
    {
        if (ElementType != expected)
        {
            throw new InvalidOperationException($"The tensor holds {TensorElementTypes.NameOf(ElementType)}, not {TensorElementTypes.NameOf(expected)}.");
        }

        if (!BitConverter.IsLittleEndian)
        {
            throw new PlatformNotSupportedException("Anpm's tensors are little-endian.");
        }

        return MemoryMarshal.Cast<byte, T>(RawData).ToArray();
    }
}
