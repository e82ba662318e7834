using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Anpm.AspNetCore;
using Anpm.Abstractions;
using Anpm.Signing;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Engines;
using BenchmarkDotNet.Jobs;
using Microsoft.Extensions.Options;

namespace Anpm.Benchmarks;

/// <summary>
/// The reference host under load over loopback: a separate process (the Release build of samples/ReferenceHost, SQLite,
/// development token on, in-process oracle off) driven by 32 concurrent HTTP/1.1 clients, each the wallet of its own user.
/// Each iteration sends <see cref="Batch"/> requests; every answer must be a success or the benchmark throws. Signed
/// bodies are made before the iteration (not measured). The baseline is <c>GET /ping</c>, a bare minimal-API endpoint of
/// the same host, in the same run. The reads: <c>GET /api/v1/accounts/{address}</c> by 16 clients alone, and by 16
/// clients while 16 others send signed transfers the whole time. Each benchmark also prints the host process's CPU time
/// per measured request (more stable than throughput on a shared machine). A task added by a user's session key (its own
/// signature, the key judged and its cap charged) is measured beside the task signed by the wallet.
/// </summary>
[Config(typeof(Config))]
public class HostLoadBenchmarks
{
    private const int Batch = 2048;
    private const int Clients = 32;
    private static readonly TimeSpan Ready = TimeSpan.FromSeconds(60);
    private Process? _host;
    private string _folder = string.Empty;
    private HttpClient _http = null!;
    private SignedRequestVerifier _domain = null!;
    private EthereumKey[] _users = [];
    private EthereumKey[] _backends = [];
    private string _manager = string.Empty;
    private long _nonce = 1_000;
    private (string Path, string Body)[] _requests = [];
    private (string Path, string Body)[] _load = [];
    private TimeSpan _hostCpu;
    private long _measured;

