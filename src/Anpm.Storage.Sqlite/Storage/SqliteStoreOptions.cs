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

        if (options.ReaderConnections is < 1 or > 256)
        {
            failures.Add($"{nameof(SqliteStoreOptions)}.{nameof(SqliteStoreOptions.ReaderConnections)} must be 1 to 256, not {options.ReaderConnections}.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
