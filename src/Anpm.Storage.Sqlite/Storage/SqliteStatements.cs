using System.Globalization;
using Anpm.Abstractions;
using Microsoft.Data.Sqlite;

namespace Anpm.Storage.Sqlite;

/// <summary>The store's prepared statements over its one connection, and the mapping between rows and ledger records.</summary>
internal sealed class SqliteStatements : IDisposable
{
    private const string AccountColumns = LedgerRows.AccountColumns;
    private const string TransferColumns = LedgerRows.TransferColumns;

    private readonly SqliteConnection _connection;
    private readonly Dictionary<string, SqliteCommand> _cached = new(StringComparer.Ordinal);

    public SqliteStatements(SqliteConnection connection)
    {
        _connection = connection;
        GetAccount = Prepare(connection, $"SELECT {AccountColumns} FROM ledger_accounts WHERE id = $id", "$id");
        InsertAccount = Prepare(
            connection,
            $"INSERT INTO ledger_accounts ({AccountColumns}) VALUES ($id, $asset, $flags, $created, $version, $dp, $cp, $dpe, $cpe) ON CONFLICT (id) DO NOTHING",
            "$id", "$asset", "$flags", "$created", "$version", "$dp", "$cp", "$dpe", "$cpe");
        UpdateAccount = Prepare(
            connection,
            "UPDATE ledger_accounts SET debits_posted = $dp, credits_posted = $cp, debits_pending = $dpe, credits_pending = $cpe, version = version + 1 WHERE id = $id AND version = $version",
            "$id", "$version", "$dp", "$cp", "$dpe", "$cpe");
        GetTransfer = Prepare(connection, $"SELECT {TransferColumns} FROM ledger_transfers WHERE id = $id", "$id");
        InsertTransfer = Prepare(
            connection,
            $"INSERT INTO ledger_transfers ({LedgerRows.TransferColumnsWithoutSequence}) VALUES ($id, $debit, $credit, $asset, $amount, $kind, $reference, $flags, $pending, $timeout, $timestamp, $expires, $state) ON CONFLICT (id) DO NOTHING",
            "$id", "$debit", "$credit", "$asset", "$amount", "$kind", "$reference", "$flags", "$pending", "$timeout", "$timestamp", "$expires", "$state");
        UpdateState = Prepare(connection, "UPDATE ledger_transfers SET state = $state WHERE id = $id", "$id", "$state");
        Expired = Prepare(
            connection,
            $"SELECT {TransferColumns} FROM ledger_transfers WHERE state = {(int)PendingTransferState.Pending} AND expires_at_ticks IS NOT NULL AND expires_at_ticks <= $now ORDER BY expires_at_ticks, id LIMIT $limit",
            "$now", "$limit");
        History = Prepare(
            connection,
            $"""
            SELECT {TransferColumns} FROM ledger_transfers WHERE seq IN (
                SELECT seq FROM ledger_transfers WHERE debit_account_id = $id AND seq < $before
                UNION ALL
                SELECT seq FROM ledger_transfers WHERE credit_account_id = $id AND seq < $before
                ORDER BY seq DESC LIMIT $limit)
            ORDER BY seq DESC
            """,
            "$id", "$before", "$limit");
        AllAccounts = Prepare(connection, $"SELECT {AccountColumns} FROM ledger_accounts");
    }

    public SqliteCommand GetAccount { get; }

    public SqliteCommand InsertAccount { get; }

    public SqliteCommand UpdateAccount { get; }

    public SqliteCommand GetTransfer { get; }

    public SqliteCommand InsertTransfer { get; }

    public SqliteCommand UpdateState { get; }

    public SqliteCommand Expired { get; }

    public SqliteCommand History { get; }

    public SqliteCommand AllAccounts { get; }

    public static string Amount(TokenAmount amount) => amount.BaseUnits.ToString("D39", CultureInfo.InvariantCulture);

    private static readonly Func<System.Data.Common.DbDataReader, int, TokenAmount> ReadAmount =
        static (reader, ordinal) => new(UInt128.Parse(reader.GetString(ordinal), NumberStyles.None, CultureInfo.InvariantCulture));

    public static LedgerAccount ReadAccount(SqliteDataReader reader) => LedgerRows.ReadAccount(reader, ReadAmount);

    public static LedgerEntry ReadTransfer(SqliteDataReader reader) => LedgerRows.ReadTransfer(reader, ReadAmount);

    public void Dispose()
    {
        SqliteCommand[] commands = [GetAccount, InsertAccount, UpdateAccount, GetTransfer, InsertTransfer, UpdateState, Expired, History, AllAccounts, .. _cached.Values];
        foreach (var command in commands)
        {
            command.Dispose();
        }
    }

    /// <summary>Runs a statement without parameters or rows (transaction control), prepared once per connection.</summary>
    public void Run(string sql) => Cached(sql, 0).ExecuteNonQuery();

    /// <summary>A prepared statement for <paramref name="sql"/> with positional parameters <c>$1</c>, <c>$2</c>, …, prepared on first use.</summary>
    public SqliteCommand Cached(string sql, int parameterCount)
    {
        if (!_cached.TryGetValue(sql, out var command))
        {
            command = Prepare(_connection, sql, [.. Enumerable.Range(1, parameterCount).Select(i => "$" + i.ToString(CultureInfo.InvariantCulture))]);
            _cached[sql] = command;
        }

        return command;
    }

    private static SqliteCommand Prepare(SqliteConnection connection, string sql, params string[] parameters)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var parameter in parameters)
        {
            command.Parameters.Add(new SqliteParameter { ParameterName = parameter });
        }

        command.Prepare();
        return command;
    }
}
