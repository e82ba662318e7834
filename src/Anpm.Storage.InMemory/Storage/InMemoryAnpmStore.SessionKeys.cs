using Anpm.Abstractions;

namespace Anpm.Storage.InMemory;

public sealed partial class InMemoryAnpmStore
{
    // Session keys by id; the unrevoked one of each (account, delegate).
    private readonly Dictionary<string, SessionKey> _sessionKeys = new(StringComparer.Ordinal);
    private readonly Dictionary<(Address Account, Address Delegate), string> _activeSessionKeys = [];

    private sealed partial class UnitOfWork : ISessionKeyStore
    {
        public ValueTask<bool> TryInsertSessionKeyAsync(SessionKey key, CancellationToken cancellationToken = default)
        {
            CheckSessionKey(key);
            var store = Writable;
            var pair = (key.Account, key.Delegate);
            if (store._sessionKeys.ContainsKey(key.Id) || (key.RevokedAt is null && store._activeSessionKeys.ContainsKey(pair)))
            {
                return new(false);
            }

            store._sessionKeys.Add(key.Id, key with { Version = 0 });
            if (key.RevokedAt is null)
            {
                store._activeSessionKeys.Add(pair, key.Id);
            }

            store.Record(() =>
            {
                store._sessionKeys.Remove(key.Id);
                if (key.RevokedAt is null)
                {
                    store._activeSessionKeys.Remove(pair);
                }
            });
            return new(true);
        }

        public ValueTask<SessionKey?> GetSessionKeyAsync(string id, bool forUpdate = false, CancellationToken cancellationToken = default) =>
            new(id is null ? null : Store._sessionKeys.GetValueOrDefault(id));

        public ValueTask<SessionKey?> GetActiveSessionKeyAsync(Address account, Address @delegate, bool forUpdate = false, CancellationToken cancellationToken = default) =>
            new(Store._activeSessionKeys.TryGetValue((account, @delegate), out var id) ? Store._sessionKeys[id] : null);

        public ValueTask<IReadOnlyList<SessionKey>> ListSessionKeysAsync(Address account, Address? @delegate, int limit, CancellationToken cancellationToken = default)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(limit, 1000);
            IReadOnlyList<SessionKey> keys = Store._sessionKeys.Values
                .Where(k => k.Account == account && (@delegate is null || k.Delegate == @delegate))
                .OrderBy(k => k.RevokedAt is null ? 0 : 1).ThenByDescending(k => k.CreatedAt).ThenByDescending(k => k.Id, StringComparer.Ordinal)
                .Take(limit).ToList();
            return new(keys);
        }

        public ValueTask UpdateSessionKeyAsync(SessionKey updated, long expectedVersion, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(updated);
            var store = Writable;
            if (!store._sessionKeys.TryGetValue(updated.Id, out var current) || current.Version != expectedVersion)
            {
                throw StoreErrors.UpdateRefused("Session key", updated.Id, expectedVersion, current?.Version);
            }

            var next = current with { Spent = updated.Spent, RevokedAt = updated.RevokedAt, Version = current.Version + 1 };
            store._sessionKeys[current.Id] = next;
            var pair = (current.Account, current.Delegate);
            var deactivated = current.RevokedAt is null && next.RevokedAt is not null;
            if (deactivated)
            {
                store._activeSessionKeys.Remove(pair);
            }

            store.Record(() =>
            {
                store._sessionKeys[current.Id] = current;
                if (deactivated)
                {
                    store._activeSessionKeys[pair] = current.Id;
                }
            });
            return ValueTask.CompletedTask;
        }

        private static void CheckSessionKey(SessionKey key)
        {
            ArgumentNullException.ThrowIfNull(key);
            if (string.IsNullOrEmpty(key.Id) || key.Id.Length > SessionKey.MaxIdLength)
            {
                throw new ArgumentException($"A session key id is 1 to {SessionKey.MaxIdLength} characters.", nameof(key));
            }
        }
    }
}
