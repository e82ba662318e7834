using Anpm.Abstractions;

namespace Anpm.Storage.Sqlite;

/// <summary>Inference tasks, leases and oracle allow-lists over SQLite (one writer at a time, so a claim's read is already exclusive).</summary>
internal sealed partial class SqliteUnitOfWork
{
    private const string TaskById = $"SELECT {LedgerRows.TaskColumns} FROM inference_tasks WHERE id = $1";
    private const string LeaseById = $"SELECT {LedgerRows.LeaseColumns} FROM task_leases WHERE id = $1";

    public IInferenceStore Inference => this;

    public ValueTask<bool> TryInsertTaskAsync(InferenceTask task, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(task);
        ArgumentException.ThrowIfNullOrEmpty(task.Id);
        return new(Write(
            $"INSERT INTO inference_tasks ({LedgerRows.TaskColumns}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, 0) ON CONFLICT (id) DO NOTHING",
            task.Id, Required(task.PoolId.Value), task.Account.ToString(), task.Model, task.ModelHash, task.Input, SqliteStatements.Amount(task.Price), (int)task.Status,
            task.Replication, task.Quorum, task.MaxAttempts, task.OpenSlots, task.FailedAttempts, task.CreatedAt.UtcTicks, Nullable(task.CompletedAt),
            (object?)task.Output ?? DBNull.Value, (object?)task.OutputHash ?? DBNull.Value, (object?)task.FailureReason ?? DBNull.Value) == 1);
    }

    public ValueTask<InferenceTask?> GetTaskAsync(string id, CancellationToken cancellationToken = default) =>
        new(id is null ? null : One(TaskById, static r => LedgerRows.ReadTask(r, Amount39), id));

    public ValueTask UpdateTaskAsync(InferenceTask updated, long expectedVersion, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(updated);
        if (Write(
            "UPDATE inference_tasks SET status = $3, open_slots = $4, failed_attempts = $5, completed_at_ticks = $6, output = $7, output_hash = $8, failure_reason = $9, version = version + 1 WHERE id = $1 AND version = $2",
            updated.Id ?? string.Empty, expectedVersion, (int)updated.Status, updated.OpenSlots, updated.FailedAttempts, Nullable(updated.CompletedAt),
            (object?)updated.Output ?? DBNull.Value, (object?)updated.OutputHash ?? DBNull.Value, (object?)updated.FailureReason ?? DBNull.Value) == 1)
        {
            return ValueTask.CompletedTask;
        }

        var current = One(TaskById, static r => LedgerRows.ReadTask(r, Amount39), updated.Id ?? string.Empty);
        throw StoreErrors.UpdateRefused("Task", updated.Id ?? string.Empty, expectedVersion, current?.Version);
    }

    public ValueTask<InferenceTask?> ClaimNextTaskAsync(PoolId pool, Address oracle, CancellationToken cancellationToken = default) =>
        new(One(
            $"SELECT {LedgerRows.TaskColumns} FROM inference_tasks t WHERE pool_id = $1 AND status = 1 AND NOT EXISTS (SELECT 1 FROM task_leases l WHERE l.task_id = t.id AND l.oracle = $2) ORDER BY created_at_ticks, id LIMIT 1",
            static r => LedgerRows.ReadTask(r, Amount39), pool.Value ?? string.Empty, oracle.ToString()));

    public ValueTask<IReadOnlyList<InferenceTask>> GetOverdueTasksAsync(DateTimeOffset idleSince, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        IReadOnlyList<InferenceTask> tasks = Many(
            $"SELECT {LedgerRows.TaskColumns} FROM inference_tasks t WHERE status = 1 AND created_at_ticks <= $1 AND NOT EXISTS (SELECT 1 FROM task_leases l WHERE l.task_id = t.id AND (l.state = 1 OR l.leased_at_ticks > $1 OR l.ended_at_ticks > $1)) ORDER BY created_at_ticks, id LIMIT $2",
            static r => LedgerRows.ReadTask(r, Amount39), idleSince.UtcTicks, limit);
        return new(tasks);
    }

    public ValueTask<IReadOnlyDictionary<InferenceTaskStatus, int>> CountTasksAsync(PoolId pool, CancellationToken cancellationToken = default)
    {
        IReadOnlyDictionary<InferenceTaskStatus, int> counts = Many("SELECT status, count(*) FROM inference_tasks WHERE pool_id = $1 GROUP BY status",
            static r => ((InferenceTaskStatus)r.GetInt32(0), r.GetInt32(1)), pool.Value ?? string.Empty).ToDictionary(x => x.Item1, x => x.Item2);
        return new(counts);
    }

    public ValueTask<IReadOnlyList<TimeSpan>> GetRecentLatenciesAsync(PoolId pool, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        IReadOnlyList<TimeSpan> latencies = Many(
            "SELECT completed_at_ticks - created_at_ticks FROM inference_tasks WHERE pool_id = $1 AND status = 3 ORDER BY completed_at_ticks DESC LIMIT $2",
            static r => TimeSpan.FromTicks(r.GetInt64(0)), pool.Value ?? string.Empty, limit);
        return new(latencies);
    }

    public ValueTask<IReadOnlyList<InferenceTask>> ListTasksAsync(PoolId pool, Address? account, DateTimeOffset? before, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        IReadOnlyList<InferenceTask> tasks = Many(
            $"SELECT {LedgerRows.TaskColumns} FROM inference_tasks WHERE pool_id = $1 AND ($2 = '' OR account = $2) AND created_at_ticks < $3 ORDER BY created_at_ticks DESC, id DESC LIMIT $4",
            static r => LedgerRows.ReadTask(r, Amount39), pool.Value ?? string.Empty, account?.ToString() ?? string.Empty, before?.UtcTicks ?? long.MaxValue, limit);
        return new(tasks);
    }

