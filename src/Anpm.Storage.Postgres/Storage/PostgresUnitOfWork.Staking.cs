using System.Numerics;
using Anpm.Abstractions;
using Npgsql;
using NpgsqlTypes;

namespace Anpm.Storage.Postgres;

/// <summary>Staking over PostgreSQL: amounts as numeric(39,0), accumulators as unbounded numeric.</summary>
internal sealed partial class PostgresUnitOfWork
{
    private static readonly Func<System.Data.Common.DbDataReader, int, BigInteger> Big =
        static (reader, ordinal) => reader.GetFieldValue<BigInteger>(ordinal);

    public IStakingStore Staking => this;

    public async ValueTask<PoolStakingState?> GetPoolStakingAsync(PoolId pool, CancellationToken cancellationToken = default) =>
        await OneAsync($"SELECT {LedgerRows.PoolStakingColumns} FROM pool_staking WHERE pool_id = $1", static r => LedgerRows.ReadPoolStaking(r, ReadAmount, Big), cancellationToken,
            Text(pool.Value ?? string.Empty)).ConfigureAwait(false);

    public async ValueTask<bool> TryInsertPoolStakingAsync(PoolStakingState state, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(state);
        return await WriteAsync(
            $"INSERT INTO pool_staking ({LedgerRows.PoolStakingColumns}) VALUES ($1, $2, $3, $4, $5, 0) ON CONFLICT (pool_id) DO NOTHING", cancellationToken,
            Text(Required(state.PoolId.Value)), Amount(state.Staked), Amount(state.Eligible), BigParameter(state.RewardPerToken), Int(state.LastEpochDay)).ConfigureAwait(false) == 1;
    }

    public async ValueTask UpdatePoolStakingAsync(PoolStakingState updated, long expectedVersion, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(updated);
        if (await WriteAsync(
            "UPDATE pool_staking SET staked = $2, eligible = $3, reward_per_token = $4, last_epoch_day = $5, version = version + 1 WHERE pool_id = $1 AND version = $6", cancellationToken,
            Text(updated.PoolId.Value ?? string.Empty), Amount(updated.Staked), Amount(updated.Eligible), BigParameter(updated.RewardPerToken), Int(updated.LastEpochDay),
            Long(expectedVersion)).ConfigureAwait(false) == 1)
        {
            return;
        }

        var current = await GetPoolStakingAsync(updated.PoolId, cancellationToken).ConfigureAwait(false);
        throw StoreErrors.UpdateRefused("Staking state of pool", updated.PoolId, expectedVersion, current?.Version);
    }

    public async ValueTask<TokenAmount> GetScheduledEligibilityAsync(PoolId pool, int day, CancellationToken cancellationToken = default) =>
        await OneAsync("SELECT amount FROM stake_schedule WHERE pool_id = $1 AND day = $2", static r => (TokenAmount?)ReadAmount(r, 0), cancellationToken,
            Text(pool.Value ?? string.Empty), Int(day)).ConfigureAwait(false) ?? TokenAmount.Zero;

    public async ValueTask SetScheduledEligibilityAsync(PoolId pool, int day, TokenAmount amount, CancellationToken cancellationToken = default)
    {
        if (amount.IsZero)
        {
            await WriteAsync("DELETE FROM stake_schedule WHERE pool_id = $1 AND day = $2", cancellationToken, Text(Required(pool.Value)), Int(day)).ConfigureAwait(false);
        }
        else
        {
            await WriteAsync(
                "INSERT INTO stake_schedule (pool_id, day, amount) VALUES ($1, $2, $3) ON CONFLICT (pool_id, day) DO UPDATE SET amount = excluded.amount", cancellationToken,
                Text(Required(pool.Value)), Int(day), Amount(amount)).ConfigureAwait(false);
        }
    }

    public async ValueTask<bool> TryInsertEpochAsync(StakeEpoch epoch, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(epoch);
        return await WriteAsync(
            $"INSERT INTO stake_epochs ({LedgerRows.StakeEpochColumns}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (pool_id, day) DO NOTHING", cancellationToken,
            Text(Required(epoch.PoolId.Value)), Int(epoch.Day), Amount(epoch.Eligible), Amount(epoch.Budget), Amount(epoch.Paid), Amount(epoch.Shortfall),
            BigParameter(epoch.RewardPerTokenAfter), Long(epoch.ProcessedAt.UtcTicks)).ConfigureAwait(false) == 1;
    }

    public async ValueTask<StakeEpoch?> GetEpochAsync(PoolId pool, int day, CancellationToken cancellationToken = default) =>
        await OneAsync($"SELECT {LedgerRows.StakeEpochColumns} FROM stake_epochs WHERE pool_id = $1 AND day = $2", static r => LedgerRows.ReadStakeEpoch(r, ReadAmount, Big),
            cancellationToken, Text(pool.Value ?? string.Empty), Int(day)).ConfigureAwait(false);

