using Anpm.Abstractions;

namespace Anpm.Storage.InMemory;

public sealed partial class InMemoryAnpmStore
{
    private readonly Dictionary<string, PoolStakingState> _poolStaking = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Pool, int Day), TokenAmount> _schedule = [];
    private readonly Dictionary<(string Pool, int Day), StakeEpoch> _epochs = [];
    private readonly Dictionary<(string Pool, Address Staker), List<StakeLot>> _lots = [];
    private readonly Dictionary<(string Pool, Address Staker), StakerState> _stakers = [];

    private sealed partial class UnitOfWork : IStakingStore
    {
        public ValueTask<PoolStakingState?> GetPoolStakingAsync(PoolId pool, CancellationToken cancellationToken = default) =>
            new(Store._poolStaking.GetValueOrDefault(Key(pool)));

        public ValueTask<bool> TryInsertPoolStakingAsync(PoolStakingState state, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(state);
            var store = Writable;
            var key = RequiredKey(state.PoolId);
            if (!store._pools.ContainsKey(key))
            {
                throw new AnpmException($"Staking state names pool '{state.PoolId}', which does not exist.");
            }

            if (!store._poolStaking.TryAdd(key, state with { Version = 0 }))
            {
                return new(false);
            }

            store.Record(() => store._poolStaking.Remove(key));
            return new(true);
        }

        public ValueTask UpdatePoolStakingAsync(PoolStakingState updated, long expectedVersion, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(updated);
            var store = Writable;
            var key = Key(updated.PoolId);
            var current = store._poolStaking.GetValueOrDefault(key);
            if (current is null || current.Version != expectedVersion)
            {
                throw StoreErrors.UpdateRefused("Staking state of pool", updated.PoolId, expectedVersion, current?.Version);
            }

            store._poolStaking[key] = updated with { Version = expectedVersion + 1 };
            store.Record(() => store._poolStaking[key] = current);
            return ValueTask.CompletedTask;
        }

        public ValueTask<TokenAmount> GetScheduledEligibilityAsync(PoolId pool, int day, CancellationToken cancellationToken = default) =>
            new(Store._schedule.GetValueOrDefault((Key(pool), day)));

        public ValueTask SetScheduledEligibilityAsync(PoolId pool, int day, TokenAmount amount, CancellationToken cancellationToken = default)
        {
            var store = Writable;
            var key = (RequiredKey(pool), day);
            var had = store._schedule.TryGetValue(key, out var previous);
            if (amount.IsZero)
            {
                store._schedule.Remove(key);
            }
            else
            {
                store._schedule[key] = amount;
            }

            store.Record(() =>
            {
                if (had)
                {
                    store._schedule[key] = previous;
                }
                else
                {
                    store._schedule.Remove(key);
                }
            });
            return ValueTask.CompletedTask;
        }

        public ValueTask<bool> TryInsertEpochAsync(StakeEpoch epoch, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(epoch);
            var store = Writable;
            var key = (RequiredKey(epoch.PoolId), epoch.Day);
            if (!store._epochs.TryAdd(key, epoch))
            {
                return new(false);
            }

            store.Record(() => store._epochs.Remove(key));
            return new(true);
        }

        public ValueTask<StakeEpoch?> GetEpochAsync(PoolId pool, int day, CancellationToken cancellationToken = default) =>
            new(Store._epochs.GetValueOrDefault((Key(pool), day)));

        public ValueTask<IReadOnlyList<StakeEpoch>> ListEpochsAsync(PoolId pool, int? beforeDay, int limit, CancellationToken cancellationToken = default)
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
            IReadOnlyList<StakeEpoch> page = Store._epochs.Values
                .Where(e => e.PoolId == pool && (beforeDay is null || e.Day < beforeDay))
                .OrderByDescending(e => e.Day)
                .Take(limit)
                .ToList();
            return new(page);
        }

        public ValueTask<bool> TryInsertLotAsync(StakeLot lot, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(lot);
            ArgumentException.ThrowIfNullOrEmpty(lot.Id);
            var store = Writable;
            var key = (RequiredKey(lot.PoolId), lot.Staker);
            if (!store._lots.TryGetValue(key, out var lots))
            {
                lots = [];
                store._lots[key] = lots;
            }

            if (lots.Any(l => l.Id == lot.Id))
            {
                return new(false);
            }

            var stored = lot with { Version = 0 };
            lots.Add(stored);
            store.Record(() => lots.Remove(stored));
            return new(true);
        }

        public ValueTask UpdateLotAmountAsync(StakeLot lot, TokenAmount amount, long expectedVersion, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(lot);
            var store = Writable;
            var lots = store._lots.GetValueOrDefault((Key(lot.PoolId), lot.Staker));
            var index = lots?.FindIndex(l => l.Id == lot.Id) ?? -1;
            var current = index < 0 ? null : lots![index];
            if (current is null || current.Version != expectedVersion)
            {
                throw StoreErrors.UpdateRefused("Stake lot", lot.Id, expectedVersion, current?.Version);
            }

            if (amount.IsZero)
            {
                lots!.RemoveAt(index);
                store.Record(() => lots.Insert(index, current));
            }
            else
            {
                lots![index] = current with { Amount = amount, Version = expectedVersion + 1 };
                store.Record(() => lots[index] = current);
            }

            return ValueTask.CompletedTask;
        }

        public ValueTask<IReadOnlyList<StakeLot>> ListLotsAsync(PoolId pool, Address staker, CancellationToken cancellationToken = default)
        {
            IReadOnlyList<StakeLot> lots = (Store._lots.GetValueOrDefault((Key(pool), staker)) ?? [])
                .OrderBy(l => l.StakedAt)
                .ThenBy(l => l.Id, StringComparer.Ordinal)
                .ToList();
            return new(lots);
        }

        public ValueTask<StakerState?> GetStakerAsync(PoolId pool, Address staker, CancellationToken cancellationToken = default) =>
            new(Store._stakers.GetValueOrDefault((Key(pool), staker)));

        public ValueTask<bool> TryInsertStakerAsync(StakerState staker, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(staker);
            var store = Writable;
            var key = (RequiredKey(staker.PoolId), staker.Staker);
            if (!store._stakers.TryAdd(key, staker with { Version = 0 }))
            {
                return new(false);
            }

            store.Record(() => store._stakers.Remove(key));
            return new(true);
        }

        public ValueTask UpdateStakerAsync(StakerState updated, long expectedVersion, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(updated);
            var store = Writable;
            var key = (Key(updated.PoolId), updated.Staker);
            var current = store._stakers.GetValueOrDefault(key);
            if (current is null || current.Version != expectedVersion)
            {
                throw StoreErrors.UpdateRefused("Staker", $"{updated.PoolId}/{updated.Staker}", expectedVersion, current?.Version);
            }

            store._stakers[key] = updated with { Version = expectedVersion + 1 };
            store.Record(() => store._stakers[key] = current);
            return ValueTask.CompletedTask;
        }
    }
}
