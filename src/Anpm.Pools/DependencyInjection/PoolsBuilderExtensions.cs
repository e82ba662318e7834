using Anpm.Abstractions;
using Anpm.Credits;
using Anpm.Signing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Anpm.Pools;

/// <summary>Registers pools and contributions.</summary>
public static class PoolsBuilderExtensions
{
    /// <summary>
    /// Adds the <see cref="PoolRegistry"/>, the <see cref="ContributionService"/> and its options, the pro-rata prize
    /// calculator (unless an <see cref="IPrizeCalculator"/> is registered), the outbox and ledger
    /// they use, the contribution service as the handler of <c>Contribute</c> and <c>Distribute</c> token notices, and
    /// <see cref="ContributionPayoutConfirmations"/> as an outbox observer (so confirmed payouts are marked paid out). The host registers the <see cref="ITokenGateway"/>. Safe to call more than once.
    /// </summary>
    /// <param name="builder">The Anpm builder.</param>
    /// <param name="configure">Changes the contribution options (validated when the service is created).</param>
    /// <returns><paramref name="builder"/>, for chaining.</returns>
    public static IAnpmBuilder AddPools(this IAnpmBuilder builder, Action<ContributionOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.AddOutbox();
        var options = builder.Services.AddOptions<ContributionOptions>().ValidateOnStartWith<ContributionOptions, ContributionOptionsValidator>();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        AddRegistry(builder.Services);
        builder.Services.TryAddSingleton<IPrizeCalculator, ProRataPrizeCalculator>();
        builder.Services.TryAddSingleton<ContributionService>();
        builder.AddTokenNoticeHandler<ContributionService>();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IOutgoingTransferObserver, ContributionPayoutConfirmations>());
        return builder;
    }

    /// <summary>
    /// Adds the <see cref="StakingService"/> (with the registry, outbox and ledger) as the handler of <c>Stake</c> and
    /// <c>Fund-Rewards</c> token notices. Run <see cref="StakingService.ProcessEpochsAsync"/> daily (any time after
    /// midnight UTC; missed days are caught up). Safe to call more than once.
    /// </summary>
    /// <param name="builder">The Anpm builder.</param>
    /// <param name="configure">Changes the staking options (the treasury allowed to fund rewards).</param>
    /// <returns><paramref name="builder"/>, for chaining.</returns>
    public static IAnpmBuilder AddStaking(this IAnpmBuilder builder, Action<StakingOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.AddOutbox();
        var options = builder.Services.AddOptions<StakingOptions>().ValidateOnStartWith<StakingOptions, StakingOptionsValidator>();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        AddRegistry(builder.Services);
        builder.Services.TryAddSingleton<StakingService>();
        builder.AddTokenNoticeHandler<StakingService>();
        return builder;
    }

    /// <summary>
    /// Adds the <see cref="InferenceService"/> (with the registry, the ledger and the signed-request verifier of
    /// <c>AddSigning</c>, whose domain the oracles sign their attestations in). Run <see cref="InferenceService.SweepAsync"/>
    /// every few seconds. Safe to call more than once.
    /// </summary>
    /// <param name="builder">The Anpm builder.</param>
    /// <param name="configure">Changes the inference options (pending timeout, sweep batch).</param>
    /// <returns><paramref name="builder"/>, for chaining.</returns>
    public static IAnpmBuilder AddInference(this IAnpmBuilder builder, Action<InferenceOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.AddLedger();
        builder.AddSigning(static signing => signing.AddMessageTypes(AnpmOracleMessages.All)); // the oracles' claims, results and failures
        var options = builder.Services.AddOptions<InferenceOptions>().ValidateOnStartWith<InferenceOptions, InferenceOptionsValidator>();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        AddRegistry(builder.Services);
        builder.Services.TryAddSingleton<InferenceService>();
        return builder;
    }

    // The registry, which is also the credits' gate: credits move into a pool while it is Active.
    private static void AddRegistry(IServiceCollection services)
    {
        services.TryAddSingleton<PoolRegistry>();
        services.TryAddSingleton<IPoolCreditGate>(static sp => sp.GetRequiredService<PoolRegistry>());
    }
}
