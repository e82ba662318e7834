using Anpm.Abstractions;
using static Anpm.Storage.RelationalSessionExtensions;

namespace Anpm.Storage;

/// <summary>
/// Staking (pool state, eligibility schedule, epochs, lots, stakers), for every relational dialect: amounts and the big
/// accumulators in the dialect's form (<c>RelationalDialect</c>).
/// </summary>
internal sealed class RelationalStakingStore(IRelationalSession session) : IStakingStore
{
    private const string PoolStakingByPool = $"SELECT {LedgerRows.PoolStakingColumns} FROM pool_staking WHERE pool_id = $1";
    private const string StakerByKey = $"SELECT {LedgerRows.StakerColumns} FROM stakers WHERE pool_id = $1 AND staker = $2";

    public ValueTask<PoolStakingState?> GetPoolStakingAsync(PoolId pool, CancellationToken cancellationToken = default) =>
        session.OneAsync(PoolStakingByPool, static r => LedgerRows.ReadPoolStaking(r, RelationalDialect.ReadAmount, RelationalDialect.ReadBig), cancellationToken, pool.Value ?? string.Empty);

    public async ValueTask<bool> TryInsertPoolStakingAsync(PoolStakingState state, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(state);
        return await session.WriteAsync(
            $"INSERT INTO pool_staking ({LedgerRows.PoolStakingColumns}) VALUES ($1, $2, $3, $4, $5, 0) ON CONFLICT (pool_id) DO NOTHING", cancellationToken,
            Required(state.PoolId.Value), RelationalDialect.Amount(state.Staked), RelationalDialect.Amount(state.Eligible), RelationalDialect.Big(state.RewardPerToken),
            state.LastEpochDay).ConfigureAwait(false) == 1;
    }

    public async ValueTask UpdatePoolStakingAsync(PoolStakingState updated, long expectedVersion, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(updated);
        if (await session.WriteAsync(
            "UPDATE pool_staking SET staked = $2, eligible = $3, reward_per_token = $4, last_epoch_day = $5, version = version + 1 WHERE pool_id = $1 AND version = $6",
            cancellationToken, updated.PoolId.Value ?? string.Empty, RelationalDialect.Amount(updated.Staked), RelationalDialect.Amount(updated.Eligible),
            RelationalDialect.Big(updated.RewardPerToken), updated.LastEpochDay, expectedVersion).ConfigureAwait(false) == 1)
        {
            return;
        }

        var current = await GetPoolStakingAsync(updated.PoolId, cancellationToken).ConfigureAwait(false);
        throw StoreErrors.UpdateRefused("Staking state of pool", updated.PoolId, expectedVersion, current?.Version);
    }

    public async ValueTask<TokenAmount> GetScheduledEligibilityAsync(PoolId pool, int day, CancellationToken cancellationToken = default) =>
        await session.OneAsync("SELECT amount FROM stake_schedule WHERE pool_id = $1 AND day = $2", static r => (TokenAmount?)RelationalDialect.ReadAmount(r, 0), cancellationToken,
            pool.Value ?? string.Empty, day).ConfigureAwait(false) ?? TokenAmount.Zero;

    public async ValueTask SetScheduledEligibilityAsync(PoolId pool, int day, TokenAmount amount, CancellationToken cancellationToken = default)
    {
        if (amount.IsZero)
        {
            await session.WriteAsync("DELETE FROM stake_schedule WHERE pool_id = $1 AND day = $2", cancellationToken, Required(pool.Value), day).ConfigureAwait(false);
        }
        else
        {
            await session.WriteAsync(
                "INSERT INTO stake_schedule (pool_id, day, amount) VALUES ($1, $2, $3) ON CONFLICT (pool_id, day) DO UPDATE SET amount = excluded.amount", cancellationToken,
                Required(pool.Value), day, RelationalDialect.Amount(amount)).ConfigureAwait(false);
        }
    }

    public async ValueTask<bool> TryInsertEpochAsync(StakeEpoch epoch, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(epoch);
        return await session.WriteAsync(
            $"INSERT INTO stake_epochs ({LedgerRows.StakeEpochColumns}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (pool_id, day) DO NOTHING", cancellationToken,
            Required(epoch.PoolId.Value), epoch.Day, RelationalDialect.Amount(epoch.Eligible), RelationalDialect.Amount(epoch.Budget), RelationalDialect.Amount(epoch.Paid),
            RelationalDialect.Amount(epoch.Shortfall), RelationalDialect.Big(epoch.RewardPerTokenAfter), epoch.ProcessedAt.UtcTicks).ConfigureAwait(false) == 1;
    }

    public ValueTask<StakeEpoch?> GetEpochAsync(PoolId pool, int day, CancellationToken cancellationToken = default) =>
        session.OneAsync($"SELECT {LedgerRows.StakeEpochColumns} FROM stake_epochs WHERE pool_id = $1 AND day = $2",
            static r => LedgerRows.ReadStakeEpoch(r, RelationalDialect.ReadAmount, RelationalDialect.ReadBig), cancellationToken, pool.Value ?? string.Empty, day);

