using Anpm.Abstractions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Anpm.Credits;

/// <summary>Registers credits: purchase, exchange rates, pool balances and the daily revenue.</summary>
public static class CreditsBuilderExtensions
{
    /// <summary>
    /// Adds the <see cref="CreditService"/> (with the outbox and ledger) as the handler of <c>Buy-Credits</c> token
    /// notices. Safe to call more than once; each <paramref name="configure"/> given is applied.
    /// </summary>
    /// <param name="builder">The Anpm builder.</param>
    /// <param name="configure">Changes the credit options (the treasury receiving the daily revenue).</param>
    /// <returns><paramref name="builder"/>, for chaining.</returns>
    public static IAnpmBuilder AddCredits(this IAnpmBuilder builder, Action<CreditOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.AddOutbox();
        var options = builder.Services.AddOptions<CreditOptions>().ValidateOnStartWith<CreditOptions, CreditOptionsValidator>();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        builder.Services.TryAddSingleton<CreditService>();
        builder.Services.TryAddSingleton<SessionKeyService>();
        builder.Services.TryAddSingleton<BalanceAlertService>();
        builder.Services.TryAddSingleton<CreditGrantService>();
        builder.AddTokenNoticeHandler<CreditService>();
        return builder;
    }
}
