using System.Globalization;
using System.Numerics;
using Microsoft.Data.Sqlite;
using Npgsql;
using NpgsqlTypes;

namespace Anpm.Benchmarks;

/// <summary>
/// The durable baseline: hand-written ADO.NET doing the same row work per transfer as the ledger over the same tables —
/// lock both accounts, check the balance, insert the transfer, update both accounts' totals and versions, commit — with
/// none of Anpm's layers (results per event, validation, linked chains, two-phase states, retries).
/// </summary>
internal interface IRawLedger : IAsyncDisposable
{
    /// <summary>Applies the transfers in one transaction; throws if any is refused.</summary>
    Task TransferAsync(IReadOnlyList<(string Id, string Debit, string Credit, ulong Amount)> transfers);
}

internal sealed class RawSqliteLedger : IRawLedger
{
    private readonly SqliteConnection _connection;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly SqliteCommand _select;
    private readonly SqliteCommand _insert;
    private readonly SqliteCommand _update;

    public RawSqliteLedger(string path)
    {
        _connection = new SqliteConnection($"Data Source={path};Pooling=false");
        _connection.Open();
        Execute("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON");
        _select = Prepare("SELECT flags, version, debits_posted, credits_posted, debits_pending, credits_pending FROM ledger_accounts WHERE id = $id", "$id");
        _insert = Prepare(
            "INSERT INTO ledger_transfers (id, debit_account_id, credit_account_id, asset, amount, kind, reference, flags, pending_id, timeout_seconds, timestamp_ticks, expires_at_ticks, state) " +
            "VALUES ($id, $debit, $credit, 'APUS', $amount, 'bench', '', 0, NULL, 0, $ticks, NULL, 0) ON CONFLICT (id) DO NOTHING",
            "$id", "$debit", "$credit", "$amount", "$ticks");
        _update = Prepare(
            "UPDATE ledger_accounts SET debits_posted = $dp, credits_posted = $cp, version = version + 1 WHERE id = $id AND version = $version",
            "$id", "$version", "$dp", "$cp");
    }

    public async Task TransferAsync(IReadOnlyList<(string Id, string Debit, string Credit, ulong Amount)> transfers)
    {
        await _gate.WaitAsync();
        try
        {
            Execute("BEGIN IMMEDIATE");
            foreach (var (id, debit, credit, amount) in transfers)
            {
                var d = Read(debit);
                var c = Read(credit);
                var debitsPosted = d.DebitsPosted + amount;
                if ((d.Flags & 1) != 0 && debitsPosted + d.DebitsPending > d.CreditsPosted)
                {
                    throw new InvalidOperationException("Insufficient balance.");
                }

                _insert.Parameters[0].Value = id;
                _insert.Parameters[1].Value = debit;
                _insert.Parameters[2].Value = credit;
                _insert.Parameters[3].Value = ((UInt128)amount).ToString("D39", CultureInfo.InvariantCulture);
                _insert.Parameters[4].Value = DateTimeOffset.UtcNow.UtcTicks;
                if (_insert.ExecuteNonQuery() != 1)
                {
                    throw new InvalidOperationException("Duplicate transfer.");
                }

                Update(debit, d.Version, debitsPosted, d.CreditsPosted);
                Update(credit, c.Version, c.DebitsPosted, c.CreditsPosted + amount);
            }

            Execute("COMMIT");
        }
        catch
        {
            Execute("ROLLBACK");
            throw;
        }
        finally
        {
            _gate.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        _select.Dispose();
        _insert.Dispose();
        _update.Dispose();
        await _connection.DisposeAsync();
        _gate.Dispose();
    }

    private (int Flags, long Version, UInt128 DebitsPosted, UInt128 CreditsPosted, UInt128 DebitsPending) Read(string id)
    {
        _select.Parameters[0].Value = id;
        using var reader = _select.ExecuteReader();
        if (!reader.Read())
        {
            throw new InvalidOperationException($"No account {id}.");
        }

        return (reader.GetInt32(0), reader.GetInt64(1), UInt128.Parse(reader.GetString(2), CultureInfo.InvariantCulture),
            UInt128.Parse(reader.GetString(3), CultureInfo.InvariantCulture), UInt128.Parse(reader.GetString(4), CultureInfo.InvariantCulture));
    }

    private void Update(string id, long version, UInt128 debitsPosted, UInt128 creditsPosted)
    {
        _update.Parameters[0].Value = id;
        _update.Parameters[1].Value = version;
        _update.Parameters[2].Value = debitsPosted.ToString("D39", CultureInfo.InvariantCulture);
        _update.Parameters[3].Value = creditsPosted.ToString("D39", CultureInfo.InvariantCulture);
        if (_update.ExecuteNonQuery() != 1)
        {
            throw new InvalidOperationException("Lost update.");
        }
    }

    private void Execute(string sql)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private SqliteCommand Prepare(string sql, params string[] parameters)
    {
        var command = _connection.CreateCommand();
        command.CommandText = sql;
        foreach (var parameter in parameters)
        {
            command.Parameters.Add(new SqliteParameter { ParameterName = parameter });
        }

        command.Prepare();
        return command;
    }
}

internal sealed class RawPostgresLedger(string connectionString, string schema) : IRawLedger
{
    private readonly NpgsqlDataSource _dataSource = NpgsqlDataSource.Create(
        new NpgsqlConnectionStringBuilder(connectionString) { SearchPath = schema, MaxAutoPrepare = 32, AutoPrepareMinUsages = 2 });

