using System.Numerics;
using Anpm.Abstractions;
using Npgsql;
using NpgsqlTypes;

namespace Anpm.Storage.Postgres;

/// <summary>
/// One READ COMMITTED transaction on a pooled connection, rolled back unless committed; or a REPEATABLE READ, READ ONLY
/// transaction for a read-only unit of work (one snapshot for all its reads, no row locks).
/// </summary>
internal sealed class PostgresUnitOfWork(NpgsqlConnection connection, NpgsqlTransaction transaction, bool readOnly = false) : IAnpmUnitOfWork, IRelationalSession, ILedgerStore, IPoolStore, IOutboxStore, IContributionStore, INoticeStore, ISystemStateStore, IExchangeRateStore, ICheckpointStore
{
    private const string AccountColumns = LedgerRows.AccountColumns;
    private const string TransferColumns = LedgerRows.TransferColumns;

    private readonly List<(NpgsqlBatchCommand Command, Func<CancellationToken, Task<Exception>> Refused)> _deferred = [];
    private NpgsqlConnection? _connection = connection;
    private bool _committed;
    private RelationalStakingStore? _staking;
    private RelationalInferenceStore? _inference;
    private RelationalRequestStore? _requests;

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

    async ValueTask<int> IRelationalSession.WriteAsync(string sql, CancellationToken cancellationToken, params object[] values)
    {
        await using var command = Command(Writable, sql, Parameters(values));
        return await ExecuteAsync(command, cancellationToken).ConfigureAwait(false);
    }

    async ValueTask<List<T>> IRelationalSession.ReadAsync<T>(string sql, Func<System.Data.Common.DbDataReader, T> read, CancellationToken cancellationToken, params object[] values)
    {
        await using var command = Command(Connection, sql, Parameters(values));
        return await ReadAsync(command, read, cancellationToken).ConfigureAwait(false);
    }

    // The shared feature stores' plain values as typed parameters; a null goes untyped, and the server takes the type of
    // the column it is compared with or written to.
    private static NpgsqlParameter[] Parameters(object[] values)
    {
        var parameters = new NpgsqlParameter[values.Length];
        for (var i = 0; i < values.Length; i++)
        {
            parameters[i] = values[i] switch
            {
                string text => Text(text),
                int number => Int(number),
                long number => Long(number),
                bool flag => new NpgsqlParameter<bool> { TypedValue = flag },
                BigInteger big => new NpgsqlParameter<BigInteger> { TypedValue = big, NpgsqlDbType = NpgsqlDbType.Numeric },
                DBNull => new NpgsqlParameter { Value = DBNull.Value },
                var other => throw new ArgumentException($"A {other?.GetType().Name ?? "null"} is not a value the shared stores bind.", nameof(values)),
            };
        }

        return parameters;
    }

    public async ValueTask<bool> TryInsertRateAsync(ExchangeRate rate, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(rate);
        await using var command = Command(
            Writable,
            $"INSERT INTO exchange_rates ({LedgerRows.ExchangeRateColumns}) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (effective_at_ticks) DO NOTHING",
            Long(rate.EffectiveAt.UtcTicks), Amount(rate.Credits), Amount(rate.TokenUnits), Text(rate.SetBy.ToString()), Long(rate.SetAt.UtcTicks));
        return await ExecuteAsync(command, cancellationToken).ConfigureAwait(false) == 1;
    }

    public async ValueTask<ExchangeRate?> GetRateInForceAsync(DateTimeOffset at, CancellationToken cancellationToken = default)
    {
        await using var command = Command(
            Connection, $"SELECT {LedgerRows.ExchangeRateColumns} FROM exchange_rates WHERE effective_at_ticks <= $1 ORDER BY effective_at_ticks DESC LIMIT 1", Long(at.UtcTicks));
        var rows = await ReadAsync(command, ReadRate, cancellationToken).ConfigureAwait(false);
        return rows.Count == 0 ? null : rows[0];
    }

