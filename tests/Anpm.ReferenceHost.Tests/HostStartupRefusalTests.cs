using System.Diagnostics;
using System.Text;
using Anpm.Gateway.Evm.Tests;

namespace Anpm.ReferenceHost.Tests;

/// <summary>
/// Settings the host cannot start with are refused as an operator needs: the host process prints one line naming the
/// setting and exits with code 1 — no "Unhandled exception", no stack trace, no abort. Each case runs the built host.
/// </summary>
public sealed class HostStartupRefusalTests : IAsyncLifetime
{
    private TestChain _chain = null!;
    private Deployed _token = null!;
    private string _folder = string.Empty;
    private string _keyFile = string.Empty;

    public async Task InitializeAsync()
    {
        _chain = await TestChain.StartAsync();
        _token = await _chain.DeployAsync("TestToken");
        _folder = Directory.CreateTempSubdirectory("anpm-refusals-").FullName;
        _keyFile = Path.Combine(_folder, "hot.key");
        await File.WriteAllTextAsync(_keyFile, (await _chain.WalletAsync()).PrivateKeyHex);
    }

    public async Task DisposeAsync()
    {
        await _chain.DisposeAsync();
        Directory.Delete(_folder, recursive: true);
    }

    [Fact]
    public async Task ProductionWithoutConfiguration_NamesEveryMissingSetting()
    {
        var (code, errors, output) = await RunHostAsync("Production", []);
        var line = AssertRefusal(code, errors, output);
        foreach (var setting in new[] { "Anpm:ChainId", "Anpm:ManagerAddress", "Anpm:Admins", "Anpm:Feeder", "Anpm:Treasury", "Anpm:Gateway" })
        {
            Assert.Contains(setting, line, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("chain", "Anpm:Evm:ChainId")]
    [InlineData("token", "Anpm:Evm:Token")]
    [InlineData("no-key-file", "Anpm:Evm:KeyFile")]
    [InlineData("key-file-is-a-folder", "Anpm:Evm:KeyFile")]
    [InlineData("key-file-not-a-key", "Anpm:Evm:KeyFile")]
    [InlineData("rpc", "Anpm:Evm:RpcUrls")]
    [InlineData("dev-token", "Anpm:DevToken:Enabled")]
    public async Task EvmSettings_ARefusalNamesTheSetting(string wrong, string setting)
    {
        var garbage = Path.Combine(_folder, "garbage.key");
        await File.WriteAllTextAsync(garbage, "not a key");
        var settings = new Dictionary<string, string>
        {
            ["Anpm__Evm__Enabled"] = "true",
            ["Anpm__Oracle__InProcess"] = "false",
            ["Anpm__Evm__RpcUrls__0"] = wrong == "rpc" ? "http://127.0.0.1:1" : _chain.Node.Url,
            ["Anpm__Evm__Token"] = wrong == "token" ? _chain.Owner.Address : _token.Address,
            ["Anpm__Evm__KeyFile"] = wrong switch
            {
                "no-key-file" => Path.Combine(_folder, "missing.key"),
                "key-file-is-a-folder" => _folder,
                "key-file-not-a-key" => garbage,
                _ => _keyFile,
            },
        };
        if (wrong == "chain")
        {
            settings["Anpm__Evm__ChainId"] = "1";
        }

        if (wrong == "dev-token")
        {
            settings["Anpm__DevToken__Enabled"] = "true";
        }

        var (code, errors, output) = await RunHostAsync("Development", settings);
        var line = AssertRefusal(code, errors, output);
        Assert.Contains(setting, line, StringComparison.Ordinal);
        Assert.DoesNotContain(await File.ReadAllTextAsync(_keyFile), errors + output, StringComparison.OrdinalIgnoreCase);
    }

    // Exit code 1, one line on standard error, and nothing that looks like a crash anywhere.
    private static string AssertRefusal(int code, string errors, string output)
    {
        var lines = errors.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.True(code == 1, $"exit code {code}\n{errors}\n{output}");
        Assert.True(lines.Length == 1, $"standard error has {lines.Length} lines:\n{errors}");
        Assert.StartsWith("Anpm reference host cannot start: ", lines[0], StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled exception", errors + output, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", errors + output, StringComparison.Ordinal);
        return lines[0];
    }

    private async Task<(int Code, string Errors, string Output)> RunHostAsync(string environment, Dictionary<string, string> settings)
    {
        var folder = Anpm.Testing.Repository.BuildOutput("samples", "ReferenceHost");
        var start = new ProcessStartInfo("dotnet") { WorkingDirectory = folder, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Path.Combine(folder, "Anpm.ReferenceHost.dll"));
        start.Environment["DOTNET_ENVIRONMENT"] = start.Environment["ASPNETCORE_ENVIRONMENT"] = environment;
        start.Environment["ASPNETCORE_URLS"] = "http://127.0.0.1:0";
        start.Environment["Anpm__DataFolder"] = Directory.CreateDirectory(Path.Combine(_folder, "data-" + Guid.NewGuid().ToString("N"))).FullName;
        foreach (var (key, value) in settings)
        {
            start.Environment[key] = value;
        }

        using var process = Process.Start(start)!;
        var output = new StringBuilder();
        var errors = new StringBuilder();
        process.OutputDataReceived += (_, line) => { lock (output) { output.AppendLine(line.Data); } };
        process.ErrorDataReceived += (_, line) => { lock (errors) { errors.AppendLine(line.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var cancel = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        try
        {
            await process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"The host did not stop within 3 minutes:\n{output}\n{errors}");
        }

        process.WaitForExit(); // the output's last lines
        lock (output)
        {
            lock (errors)
            {
                return (process.ExitCode, errors.ToString(), output.ToString());
            }
        }
    }
}
