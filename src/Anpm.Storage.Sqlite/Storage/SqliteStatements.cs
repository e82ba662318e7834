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
        GetPool = Prepare(connection, $"SELECT {LedgerRows.PoolColumns} FROM pools WHERE id = $id", "$id");
        InsertPool = Prepare(
            connection,
            $"INSERT INTO pools ({LedgerRows.PoolColumns}) VALUES ($id, $owner, $config, $status, $created, $version, $changed) ON CONFLICT (id) DO NOTHING",
            "$id", "$owner", "$config", "$status", "$created", "$version", "$changed");
        UpdatePool = Prepare(
            connection,
            "UPDATE pools SET status = $status, status_changed_at_ticks = $changed, version = version + 1 WHERE id = $id AND version = $version",
            "$id", "$version", "$status", "$changed");
        GetOutgoing = Prepare(connection, $"SELECT {LedgerRows.OutboxColumns} FROM outbox WHERE id = $id", "$id");
        InsertOutgoing = Prepare(
            connection,
            $"INSERT INTO outbox ({LedgerRows.OutboxColumns}) VALUES ($id, $to, $asset, $amount, $kind, $reference, $state, $attempts, $created, $next, $external, $version) ON CONFLICT (id) DO NOTHING",
            "$id", "$to", "$asset", "$amount", "$kind", "$reference", "$state", "$attempts", "$created", "$next", "$external", "$version");
        UpdateOutgoing = Prepare(
            connection,
            "UPDATE outbox SET state = $state, attempts = $attempts, next_attempt_ticks = $next, external_reference = $external, version = version + 1 WHERE id = $id AND version = $version",
            "$id", "$version", "$state", "$attempts", "$next", "$external");
        DueOutgoing = Prepare(
            connection,
            $"SELECT {LedgerRows.OutboxColumns} FROM outbox WHERE state <> 3 AND next_attempt_ticks <= $now ORDER BY next_attempt_ticks, id LIMIT $limit",
            "$now", "$limit");
        GetContribution = Prepare(connection, $"SELECT {LedgerRows.ContributionColumns} FROM contributions WHERE id = $id", "$id");
        InsertContribution = Prepare(
            connection,
            $"INSERT INTO contributions ({LedgerRows.ContributionColumns}) VALUES ($id, $pool, $owner, $amount, $status, $created, $payBefore, $paidout, $version) ON CONFLICT (id) DO NOTHING",
            "$id", "$pool", "$owner", "$amount", "$status", "$created", "$payBefore", "$paidout", "$version");
        UpdateContribution = Prepare(
            connection,
            "UPDATE contributions SET status = $status, pay_before_ticks = $payBefore, paidout = $paidout, version = version + 1 WHERE id = $id AND version = $version",
            "$id", "$version", "$status", "$payBefore", "$paidout");
        PoolContributions = Prepare(
            connection,
            $"SELECT {LedgerRows.ContributionColumns} FROM contributions WHERE pool_id = $pool AND id > $after ORDER BY id LIMIT $limit",
            "$pool", "$after", "$limit");
        OwnerContributions = Prepare(
            connection,
            $"SELECT {LedgerRows.ContributionColumns} FROM contributions WHERE owner = $owner AND id > $after ORDER BY id LIMIT $limit",
            "$owner", "$after", "$limit");
        OverdueContributions = Prepare(
            connection,
            $"SELECT {LedgerRows.ContributionColumns} FROM contributions WHERE status = 1 AND pay_before_ticks <= $now ORDER BY pay_before_ticks, id LIMIT $limit",
            "$now", "$limit");
        CountPoolContributions = Prepare(
            connection, "SELECT status, count(*) FROM contributions WHERE pool_id = $pool GROUP BY status", "$pool");
        GetSystemState = Prepare(connection, $"SELECT {LedgerRows.SystemStateColumns} FROM system_state WHERE id = 1");
        InsertSystemState = Prepare(
            connection,
            $"INSERT INTO system_state (id, {LedgerRows.SystemStateColumns}) VALUES (1, $paused, $changed, $by, $reason, 1) ON CONFLICT (id) DO NOTHING",
            "$paused", "$changed", "$by", "$reason");
        UpdateSystemState = Prepare(
            connection,
            "UPDATE system_state SET paused = $paused, changed_at_ticks = $changed, changed_by = $by, reason = $reason, version = version + 1 WHERE id = 1 AND version = $version",
            "$paused", "$changed", "$by", "$reason", "$version");
        InsertRate = Prepare(
            connection,
            $"INSERT INTO exchange_rates ({LedgerRows.ExchangeRateColumns}) VALUES ($effective, $credits, $units, $by, $at) ON CONFLICT (effective_at_ticks) DO NOTHING",
            "$effective", "$credits", "$units", "$by", "$at");
        RateInForce = Prepare(
            connection, $"SELECT {LedgerRows.ExchangeRateColumns} FROM exchange_rates WHERE effective_at_ticks <= $at ORDER BY effective_at_ticks DESC LIMIT 1", "$at");
        ListRates = Prepare(
            connection, $"SELECT {LedgerRows.ExchangeRateColumns} FROM exchange_rates WHERE effective_at_ticks < $before ORDER BY effective_at_ticks DESC LIMIT $limit", "$before", "$limit");
        GetCheckpoint = Prepare(connection, "SELECT name, value, version FROM checkpoints WHERE name = $name", "$name");
        InsertCheckpoint = Prepare(connection, "INSERT INTO checkpoints (name, value, version) VALUES ($name, $value, 0) ON CONFLICT (name) DO NOTHING", "$name", "$value");
        UpdateCheckpoint = Prepare(
            connection, "UPDATE checkpoints SET value = $value, version = version + 1 WHERE name = $name AND version = $version", "$name", "$value", "$version");
        GetNotice = Prepare(connection, $"SELECT {LedgerRows.NoticeColumns} FROM notices WHERE message_id = $id", "$id");
        InsertNotice = Prepare(
            connection,
            $"INSERT INTO notices ({LedgerRows.NoticeColumns}) VALUES ($id, $sender, $quantity, $action, $pool, $reference, $received, $outcome) ON CONFLICT (message_id) DO NOTHING",
            "$id", "$sender", "$quantity", "$action", "$pool", "$reference", "$received", "$outcome");
        ListPools = Prepare(connection, $"SELECT {LedgerRows.PoolColumns} FROM pools WHERE id > $after ORDER BY id LIMIT $limit", "$after", "$limit");
    }

    public SqliteCommand GetNotice { get; }

    public SqliteCommand CountPoolContributions { get; }

    public SqliteCommand OwnerContributions { get; }

    public SqliteCommand InsertRate { get; }

    public SqliteCommand RateInForce { get; }

    public SqliteCommand ListRates { get; }

    public SqliteCommand GetCheckpoint { get; }

    public SqliteCommand InsertCheckpoint { get; }

    public SqliteCommand UpdateCheckpoint { get; }

    public SqliteCommand GetSystemState { get; }

    public SqliteCommand InsertSystemState { get; }

    public SqliteCommand UpdateSystemState { get; }

    public SqliteCommand InsertNotice { get; }

    public SqliteCommand GetContribution { get; }

    public SqliteCommand InsertContribution { get; }

    public SqliteCommand UpdateContribution { get; }

    public SqliteCommand PoolContributions { get; }

    public SqliteCommand OverdueContributions { get; }

    public SqliteCommand GetOutgoing { get; }

    public SqliteCommand InsertOutgoing { get; }

    public SqliteCommand UpdateOutgoing { get; }

    public SqliteCommand DueOutgoing { get; }

    public SqliteCommand GetPool { get; }

    public SqliteCommand InsertPool { get; }

    public SqliteCommand UpdatePool { get; }

    public SqliteCommand ListPools { get; }

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

    public static TokenNotice ReadNotice(SqliteDataReader reader) => LedgerRows.ReadNotice(reader, ReadAmount);

    public static ExchangeRate ReadRate(SqliteDataReader reader) => LedgerRows.ReadExchangeRate(reader, ReadAmount);

    public static ContributionRecord ReadContribution(SqliteDataReader reader) => LedgerRows.ReadContribution(reader, ReadAmount);

    public static OutgoingTransfer ReadOutgoing(SqliteDataReader reader) => LedgerRows.ReadOutgoing(reader, ReadAmount);

    public static LedgerAccount ReadAccount(SqliteDataReader reader) => LedgerRows.ReadAccount(reader, ReadAmount);

    public static LedgerEntry ReadTransfer(SqliteDataReader reader) => LedgerRows.ReadTransfer(reader, ReadAmount);

    public void Dispose()
    {
        SqliteCommand[] commands = [GetAccount, InsertAccount, UpdateAccount, GetTransfer, InsertTransfer, UpdateState, Expired, History, AllAccounts, GetPool, InsertPool, UpdatePool, ListPools, GetOutgoing, InsertOutgoing, UpdateOutgoing, DueOutgoing,
            GetContribution, InsertContribution, UpdateContribution, PoolContributions, OverdueContributions, GetNotice, InsertNotice,
            CountPoolContributions, GetSystemState, InsertSystemState, UpdateSystemState, InsertRate, RateInForce, ListRates, GetCheckpoint, InsertCheckpoint,
            UpdateCheckpoint, .. _cached.Values];
        foreach (var command in commands)
        {
            command.Dispose();
        }
    }

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
