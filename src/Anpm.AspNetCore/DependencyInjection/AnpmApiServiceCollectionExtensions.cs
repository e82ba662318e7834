using Anpm.Abstractions;
using Anpm.AspNetCore;
using Anpm.Hosting;
using Anpm.Signing;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds Anpm's API, its background jobs and health checks to an ASP.NET Core application.</summary>
public static class AnpmApiServiceCollectionExtensions
{
    /// <summary>
    /// Adds what <c>app.MapAnpmApi()</c> serves, after <c>services.AddAnpm(…)</c> registered a store and the packages:
    /// the API's options (validated at start-up), problem details, the signed-command pipeline's parts, the
    /// background jobs (<c>AddAnpmJobs</c> of Anpm.Hosting: configure them with it), the health checks (tag <c>anpm</c>) and the telemetry instruments.
    /// </summary>
    /// <param name="services">The application's services.</param>
    /// <param name="configure">Sets roles, limits, the outbox delivery, job intervals and health thresholds.</param>
    /// <returns><paramref name="services"/>, for chaining.</returns>
    /// <exception cref="InvalidOperationException">No store is registered yet (call <c>AddAnpm(anpm =&gt; anpm.Use…Store())</c> first).</exception>
    public static IServiceCollection AddAnpmApi(this IServiceCollection services, Action<AnpmApiOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        if (!services.Any(static d => d.ServiceType == typeof(IAnpmStore)))
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

        services.TryAddSingleton<Anpm.Credits.ITokenGateway, PulledOutboxGateway>(); // GatewayPull: the outbox never sends by itself
        services.AddProblemDetails();
        services.AddMetrics();
        services.TryAddSingleton<AnpmTelemetry>();
        services.TryAddSingleton<AnpmRoles>();
        services.AddOptions<SignedRequestOptions>().Configure(static signing => signing.AddMessageTypes(AnpmWireMessages.All)); // the wire contract's messages

        // The jobs (Anpm.Hosting): the outbox is dispatched from here only when the API does not hand it to a pulling gateway.
        services.AddAnpmJobs();
        services.AddOptions<AnpmJobsOptions>().PostConfigure<IOptions<AnpmApiOptions>>(static (jobs, api) => jobs.DispatchOutbox = api.Value.OutboxDelivery == OutboxDelivery.Dispatch);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<AnpmJobsOptions>, DispatchGatewayValidator>());
        if (!services.Any(static d => d.ServiceType == typeof(OracleBacklogHealthCheck)))
        {
            services.AddSingleton<OracleBacklogHealthCheck>();
            services.AddHealthChecks().AddCheck<OracleBacklogHealthCheck>("anpm-oracle-backlog", HealthStatus.Degraded, [AnpmHealthChecks.Tag]);
        }

        return services;
    }

    // OutboxDelivery.Dispatch sends through the application's gateway: the API's own stand-in (nothing sent) is not one.
    private sealed class DispatchGatewayValidator(IServiceProvider services) : IValidateOptions<AnpmJobsOptions>
    {
        public ValidateOptionsResult Validate(string? name, AnpmJobsOptions options) =>
            options.Enabled && options.DispatchOutbox && services.GetService<Anpm.Credits.ITokenGateway>() is PulledOutboxGateway
                ? ValidateOptionsResult.Fail("AnpmApiOptions.OutboxDelivery is Dispatch, but no ITokenGateway is registered to send outgoing transfers through.")
                : ValidateOptionsResult.Success;
    }
}
