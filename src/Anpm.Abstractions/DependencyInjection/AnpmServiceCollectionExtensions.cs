using Anpm.Abstractions;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds Anpm to a service collection.</summary>
public static class AnpmServiceCollectionExtensions
{
    /// <summary>
    /// Adds Anpm's core services (a <see cref="TimeProvider"/>, unless one is registered) and lets
    /// <paramref name="configure"/> add packages and a store through <see cref="IAnpmBuilder"/>. Safe to call more
    /// than once: every registration is a TryAdd, so nothing is registered twice.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Adds Anpm packages, e.g. <c>builder =&gt; builder.AddLedger().UseInMemoryStore()</c>.</param>
    /// <returns><paramref name="services"/>, for chaining.</returns>
    public static IServiceCollection AddAnpm(this IServiceCollection services, Action<IAnpmBuilder>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.TryAddSingleton(TimeProvider.System);
        var builder = new AnpmBuilder(services);
        configure?.Invoke(builder);
        return services;
    }

    private sealed class AnpmBuilder(IServiceCollection services) : IAnpmBuilder
    {
        public IServiceCollection Services { get; } = services;
    }
}
