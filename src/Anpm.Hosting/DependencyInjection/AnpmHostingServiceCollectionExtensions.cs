using Anpm.Hosting;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds Anpm's background jobs to any .NET host (a worker service, a console app on the Generic Host, ASP.NET Core).</summary>
public static class AnpmHostingServiceCollectionExtensions
{
    /// <summary>
    /// Adds Anpm's background jobs as one hosted service, after <c>services.AddAnpm(…)</c> registered a store and the
    /// packages: each job runs in its own loop under a job lease (<c>IJobLockProvider</c>: PostgreSQL advisory locks across
    /// instances), for the services that are registered (payment timeouts and pool settlement with contributions, the
    /// inference sweep with inference, outbox dispatch through the registered <c>ITokenGateway</c>, pending-transfer
    /// expiry, daily incentives, daily revenue, credit expiry, webhook delivery with <c>AddWebhooks</c>). Also adds the
    /// options (validated at start), the job monitor, metrics and the health checks <c>anpm-store</c>,
    /// <c>anpm-schema</c> and <c>anpm-jobs</c> (tag <see cref="AnpmHealthCheckTags.Anpm"/>). Calling it again only
    /// configures the options.
    /// </summary>
    /// <param name="services">The application's services.</param>
    /// <param name="configure">Sets the jobs' intervals, whether this instance runs them and whether it dispatches the outbox.</param>
    /// <returns><paramref name="services"/>, for chaining.</returns>
    public static IServiceCollection AddAnpmJobs(this IServiceCollection services, Action<AnpmJobsOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = services.AddOptions<AnpmJobsOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        if (services.Any(static d => d.ServiceType == typeof(AnpmJobMonitor)))
        {
            return services;
        }

        options.ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<AnpmJobsOptions>, AnpmJobsOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.AddMetrics();
        services.AddSingleton<AnpmJobTelemetry>();
        services.AddSingleton<AnpmJobMonitor>();
        services.AddHostedService<AnpmJobScheduler>();
        services.AddSingleton<StoreHealthCheck>();
        services.AddSingleton<SchemaHealthCheck>();
        services.AddSingleton<JobsHealthCheck>();
        services.AddHealthChecks()
            .AddCheck<StoreHealthCheck>("anpm-store", HealthStatus.Unhealthy, [AnpmHealthCheckTags.Anpm])
            .AddCheck<SchemaHealthCheck>("anpm-schema", HealthStatus.Unhealthy, [AnpmHealthCheckTags.Anpm])
            .AddCheck<JobsHealthCheck>("anpm-jobs", HealthStatus.Unhealthy, [AnpmHealthCheckTags.Anpm]);
        return services;
    }
}
