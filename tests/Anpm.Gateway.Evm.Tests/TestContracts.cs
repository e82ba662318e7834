using System.Diagnostics;
using System.Text.Json;
using Anpm.Testing;

namespace Anpm.Gateway.Evm.Tests;

/// <summary>A compiled contract: its ABI (JSON) and creation bytecode (0x-hex).</summary>
public sealed record CompiledContract(string Abi, string Bytecode);

/// <summary>
/// The contracts the tests deploy, compiled once per test run by solc-js (<c>tests/evm/compile.mjs</c>): Anpm's deposit
/// router (<c>src/Anpm.Gateway.Evm/Contracts</c>) and the test tokens (<c>Contracts/TestTokens.sol</c> here).
/// </summary>
public static class TestContracts
{
    private static readonly Lazy<Task<IReadOnlyDictionary<string, CompiledContract>>> Compiled = new(CompileAsync);

    /// <summary>The compiled contract named <paramref name="name"/>.</summary>
    public static async Task<CompiledContract> GetAsync(string name) =>
        (await Compiled.Value).TryGetValue(name, out var contract) ? contract : throw new KeyNotFoundException($"No compiled contract {name}.");

    private static async Task<IReadOnlyDictionary<string, CompiledContract>> CompileAsync()
    {
        var folder = Repository.Path("tests", "evm");
        var start = new ProcessStartInfo("node") { WorkingDirectory = folder, UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[]
        {
            "compile.mjs",
            Repository.Path("src", "Anpm.Gateway.Evm", "Contracts", "AnpmDepositRouter.sol"),
            Repository.Path("tests", "Anpm.Gateway.Evm.Tests", "Contracts", "TestTokens.sol"),
        })
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("node did not start.");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException("solc-js failed: " + await error);
        }

        using var document = JsonDocument.Parse(await output);
        return document.RootElement.EnumerateObject().ToDictionary(
            c => c.Name,
            c => new CompiledContract(c.Value.GetProperty("abi").GetRawText(), c.Value.GetProperty("bytecode").GetString()!));
    }
}
