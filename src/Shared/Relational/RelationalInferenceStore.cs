using Anpm.Abstractions;
using static Anpm.Storage.RelationalSessionExtensions;

namespace Anpm.Storage;

/// <summary>
/// Inference tasks, their leases and the pools' oracle allow-lists, for every relational dialect. A claim reads the next
/// task with the dialect's row lock (<c>RelationalDialect.SkipLocked</c>: PostgreSQL skips tasks other claims hold;
/// SQLite's single writer already makes the read exclusive).
/// </summary>
internal sealed class RelationalInferenceStore(IRelationalSession session) : IInferenceStore
{
    private const string TaskById = $"SELECT {LedgerRows.TaskColumns} FROM inference_tasks WHERE id = $1";
    private const string LeaseById = $"SELECT {LedgerRows.LeaseColumns} FROM task_leases WHERE id = $1";
    private const string OracleColumns = "pool_id, oracle, active, changed_at_ticks";
    private const int Pending = (int)InferenceTaskStatus.Pending;
    private const int Active = (int)TaskLeaseState.Active;

    private static readonly string NextTask =
        $"SELECT {LedgerRows.TaskColumns} FROM inference_tasks t WHERE pool_id = $1 AND status = {Pending} AND NOT EXISTS (SELECT 1 FROM task_leases l WHERE l.task_id = t.id AND l.oracle = $2) ORDER BY created_at_ticks, id LIMIT 1{RelationalDialect.SkipLocked}";

    private static readonly string OverdueTasks =
        $"SELECT {LedgerRows.TaskColumns} FROM inference_tasks t WHERE status = {Pending} AND created_at_ticks <= $1 AND NOT EXISTS (SELECT 1 FROM task_leases l WHERE l.task_id = t.id AND (l.state = {Active} OR l.leased_at_ticks > $1 OR l.ended_at_ticks > $1)) ORDER BY created_at_ticks, id LIMIT $2";

    private static readonly string Latencies =
        $"SELECT completed_at_ticks - created_at_ticks FROM inference_tasks WHERE pool_id = $1 AND status = {(int)InferenceTaskStatus.Done} ORDER BY completed_at_ticks DESC LIMIT $2";

    private static readonly string ExpiredLeases =
        $"SELECT {LedgerRows.LeaseColumns} FROM task_leases WHERE state = {Active} AND expires_at_ticks <= $1 ORDER BY expires_at_ticks, id LIMIT $2";

    private static readonly string OracleCounts =
        $"SELECT oracle, count(*), sum(CASE WHEN state = {(int)TaskLeaseState.Resulted} THEN 1 ELSE 0 END), sum(CASE WHEN state IN ({(int)TaskLeaseState.Failed}, {(int)TaskLeaseState.Expired}) THEN 1 ELSE 0 END), sum(CASE WHEN dissent THEN 1 ELSE 0 END) FROM task_leases WHERE pool_id = $1 GROUP BY oracle ORDER BY oracle";

    public async ValueTask<bool> TryInsertTaskAsync(InferenceTask task, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(task);
        ArgumentException.ThrowIfNullOrEmpty(task.Id);
        return await session.WriteAsync(
            $"INSERT INTO inference_tasks ({LedgerRows.TaskColumns}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, 0, $19) ON CONFLICT (id) DO NOTHING",
            cancellationToken,
            task.Id, Required(task.PoolId.Value), task.Account.ToString(), task.Model, task.ModelHash, task.Input, RelationalDialect.Amount(task.Price), (int)task.Status,
            task.Replication, task.Quorum, task.MaxAttempts, task.OpenSlots, task.FailedAttempts, task.CreatedAt.UtcTicks, OrNull(task.CompletedAt),
            OrNull(task.Output), OrNull(task.OutputHash), OrNull(task.FailureReason), OrNull(task.SessionKeyId)).ConfigureAwait(false) == 1;
    }

    public ValueTask<InferenceTask?> GetTaskAsync(string id, CancellationToken cancellationToken = default) =>
        id is null ? default : session.OneAsync(TaskById, static r => LedgerRows.ReadTask(r, RelationalDialect.ReadAmount), cancellationToken, id);

