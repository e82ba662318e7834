using Anpm.Abstractions;

namespace Anpm.Storage.InMemory;

public sealed partial class InMemoryAnpmStore
{
    // Low-balance alerts by (account, pool).
    private readonly Dictionary<(Address Account, string Pool), BalanceAlert> _balanceAlerts = [];

    private sealed partial class UnitOfWork : IBalanceAlertStore
    {
        public ValueTask<BalanceAlert?> GetAlertAsync(Address account, PoolId pool, CancellationToken cancellationToken = default) =>
            new(pool.Value is null ? null : Store._balanceAlerts.GetValueOrDefault((account, pool.Value)));

        public ValueTask<IReadOnlyList<BalanceAlert>> ListAlertsAsync(Address account, CancellationToken cancellationToken = default) =>
            new((IReadOnlyList<BalanceAlert>)[.. Store._balanceAlerts.Values.Where(a => a.Account == account).OrderBy(a => a.PoolId.Value, StringComparer.Ordinal)]);

        public ValueTask<bool> TryInsertAlertAsync(BalanceAlert alert, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(alert);
            ArgumentNullException.ThrowIfNull(alert.PoolId.Value, nameof(alert));
            var store = Writable;
            var key = (alert.Account, alert.PoolId.Value);
            if (!store._balanceAlerts.TryAdd(key, alert with { Version = 0 }))
            {
                return new(false);
            }

            store.Record(() => store._balanceAlerts.Remove(key));
            return new(true);
        }

        public ValueTask UpdateAlertAsync(BalanceAlert updated, long expectedVersion, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(updated);
            var store = Writable;
            var key = (updated.Account, updated.PoolId.Value ?? string.Empty);
            if (!store._balanceAlerts.TryGetValue(key, out var current) || current.Version != expectedVersion)
            {
                throw StoreErrors.UpdateRefused("Balance alert", $"{updated.Account}/{updated.PoolId}", expectedVersion, current?.Version);
            }

            store._balanceAlerts[key] = current with { Threshold = updated.Threshold, Armed = updated.Armed, ChangedAt = updated.ChangedAt, Version = current.Version + 1 };
            store.Record(() => store._balanceAlerts[key] = current);
            return ValueTask.CompletedTask;
        }

        public ValueTask<bool> DeleteAlertAsync(Address account, PoolId pool, CancellationToken cancellationToken = default)
        {
            var store = Writable;
            var key = (account, pool.Value ?? string.Empty);
            if (!store._balanceAlerts.Remove(key, out var removed))
            {
                return new(false);
            }

            store.Record(() => store._balanceAlerts[key] = removed);
            return new(true);
        }
    }
}
