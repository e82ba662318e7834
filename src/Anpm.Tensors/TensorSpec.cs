using System.Globalization;
using System.Runtime.InteropServices;

namespace Anpm.Tensors;

/// <summary>
/// A model input or output as a pool declares it: its name, element type and shape (<c>-1</c> where any size is
/// accepted), and whether float elements may be NaN or infinite. A pool checks task inputs and oracle outputs against
/// its model's declarations (<see cref="ModelIo.CheckInputs"/>, <see cref="ModelIo.CheckOutputs"/>).
/// </summary>
/// <param name="Name">The tensor's name.</param>
/// <param name="ElementType">The element type.</param>
/// <param name="Shape">The dimensions: a size from 0, or -1 for any size; the rank is fixed.</param>
/// <param name="AllowNonFinite">Whether float32/float16 elements may be NaN or ±infinity. Default false.</param>
public sealed record TensorSpec(string Name, TensorElementType ElementType, IReadOnlyList<long> Shape, bool AllowNonFinite = false)
{
    /// <summary>The most dimensions a declared shape may have.</summary>
    public const int MaxRank = 8;

    /// <summary>How a tensor differs from the declaration, as a path suffix and words (e.g. <c>.shape is [1,3]; the model takes [1,64]</c>); <see langword="null"/> when it fits.</summary>
    public string? FindProblem(Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        if (tensor.ElementType != ElementType)
        {
            return $".type is {TensorElementTypes.NameOf(tensor.ElementType)}; the model takes {TensorElementTypes.NameOf(ElementType)}.";
        }

        var dimensions = tensor.Dimensions;
        var fits = dimensions.Length == Shape.Count;
        for (var d = 0; fits && d < dimensions.Length; d++)
        {
            fits = Shape[d] < 0 || Shape[d] == dimensions[d];
        }

        if (!fits)
        {
            return $".shape is [{string.Join(",", tensor.Shape)}]; the model takes {ShapeText}.";
        }

        if (!AllowNonFinite && FirstNonFinite(tensor) is { } index)
        {
            return $".data[{index.ToString(CultureInfo.InvariantCulture)}] is NaN or infinite; the model takes finite numbers.";
        }

        return null;
    }

    /// <summary>The declaration in words, e.g. <c>pixels float32 [1,64]</c> (<c>?</c> for any size).</summary>
    public override string ToString() => $"{Name} {TensorElementTypes.NameOf(ElementType)} {ShapeText}";

    private string ShapeText => "[" + string.Join(",", Shape.Select(d => d < 0 ? "?" : d.ToString(CultureInfo.InvariantCulture))) + "]";

    private static long? FirstNonFinite(Tensor tensor) => tensor.ElementType switch
    {
        TensorElementType.Float32 => FirstNonFinite(MemoryMarshal.Cast<byte, float>(tensor.Data)),
        TensorElementType.Float16 => FirstNonFinite(MemoryMarshal.Cast<byte, Half>(tensor.Data)),
        _ => null,
    };

    private static long? FirstNonFinite<T>(ReadOnlySpan<T> values)
        where T : System.Numerics.IFloatingPointIeee754<T>
    {
        for (var i = 0; i < values.Length; i++)
        {
            if (!T.IsFinite(values[i]))
            {
                return i;
            }
        }

        return null;
    }
}
