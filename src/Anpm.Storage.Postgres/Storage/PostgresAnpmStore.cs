using Anpm.Abstractions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Anpm.Storage.Postgres;

/// <summary>
/// Anpm's store for many host instances and oracle nodes on one PostgreSQL database. A unit of work is one READ
/// COMMITTED transaction; ledger accounts are locked with <c>SELECT … FOR UPDATE</c> in ordinal order of their ids (no
/// deadlocks between units of work), account totals carry optimistic versions, and serialization failures, deadlock
/// victims and lost insert races surface as <see cref="AnpmConcurrencyException"/>, which
/// <see cref="AnpmStoreExtensions.RunAsync"/> retries. Migrations run on first use or through <see cref="MigrateAsync"/>.
/// </summary>
public sealed partial class PostgresAnpmStore : IAnpmStore, IJobLockProvider, IStoreSchema, IAsyncDisposable
{
    private readonly NpgsqlDataSource _dataSource;
    private readonly PostgresJobLocks _jobLocks;
    private readonly string _schema;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _migration = new(1, 1);
    private volatile bool _migrated;

    /// <summary>Creates the store; no connection is opened until first use.</summary>
    /// <param name="options">The store's options.</param>
    /// <param name="timeProvider">The clock that stamps applied migrations.</param>
    /// <param name="logger">Where applied migrations and a job lock that failed to release are logged; nowhere when none is given.</param>
    /// <exception cref="OptionsValidationException">The options are invalid; the failures name each option.</exception>
    public PostgresAnpmStore(IOptions<PostgresStoreOptions> options, TimeProvider timeProvider, ILogger<PostgresAnpmStore>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(timeProvider);
        var validation = new PostgresStoreOptionsValidator().Validate(Options.DefaultName, options.Value);
        if (validation.Failed)
        {
            throw new OptionsValidationException(Options.DefaultName, typeof(PostgresStoreOptions), validation.Failures);
        }

        _schema = options.Value.Schema;
        _timeProvider = timeProvider;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        var connectionString = new NpgsqlConnectionStringBuilder(options.Value.ConnectionString)
        {
            SearchPath = _schema,

            // The same few statements run on every transfer: let Npgsql prepare them on the server.
            MaxAutoPrepare = 32,
            AutoPrepareMinUsages = 2,
        };
        _dataSource = NpgsqlDataSource.Create(connectionString);
        _jobLocks = new PostgresJobLocks(_dataSource, _logger);
    }

    /// <summary>The schema version this code creates and understands.</summary>
    public static int SchemaVersion => RelationalSchema.LatestVersion;

    /// <summary>Creates the schema if needed and applies missing migrations. Idempotent, and safe from several instances at once.</summary>
    /// <exception cref="AnpmException">The schema's version is newer than <see cref="SchemaVersion"/>, or the database cannot be reached.</exception>
    public async ValueTask MigrateAsync(CancellationToken cancellationToken = default)
    {
        if (_migrated)
        {
            return;
        }

        await _migration.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (!_migrated)
            {
                var applied = await Translate(() => PostgresSchema.MigrateAsync(_dataSource, _schema, _timeProvider.GetUtcNow(), cancellationToken)).ConfigureAwait(false);
                foreach (var migration in applied)
                {
                    LogMigrationApplied(_logger, _schema, migration.Version, migration.Description);
                }

                _migrated = true;
            }
        }
        finally
        {
            _migration.Release();
        }
    }

    /// <inheritdoc />
    public async ValueTask<StoreSchemaVersion> GetSchemaVersionAsync(CancellationToken cancellationToken = default)
    {
        await MigrateAsync(cancellationToken).ConfigureAwait(false);
        return await Translate(async () =>
        {
            await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            await using var command = new NpgsqlCommand($"""SELECT coalesce(max(version), 0) FROM "{_schema}".anpm_schema_version""", connection);
            return new StoreSchemaVersion(SchemaVersion, Convert.ToInt32(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), System.Globalization.CultureInfo.InvariantCulture));
        }).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public ValueTask<IAnpmUnitOfWork> BeginAsync(CancellationToken cancellationToken = default) =>
        OpenUnitOfWorkAsync(readOnly: false, cancellationToken);

    /// <inheritdoc />
    /// <remarks>A REPEATABLE READ, READ ONLY transaction: one snapshot, no row locks, never waiting for writers.</remarks>
    public ValueTask<IAnpmUnitOfWork> BeginReadAsync(CancellationToken cancellationToken = default) =>
        OpenUnitOfWorkAsync(readOnly: true, cancellationToken);

    private async ValueTask<IAnpmUnitOfWork> OpenUnitOfWorkAsync(bool readOnly, CancellationToken cancellationToken)
    {
        await MigrateAsync(cancellationToken).ConfigureAwait(false);
        NpgsqlConnection? connection = null;
        try
        {
            return await Translate(async () =>
            {
                connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
                var isolation = readOnly ? System.Data.IsolationLevel.RepeatableRead : System.Data.IsolationLevel.ReadCommitted;
                var transaction = await connection.BeginTransactionAsync(isolation, cancellationToken).ConfigureAwait(false);
                if (readOnly)
                {
                    await using var setReadOnly = new NpgsqlCommand("SET TRANSACTION READ ONLY", connection, transaction);
                    await setReadOnly.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                }

                return (IAnpmUnitOfWork)new PostgresUnitOfWork(connection, transaction, readOnly);
            }).ConfigureAwait(false);
        }
        catch
        {
            if (connection is not null)
            {
                await connection.DisposeAsync().ConfigureAwait(false);
            }

            throw;
        }
    }

    /// <inheritdoc />
    public ValueTask<IAsyncDisposable?> TryAcquireAsync(string key, CancellationToken cancellationToken = default) =>
        _jobLocks.TryAcquireAsync(key, cancellationToken);

    /// <summary>Closes the connection pool.</summary>
    public async ValueTask DisposeAsync()
    {
        await _dataSource.DisposeAsync().ConfigureAwait(false);
        _migration.Dispose();
    }

    [LoggerMessage(EventId = 201, Level = LogLevel.Information, Message = "PostgreSQL schema '{Schema}': applied migration {Version} ({Description}).")]
    private static partial void LogMigrationApplied(ILogger logger, string schema, int version, string description);

    /// <summary>Runs a database call, turning lost races into <see cref="AnpmConcurrencyException"/> and other failures into <see cref="AnpmException"/>.</summary>
    internal static async Task<T> Translate<T>(Func<Task<T>> call)
    {
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (PostgresException exception) when (exception.SqlState is PostgresErrorCodes.SerializationFailure
            or PostgresErrorCodes.DeadlockDetected or PostgresErrorCodes.UniqueViolation or PostgresErrorCodes.LockNotAvailable)
        {
            throw new AnpmConcurrencyException($"PostgreSQL reported a lost race ({exception.SqlState}: {exception.MessageText}); retry.", exception);
        }
        catch (NpgsqlException exception)
        {
            throw new AnpmException($"PostgreSQL failed: {exception.Message}", exception);
        }
    }

    internal static Task Translate(Func<Task> call) => Translate(async () =>
    {
        await call().ConfigureAwait(false);
        return 0;
    });
}
