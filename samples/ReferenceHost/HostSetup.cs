using System.Security.Cryptography;
using Anpm.Abstractions;
using Anpm.AspNetCore;
using Anpm.Credits;
using Anpm.Oracle;
using Anpm.Pools;
using Anpm.Signing;
using Anpm.Storage.InMemory;
using Anpm.Storage.Postgres;
using Anpm.Storage.Sqlite;
using Microsoft.Extensions.Options;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Anpm.ReferenceHost;

/// <summary>
/// Wires the packages from configuration (<c>Anpm:*</c>, validated here, naming each bad or missing key): the store, the
/// ledger, credits, pools, staking, inference and signing, the API with its jobs and health checks, OpenTelemetry, and in
/// Development the development token and the in-process oracle node.
/// </summary>
public static class HostSetup
{
    /// <summary>The demo pool created at the first start in Development.</summary>
    public static readonly PoolId DemoPool = PoolId.Parse("demo");

    public static WebApplicationBuilder AddReferenceHost(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);

        // Quiet by default (no appsettings file needed): the host's own lines at Information, the framework's from Warning
        // (no lines per request). Below every other source, so appsettings, the environment and the command line override it.
        builder.Configuration.Sources.Insert(0, new Microsoft.Extensions.Configuration.Memory.MemoryConfigurationSource
        {
            InitialData = new Dictionary<string, string?>
            {
                ["Logging:LogLevel:Default"] = "Information",
                ["Logging:LogLevel:Microsoft"] = "Warning",
                ["Logging:LogLevel:Microsoft.Hosting.Lifetime"] = "Information",
                ["Logging:LogLevel:System"] = "Warning",
            },
        });
        var options = new AnpmHostOptions();
        builder.Configuration.GetSection(AnpmHostOptions.Section).Bind(options);
        var development = builder.Environment.IsDevelopment();
        options.DevToken.Enabled ??= development && !options.Evm.Enabled; // Evm mode moves real tokens: no development token beside them
        options.Oracle.InProcess ??= development;
        options.ChainId ??= development ? 31337 : null;
        var validation = AnpmHostOptionsValidator.Validate(options, development);
        if (validation.Failed)
        {
            throw new OptionsValidationException(AnpmHostOptions.Section, typeof(AnpmHostOptions), validation.Failures);
        }

