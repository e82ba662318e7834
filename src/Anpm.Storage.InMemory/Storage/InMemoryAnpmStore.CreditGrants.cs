using Anpm.Abstractions;

namespace Anpm.Storage.InMemory;

public sealed partial class InMemoryAnpmStore
{
    // Credit grants by id; what each hold took, by reference and grant.
    private readonly Dictionary<string, CreditGrant> _creditGrants = new(StringComparer.Ordinal);
    private readonly Dictionary<string, SortedList<string, CreditGrantHold>> _creditGrantHolds = new(StringComparer.Ordinal);

    private sealed partial class UnitOfWork : ICreditGrantStore
    {
        public ValueTask<bool> TryInsertGrantAsync(CreditGrant grant, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(grant);
            if (string.IsNullOrEmpty(grant.Id) || grant.Id.Length > CreditGrant.MaxIdLength)
            {
                throw new ArgumentException($"A grant id is 1 to {CreditGrant.MaxIdLength} characters.", nameof(grant));
            }

            var store = Writable;
            if (!store._creditGrants.TryAdd(grant.Id, grant with { Version = 0 }))
            {
                return new(false);
            }

            store.Record(() => store._creditGrants.Remove(grant.Id));
            return new(true);
        }

        public ValueTask<CreditGrant?> GetGrantAsync(string id, CancellationToken cancellationToken = default) =>
            new(id is null ? null : Store._creditGrants.GetValueOrDefault(id));

        public ValueTask<IReadOnlyList<CreditGrant>> ListGrantsAsync(Address account, CancellationToken cancellationToken = default) =>
            new((IReadOnlyList<CreditGrant>)[.. Store._creditGrants.Values.Where(g => g.Account == account).OrderBy(g => g.CreatedAt).ThenBy(g => g.Id, StringComparer.Ordinal)]);

        public ValueTask UpdateGrantAsync(CreditGrant updated, long expectedVersion, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(updated);
            var store = Writable;
            if (!store._creditGrants.TryGetValue(updated.Id, out var current) || current.Version != expectedVersion)
            {
                throw StoreErrors.UpdateRefused("Credit grant", updated.Id, expectedVersion, current?.Version);
            }

            store._creditGrants[current.Id] = current with
            {
                Amount = updated.Amount, Remaining = updated.Remaining, Held = updated.Held, Expired = updated.Expired, Version = current.Version + 1,
            };
            store.Record(() => store._creditGrants[current.Id] = current);
            return ValueTask.CompletedTask;
        }

        public ValueTask<IReadOnlyList<CreditGrant>> GetExpiredGrantsAsync(DateTimeOffset now, int limit, CancellationToken cancellationToken = default)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(limit, 10_000);
            return new((IReadOnlyList<CreditGrant>)[.. Store._creditGrants.Values.Where(g => g.ExpiresAt <= now && !g.Remaining.IsZero)
                .OrderBy(g => g.ExpiresAt).ThenBy(g => g.Id, StringComparer.Ordinal).Take(limit)]);
        }

        public ValueTask<bool> TryInsertHoldAsync(CreditGrantHold hold, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(hold);
            ArgumentException.ThrowIfNullOrEmpty(hold.Reference);
            var store = Writable;
            if (!store._creditGrantHolds.TryGetValue(hold.Reference, out var holds))
            {
                holds = new SortedList<string, CreditGrantHold>(StringComparer.Ordinal);
                store._creditGrantHolds[hold.Reference] = holds;
            }

            if (!holds.TryAdd(hold.GrantId, hold))
            {
                return new(false);
            }

            store.Record(() => holds.Remove(hold.GrantId));
            return new(true);
        }

        public ValueTask<IReadOnlyList<CreditGrantHold>> ListHoldsAsync(string reference, CancellationToken cancellationToken = default) =>
            new(reference is not null && Store._creditGrantHolds.TryGetValue(reference, out var holds) ? [.. holds.Values] : (IReadOnlyList<CreditGrantHold>)[]);

        public ValueTask<int> DeleteHoldsAsync(string reference, CancellationToken cancellationToken = default)
        {
            var store = Writable;
            if (reference is null || !store._creditGrantHolds.Remove(reference, out var holds))
            {
                return new(0);
            }

            store.Record(() => store._creditGrantHolds[reference] = holds);
            return new(holds.Count);
        }
    }
}
