using Anpm.Abstractions;

namespace Anpm.Storage.InMemory;

public sealed partial class InMemoryAnpmStore
{
    private readonly SortedDictionary<string, PoolRecord> _pools = new(StringComparer.Ordinal);

    private sealed partial class UnitOfWork : IPoolStore
    {
        public ValueTask<bool> TryInsertPoolAsync(PoolRecord pool, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(pool);
            var store = Writable;
            if (!store._pools.TryAdd(RequiredKey(pool.Id), pool))
            {
                return new ValueTask<bool>(false);
            }

            store.Record(static (s, entry) => s._pools.Remove(((PoolRecord)entry.Previous!).Id.Value!), pool);
            return new ValueTask<bool>(true);
        }

        public ValueTask<PoolRecord?> GetPoolAsync(PoolId id, CancellationToken cancellationToken = default) =>
            new(Store._pools.GetValueOrDefault(Key(id)));

        public ValueTask UpdatePoolStatusAsync(PoolId id, long expectedVersion, PoolStatus status, DateTimeOffset changedAt, CancellationToken cancellationToken = default)
        {
            var store = Writable;
            if (!store._pools.TryGetValue(Key(id), out var pool))
            {
                throw StoreErrors.UpdateRefused("Pool", id, expectedVersion, null);
            }

            if (pool.Version != expectedVersion)
            {
                throw StoreErrors.UpdateRefused("Pool", id, expectedVersion, pool.Version);
            }

            store.Record(static (s, entry) => s._pools[((PoolRecord)entry.Previous!).Id.Value!] = (PoolRecord)entry.Previous!, pool);
            store._pools[id.Value!] = pool with { Status = status, StatusChangedAt = changedAt, Version = pool.Version + 1 };
            return ValueTask.CompletedTask;
        }

        public ValueTask<IReadOnlyList<PoolRecord>> ListPoolsAsync(PoolId? after, int limit, CancellationToken cancellationToken = default)
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
            var start = after?.Value;
            IReadOnlyList<PoolRecord> pools = Store._pools
                .Where(pair => start is null || string.CompareOrdinal(pair.Key, start) > 0)
                .Take(limit)
                .Select(pair => pair.Value)
                .ToList();
            return new(pools);
        }
    }
}
