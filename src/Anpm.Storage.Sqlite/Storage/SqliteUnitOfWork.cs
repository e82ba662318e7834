using Anpm.Abstractions;
using Microsoft.Data.Sqlite;

namespace Anpm.Storage.Sqlite;

/// <summary>
/// One transaction (<c>BEGIN IMMEDIATE</c>) on the store's connection, rolled back unless committed; or, with a reader,
/// a read-only deferred transaction on the reader's own connection.
/// </summary>
internal sealed class SqliteUnitOfWork(SqliteAnpmStore store, SqliteStatements statements, SqliteReader? reader = null, string? savepoint = null) : IAnpmUnitOfWork, IRelationalSession, ILedgerStore, IPoolStore, IOutboxStore, IContributionStore, INoticeStore, ISystemStateStore, IExchangeRateStore, ICheckpointStore
{
    private SqliteStatements? _statements = statements;
    private bool _committed;
    private RelationalStakingStore? _staking;
    private RelationalInferenceStore? _inference;
    private RelationalRequestStore? _requests;

    /// <summary>Whether writes are refused (a read-only unit of work).</summary>
    public bool ReadOnly { get; set; } = reader is not null;

    public ILedgerStore Ledger => this;

    public IPoolStore Pools => this;

    public IOutboxStore Outbox => this;

    public IContributionStore Contributions => this;

    public INoticeStore Notices => this;

    public ISystemStateStore System => this;

    public IExchangeRateStore ExchangeRates => this;

    public ICheckpointStore Checkpoints => this;

    public IStakingStore Staking => _staking ??= new RelationalStakingStore(this);

    public IInferenceStore Inference => _inference ??= new RelationalInferenceStore(this);

    public IRequestStore Requests => _requests ??= new RelationalRequestStore(this);

    public ValueTask<int> WriteAsync(string sql, CancellationToken cancellationToken, params object[] values) =>
        new(SqliteAnpmStore.Translate(Bind(Writable.Cached(sql, values.Length), values).ExecuteNonQuery));

    public ValueTask<List<T>> ReadAsync<T>(string sql, Func<System.Data.Common.DbDataReader, T> read, CancellationToken cancellationToken, params object[] values) =>
        new(ReadAll(Bind(Statements.Cached(sql, values.Length), values), read));

    public ValueTask<bool> TryInsertRateAsync(ExchangeRate rate, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(rate);
        var command = Writable.InsertRate;
        var p = command.Parameters;
        p[0].Value = rate.EffectiveAt.UtcTicks;
        p[1].Value = SqliteStatements.Amount(rate.Credits);
        p[2].Value = SqliteStatements.Amount(rate.TokenUnits);
        p[3].Value = rate.SetBy.ToString();
        p[4].Value = rate.SetAt.UtcTicks;
        return new(SqliteAnpmStore.Translate(command.ExecuteNonQuery) == 1);
    }

    public ValueTask<ExchangeRate?> GetRateInForceAsync(DateTimeOffset at, CancellationToken cancellationToken = default)
    {
        var command = Statements.RateInForce;
        command.Parameters[0].Value = at.UtcTicks;
        return new(ReadAll(command, SqliteStatements.ReadRate) is [var rate] ? rate : null);
    }

    public ValueTask<IReadOnlyList<ExchangeRate>> ListRatesAsync(DateTimeOffset? before, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        var command = Statements.ListRates;
        command.Parameters[0].Value = before?.UtcTicks ?? long.MaxValue;
        command.Parameters[1].Value = limit;
        IReadOnlyList<ExchangeRate> rates = ReadAll(command, SqliteStatements.ReadRate);
        return new(rates);
    }

    public ValueTask<Checkpoint?> GetCheckpointAsync(string name, bool lockShared = false, CancellationToken cancellationToken = default) =>
        new(ReadOne(Statements.GetCheckpoint, name, static reader => new Checkpoint(reader.GetString(0), reader.GetInt64(1), reader.GetInt64(2))));

    public ValueTask<bool> TryInsertCheckpointAsync(string name, long value, CancellationToken cancellationToken = default)
    {
        StoreErrors.CheckCheckpointName(name);
        var command = Writable.InsertCheckpoint;
        command.Parameters[0].Value = name;
        command.Parameters[1].Value = value;
        return new(SqliteAnpmStore.Translate(command.ExecuteNonQuery) == 1);
    }