        var dataFolder = Path.GetFullPath(options.DataFolder, builder.Environment.ContentRootPath);
        var roles = HostRoles.Resolve(options, dataFolder, development);
        var devToken = options.DevToken.Enabled == true;
        var evm = options.Evm.Enabled;
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton(roles);
        builder.Services.AddOpenApi();
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
                        o.ChainId = options.ChainId!.Value;
                        o.VerifyingContract = roles.Manager.ToString();
                        o.MessageTypes.Add(EvmGatewayApi.ResumeDepositsType); // the EVM gateway's operator route (404 unless in Evm mode)
                    })
                    .AddPools(o =>
                    {
                        o.Treasury = roles.Treasury;
                        o.PaymentTimeoutSeconds = options.Contributions.PaymentTimeoutSeconds;
                        o.PaymentGraceSeconds = options.Contributions.PaymentGraceSeconds ?? (options.Evm.Enabled ? 3600 : 0);
                    })
                    .AddCredits(o => o.Treasury = roles.Treasury)
                    .AddStaking(o => o.Treasury = roles.Treasury)
                    .AddInference()
                    .AddWebhooks();
            })
            .AddAnpmApi(api =>
            {
                foreach (var admin in roles.Admins)
                {
                    api.Admins.Add(admin);
                }

                api.Feeder = roles.Feeder;
                api.Gateway = roles.Gateway;
                api.OpenPoolCreation = options.Pools.OpenCreation;
                api.TokenSymbol = options.Token.Symbol;

                // The development token settles outgoing transfers at once; otherwise the gateway pulls them.
                // In Evm mode the host pays from its hot wallet and reads deposits from the chain itself.
                api.OutboxDelivery = devToken || evm ? OutboxDelivery.Dispatch : OutboxDelivery.GatewayPull;
                api.AcceptGatewayRequests = !devToken && !evm; // nothing an outside gateway says is backed by these tokens
                api.PublicSettings["devToken"] = devToken;
                api.PublicSettings["evm"] = evm; // the pages pay through the deposit router with the browser wallet
            });

        // Metrics: Anpm's, ASP.NET Core's and the runtime's, scraped at /metrics. When OTEL_EXPORTER_OTLP_ENDPOINT is set,
        // metrics and traces (a span per request, signed command and job run) are exported over OTLP too; without an
        // exporter no spans are recorded, so nothing pays for them.
        var otlp = !string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]);
        var telemetry = builder.Services.AddOpenTelemetry()
            .WithMetrics(metrics =>
            {
                metrics.AddMeter(AnpmTelemetry.Name, Anpm.Gateway.Evm.EvmDepositListener.MeterName, "System.Runtime").AddAspNetCoreInstrumentation().AddPrometheusExporter();
                if (otlp)
                {
                    metrics.AddOtlpExporter();
                }
            });
        if (otlp)
        {
            telemetry.WithTracing(tracing => tracing.AddSource(AnpmTelemetry.Name).AddAspNetCoreInstrumentation().AddOtlpExporter());
        }

        if (devToken)
        {
            builder.Services.AddSingleton<DevToken>();
            builder.Services.AddSingleton<ITokenGateway>(sp => sp.GetRequiredService<DevToken>());
            builder.Services.AddSingleton<ITokenHoldings>(sp => sp.GetRequiredService<DevToken>());
            builder.Services.AddSingleton<ITokenBalances>(sp => sp.GetRequiredService<DevToken>());
        }

        if (evm)
        {
            builder.Services.AddReferenceHostEvmGateway(options);
        }

        builder.Services.AddHostedService<HostStartup>();
        if (options.Oracle.InProcess == true)
        {
            AddInProcessOracle(builder, roles, PoolId.Parse(options.Oracle.PoolId));
        }

        return builder;
    }

    /// <summary>The committed digits model beside the host, and its SHA-256.</summary>
    /// <summary>The pages' headers: a Content-Security-Policy allowing the host's own scripts, styles and API only, <c>nosniff</c>, no framing.</summary>
    public static IApplicationBuilder UseSecurityHeaders(this IApplicationBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        return app.Use((context, next) =>
        {
            var headers = context.Response.Headers;
            headers.XContentTypeOptions = "nosniff";
            headers["Referrer-Policy"] = "no-referrer";
            if (!context.Request.Path.StartsWithSegments("/swagger", StringComparison.Ordinal))
            {
                // Swagger UI ships inline script; the pages and the API need nothing but their own origin.
                headers.ContentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
                    + "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
                headers.XFrameOptions = "DENY";
            }

            return next(context);
        });
    }

    public static (string Path, string Sha256) DigitsModel()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "models", "digits.onnx");
        return (path, "0x" + Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path))));
    }

    private static void AddInProcessOracle(WebApplicationBuilder builder, HostRoles roles, PoolId pool)
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
                async ct => await inference.ClaimAsync(oracle, pool, ct) is { Result: ClaimTaskResult.Leased } claim
                    ? new OracleTask(claim.Task!.Id, claim.Lease!.Id, claim.Lease.ExpiresAt, claim.Task.Model, claim.Task.ModelHash, claim.Task.Input)
                    : null,
                async (task, result, signature, ct) => await inference.SubmitResultAsync(oracle, task.TaskId, task.LeaseId, task.ModelHash, result.OutputHash, result.Output, signature, ct),
                async (task, reason, signature, ct) => await inference.SubmitFailureAsync(oracle, task.TaskId, task.LeaseId, reason, signature, ct),
                async (task, ct) => await inference.RenewLeaseAsync(oracle, task.TaskId, task.LeaseId, ct));
        });
        builder.Services.AddSingleton(Options.Create(new OracleRunnerOptions { IdlePollMilliseconds = 200 }));
        builder.Services.AddHostedService<OracleRunner>();
    }
}

/// <summary>
/// First start: the initial exchange rate (from configuration) and, in Development, the demo pool (offering the committed
/// digits model, served by the in-process oracle when it runs); then prints where the host listens and who holds the roles.
/// </summary>
public sealed class HostStartup(
    AnpmHostOptions options, HostRoles roles, PoolRegistry registry, CreditService credits, IHostEnvironment environment,
    IHostApplicationLifetime lifetime, ILogger<HostStartup> logger, IServiceProvider services) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (await credits.GetExchangeRateAsync(cancellationToken: cancellationToken) is null)
        {
            var units = options.ExchangeRate.TokenUnits is { } text ? TokenAmount.Parse(text) : TokenAmount.Parse("1", options.Token.Decimals);
            await credits.SetExchangeRateAsync(roles.Feeder, TokenAmount.Parse(options.ExchangeRate.Credits), units, effectiveAt: null, cancellationToken);
        }

        if (environment.IsDevelopment() && await registry.GetAsync(HostSetup.DemoPool, cancellationToken) is null)
        {
            var (_, sha) = HostSetup.DigitsModel();
            var oracles = roles.OracleKeyHex is { } hex ? $"\"{EthereumKey.FromHex(hex).Address}\"" : string.Empty;
            var config = "{\"name\":\"Demo\",\"description\":\"Handwritten digits (8x8) recognised by an MLP; stake to earn.\","
                + "\"staking\":{\"capacity\":\"1000000000000000000\",\"dailyReward\":\"1000000000000\",\"minStakeAgeSeconds\":86400},"
                + "\"inference\":{\"models\":[{\"id\":\"digits\",\"sha256\":\"" + sha + "\",\"price\":\"10\","
                + "\"inputs\":{\"pixels\":{\"type\":\"float32\",\"shape\":[1,64]}},"
                + "\"outputs\":{\"label\":{\"type\":\"int64\",\"shape\":[1]},\"probabilities\":{\"type\":\"float32\",\"shape\":[1,10]}}}],"
                + "\"oracles\":[" + oracles + "]}}";
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