    [GlobalSetup]
    public async Task SetupAsync()
    {
        var root = RepositoryRoot();
        var dll = Path.Combine(root, "samples", "ReferenceHost", "bin", "Release", "net10.0", "Anpm.ReferenceHost.dll");
        if (!File.Exists(dll))
        {
            throw new InvalidOperationException($"{dll} is missing: build the host first (dotnet build -c Release samples/ReferenceHost).");
        }

        _folder = Directory.CreateTempSubdirectory("anpm-bench-host-").FullName;
        var port = FreePort();
        if (Environment.GetEnvironmentVariable("ANPM_BENCH_HOST_PORT") is { Length: > 0 } external)
        {
            // A host started by hand (e.g. under dotnet-trace) on 127.0.0.1 in Development: drive it instead of starting one.
            port = int.Parse(external, CultureInfo.InvariantCulture);
        }
        else
        {
            StartHost(dll, port);
        }

        _http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = Clients * 2 }) { BaseAddress = new Uri($"http://127.0.0.1:{port}/") };
        await WaitUntilReadyAsync();
        await PrepareUsersAsync();
    }

    private void StartHost(string dll, int port)
    {
        var start = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[] { dll, "--urls", $"http://127.0.0.1:{port}", "--Anpm:DataFolder", _folder, "--Anpm:Oracle:InProcess", "false" })
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Development";
        start.Environment["Logging__LogLevel__Default"] = "Warning";
        _host = Process.Start(start) ?? throw new InvalidOperationException("The host did not start.");
        _host.OutputDataReceived += (_, _) => { };
        _host.ErrorDataReceived += (_, _) => { };
        _host.BeginOutputReadLine();
        _host.BeginErrorReadLine();
    }

    private async Task WaitUntilReadyAsync()
    {
        var deadline = DateTime.UtcNow + Ready;
        while (true)
        {
            try
            {
                if ((await _http.GetAsync("healthz")).IsSuccessStatusCode)
                {
                    break;
                }
            }
            catch (HttpRequestException) when (DateTime.UtcNow < deadline)
            {
            }

            await Task.Delay(200);
        }
    }

    private async Task PrepareUsersAsync()
    {
        using var eip712 = JsonDocument.Parse(await _http.GetStringAsync("api/v1/eip712"));
        var domain = eip712.RootElement.GetProperty("domain");
        _manager = domain.GetProperty("verifyingContract").GetString()!;
        _domain = new SignedRequestVerifier(Options.Create(new SignedRequestOptions
        {
            ChainId = ulong.Parse(domain.GetProperty("chainId").GetRawText(), CultureInfo.InvariantCulture), VerifyingContract = _manager,
        }.AddMessageTypes(AnpmWireMessages.All)), TimeProvider.System);

        // Each user: 1000 dev tokens, 200 of them bought as 200,000 credits, 100,000 credits moved into the demo pool.
        _users = [.. Enumerable.Range(0, Clients).Select(_ => EthereumKey.Generate())];
        foreach (var user in _users)
        {
            await SendAsync(("api/v1/dev-token/faucet", $"{{\"address\":\"{user.Address}\",\"quantity\":\"1000000000000000\"}}"));
            await SendAsync(Token(user, "200000000000000"));
            await SendAsync(Transfer(user, "100000"));
        }

        // Each user lets a backend key of its own add tasks in the demo pool (a session key whose cap is never reached here).
        _backends = [.. Enumerable.Range(0, Clients).Select(_ => EthereumKey.Generate())];
        for (var i = 0; i < Clients; i++)
        {
            await SendAsync(Signed("api/v1/session-keys", _users[i], "Delegate", new JsonObject
            {
                ["account"] = _users[i].Address.ToString(), ["delegate"] = _backends[i].Address.ToString(), ["poolId"] = "demo", ["actions"] = "AddTask",
                ["spendCap"] = "1000000000000", ["expiresAt"] = DateTimeOffset.UtcNow.AddDays(1).ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture),
            }));
        }
    }

    [IterationSetup(Target = nameof(BuyCredits))]
    public void SignBuyCredits() => _requests = [.. Enumerable.Range(0, Batch).Select(n => Token(_users[n % Clients], "1000000000"))];

    [IterationSetup(Target = nameof(TransferCredits))]
    public void SignTransfers() => _requests = [.. Enumerable.Range(0, Batch).Select(n => Transfer(_users[n % Clients], "1"))];

    [IterationSetup(Target = nameof(AddTask))]
    public void SignTasks() => _requests = [.. Enumerable.Range(0, Batch).Select(n => NewTask(_users[n % Clients]))];

    [IterationSetup(Target = nameof(AddTaskBySessionKey))]
    public void SignTasksBySessionKeys() => _requests = [.. Enumerable.Range(0, Batch).Select(n => NewTask(_users[n % Clients], _backends[n % Clients]))];

    [IterationSetup(Targets = [nameof(Ping), nameof(ReadAccount)])]
    public void NoSigning() => _requests = [];

    [IterationSetup(Target = nameof(ReadAccountUnderWriteLoad))]
    public void SignLoad() => _load = [.. Enumerable.Range(0, Batch * 4).Select(n => Transfer(_users[n % Clients], "1"))];

    [Benchmark(Baseline = true, OperationsPerInvoke = Batch, Description = "GET /ping (bare endpoint)")]
    public Task Ping() => MeasuredAsync(() => RunAsync(_ => _http.GetAsync("ping")));

    [Benchmark(OperationsPerInvoke = Batch, Description = "buy credits (signed TokenTransfer + notice)")]
    public Task BuyCredits() => RunSignedAsync();

    [Benchmark(OperationsPerInvoke = Batch, Description = "transfer credits (signed TransferCredits)")]
    public Task TransferCredits() => RunSignedAsync();

    [Benchmark(OperationsPerInvoke = Batch, Description = "add task (signed AddTask, credit hold)")]
    public Task AddTask() => RunSignedAsync();

    [Benchmark(OperationsPerInvoke = Batch, Description = "add task by a session key (AddTask signed by the delegate, cap charged)")]
    public Task AddTaskBySessionKey() => RunSignedAsync();

    [Benchmark(OperationsPerInvoke = Batch, Description = "read an account, 16 readers")]
    public Task ReadAccount() => MeasuredAsync(() => RunAsync(n => _http.GetAsync("api/v1/accounts/" + _users[n % Clients].Address), Clients / 2));

    [Benchmark(OperationsPerInvoke = Batch, Description = "read an account, 16 readers beside 16 writers")]
    public async Task ReadAccountUnderWriteLoad()
    {
        using var stop = new CancellationTokenSource();
        var next = -1;
        var writers = Task.WhenAll(Enumerable.Range(0, Clients / 2).Select(async _ =>
        {
            int n;
            while (!stop.IsCancellationRequested && (n = Interlocked.Increment(ref next)) < _load.Length)
            {
                using var response = await _http.PostAsync(_load[n].Path, new StringContent(_load[n].Body, Encoding.UTF8, "application/json"));
                if (!response.IsSuccessStatusCode)
                {
                    throw new InvalidOperationException($"Load request {n} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
                }
            }
        }));
        await MeasuredAsync(() => RunAsync(n => _http.GetAsync("api/v1/accounts/" + _users[n % Clients].Address), Clients / 2));
        await stop.CancelAsync();
        await writers;
        if (next < Batch / 16)
        {
            throw new InvalidOperationException($"Only {next} writes ran beside {Batch} reads: the load was not concurrent.");
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        if (_measured > 0)
        {
            Console.WriteLine($"// host CPU per measured request: {_hostCpu.TotalMicroseconds / _measured:F1} us ({_measured} requests)");
        }

        _http.Dispose();
        if (_host is { HasExited: false })
        {
            _host.Kill(entireProcessTree: true);
            _host.WaitForExit();
        }

        _host?.Dispose();
        foreach (var key in _users.Concat(_backends))
        {
            key.Dispose();
        }

        Directory.Delete(_folder, recursive: true);
    }

    private Task RunSignedAsync() => MeasuredAsync(() => RunAsync(n => _http.PostAsync(_requests[n].Path, new StringContent(_requests[n].Body, Encoding.UTF8, "application/json"))));

    // Runs a batch and adds the host process's CPU time it took (and the batch's request count) to the totals.
    private async Task MeasuredAsync(Func<Task> batch)
    {
        if (_host is null)
        {
            await batch(); // a host started by hand: its CPU is not ours to read
            return;
        }

        _host.Refresh();
        var before = _host.TotalProcessorTime;
        await batch();
        _host.Refresh();
        _hostCpu += _host.TotalProcessorTime - before;
        _measured += Batch;
    }

    // Clients workers send the batch; each answer must be a success.
    private static async Task RunAsync(Func<int, Task<HttpResponseMessage>> send, int clients = Clients)
    {
        var next = -1;
        await System.Threading.Tasks.Task.WhenAll(Enumerable.Range(0, clients).Select(async _ =>
        {
            int n;
            while ((n = Interlocked.Increment(ref next)) < Batch)
            {
                using var response = await send(n);
                if (!response.IsSuccessStatusCode)
                {
                    throw new InvalidOperationException($"Request {n} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
                }
            }
        }));
    }

    private async Task SendAsync((string Path, string Body) request)
    {
        using var response = await _http.PostAsync(request.Path, new StringContent(request.Body, Encoding.UTF8, "application/json"));
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"Set-up request {request.Path} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        }
    }

    private (string, string) Token(EthereumKey user, string quantity) => Signed("api/v1/dev-token/transfers", user, "TokenTransfer", new JsonObject
    {
        ["from"] = user.Address.ToString(), ["to"] = _manager, ["quantity"] = quantity, ["action"] = "Buy-Credits", ["poolId"] = "", ["reference"] = "",
    });

    private (string, string) Transfer(EthereumKey user, string amount) => Signed("api/v1/pools/demo/credits", user, "TransferCredits", new JsonObject
    {
        ["account"] = user.Address.ToString(), ["poolId"] = "demo", ["amount"] = amount,
    });

    private const string Input = "{\"inputs\":{\"pixels\":{\"type\":\"float32\",\"shape\":[1,64],\"data\":[0,0,5,13,9,1,0,0,0,0,13,15,10,15,5,0,0,3,15,2,0,11,8,0,0,4,12,0,0,8,8,0,0,5,8,0,0,9,8,0,0,4,11,0,1,12,7,0,0,2,14,5,10,12,0,0,0,0,6,13,10,0,0,0]}}}";

    // A task for the user, signed by the user's wallet or, given, by its session key.
    private (string, string) NewTask(EthereumKey user, EthereumKey? sessionKey = null) => Signed("api/v1/pools/demo/tasks", sessionKey ?? user, "AddTask", new JsonObject
    {
        ["account"] = user.Address.ToString(), ["poolId"] = "demo", ["model"] = "digits",
        ["inputHash"] = "0x" + Convert.ToHexStringLower(Keccak256.Hash(Encoding.UTF8.GetBytes(Input))), ["maxCredits"] = "10",
    }, ("input", Input));

    private (string, string) Signed(string path, EthereumKey user, string type, JsonObject message, params (string Name, string Value)[] extra)
    {
        message["nonce"] = Interlocked.Increment(ref _nonce).ToString(CultureInfo.InvariantCulture);
        message["deadline"] = DateTimeOffset.UtcNow.AddMinutes(30).ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        var digest = _domain.Digest(type, JsonSerializer.SerializeToElement(message));
        var body = new JsonObject { ["message"] = message, ["signature"] = user.SignHash(digest).ToString() };
        foreach (var (name, value) in extra)
        {
            body[name] = value;
        }

        return (path, body.ToJsonString());
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Anpm.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("Anpm.sln was not found above " + AppContext.BaseDirectory);
    }

    private sealed class Config : ManualConfig
    {
        public Config() => AddJob(Job.Default
            .WithStrategy(RunStrategy.Monitoring)
            .WithWarmupCount(2)
            .WithIterationCount(8)
            .WithInvocationCount(1)
            .WithUnrollFactor(1)
            .WithId("HostLoad"));
    }
}