    public ValueTask UpdateCheckpointAsync(string name, long value, long expectedVersion, CancellationToken cancellationToken = default)
    {
        var command = Writable.UpdateCheckpoint;
        command.Parameters[0].Value = name ?? string.Empty;
        command.Parameters[1].Value = value;
        command.Parameters[2].Value = expectedVersion;
        if (SqliteAnpmStore.Translate(command.ExecuteNonQuery) == 1)
        {
            return ValueTask.CompletedTask;
        }

        var current = ReadOne(Statements.GetCheckpoint, name, static reader => new Checkpoint(reader.GetString(0), reader.GetInt64(1), reader.GetInt64(2)));
        throw StoreErrors.UpdateRefused("Checkpoint", name ?? string.Empty, expectedVersion, current?.Version);
    }

    public ValueTask<SystemState> GetSystemStateAsync(CancellationToken cancellationToken = default) =>
        new(ReadAll(Statements.GetSystemState, LedgerRows.ReadSystemState) is [var state] ? state : SystemState.Initial);

    public ValueTask UpdateSystemStateAsync(SystemState updated, long expectedVersion, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(updated);
        var command = expectedVersion == 0 ? Writable.InsertSystemState : Writable.UpdateSystemState;
        var p = command.Parameters;
        p[0].Value = updated.Paused ? 1 : 0;
        p[1].Value = updated.ChangedAt.UtcTicks;
        p[2].Value = updated.ChangedBy is { } by ? by.ToString() : DBNull.Value;
        p[3].Value = updated.Reason;
        if (expectedVersion != 0)
        {
            p[4].Value = expectedVersion;
        }

        if (SqliteAnpmStore.Translate(command.ExecuteNonQuery) == 1)
        {
            return ValueTask.CompletedTask;
        }

        var current = ReadAll(Statements.GetSystemState, LedgerRows.ReadSystemState) is [var state] ? state : SystemState.Initial;
        throw StoreErrors.UpdateRefused("System state", "system", expectedVersion, current.Version);
    }

    public ValueTask<IReadOnlyDictionary<ContributionStatus, int>> CountPoolContributionsAsync(PoolId poolId, CancellationToken cancellationToken = default)
    {
        var command = Statements.CountPoolContributions;
        command.Parameters[0].Value = poolId.Value ?? string.Empty;
        IReadOnlyDictionary<ContributionStatus, int> counts = ReadAll(command, static reader => ((ContributionStatus)reader.GetInt32(0), reader.GetInt32(1)))
            .ToDictionary(row => row.Item1, row => row.Item2);
        return new(counts);
    }

    public ValueTask<bool> TryInsertNoticeAsync(TokenNotice notice, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(notice);
        ArgumentException.ThrowIfNullOrEmpty(notice.MessageId);
        var command = Writable.InsertNotice;
        var p = command.Parameters;
        p[0].Value = notice.MessageId;
        p[1].Value = notice.Sender.ToString();
        p[2].Value = SqliteStatements.Amount(notice.Quantity);
        p[3].Value = notice.Action;
        p[4].Value = notice.PoolId;
        p[5].Value = notice.Reference;
        p[6].Value = notice.ReceivedAt.UtcTicks;
        p[7].Value = notice.Outcome;
        return new(SqliteAnpmStore.Translate(command.ExecuteNonQuery) == 1);
    }

    public ValueTask<TokenNotice?> GetNoticeAsync(string messageId, CancellationToken cancellationToken = default) =>
        new(ReadOne(Statements.GetNotice, messageId, SqliteStatements.ReadNotice));

    public ValueTask<bool> TryInsertContributionAsync(ContributionRecord contribution, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(contribution);
        var command = Writable.InsertContribution;
        var p = command.Parameters;
        p[0].Value = Required(contribution.Id.Value);
        p[1].Value = contribution.PoolId.Value;
        p[2].Value = contribution.Owner.ToString();
        p[3].Value = SqliteStatements.Amount(contribution.Amount);
        p[4].Value = (int)contribution.Status;
        p[5].Value = contribution.CreatedAt.UtcTicks;
        p[6].Value = contribution.PayBefore is { } payBefore ? payBefore.UtcTicks : DBNull.Value;
        p[7].Value = SqliteStatements.Amount(contribution.Paidout);
        p[8].Value = contribution.Version;
        return new(SqliteAnpmStore.Translate(command.ExecuteNonQuery) == 1);
    }

