using Anpm.Abstractions;
using Microsoft.Data.Sqlite;

namespace Anpm.Storage.Sqlite;

/// <summary>
/// The versioned schema. Each migration runs once, in order, inside the transaction that records it in
/// <c>anpm_schema_version</c>; a database whose version is newer than the newest migration here is refused.
/// </summary>
internal static class SqliteSchema
{
    /// <summary>Applies the missing migrations; refuses a database newer than this code.</summary>
    /// <returns>The migrations applied now, in order (none when the database was current).</returns>
    /// <exception cref="AnpmException">The database's schema is newer than <see cref="RelationalSchema.LatestVersion"/>.</exception>
    public static List<RelationalMigration> Migrate(SqliteConnection connection, DateTimeOffset now)
    {
        Execute(connection, "BEGIN IMMEDIATE");
        try
        {
            Execute(connection, """
                CREATE TABLE IF NOT EXISTS anpm_schema_version (
                    version INTEGER NOT NULL PRIMARY KEY,
                    description TEXT NOT NULL,
                    applied_at_ticks INTEGER NOT NULL)
                """);
            using var read = connection.CreateCommand();
            read.CommandText = "SELECT coalesce(max(version), 0) FROM anpm_schema_version";
            var current = Convert.ToInt32(read.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
            if (current > RelationalSchema.LatestVersion)
            {
                throw new AnpmException(
                    $"The SQLite database has schema version {current}, newer than version {RelationalSchema.LatestVersion} that this Anpm knows. " +
                    "Run a newer Anpm against it; this one refuses to touch it.");
            }

            var applied = RelationalSchema.Migrations.Where(m => m.Version > current).ToList();
            foreach (var (version, description, sql, _) in applied)
            {
                Execute(connection, sql);
                using var record = connection.CreateCommand();
                record.CommandText = "INSERT INTO anpm_schema_version (version, description, applied_at_ticks) VALUES ($v, $d, $t)";
                record.Parameters.AddWithValue("$v", version);
                record.Parameters.AddWithValue("$d", description);
                record.Parameters.AddWithValue("$t", now.UtcTicks);
                record.ExecuteNonQuery();
            }

            Execute(connection, "COMMIT");
            return applied;
        }
        catch
        {
            Execute(connection, "ROLLBACK");
            throw;
        }
    }

    public static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