    public async ValueTask<IReadOnlyList<StakeEpoch>> ListEpochsAsync(PoolId pool, int? beforeDay, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        await using var command = Command(Connection,
            $"SELECT {LedgerRows.StakeEpochColumns} FROM stake_epochs WHERE pool_id = $1 AND day < $2 ORDER BY day DESC LIMIT $3",
            Text(pool.Value ?? string.Empty), Int(beforeDay ?? int.MaxValue), Int(limit));
        return await ReadAsync(command, static r => LedgerRows.ReadStakeEpoch(r, ReadAmount, Big), cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask<bool> TryInsertLotAsync(StakeLot lot, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(lot);
        ArgumentException.ThrowIfNullOrEmpty(lot.Id);
        return await WriteAsync(
            $"INSERT INTO stake_lots ({LedgerRows.StakeLotColumns}) VALUES ($1, $2, $3, $4, $5, $6, 0) ON CONFLICT (pool_id, staker, id) DO NOTHING", cancellationToken,
            Text(Required(lot.PoolId.Value)), Text(lot.Staker.ToString()), Text(lot.Id), Amount(lot.Amount), Long(lot.StakedAt.UtcTicks), Int(lot.EligibleDay)).ConfigureAwait(false) == 1;
    }

    public async ValueTask UpdateLotAmountAsync(StakeLot lot, TokenAmount amount, long expectedVersion, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(lot);
        var changed = amount.IsZero
            ? await WriteAsync("DELETE FROM stake_lots WHERE pool_id = $1 AND staker = $2 AND id = $3 AND version = $4", cancellationToken,
                Text(lot.PoolId.Value ?? string.Empty), Text(lot.Staker.ToString()), Text(lot.Id), Long(expectedVersion)).ConfigureAwait(false)
            : await WriteAsync("UPDATE stake_lots SET amount = $5, version = version + 1 WHERE pool_id = $1 AND staker = $2 AND id = $3 AND version = $4", cancellationToken,
                Text(lot.PoolId.Value ?? string.Empty), Text(lot.Staker.ToString()), Text(lot.Id), Long(expectedVersion), Amount(amount)).ConfigureAwait(false);
        if (changed == 1)
        {
            return;
        }

        var current = await OneAsync($"SELECT {LedgerRows.StakeLotColumns} FROM stake_lots WHERE pool_id = $1 AND staker = $2 AND id = $3",
            static r => LedgerRows.ReadStakeLot(r, ReadAmount), cancellationToken, Text(lot.PoolId.Value ?? string.Empty), Text(lot.Staker.ToString()), Text(lot.Id)).ConfigureAwait(false);
        throw StoreErrors.UpdateRefused("Stake lot", lot.Id, expectedVersion, current?.Version);
    }

    public async ValueTask<IReadOnlyList<StakeLot>> ListLotsAsync(PoolId pool, Address staker, CancellationToken cancellationToken = default)
    {
        await using var command = Command(Connection,
            $"SELECT {LedgerRows.StakeLotColumns} FROM stake_lots WHERE pool_id = $1 AND staker = $2 ORDER BY staked_at_ticks, id",
            Text(pool.Value ?? string.Empty), Text(staker.ToString()));
        return await ReadAsync(command, static r => LedgerRows.ReadStakeLot(r, ReadAmount), cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask<StakerState?> GetStakerAsync(PoolId pool, Address staker, CancellationToken cancellationToken = default) =>
        await OneAsync($"SELECT {LedgerRows.StakerColumns} FROM stakers WHERE pool_id = $1 AND staker = $2", static r => LedgerRows.ReadStaker(r, ReadAmount, Big),
            cancellationToken, Text(pool.Value ?? string.Empty), Text(staker.ToString())).ConfigureAwait(false);

    public async ValueTask<bool> TryInsertStakerAsync(StakerState staker, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(staker);
        return await WriteAsync(
            $"INSERT INTO stakers ({LedgerRows.StakerColumns}) VALUES ($1, $2, $3, $4, $5, 0) ON CONFLICT (pool_id, staker) DO NOTHING", cancellationToken,
            Text(Required(staker.PoolId.Value)), Text(staker.Staker.ToString()), BigParameter(staker.SettledReward), BigParameter(staker.SettledStakeDays),
            Amount(staker.Claimed)).ConfigureAwait(false) == 1;
    }

    public async ValueTask UpdateStakerAsync(StakerState updated, long expectedVersion, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(updated);
        if (await WriteAsync(
            "UPDATE stakers SET settled_reward = $3, settled_stake_days = $4, claimed = $5, version = version + 1 WHERE pool_id = $1 AND staker = $2 AND version = $6", cancellationToken,
            Text(updated.PoolId.Value ?? string.Empty), Text(updated.Staker.ToString()), BigParameter(updated.SettledReward), BigParameter(updated.SettledStakeDays),
            Amount(updated.Claimed), Long(expectedVersion)).ConfigureAwait(false) == 1)
        {
            return;
        }

        var current = await GetStakerAsync(updated.PoolId, updated.Staker, cancellationToken).ConfigureAwait(false);
        throw StoreErrors.UpdateRefused("Staker", $"{updated.PoolId}/{updated.Staker}", expectedVersion, current?.Version);
    }

    private static NpgsqlParameter BigParameter(BigInteger value) =>
        value.Sign >= 0
            ? new NpgsqlParameter<BigInteger> { TypedValue = value, NpgsqlDbType = NpgsqlDbType.Numeric }
            : throw new ArgumentOutOfRangeException(nameof(value), "Staking values are never negative.");

    private async Task<int> WriteAsync(string sql, CancellationToken cancellationToken, params NpgsqlParameter[] parameters)
    {
        await using var command = Command(Writable, sql, parameters);
        return await ExecuteAsync(command, cancellationToken).ConfigureAwait(false);
    }

    private async Task<T?> OneAsync<T>(string sql, Func<NpgsqlDataReader, T> read, CancellationToken cancellationToken, params NpgsqlParameter[] parameters)
    {
        await using var command = Command(Connection, sql, parameters);
        var rows = await ReadAsync(command, read, cancellationToken).ConfigureAwait(false);
        return rows.Count == 0 ? default : rows[0];
    }
}
