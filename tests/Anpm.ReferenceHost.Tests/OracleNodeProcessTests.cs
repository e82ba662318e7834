using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Anpm.Abstractions;
using Anpm.Signing;
using Microsoft.Extensions.DependencyInjection;

namespace Anpm.ReferenceHost.Tests;

/// <summary>
/// samples/OracleNode as its own process — configured by environment variables only, with ONNX Runtime's GPU package —
/// against the reference host on Kestrel (its in-process oracle off): the admin lists the node, a user's task is served
/// end to end with a verifiable attestation, the node reports healthy with its metrics, and SIGTERM stops it cleanly.
/// </summary>
public sealed partial class OracleNodeProcessTests : IDisposable
{
    private const int SigTerm = 15;
    private readonly TestKey _user = TestKey.New();
    private readonly TestKey _node = TestKey.New();
    private readonly string _folder = Directory.CreateTempSubdirectory("anpm-node-").FullName;

    public void Dispose()
    {
        _user.Dispose();
        _node.Dispose();
        Directory.Delete(_folder, recursive: true);
    }

    [Fact]
    public async Task OracleNodeSample_OwnProcess_ServesTheDemoPool_HealthyWithMetrics_StopsOnSigterm()
    {
        await using var host = TestHost.StartListening(("Anpm:Oracle:InProcess", "false"));
        await host.ListOracleAsync(_node.Address);
        var keyFile = Path.Combine(_folder, "oracle.key");
        await File.WriteAllTextAsync(keyFile, _node.Hex);

        using var node = NodeProcess.Start(new Dictionary<string, string>
        {
            ["OracleNode__HostUrl"] = host.Address!.ToString(),
            ["OracleNode__Pools__0"] = "demo",
            ["OracleNode__KeyFile"] = keyFile,
            ["OracleNode__Models__digits__File"] = "digits.onnx",
            ["OracleNode__Models__digits__Sha256"] = HostSetup.DigitsModel().Sha256,
            ["OracleNode__Device"] = "Auto",
            ["ASPNETCORE_URLS"] = "http://127.0.0.1:0",
        });
        var summary = await node.WaitForLineAsync(HealthLine(), TimeSpan.FromMinutes(1));
        var nodeAddress = new Uri(HealthLine().Match(summary).Groups["address"].Value + "/");
        Assert.Contains($"Anpm oracle node {_node.Address}", node.Output, StringComparison.Ordinal);
        Assert.Contains("  pools:   demo", node.Output, StringComparison.Ordinal);
        Assert.Matches($"  model:   digits on (Cpu|Cuda).*sha256 {HostSetup.DigitsModel().Sha256}, ONNX Runtime 1.31.0", node.Output);

        // A user's task, served by the node over the host's oracle routes.
        var taskId = await host.AddDigitsTaskAsync(_user, 7);
        await host.DoneByAsync(taskId, _node.Address, () => $"The node said:\n{node.Output}\n{node.Errors}");

        // Its health and metrics.
        using var http = new HttpClient { BaseAddress = nodeAddress };
        using var health = await http.GetAsync("healthz");
        Assert.Equal((HttpStatusCode.OK, "Healthy"), (health.StatusCode, await health.Content.ReadAsStringAsync()));
        var metrics = await http.GetStringAsync("metrics");
        var completed = CompletedMetric().Match(metrics);
        Assert.True(completed.Success, metrics);
        Assert.True(double.Parse(completed.Groups["value"].Value, CultureInfo.InvariantCulture) >= 1, completed.Value);

        // Stopping: SIGTERM, a clean exit, nothing on stderr (no line of ONNX Runtime's own either).
        Assert.Equal(0, Kill(node.Id, SigTerm));
        Assert.Equal(0, await node.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        Assert.Contains("Application is shutting down", node.Output, StringComparison.Ordinal);
        Assert.Equal(string.Empty, node.Errors);
        if (!node.Output.Contains("on Cuda", StringComparison.Ordinal))
        {
            Assert.Single(Regex.Matches(node.Output, "CUDA cannot be used, so the models run on the CPU: .*libonnxruntime_providers_cuda\\.so"));
        }
    }

    [Fact]
    public async Task OracleNodeSample_BadConfiguration_RefusesToStart_NamingTheKeys()
    {
        using var node = NodeProcess.Start(new Dictionary<string, string>
        {
            ["OracleNode__HostUrl"] = "ftp://example",
            ["OracleNode__Pools__0"] = " ",
            ["OracleNode__Models__digits__File"] = string.Empty,
        });
        Assert.Equal(2, await node.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        Assert.Contains("OracleNode:HostUrl must be an absolute http(s) address", node.Errors, StringComparison.Ordinal);
        Assert.Contains("OracleNode:Pools must name at least one pool", node.Errors, StringComparison.Ordinal);
        Assert.Contains("OracleNode:Models:digits:File must name the model's file", node.Errors, StringComparison.Ordinal);

        // A model file that is not the one the configuration names: refused before the node listens.
        var keyFile = Path.Combine(_folder, "oracle.key");
        await File.WriteAllTextAsync(keyFile, _node.Hex);
        using var wrong = NodeProcess.Start(new Dictionary<string, string>
        {
            ["OracleNode__KeyFile"] = keyFile,
            ["OracleNode__Models__digits__File"] = "digits.onnx",
            ["OracleNode__Models__digits__Sha256"] = "0x" + new string('0', 64),
            ["OracleNode__Domain__VerifyingContract"] = "0x5fbdb2315678afecb367f032d93f642f64180aa3",
            ["ASPNETCORE_URLS"] = "http://127.0.0.1:0",
        });
        Assert.Equal(2, await wrong.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        Assert.Contains($"not the configured 0x{new string('0', 64)}", wrong.Errors, StringComparison.Ordinal);
    }

    [GeneratedRegex(@"  health:  (?<address>http://127\.0\.0\.1:\d+)/healthz")]
    private static partial Regex HealthLine();

    [GeneratedRegex(@"anpm_oracle_tasks_completed_total\{[^}]*\} (?<value>[0-9.e+]+)")]
    private static partial Regex CompletedMetric();

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);

    /// <summary>The sample's build output run with <c>dotnet</c>, its output and errors collected.</summary>
    private sealed class NodeProcess : IDisposable
    {
        private readonly Process _process;
        private readonly StringBuilder _output = new();
        private readonly StringBuilder _errors = new();

        private NodeProcess(Process process)
        {
            _process = process;
            process.OutputDataReceived += (_, line) => Append(_output, line.Data);
            process.ErrorDataReceived += (_, line) => Append(_errors, line.Data);
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
        }

        public int Id => _process.Id;

        public string Output
        {
            get
            {
                lock (_output)
                {
                    return _output.ToString();
                }
            }
        }

        public string Errors
        {
            get
            {
                lock (_errors)
                {
                    return _errors.ToString();
                }
            }
        }

        public static NodeProcess Start(Dictionary<string, string> environment)
        {
            var folder = Anpm.Testing.Repository.BuildOutput("samples", "OracleNode");
            var program = Path.Combine(folder, "Anpm.OracleNode.dll");
            Assert.True(File.Exists(program), $"{program} is built with the solution.");
            var start = new ProcessStartInfo("dotnet") { WorkingDirectory = folder, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            start.ArgumentList.Add(program);
            start.Environment["DOTNET_ENVIRONMENT"] = start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
            foreach (var (key, value) in environment)
            {
                start.Environment[key] = value;
            }

            return new NodeProcess(Process.Start(start)!);
        }

        public async Task<string> WaitForLineAsync(Regex pattern, TimeSpan timeout)
        {
            var until = DateTime.UtcNow + timeout;
            while (DateTime.UtcNow < until)
            {
                if (pattern.Match(Output) is { Success: true } match)
                {
                    return match.Value;
                }

                if (_process.HasExited)
                {
                    Assert.Fail($"The node exited ({_process.ExitCode}):\n{Output}\n{Errors}");
                }

                await Task.Delay(50);
            }

            throw new TimeoutException($"The node printed no line like {pattern} within {timeout}:\n{Output}\n{Errors}");
        }

        public async Task<int> WaitForExitAsync(TimeSpan timeout)
        {
            using var cancel = new CancellationTokenSource(timeout);
            try
            {
                await _process.WaitForExitAsync(cancel.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"The node did not exit within {timeout}:\n{Output}\n{Errors}");
            }

            _process.WaitForExit(); // the output and error streams are read to their end
            return _process.ExitCode;
        }

        public void Dispose()
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit();
            }

            _process.Dispose();
        }

        private static void Append(StringBuilder text, string? line)
        {
            if (line is null)
            {
                return;
            }

            lock (text)
            {
                text.AppendLine(line);
            }
        }
    }
}
