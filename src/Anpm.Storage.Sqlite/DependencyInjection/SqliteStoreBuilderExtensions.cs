using Anpm.Abstractions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Anpm.Storage.Sqlite;

/// <summary>Registers the SQLite store.</summary>
public static class SqliteStoreBuilderExtensions
{
    /// <summary>
    /// Uses a <see cref="SqliteAnpmStore"/> as the <see cref="IAnpmStore"/> and <see cref="IJobLockProvider"/> unless a
    /// store is already registered, with its options validated at start-up, and a hosted service that applies
    /// migrations when the host starts (a database newer than this code stops the start).
    /// </summary>
    /// <param name="builder">The Anpm builder.</param>
    /// <param name="connectionString">The SQLite connection string, e.g. <c>Data Source=anpm.db</c>.</param>
    /// <param name="configure">Changes further options.</param>
    /// <returns><paramref name="builder"/>, for chaining.</returns>
    public static IAnpmBuilder UseSqlite(this IAnpmBuilder builder, string connectionString, Action<SqliteStoreOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        var options = services.AddOptions<SqliteStoreOptions>().Configure(o =>
        {
            o.ConnectionString = connectionString;
            configure?.Invoke(o);
        });
        if (!services.Any(static d => d.ServiceType == typeof(SqliteStoreMarker)))
        {
            services.AddSingleton<SqliteStoreMarker>();
            options.ValidateOnStart();
        }

        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<SqliteStoreOptions>, SqliteStoreOptionsValidator>());
        services.TryAddSingleton<SqliteAnpmStore>();
        services.TryAddSingleton<IAnpmStore>(static s => s.GetRequiredService<SqliteAnpmStore>());
        services.TryAddSingleton<IJobLockProvider>(static s => s.GetRequiredService<SqliteAnpmStore>());
        services.TryAddSingleton<IStoreSchema>(static s => s.GetRequiredService<SqliteAnpmStore>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, SqliteMigrationService>());
        return builder;
    }

    private sealed class SqliteStoreMarker;

    private sealed class SqliteMigrationService(SqliteAnpmStore store) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken) => store.MigrateAsync(cancellationToken).AsTask();

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
