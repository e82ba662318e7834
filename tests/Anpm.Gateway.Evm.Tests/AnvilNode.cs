using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Numerics;
using System.Text;
using System.Text.Json;
using Anpm.Testing;

namespace Anpm.Gateway.Evm.Tests;

/// <summary>
/// A local chain: anvil 1.7.1 from <c>tests/evm</c> (npm <c>@foundry-rs/anvil</c>), listening on 127.0.0.1 on a free port,
/// killed when disposed. <see cref="RpcAsync"/> sends raw JSON-RPC, for anvil's own methods (mining, balances, reorgs).
/// </summary>
public sealed class AnvilNode : IAsyncDisposable
{
    private static readonly TimeSpan Ready = TimeSpan.FromSeconds(30);
    private readonly Process _process;
    private readonly HttpClient _http = new();
    private int _nextId;

    private AnvilNode(Process process, string url, ulong chainId)
    {
        _process = process;
        Url = url;
        ChainId = chainId;
    }

    /// <summary>The JSON-RPC endpoint, <c>http://127.0.0.1:port</c>.</summary>
    public string Url { get; }

    /// <summary>The chain id anvil was started with.</summary>
    public ulong ChainId { get; }

    /// <summary>Starts anvil and waits until it answers.</summary>
    /// <param name="chainId">The chain id (anvil's default is 31337).</param>
    /// <param name="automine">Mine a block per transaction (<see langword="false"/>: <c>--no-mining</c>, blocks only on request).</param>
    /// <param name="slotsInAnEpoch">anvil's epoch length: <c>finalized</c> is the head minus twice this.</param>
    public static async Task<AnvilNode> StartAsync(ulong chainId = 31337, bool automine = true, int? slotsInAnEpoch = null)
    {
        var binary = Repository.Path("tests", "evm", "node_modules", "@foundry-rs", "anvil-linux-amd64", "bin", "anvil");
        if (!File.Exists(binary))
        {
            throw new InvalidOperationException($"{binary} is missing: eng/test.sh installs it (npm ci in tests/evm).");
        }

        var port = FreePort();
        var start = new ProcessStartInfo(binary) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[] { "--host", "127.0.0.1", "--port", port.ToString(CultureInfo.InvariantCulture), "--chain-id", chainId.ToString(CultureInfo.InvariantCulture), "--quiet" })
        {
            start.ArgumentList.Add(argument);
        }

        if (!automine)
        {
            start.ArgumentList.Add("--no-mining");
        }

        if (slotsInAnEpoch is { } slots)
        {
            start.ArgumentList.Add("--slots-in-an-epoch");
            start.ArgumentList.Add(slots.ToString(CultureInfo.InvariantCulture));
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("anvil did not start.");
        var errors = new StringBuilder();
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, e) =>
        {
            lock (errors)
            {
                errors.AppendLine(e.Data);
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var node = new AnvilNode(process, $"http://127.0.0.1:{port}", chainId);
        try
        {
            await node.WaitUntilReadyAsync();
        }
        catch (Exception exception)
        {
            await node.DisposeAsync();
            string text;
            lock (errors)
            {
                text = errors.ToString();
            }

            throw new InvalidOperationException($"anvil did not answer on {node.Url}: {exception.Message} {text}", exception);
        }

        return node;
    }

    /// <summary>Sends one JSON-RPC request; a JSON-RPC error becomes an <see cref="AnvilRpcException"/>.</summary>
    public async Task<JsonElement> RpcAsync(string method, params object?[] parameters)
    {
        var body = JsonSerializer.Serialize(new { jsonrpc = "2.0", id = Interlocked.Increment(ref _nextId), method, @params = parameters });
        using var response = await _http.PostAsync(Url, new StringContent(body, Encoding.UTF8, "application/json"));
        using var answer = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        if (answer.RootElement.TryGetProperty("error", out var error))
        {
            throw new AnvilRpcException(method, error.Clone());
        }

        return answer.RootElement.GetProperty("result").Clone();
    }

    /// <summary>Mines <paramref name="blocks"/> blocks.</summary>
    public Task MineAsync(int blocks = 1) => RpcAsync("anvil_mine", Quantity(blocks));

    /// <summary>Sets an address's ether balance.</summary>
    public Task SetBalanceAsync(string address, BigInteger wei) => RpcAsync("anvil_setBalance", address, Quantity(wei));

    /// <summary>The number of the newest block.</summary>
    public async Task<long> BlockNumberAsync() => (long)ParseQuantity((await RpcAsync("eth_blockNumber")).GetString()!);

    /// <summary>A JSON-RPC quantity: hex without leading zeros.</summary>
    public static string Quantity(BigInteger value) =>
        value.IsZero ? "0x0" : "0x" + value.ToString("x", CultureInfo.InvariantCulture).TrimStart('0');

    /// <summary>Parses a JSON-RPC quantity.</summary>
    public static BigInteger ParseQuantity(string hex) =>
        BigInteger.Parse("0" + hex[2..], NumberStyles.HexNumber, CultureInfo.InvariantCulture);

    /// <summary>Kills anvil and waits for it to exit.</summary>
    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }

    private async Task WaitUntilReadyAsync()
    {
        var deadline = DateTime.UtcNow + Ready;
        while (true)
        {
            try
            {
                await RpcAsync("eth_chainId");
                return;
            }
            catch (HttpRequestException) when (DateTime.UtcNow < deadline && !_process.HasExited)
            {
                await Task.Delay(50);
            }
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>A JSON-RPC error answer: its code, message and data (revert data for a reverted call).</summary>
public sealed class AnvilRpcException(string method, JsonElement error)
    : Exception($"{method} failed: {error.GetRawText()}")
{
    /// <summary>The error's <c>data</c>, e.g. the revert data of a reverted <c>eth_call</c>; empty when absent.</summary>
    public string RevertData { get; } = error.TryGetProperty("data", out var data) && data.ValueKind == JsonValueKind.String ? data.GetString()! : string.Empty;
}
