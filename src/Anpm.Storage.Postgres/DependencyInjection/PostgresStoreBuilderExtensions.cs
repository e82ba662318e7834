using Anpm.Abstractions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Anpm.Storage.Postgres;

/// <summary>Registers the PostgreSQL store.</summary>
public static class PostgresStoreBuilderExtensions
{
    /// <summary>
    /// Uses a <see cref="PostgresAnpmStore"/> as the <see cref="IAnpmStore"/> and <see cref="IJobLockProvider"/> unless a
    /// store is already registered, with its options validated at start-up, and a hosted service that applies
    /// migrations when the host starts (a schema newer than this code stops the start).
    /// </summary>
    /// <param name="builder">The Anpm builder.</param>
    /// <param name="connectionString">The Npgsql connection string.</param>
    /// <param name="configure">Changes further options (e.g. the schema).</param>
    /// <returns><paramref name="builder"/>, for chaining.</returns>
    public static IAnpmBuilder UsePostgres(this IAnpmBuilder builder, string connectionString, Action<PostgresStoreOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        var options = services.AddOptions<PostgresStoreOptions>().Configure(o =>
        {
            o.ConnectionString = connectionString;
            configure?.Invoke(o);
        });
        if (!services.Any(static d => d.ServiceType == typeof(PostgresStoreMarker)))
        {
            services.AddSingleton<PostgresStoreMarker>();
            options.ValidateOnStart();
        }

        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<PostgresStoreOptions>, PostgresStoreOptionsValidator>());
        services.TryAddSingleton<PostgresAnpmStore>();
        services.TryAddSingleton<IAnpmStore>(static s => s.GetRequiredService<PostgresAnpmStore>());
        services.TryAddSingleton<IJobLockProvider>(static s => s.GetRequiredService<PostgresAnpmStore>());
        services.TryAddSingleton<IStoreSchema>(static s => s.GetRequiredService<PostgresAnpmStore>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, PostgresMigrationService>());
        return builder;
    }

    private sealed class PostgresStoreMarker;

    private sealed class PostgresMigrationService(PostgresAnpmStore store) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken) => store.MigrateAsync(cancellationToken).AsTask();

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
