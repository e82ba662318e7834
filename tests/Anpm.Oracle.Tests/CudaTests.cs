using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;

namespace Anpm.Oracle.Tests;

/// <summary>
/// Device Auto and Cuda with ONNX Runtime's GPU package, on whatever machine runs the tests. Where CUDA 13 and cuDNN 9
/// load, the models must run on CUDA with the deterministic provider options, byte-identically run after run; where they
/// do not (these CI machines), Auto falls back to the CPU with one warning that gives ONNX Runtime's reason, ONNX
/// Runtime's own error line is demoted to Debug, and Cuda refuses to start with the same reason. Both branches assert.
/// </summary>
public sealed class CudaTests
{
    private const string BackendCategory = "Anpm.Oracle.OnnxInferenceBackend";

    /// <summary>Whether this machine has what the GPU package's CUDA provider needs, found without Anpm or ONNX Runtime.</summary>
    private static bool CudaPresent { get; } =
        new[] { "libcuda.so.1", "libcudart.so.13", "libcublasLt.so.13", "libcudnn.so.9" }.All(library => NativeLibrary.TryLoad(library, out _));

    [Fact]
    public async Task Auto_RunsOnCudaWhereItLoads_ElseFallsBackWithOneWarning()
    {
        var logs = new CapturingLoggerFactory(LogLevel.Debug);
        using var backend = Digits.Backend(o => (o.Device, o.Models["digits-2"]) = (ExecutionDevice.Auto, Digits.Model), logs);
        var model = backend.Models["digits"];
        var warnings = logs.Messages(BackendCategory, LogLevel.Warning).ToList();
        if (CudaPresent)
        {
            Assert.All(backend.Models.Values, m => Assert.Equal(ExecutionDevice.Cuda, m.Device));
            Assert.Null(model.FallbackReason);
            Assert.Empty(warnings);
            Assert.Matches(@"cudnn_conv_algo_search\W+DEFAULT", model.CudaOptions);
            Assert.Matches(@"use_tf32\W+0", model.CudaOptions);
            Assert.Matches(@"tunable_op_enable\W+0", model.CudaOptions);

            // Deterministic on the GPU: a hundred runs give the same bytes, and the labels are the CPU's.
            var (_, labels, _, rows) = Digits.Vectors();
            for (var sample = 0; sample < 4; sample++)
            {
                var request = new InferenceRequest("digits", Digits.Sha256, Digits.Input(rows[sample]));
                var first = await backend.RunAsync(request);
                Assert.Equal(labels[sample], Digits.Label(first.Output));
                for (var i = 0; i < 100; i++)
                {
                    Assert.Equal(first.Output, (await backend.RunAsync(request)).Output);
                }
            }
        }
        else
        {
            Assert.All(backend.Models.Values, m => Assert.Equal(ExecutionDevice.Cpu, m.Device));
            Assert.Contains("libonnxruntime_providers_cuda.so", model.FallbackReason, StringComparison.Ordinal); // ONNX Runtime's words: what failed to load
            Assert.Equal(model.FallbackReason, backend.Models["digits-2"].FallbackReason);
            var warning = Assert.Single(warnings); // once for both models
            Assert.Contains(model.FallbackReason!, warning, StringComparison.Ordinal);

            // ONNX Runtime itself logged nothing above Debug about it (its log is routed here, never to stderr).
            Assert.DoesNotContain(logs.Entries, e => e.Category == OnnxRuntimeLog.Category && e.Level >= LogLevel.Warning);

            var required = Assert.Throws<ModelLoadException>(() => Digits.Backend(o => o.Device = ExecutionDevice.Cuda));
            Assert.Equal("digits", required.Model);
            Assert.StartsWith("Model digits: CUDA was required (Device = Cuda) but cannot be used: ", required.Message, StringComparison.Ordinal);
            Assert.EndsWith(model.FallbackReason!, required.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void CudaProviderOptions_AreTheDeterministicOnes()
    {
        // What the backend hands ONNX Runtime's CUDA provider (read back from ONNX Runtime where CUDA loads, above).
        Assert.Equal(new Dictionary<string, string>
        {
            ["device_id"] = "3",
            ["cudnn_conv_algo_search"] = "DEFAULT",
            ["use_tf32"] = "0",
            ["tunable_op_enable"] = "0",
            ["tunable_op_tuning_enable"] = "0",
        }, OnnxModelSession.CudaProviderOptions(3));
    }
}
