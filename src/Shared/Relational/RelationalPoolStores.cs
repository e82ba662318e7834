using Anpm.Abstractions;
using static Anpm.Storage.RelationalSessionExtensions;

namespace Anpm.Storage;

/// <summary>The pools, for every relational dialect.</summary>
internal sealed class RelationalPoolStore(IRelationalSession session) : IPoolStore
{
    public async ValueTask<bool> TryInsertPoolAsync(PoolRecord pool, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(pool);
        return await session.WriteAsync(
            $"INSERT INTO pools ({LedgerRows.PoolColumns}) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO NOTHING", cancellationToken,
            Required(pool.Id.Value), pool.Owner.ToString(), pool.ConfigJson, (int)pool.Status, pool.CreatedAt.UtcTicks, pool.Version, pool.StatusChangedAt.UtcTicks)
            .ConfigureAwait(false) == 1;
    }

    public ValueTask<PoolRecord?> GetPoolAsync(PoolId id, CancellationToken cancellationToken = default) =>
        id.Value is null ? default : session.OneAsync($"SELECT {LedgerRows.PoolColumns} FROM pools WHERE id = $1", LedgerRows.ReadPool, cancellationToken, id.Value);

    public ValueTask UpdatePoolStatusAsync(PoolId id, long expectedVersion, PoolStatus status, DateTimeOffset changedAt, CancellationToken cancellationToken = default) =>
        session.UpdateOneAsync("UPDATE pools SET status = $3, status_changed_at_ticks = $4, version = version + 1 WHERE id = $1 AND version = $2",
            async ct => StoreErrors.UpdateRefused("Pool", id, expectedVersion, (await GetPoolAsync(id, ct).ConfigureAwait(false))?.Version),
            cancellationToken, id.Value ?? string.Empty, expectedVersion, (int)status, changedAt.UtcTicks);

    public async ValueTask<IReadOnlyList<PoolRecord>> ListPoolsAsync(PoolId? after, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        return await session.ReadAsync($"SELECT {LedgerRows.PoolColumns} FROM pools WHERE id > $1 ORDER BY id LIMIT $2", LedgerRows.ReadPool, cancellationToken,
            after?.Value ?? string.Empty, limit).ConfigureAwait(false);
    }
}

/// <summary>The contributions to pool campaigns, for every relational dialect.</summary>
internal sealed class RelationalContributionStore(IRelationalSession session) : IContributionStore
{
    private const string ById = $"SELECT {LedgerRows.ContributionColumns} FROM contributions WHERE id = $1";
    private static readonly string Overdue =
        $"SELECT {LedgerRows.ContributionColumns} FROM contributions WHERE status = {(int)ContributionStatus.PendingPayment} AND pay_before_ticks <= $1 ORDER BY pay_before_ticks, id LIMIT $2";

    public async ValueTask<bool> TryInsertContributionAsync(ContributionRecord contribution, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(contribution);
        return await session.WriteAsync(
            $"INSERT INTO contributions ({LedgerRows.ContributionColumns}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (id) DO NOTHING", cancellationToken,
            Required(contribution.Id.Value), Required(contribution.PoolId.Value), contribution.Owner.ToString(), RelationalDialect.Amount(contribution.Amount),
            (int)contribution.Status, contribution.CreatedAt.UtcTicks, OrNull(contribution.PayBefore), RelationalDialect.Amount(contribution.Paidout), contribution.Version)
            .ConfigureAwait(false) == 1;
    }

    public ValueTask<ContributionRecord?> GetContributionAsync(ContributionId id, CancellationToken cancellationToken = default) =>
        id.Value is null ? default : session.OneAsync(ById, static r => LedgerRows.ReadContribution(r, RelationalDialect.ReadAmount), cancellationToken, id.Value);

    public ValueTask UpdateContributionAsync(ContributionRecord updated, long expectedVersion, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(updated);
        return session.UpdateOneAsync(
            "UPDATE contributions SET status = $3, pay_before_ticks = $4, paidout = $5, version = version + 1 WHERE id = $1 AND version = $2",
            async ct => StoreErrors.UpdateRefused("Contribution", updated.Id, expectedVersion, (await GetContributionAsync(updated.Id, ct).ConfigureAwait(false))?.Version),
            cancellationToken, updated.Id.Value ?? string.Empty, expectedVersion, (int)updated.Status, OrNull(updated.PayBefore), RelationalDialect.Amount(updated.Paidout));
    }

    public async ValueTask<IReadOnlyList<ContributionRecord>> ListPoolContributionsAsync(PoolId poolId, ContributionId? after, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        return await session.ReadAsync(
            $"SELECT {LedgerRows.ContributionColumns} FROM contributions WHERE pool_id = $1 AND id > $2 ORDER BY id LIMIT $3",
            static r => LedgerRows.ReadContribution(r, RelationalDialect.ReadAmount), cancellationToken, poolId.Value ?? string.Empty, after?.Value ?? string.Empty, limit)
            .ConfigureAwait(false);
    }