    public ValueTask<ContributionRecord?> GetContributionAsync(ContributionId id, CancellationToken cancellationToken = default) =>
        new(ReadOne(Statements.GetContribution, id.Value, SqliteStatements.ReadContribution));

    public ValueTask UpdateContributionAsync(ContributionRecord updated, long expectedVersion, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(updated);
        var command = Writable.UpdateContribution;
        var p = command.Parameters;
        p[0].Value = updated.Id.Value ?? string.Empty;
        p[1].Value = expectedVersion;
        p[2].Value = (int)updated.Status;
        p[3].Value = updated.PayBefore is { } payBefore ? payBefore.UtcTicks : DBNull.Value;
        p[4].Value = SqliteStatements.Amount(updated.Paidout);
        if (SqliteAnpmStore.Translate(command.ExecuteNonQuery) == 1)
        {
            return ValueTask.CompletedTask;
        }

        var current = ReadOne(Statements.GetContribution, updated.Id.Value, SqliteStatements.ReadContribution);
        throw StoreErrors.UpdateRefused("Contribution", updated.Id, expectedVersion, current?.Version);
    }

    public ValueTask<IReadOnlyList<ContributionRecord>> ListPoolContributionsAsync(PoolId poolId, ContributionId? after, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        var command = Statements.PoolContributions;
        command.Parameters[0].Value = poolId.Value ?? string.Empty;
        command.Parameters[1].Value = after?.Value ?? string.Empty;
        command.Parameters[2].Value = limit;
        IReadOnlyList<ContributionRecord> page = ReadAll(command, SqliteStatements.ReadContribution);
        return new(page);
    }

    public ValueTask<IReadOnlyList<ContributionRecord>> ListOwnerContributionsAsync(Address owner, ContributionId? after, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        var command = Statements.OwnerContributions;
        command.Parameters[0].Value = owner.ToString();
        command.Parameters[1].Value = after?.Value ?? string.Empty;
        command.Parameters[2].Value = limit;
        IReadOnlyList<ContributionRecord> page = ReadAll(command, SqliteStatements.ReadContribution);
        return new(page);
    }

    public ValueTask<IReadOnlyList<ContributionRecord>> GetOverdueContributionsAsync(DateTimeOffset now, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        var command = Statements.OverdueContributions;
        command.Parameters[0].Value = now.UtcTicks;
        command.Parameters[1].Value = limit;
        IReadOnlyList<ContributionRecord> overdue = ReadAll(command, SqliteStatements.ReadContribution);
        return new(overdue);
    }

    public ValueTask<bool> TryInsertOutgoingAsync(OutgoingTransfer transfer, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(transfer);
        var command = Writable.InsertOutgoing;
        var p = command.Parameters;
        p[0].Value = Required(transfer.Id.Value);
        p[1].Value = transfer.To.ToString();
        p[2].Value = transfer.Asset.Value;
        p[3].Value = SqliteStatements.Amount(transfer.Amount);
        p[4].Value = transfer.Kind.Value;
        p[5].Value = transfer.Reference;
        p[6].Value = (int)transfer.State;
        p[7].Value = transfer.Attempts;
        p[8].Value = transfer.CreatedAt.UtcTicks;
        p[9].Value = transfer.NextAttemptAt.UtcTicks;
        p[10].Value = transfer.ExternalReference;
        p[11].Value = transfer.Version;
        return new(SqliteAnpmStore.Translate(command.ExecuteNonQuery) == 1);
    }

    public ValueTask<OutgoingTransfer?> GetOutgoingAsync(TransferId id, CancellationToken cancellationToken = default) =>
        new(ReadOne(Statements.GetOutgoing, id.Value, SqliteStatements.ReadOutgoing));

    public ValueTask<IReadOnlyList<OutgoingTransfer>> GetDueOutgoingAsync(DateTimeOffset now, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        var command = Statements.DueOutgoing;
        command.Parameters[0].Value = now.UtcTicks;
        command.Parameters[1].Value = limit;
        IReadOnlyList<OutgoingTransfer> due = ReadAll(command, SqliteStatements.ReadOutgoing);
        return new(due);
    }