    public async Task TransferAsync(IReadOnlyList<(string Id, string Debit, string Credit, ulong Amount)> transfers)
    {
        await using var connection = await _dataSource.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync(System.Data.IsolationLevel.ReadCommitted);
        foreach (var (id, debit, credit, amount) in transfers)
        {
            var accounts = new Dictionary<string, (int Flags, long Version, BigInteger DebitsPosted, BigInteger CreditsPosted, BigInteger DebitsPending)>();
            await using (var select = new NpgsqlCommand(
                "SELECT id, flags, version, debits_posted, credits_posted, debits_pending FROM ledger_accounts WHERE id = ANY($1) ORDER BY id FOR UPDATE", connection, transaction))
            {
                select.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = [debit, credit], NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
                await using var reader = await select.ExecuteReaderAsync();
                while (await reader.ReadAsync())
                {
                    accounts[reader.GetString(0)] = (reader.GetInt32(1), reader.GetInt64(2), reader.GetFieldValue<BigInteger>(3),
                        reader.GetFieldValue<BigInteger>(4), reader.GetFieldValue<BigInteger>(5));
                }
            }

            var d = accounts[debit];
            var c = accounts[credit];
            if ((d.Flags & 1) != 0 && d.DebitsPosted + amount + d.DebitsPending > d.CreditsPosted)
            {
                throw new InvalidOperationException("Insufficient balance.");
            }

            await using (var insert = new NpgsqlCommand(
                "INSERT INTO ledger_transfers (id, debit_account_id, credit_account_id, asset, amount, kind, reference, flags, pending_id, timeout_seconds, timestamp_ticks, expires_at_ticks, state) " +
                "VALUES ($1, $2, $3, 'APUS', $4, 'bench', '', 0, NULL, 0, $5, NULL, 0) ON CONFLICT (id) DO NOTHING", connection, transaction))
            {
                insert.Parameters.Add(new NpgsqlParameter<string> { TypedValue = id });
                insert.Parameters.Add(new NpgsqlParameter<string> { TypedValue = debit });
                insert.Parameters.Add(new NpgsqlParameter<string> { TypedValue = credit });
                insert.Parameters.Add(new NpgsqlParameter<BigInteger> { TypedValue = amount, NpgsqlDbType = NpgsqlDbType.Numeric });
                insert.Parameters.Add(new NpgsqlParameter<long> { TypedValue = DateTimeOffset.UtcNow.UtcTicks });
                if (await insert.ExecuteNonQueryAsync() != 1)
                {
                    throw new InvalidOperationException("Duplicate transfer.");
                }
            }

            await UpdateAsync(connection, transaction, debit, d.Version, d.DebitsPosted + amount, d.CreditsPosted);
            await UpdateAsync(connection, transaction, credit, c.Version, c.DebitsPosted, c.CreditsPosted + amount);
        }

        await transaction.CommitAsync();
    }

    public ValueTask DisposeAsync() => _dataSource.DisposeAsync();

    private static async Task UpdateAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string id, long version, BigInteger debitsPosted, BigInteger creditsPosted)
    {
        await using var update = new NpgsqlCommand(
            "UPDATE ledger_accounts SET debits_posted = $3, credits_posted = $4, version = version + 1 WHERE id = $1 AND version = $2", connection, transaction);
        update.Parameters.Add(new NpgsqlParameter<string> { TypedValue = id });
        update.Parameters.Add(new NpgsqlParameter<long> { TypedValue = version });
        update.Parameters.Add(new NpgsqlParameter<BigInteger> { TypedValue = debitsPosted, NpgsqlDbType = NpgsqlDbType.Numeric });
        update.Parameters.Add(new NpgsqlParameter<BigInteger> { TypedValue = creditsPosted, NpgsqlDbType = NpgsqlDbType.Numeric });
        if (await update.ExecuteNonQueryAsync() != 1)
        {
            throw new InvalidOperationException("Lost update.");
        }
    }
}
