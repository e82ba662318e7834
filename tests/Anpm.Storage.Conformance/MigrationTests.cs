using Anpm.Abstractions;
using Anpm.Storage.Postgres;
using Anpm.Storage.Sqlite;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Anpm.Storage.Conformance;

public sealed class SqliteMigrationTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("anpm-migrate-").FullName;

    private string ConnectionString => $"Data Source={Path.Combine(_folder, "m.db")};Pooling=false";

    [Fact]
    public async Task Migrate_FreshThenAgain_RecordsEachVersionOnceInWalMode()
    {
        await using (var store = SqliteStoreFactory.Open(Path.Combine(_folder, "m.db")))
        {
            await store.MigrateAsync();
            await store.MigrateAsync();
        }

        await using (var again = SqliteStoreFactory.Open(Path.Combine(_folder, "m.db")))
        {
            await (await again.BeginAsync()).DisposeAsync();
        }

        using var connection = new SqliteConnection(ConnectionString);
        connection.Open();
        Assert.Equal(Enumerable.Range(1, SqliteAnpmStore.SchemaVersion).Select(v => (object)(long)v), Query(connection, "SELECT version FROM anpm_schema_version ORDER BY version"));
        Assert.Equal(["wal"], Query(connection, "PRAGMA journal_mode").Select(v => v.ToString()));
    }

    [Fact]
    public async Task Migrate_FromVersion5_BackfillsPoolStatusTimesAndAddsTheSystemState()
    {
        await using (var store = SqliteStoreFactory.Open(Path.Combine(_folder, "m.db")))
        {
            await store.RunAsync(0, static async (unitOfWork, _, ct) => await unitOfWork.Pools.TryInsertPoolAsync(UpgradedPool, ct));
        }

        using (var connection = new SqliteConnection(ConnectionString))
        {
            connection.Open();
            Query(connection, "DROP TABLE system_state");
            Query(connection, "DROP INDEX contributions_by_pool_status");
            foreach (var index in IndexesAfterVersion6)
            {
                Query(connection, "DROP INDEX " + index);
            }

            Query(connection, "ALTER TABLE pools DROP COLUMN status_changed_at_ticks");
            Query(connection, "ALTER TABLE pools ADD COLUMN paused_from INTEGER"); // dropped again by migration 12
            foreach (var table in Query(connection, "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite%'").Cast<string>().Except(TablesOfVersion5))
            {
                Query(connection, "DROP TABLE " + table); // migration 7 and later are undone too: every table version 5 did not have
            }

            Query(connection, "DELETE FROM anpm_schema_version WHERE version >= 6");
        }

        await using var upgraded = SqliteStoreFactory.Open(Path.Combine(_folder, "m.db"));
        await using var check = await upgraded.BeginAsync();
        Assert.Equal(UpgradedPool with { StatusChangedAt = UpgradedPool.CreatedAt }, await check.Pools.GetPoolAsync(UpgradedPool.Id));
        Assert.Equal(SystemState.Initial, await check.System.GetSystemStateAsync());
    }

    /// <summary>The indexes later migrations add to tables of version 5 or earlier, dropped with them.</summary>
    internal static readonly string[] IndexesAfterVersion6 = ["contributions_by_owner", "outbox_by_state"];

    /// <summary>The tables of version 5 (history: it never changes); every other table is dropped to take a database back to it.</summary>
    internal static readonly string[] TablesOfVersion5 = ["anpm_schema_version", "ledger_accounts", "ledger_transfers", "pools", "outbox", "contributions", "notices"];

    private static readonly PoolRecord UpgradedPool = new()
    {
        Id = PoolId.Parse("old"),
        Owner = Address.Zero,
        ConfigJson = "{}",
        Status = PoolStatus.Active,
        CreatedAt = new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero),
        StatusChangedAt = new DateTimeOffset(2026, 5, 5, 5, 5, 5, TimeSpan.Zero),
    };

    [Fact]
    public async Task RunningStore_DatabaseMigratedByANewerInstance_ReportsTheNewerVersion()
    {
        await using var store = SqliteStoreFactory.Open(Path.Combine(_folder, "m.db"));
        Assert.Equal(new StoreSchemaVersion(SqliteAnpmStore.SchemaVersion, SqliteAnpmStore.SchemaVersion), await store.GetSchemaVersionAsync());
        using (var connection = new SqliteConnection(ConnectionString))
        {
            connection.Open();
            Query(connection, "INSERT INTO anpm_schema_version VALUES (99, 'from the future', 0)");
        }

        var version = await store.GetSchemaVersionAsync();
        Assert.Equal((SqliteAnpmStore.SchemaVersion, 99, false), (version.Code, version.Database, version.IsCurrent));
    }

    [Fact]
    public async Task Open_SchemaNewerThanCode_RefusedWithClearError()
    {
        await using (var store = SqliteStoreFactory.Open(Path.Combine(_folder, "m.db")))
        {
            await store.MigrateAsync();
        }

        using (var connection = new SqliteConnection(ConnectionString))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "INSERT INTO anpm_schema_version VALUES (99, 'from the future', 0)";
            command.ExecuteNonQuery();
        }

        await using var newer = SqliteStoreFactory.Open(Path.Combine(_folder, "m.db"));
        var error = await Assert.ThrowsAsync<AnpmException>(async () => await newer.BeginAsync());
        Assert.Contains($"schema version 99, newer than version {SqliteAnpmStore.SchemaVersion}", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Options_Invalid_EveryFailureNamesItsOption()
    {
        var error = Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(() => new SqliteAnpmStore(
            Microsoft.Extensions.Options.Options.Create(new SqliteStoreOptions { ConnectionString = "", BusyTimeoutMs = -1 }), TimeProvider.System));
        Assert.Contains(error.Failures, f => f.StartsWith("SqliteStoreOptions.ConnectionString is required", StringComparison.Ordinal));
        Assert.Contains("SqliteStoreOptions.BusyTimeoutMs must be 0 to 600000, not -1.", error.Failures);
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static List<object> Query(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        using var reader = command.ExecuteReader();
        var values = new List<object>();
        while (reader.Read())
        {
            values.Add(reader.GetValue(0));
        }

        return values;
    }
}

[Collection(PostgresCollection.Name)]
public sealed class PostgresMigrationTests(PostgresServerFixture server)
{
    private readonly string _schema = "migrate" + Guid.NewGuid().ToString("N")[..12];

    [Fact]
    public async Task Migrate_SeveralInstancesAtOnce_EachVersionAppliedOnce()
    {
        var stores = Enumerable.Range(0, 4).Select(_ => PostgresStoreFactory.Open(server.Server.ConnectionString, _schema)).ToList();
        await Task.WhenAll(stores.Select(s => s.MigrateAsync().AsTask()));
        foreach (var store in stores)
        {
            await store.DisposeAsync();
        }

        Assert.Equal(Enumerable.Range(1, PostgresAnpmStore.SchemaVersion), await QueryAsync<int>($"SELECT version FROM \"{_schema}\".anpm_schema_version ORDER BY version"));
        Assert.Equal(["numeric"], await QueryAsync<string>(
            $"SELECT data_type FROM information_schema.columns WHERE table_schema = '{_schema}' AND table_name = 'ledger_accounts' AND column_name = 'debits_posted'"));
    }

    [Fact]
    public async Task Migrate_FromVersion5_BackfillsPoolStatusTimesAndAddsTheSystemState()
    {
        var pool = new PoolRecord
        {
            Id = PoolId.Parse("old"),
            Owner = Address.Zero,
            ConfigJson = "{}",
            Status = PoolStatus.Active,
            CreatedAt = new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero),
            StatusChangedAt = new DateTimeOffset(2026, 5, 5, 5, 5, 5, TimeSpan.Zero),
        };
        await using (var store = PostgresStoreFactory.Open(server.Server.ConnectionString, _schema))
        {
            await store.RunAsync(pool, static async (unitOfWork, pool, ct) => await unitOfWork.Pools.TryInsertPoolAsync(pool, ct));
        }

        var later = (await QueryAsync<string>($"SELECT table_name::text FROM information_schema.tables WHERE table_schema = '{_schema}' AND table_name <> 'system_state'"))
            .Except(SqliteMigrationTests.TablesOfVersion5);
        await QueryAsync<int>($"""
            DROP TABLE "{_schema}".system_state;
            DROP INDEX "{_schema}".contributions_by_pool_status;
            {string.Join("\n", SqliteMigrationTests.IndexesAfterVersion6.Select(i => $"DROP INDEX \"{_schema}\".{i};"))}
            ALTER TABLE "{_schema}".pools DROP COLUMN status_changed_at_ticks;
            ALTER TABLE "{_schema}".pools ADD COLUMN paused_from integer;
            {string.Join("\n", later.Select(t => $"DROP TABLE \"{_schema}\".{t} CASCADE;"))}
            DELETE FROM "{_schema}".anpm_schema_version WHERE version >= 6;
            SELECT 1
            """);
        await using var upgraded = PostgresStoreFactory.Open(server.Server.ConnectionString, _schema);
        await using var check = await upgraded.BeginAsync();
        Assert.Equal(pool with { StatusChangedAt = pool.CreatedAt }, await check.Pools.GetPoolAsync(pool.Id));
        Assert.Equal(SystemState.Initial, await check.System.GetSystemStateAsync());
    }

    [Fact]
    public async Task Open_SchemaNewerThanCode_RefusedWithClearError()
    {
        await using (var store = PostgresStoreFactory.Open(server.Server.ConnectionString, _schema))
        {
            await store.MigrateAsync();
        }

        await QueryAsync<int>($"INSERT INTO \"{_schema}\".anpm_schema_version VALUES (99, 'from the future', 0) RETURNING version");
        await using var newer = PostgresStoreFactory.Open(server.Server.ConnectionString, _schema);
        var error = await Assert.ThrowsAsync<AnpmException>(async () => await newer.BeginAsync());
        Assert.Contains($"schema '{_schema}' has version 99, newer than version {PostgresAnpmStore.SchemaVersion}", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Options_Invalid_EveryFailureNamesItsOption()
    {
        var error = Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(() => new PostgresAnpmStore(
            Microsoft.Extensions.Options.Options.Create(new PostgresStoreOptions { ConnectionString = "Host=x", Schema = "Bad-Schema" }), TimeProvider.System));
        Assert.Contains(error.Failures, f => f.StartsWith("PostgresStoreOptions.Schema must be", StringComparison.Ordinal));
    }

    private async Task<List<T>> QueryAsync<T>(string sql)
    {
        await using var connection = new NpgsqlConnection(server.Server.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync();
        var values = new List<T>();
        while (await reader.ReadAsync())
        {
            values.Add(reader.GetFieldValue<T>(0));
        }

        return values;
    }
}