    public async ValueTask<IReadOnlyList<StakeEpoch>> ListEpochsAsync(PoolId pool, int? beforeDay, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        return await session.ReadAsync(
            $"SELECT {LedgerRows.StakeEpochColumns} FROM stake_epochs WHERE pool_id = $1 AND day < $2 ORDER BY day DESC LIMIT $3",
            static r => LedgerRows.ReadStakeEpoch(r, RelationalDialect.ReadAmount, RelationalDialect.ReadBig), cancellationToken, pool.Value ?? string.Empty, beforeDay ?? int.MaxValue, limit)
            .ConfigureAwait(false);
    }

    public async ValueTask<bool> TryInsertLotAsync(StakeLot lot, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(lot);
        ArgumentException.ThrowIfNullOrEmpty(lot.Id);
        return await session.WriteAsync(
            $"INSERT INTO stake_lots ({LedgerRows.StakeLotColumns}) VALUES ($1, $2, $3, $4, $5, $6, 0) ON CONFLICT (pool_id, staker, id) DO NOTHING", cancellationToken,
            Required(lot.PoolId.Value), lot.Staker.ToString(), lot.Id, RelationalDialect.Amount(lot.Amount), lot.StakedAt.UtcTicks, lot.EligibleDay).ConfigureAwait(false) == 1;
    }

    public async ValueTask UpdateLotAmountAsync(StakeLot lot, TokenAmount amount, long expectedVersion, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(lot);
        var changed = amount.IsZero
            ? await session.WriteAsync("DELETE FROM stake_lots WHERE pool_id = $1 AND staker = $2 AND id = $3 AND version = $4", cancellationToken,
                lot.PoolId.Value ?? string.Empty, lot.Staker.ToString(), lot.Id, expectedVersion).ConfigureAwait(false)
            : await session.WriteAsync("UPDATE stake_lots SET amount = $5, version = version + 1 WHERE pool_id = $1 AND staker = $2 AND id = $3 AND version = $4", cancellationToken,
                lot.PoolId.Value ?? string.Empty, lot.Staker.ToString(), lot.Id, expectedVersion, RelationalDialect.Amount(amount)).ConfigureAwait(false);
        if (changed == 1)
        {
            return;
        }

        var current = await session.OneAsync($"SELECT {LedgerRows.StakeLotColumns} FROM stake_lots WHERE pool_id = $1 AND staker = $2 AND id = $3",
            static r => LedgerRows.ReadStakeLot(r, RelationalDialect.ReadAmount), cancellationToken, lot.PoolId.Value ?? string.Empty, lot.Staker.ToString(), lot.Id).ConfigureAwait(false);
        throw StoreErrors.UpdateRefused("Stake lot", lot.Id, expectedVersion, current?.Version);
    }

    public async ValueTask<IReadOnlyList<StakeLot>> ListLotsAsync(PoolId pool, Address staker, CancellationToken cancellationToken = default) =>
        await session.ReadAsync(
            $"SELECT {LedgerRows.StakeLotColumns} FROM stake_lots WHERE pool_id = $1 AND staker = $2 ORDER BY staked_at_ticks, id",
            static r => LedgerRows.ReadStakeLot(r, RelationalDialect.ReadAmount), cancellationToken, pool.Value ?? string.Empty, staker.ToString()).ConfigureAwait(false);

    public ValueTask<StakerState?> GetStakerAsync(PoolId pool, Address staker, CancellationToken cancellationToken = default) =>
        session.OneAsync(StakerByKey, static r => LedgerRows.ReadStaker(r, RelationalDialect.ReadAmount, RelationalDialect.ReadBig), cancellationToken,
            pool.Value ?? string.Empty, staker.ToString());

    public async ValueTask<bool> TryInsertStakerAsync(StakerState staker, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(staker);
        return await session.WriteAsync(
            $"INSERT INTO stakers ({LedgerRows.StakerColumns}) VALUES ($1, $2, $3, $4, $5, 0) ON CONFLICT (pool_id, staker) DO NOTHING", cancellationToken,
            Required(staker.PoolId.Value), staker.Staker.ToString(), RelationalDialect.Big(staker.SettledReward), RelationalDialect.Big(staker.SettledStakeDays),
            RelationalDialect.Amount(staker.Claimed)).ConfigureAwait(false) == 1;
    }

    public async ValueTask UpdateStakerAsync(StakerState updated, long expectedVersion, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(updated);
        if (await session.WriteAsync(
            "UPDATE stakers SET settled_reward = $3, settled_stake_days = $4, claimed = $5, version = version + 1 WHERE pool_id = $1 AND staker = $2 AND version = $6",
            cancellationToken, updated.PoolId.Value ?? string.Empty, updated.Staker.ToString(), RelationalDialect.Big(updated.SettledReward),
            RelationalDialect.Big(updated.SettledStakeDays), RelationalDialect.Amount(updated.Claimed), expectedVersion).ConfigureAwait(false) == 1)
        {
            return;
        }

        var current = await GetStakerAsync(updated.PoolId, updated.Staker, cancellationToken).ConfigureAwait(false);
        throw StoreErrors.UpdateRefused("Staker", $"{updated.PoolId}/{updated.Staker}", expectedVersion, current?.Version);
    }
}
