using Microsoft.Extensions.Options;

namespace Anpm.Storage.Sqlite;

/// <summary>Options of the <see cref="SqliteAnpmStore"/>; validated when the store is created.</summary>
public sealed class SqliteStoreOptions
{
    /// <summary>The SQLite connection string, e.g. <c>Data Source=/var/lib/anpm/anpm.db</c>. Required.</summary>
    public string ConnectionString { get; set; } = string.Empty;

    /// <summary>
    /// How long a unit of work waits for another process that holds the database's write lock, in milliseconds, before
    /// its command fails as a lost race (and is retried). Default 5000; 0 to 600 000.
    /// </summary>
    public int BusyTimeoutMs { get; set; } = 5_000;

    /// <summary>
    /// <see langword="true"/> (default): every commit is flushed to disk (<c>synchronous=FULL</c>), so a committed transfer
    /// survives a power loss. <see langword="false"/> (<c>synchronous=NORMAL</c>) survives a process crash, not a power loss.
    /// </summary>
    public bool DurableCommits { get; set; } = true;

    /// <summary>
    /// How many read-only units of work run at once, each on its own connection beside the writer (WAL readers never
    /// wait for it). More wait for a free connection. Default 8; 1 to 256. An in-memory database has one connection,
    /// so its readers share the writer's.
    /// </summary>
    public int ReaderConnections { get; set; } = 8;

    /// <summary>
    /// <see langword="true"/> (default): group commit. Units of work that follow each other while others wait share one
    /// transaction and one flush to disk, each inside a savepoint of its own (a refusal or an exception rolls back only its
    /// own work); a unit of work's commit returns once its group is durable. A group commits when no writer waits, when it
    /// has <see cref="GroupCommitMaxSize"/> units, or when its first commit is <see cref="GroupCommitMaxDelayMs"/> old.
    /// </summary>
    public bool GroupCommit { get; set; } = true;

    /// <summary>The most units of work one group commit holds. Default 64; 1 to 10 000.</summary>
    public int GroupCommitMaxSize { get; set; } = 64;

    /// <summary>How long, in milliseconds, a committed unit of work may wait for later ones to join its group. Default 5; 0 to 1 000.</summary>
    public int GroupCommitMaxDelayMs { get; set; } = 5;
}

/// <summary>Validates <see cref="SqliteStoreOptions"/>; every failure names the option.</summary>
public sealed class SqliteStoreOptionsValidator : IValidateOptions<SqliteStoreOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, SqliteStoreOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        if (string.IsNullOrWhiteSpace(options.ConnectionString))
        {
            failures.Add($"{nameof(SqliteStoreOptions)}.{nameof(SqliteStoreOptions.ConnectionString)} is required, e.g. \"Data Source=anpm.db\".");
        }
        else
        {
            try
            {
                _ = new Microsoft.Data.Sqlite.SqliteConnectionStringBuilder(options.ConnectionString);
            }
            catch (ArgumentException exception)
            {
                failures.Add($"{nameof(SqliteStoreOptions)}.{nameof(SqliteStoreOptions.ConnectionString)} is not a SQLite connection string: {exception.Message}");
            }
        }

        if (options.BusyTimeoutMs is < 0 or > 600_000)
        {
            failures.Add($"{nameof(SqliteStoreOptions)}.{nameof(SqliteStoreOptions.BusyTimeoutMs)} must be 0 to 600000, not {options.BusyTimeoutMs}.");
        }

        if (options.GroupCommitMaxSize is < 1 or > 10_000)
        {
            failures.Add($"{nameof(SqliteStoreOptions)}.{nameof(SqliteStoreOptions.GroupCommitMaxSize)} must be 1 to 10000, not {options.GroupCommitMaxSize}.");
        }

        if (options.GroupCommitMaxDelayMs is < 0 or > 1_000)
        {
            failures.Add($"{nameof(SqliteStoreOptions)}.{nameof(SqliteStoreOptions.GroupCommitMaxDelayMs)} must be 0 to 1000, not {options.GroupCommitMaxDelayMs}.");
        }

        if (options.ReaderConnections is < 1 or > 256)
        {
            failures.Add($"{nameof(SqliteStoreOptions)}.{nameof(SqliteStoreOptions.ReaderConnections)} must be 1 to 256, not {options.ReaderConnections}.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
