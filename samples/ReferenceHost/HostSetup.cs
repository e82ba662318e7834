using System.Security.Cryptography;
using Anpm.Abstractions;
using Anpm.Credits;
using Anpm.Oracle;
using Anpm.Pools;
using Anpm.Signing;
using Anpm.Storage.InMemory;
using Anpm.Storage.Postgres;
using Anpm.Storage.Sqlite;
using Microsoft.Extensions.Options;

namespace Anpm.ReferenceHost;

/// <summary>Adds every Anpm service the host runs, configured from <c>Anpm:*</c> (validated here, naming each bad key).</summary>
public static class HostSetup
{
    /// <summary>The demo pool created at the first start.</summary>
    public static readonly PoolId DemoPool = PoolId.Parse("demo");

    public static WebApplicationBuilder AddReferenceHost(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var options = new AnpmHostOptions();
        builder.Configuration.GetSection(AnpmHostOptions.Section).Bind(options);
        var development = builder.Environment.IsDevelopment();
        options.DevToken.Enabled ??= development;
        options.Oracle.InProcess ??= development;
        var validation = new AnpmHostOptionsValidator().Validate(null, options);
        if (validation.Failed)
        {
            throw new OptionsValidationException(AnpmHostOptions.Section, typeof(AnpmHostOptions), validation.Failures);
        }

        var dataFolder = Path.GetFullPath(options.DataFolder, builder.Environment.ContentRootPath);
        var roles = HostRoles.Resolve(options, dataFolder);
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton(roles);
        builder.Services.AddProblemDetails();
        builder.Services.AddOpenApi();
        builder.Services.AddSingleton<HostMetrics>();
        builder.Services.AddSingleton<MetricsExporter>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<MetricsExporter>());
        builder.Services.AddAnpm(anpm =>
        {
            switch (options.Storage.Provider)
            {
                case "Postgres":
                    anpm.UsePostgres(options.Storage.ConnectionString!);
                    break;
                case "InMemory":
                    anpm.UseInMemoryStore();
                    break;
                default:
                    Directory.CreateDirectory(dataFolder);
                    anpm.UseSqlite(options.Storage.ConnectionString ?? $"Data Source={Path.Combine(dataFolder, "anpm.db")}");
                    break;
            }

            anpm.AddLedger(o =>
                {
                    o.Assets[WellKnownAssets.Apus.ToString()] = options.Token.Decimals;
                    o.Assets[DevToken.Asset.ToString()] = options.Token.Decimals;
                })
                .AddSigning(o =>
                {
                    o.ChainId = options.ChainId;
                    o.VerifyingContract = roles.Manager.ToString();
                })
                .AddPools(o =>
                {
                    o.Treasury = roles.Treasury;
                    o.PaymentTimeoutSeconds = options.Contributions.PaymentTimeoutSeconds;
                })
                .AddCredits(o => o.Treasury = roles.Treasury)
                .AddStaking(o => o.Treasury = roles.Treasury)
                .AddInference();
        });

        // Outgoing transfers: the development token settles them at once; otherwise they wait in the outbox for the
        // production gateway.
        if (options.DevToken.Enabled == true)
        {
            builder.Services.AddSingleton<DevToken>();
            builder.Services.AddSingleton<ITokenGateway>(sp => sp.GetRequiredService<DevToken>());
            builder.Services.AddSingleton<ITokenHoldings>(sp => sp.GetRequiredService<DevToken>());
        }
        else
        {
            builder.Services.AddSingleton<ITokenGateway, WaitingGateway>();
        }
        builder.Services.AddHostedService<HostStartup>();
        builder.Services.AddHostedService<BackgroundJobs>();
        if (options.Oracle.InProcess == true)
        {
            AddInProcessOracle(builder, roles);
        }

        return builder;
    }

    /// <summary>The committed digits model beside the host, and its SHA-256.</summary>
    public static (string Path, string Sha256) DigitsModel()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "models", "digits.onnx");
        return (path, "0x" + Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path))));
    }

    private static void AddInProcessOracle(WebApplicationBuilder builder, HostRoles roles)
    {
        var backendOptions = new OnnxBackendOptions { Device = ExecutionDevice.Auto };
        backendOptions.Models["digits"] = DigitsModel().Path;
        builder.Services.AddSingleton(Options.Create(backendOptions));
        builder.Services.AddSingleton<IInferenceBackend, OnnxInferenceBackend>();
        builder.Services.AddSingleton(sp => new AttestationSigner(EthereumKey.FromHex(roles.OracleKeyHex!), sp.GetRequiredService<SignedRequestVerifier>()));
        builder.Services.AddSingleton<IOracleTaskSource>(sp =>
        {
            var inference = sp.GetRequiredService<InferenceService>();
            var oracle = sp.GetRequiredService<AttestationSigner>().Oracle;
            return new InProcessTaskSource(
                async ct => await inference.ClaimAsync(oracle, DemoPool, ct) is { Result: ClaimTaskResult.Leased } claim
                    ? new OracleTask(claim.Task!.Id, claim.Lease!.Id, claim.Lease.ExpiresAt, claim.Task.Model, claim.Task.ModelHash, claim.Task.Input)
                    : null,
                async (task, result, signature, ct) => await inference.SubmitResultAsync(oracle, task.TaskId, task.LeaseId, task.ModelHash, result.OutputHash, result.Output, signature, ct),
                async (task, reason, signature, ct) => await inference.SubmitFailureAsync(oracle, task.TaskId, task.LeaseId, reason, signature, ct),
                async (task, ct) => await inference.RenewLeaseAsync(oracle, task.TaskId, task.LeaseId, ct));
        });
        builder.Services.AddSingleton(Options.Create(new OracleRunnerOptions { IdlePollMilliseconds = 200 }));
        builder.Services.AddHostedService<OracleRunner>();
    }

    /// <summary>
    /// Production gateway mode: no background dispatch; the gateway pulls the due transfers (<see cref="GatewayApi"/>).
    /// Should anything dispatch through it, the transfers stay in the outbox (retried later, never lost).
    /// </summary>
    private sealed class WaitingGateway : ITokenGateway
    {
        public ValueTask<GatewaySendResult> SendAsync(OutgoingTransfer transfer, CancellationToken cancellationToken = default) =>
            new(new GatewaySendResult(GatewaySendStatus.RetryLater));
    }
}