    public async ValueTask UpdateTaskAsync(InferenceTask updated, long expectedVersion, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(updated);
        if (await session.WriteAsync(
            "UPDATE inference_tasks SET status = $3, open_slots = $4, failed_attempts = $5, completed_at_ticks = $6, output = $7, output_hash = $8, failure_reason = $9, version = version + 1 WHERE id = $1 AND version = $2",
            cancellationToken, updated.Id ?? string.Empty, expectedVersion, (int)updated.Status, updated.OpenSlots, updated.FailedAttempts, OrNull(updated.CompletedAt),
            OrNull(updated.Output), OrNull(updated.OutputHash), OrNull(updated.FailureReason)).ConfigureAwait(false) == 1)
        {
            return;
        }

        var current = await GetTaskAsync(updated.Id ?? string.Empty, cancellationToken).ConfigureAwait(false);
        throw StoreErrors.UpdateRefused("Task", updated.Id ?? string.Empty, expectedVersion, current?.Version);
    }

    public ValueTask<InferenceTask?> ClaimNextTaskAsync(PoolId pool, Address oracle, CancellationToken cancellationToken = default) =>
        session.OneAsync(
            NextTask,
            static r => LedgerRows.ReadTask(r, RelationalDialect.ReadAmount), cancellationToken, pool.Value ?? string.Empty, oracle.ToString());

    public async ValueTask<IReadOnlyList<InferenceTask>> GetOverdueTasksAsync(DateTimeOffset idleSince, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        return await session.ReadAsync(
            OverdueTasks,
            static r => LedgerRows.ReadTask(r, RelationalDialect.ReadAmount), cancellationToken, idleSince.UtcTicks, limit).ConfigureAwait(false);
    }

    public async ValueTask<IReadOnlyDictionary<InferenceTaskStatus, int>> CountTasksAsync(PoolId pool, CancellationToken cancellationToken = default) =>
        (await session.ReadAsync("SELECT status, count(*) FROM inference_tasks WHERE pool_id = $1 GROUP BY status",
            static r => ((InferenceTaskStatus)r.GetInt32(0), (int)r.GetInt64(1)), cancellationToken, pool.Value ?? string.Empty).ConfigureAwait(false))
        .ToDictionary(x => x.Item1, x => x.Item2);

    public async ValueTask<IReadOnlyList<TimeSpan>> GetRecentLatenciesAsync(PoolId pool, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        return await session.ReadAsync(
            Latencies,
            static r => TimeSpan.FromTicks(r.GetInt64(0)), cancellationToken, pool.Value ?? string.Empty, limit).ConfigureAwait(false);
    }

    public async ValueTask<IReadOnlyList<InferenceTask>> ListTasksAsync(PoolId pool, Address? account, DateTimeOffset? before, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        return await session.ReadAsync(
            $"SELECT {LedgerRows.TaskColumns} FROM inference_tasks WHERE pool_id = $1 AND ($2 = '' OR account = $2) AND created_at_ticks < $3 ORDER BY created_at_ticks DESC, id DESC LIMIT $4",
            static r => LedgerRows.ReadTask(r, RelationalDialect.ReadAmount), cancellationToken,
            pool.Value ?? string.Empty, account?.ToString() ?? string.Empty, before?.UtcTicks ?? long.MaxValue, limit).ConfigureAwait(false);
    }

    public async ValueTask<bool> TryInsertLeaseAsync(TaskLease lease, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(lease);
        ArgumentException.ThrowIfNullOrEmpty(lease.Id);
        return await session.WriteAsync(
            $"INSERT INTO task_leases ({LedgerRows.LeaseColumns}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 0) ON CONFLICT (id) DO NOTHING",
            cancellationToken, lease.Id, lease.TaskId, Required(lease.PoolId.Value), lease.Oracle.ToString(), (int)lease.State, lease.LeasedAt.UtcTicks, lease.ExpiresAt.UtcTicks,
            OrNull(lease.EndedAt), OrNull(lease.OutputHash), OrNull(lease.Output), OrNull(lease.Signature), OrNull(lease.Reason), lease.Dissent).ConfigureAwait(false) == 1;
    }

    public ValueTask<TaskLease?> GetLeaseAsync(string id, CancellationToken cancellationToken = default) =>
        id is null ? default : session.OneAsync(LeaseById, LedgerRows.ReadLease, cancellationToken, id);

