namespace Anpm.Tensors.Tests;

/// <summary>The package README's example, as written there.</summary>
public sealed class ReadmeExampleTests
{
    [Fact]
    public void ParseWriteAndCheck_AsTheReadmeShows()
    {
        IReadOnlyDictionary<string, Tensor> inputs = ModelIo.ParseInputs("""{"inputs":{"pixels":{"type":"float32","shape":[1,2],"data":[0.5,1]}}}""");
        var (output, outputHash) = ModelIo.WriteOutputsWithHash(new Dictionary<string, Tensor> { ["label"] = Tensor.FromInt64([3], 1) });
        TensorSpec[] declared = [new("label", TensorElementType.Int64, [1])];
        string? problem = ModelIo.CheckOutputs(output, declared);

        Assert.Equal([1L, 2L], inputs["pixels"].Shape.ToArray());
        Assert.Equal(ModelIo.OutputHash(output), outputHash);
        Assert.Null(problem);
        Assert.NotNull(ModelIo.CheckOutputs(output, [new("label", TensorElementType.Float32, [1])]));
    }
}