    public ValueTask UpdateOutgoingAsync(OutgoingTransfer updated, long expectedVersion, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(updated);
        var command = Writable.UpdateOutgoing;
        var p = command.Parameters;
        p[0].Value = updated.Id.Value ?? string.Empty;
        p[1].Value = expectedVersion;
        p[2].Value = (int)updated.State;
        p[3].Value = updated.Attempts;
        p[4].Value = updated.NextAttemptAt.UtcTicks;
        p[5].Value = updated.ExternalReference;
        if (SqliteAnpmStore.Translate(command.ExecuteNonQuery) == 1)
        {
            return ValueTask.CompletedTask;
        }

        var current = ReadOne(Statements.GetOutgoing, updated.Id.Value, SqliteStatements.ReadOutgoing);
        throw StoreErrors.UpdateRefused("Outgoing transfer", updated.Id, expectedVersion, current?.Version);
    }

    public ValueTask<bool> TryInsertPoolAsync(PoolRecord pool, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(pool);
        var command = Writable.InsertPool;
        var p = command.Parameters;
        p[0].Value = Required(pool.Id.Value);
        p[1].Value = pool.Owner.ToString();
        p[2].Value = pool.ConfigJson;
        p[3].Value = (int)pool.Status;
        p[4].Value = pool.CreatedAt.UtcTicks;
        p[5].Value = pool.Version;
        p[6].Value = pool.StatusChangedAt.UtcTicks;
        return new(SqliteAnpmStore.Translate(command.ExecuteNonQuery) == 1);
    }

    public ValueTask<PoolRecord?> GetPoolAsync(PoolId id, CancellationToken cancellationToken = default) =>
        new(ReadOne(Statements.GetPool, id.Value, LedgerRows.ReadPool));

    public ValueTask UpdatePoolStatusAsync(PoolId id, long expectedVersion, PoolStatus status, DateTimeOffset changedAt, CancellationToken cancellationToken = default)
    {
        var command = Writable.UpdatePool;
        var p = command.Parameters;
        p[0].Value = id.Value ?? string.Empty;
        p[1].Value = expectedVersion;
        p[2].Value = (int)status;
        p[3].Value = changedAt.UtcTicks;
        if (SqliteAnpmStore.Translate(command.ExecuteNonQuery) == 1)
        {
            return ValueTask.CompletedTask;
        }

        var current = ReadOne(Statements.GetPool, id.Value, LedgerRows.ReadPool);
        throw StoreErrors.UpdateRefused("Pool", id, expectedVersion, current?.Version);
    }

    public ValueTask<IReadOnlyList<PoolRecord>> ListPoolsAsync(PoolId? after, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        var command = Statements.ListPools;
        command.Parameters[0].Value = after?.Value ?? string.Empty;
        command.Parameters[1].Value = limit;
        IReadOnlyList<PoolRecord> pools = ReadAll(command, LedgerRows.ReadPool);
        return new(pools);
    }

    private SqliteStatements Statements => _statements ?? throw new ObjectDisposedException(nameof(IAnpmUnitOfWork));

    private SqliteStatements Writable =>
        _committed ? throw new InvalidOperationException("The unit of work was committed; begin a new one.")
        : ReadOnly ? throw new InvalidOperationException("This unit of work is read-only (BeginReadAsync); begin a writing one to change anything.")
        : Statements;

    public ValueTask CommitAsync(CancellationToken cancellationToken = default)
    {
        _ = Statements;
        if (_committed)
        {
            throw new InvalidOperationException("The unit of work was committed; begin a new one.");
        }

        cancellationToken.ThrowIfCancellationRequested();
        _committed = true;
        _statements = null;
        return End(commit: !ReadOnly);
    }

    public ValueTask DisposeAsync()
    {
        if (_statements is not null)
        {
            _statements = null;
            return End(commit: false);
        }

        return ValueTask.CompletedTask;
    }

