using Anpm.Abstractions;
using System.Text;
using Anpm.Tensors;

namespace Anpm.Tensors.Tests;

public sealed class ModelIoTests
{
    [Fact]
    public void ParseInputs_NumbersOrBase64_SameTensor()
    {
        var numbers = ModelIo.ParseInputs("""{"inputs":{"pixels":{"type":"float32","shape":[1,2],"data":[1.5,-2]}}}""")["pixels"];
        var base64 = Convert.ToBase64String([.. BitConverter.GetBytes(1.5f), .. BitConverter.GetBytes(-2f)]);
        var encoded = ModelIo.ParseInputs("{\"inputs\":{\"pixels\":{\"type\":\"float32\",\"shape\":[1,2],\"data\":\"" + base64 + "\"}}}")["pixels"];
        Assert.Equal(numbers.Data.ToArray(), encoded.Data.ToArray());
        Assert.Equal([1.5f, -2f], numbers.ToFloat32());
        Assert.Equal([1L, 2L], numbers.Shape);
        var mixed = ModelIo.ParseInputs("""{"inputs":{"a":{"type":"int64","shape":[2],"data":[7,-9007199254740993]},"b":{"type":"bool","shape":[2],"data":[true,false]},"c":{"type":"uint8","shape":[1],"data":[255]}}}""");
        Assert.Equal([7L, -9007199254740993L], mixed["a"].ToInt64());
        Assert.Equal([1, 0], mixed["b"].Data.ToArray());
    }

    [Theory]
    [InlineData("not json", "not JSON")]
    [InlineData("""{"x":1}""", "must be {\"inputs\"")]
    [InlineData("""{"inputs":{"p":{"type":"float64","shape":[1],"data":[1]}}}""", "inputs.p.type must be one of")]
    [InlineData("""{"inputs":{"p":{"type":"int32","shape":[-1],"data":[1]}}}""", "inputs.p.shape holds -1")]
    [InlineData("""{"inputs":{"p":{"type":"int32","shape":[2],"data":[1]}}}""", "has 8 data bytes, not 4")]
    [InlineData("""{"inputs":{"p":{"type":"int32","shape":[1],"data":[1.5]}}}""", "inputs.p.data[0] = 1.5 is not a int32")]
    [InlineData("""{"inputs":{"p":{"type":"uint8","shape":[1],"data":[256]}}}""", "is not a uint8")]
    [InlineData("""{"inputs":{"p":{"type":"int32","shape":[1],"data":"%%%"}}}""", "inputs.p.data is not base64")]
    [InlineData("""{"inputs":{"p":{"type":"int32","shape":[1]}}}""", "inputs.p.data is missing")]
    public void ParseInputs_Malformed_NamesTheField(string json, string expected) =>
        Assert.Contains(expected, Assert.Throws<FormatException>(() => ModelIo.ParseInputs(json)).Message, StringComparison.Ordinal);

    [Fact]
    public void WriteOutputs_Canonical_NamesSortedBase64NoWhitespace_ByteIdentical()
    {
        var outputs = new Dictionary<string, Tensor>
        {
            ["probabilities"] = Tensor.FromFloat32([0.25f, 0.75f], 1, 2),
            ["label"] = Tensor.FromInt64([1L], 1),
        };
        var text = ModelIo.WriteOutputs(outputs);
        Assert.Equal("{\"outputs\":{\"label\":{\"type\":\"int64\",\"shape\":[1],\"data\":\"AQAAAAAAAAA=\"},\"probabilities\":{\"type\":\"float32\",\"shape\":[1,2],\"data\":\"AACAPgAAQD8=\"}}}", text);
        var reversed = new Dictionary<string, Tensor> { ["label"] = outputs["label"], ["probabilities"] = outputs["probabilities"] };
        Assert.Equal(text, ModelIo.WriteOutputs(reversed));
        Assert.Equal("0x" + Convert.ToHexStringLower(Anpm.Abstractions.Keccak256.Hash(Encoding.UTF8.GetBytes(text))), ModelIo.OutputHash(text));
    }
}
