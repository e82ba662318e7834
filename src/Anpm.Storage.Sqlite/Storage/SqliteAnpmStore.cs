using System.Globalization;
using Anpm.Abstractions;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Anpm.Storage.Sqlite;

/// <summary>
/// Anpm's embedded store: one SQLite file in WAL mode. The process's units of work run one at a time over one connection
/// (SQLite has a single writer anyway), each inside <c>BEGIN IMMEDIATE</c>, so another process on the same file waits
/// for the write lock instead of failing half-way. Read-only units of work run beside it, each on a connection of its
/// own (<see cref="SqliteStoreOptions.ReaderConnections"/>) in a deferred transaction: a consistent snapshot of what was
/// committed, never waiting for the writer. Migrations run on first use or through <see cref="MigrateAsync"/>.
/// </summary>
public sealed partial class SqliteAnpmStore : IAnpmStore, IJobLockProvider, IStoreSchema, IAsyncDisposable
{
    private readonly SqliteStoreOptions _options;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly AsyncExclusiveLock _gate = new();
    // Job locks are shared by every store instance of this process on the same file (SQLite serves one host process).
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, InProcessJobLockProvider> JobLocksByFile = new(StringComparer.Ordinal);
    private readonly InProcessJobLockProvider _jobLocks;
    private readonly System.Collections.Concurrent.ConcurrentBag<SqliteReader> _readers = [];
    private readonly SemaphoreSlim _readerSlots;
    private readonly bool _memoryDatabase;
    private SqliteConnection? _connection;
    private SqliteStatements? _statements;
    private bool _disposed;

    // Group commit, touched only by the gate's holder: whether a group transaction is open, the commits waiting for it
    // to reach the disk and when its first member committed. Its units of work run one after another, each in the
    // savepoint anpm_uow (one name, so its statements are prepared once).
    private const string Savepoint = "anpm_uow";
    private bool _groupOpen;
    private readonly List<TaskCompletionSource> _groupCommits = [];
    private long _groupStartedAt;

