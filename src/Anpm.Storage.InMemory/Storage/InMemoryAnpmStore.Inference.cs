using Anpm.Abstractions;

namespace Anpm.Storage.InMemory;

public sealed partial class InMemoryAnpmStore
{
    private readonly Dictionary<string, InferenceTask> _tasks = new(StringComparer.Ordinal);
    private readonly Dictionary<string, TaskLease> _leases = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<string>> _taskLeases = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Pool, Address Oracle), PoolOracle> _oracles = [];

    private sealed partial class UnitOfWork : IInferenceStore
    {
        public ValueTask<bool> TryInsertTaskAsync(InferenceTask task, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(task);
            ArgumentException.ThrowIfNullOrEmpty(task.Id);
            var store = Writable;
            if (!store._tasks.TryAdd(task.Id, task with { Version = 0 }))
            {
                return new(false);
            }

            store.Record(() => store._tasks.Remove(task.Id));
            return new(true);
        }

        public ValueTask<InferenceTask?> GetTaskAsync(string id, CancellationToken cancellationToken = default) =>
            new(id is null ? null : Store._tasks.GetValueOrDefault(id));

        public ValueTask UpdateTaskAsync(InferenceTask updated, long expectedVersion, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(updated);
            var store = Writable;
            var current = updated.Id is null ? null : store._tasks.GetValueOrDefault(updated.Id);
            if (current is null || current.Version != expectedVersion)
            {
                throw StoreErrors.UpdateRefused("Task", updated.Id ?? string.Empty, expectedVersion, current?.Version);
            }

            store._tasks[current.Id] = current with
            {
                Status = updated.Status,
                OpenSlots = updated.OpenSlots,
                FailedAttempts = updated.FailedAttempts,
                CompletedAt = updated.CompletedAt,
                Output = updated.Output,
                OutputHash = updated.OutputHash,
                FailureReason = updated.FailureReason,
                Version = expectedVersion + 1,
            };
            store.Record(() => store._tasks[current.Id] = current);
            return ValueTask.CompletedTask;
        }

        public ValueTask<InferenceTask?> ClaimNextTaskAsync(PoolId pool, Address oracle, CancellationToken cancellationToken = default)
        {
            var store = Store;
            var found = store._tasks.Values
                .Where(t => t.PoolId == pool && t.Status == InferenceTaskStatus.Pending
                    && !(store._taskLeases.GetValueOrDefault(t.Id) ?? []).Any(id => store._leases[id].Oracle == oracle))
                .OrderBy(t => t.CreatedAt)
                .ThenBy(t => t.Id, StringComparer.Ordinal)
                .FirstOrDefault();
            return new(found);
        }

        public ValueTask<IReadOnlyList<InferenceTask>> GetOverdueTasksAsync(DateTimeOffset idleSince, int limit, CancellationToken cancellationToken = default)
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
            var store = Store;
            IReadOnlyList<InferenceTask> tasks = store._tasks.Values
                .Where(t => t.Status == InferenceTaskStatus.Pending && t.CreatedAt <= idleSince
                    && !(store._taskLeases.GetValueOrDefault(t.Id) ?? []).Select(id => store._leases[id])
                        .Any(l => l.State == TaskLeaseState.Active || l.LeasedAt > idleSince || l.EndedAt > idleSince))
                .OrderBy(t => t.CreatedAt).ThenBy(t => t.Id, StringComparer.Ordinal)
                .Take(limit)
                .ToList();
            return new(tasks);
        }

        public ValueTask<IReadOnlyDictionary<InferenceTaskStatus, int>> CountTasksAsync(PoolId pool, CancellationToken cancellationToken = default)
        {
            IReadOnlyDictionary<InferenceTaskStatus, int> counts = Store._tasks.Values.Where(t => t.PoolId == pool).GroupBy(t => t.Status).ToDictionary(g => g.Key, g => g.Count());
            return new(counts);
        }

        public ValueTask<IReadOnlyList<TimeSpan>> GetRecentLatenciesAsync(PoolId pool, int limit, CancellationToken cancellationToken = default)
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
            IReadOnlyList<TimeSpan> latencies = Store._tasks.Values
                .Where(t => t.PoolId == pool && t.Status == InferenceTaskStatus.Done)
                .OrderByDescending(t => t.CompletedAt)
                .Take(limit)
                .Select(t => t.CompletedAt!.Value - t.CreatedAt)
                .ToList();
            return new(latencies);
        }

        public ValueTask<IReadOnlyList<InferenceTask>> ListTasksAsync(PoolId pool, Address? account, DateTimeOffset? before, int limit, CancellationToken cancellationToken = default)
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
            IReadOnlyList<InferenceTask> tasks = Store._tasks.Values
                .Where(t => t.PoolId == pool && (account is null || t.Account == account) && (before is null || t.CreatedAt < before))
                .OrderByDescending(t => t.CreatedAt)
                .ThenByDescending(t => t.Id, StringComparer.Ordinal)
                .Take(limit)
                .ToList();
            return new(tasks);
        }

        public ValueTask<bool> TryInsertLeaseAsync(TaskLease lease, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(lease);
            ArgumentException.ThrowIfNullOrEmpty(lease.Id);
            var store = Writable;
            if (!store._tasks.ContainsKey(lease.TaskId))
            {
                throw new AnpmException($"Lease '{lease.Id}' names task '{lease.TaskId}', which does not exist.");
            }

            if (!store._leases.TryAdd(lease.Id, lease with { Version = 0 }))
            {
                return new(false);
            }

            if (!store._taskLeases.TryGetValue(lease.TaskId, out var ids))
            {
                ids = [];
                store._taskLeases[lease.TaskId] = ids;
            }

            ids.Add(lease.Id);
            store.Record(() =>
            {
                store._leases.Remove(lease.Id);
                ids.Remove(lease.Id);
            });
            return new(true);
        }

        public ValueTask<TaskLease?> GetLeaseAsync(string id, CancellationToken cancellationToken = default) =>
            new(id is null ? null : Store._leases.GetValueOrDefault(id));

        public ValueTask UpdateLeaseAsync(TaskLease updated, long expectedVersion, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(updated);
            var store = Writable;
            var current = updated.Id is null ? null : store._leases.GetValueOrDefault(updated.Id);
            if (current is null || current.Version != expectedVersion)
            {
                throw StoreErrors.UpdateRefused("Lease", updated.Id ?? string.Empty, expectedVersion, current?.Version);
            }

            store._leases[current.Id] = current with
            {
                State = updated.State,
                EndedAt = updated.EndedAt,
                OutputHash = updated.OutputHash,
                Output = updated.Output,
                Signature = updated.Signature,
                Reason = updated.Reason,
                Dissent = updated.Dissent,
                ExpiresAt = updated.ExpiresAt,
                Version = expectedVersion + 1,
            };
            store.Record(() => store._leases[current.Id] = current);
            return ValueTask.CompletedTask;
        }

        public ValueTask<IReadOnlyList<TaskLease>> ListTaskLeasesAsync(string taskId, CancellationToken cancellationToken = default)
        {
            IReadOnlyList<TaskLease> leases = (taskId is null ? null : Store._taskLeases.GetValueOrDefault(taskId))?.Select(id => Store._leases[id])
                .OrderBy(l => l.LeasedAt).ThenBy(l => l.Id, StringComparer.Ordinal).ToList() ?? [];
            return new(leases);
        }

        public ValueTask<IReadOnlyList<TaskLease>> GetExpiredLeasesAsync(DateTimeOffset now, int limit, CancellationToken cancellationToken = default)
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
            IReadOnlyList<TaskLease> expired = Store._leases.Values
                .Where(l => l.State == TaskLeaseState.Active && l.ExpiresAt <= now)
                .OrderBy(l => l.ExpiresAt).ThenBy(l => l.Id, StringComparer.Ordinal)
                .Take(limit)
                .ToList();
            return new(expired);
        }

        public ValueTask<IReadOnlyList<OracleTaskCounts>> CountOracleLeasesAsync(PoolId pool, CancellationToken cancellationToken = default)
        {
            IReadOnlyList<OracleTaskCounts> counts = Store._leases.Values
                .Where(l => l.PoolId == pool)
                .GroupBy(l => l.Oracle)
                .Select(g => new OracleTaskCounts(g.Key, g.Count(), g.Count(l => l.State == TaskLeaseState.Resulted),
                    g.Count(l => l.State is TaskLeaseState.Failed or TaskLeaseState.Expired), g.Count(l => l.Dissent)))
                .OrderBy(c => c.Oracle.ToString(), StringComparer.Ordinal)
                .ToList();
            return new(counts);
        }

        public ValueTask SetOracleAsync(PoolOracle oracle, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(oracle);
            var store = Writable;
            var key = (RequiredKey(oracle.PoolId), oracle.Oracle);
            var had = store._oracles.TryGetValue(key, out var previous);
            store._oracles[key] = oracle;
            store.Record(() =>
            {
                if (had)
                {
                    store._oracles[key] = previous!;
                }
                else
                {
                    store._oracles.Remove(key);
                }
            });
            return ValueTask.CompletedTask;
        }

        public ValueTask<PoolOracle?> GetOracleAsync(PoolId pool, Address oracle, CancellationToken cancellationToken = default) =>
            new(Store._oracles.GetValueOrDefault((Key(pool), oracle)));

        public ValueTask<IReadOnlyList<PoolOracle>> ListOraclesAsync(PoolId pool, CancellationToken cancellationToken = default)
        {
            IReadOnlyList<PoolOracle> oracles = Store._oracles.Values.Where(o => o.PoolId == pool).OrderBy(o => o.Oracle.ToString(), StringComparer.Ordinal).ToList();
            return new(oracles);
        }
    }
}
