using Anpm.Abstractions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Anpm.Credits;

/// <summary>Registers the outbox of outgoing token transfers.</summary>
public static class OutboxBuilderExtensions
{
    /// <summary>
    /// Adds the <see cref="Outbox"/> (a singleton, with the ledger) and its options; every registered
    /// <see cref="IOutgoingTransferObserver"/> is told of confirmations. The host registers the <see cref="ITokenGateway"/>
    /// that sends the transfers. Also adds the <see cref="SystemPause"/> and the <see cref="EmergencyWithdrawal"/> (which
    /// needs the host's <see cref="ITokenHoldings"/>) and the <see cref="TokenNoticeProcessor"/> (with every handler added
    /// by <see cref="AddTokenNoticeHandler{THandler}"/>). Safe to call more than once; each <paramref name="configure"/>
    /// given is applied.
    /// </summary>
    /// <param name="builder">The Anpm builder.</param>
    /// <param name="configure">Changes the outbox's options (validated when the outbox is created).</param>
    /// <returns><paramref name="builder"/>, for chaining.</returns>
    public static IAnpmBuilder AddOutbox(this IAnpmBuilder builder, Action<OutboxOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.AddLedger();
        var options = builder.Services.AddOptions<OutboxOptions>().ValidateOnStartWith<OutboxOptions, OutboxOptionsValidator>();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        builder.Services.TryAddSingleton<Outbox>();
        builder.Services.TryAddSingleton<TokenNoticeProcessor>();
        builder.Services.TryAddSingleton<SystemPause>();
        builder.Services.TryAddSingleton<EmergencyWithdrawal>();
        builder.Services.TryAddSingleton<ITokenHoldings, UnconfiguredTokenHoldings>();
        return builder;
    }

    /// <summary>
    /// Makes the <see cref="TokenNoticeProcessor"/> route the actions of <typeparamref name="THandler"/> (a singleton the
    /// caller registers) to it. Safe to call more than once.
    /// </summary>
    /// <typeparam name="THandler">The handler's registered type.</typeparam>
    /// <param name="builder">The Anpm builder.</param>
    /// <returns><paramref name="builder"/>, for chaining.</returns>
    public static IAnpmBuilder AddTokenNoticeHandler<THandler>(this IAnpmBuilder builder)
        where THandler : class, ITokenNoticeHandler
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<ITokenNoticeHandler, RegisteredNoticeHandler<THandler>>());
        return builder;
    }

    // Forwards to the handler's own singleton, so the handler is one instance and registering it twice adds it once.
    private sealed class RegisteredNoticeHandler<THandler>(THandler handler) : ITokenNoticeHandler
        where THandler : class, ITokenNoticeHandler
    {
        public IReadOnlyCollection<string> Actions => handler.Actions;

        public ValueTask<string> HandleAsync(TokenNoticeContext context, CancellationToken cancellationToken) => handler.HandleAsync(context, cancellationToken);
    }
}

/// <summary>Until the host registers its gateway's holdings, the emergency withdrawal and the solvency report say so.</summary>
internal sealed class UnconfiguredTokenHoldings : ITokenHoldings
{
    public ValueTask<TokenAmount> GetSettledHoldingsAsync(AssetCode asset, CancellationToken cancellationToken = default) =>
        throw new InvalidOperationException("No ITokenHoldings is registered: register the token gateway's holdings to use the emergency withdrawal or the solvency report.");
}