    // A group's unit of work returns once its group is on disk (an acknowledged commit is durable).
    private ValueTask End(bool commit)
    {
        if (reader is not null)
        {
            store.EndRead(reader);
        }
        else if (savepoint is not null)
        {
            return store.EndInGroup(savepoint, commit);
        }
        else
        {
            store.End(commit);
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask<LedgerAccount?> GetAccountAsync(AccountId id, CancellationToken cancellationToken = default) =>
        new(ReadOne(Statements.GetAccount, id.Value, SqliteStatements.ReadAccount));

    // The whole database is locked for writing by BEGIN IMMEDIATE, so a plain read is already "for update".
    public ValueTask<LockedAccount[]> GetAccountsForUpdateAsync(IReadOnlyList<AccountId> ids, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var accounts = new List<LockedAccount>(ids.Count);
        foreach (var id in ids)
        {
            if (ReadOne(Statements.GetAccount, id.Value, SqliteStatements.ReadAccount) is { } account)
            {
                accounts.Add(new LockedAccount(account.Id, account.Asset, account.Flags, account.Version, account.Totals));
            }
        }

        return new(accounts.ToArray());
    }

    public ValueTask<bool> TryInsertAccountAsync(LedgerAccount account, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(account);
        var command = Writable.InsertAccount;
        var p = command.Parameters;
        p[0].Value = Required(account.Id.Value);
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
        var command = Writable.UpdateAccount;
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

        var current = ReadOne(Statements.GetAccount, id.Value, SqliteStatements.ReadAccount);
        throw StoreErrors.UpdateRefused("Account", id, expectedVersion, current?.Version);
    }

    public ValueTask<Transfer?> GetTransferAsync(TransferId id, CancellationToken cancellationToken = default) =>
        new(ReadOne(Statements.GetTransfer, id.Value, static reader => SqliteStatements.ReadTransfer(reader).Transfer));

    public ValueTask<bool> TryInsertTransferAsync(Transfer transfer, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(transfer);
        var command = Writable.InsertTransfer;
        var p = command.Parameters;
        p[0].Value = Required(transfer.Id.Value);
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
        var command = Writable.UpdateState;
        command.Parameters[0].Value = id.Value ?? string.Empty;
        command.Parameters[1].Value = (int)state;
        return SqliteAnpmStore.Translate(command.ExecuteNonQuery) == 1
            ? ValueTask.CompletedTask
            : throw new AnpmException($"Transfer '{id}' does not exist, so its pending state cannot be updated.");
    }

    public ValueTask<IReadOnlyList<Transfer>> GetExpiredPendingTransfersAsync(DateTimeOffset now, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        var command = Statements.Expired;
        command.Parameters[0].Value = now.UtcTicks;
        command.Parameters[1].Value = limit;
        IReadOnlyList<Transfer> transfers = ReadAll(command, static reader => SqliteStatements.ReadTransfer(reader).Transfer);
        return new(transfers);
    }

    public ValueTask<IReadOnlyList<LedgerEntry>> GetAccountHistoryAsync(AccountId id, long? beforeSequence, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        var command = Statements.History;
        command.Parameters[0].Value = id.Value ?? string.Empty;
        command.Parameters[1].Value = beforeSequence ?? long.MaxValue;
        command.Parameters[2].Value = limit;
        IReadOnlyList<LedgerEntry> entries = ReadAll(command, SqliteStatements.ReadTransfer);
        return new(entries);
    }

    public ValueTask<IReadOnlyList<AssetTotals>> GetAssetTotalsAsync(CancellationToken cancellationToken = default)
    {
        IReadOnlyList<AssetTotals> totals = AssetTotalsBuilder.Sum(ReadAll(Statements.AllAccounts, SqliteStatements.ReadAccount));
        return new(totals);
    }

    private static SqliteCommand Bind(SqliteCommand command, object[] values)
    {
        for (var i = 0; i < values.Length; i++)
        {
            command.Parameters[i].Value = values[i];
        }

        return command;
    }

    private static string Required(string? id) => id ?? throw new ArgumentException("The default id cannot be stored.", nameof(id));

    private static T? ReadOne<T>(SqliteCommand command, string? id, Func<SqliteDataReader, T> read)
        where T : class
    {
        if (id is null)
        {
            return null;
        }

        command.Parameters[0].Value = id;
        return SqliteAnpmStore.Translate(() =>
        {
            using var reader = command.ExecuteReader();
            return reader.Read() ? read(reader) : null;
        });
    }

    private static List<T> ReadAll<T>(SqliteCommand command, Func<SqliteDataReader, T> read) => SqliteAnpmStore.Translate(() =>
    {
        var rows = new List<T>();
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            rows.Add(read(reader));
        }

        return rows;
    });
}