    public async ValueTask<IReadOnlyList<ExchangeRate>> ListRatesAsync(DateTimeOffset? before, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        await using var command = Command(
            Connection, $"SELECT {LedgerRows.ExchangeRateColumns} FROM exchange_rates WHERE effective_at_ticks < $1 ORDER BY effective_at_ticks DESC LIMIT $2",
            Long(before?.UtcTicks ?? long.MaxValue), Int(limit));
        return await ReadAsync(command, ReadRate, cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask<Checkpoint?> GetCheckpointAsync(string name, bool lockShared = false, CancellationToken cancellationToken = default)
    {
        if (string.IsNullOrEmpty(name))
        {
            return null;
        }

        await using var command = Command(Connection, "SELECT name, value, version FROM checkpoints WHERE name = $1" + (lockShared ? " FOR SHARE" : string.Empty), Text(name));
        var rows = await ReadAsync(command, static reader => new Checkpoint(reader.GetString(0), reader.GetInt64(1), reader.GetInt64(2)), cancellationToken).ConfigureAwait(false);
        return rows.Count == 0 ? null : rows[0];
    }

    public async ValueTask<bool> TryInsertCheckpointAsync(string name, long value, CancellationToken cancellationToken = default)
    {
        StoreErrors.CheckCheckpointName(name);
        await using var command = Command(
            Writable, "INSERT INTO checkpoints (name, value, version) VALUES ($1, $2, 0) ON CONFLICT (name) DO NOTHING", Text(name), Long(value));
        return await ExecuteAsync(command, cancellationToken).ConfigureAwait(false) == 1;
    }

    public async ValueTask UpdateCheckpointAsync(string name, long value, long expectedVersion, CancellationToken cancellationToken = default)
    {
        await using var command = Command(
            Writable, "UPDATE checkpoints SET value = $2, version = version + 1 WHERE name = $1 AND version = $3", Text(name ?? string.Empty), Long(value), Long(expectedVersion));
        if (await ExecuteAsync(command, cancellationToken).ConfigureAwait(false) == 1)
        {
            return;
        }

        var current = await GetCheckpointAsync(name ?? string.Empty, cancellationToken: cancellationToken).ConfigureAwait(false);
        throw StoreErrors.UpdateRefused("Checkpoint", name ?? string.Empty, expectedVersion, current?.Version);
    }

    public async ValueTask<SystemState> GetSystemStateAsync(CancellationToken cancellationToken = default)
    {
        await using var command = Command(Connection, $"SELECT {LedgerRows.SystemStateColumns} FROM system_state WHERE id = 1");
        var rows = await ReadAsync(command, LedgerRows.ReadSystemState, cancellationToken).ConfigureAwait(false);
        return rows.Count == 0 ? SystemState.Initial : rows[0];
    }

    public async ValueTask UpdateSystemStateAsync(SystemState updated, long expectedVersion, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(updated);
        var by = new NpgsqlParameter<string?> { TypedValue = updated.ChangedBy?.ToString(), NpgsqlDbType = NpgsqlDbType.Text };
        await using var command = expectedVersion == 0
            ? Command(
                Writable,
                $"INSERT INTO system_state (id, {LedgerRows.SystemStateColumns}) VALUES (1, $1, $2, $3, $4, 1) ON CONFLICT (id) DO NOTHING",
                new NpgsqlParameter<bool> { TypedValue = updated.Paused }, Long(updated.ChangedAt.UtcTicks), by, Text(updated.Reason))
            : Command(
                Writable,
                "UPDATE system_state SET paused = $1, changed_at_ticks = $2, changed_by = $3, reason = $4, version = version + 1 WHERE id = 1 AND version = $5",
                new NpgsqlParameter<bool> { TypedValue = updated.Paused }, Long(updated.ChangedAt.UtcTicks), by, Text(updated.Reason), Long(expectedVersion));
        if (await ExecuteAsync(command, cancellationToken).ConfigureAwait(false) == 1)
        {
            return;
        }

        var current = await GetSystemStateAsync(cancellationToken).ConfigureAwait(false);
        throw StoreErrors.UpdateRefused("System state", "system", expectedVersion, current.Version);
    }

    public async ValueTask<IReadOnlyDictionary<ContributionStatus, int>> CountPoolContributionsAsync(PoolId poolId, CancellationToken cancellationToken = default)
    {
        await using var command = Command(
            Connection, "SELECT status, count(*)::integer FROM contributions WHERE pool_id = $1 GROUP BY status", Text(poolId.Value ?? string.Empty));
        var rows = await ReadAsync(command, static reader => ((ContributionStatus)reader.GetInt32(0), reader.GetInt32(1)), cancellationToken).ConfigureAwait(false);
        return rows.ToDictionary(row => row.Item1, row => row.Item2);
    }

    public async ValueTask<bool> TryInsertNoticeAsync(TokenNotice notice, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(notice);
        ArgumentException.ThrowIfNullOrEmpty(notice.MessageId);
        await using var command = Command(
            Writable,
            $"INSERT INTO notices ({LedgerRows.NoticeColumns}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (message_id) DO NOTHING",
            Text(notice.MessageId), Text(notice.Sender.ToString()), Amount(notice.Quantity), Text(notice.Action), Text(notice.PoolId),
            Text(notice.Reference), Long(notice.ReceivedAt.UtcTicks), Text(notice.Outcome));
        return await ExecuteAsync(command, cancellationToken).ConfigureAwait(false) == 1;
    }

    public async ValueTask<TokenNotice?> GetNoticeAsync(string messageId, CancellationToken cancellationToken = default)
    {
        if (string.IsNullOrEmpty(messageId))
        {
            return null;
        }

        await using var command = Command(Connection, $"SELECT {LedgerRows.NoticeColumns} FROM notices WHERE message_id = $1", Text(messageId));
        var rows = await ReadAsync(command, ReadNotice, cancellationToken).ConfigureAwait(false);
        return rows.Count == 0 ? null : rows[0];
    }

    public async ValueTask<bool> TryInsertContributionAsync(ContributionRecord contribution, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(contribution);
        await using var command = Command(
            Writable,
            $"INSERT INTO contributions ({LedgerRows.ContributionColumns}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (id) DO NOTHING",
            Text(Required(contribution.Id.Value)), Text(contribution.PoolId.Value!), Text(contribution.Owner.ToString()), Amount(contribution.Amount),
            Int((int)contribution.Status), Long(contribution.CreatedAt.UtcTicks),
            new NpgsqlParameter<long?> { TypedValue = contribution.PayBefore?.UtcTicks, NpgsqlDbType = NpgsqlDbType.Bigint },
            Amount(contribution.Paidout), Long(contribution.Version));
        return await ExecuteAsync(command, cancellationToken).ConfigureAwait(false) == 1;
    }

    public async ValueTask<ContributionRecord?> GetContributionAsync(ContributionId id, CancellationToken cancellationToken = default)
    {
        if (id.Value is null)
        {
            return null;
        }

        await using var command = Command(Connection, $"SELECT {LedgerRows.ContributionColumns} FROM contributions WHERE id = $1", Text(id.Value));
        var rows = await ReadAsync(command, ReadContribution, cancellationToken).ConfigureAwait(false);
        return rows.Count == 0 ? null : rows[0];
    }

    public ValueTask UpdateContributionAsync(ContributionRecord updated, long expectedVersion, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(updated);
        using var command = Command(
            Writable,
            "UPDATE contributions SET status = $3, pay_before_ticks = $4, paidout = $5, version = version + 1 WHERE id = $1 AND version = $2",
            Text(updated.Id.Value ?? string.Empty), Long(expectedVersion), Int((int)updated.Status),
            new NpgsqlParameter<long?> { TypedValue = updated.PayBefore?.UtcTicks, NpgsqlDbType = NpgsqlDbType.Bigint },
            Amount(updated.Paidout));
        Defer(command, async ct => StoreErrors.UpdateRefused("Contribution", updated.Id, expectedVersion, (await GetContributionAsync(updated.Id, ct).ConfigureAwait(false))?.Version));
        return ValueTask.CompletedTask;
    }

    public async ValueTask<IReadOnlyList<ContributionRecord>> ListPoolContributionsAsync(PoolId poolId, ContributionId? after, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        await using var command = Command(
            Connection,
            $"SELECT {LedgerRows.ContributionColumns} FROM contributions WHERE pool_id = $1 AND id > $2 ORDER BY id LIMIT $3",
            Text(poolId.Value ?? string.Empty), Text(after?.Value ?? string.Empty), Int(limit));
        return await ReadAsync(command, ReadContribution, cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask<IReadOnlyList<ContributionRecord>> ListOwnerContributionsAsync(Address owner, ContributionId? after, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        await using var command = Command(
            Connection,
            $"SELECT {LedgerRows.ContributionColumns} FROM contributions WHERE owner = $1 AND id > $2 ORDER BY id LIMIT $3",
            Text(owner.ToString()), Text(after?.Value ?? string.Empty), Int(limit));
        return await ReadAsync(command, ReadContribution, cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask<IReadOnlyList<ContributionRecord>> GetOverdueContributionsAsync(DateTimeOffset now, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        await using var command = Command(
            Connection,
            $"SELECT {LedgerRows.ContributionColumns} FROM contributions WHERE status = 1 AND pay_before_ticks <= $1 ORDER BY pay_before_ticks, id LIMIT $2",
            Long(now.UtcTicks), Int(limit));
        return await ReadAsync(command, ReadContribution, cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask<bool> TryInsertOutgoingAsync(OutgoingTransfer transfer, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(transfer);
        await using var command = Command(
            Writable,
            $"INSERT INTO outbox ({LedgerRows.OutboxColumns}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT (id) DO NOTHING",
            Text(Required(transfer.Id.Value)), Text(transfer.To.ToString()), Text(transfer.Asset.Value!), Amount(transfer.Amount),
            Text(transfer.Kind.Value!), Text(transfer.Reference), Int((int)transfer.State), Int(transfer.Attempts),
            Long(transfer.CreatedAt.UtcTicks), Long(transfer.NextAttemptAt.UtcTicks), Text(transfer.ExternalReference), Long(transfer.Version));
        return await ExecuteAsync(command, cancellationToken).ConfigureAwait(false) == 1;
    }

    public async ValueTask<OutgoingTransfer?> GetOutgoingAsync(TransferId id, CancellationToken cancellationToken = default)
    {
        if (id.Value is null)
        {
            return null;
        }

        await using var command = Command(Connection, $"SELECT {LedgerRows.OutboxColumns} FROM outbox WHERE id = $1", Text(id.Value));
        var rows = await ReadAsync(command, ReadOutgoing, cancellationToken).ConfigureAwait(false);
        return rows.Count == 0 ? null : rows[0];
    }

    public async ValueTask<IReadOnlyList<OutgoingTransfer>> GetDueOutgoingAsync(DateTimeOffset now, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        await using var command = Command(
            Connection,
            $"SELECT {LedgerRows.OutboxColumns} FROM outbox WHERE state <> 3 AND next_attempt_ticks <= $1 ORDER BY next_attempt_ticks, id LIMIT $2",
            Long(now.UtcTicks), Int(limit));
        return await ReadAsync(command, ReadOutgoing, cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask UpdateOutgoingAsync(OutgoingTransfer updated, long expectedVersion, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(updated);
        await using var command = Command(
            Writable,
            "UPDATE outbox SET state = $3, attempts = $4, next_attempt_ticks = $5, external_reference = $6, version = version + 1 WHERE id = $1 AND version = $2",
            Text(updated.Id.Value ?? string.Empty), Long(expectedVersion), Int((int)updated.State), Int(updated.Attempts),
            Long(updated.NextAttemptAt.UtcTicks), Text(updated.ExternalReference));
        if (await ExecuteAsync(command, cancellationToken).ConfigureAwait(false) == 1)
        {
            return;
        }

        var current = await GetOutgoingAsync(updated.Id, cancellationToken).ConfigureAwait(false);
        throw StoreErrors.UpdateRefused("Outgoing transfer", updated.Id, expectedVersion, current?.Version);
    }

    public async ValueTask<bool> TryInsertPoolAsync(PoolRecord pool, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(pool);
        await using var command = Command(
            Writable,
            $"INSERT INTO pools ({LedgerRows.PoolColumns}) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO NOTHING",
            Text(Required(pool.Id.Value)), Text(pool.Owner.ToString()), Text(pool.ConfigJson), Int((int)pool.Status),
            Long(pool.CreatedAt.UtcTicks), Long(pool.Version), Long(pool.StatusChangedAt.UtcTicks));
        return await ExecuteAsync(command, cancellationToken).ConfigureAwait(false) == 1;
    }

    public async ValueTask<PoolRecord?> GetPoolAsync(PoolId id, CancellationToken cancellationToken = default)
    {
        if (id.Value is null)
        {
            return null;
        }

        await using var command = Command(Connection, $"SELECT {LedgerRows.PoolColumns} FROM pools WHERE id = $1", Text(id.Value));
        var rows = await ReadAsync(command, LedgerRows.ReadPool, cancellationToken).ConfigureAwait(false);
        return rows.Count == 0 ? null : rows[0];
    }

    public async ValueTask UpdatePoolStatusAsync(PoolId id, long expectedVersion, PoolStatus status, DateTimeOffset changedAt, CancellationToken cancellationToken = default)
    {
        await using var command = Command(
            Writable,
            "UPDATE pools SET status = $3, status_changed_at_ticks = $4, version = version + 1 WHERE id = $1 AND version = $2",
            Text(id.Value ?? string.Empty), Long(expectedVersion), Int((int)status), Long(changedAt.UtcTicks));
        if (await ExecuteAsync(command, cancellationToken).ConfigureAwait(false) == 1)
        {
            return;
        }

        var current = await GetPoolAsync(id, cancellationToken).ConfigureAwait(false);
        throw StoreErrors.UpdateRefused("Pool", id, expectedVersion, current?.Version);
    }

    public async ValueTask<IReadOnlyList<PoolRecord>> ListPoolsAsync(PoolId? after, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        await using var command = Command(
            Connection,
            $"SELECT {LedgerRows.PoolColumns} FROM pools WHERE id > $1 ORDER BY id LIMIT $2",
            Text(after?.Value ?? string.Empty), Int(limit));
        return await ReadAsync(command, LedgerRows.ReadPool, cancellationToken).ConfigureAwait(false);
    }

    private NpgsqlConnection Connection => _connection ?? throw new ObjectDisposedException(nameof(IAnpmUnitOfWork));

    private NpgsqlConnection Writable =>
        _committed ? throw new InvalidOperationException("The unit of work was committed; begin a new one.")
        : readOnly ? throw new InvalidOperationException("This unit of work is read-only (BeginReadAsync); begin a writing one to change anything.")
        : Connection;

    public async ValueTask CommitAsync(CancellationToken cancellationToken = default)
    {
        if (_committed)
        {
            throw new InvalidOperationException("The unit of work was committed; begin a new one.");
        }

        await FlushDeferredAsync(cancellationToken).ConfigureAwait(false);
        await PostgresAnpmStore.Translate(() => transaction.CommitAsync(cancellationToken)).ConfigureAwait(false);
        _committed = true;
    }

    public async ValueTask DisposeAsync()
    {
        var open = _connection;
        if (open is null)
        {
            return;
        }

        _connection = null;
        _deferred.Clear();
        await transaction.DisposeAsync().ConfigureAwait(false);
        await open.DisposeAsync().ConfigureAwait(false);
    }

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
        await using var command = Command(
            Connection,
            $"SELECT {AccountColumns} FROM ledger_accounts WHERE id = ANY($1) ORDER BY id FOR UPDATE",
            new NpgsqlParameter<string[]> { TypedValue = ids.Select(id => id.Value ?? string.Empty).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        var accounts = await ReadAsync(command, ReadAccount, cancellationToken).ConfigureAwait(false);
        return accounts.Select(static a => new LockedAccount(a.Id, a.Asset, a.Flags, a.Version, a.Totals)).ToArray();
    }

    public async ValueTask<bool> TryInsertAccountAsync(LedgerAccount account, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(account);
        await using var command = Command(
            Writable,
            $"INSERT INTO ledger_accounts ({AccountColumns}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (id) DO NOTHING",
            Text(Required(account.Id.Value)), Text(account.Asset.Value!), Int((int)account.Flags), Long(account.CreatedAt.UtcTicks), Long(account.Version),
            Amount(account.DebitsPosted), Amount(account.CreditsPosted), Amount(account.DebitsPending), Amount(account.CreditsPending));
        return await ExecuteAsync(command, cancellationToken).ConfigureAwait(false) == 1;
    }

    public ValueTask UpdateAccountTotalsAsync(AccountId id, long expectedVersion, AccountTotals totals, CancellationToken cancellationToken = default)
    {
        using var command = Command(
            Writable,
            "UPDATE ledger_accounts SET debits_posted = $3, credits_posted = $4, debits_pending = $5, credits_pending = $6, version = version + 1 WHERE id = $1 AND version = $2",
            Text(id.Value ?? string.Empty), Long(expectedVersion),
            Amount(totals.DebitsPosted), Amount(totals.CreditsPosted), Amount(totals.DebitsPending), Amount(totals.CreditsPending));
        Defer(command, async ct => StoreErrors.UpdateRefused("Account", id, expectedVersion, (await GetAccountAsync(id, ct).ConfigureAwait(false))?.Version));
        return ValueTask.CompletedTask;
    }

    public async ValueTask<Transfer?> GetTransferAsync(TransferId id, CancellationToken cancellationToken = default)
    {
        if (id.Value is null)
        {
            return null;
        }

        await using var command = Command(Connection, $"SELECT {TransferColumns} FROM ledger_transfers WHERE id = $1", Text(id.Value));
        var rows = await ReadAsync(command, ReadTransfer, cancellationToken).ConfigureAwait(false);
        return rows.Count == 0 ? null : rows[0].Transfer;
    }

    public async ValueTask<bool> TryInsertTransferAsync(Transfer transfer, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(transfer);
        await using var command = Command(
            Writable,
            $"INSERT INTO ledger_transfers ({LedgerRows.TransferColumnsWithoutSequence}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) ON CONFLICT (id) DO NOTHING",
            Text(Required(transfer.Id.Value)), Text(transfer.DebitAccountId.Value!), Text(transfer.CreditAccountId.Value!), Text(transfer.Asset.Value!),
            Amount(transfer.Amount), Text(transfer.Kind.Value!), Text(transfer.Reference), Int((int)transfer.Flags),
            new NpgsqlParameter<string?> { TypedValue = transfer.PendingId.Value, NpgsqlDbType = NpgsqlDbType.Text },
            Long(transfer.TimeoutSeconds), Long(transfer.Timestamp.UtcTicks),
            new NpgsqlParameter<long?> { TypedValue = transfer.ExpiresAt?.UtcTicks, NpgsqlDbType = NpgsqlDbType.Bigint },
            Int((int)transfer.State));
        return await ExecuteAsync(command, cancellationToken).ConfigureAwait(false) == 1;
    }

    public ValueTask UpdatePendingStateAsync(TransferId id, PendingTransferState state, CancellationToken cancellationToken = default)
    {
        using var command = Command(Writable, "UPDATE ledger_transfers SET state = $2 WHERE id = $1", Text(id.Value ?? string.Empty), Int((int)state));
        Defer(command, _ => Task.FromResult<Exception>(new AnpmException($"Transfer '{id}' does not exist, so its pending state cannot be updated.")));
        return ValueTask.CompletedTask;
    }

    public async ValueTask<IReadOnlyList<Transfer>> GetExpiredPendingTransfersAsync(DateTimeOffset now, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        await using var command = Command(
            Connection,
            $"SELECT {TransferColumns} FROM ledger_transfers WHERE state = 1 AND expires_at_ticks IS NOT NULL AND expires_at_ticks <= $1 ORDER BY expires_at_ticks, id LIMIT $2",
            Long(now.UtcTicks), Int(limit));
        return (await ReadAsync(command, ReadTransfer, cancellationToken).ConfigureAwait(false)).Select(e => e.Transfer).ToList();
    }

    public async ValueTask<IReadOnlyList<LedgerEntry>> GetAccountHistoryAsync(AccountId id, long? beforeSequence, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        await using var command = Command(
            Connection,
            $"""
            SELECT {TransferColumns} FROM ledger_transfers WHERE seq IN (
                (SELECT seq FROM ledger_transfers WHERE debit_account_id = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3)
                UNION ALL
                (SELECT seq FROM ledger_transfers WHERE credit_account_id = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3))
            ORDER BY seq DESC LIMIT $3
            """,
            Text(id.Value ?? string.Empty), Long(beforeSequence ?? long.MaxValue), Int(limit));
        return await ReadAsync(command, ReadTransfer, cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask<IReadOnlyList<AssetTotals>> GetAssetTotalsAsync(CancellationToken cancellationToken = default)
    {
        // numeric sums are exact however large; the database does the work for any number of accounts.
        await using var command = Command(Connection, """
            SELECT asset, count(*), sum(debits_posted), sum(credits_posted), sum(debits_pending), sum(credits_pending),
                   count(*) FILTER (WHERE flags & 1 = 1 AND debits_posted + debits_pending > credits_posted)
            FROM ledger_accounts GROUP BY asset ORDER BY asset
            """);
        return await ReadAsync(
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

    private static string Required(string? id) => id ?? throw new ArgumentException("The default id cannot be stored.", nameof(id));

    private static NpgsqlParameter Text(string value) => new NpgsqlParameter<string> { TypedValue = value, NpgsqlDbType = NpgsqlDbType.Text };

    private static NpgsqlParameter Int(int value) => new NpgsqlParameter<int> { TypedValue = value };

    private static NpgsqlParameter Long(long value) => new NpgsqlParameter<long> { TypedValue = value };

    private static NpgsqlParameter Amount(TokenAmount amount) =>
        new NpgsqlParameter<BigInteger> { TypedValue = amount.BaseUnits, NpgsqlDbType = NpgsqlDbType.Numeric };

    private static readonly Func<System.Data.Common.DbDataReader, int, TokenAmount> ReadAmount =
        static (reader, ordinal) => new((UInt128)reader.GetFieldValue<BigInteger>(ordinal));

    private static TokenNotice ReadNotice(NpgsqlDataReader reader) => LedgerRows.ReadNotice(reader, ReadAmount);

    private static ExchangeRate ReadRate(NpgsqlDataReader reader) => LedgerRows.ReadExchangeRate(reader, ReadAmount);

    private static ContributionRecord ReadContribution(NpgsqlDataReader reader) => LedgerRows.ReadContribution(reader, ReadAmount);

    private static OutgoingTransfer ReadOutgoing(NpgsqlDataReader reader) => LedgerRows.ReadOutgoing(reader, ReadAmount);

    private static LedgerAccount ReadAccount(NpgsqlDataReader reader) => LedgerRows.ReadAccount(reader, ReadAmount);

    private static LedgerEntry ReadTransfer(NpgsqlDataReader reader) => LedgerRows.ReadTransfer(reader, ReadAmount);

    private NpgsqlCommand Command(NpgsqlConnection on, string sql, params NpgsqlParameter[] parameters)
    {
        var command = new NpgsqlCommand(sql, on, transaction);
        command.Parameters.AddRange(parameters);
        return command;
    }

    private async ValueTask<LedgerAccount?> ReadAccountAsync(string sql, AccountId id, CancellationToken cancellationToken)
    {
        if (id.Value is null)
        {
            return null;
        }

        await using var command = Command(Connection, sql, Text(id.Value));
        var rows = await ReadAsync(command, ReadAccount, cancellationToken).ConfigureAwait(false);
        return rows.Count == 0 ? null : rows[0];
    }

    // Runs a statement, with the deferred versioned updates ahead of it in the same round trip.
    private Task<int> ExecuteAsync(NpgsqlCommand command, CancellationToken cancellationToken) =>
        _deferred.Count == 0
            ? PostgresAnpmStore.Translate(() => command.ExecuteNonQueryAsync(cancellationToken))
            : PostgresAnpmStore.Translate(async () =>
            {
                var (batch, last) = BatchAfterDeferred(command);
                await using (batch.ConfigureAwait(false))
                {
                    await batch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                    await CheckDeferredAsync(batch, cancellationToken).ConfigureAwait(false);
                    return last.RecordsAffected;
                }
            });

    // Reads the rows of a query, with the deferred versioned updates ahead of it in the same round trip.
    private Task<List<T>> ReadAsync<T>(NpgsqlCommand command, Func<NpgsqlDataReader, T> read, CancellationToken cancellationToken) =>
        PostgresAnpmStore.Translate(async () =>
        {
            var rows = new List<T>();
            var batch = _deferred.Count == 0 ? null : BatchAfterDeferred(command).Batch;
            await using (batch)
            {
                var reader = batch is null
                    ? await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false)
                    : await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                await using (reader.ConfigureAwait(false))
                {
                    // The updates ahead of the query return no rows; the query's rows are the last result.
                    while (reader.FieldCount == 0 && await reader.NextResultAsync(cancellationToken).ConfigureAwait(false))
                    {
                    }

                    while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                    {
                        rows.Add(read(reader));
                    }
                }

                if (batch is not null)
                {
                    await CheckDeferredAsync(batch, cancellationToken).ConfigureAwait(false);
                }
            }

            return rows;
        });

    // A versioned update whose outcome nobody reads at once: it goes to the server with the next statement, or the
    // commit, in one NpgsqlBatch — a transfer's two account updates cost no round trip of their own. An update that finds
    // no row at its version fails that next statement (or the commit) with what `refused` says, before anything commits.
    private void Defer(NpgsqlCommand command, Func<CancellationToken, Task<Exception>> refused)
    {
        var deferred = new NpgsqlBatchCommand(command.CommandText);
        var parameters = command.Parameters.ToArray();
        command.Parameters.Clear();
        deferred.Parameters.AddRange(parameters);
        _deferred.Add((deferred, refused));
    }

    private async Task FlushDeferredAsync(CancellationToken cancellationToken)
    {
        if (_deferred.Count == 0)
        {
            return;
        }

        var batch = new NpgsqlBatch(Connection, transaction);
        await using (batch.ConfigureAwait(false))
        {
            foreach (var (command, _) in _deferred)
            {
                batch.BatchCommands.Add(command);
            }

            await PostgresAnpmStore.Translate(() => batch.ExecuteNonQueryAsync(cancellationToken)).ConfigureAwait(false);
            await CheckDeferredAsync(batch, cancellationToken).ConfigureAwait(false);
        }
    }

    private (NpgsqlBatch Batch, NpgsqlBatchCommand Last) BatchAfterDeferred(NpgsqlCommand command)
    {
        var batch = new NpgsqlBatch(Connection, transaction);
        foreach (var (deferred, _) in _deferred)
        {
            batch.BatchCommands.Add(deferred);
        }

        var last = new NpgsqlBatchCommand(command.CommandText);
        var parameters = command.Parameters.ToArray();
        command.Parameters.Clear();
        last.Parameters.AddRange(parameters);
        batch.BatchCommands.Add(last);
        return (batch, last);
    }

    // After a batch ran: every deferred update must have changed its one row.
    private async Task CheckDeferredAsync(NpgsqlBatch batch, CancellationToken cancellationToken)
    {
        var deferred = _deferred.ToArray();
        _deferred.Clear();
        for (var i = 0; i < deferred.Length; i++)
        {
            if (batch.BatchCommands[i].RecordsAffected != 1)
            {
                throw await deferred[i].Refused(cancellationToken).ConfigureAwait(false);
            }
        }
    }
}
