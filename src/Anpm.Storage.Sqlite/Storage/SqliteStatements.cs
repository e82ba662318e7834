using System.Globalization;
using Anpm.Abstractions;
using Microsoft.Data.Sqlite;

namespace Anpm.Storage.Sqlite;

/// <summary>The store's prepared statements over its one connection, and the mapping between rows and ledger records.</summary>
internal sealed class SqliteStatements : IDisposable
{
    private const string AccountColumns = "id, asset, flags, created_at_ticks, version, debits_posted, credits_posted, debits_pending, credits_pending";
    private const string TransferColumns =
        "seq, id, debit_account_id, credit_account_id, asset, amount, kind, reference, flags, pending_id, timeout_seconds, timestamp_ticks, expires_at_ticks, state";

    public SqliteStatements(SqliteConnection connection)
    {
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
            $"INSERT INTO ledger_transfers ({TransferColumns[5..]}) VALUES ($id, $debit, $credit, $asset, $amount, $kind, $reference, $flags, $pending, $timeout, $timestamp, $expires, $state) ON CONFLICT (id) DO NOTHING",
            "$id", "$debit", "$credit", "$asset", "$amount", "$kind", "$reference", "$flags", "$pending", "$timeout", "$timestamp", "$expires", "$state");
        UpdateState = Prepare(connection, "UPDATE ledger_transfers SET state = $state WHERE id = $id", "$id", "$state");
        Expired = Prepare(
            connection,
            $"SELECT {TransferColumns} FROM ledger_transfers WHERE state = 1 AND expires_at_ticks IS NOT NULL AND expires_at_ticks <= $now ORDER BY expires_at_ticks, id LIMIT $limit",
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

    public static TokenAmount Amount(SqliteDataReader reader, int ordinal) =>
        new(UInt128.Parse(reader.GetString(ordinal), NumberStyles.None, CultureInfo.InvariantCulture));

    public static LedgerAccount ReadAccount(SqliteDataReader reader) => new()
    {
        Id = AccountId.Parse(reader.GetString(0)),
        Asset = AssetCode.Parse(reader.GetString(1)),
        Flags = (AccountFlags)reader.GetInt32(2),
        CreatedAt = new DateTimeOffset(reader.GetInt64(3), TimeSpan.Zero),
        Version = reader.GetInt64(4),
        DebitsPosted = Amount(reader, 5),
        CreditsPosted = Amount(reader, 6),
        DebitsPending = Amount(reader, 7),
        CreditsPending = Amount(reader, 8),
    };

    public static LedgerEntry ReadTransfer(SqliteDataReader reader) => new(reader.GetInt64(0), new Transfer
    {
        Id = TransferId.Parse(reader.GetString(1)),
        DebitAccountId = AccountId.Parse(reader.GetString(2)),
        CreditAccountId = AccountId.Parse(reader.GetString(3)),
        Asset = AssetCode.Parse(reader.GetString(4)),
        Amount = Amount(reader, 5),
        Kind = TransferKind.Parse(reader.GetString(6)),
        Reference = reader.GetString(7),
        Flags = (TransferFlags)reader.GetInt32(8),
        PendingId = reader.IsDBNull(9) ? default : TransferId.Parse(reader.GetString(9)),
        TimeoutSeconds = (uint)reader.GetInt64(10),
        Timestamp = new DateTimeOffset(reader.GetInt64(11), TimeSpan.Zero),
        ExpiresAt = reader.IsDBNull(12) ? null : new DateTimeOffset(reader.GetInt64(12), TimeSpan.Zero),
        State = (PendingTransferState)reader.GetInt32(13),
    });

    public void Dispose()
    {
        foreach (var command in new[] { GetAccount, InsertAccount, UpdateAccount, GetTransfer, InsertTransfer, UpdateState, Expired, History, AllAccounts })
        {
            command.Dispose();
        }
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