    public async ValueTask<IReadOnlyList<ContributionRecord>> ListOwnerContributionsAsync(Address owner, ContributionId? after, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        return await session.ReadAsync(
            $"SELECT {LedgerRows.ContributionColumns} FROM contributions WHERE owner = $1 AND id > $2 ORDER BY id LIMIT $3",
            static r => LedgerRows.ReadContribution(r, RelationalDialect.ReadAmount), cancellationToken, owner.ToString(), after?.Value ?? string.Empty, limit)
            .ConfigureAwait(false);
    }

    public async ValueTask<IReadOnlyDictionary<ContributionStatus, int>> CountPoolContributionsAsync(PoolId poolId, CancellationToken cancellationToken = default) =>
        (await session.ReadAsync("SELECT status, count(*) FROM contributions WHERE pool_id = $1 GROUP BY status",
            static r => ((ContributionStatus)r.GetInt32(0), (int)r.GetInt64(1)), cancellationToken, poolId.Value ?? string.Empty).ConfigureAwait(false))
        .ToDictionary(row => row.Item1, row => row.Item2);

    public async ValueTask<IReadOnlyList<ContributionRecord>> GetOverdueContributionsAsync(DateTimeOffset now, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        return await session.ReadAsync(
            Overdue,
            static r => LedgerRows.ReadContribution(r, RelationalDialect.ReadAmount), cancellationToken, now.UtcTicks, limit).ConfigureAwait(false);
    }
}

/// <summary>The outbox of outgoing token transfers, for every relational dialect.</summary>
internal sealed class RelationalOutboxStore(IRelationalSession session) : IOutboxStore
{
    private static readonly string Due =
        $"SELECT {LedgerRows.OutboxColumns} FROM outbox WHERE state <> {(int)OutgoingTransferState.Confirmed} AND state <> {(int)OutgoingTransferState.FailedOnChain} "
        + $"AND state <> {(int)OutgoingTransferState.Returned} AND next_attempt_ticks <= $1 ORDER BY next_attempt_ticks, id LIMIT $2";

    public async ValueTask<bool> TryInsertOutgoingAsync(OutgoingTransfer transfer, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(transfer);
        return await session.WriteAsync(
            $"INSERT INTO outbox ({LedgerRows.OutboxColumns}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT (id) DO NOTHING", cancellationToken,
            Required(transfer.Id.Value), transfer.To.ToString(), Required(transfer.Asset.Value), RelationalDialect.Amount(transfer.Amount), Required(transfer.Kind.Value),
            transfer.Reference, (int)transfer.State, transfer.Attempts, transfer.CreatedAt.UtcTicks, transfer.NextAttemptAt.UtcTicks, transfer.ExternalReference,
            transfer.Version).ConfigureAwait(false) == 1;
    }

    public ValueTask<OutgoingTransfer?> GetOutgoingAsync(TransferId id, CancellationToken cancellationToken = default) =>
        id.Value is null
            ? default
            : session.OneAsync($"SELECT {LedgerRows.OutboxColumns} FROM outbox WHERE id = $1", static r => LedgerRows.ReadOutgoing(r, RelationalDialect.ReadAmount),
                cancellationToken, id.Value);

    public async ValueTask<IReadOnlyList<OutgoingTransfer>> GetOutgoingInStateAsync(OutgoingTransferState state, TransferId? after, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        return await session.ReadAsync(
            $"SELECT {LedgerRows.OutboxColumns} FROM outbox WHERE state = $1 AND id > $2 ORDER BY id LIMIT $3",
            static r => LedgerRows.ReadOutgoing(r, RelationalDialect.ReadAmount), cancellationToken, (int)state, after?.Value ?? string.Empty, limit).ConfigureAwait(false);
    }

    public async ValueTask<IReadOnlyList<OutgoingTransfer>> GetDueOutgoingAsync(DateTimeOffset now, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        return await session.ReadAsync(
            Due,
            static r => LedgerRows.ReadOutgoing(r, RelationalDialect.ReadAmount), cancellationToken, now.UtcTicks, limit).ConfigureAwait(false);
    }

    public ValueTask UpdateOutgoingAsync(OutgoingTransfer updated, long expectedVersion, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(updated);
        return session.UpdateOneAsync(
            "UPDATE outbox SET state = $3, attempts = $4, next_attempt_ticks = $5, external_reference = $6, version = version + 1 WHERE id = $1 AND version = $2",
            async ct => StoreErrors.UpdateRefused("Outgoing transfer", updated.Id, expectedVersion, (await GetOutgoingAsync(updated.Id, ct).ConfigureAwait(false))?.Version),
            cancellationToken, updated.Id.Value ?? string.Empty, expectedVersion, (int)updated.State, updated.Attempts, updated.NextAttemptAt.UtcTicks, updated.ExternalReference);
    }
}
