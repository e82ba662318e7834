using Anpm.Abstractions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Anpm.Credits;

/// <summary>Registers the ledger.</summary>
public static class LedgerBuilderExtensions
{
    /// <summary>
    /// Adds the <see cref="Ledger"/> (a singleton over the registered <see cref="IAnpmStore"/>) and its validated options.
    /// Safe to call more than once; each <paramref name="configure"/> given is applied.
    /// </summary>
    /// <param name="builder">The Anpm builder.</param>
    /// <param name="configure">Changes the ledger's options.</param>
    /// <returns><paramref name="builder"/>, for chaining.</returns>
    public static IAnpmBuilder AddLedger(this IAnpmBuilder builder, Action<LedgerOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var options = builder.Services.AddOptions<LedgerOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        // ValidateOnStart adds a registration on every call; the marker keeps a second AddLedger from repeating it.
        if (!builder.Services.Any(static d => d.ServiceType == typeof(LedgerMarker)))
        {
            builder.Services.AddSingleton<LedgerMarker>();
            options.ValidateOnStart();
        }

        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<LedgerOptions>, LedgerOptionsValidator>());
        builder.Services.TryAddSingleton<Ledger>();
        return builder;
    }

    private sealed class LedgerMarker;
}
