using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Anpm.Oracle.Tests;

/// <summary>
/// The same requests through ONNX Runtime's CPU package (a child process: tests/Anpm.Oracle.CpuPackage) and through its
/// GPU package on the CPU provider (this process): the canonical outputs — and so the attested hashes — are identical
/// byte for byte, for digits and for silero VAD. A CPU-only node and a GPU node without CUDA agree.
/// </summary>
public sealed class CrossPackageTests
{
    [Fact]
    public async Task CpuPackageAndGpuPackage_SameCanonicalBytes_DigitsAndSilero()
    {
        var (_, labels, _, rows) = Digits.Vectors();
        var random = new Random(20261129);
        var requests = new JsonArray();
        foreach (var row in rows)
        {
            requests.Add(new JsonObject { ["model"] = "digits", ["input"] = Digits.Input(row) });
        }

        foreach (var frequency in new[] { 110.0, 220, 440, 1000 })
        {
            var state = Enumerable.Range(0, 256).Select(_ => (float)((random.NextDouble() * 2) - 1)).ToArray();
            requests.Add(new JsonObject { ["model"] = "silero", ["input"] = SileroVadTests.Input(SileroVadTests.Tone(frequency), state) });
        }

        var file = Path.GetTempFileName();
        try
        {
            await File.WriteAllTextAsync(file, new JsonObject
            {
                ["device"] = "Auto",
                ["models"] = new JsonObject { ["digits"] = Digits.Model, ["silero"] = SileroVadTests.Model },
                ["requests"] = requests,
            }.ToJsonString());
            var cpuPackage = await RunCpuPackageAsync(file);

            Assert.Equal("1.31.1", cpuPackage.GetProperty("runtime").GetString()); // Microsoft.ML.OnnxRuntime, not the GPU package's 1.31.0
            var digits = cpuPackage.GetProperty("models").GetProperty("digits");
            Assert.Equal("Cpu", digits.GetProperty("device").GetString());
            Assert.Contains("not enabled in this build", digits.GetProperty("fallbackReason").GetString(), StringComparison.Ordinal); // the CPU package has no CUDA

            var options = new OnnxBackendOptions { Device = ExecutionDevice.Auto };
            options.Models["digits"] = Digits.Model;
            options.Models["silero"] = SileroVadTests.Model;
            using var gpuPackage = new OnnxInferenceBackend(Microsoft.Extensions.Options.Options.Create(options));
            Assert.Equal("1.31.0", gpuPackage.RuntimeVersion);
            var theirs = cpuPackage.GetProperty("outputs").EnumerateArray().Select(o => o.GetString()!).ToList();
            Assert.Equal(requests.Count, theirs.Count);
            for (var i = 0; i < requests.Count; i++)
            {
                var request = requests[i]!;
                var ours = await gpuPackage.RunAsync(new InferenceRequest(request["model"]!.GetValue<string>(), gpuPackage.Models[request["model"]!.GetValue<string>()].Sha256, request["input"]!.GetValue<string>()));
                Assert.Equal(theirs[i], ours.Output);
                if (i < rows.Length)
                {
                    Assert.Equal(labels[i], Digits.Label(ours.Output));
                }
            }

            Assert.Equal(4, theirs.Skip(rows.Length).Distinct(StringComparer.Ordinal).Count()); // four different chunks, four different outputs
        }
        finally
        {
            File.Delete(file);
        }
    }

    private static async Task<JsonElement> RunCpuPackageAsync(string requests)
    {
        var program = Path.Combine(Anpm.Testing.Repository.BuildOutput("tests", "Anpm.Oracle.CpuPackage"), "Anpm.Oracle.CpuPackage.dll");
        Assert.True(File.Exists(program), $"{program} is built with the solution.");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(program);
        start.ArgumentList.Add(requests);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(timeout.Token);
        Assert.True(process.ExitCode == 0, $"The CPU package run failed: {await errors}");
        Assert.Equal(string.Empty, await errors); // nothing from ONNX Runtime on stderr either
        return JsonDocument.Parse(await output).RootElement.Clone();
    }
}