    public async ValueTask UpdateLeaseAsync(TaskLease updated, long expectedVersion, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(updated);
        if (await session.WriteAsync(
            "UPDATE task_leases SET state = $3, ended_at_ticks = $4, output_hash = $5, output = $6, signature = $7, reason = $8, dissent = $9, expires_at_ticks = $10, version = version + 1 WHERE id = $1 AND version = $2",
            cancellationToken, updated.Id ?? string.Empty, expectedVersion, (int)updated.State, OrNull(updated.EndedAt), OrNull(updated.OutputHash), OrNull(updated.Output),
            OrNull(updated.Signature), OrNull(updated.Reason), updated.Dissent, updated.ExpiresAt.UtcTicks).ConfigureAwait(false) == 1)
        {
            return;
        }

        var current = await GetLeaseAsync(updated.Id ?? string.Empty, cancellationToken).ConfigureAwait(false);
        throw StoreErrors.UpdateRefused("Lease", updated.Id ?? string.Empty, expectedVersion, current?.Version);
    }

    public async ValueTask<IReadOnlyList<TaskLease>> ListTaskLeasesAsync(string taskId, CancellationToken cancellationToken = default) =>
        await session.ReadAsync($"SELECT {LedgerRows.LeaseColumns} FROM task_leases WHERE task_id = $1 ORDER BY leased_at_ticks, id", LedgerRows.ReadLease, cancellationToken,
            taskId ?? string.Empty).ConfigureAwait(false);

    public async ValueTask<IReadOnlyList<TaskLease>> GetExpiredLeasesAsync(DateTimeOffset now, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        return await session.ReadAsync(
            ExpiredLeases, LedgerRows.ReadLease,
            cancellationToken, now.UtcTicks, limit).ConfigureAwait(false);
    }

    public async ValueTask<IReadOnlyList<OracleTaskCounts>> CountOracleLeasesAsync(PoolId pool, CancellationToken cancellationToken = default) =>
        await session.ReadAsync(
            OracleCounts,
            static r => new OracleTaskCounts(Address.Parse(r.GetString(0)), (int)r.GetInt64(1), (int)r.GetInt64(2), (int)r.GetInt64(3), (int)r.GetInt64(4)),
            cancellationToken, pool.Value ?? string.Empty).ConfigureAwait(false);

    public async ValueTask SetOracleAsync(PoolOracle oracle, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(oracle);
        await session.WriteAsync(
            "INSERT INTO pool_oracles (pool_id, oracle, active, changed_at_ticks) VALUES ($1, $2, $3, $4) ON CONFLICT (pool_id, oracle) DO UPDATE SET active = excluded.active, changed_at_ticks = excluded.changed_at_ticks",
            cancellationToken, Required(oracle.PoolId.Value), oracle.Oracle.ToString(), oracle.Active, oracle.ChangedAt.UtcTicks).ConfigureAwait(false);
    }

    public ValueTask<PoolOracle?> GetOracleAsync(PoolId pool, Address oracle, CancellationToken cancellationToken = default) =>
        session.OneAsync($"SELECT {OracleColumns} FROM pool_oracles WHERE pool_id = $1 AND oracle = $2", ReadOracle, cancellationToken, pool.Value ?? string.Empty, oracle.ToString());

    public async ValueTask<IReadOnlyList<PoolOracle>> ListOraclesAsync(PoolId pool, CancellationToken cancellationToken = default) =>
        await session.ReadAsync($"SELECT {OracleColumns} FROM pool_oracles WHERE pool_id = $1 ORDER BY oracle", ReadOracle, cancellationToken, pool.Value ?? string.Empty)
            .ConfigureAwait(false);

    // The active flag is 0/1 in SQLite and a boolean in PostgreSQL.
    private static PoolOracle ReadOracle(System.Data.Common.DbDataReader reader) =>
        new(PoolId.Parse(reader.GetString(0)), Address.Parse(reader.GetString(1)), Convert.ToBoolean(reader.GetValue(2), System.Globalization.CultureInfo.InvariantCulture),
            new DateTimeOffset(reader.GetInt64(3), TimeSpan.Zero));
}
