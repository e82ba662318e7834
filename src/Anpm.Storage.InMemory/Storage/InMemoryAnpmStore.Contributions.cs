using Anpm.Abstractions;

namespace Anpm.Storage.InMemory;

public sealed partial class InMemoryAnpmStore
{
    private readonly SortedDictionary<string, ContributionRecord> _contributions = new(StringComparer.Ordinal);

    private sealed partial class UnitOfWork : IContributionStore
    {
        public ValueTask<IReadOnlyDictionary<ContributionStatus, int>> CountPoolContributionsAsync(PoolId poolId, CancellationToken cancellationToken = default)
        {
            IReadOnlyDictionary<ContributionStatus, int> counts = Store._contributions.Values
                .Where(c => c.PoolId == poolId)
                .GroupBy(c => c.Status)
                .ToDictionary(g => g.Key, g => g.Count());
            return new(counts);
        }

        public ValueTask<bool> TryInsertContributionAsync(ContributionRecord contribution, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(contribution);
            var store = Writable;
            if (!store._pools.ContainsKey(Key(contribution.PoolId)))
            {
                throw new AnpmException($"Contribution '{contribution.Id}' names pool '{contribution.PoolId}', which does not exist.");
            }

            if (!store._contributions.TryAdd(RequiredKey(contribution.Id), contribution))
            {
                return new ValueTask<bool>(false);
            }

            store.Record(static (s, entry) => s._contributions.Remove(((ContributionRecord)entry.Previous!).Id.Value!), contribution);
            return new ValueTask<bool>(true);
        }

        public ValueTask<ContributionRecord?> GetContributionAsync(ContributionId id, CancellationToken cancellationToken = default) =>
            new(Store._contributions.GetValueOrDefault(Key(id)));

        public ValueTask UpdateContributionAsync(ContributionRecord updated, long expectedVersion, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(updated);
            var store = Writable;
            if (!store._contributions.TryGetValue(Key(updated.Id), out var current))
            {
                throw StoreErrors.UpdateRefused("Contribution", updated.Id, expectedVersion, null);
            }

            if (current.Version != expectedVersion)
            {
                throw StoreErrors.UpdateRefused("Contribution", updated.Id, expectedVersion, current.Version);
            }

            store.Record(static (s, entry) => s._contributions[((ContributionRecord)entry.Previous!).Id.Value!] = (ContributionRecord)entry.Previous!, current);
            store._contributions[updated.Id.Value!] = current with
            {
                Status = updated.Status,
                PayBefore = updated.PayBefore,
                Paidout = updated.Paidout,
                Version = current.Version + 1,
            };
            return ValueTask.CompletedTask;
        }

        public ValueTask<IReadOnlyList<ContributionRecord>> ListPoolContributionsAsync(PoolId poolId, ContributionId? after, int limit, CancellationToken cancellationToken = default) =>
            new(ContributionsWhere(c => c.PoolId == poolId, after, limit));

        public ValueTask<IReadOnlyList<ContributionRecord>> ListOwnerContributionsAsync(Address owner, ContributionId? after, int limit, CancellationToken cancellationToken = default) =>
            new(ContributionsWhere(c => c.Owner == owner, after, limit));

        // Contributions are kept in ordinal id order; a page starts after `after`.
        private List<ContributionRecord> ContributionsWhere(Func<ContributionRecord, bool> match, ContributionId? after, int limit)
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
            var start = after?.Value;
            return [.. Store._contributions
                .Where(pair => match(pair.Value) && (start is null || string.CompareOrdinal(pair.Key, start) > 0))
                .Take(limit)
                .Select(pair => pair.Value)];
        }

        public ValueTask<IReadOnlyList<ContributionRecord>> GetOverdueContributionsAsync(DateTimeOffset now, int limit, CancellationToken cancellationToken = default)
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
            IReadOnlyList<ContributionRecord> overdue = Store._contributions.Values
                .Where(c => c.Status == ContributionStatus.PendingPayment && c.PayBefore <= now)
                .OrderBy(c => c.PayBefore)
                .ThenBy(c => c.Id.Value, StringComparer.Ordinal)
                .Take(limit)
                .ToList();
            return new(overdue);
        }
    }
}