/// <summary>
/// First start: the initial exchange rate and the demo pool (offering the committed digits model, served by the
/// in-process oracle when it runs); then prints where the host listens and who holds the roles.
/// </summary>
public sealed class HostStartup(
    AnpmHostOptions options, HostRoles roles, PoolRegistry registry, CreditService credits,
    IHostApplicationLifetime lifetime, ILogger<HostStartup> logger, IServiceProvider services) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (await credits.GetExchangeRateAsync(cancellationToken: cancellationToken) is null)
        {
            var units = options.ExchangeRate.TokenUnits is { } text ? TokenAmount.Parse(text) : TokenAmount.Parse("1", options.Token.Decimals);
            await credits.SetExchangeRateAsync(roles.Feeder, TokenAmount.Parse(options.ExchangeRate.Credits), units, effectiveAt: null, cancellationToken);
        }

        if (await registry.GetAsync(HostSetup.DemoPool, cancellationToken) is null)
        {
            var (_, sha) = HostSetup.DigitsModel();
            var oracles = roles.OracleKeyHex is { } hex ? $"\"{EthereumKey.FromHex(hex).Address}\"" : string.Empty;
            var config = "{\"name\":\"Demo\",\"description\":\"Handwritten digits (8x8) recognised by an MLP; stake to earn.\","
                + "\"staking\":{\"capacity\":\"1000000000000000000\",\"dailyReward\":\"1000000000000\",\"minStakeAgeSeconds\":86400},"
                + "\"inference\":{\"models\":[{\"id\":\"digits\",\"sha256\":\"" + sha + "\",\"price\":\"10\"}],\"oracles\":[" + oracles + "]}}";
            var created = await registry.CreateAsync(HostSetup.DemoPool, roles.Admins[0], config, cancellationToken);
            logger.LogInformation("Demo pool: {Result}.", created.Result);
        }

        lifetime.ApplicationStarted.Register(() =>
        {
            var addresses = services.GetService<Microsoft.AspNetCore.Hosting.Server.IServer>()?.Features
                .Get<Microsoft.AspNetCore.Hosting.Server.Features.IServerAddressesFeature>()?.Addresses ?? [];
            foreach (var address in addresses)
            {
                logger.LogInformation("Anpm reference host: open {Url} (API under {Url}/api/v1, OpenAPI at {Url}/openapi/v1.json).", address, address, address);
            }

            logger.LogInformation("Roles: manager {Manager}, admins {Admins}, feeder {Feeder}, treasury {Treasury}, gateway {Gateway}{Keys}.",
                roles.Manager, string.Join(",", roles.Admins), roles.Feeder, roles.Treasury, roles.Gateway,
                roles.KeyFile is { } file ? $" (development keys in {file})" : string.Empty);
        });
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary>
/// The background jobs: the inference sweeper, the payment timeout, the outbox dispatcher (to the development token;
/// in production the gateway pulls instead) and pending-transfer expiry
/// every few seconds; daily incentives and daily revenue every minute (each processes only what is due, once). All
/// are safe on several instances: the services decide with versions and unique rows.
/// </summary>
public sealed class BackgroundJobs(
    InferenceService inference, ContributionService contributions, Outbox outbox, Ledger ledger, StakingService staking, CreditService credits,
    AnpmHostOptions options, HostMetrics metrics, TimeProvider timeProvider, ILogger<BackgroundJobs> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var tick = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            await RunAsync("inference sweep", () => inference.SweepAsync(stoppingToken).AsTask());
            await RunAsync("payment timeout", () => contributions.CancelOverdueAsync(stoppingToken).AsTask());
            if (options.DevToken.Enabled == true)
            {
                await RunAsync("outbox", () => outbox.DispatchDueAsync(stoppingToken).AsTask()); // otherwise the gateway pulls
            }

            await RunAsync("pending expiry", () => ledger.ExpirePendingTransfersAsync(stoppingToken).AsTask());
            if (tick++ % 30 == 0)
            {
                await RunAsync("daily incentives", () => staking.ProcessEpochsAsync(stoppingToken).AsTask());
                await RunAsync("daily revenue", () => credits.SendDailyRevenueAsync(stoppingToken).AsTask());
            }

            try
            {
                await Task.Delay(TimeSpan.FromSeconds(2), timeProvider, stoppingToken); // the host's clock: tests move it
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private async Task RunAsync(string job, Func<Task> run)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var outcome = "ok";
        try
        {
            await run();
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            outcome = "failed";
            logger.LogError(exception, "Job {Job} failed; it runs again shortly.", job);
        }

        metrics.JobRuns.Add(1, new KeyValuePair<string, object?>("job", job), new KeyValuePair<string, object?>("outcome", outcome));
        metrics.JobDuration.Record(System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds, new KeyValuePair<string, object?>("job", job));
    }
}
