using Anpm.Abstractions;
using Npgsql;
using NpgsqlTypes;

namespace Anpm.Storage.Postgres;

/// <summary>Inference tasks, leases and oracle allow-lists over PostgreSQL; a claim locks its task with <c>FOR UPDATE SKIP LOCKED</c>.</summary>
internal sealed partial class PostgresUnitOfWork
{
    private const string TaskById = $"SELECT {LedgerRows.TaskColumns} FROM inference_tasks WHERE id = $1";
    private const string LeaseById = $"SELECT {LedgerRows.LeaseColumns} FROM task_leases WHERE id = $1";

    public IInferenceStore Inference => this;

    public async ValueTask<bool> TryInsertTaskAsync(InferenceTask task, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(task);
        ArgumentException.ThrowIfNullOrEmpty(task.Id);
        return await WriteAsync(
            $"INSERT INTO inference_tasks ({LedgerRows.TaskColumns}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, 0) ON CONFLICT (id) DO NOTHING",
            cancellationToken,
            Text(task.Id), Text(Required(task.PoolId.Value)), Text(task.Account.ToString()), Text(task.Model), Text(task.ModelHash), Text(task.Input), Amount(task.Price),
            Int((int)task.Status), Int(task.Replication), Int(task.Quorum), Int(task.MaxAttempts), Int(task.OpenSlots), Int(task.FailedAttempts), Long(task.CreatedAt.UtcTicks),
            NullableLong(task.CompletedAt), NullableText(task.Output), NullableText(task.OutputHash), NullableText(task.FailureReason)).ConfigureAwait(false) == 1;
    }

    public async ValueTask<InferenceTask?> GetTaskAsync(string id, CancellationToken cancellationToken = default) =>
        id is null ? null : await OneAsync(TaskById, static r => LedgerRows.ReadTask(r, ReadAmount), cancellationToken, Text(id)).ConfigureAwait(false);

    public async ValueTask UpdateTaskAsync(InferenceTask updated, long expectedVersion, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(updated);
        if (await WriteAsync(
            "UPDATE inference_tasks SET status = $3, open_slots = $4, failed_attempts = $5, completed_at_ticks = $6, output = $7, output_hash = $8, failure_reason = $9, version = version + 1 WHERE id = $1 AND version = $2",
            cancellationToken,
            Text(updated.Id ?? string.Empty), Long(expectedVersion), Int((int)updated.Status), Int(updated.OpenSlots), Int(updated.FailedAttempts), NullableLong(updated.CompletedAt),
            NullableText(updated.Output), NullableText(updated.OutputHash), NullableText(updated.FailureReason)).ConfigureAwait(false) == 1)
        {
            return;
        }

        var current = await GetTaskAsync(updated.Id ?? string.Empty, cancellationToken).ConfigureAwait(false);
        throw StoreErrors.UpdateRefused("Task", updated.Id ?? string.Empty, expectedVersion, current?.Version);
    }

    public async ValueTask<InferenceTask?> ClaimNextTaskAsync(PoolId pool, Address oracle, CancellationToken cancellationToken = default) =>
        await OneAsync(
            $"SELECT {LedgerRows.TaskColumns} FROM inference_tasks t WHERE pool_id = $1 AND status = 1 AND NOT EXISTS (SELECT 1 FROM task_leases l WHERE l.task_id = t.id AND l.oracle = $2) ORDER BY created_at_ticks, id LIMIT 1 FOR UPDATE SKIP LOCKED",
            static r => LedgerRows.ReadTask(r, ReadAmount), cancellationToken, Text(pool.Value ?? string.Empty), Text(oracle.ToString())).ConfigureAwait(false);