    public ValueTask<bool> TryInsertLeaseAsync(TaskLease lease, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(lease);
        ArgumentException.ThrowIfNullOrEmpty(lease.Id);
        return new(Write(
            $"INSERT INTO task_leases ({LedgerRows.LeaseColumns}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 0) ON CONFLICT (id) DO NOTHING",
            lease.Id, lease.TaskId, Required(lease.PoolId.Value), lease.Oracle.ToString(), (int)lease.State, lease.LeasedAt.UtcTicks, lease.ExpiresAt.UtcTicks,
            Nullable(lease.EndedAt), (object?)lease.OutputHash ?? DBNull.Value, (object?)lease.Output ?? DBNull.Value, (object?)lease.Signature ?? DBNull.Value,
            (object?)lease.Reason ?? DBNull.Value, lease.Dissent ? 1 : 0) == 1);
    }

    public ValueTask<TaskLease?> GetLeaseAsync(string id, CancellationToken cancellationToken = default) =>
        new(id is null ? null : One(LeaseById, LedgerRows.ReadLease, id));

    public ValueTask UpdateLeaseAsync(TaskLease updated, long expectedVersion, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(updated);
        if (Write(
            "UPDATE task_leases SET state = $3, ended_at_ticks = $4, output_hash = $5, output = $6, signature = $7, reason = $8, dissent = $9, expires_at_ticks = $10, version = version + 1 WHERE id = $1 AND version = $2",
            updated.Id ?? string.Empty, expectedVersion, (int)updated.State, Nullable(updated.EndedAt), (object?)updated.OutputHash ?? DBNull.Value,
            (object?)updated.Output ?? DBNull.Value, (object?)updated.Signature ?? DBNull.Value, (object?)updated.Reason ?? DBNull.Value, updated.Dissent ? 1 : 0,
            updated.ExpiresAt.UtcTicks) == 1)
        {
            return ValueTask.CompletedTask;
        }

        var current = One(LeaseById, LedgerRows.ReadLease, updated.Id ?? string.Empty);
        throw StoreErrors.UpdateRefused("Lease", updated.Id ?? string.Empty, expectedVersion, current?.Version);
    }

    public ValueTask<IReadOnlyList<TaskLease>> ListTaskLeasesAsync(string taskId, CancellationToken cancellationToken = default)
    {
        IReadOnlyList<TaskLease> leases = Many($"SELECT {LedgerRows.LeaseColumns} FROM task_leases WHERE task_id = $1 ORDER BY leased_at_ticks, id", LedgerRows.ReadLease, taskId ?? string.Empty);
        return new(leases);
    }

    public ValueTask<IReadOnlyList<TaskLease>> GetExpiredLeasesAsync(DateTimeOffset now, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        IReadOnlyList<TaskLease> leases = Many(
            $"SELECT {LedgerRows.LeaseColumns} FROM task_leases WHERE state = 1 AND expires_at_ticks <= $1 ORDER BY expires_at_ticks, id LIMIT $2", LedgerRows.ReadLease, now.UtcTicks, limit);
        return new(leases);
    }

    public ValueTask<IReadOnlyList<OracleTaskCounts>> CountOracleLeasesAsync(PoolId pool, CancellationToken cancellationToken = default)
    {
        IReadOnlyList<OracleTaskCounts> counts = Many(
            "SELECT oracle, count(*), sum(state = 2), sum(state IN (3, 4)), sum(dissent) FROM task_leases WHERE pool_id = $1 GROUP BY oracle ORDER BY oracle",
            static r => new OracleTaskCounts(Address.Parse(r.GetString(0)), r.GetInt32(1), r.GetInt32(2), r.GetInt32(3), r.GetInt32(4)), pool.Value ?? string.Empty);
        return new(counts);
    }

    public ValueTask SetOracleAsync(PoolOracle oracle, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(oracle);
        Write("INSERT INTO pool_oracles (pool_id, oracle, active, changed_at_ticks) VALUES ($1, $2, $3, $4) ON CONFLICT (pool_id, oracle) DO UPDATE SET active = excluded.active, changed_at_ticks = excluded.changed_at_ticks",
            Required(oracle.PoolId.Value), oracle.Oracle.ToString(), oracle.Active ? 1 : 0, oracle.ChangedAt.UtcTicks);
        return ValueTask.CompletedTask;
    }

    public ValueTask<PoolOracle?> GetOracleAsync(PoolId pool, Address oracle, CancellationToken cancellationToken = default) =>
        new(One("SELECT pool_id, oracle, active, changed_at_ticks FROM pool_oracles WHERE pool_id = $1 AND oracle = $2", ReadOracle, pool.Value ?? string.Empty, oracle.ToString()));

    public ValueTask<IReadOnlyList<PoolOracle>> ListOraclesAsync(PoolId pool, CancellationToken cancellationToken = default)
    {
        IReadOnlyList<PoolOracle> oracles = Many("SELECT pool_id, oracle, active, changed_at_ticks FROM pool_oracles WHERE pool_id = $1 ORDER BY oracle", ReadOracle, pool.Value ?? string.Empty);
        return new(oracles);
    }

    private static PoolOracle ReadOracle(Microsoft.Data.Sqlite.SqliteDataReader reader) =>
        new(PoolId.Parse(reader.GetString(0)), Address.Parse(reader.GetString(1)), reader.GetInt64(2) != 0, new DateTimeOffset(reader.GetInt64(3), TimeSpan.Zero));

    private static object Nullable(DateTimeOffset? time) => time is { } value ? value.UtcTicks : DBNull.Value;
}
