using Anpm.Abstractions;
using Anpm.Tensors;

namespace Anpm.Oracle;

/// <summary>A model input or output as the model declares it: name, element type and shape (-1 where the dimension is free).</summary>
/// <param name="Name">The name.</param>
/// <param name="ElementType">The element type, or null when it is not a tensor of a supported type.</param>
/// <param name="Shape">The dimensions; -1 for a free (symbolic) dimension.</param>
/// <param name="SymbolicDimensions">The free dimensions' names (empty strings where unnamed).</param>
public sealed record TensorInfo(string Name, TensorElementType? ElementType, IReadOnlyList<long> Shape, IReadOnlyList<string> SymbolicDimensions);