    public async ValueTask<IReadOnlyList<InferenceTask>> GetOverdueTasksAsync(DateTimeOffset idleSince, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        await using var command = Command(Connection,
            $"SELECT {LedgerRows.TaskColumns} FROM inference_tasks t WHERE status = 1 AND created_at_ticks <= $1 AND NOT EXISTS (SELECT 1 FROM task_leases l WHERE l.task_id = t.id AND (l.state = 1 OR l.leased_at_ticks > $1 OR l.ended_at_ticks > $1)) ORDER BY created_at_ticks, id LIMIT $2", Long(idleSince.UtcTicks), Int(limit));
        return await ReadAsync(command, static r => LedgerRows.ReadTask(r, ReadAmount), cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask<IReadOnlyDictionary<InferenceTaskStatus, int>> CountTasksAsync(PoolId pool, CancellationToken cancellationToken = default)
    {
        await using var command = Command(Connection, "SELECT status, count(*)::integer FROM inference_tasks WHERE pool_id = $1 GROUP BY status", Text(pool.Value ?? string.Empty));
        var rows = await ReadAsync(command, static r => ((InferenceTaskStatus)r.GetInt32(0), r.GetInt32(1)), cancellationToken).ConfigureAwait(false);
        return rows.ToDictionary(x => x.Item1, x => x.Item2);
    }

    public async ValueTask<IReadOnlyList<TimeSpan>> GetRecentLatenciesAsync(PoolId pool, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        await using var command = Command(Connection,
            "SELECT completed_at_ticks - created_at_ticks FROM inference_tasks WHERE pool_id = $1 AND status = 3 ORDER BY completed_at_ticks DESC LIMIT $2",
            Text(pool.Value ?? string.Empty), Int(limit));
        return await ReadAsync(command, static r => TimeSpan.FromTicks(r.GetInt64(0)), cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask<IReadOnlyList<InferenceTask>> ListTasksAsync(PoolId pool, Address? account, DateTimeOffset? before, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        await using var command = Command(Connection,
            $"SELECT {LedgerRows.TaskColumns} FROM inference_tasks WHERE pool_id = $1 AND ($2 = '' OR account = $2) AND created_at_ticks < $3 ORDER BY created_at_ticks DESC, id DESC LIMIT $4",
            Text(pool.Value ?? string.Empty), Text(account?.ToString() ?? string.Empty), Long(before?.UtcTicks ?? long.MaxValue), Int(limit));
        return await ReadAsync(command, static r => LedgerRows.ReadTask(r, ReadAmount), cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask<bool> TryInsertLeaseAsync(TaskLease lease, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(lease);
        ArgumentException.ThrowIfNullOrEmpty(lease.Id);
        return await WriteAsync(
            $"INSERT INTO task_leases ({LedgerRows.LeaseColumns}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 0) ON CONFLICT (id) DO NOTHING",
            cancellationToken,
            Text(lease.Id), Text(lease.TaskId), Text(Required(lease.PoolId.Value)), Text(lease.Oracle.ToString()), Int((int)lease.State), Long(lease.LeasedAt.UtcTicks),
            Long(lease.ExpiresAt.UtcTicks), NullableLong(lease.EndedAt), NullableText(lease.OutputHash), NullableText(lease.Output), NullableText(lease.Signature),
            NullableText(lease.Reason), new NpgsqlParameter<bool> { TypedValue = lease.Dissent }).ConfigureAwait(false) == 1;
    }

    public async ValueTask<TaskLease?> GetLeaseAsync(string id, CancellationToken cancellationToken = default) =>
        id is null ? null : await OneAsync(LeaseById, LedgerRows.ReadLease, cancellationToken, Text(id)).ConfigureAwait(false);

    public async ValueTask UpdateLeaseAsync(TaskLease updated, long expectedVersion, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(updated);
        if (await WriteAsync(
            "UPDATE task_leases SET state = $3, ended_at_ticks = $4, output_hash = $5, output = $6, signature = $7, reason = $8, dissent = $9, expires_at_ticks = $10, version = version + 1 WHERE id = $1 AND version = $2",
            cancellationToken,
            Text(updated.Id ?? string.Empty), Long(expectedVersion), Int((int)updated.State), NullableLong(updated.EndedAt), NullableText(updated.OutputHash),
            NullableText(updated.Output), NullableText(updated.Signature), NullableText(updated.Reason), new NpgsqlParameter<bool> { TypedValue = updated.Dissent },
            Long(updated.ExpiresAt.UtcTicks)).ConfigureAwait(false) == 1)
        {
            return;
        }

        var current = await GetLeaseAsync(updated.Id ?? string.Empty, cancellationToken).ConfigureAwait(false);
        throw StoreErrors.UpdateRefused("Lease", updated.Id ?? string.Empty, expectedVersion, current?.Version);
    }

    public async ValueTask<IReadOnlyList<TaskLease>> ListTaskLeasesAsync(string taskId, CancellationToken cancellationToken = default)
    {
        await using var command = Command(Connection, $"SELECT {LedgerRows.LeaseColumns} FROM task_leases WHERE task_id = $1 ORDER BY leased_at_ticks, id", Text(taskId ?? string.Empty));
        return await ReadAsync(command, LedgerRows.ReadLease, cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask<IReadOnlyList<TaskLease>> GetExpiredLeasesAsync(DateTimeOffset now, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        await using var command = Command(Connection,
            $"SELECT {LedgerRows.LeaseColumns} FROM task_leases WHERE state = 1 AND expires_at_ticks <= $1 ORDER BY expires_at_ticks, id LIMIT $2", Long(now.UtcTicks), Int(limit));
        return await ReadAsync(command, LedgerRows.ReadLease, cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask<IReadOnlyList<OracleTaskCounts>> CountOracleLeasesAsync(PoolId pool, CancellationToken cancellationToken = default)
    {
        await using var command = Command(Connection,
            "SELECT oracle, count(*)::integer, count(*) FILTER (WHERE state = 2)::integer, count(*) FILTER (WHERE state IN (3, 4))::integer, count(*) FILTER (WHERE dissent)::integer FROM task_leases WHERE pool_id = $1 GROUP BY oracle ORDER BY oracle",
            Text(pool.Value ?? string.Empty));
        return await ReadAsync(command, static r => new OracleTaskCounts(Address.Parse(r.GetString(0)), r.GetInt32(1), r.GetInt32(2), r.GetInt32(3), r.GetInt32(4)), cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask SetOracleAsync(PoolOracle oracle, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(oracle);
        await WriteAsync(
            "INSERT INTO pool_oracles (pool_id, oracle, active, changed_at_ticks) VALUES ($1, $2, $3, $4) ON CONFLICT (pool_id, oracle) DO UPDATE SET active = excluded.active, changed_at_ticks = excluded.changed_at_ticks",
            cancellationToken, Text(Required(oracle.PoolId.Value)), Text(oracle.Oracle.ToString()), new NpgsqlParameter<bool> { TypedValue = oracle.Active }, Long(oracle.ChangedAt.UtcTicks)).ConfigureAwait(false);
    }

    public async ValueTask<PoolOracle?> GetOracleAsync(PoolId pool, Address oracle, CancellationToken cancellationToken = default) =>
        await OneAsync("SELECT pool_id, oracle, active, changed_at_ticks FROM pool_oracles WHERE pool_id = $1 AND oracle = $2", ReadOracle, cancellationToken,
            Text(pool.Value ?? string.Empty), Text(oracle.ToString())).ConfigureAwait(false);

    public async ValueTask<IReadOnlyList<PoolOracle>> ListOraclesAsync(PoolId pool, CancellationToken cancellationToken = default)
    {
        await using var command = Command(Connection, "SELECT pool_id, oracle, active, changed_at_ticks FROM pool_oracles WHERE pool_id = $1 ORDER BY oracle", Text(pool.Value ?? string.Empty));
        return await ReadAsync(command, ReadOracle, cancellationToken).ConfigureAwait(false);
    }

    private static PoolOracle ReadOracle(NpgsqlDataReader reader) =>
        new(PoolId.Parse(reader.GetString(0)), Address.Parse(reader.GetString(1)), reader.GetBoolean(2), new DateTimeOffset(reader.GetInt64(3), TimeSpan.Zero));

    private static NpgsqlParameter NullableText(string? value) => new NpgsqlParameter<string?> { TypedValue = value, NpgsqlDbType = NpgsqlDbType.Text };

    private static NpgsqlParameter NullableLong(DateTimeOffset? value) => new NpgsqlParameter<long?> { TypedValue = value?.UtcTicks, NpgsqlDbType = NpgsqlDbType.Bigint };
}
