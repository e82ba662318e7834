using System.Buffers.Binary;
using System.Text;
using Anpm.Abstractions;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Anpm.Storage.Postgres;

/// <summary>
/// Job locks as PostgreSQL session advisory locks, each held on a connection of its own until released: every instance
/// on the database sees them, and the server releases them if the holder dies.
/// </summary>
internal sealed partial class PostgresJobLocks(NpgsqlDataSource dataSource, ILogger logger) : IJobLockProvider
{
    public async ValueTask<IAsyncDisposable?> TryAcquireAsync(string key, CancellationToken cancellationToken = default)
    {
        JobLockKeys.Validate(key);
        var lockKey = KeyOf("anpm-job:" + key);
        var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await using var command = new NpgsqlCommand("SELECT pg_try_advisory_lock($1)", connection);
            command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = lockKey });
            if ((bool)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!)
            {
                return new Holder(connection, key, lockKey, logger);
            }
        }
        catch (NpgsqlException exception)
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw new AnpmException($"PostgreSQL failed to take job lock '{key}': {exception.Message}", exception);
        }

        await connection.DisposeAsync().ConfigureAwait(false);
        return null;
    }

    [LoggerMessage(EventId = 202, Level = LogLevel.Warning, Message = "Releasing job lock '{Key}' failed; PostgreSQL releases it when the connection closes, which this one now does.")]
    private static partial void LogReleaseFailed(ILogger logger, Exception exception, string key);

    /// <summary>A 64-bit advisory lock key: the first 8 bytes of Keccak-256 of the name.</summary>
    public static long KeyOf(string name) => BinaryPrimitives.ReadInt64BigEndian(Keccak256.Hash(Encoding.UTF8.GetBytes(name)));

    private sealed class Holder(NpgsqlConnection connection, string key, long lockKey, ILogger logger) : IAsyncDisposable
    {
        private int _released;

        public async ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref _released, 1) != 0)
            {
                return;
            }

            await using (connection.ConfigureAwait(false))
            {
                try
                {
                    await using var command = new NpgsqlCommand("SELECT pg_advisory_unlock($1)", connection);
                    command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = lockKey });
                    await command.ExecuteScalarAsync().ConfigureAwait(false);
                }
                catch (NpgsqlException exception)
                {
                    // The connection is gone; the server releases the session's locks with it.
                    LogReleaseFailed(logger, exception, key);
                }
            }
        }
    }
}
