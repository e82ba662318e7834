using System.Numerics;
using Anpm.Abstractions;
using Npgsql;
using NpgsqlTypes;

namespace Anpm.Storage.Postgres;

/// <summary>
/// The ledger's rows over PostgreSQL, in its unit of work's transaction: the hot path of every money move, so it keeps its
/// own statements — one lock of all a command's accounts (<c>= ANY($1) … FOR UPDATE</c>) and account updates pipelined with
/// the next statement — instead of the shared relational template's.
/// </summary>
internal sealed class PostgresLedgerStore(PostgresUnitOfWork unitOfWork) : ILedgerStore
{
    private const string AccountColumns = LedgerRows.AccountColumns;
    private const string TransferColumns = LedgerRows.TransferColumns;

    public ValueTask<LedgerAccount?> GetAccountAsync(AccountId id, CancellationToken cancellationToken = default) =>
        ReadAccountAsync($"SELECT {AccountColumns} FROM ledger_accounts WHERE id = $1", id, cancellationToken);

    public async ValueTask<LockedAccount[]> GetAccountsForUpdateAsync(IReadOnlyList<AccountId> ids, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(ids);
        if (ids.Count == 0)
        {
            return [];
        }

        // The rows are sorted before they are locked, so every unit of work locks in the same order.
        await using var command = unitOfWork.Command(
            unitOfWork.Connection,
            $"SELECT {AccountColumns} FROM ledger_accounts WHERE id = ANY($1) ORDER BY id FOR UPDATE",
            new NpgsqlParameter<string[]> { TypedValue = ids.Select(id => id.Value ?? string.Empty).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        var accounts = await unitOfWork.ReadAsync(command, PostgresUnitOfWork.ReadAccount, cancellationToken).ConfigureAwait(false);
        return accounts.Select(static a => new LockedAccount(a.Id, a.Asset, a.Flags, a.Version, a.Totals)).ToArray();
    }

    public async ValueTask<bool> TryInsertAccountAsync(LedgerAccount account, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(account);
        await using var command = unitOfWork.Command(
            unitOfWork.Writable,
            $"INSERT INTO ledger_accounts ({AccountColumns}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (id) DO NOTHING",
            PostgresUnitOfWork.Text(PostgresUnitOfWork.Required(account.Id.Value)), PostgresUnitOfWork.Text(account.Asset.Value!), PostgresUnitOfWork.Int((int)account.Flags), PostgresUnitOfWork.Long(account.CreatedAt.UtcTicks), PostgresUnitOfWork.Long(account.Version),
            PostgresUnitOfWork.Amount(account.DebitsPosted), PostgresUnitOfWork.Amount(account.CreditsPosted), PostgresUnitOfWork.Amount(account.DebitsPending), PostgresUnitOfWork.Amount(account.CreditsPending));
        return await unitOfWork.ExecuteAsync(command, cancellationToken).ConfigureAwait(false) == 1;
    }

    public ValueTask UpdateAccountTotalsAsync(AccountId id, long expectedVersion, AccountTotals totals, CancellationToken cancellationToken = default)
    {
        using var command = unitOfWork.Command(
            unitOfWork.Writable,
            "UPDATE ledger_accounts SET debits_posted = $3, credits_posted = $4, debits_pending = $5, credits_pending = $6, version = version + 1 WHERE id = $1 AND version = $2",
            PostgresUnitOfWork.Text(id.Value ?? string.Empty), PostgresUnitOfWork.Long(expectedVersion),
            PostgresUnitOfWork.Amount(totals.DebitsPosted), PostgresUnitOfWork.Amount(totals.CreditsPosted), PostgresUnitOfWork.Amount(totals.DebitsPending), PostgresUnitOfWork.Amount(totals.CreditsPending));
        unitOfWork.Defer(command, async ct => StoreErrors.UpdateRefused("Account", id, expectedVersion, (await GetAccountAsync(id, ct).ConfigureAwait(false))?.Version));
        return ValueTask.CompletedTask;
    }

    public async ValueTask<Transfer?> GetTransferAsync(TransferId id, CancellationToken cancellationToken = default)
    {
        if (id.Value is null)
        {
            return null;
        }

        await using var command = unitOfWork.Command(unitOfWork.Connection, $"SELECT {TransferColumns} FROM ledger_transfers WHERE id = $1", PostgresUnitOfWork.Text(id.Value));
        var rows = await unitOfWork.ReadAsync(command, PostgresUnitOfWork.ReadTransfer, cancellationToken).ConfigureAwait(false);
        return rows.Count == 0 ? null : rows[0].Transfer;
    }

    public async ValueTask<bool> TryInsertTransferAsync(Transfer transfer, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(transfer);
        await using var command = unitOfWork.Command(
            unitOfWork.Writable,
            $"INSERT INTO ledger_transfers ({LedgerRows.TransferColumnsWithoutSequence}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) ON CONFLICT (id) DO NOTHING",
            PostgresUnitOfWork.Text(PostgresUnitOfWork.Required(transfer.Id.Value)), PostgresUnitOfWork.Text(transfer.DebitAccountId.Value!), PostgresUnitOfWork.Text(transfer.CreditAccountId.Value!), PostgresUnitOfWork.Text(transfer.Asset.Value!),
            PostgresUnitOfWork.Amount(transfer.Amount), PostgresUnitOfWork.Text(transfer.Kind.Value!), PostgresUnitOfWork.Text(transfer.Reference), PostgresUnitOfWork.Int((int)transfer.Flags),
            new NpgsqlParameter<string?> { TypedValue = transfer.PendingId.Value, NpgsqlDbType = NpgsqlDbType.Text },
            PostgresUnitOfWork.Long(transfer.TimeoutSeconds), PostgresUnitOfWork.Long(transfer.Timestamp.UtcTicks),
            new NpgsqlParameter<long?> { TypedValue = transfer.ExpiresAt?.UtcTicks, NpgsqlDbType = NpgsqlDbType.Bigint },
            PostgresUnitOfWork.Int((int)transfer.State));
        return await unitOfWork.ExecuteAsync(command, cancellationToken).ConfigureAwait(false) == 1;
    }

    public ValueTask UpdatePendingStateAsync(TransferId id, PendingTransferState state, CancellationToken cancellationToken = default)
    {
        using var command = unitOfWork.Command(unitOfWork.Writable, "UPDATE ledger_transfers SET state = $2 WHERE id = $1", PostgresUnitOfWork.Text(id.Value ?? string.Empty), PostgresUnitOfWork.Int((int)state));
        unitOfWork.Defer(command, _ => ValueTask.FromResult<Exception>(new AnpmException($"Transfer '{id}' does not exist, so its pending state cannot be updated.")));
        return ValueTask.CompletedTask;
    }

    public async ValueTask<IReadOnlyList<Transfer>> GetExpiredPendingTransfersAsync(DateTimeOffset now, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        await using var command = unitOfWork.Command(
            unitOfWork.Connection,
            $"SELECT {TransferColumns} FROM ledger_transfers WHERE state = {(int)PendingTransferState.Pending} AND expires_at_ticks IS NOT NULL AND expires_at_ticks <= $1 ORDER BY expires_at_ticks, id LIMIT $2",
            PostgresUnitOfWork.Long(now.UtcTicks), PostgresUnitOfWork.Int(limit));
        return (await unitOfWork.ReadAsync(command, PostgresUnitOfWork.ReadTransfer, cancellationToken).ConfigureAwait(false)).Select(e => e.Transfer).ToList();
    }

    public async ValueTask<IReadOnlyList<LedgerEntry>> GetAccountHistoryAsync(AccountId id, long? beforeSequence, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        await using var command = unitOfWork.Command(
            unitOfWork.Connection,
            $"""
            SELECT {TransferColumns} FROM ledger_transfers WHERE seq IN (
                (SELECT seq FROM ledger_transfers WHERE debit_account_id = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3)
                UNION ALL
                (SELECT seq FROM ledger_transfers WHERE credit_account_id = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3))
            ORDER BY seq DESC LIMIT $3
            """,
            PostgresUnitOfWork.Text(id.Value ?? string.Empty), PostgresUnitOfWork.Long(beforeSequence ?? long.MaxValue), PostgresUnitOfWork.Int(limit));
        return await unitOfWork.ReadAsync(command, PostgresUnitOfWork.ReadTransfer, cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask<IReadOnlyList<AssetTotals>> GetAssetTotalsAsync(CancellationToken cancellationToken = default)
    {
        // numeric sums are exact however large; the database does the work for any number of accounts.
        await using var command = unitOfWork.Command(unitOfWork.Connection, """
            SELECT asset, count(*), sum(debits_posted), sum(credits_posted), sum(debits_pending), sum(credits_pending),
                   count(*) FILTER (WHERE flags & 1 = 1 AND debits_posted + debits_pending > credits_posted)
            FROM ledger_accounts GROUP BY asset ORDER BY asset
            """);
        return await unitOfWork.ReadAsync(
            command,
            static reader => new AssetTotals(
                AssetCode.Parse(reader.GetString(0)),
                reader.GetInt64(1),
                reader.GetFieldValue<BigInteger>(2),
                reader.GetFieldValue<BigInteger>(3),
                reader.GetFieldValue<BigInteger>(4),
                reader.GetFieldValue<BigInteger>(5),
                reader.GetInt64(6)),
            cancellationToken).ConfigureAwait(false);
    }

    private async ValueTask<LedgerAccount?> ReadAccountAsync(string sql, AccountId id, CancellationToken cancellationToken)
    {
        if (id.Value is null)
        {
            return null;
        }

        await using var command = unitOfWork.Command(unitOfWork.Connection, sql, PostgresUnitOfWork.Text(id.Value));
        var rows = await unitOfWork.ReadAsync(command, PostgresUnitOfWork.ReadAccount, cancellationToken).ConfigureAwait(false);
        return rows.Count == 0 ? null : rows[0];
    }
}
