using Anpm.Abstractions;
using Anpm.Credits;
using Anpm.Gateway.Evm;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds the EVM token gateway to any .NET host.</summary>
public static class EvmGatewayServiceCollectionExtensions
{
    /// <summary>
    /// Adds the EVM gateway after <c>services.AddAnpm(…)</c>: the chain client over <see cref="EvmGatewayOptions.RpcUrls"/>
    /// (failover between them), the deposit listener, the payout sender as the outbox's <see cref="ITokenGateway"/>
    /// (<c>AddAnpmJobs</c> dispatches through it), the hot wallet's holdings for the solvency report
    /// (<see cref="ITokenHoldings"/>), the loop as a hosted service
    /// (<see cref="EvmGatewayService"/>), and the health checks <c>anpm-evm-deposits</c> and <c>anpm-evm-payouts</c>
    /// (tag <c>anpm</c>). The options are validated at start (every failure names the option).
    /// </summary>
    /// <param name="services">The application's services.</param>
    /// <param name="configure">Sets the endpoints, the chain, the token and the listener's and sender's settings.</param>
    /// <param name="signer">
    /// The hot wallet's signer (a key file's <see cref="EvmKeySigner"/>, or an external signer); its address is the custody
    /// address deposits go to. When <see langword="null"/>, an <see cref="IEvmTransactionSigner"/> must be registered.
    /// </param>
    /// <returns><paramref name="services"/>, for chaining.</returns>
    public static IServiceCollection AddEvmGateway(this IServiceCollection services, Action<EvmGatewayOptions> configure, Func<IServiceProvider, IEvmTransactionSigner>? signer = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        if (signer is not null)
        {
            services.AddSingleton(signer);
        }

        services.AddOptions<EvmGatewayOptions>()
            .Configure(configure)
            .PostConfigure<IEvmTransactionSigner>(static (gateway, wallet) =>
            {
                gateway.Deposits.ChainId = gateway.Payouts.ChainId = gateway.ChainId;
                gateway.Deposits.Token = gateway.Payouts.Token = gateway.Token;
                gateway.Deposits.Finality = gateway.Payouts.Finality = gateway.Finality;
                gateway.Deposits.Custody = wallet.Address.ToString();
            })
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<EvmGatewayOptions>, EvmGatewayOptionsValidator>());

        // The listener's and the sender's options are the gateway's, validated with it.
        services.AddSingleton<IOptions<EvmDepositOptions>>(static sp => Options.Options.Create(sp.GetRequiredService<IOptions<EvmGatewayOptions>>().Value.Deposits));
        services.AddSingleton<IOptions<EvmPayoutOptions>>(static sp => Options.Options.Create(sp.GetRequiredService<IOptions<EvmGatewayOptions>>().Value.Payouts));
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(static sp => sp.GetService<System.Diagnostics.Metrics.IMeterFactory>() is { } meters ? new EvmGatewayMetrics(meters) : EvmGatewayMetrics.Standalone());
        services.AddSingleton<IEvmChainClient>(static sp => new ResilientChainClient(
            [.. sp.GetRequiredService<IOptions<EvmGatewayOptions>>().Value.RpcUrls.Select(static url => (IEvmChainClient)new NethereumChainClient(url))],
            sp.GetRequiredService<IOptions<EvmGatewayOptions>>().Value.Resilience,
            timeProvider: sp.GetRequiredService<TimeProvider>(), metrics: sp.GetRequiredService<EvmGatewayMetrics>(), logger: sp.GetService<ILogger<ResilientChainClient>>()));
        services.AddSingleton(static sp => new EvmDepositListener(
            sp.GetRequiredService<IEvmChainClient>(), sp.GetRequiredService<IAnpmStore>(), sp.GetRequiredService<TokenNoticeProcessor>(),
            sp.GetRequiredService<IOptions<EvmDepositOptions>>(), sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<EvmGatewayMetrics>(),
            sp.GetService<ILogger<EvmDepositListener>>()));
        services.AddSingleton(static sp => new EvmPayoutSender(
            sp.GetRequiredService<IEvmChainClient>(), sp.GetRequiredService<IEvmTransactionSigner>(), sp.GetRequiredService<IAnpmStore>(), sp.GetRequiredService<Outbox>,
            sp.GetRequiredService<IOptions<EvmPayoutOptions>>(), sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<EvmGatewayMetrics>(),
            sp.GetService<ILogger<EvmPayoutSender>>()));
        services.AddSingleton<ITokenGateway>(static sp => sp.GetRequiredService<EvmPayoutSender>());
        services.AddSingleton<ITokenHoldings>(static sp => new EvmTokenHoldings(
            sp.GetRequiredService<IEvmChainClient>(), sp.GetRequiredService<IAnpmStore>(), sp.GetRequiredService<EvmPayoutSender>(), sp.GetRequiredService<IOptions<EvmDepositOptions>>()));
        services.AddSingleton<EvmGatewayService>();
        services.AddHostedService(static sp => sp.GetRequiredService<EvmGatewayService>());
        services.AddHealthChecks()
            .Add(new HealthCheckRegistration("anpm-evm-deposits", static sp => new EvmDepositHealthCheck(sp.GetRequiredService<EvmDepositListener>()), HealthStatus.Unhealthy, [HealthTag]))
            .Add(new HealthCheckRegistration("anpm-evm-payouts", static sp => new EvmPayoutHealthCheck(sp.GetRequiredService<EvmPayoutSender>(), sp.GetRequiredService<TimeProvider>()),
                HealthStatus.Degraded, [HealthTag]));
        return services;
    }

    // The tag every Anpm health check carries (Anpm.Hosting's AnpmHealthCheckTags.Anpm; this package does not depend on it).
    private const string HealthTag = "anpm";
}
