using System.Runtime.InteropServices;
using Anpm.Tensors;

namespace Anpm.Tensors.Tests;

/// <summary>The pool-side checks of task inputs and oracle outputs against a model's declared tensors.</summary>
public sealed class ModelIoCheckTests
{
    private static readonly TensorSpec[] Inputs = [new("pixels", TensorElementType.Float32, [-1, 4])];
    private static readonly TensorSpec[] Outputs = [new("label", TensorElementType.Int64, [1]), new("scores", TensorElementType.Float32, [1, 2])];

    private static string Base64Floats(params float[] values) => Convert.ToBase64String(MemoryMarshal.AsBytes(values.AsSpan()));

    [Theory]
    [InlineData("{\"inputs\":{\"pixels\":{\"type\":\"float32\",\"shape\":[1,4],\"data\":[0,1,2,3]}}}")]
    [InlineData("{\"inputs\":{\"pixels\":{\"type\":\"float32\",\"shape\":[2,4],\"data\":[0,1,2,3,4,5,6,7]}}}")]
    [InlineData("{\"inputs\":{\"pixels\":{\"shape\":[1,4],\"data\":\"AAAAAAAAgD8AAABAAABAQA==\",\"type\":\"float32\"}}}")]
    public void Inputs_ThatFit_Pass(string input) => Assert.Null(ModelIo.CheckInputs(input, Inputs));

    [Theory]
    [InlineData("{\"inputs\":{\"pixels\":{\"type\":\"float32\",\"shape\":[1,3],\"data\":[0,1,2]}}}", "inputs.pixels.shape is [1,3]; the model takes [?,4]")]
    [InlineData("{\"inputs\":{\"pixels\":{\"type\":\"float32\",\"shape\":[4],\"data\":[0,1,2,3]}}}", "inputs.pixels.shape is [4]")]
    [InlineData("{\"inputs\":{\"pixels\":{\"type\":\"int32\",\"shape\":[1,4],\"data\":[0,1,2,3]}}}", "inputs.pixels.type is int32; the model takes float32")]
    [InlineData("{\"inputs\":{\"pixels\":{\"type\":\"float32\",\"shape\":[1,4],\"data\":\"@@@@\"}}}", "inputs.pixels.data is not base64")]
    [InlineData("{\"inputs\":{\"image\":{\"type\":\"float32\",\"shape\":[1,4],\"data\":[0,1,2,3]}}}", "inputs.pixels is missing; the model takes pixels float32 [?,4]")]
    [InlineData("{\"inputs\":{\"pixels\":{\"type\":\"float32\",\"shape\":[1,4],\"data\":[0,1,2,3]},\"extra\":{\"type\":\"bool\",\"shape\":[1],\"data\":[true]}}}", "inputs.extra is not declared")]
    [InlineData("{\"inputs\":{\"pixels\":{\"type\":\"float32\",\"shape\":[1,4],\"data\":[0,1,2,3],\"data\":[9,9,9,9]}}}", "input.inputs.pixels.data appears twice")]
    [InlineData("{\"inputs\":{\"pixels\":{\"type\":\"float32\",\"shape\":[1,4],\"data\":[0,1,2]}}}", "has 16 data bytes, not 12")]
    [InlineData("{\"inputs\":{\"pixels\":{\"type\":\"float32\",\"shape\":[1,4],\"data\":[0,1,2,1e999]}}}", "inputs.pixels.data[3]")]
    [InlineData("{\"inputs\":{\"pixels\":{\"type\":\"float32\",\"shape\":[1,4],\"data\":[0,1,2,\"\\ud800\"]}}}", "not valid Unicode")]
    [InlineData("[]", "The input must be {\"inputs\"")]
    [InlineData("{\"inputs\":", "The input is not JSON")]
    public void Inputs_ThatDoNotFit_RefusedNamingTheField(string input, string expected)
    {
        var problem = ModelIo.CheckInputs(input, Inputs);
        Assert.NotNull(problem);
        Assert.Contains(expected, problem, StringComparison.Ordinal);
    }

    [Fact]
    public void NonFiniteFloats_InBase64_RefusedUnlessDeclaredAllowed()
    {
        var input = "{\"inputs\":{\"pixels\":{\"type\":\"float32\",\"shape\":[1,4],\"data\":\"" + Base64Floats(0, float.PositiveInfinity, 2, 3) + "\"}}}";
        Assert.Contains("inputs.pixels.data[1] is NaN or infinite", ModelIo.CheckInputs(input, Inputs), StringComparison.Ordinal);
        Assert.Null(ModelIo.CheckInputs(input, [Inputs[0] with { AllowNonFinite = true }]));
        var nan = "{\"inputs\":{\"pixels\":{\"type\":\"float32\",\"shape\":[1,4],\"data\":\"" + Base64Floats(float.NaN, 1, 2, 3) + "\"}}}";
        Assert.Contains("inputs.pixels.data[0]", ModelIo.CheckInputs(nan, Inputs), StringComparison.Ordinal);
    }

    private static string Canonical(long label, params float[] scores) => ModelIo.WriteOutputs(new Dictionary<string, Tensor>
    {
        ["scores"] = Tensor.FromFloat32(scores, 1, scores.Length),
        ["label"] = Tensor.FromInt64([label], 1),
    });

    [Fact]
    public void Outputs_CanonicalAndDeclared_Pass() => Assert.Null(ModelIo.CheckOutputs(Canonical(7, 0.25f, 0.75f), Outputs));

    [Fact]
    public void Outputs_NotCanonicalOrNotDeclared_Refused()
    {
        var good = Canonical(7, 0.25f, 0.75f);
        var cases = new (string Output, string Expected)[]
        {
            (good.Replace(",", ", ", StringComparison.Ordinal), "not in canonical form"),
            (good + " ", "not in canonical form"),
            ("{\"outputs\":{\"scores\":{\"type\":\"float32\",\"shape\":[1,2],\"data\":[0.25,0.75]},\"label\":{\"type\":\"int64\",\"shape\":[1],\"data\":[7]}}}", "not in canonical form"),
            (Canonical(7, 0.25f, 0.5f, 0.25f), "outputs.scores.shape is [1,3]; the model takes [1,2]"),
            (Canonical(7, float.NaN, 1), "outputs.scores.data[0] is NaN or infinite"),
            (ModelIo.WriteOutputs(new Dictionary<string, Tensor> { ["label"] = Tensor.FromInt64([7], 1) }), "outputs.scores is missing"),
            (ModelIo.WriteOutputs(new Dictionary<string, Tensor> { ["label"] = Tensor.FromInt32([7], 1), ["scores"] = Tensor.FromFloat32([0, 1], 1, 2) }), "outputs.label.type is int32"),
            ("{\"inputs\":{}}", "The output must be {\"outputs\""),
            ("garbage", "The output is not JSON"),
        };
        foreach (var (output, expected) in cases)
        {
            var problem = ModelIo.CheckOutputs(output, Outputs);
            Assert.True(problem is not null && problem.Contains(expected, StringComparison.Ordinal), $"{output}: {problem}");
        }

        Assert.Null(ModelIo.CheckOutputs(Canonical(7, float.NaN, 1), [Outputs[0], Outputs[1] with { AllowNonFinite = true }]));
    }
}