    /// <summary>Creates the store; nothing is opened until first use.</summary>
    /// <param name="options">The store's options.</param>
    /// <param name="timeProvider">The clock that stamps applied migrations.</param>
    /// <param name="logger">Where applied migrations and failed group commits are logged; nowhere when none is given.</param>
    /// <exception cref="OptionsValidationException">The options are invalid; the failures name each option.</exception>
    public SqliteAnpmStore(IOptions<SqliteStoreOptions> options, TimeProvider timeProvider, ILogger<SqliteAnpmStore>? logger = null)
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
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        var builder = new SqliteConnectionStringBuilder(_options.ConnectionString);
        var dataSource = builder.DataSource;
        _memoryDatabase = dataSource is "" or ":memory:" || builder.Mode == SqliteOpenMode.Memory;
        _readerSlots = new SemaphoreSlim(_options.ReaderConnections, _options.ReaderConnections);
        _jobLocks = dataSource is "" or ":memory:"
            ? new InProcessJobLockProvider()
            : JobLocksByFile.GetOrAdd(Path.GetFullPath(dataSource), static _ => new InProcessJobLockProvider());
    }

    /// <summary>The schema version this code creates and understands.</summary>
    public static int SchemaVersion => RelationalSchema.LatestVersion;

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
            ExitGate();
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
            if (!_options.GroupCommit)
            {
                Translate(() => statements.Run("BEGIN IMMEDIATE"));
                return new SqliteUnitOfWork(this, statements);
            }

            if (!_groupOpen)
            {
                Translate(() => statements.Run("BEGIN IMMEDIATE"));
                _groupOpen = true;
            }

            Translate(() => statements.Run("SAVEPOINT " + Savepoint));
            return new SqliteUnitOfWork(this, statements, grouped: true);
        }
        catch
        {
            ExitGate();
            throw;
        }
    }

    /// <inheritdoc />
    /// <remarks>An in-memory database lives in the writer's connection, so there its readers take the writer's turn.</remarks>
    public async ValueTask<IAnpmUnitOfWork> BeginReadAsync(CancellationToken cancellationToken = default)
    {
        if (_memoryDatabase)
        {
            var unitOfWork = (SqliteUnitOfWork)await BeginAsync(cancellationToken).ConfigureAwait(false);
            unitOfWork.ReadOnly = true;
            return unitOfWork;
        }

        if (_statements is null)
        {
            await MigrateAsync(cancellationToken).ConfigureAwait(false); // readers need the schema the writer creates
        }

        await _readerSlots.WaitAsync(cancellationToken).ConfigureAwait(false);
        SqliteReader? reader = null;
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            reader = _readers.TryTake(out var pooled) ? pooled : OpenReader();
            Translate(() => reader.Statements.Run("BEGIN"));
            return new SqliteUnitOfWork(this, reader.Statements, reader);
        }
        catch
        {
            if (reader is not null)
            {
                _readers.Add(reader);
            }

            _readerSlots.Release();
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
            ExitGate();
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
            FlushGroup();
            _disposed = true;
            _statements?.Dispose();
            while (_readers.TryTake(out var reader))
            {
                reader.Dispose();
            }

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

    // Ends a reader's deferred transaction (it wrote nothing) and gives its connection back.
    internal void EndRead(SqliteReader reader)
    {
        try
        {
            Translate(() => reader.Statements.Run("ROLLBACK"));
            _readers.Add(reader);
        }
        catch
        {
            reader.Dispose();
            throw;
        }
        finally
        {
            _readerSlots.Release();
        }
    }

    private SqliteReader OpenReader()
    {
        var connection = new SqliteConnection(_options.ConnectionString);
        try
        {
            Translate(() =>
            {
                connection.Open();
                SqliteSchema.Execute(connection, "PRAGMA query_only = ON");
                SqliteSchema.Execute(connection, "PRAGMA busy_timeout = " + _options.BusyTimeoutMs.ToString(CultureInfo.InvariantCulture));
            });
            return new SqliteReader(connection, new SqliteStatements(connection));
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    // Ends a unit of work of a group: its savepoint is released (kept) or rolled back (only its own work undone). A kept
    // one waits for the group's commit, and so does one rolled back after kept ones: its answer (a refusal, a replay)
    // may rest on what they wrote. The group commits now when no writer waits, when it is full or old enough; otherwise
    // the next writer continues it and its commit comes with a later one.
    internal ValueTask EndInGroup(bool commit)
    {
        TaskCompletionSource? durable = null;
        try
        {
            if (!commit)
            {
                Translate(() => _statements!.Run("ROLLBACK TO " + Savepoint));
            }

            Translate(() => _statements!.Run("RELEASE " + Savepoint));
            if (commit || _groupCommits.Count > 0)
            {
                durable = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                if (_groupCommits.Count == 0)
                {
                    _groupStartedAt = System.Diagnostics.Stopwatch.GetTimestamp();
                }

                _groupCommits.Add(durable);
            }
        }
        catch
        {
            // The savepoint could not be released or rolled back: the group's transaction is in doubt, so none of it is kept.
            EndGroup(new AnpmException("A unit of work of this group commit failed to end; the group was rolled back."));
            ExitGate();
            throw;
        }

        if (_groupCommits.Count >= _options.GroupCommitMaxSize
            || System.Diagnostics.Stopwatch.GetElapsedTime(_groupStartedAt).TotalMilliseconds >= _options.GroupCommitMaxDelayMs)
        {
            FlushGroup();
        }

        ExitGate();
        return durable is null ? ValueTask.CompletedTask : new ValueTask(durable.Task);
    }

    // Leaves the gate: to the next writer, which continues the open group, or — nobody waiting — after committing it.
    private void ExitGate()
    {
        if (_gate.TryHandOff())
        {
            return;
        }

        FlushGroup();
        _gate.Exit();
    }

    // Commits the open group (the gate's holder only) and tells each member its commit is durable, or why it is not.
    private void FlushGroup() => EndGroup(failure: null);

    // Ends the open group: committed when there is no failure (a failing COMMIT becomes the failure), else rolled back;
    // every member learns the outcome.
    private void EndGroup(Exception? failure)
    {
        if (!_groupOpen)
        {
            return;
        }

        var members = _groupCommits.ToArray();
        _groupCommits.Clear();
        _groupOpen = false;
        if (failure is null)
        {
            try
            {
                Translate(() => _statements!.Run("COMMIT"));
            }
            catch (Exception exception)
            {
                failure = exception;
            }
        }

        if (failure is not null)
        {
            LogGroupCommitFailed(_logger, failure, members.Length);
            TryRollback();
        }

        foreach (var member in members)
        {
            _ = failure is null ? member.TrySetResult() : member.TrySetException(failure);
        }
    }

    [LoggerMessage(EventId = 201, Level = LogLevel.Information, Message = "SQLite database '{DataSource}': applied migration {Version} ({Description}).")]
    private static partial void LogMigrationApplied(ILogger logger, string dataSource, int version, string description);

    [LoggerMessage(EventId = 203, Level = LogLevel.Error, Message = "A group commit of {Count} units of work failed; none of them was kept, and each caller is told.")]
    private static partial void LogGroupCommitFailed(ILogger logger, Exception exception, int count);

    private void TryRollback()
    {
        try
        {
            SqliteSchema.Execute(_connection!, "ROLLBACK");
        }
        catch (SqliteException)
        {
            // Nothing to roll back (SQLite already did, e.g. after an I/O error).
        }
    }

    internal void End(bool commit)
    {
        try
        {
            Translate(() => _statements!.Run(commit ? "COMMIT" : "ROLLBACK"));
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
                foreach (var migration in SqliteSchema.Migrate(connection, _timeProvider.GetUtcNow()))
                {
                    LogMigrationApplied(_logger, connection.DataSource, migration.Version, migration.Description);
                }
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

/// <summary>A reader's own connection and its prepared statements, pooled by the store.</summary>
internal sealed class SqliteReader(SqliteConnection connection, SqliteStatements statements) : IDisposable
{
    public SqliteConnection Connection { get; } = connection;

    public SqliteStatements Statements { get; } = statements;

    public void Dispose()
    {
        Statements.Dispose();
        Connection.Dispose();
    }
}
