using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Anpm.Oracle;
using Anpm.Signing;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using OpenTelemetry.Metrics;

namespace Anpm.OracleNode;

/// <summary>The node's start: its key, the host's signing domain, the services, and what it prints once it listens.</summary>
public static class NodeSetup
{
    /// <summary>
    /// The key file's full path. In Development a missing file is created with a new random key (mode 600) and its address
    /// printed, so that an admin can list it as an oracle of the pools; elsewhere a missing file is an error.
    /// </summary>
    /// <exception cref="InvalidOperationException">The file is missing outside Development.</exception>
    public static string KeyFile(NodeSettings settings, IHostEnvironment environment)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(environment);
        var path = Path.GetFullPath(settings.KeyFile, environment.ContentRootPath);
        if (File.Exists(path))
        {
            return path;
        }

        if (!environment.IsDevelopment())
        {
            throw new InvalidOperationException($"{NodeSettings.Section}:KeyFile '{path}' does not exist. Write the node's private key there (hex), or run in Development to have one created.");
        }

        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, "0x" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32)));
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
        using var key = EthereumKey.FromFile(path);
        Console.WriteLine($"Created a development key in {path}: oracle {key.Address}. List it as an oracle of the pools (the host's Admin page, or a signed SetOracle).");
        return path;
    }

    /// <summary>The host's EIP-712 domain: as configured, or read from the host's <c>GET /api/v1/eip712</c>, waiting for the host to answer.</summary>
    /// <exception cref="InvalidOperationException">The host did not answer within <see cref="NodeSettings.HostWaitSeconds"/>, or answered something else than a domain.</exception>
    public static async Task<DomainSettings> DomainAsync(NodeSettings settings, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (!string.IsNullOrEmpty(settings.Domain.VerifyingContract))
        {
            return settings.Domain;
        }

        using var http = new HttpClient { BaseAddress = settings.HostUrl, Timeout = TimeSpan.FromSeconds(10) };
        var until = DateTime.UtcNow.AddSeconds(settings.HostWaitSeconds);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                var answer = await http.GetFromJsonAsync<JsonElement>("api/v1/eip712", cancellationToken);
                var domain = answer.GetProperty("domain");
                return new DomainSettings
                {
                    Name = domain.GetProperty("name").GetString()!,
                    Version = domain.GetProperty("version").GetString()!,
                    ChainId = domain.GetProperty("chainId").GetUInt64(),
                    VerifyingContract = domain.GetProperty("verifyingContract").GetString(),
                };
            }
            catch (Exception exception) when (exception is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested && DateTime.UtcNow < until)
            {
                Console.WriteLine($"Waiting for the host at {settings.HostUrl} (attempt {attempt}): {exception.Message}");
                await Task.Delay(TimeSpan.FromSeconds(2), cancellationToken);
            }
            catch (Exception exception) when (exception is HttpRequestException or TaskCanceledException or JsonException or KeyNotFoundException or InvalidOperationException)
            {
                throw new InvalidOperationException($"The host at {settings.HostUrl} gave no EIP-712 domain (GET api/v1/eip712): {exception.Message}. Set {NodeSettings.Section}:Domain:VerifyingContract (and ChainId) to sign without asking it.", exception);
            }
        }
    }

    /// <summary>
    /// Registers the node with the packages: signing in the host's domain, the oracle node (key, ONNX backend, runner),
    /// the HTTP task source for the pools, the health check and the Prometheus metrics of the <c>Anpm.Oracle</c> meter.
    /// </summary>
    public static void AddNode(WebApplicationBuilder builder, NodeSettings settings, string keyFile, DomainSettings domain)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(domain);
        var models = settings.ModelsFolder is { Length: > 0 } folder
            ? Path.GetFullPath(folder, builder.Environment.ContentRootPath)
            : Path.Combine(AppContext.BaseDirectory, "models");
        builder.Services.AddAnpm(anpm => anpm
            .AddSigning(o => (o.Name, o.Version, o.ChainId, o.VerifyingContract) = (domain.Name, domain.Version, domain.ChainId, domain.VerifyingContract!))
            .AddOracleNode(
                node => node.KeyFile = keyFile,
                backend =>
                {
                    foreach (var (id, model) in settings.Models)
                    {
                        backend.Models[id] = Path.GetFullPath(model.File, models);
                        if (model.Sha256 is { Length: > 0 } sha256)
                        {
                            backend.ModelSha256[id] = sha256;
                        }
                    }

                    (backend.Device, backend.CudaDeviceId) = (settings.Device, settings.CudaDeviceId);
                },
                runner => (runner.MaxConcurrency, runner.MaxBatchSize, runner.BatchWaitMilliseconds, runner.ShutdownGraceMilliseconds) =
                    (settings.MaxConcurrency, settings.MaxBatchSize, settings.BatchWaitMilliseconds, settings.ShutdownGraceMilliseconds))
            .AddHttpTaskSource(settings.HostUrl!, [.. settings.Pools]));
        builder.Services.AddHealthChecks().AddCheck<OracleNodeHealthCheck>("oracle");
        builder.Services.AddOpenTelemetry().WithMetrics(metrics => metrics.AddMeter(OracleRunner.MeterName).AddPrometheusExporter());

        // Stopping lets running tasks finish within their grace period (then reports them failed), so the host waits longer.
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromMilliseconds(settings.ShutdownGraceMilliseconds + 5_000));
    }

    /// <summary>Prints who the node is, whom it serves, where each model runs, and where its health and metrics are.</summary>
    public static void PrintSummary(WebApplication app, NodeSettings settings, DomainSettings domain)
    {
        ArgumentNullException.ThrowIfNull(app);
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(domain);
        var oracle = app.Services.GetRequiredService<AttestationSigner>().Oracle;
        var backend = app.Services.GetRequiredService<OnnxInferenceBackend>();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault() ?? "(no HTTP endpoint)";
        Console.WriteLine($"Anpm oracle node {oracle}");
        Console.WriteLine($"  host:    {settings.HostUrl} (EIP-712 domain {domain.Name} v{domain.Version}, chain {domain.ChainId}, contract {domain.VerifyingContract})");
        Console.WriteLine($"  pools:   {string.Join(", ", settings.Pools)}");
        foreach (var model in backend.Models.Values)
        {
            var why = model.FallbackReason is { } reason ? $" (CUDA not used: {reason})" : string.Empty;
            Console.WriteLine($"  model:   {model.Id} on {model.Device}{why}, sha256 {model.Sha256}, ONNX Runtime {backend.RuntimeVersion}");
        }

        Console.WriteLine($"  health:  {address}/healthz   metrics: {address}/metrics");
    }
}
