using Anpm.Abstractions;
using Anpm.AspNetCore;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds Anpm's API, its background jobs and health checks to an ASP.NET Core application.</summary>
public static class AnpmApiServiceCollectionExtensions
{
    /// <summary>
    /// Adds what <c>app.MapAnpmApi()</c> serves, after <c>services.AddAnpm(…)</c> registered a store and the packages:
    /// the API's options (validated at start-up), problem details, the signed-command pipeline (the store every Anpm
    /// service uses becomes one that claims a signed command's (signer, nonce) atomically with its first commit), the
    /// background jobs as a hosted service, the health checks (tag <c>anpm</c>) and the telemetry instruments.
    /// </summary>
    /// <param name="services">The application's services.</param>
    /// <param name="configure">Sets roles, limits, the outbox delivery, job intervals and health thresholds.</param>
    /// <returns><paramref name="services"/>, for chaining.</returns>
    /// <exception cref="InvalidOperationException">No store is registered yet (call <c>AddAnpm(anpm =&gt; anpm.Use…Store())</c> first).</exception>
    public static IServiceCollection AddAnpmApi(this IServiceCollection services, Action<AnpmApiOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var storeIndex = -1;
        for (var i = 0; i < services.Count; i++)
        {
            if (services[i].ServiceType == typeof(IAnpmStore))
            {
                storeIndex = i;
            }
        }

        if (storeIndex < 0)
        {
            throw new InvalidOperationException("AddAnpmApi needs a store: call services.AddAnpm(anpm => anpm.UseSqlite(…) or UsePostgres(…) or UseInMemoryStore()) first.");
        }

        var options = services.AddOptions<AnpmApiOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<AnpmApiOptions>, AnpmApiOptionsValidator>());

        // The signed-command store wraps the application's store, once.
        var store = services[storeIndex];
        if (store.ImplementationFactory?.Target is not SignedStoreMarker)
        {
            var marker = new SignedStoreMarker(store);
            services[storeIndex] = ServiceDescriptor.Singleton<IAnpmStore>(marker.Create);
        }

        services.TryAddSingleton<Anpm.Credits.ITokenGateway, PulledOutboxGateway>(); // GatewayPull: the outbox never sends by itself
        services.AddProblemDetails();
        services.AddMetrics();
        services.TryAddSingleton<AnpmTelemetry>();
        services.TryAddSingleton<AnpmRoles>();
        services.TryAddSingleton<AnpmJobMonitor>();
        services.AddHostedService<AnpmJobScheduler>();
        if (!services.Any(static d => d.ServiceType == typeof(StoreHealthCheck)))
        {
            services.AddSingleton<StoreHealthCheck>();
            services.AddSingleton<SchemaHealthCheck>();
            services.AddSingleton<JobsHealthCheck>();
            services.AddSingleton<OracleBacklogHealthCheck>();
            services.AddHealthChecks()
                .AddCheck<StoreHealthCheck>("anpm-store", HealthStatus.Unhealthy, [AnpmHealthChecks.Tag])
                .AddCheck<SchemaHealthCheck>("anpm-schema", HealthStatus.Unhealthy, [AnpmHealthChecks.Tag])
                .AddCheck<JobsHealthCheck>("anpm-jobs", HealthStatus.Unhealthy, [AnpmHealthChecks.Tag])
                .AddCheck<OracleBacklogHealthCheck>("anpm-oracle-backlog", HealthStatus.Degraded, [AnpmHealthChecks.Tag]);
        }

        return services;
    }

    // Resolves the application's own store registration and wraps it.
    private sealed class SignedStoreMarker(ServiceDescriptor original)
    {
        public IAnpmStore Create(IServiceProvider services)
        {
            var inner = original.ImplementationInstance as IAnpmStore
                ?? original.ImplementationFactory?.Invoke(services) as IAnpmStore
                ?? (IAnpmStore)ActivatorUtilities.GetServiceOrCreateInstance(services, original.ImplementationType!);
            return new SignedCommandStore(inner);
        }
    }
}
