using Anpm.Abstractions;

namespace Anpm.Storage.Sqlite;

/// <summary>
/// The ledger's rows over SQLite, in its unit of work's transaction: the hot path of every money move, so it keeps its own
/// prepared statements (<see cref="SqliteStatements"/>) instead of the shared relational template's cached ones.
/// </summary>
internal sealed class SqliteLedgerStore(SqliteUnitOfWork unitOfWork) : ILedgerStore
{
    public ValueTask<LedgerAccount?> GetAccountAsync(AccountId id, CancellationToken cancellationToken = default) =>
        new(SqliteUnitOfWork.ReadOne(unitOfWork.Statements.GetAccount, id.Value, SqliteStatements.ReadAccount));

    // The whole database is locked for writing by BEGIN IMMEDIATE, so a plain read is already "for update".
    public ValueTask<LockedAccount[]> GetAccountsForUpdateAsync(IReadOnlyList<AccountId> ids, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var accounts = new List<LockedAccount>(ids.Count);
        foreach (var id in ids)
        {
            if (SqliteUnitOfWork.ReadOne(unitOfWork.Statements.GetAccount, id.Value, SqliteStatements.ReadAccount) is { } account)
            {
                accounts.Add(new LockedAccount(account.Id, account.Asset, account.Flags, account.Version, account.Totals));
            }
        }

        return new(accounts.ToArray());
    }

    public ValueTask<bool> TryInsertAccountAsync(LedgerAccount account, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(account);
        var command = unitOfWork.Writable.InsertAccount;
        var p = command.Parameters;
        p[0].Value = SqliteUnitOfWork.Required(account.Id.Value);
        p[1].Value = account.Asset.Value;
        p[2].Value = (int)account.Flags;
        p[3].Value = account.CreatedAt.UtcTicks;
        p[4].Value = account.Version;
        p[5].Value = SqliteStatements.Amount(account.DebitsPosted);
        p[6].Value = SqliteStatements.Amount(account.CreditsPosted);
        p[7].Value = SqliteStatements.Amount(account.DebitsPending);
        p[8].Value = SqliteStatements.Amount(account.CreditsPending);
        return new(SqliteAnpmStore.Translate(command.ExecuteNonQuery) == 1);
    }

    public ValueTask UpdateAccountTotalsAsync(AccountId id, long expectedVersion, AccountTotals totals, CancellationToken cancellationToken = default)
    {
        var command = unitOfWork.Writable.UpdateAccount;
        var p = command.Parameters;
        p[0].Value = id.Value ?? string.Empty;
        p[1].Value = expectedVersion;
        p[2].Value = SqliteStatements.Amount(totals.DebitsPosted);
        p[3].Value = SqliteStatements.Amount(totals.CreditsPosted);
        p[4].Value = SqliteStatements.Amount(totals.DebitsPending);
        p[5].Value = SqliteStatements.Amount(totals.CreditsPending);
        if (SqliteAnpmStore.Translate(command.ExecuteNonQuery) == 1)
        {
            return ValueTask.CompletedTask;
        }

        var current = SqliteUnitOfWork.ReadOne(unitOfWork.Statements.GetAccount, id.Value, SqliteStatements.ReadAccount);
        throw StoreErrors.UpdateRefused("Account", id, expectedVersion, current?.Version);
    }

    public ValueTask<Transfer?> GetTransferAsync(TransferId id, CancellationToken cancellationToken = default) =>
        new(SqliteUnitOfWork.ReadOne(unitOfWork.Statements.GetTransfer, id.Value, static reader => SqliteStatements.ReadTransfer(reader).Transfer));

    public ValueTask<bool> TryInsertTransferAsync(Transfer transfer, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(transfer);
        var command = unitOfWork.Writable.InsertTransfer;
        var p = command.Parameters;
        p[0].Value = SqliteUnitOfWork.Required(transfer.Id.Value);
        p[1].Value = transfer.DebitAccountId.Value;
        p[2].Value = transfer.CreditAccountId.Value;
        p[3].Value = transfer.Asset.Value;
        p[4].Value = SqliteStatements.Amount(transfer.Amount);
        p[5].Value = transfer.Kind.Value;
        p[6].Value = transfer.Reference;
        p[7].Value = (int)transfer.Flags;
        p[8].Value = (object?)transfer.PendingId.Value ?? DBNull.Value;
        p[9].Value = (long)transfer.TimeoutSeconds;
        p[10].Value = transfer.Timestamp.UtcTicks;
        p[11].Value = transfer.ExpiresAt is { } expires ? expires.UtcTicks : DBNull.Value;
        p[12].Value = (int)transfer.State;
        return new(SqliteAnpmStore.Translate(command.ExecuteNonQuery) == 1);
    }

    public ValueTask UpdatePendingStateAsync(TransferId id, PendingTransferState state, CancellationToken cancellationToken = default)
    {
        var command = unitOfWork.Writable.UpdateState;
        command.Parameters[0].Value = id.Value ?? string.Empty;
        command.Parameters[1].Value = (int)state;
        return SqliteAnpmStore.Translate(command.ExecuteNonQuery) == 1
            ? ValueTask.CompletedTask
            : throw new AnpmException($"Transfer '{id}' does not exist, so its pending state cannot be updated.");
    }

    public ValueTask<IReadOnlyList<Transfer>> GetExpiredPendingTransfersAsync(DateTimeOffset now, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        var command = unitOfWork.Statements.Expired;
        command.Parameters[0].Value = now.UtcTicks;
        command.Parameters[1].Value = limit;
        IReadOnlyList<Transfer> transfers = SqliteUnitOfWork.ReadAll(command, static reader => SqliteStatements.ReadTransfer(reader).Transfer);
        return new(transfers);
    }

    public ValueTask<IReadOnlyList<LedgerEntry>> GetAccountHistoryAsync(AccountId id, long? beforeSequence, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        var command = unitOfWork.Statements.History;
        command.Parameters[0].Value = id.Value ?? string.Empty;
        command.Parameters[1].Value = beforeSequence ?? long.MaxValue;
        command.Parameters[2].Value = limit;
        IReadOnlyList<LedgerEntry> entries = SqliteUnitOfWork.ReadAll(command, SqliteStatements.ReadTransfer);
        return new(entries);
    }

    public ValueTask<IReadOnlyList<AssetTotals>> GetAssetTotalsAsync(CancellationToken cancellationToken = default)
    {
        IReadOnlyList<AssetTotals> totals = AssetTotalsBuilder.Sum(SqliteUnitOfWork.ReadAll(unitOfWork.Statements.AllAccounts, SqliteStatements.ReadAccount));
        return new(totals);
    }
}
