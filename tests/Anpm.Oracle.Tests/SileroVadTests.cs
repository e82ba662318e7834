using Anpm.Abstractions;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Anpm.Tensors;

namespace Anpm.Oracle.Tests;

/// <summary>
/// A model nobody here wrote — silero VAD v5 from npm <c>@ricky0123/vad-web</c>, fetched by eng/test.sh — run through
/// Anpm's backend and through onnxruntime-node (JavaScript bindings Anpm did not write, over another ONNX Runtime build)
/// on the same input: speech probabilities and recurrent state agree.
/// </summary>
public sealed class SileroVadTests
{
    /// <summary>The silero VAD v5 model eng/test.sh fetches (a missing file fails, it is never skipped).</summary>
    public static string Model
    {
        get
        {
            var path = Anpm.Testing.Repository.Path("tests", "onnx-node", "silero_vad_v5.onnx");
            Assert.True(File.Exists(path), $"{path} is fetched by eng/test.sh.");
            return path;
        }
    }

    /// <summary>The model input text of one 512-sample chunk at 16 kHz with a given recurrent state.</summary>
    public static string Input(float[] samples, float[] state) =>
        "{\"inputs\":{\"input\":{\"type\":\"float32\",\"shape\":[1,512],\"data\":\"" + Convert.ToBase64String(System.Runtime.InteropServices.MemoryMarshal.AsBytes(samples.AsSpan()))
        + "\"},\"state\":{\"type\":\"float32\",\"shape\":[2,1,128],\"data\":\"" + Convert.ToBase64String(System.Runtime.InteropServices.MemoryMarshal.AsBytes(state.AsSpan()))
        + "\"},\"sr\":{\"type\":\"int64\",\"shape\":[],\"data\":[16000]}}}";

    /// <summary>A voiced-like tone of 512 samples.</summary>
    public static float[] Tone(double frequency = 220) =>
        [.. Enumerable.Range(0, 512).Select(i => (float)((0.4 * Math.Sin(2 * Math.PI * frequency * i / 16000.0)) + (0.1 * Math.Sin(2 * Math.PI * 1375 * i / 16000.0))))];

    [Fact]
    public void Silero_ThroughTheBackend_MatchesOnnxRuntimeNode()
    {
        var folder = Anpm.Testing.Repository.Path("tests", "onnx-node");
        var model = Model;
        Assert.True(Directory.Exists(Path.Combine(folder, "node_modules", "onnxruntime-node")), $"onnxruntime-node is installed into {folder} by eng/test.sh.");

        var options = new OnnxBackendOptions { Device = ExecutionDevice.Cpu };
        options.Models["silero"] = model;
        using var backend = new OnnxInferenceBackend(Microsoft.Extensions.Options.Options.Create(options));
        var silero = backend.Models["silero"];
        Assert.Equal(["input", "state", "sr"], silero.Inputs.Select(i => i.Name));
        Assert.Equal([2L, -1L, 128L], silero.Inputs[1].Shape);
        Assert.Empty(silero.Inputs[2].Shape); // sr is a scalar

        // Two chunks of 512 samples at 16 kHz: a voiced-like tone, then the state carried into the next chunk.
        var samples = Tone();
        var state = new float[2 * 128];
        var inputs = new Dictionary<string, Tensor>
        {
            ["input"] = Tensor.FromFloat32(samples, 1, 512),
            ["state"] = Tensor.FromFloat32(state, 2, 1, 128),
            ["sr"] = Tensor.FromInt64([16000L]),
        };
        var ours = backend.Run("silero", inputs);
        var reference = RunNode(folder, model, samples, state);

        var probability = ours["output"].ToFloat32();
        var expected = reference["output"]!["data"]!.AsArray().Select(v => (float)v!.GetValue<double>()).ToArray();
        Assert.Equal([1L, 1L], ours["output"].Shape);
        Assert.Equal(expected.Length, probability.Length);
        Assert.InRange(probability[0], 0f, 1f);
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(probability[i] - expected[i]) <= 1e-5f, $"output[{i}]: {probability[i]} vs {expected[i]}");
        }

        var ourState = ours["stateN"].ToFloat32();
        var expectedState = reference["stateN"]!["data"]!.AsArray().Select(v => (float)v!.GetValue<double>()).ToArray();
        Assert.Equal(expectedState.Length, ourState.Length);
        Assert.True(ourState.Zip(expectedState).All(p => Math.Abs(p.First - p.Second) <= 1e-5f), "The recurrent state differs from onnxruntime-node's.");
        Assert.Contains(ourState, v => v != 0f);
    }

    private static JsonObject RunNode(string folder, string model, float[] samples, float[] state)
    {
        var inputs = new JsonObject
        {
            ["input"] = new JsonObject { ["type"] = "float32", ["shape"] = new JsonArray(1, 512), ["data"] = new JsonArray([.. samples.Select(s => (JsonNode)JsonValue.Create((double)s))]) },
            ["state"] = new JsonObject { ["type"] = "float32", ["shape"] = new JsonArray(2, 1, 128), ["data"] = new JsonArray([.. state.Select(s => (JsonNode)JsonValue.Create((double)s))]) },
            ["sr"] = new JsonObject { ["type"] = "int64", ["shape"] = new JsonArray(), ["data"] = new JsonArray(16000) },
        };
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllText(path, inputs.ToJsonString());
            var start = new ProcessStartInfo("node") { WorkingDirectory = folder, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            start.ArgumentList.Add("reference.mjs");
            start.ArgumentList.Add(model);
            start.ArgumentList.Add(path);
            using var process = Process.Start(start) ?? throw new InvalidOperationException("node did not start.");
            var output = process.StandardOutput.ReadToEndAsync();
            var error = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(TimeSpan.FromMinutes(2)))
            {
                process.Kill();
                throw new TimeoutException("onnxruntime-node took longer than two minutes.");
            }

            Assert.True(process.ExitCode == 0, "node failed: " + error.Result);
            return JsonNode.Parse(output.Result)!.AsObject();
        }
        finally
        {
            File.Delete(path);
        }
    }
}
