using System.Globalization;
using Anpm.Abstractions;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;

namespace Anpm.Storage.Sqlite;

/// <summary>
/// Anpm's embedded store: one SQLite file in WAL mode. The process's units of work run one at a time over one connection
/// (SQLite has a single writer anyway), each inside <c>BEGIN IMMEDIATE</c>, so another process on the same file waits
/// for the write lock instead of failing half-way. Migrations run on first use or through <see cref="MigrateAsync"/>.
/// </summary>
public sealed class SqliteAnpmStore : IAnpmStore, IJobLockProvider, IStoreSchema, IAsyncDisposable
{
    private readonly SqliteStoreOptions _options;
    private readonly TimeProvider _timeProvider;
    private readonly AsyncExclusiveLock _gate = new();
    // Job locks are shared by every store instance of this process on the same file (SQLite serves one host process).
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, InProcessJobLockProvider> JobLocksByFile = new(StringComparer.Ordinal);
    private readonly InProcessJobLockProvider _jobLocks;
    private SqliteConnection? _connection;
    private SqliteStatements? _statements;
    private bool _disposed;

    /// <summary>Creates the store; nothing is opened until first use.</summary>
    /// <param name="options">The store's options.</param>
    /// <param name="timeProvider">The clock that stamps applied migrations.</param>
    /// <exception cref="OptionsValidationException">The options are invalid; the failures name each option.</exception>
    public SqliteAnpmStore(IOptions<SqliteStoreOptions> options, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(timeProvider);
        var validation = new SqliteStoreOptionsValidator().Validate(Options.DefaultName, options.Value);
        if (validation.Failed)
        {
            throw new OptionsValidationException(Options.DefaultName, typeof(SqliteStoreOptions), validation.Failures);
        }

        _options = options.Value;
        _timeProvider = timeProvider;
        var dataSource = new SqliteConnectionStringBuilder(_options.ConnectionString).DataSource;
        _jobLocks = dataSource is "" or ":memory:"
            ? new InProcessJobLockProvider()
            : JobLocksByFile.GetOrAdd(Path.GetFullPath(dataSource), static _ => new InProcessJobLockProvider());
    }

    /// <summary>The schema version this code creates and understands.</summary>
    public static int SchemaVersion => SqliteSchema.LatestVersion;

    /// <summary>Opens the database (creating the file if needed) and applies missing migrations. Idempotent.</summary>
    /// <exception cref="AnpmException">The database's schema is newer than <see cref="SchemaVersion"/>, or it cannot be opened.</exception>
    public async ValueTask MigrateAsync(CancellationToken cancellationToken = default)
    {
        await _gate.EnterAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            EnsureOpen();
        }
        finally
        {
            _gate.Exit();
        }
    }

    /// <inheritdoc />
    /// <exception cref="AnpmConcurrencyException">Another process held the write lock for longer than <see cref="SqliteStoreOptions.BusyTimeoutMs"/>.</exception>
    public async ValueTask<IAnpmUnitOfWork> BeginAsync(CancellationToken cancellationToken = default)
    {
        await _gate.EnterAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var statements = EnsureOpen();
            Translate(() => SqliteSchema.Execute(_connection!, "BEGIN IMMEDIATE"));
            return new SqliteUnitOfWork(this, statements);
        }
        catch
        {
            _gate.Exit();
            throw;
        }
    }

    /// <inheritdoc />
    public async ValueTask<StoreSchemaVersion> GetSchemaVersionAsync(CancellationToken cancellationToken = default)
    {
        await _gate.EnterAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            EnsureOpen();
            using var command = _connection!.CreateCommand();
            command.CommandText = "SELECT coalesce(max(version), 0) FROM anpm_schema_version";
            return new StoreSchemaVersion(SchemaVersion, Convert.ToInt32(Translate(command.ExecuteScalar), CultureInfo.InvariantCulture));
        }
        finally
        {
            _gate.Exit();
        }
    }

    /// <inheritdoc />
    public ValueTask<IAsyncDisposable?> TryAcquireAsync(string key, CancellationToken cancellationToken = default) =>
        _jobLocks.TryAcquireAsync(key, cancellationToken);

    /// <summary>Closes the connection once no unit of work is running.</summary>
    public async ValueTask DisposeAsync()
    {
        await _gate.EnterAsync(CancellationToken.None).ConfigureAwait(false);
        try
        {
            _disposed = true;
            _statements?.Dispose();
            if (_connection is not null)
            {
                await _connection.DisposeAsync().ConfigureAwait(false);
            }
        }
        finally
        {
            _gate.Exit();
        }
    }

    internal void End(bool commit)
    {
        try
        {
            Translate(() => SqliteSchema.Execute(_connection!, commit ? "COMMIT" : "ROLLBACK"));
        }
        finally
        {
            _gate.Exit();
        }
    }

    /// <summary>Runs a SQLite call, turning "the database is busy or locked" into a retryable lost race.</summary>
    internal static T Translate<T>(Func<T> call)
    {
        try
        {
            return call();
        }
        catch (SqliteException exception) when (exception.SqliteErrorCode is 5 or 6)
        {
            throw new AnpmConcurrencyException("The SQLite database was locked by another writer for too long; retry.", exception);
        }
        catch (SqliteException exception)
        {
            throw new AnpmException($"SQLite failed: {exception.Message}", exception);
        }
    }

    internal static void Translate(Action call) => Translate(() =>
    {
        call();
        return 0;
    });

    private SqliteStatements EnsureOpen()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_statements is not null)
        {
            return _statements;
        }

        var connection = new SqliteConnection(_options.ConnectionString);
        try
        {
            Translate(() =>
            {
                connection.Open();
                SqliteSchema.Execute(connection, "PRAGMA journal_mode = WAL");
                SqliteSchema.Execute(connection, "PRAGMA foreign_keys = ON");
                SqliteSchema.Execute(connection, "PRAGMA synchronous = " + (_options.DurableCommits ? "FULL" : "NORMAL"));
                SqliteSchema.Execute(connection, "PRAGMA busy_timeout = " + _options.BusyTimeoutMs.ToString(CultureInfo.InvariantCulture));
                SqliteSchema.Migrate(connection, _timeProvider.GetUtcNow());
            });
        }
        catch
        {
            connection.Dispose();
            throw;
        }

        _connection = connection;
        _statements = new SqliteStatements(connection);
        return _statements;
    }
}
