using Anpm.Abstractions;
using Npgsql;

namespace Anpm.Storage.Postgres;

/// <summary>
/// The versioned schema. Migrations run in one transaction under an advisory lock, so instances starting together
/// apply each migration once (the migrations: <see cref="RelationalSchema.Migrations"/>); a database whose version is
/// newer than the newest migration is refused.
/// </summary>
internal static class PostgresSchema
{
    /// <summary>Creates the schema if needed and applies the missing migrations; refuses a database newer than this code.</summary>
    /// <exception cref="AnpmException">The schema's version is newer than <see cref="RelationalSchema.LatestVersion"/>.</exception>
    /// <returns>The migrations applied now, in order (none when the schema was current).</returns>
    public static async Task<List<RelationalMigration>> MigrateAsync(NpgsqlDataSource dataSource, string schema, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            await using (transaction.ConfigureAwait(false))
            {
                await ExecuteAsync(connection, $"SELECT pg_advisory_xact_lock({PostgresJobLocks.KeyOf("anpm-migrate:" + schema)})", cancellationToken).ConfigureAwait(false);
                await ExecuteAsync(connection, $"""
                    CREATE SCHEMA IF NOT EXISTS "{schema}";
                    CREATE TABLE IF NOT EXISTS "{schema}".anpm_schema_version (
                        version integer NOT NULL PRIMARY KEY,
                        description text NOT NULL,
                        applied_at_ticks bigint NOT NULL)
                    """, cancellationToken).ConfigureAwait(false);
                await using var read = new NpgsqlCommand($"""SELECT coalesce(max(version), 0) FROM "{schema}".anpm_schema_version""", connection);
                var current = (int)(await read.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
                if (current > RelationalSchema.LatestVersion)
                {
                    throw new AnpmException(
                        $"The PostgreSQL schema '{schema}' has version {current}, newer than version {RelationalSchema.LatestVersion} that this Anpm knows. " +
                        "Run a newer Anpm against it; this one refuses to touch it.");
                }

                var applied = RelationalSchema.Migrations.Where(m => m.Version > current).ToList();
                foreach (var (version, description, _, sql) in applied)
                {
                    await ExecuteAsync(connection, $"SET LOCAL search_path TO \"{schema}\";\n" + sql, cancellationToken).ConfigureAwait(false);
                    await using var record = new NpgsqlCommand(
                        $"""INSERT INTO "{schema}".anpm_schema_version (version, description, applied_at_ticks) VALUES ($1, $2, $3)""", connection);
                    record.Parameters.Add(new NpgsqlParameter<int> { TypedValue = version });
                    record.Parameters.Add(new NpgsqlParameter<string> { TypedValue = description });
                    record.Parameters.Add(new NpgsqlParameter<long> { TypedValue = now.UtcTicks });
                    await record.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                }

                await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                return applied;
            }
        }
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }
}
