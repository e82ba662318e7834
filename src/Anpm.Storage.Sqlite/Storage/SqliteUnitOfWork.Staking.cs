using System.Globalization;
using System.Numerics;
using Anpm.Abstractions;
using Microsoft.Data.Sqlite;

namespace Anpm.Storage.Sqlite;

/// <summary>Staking over SQLite: big accumulators as decimal text, amounts as 39-digit text.</summary>
internal sealed partial class SqliteUnitOfWork
{
    private static readonly Func<System.Data.Common.DbDataReader, int, TokenAmount> Amount39 =
        static (reader, ordinal) => new(UInt128.Parse(reader.GetString(ordinal), NumberStyles.None, CultureInfo.InvariantCulture));

    private static readonly Func<System.Data.Common.DbDataReader, int, BigInteger> Big =
        static (reader, ordinal) => BigInteger.Parse(reader.GetString(ordinal), NumberStyles.None, CultureInfo.InvariantCulture);

    public IStakingStore Staking => this;

    public ValueTask<PoolStakingState?> GetPoolStakingAsync(PoolId pool, CancellationToken cancellationToken = default) =>
        new(One($"SELECT {LedgerRows.PoolStakingColumns} FROM pool_staking WHERE pool_id = $1", static r => LedgerRows.ReadPoolStaking(r, Amount39, Big), pool.Value ?? string.Empty));

    public ValueTask<bool> TryInsertPoolStakingAsync(PoolStakingState state, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(state);
        return new(Write(
            $"INSERT INTO pool_staking ({LedgerRows.PoolStakingColumns}) VALUES ($1, $2, $3, $4, $5, 0) ON CONFLICT (pool_id) DO NOTHING",
            Required(state.PoolId.Value), SqliteStatements.Amount(state.Staked), SqliteStatements.Amount(state.Eligible), Text(state.RewardPerToken), state.LastEpochDay) == 1);
    }

    public ValueTask UpdatePoolStakingAsync(PoolStakingState updated, long expectedVersion, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(updated);
        if (Write(
            "UPDATE pool_staking SET staked = $2, eligible = $3, reward_per_token = $4, last_epoch_day = $5, version = version + 1 WHERE pool_id = $1 AND version = $6",
            updated.PoolId.Value ?? string.Empty, SqliteStatements.Amount(updated.Staked), SqliteStatements.Amount(updated.Eligible), Text(updated.RewardPerToken),
            updated.LastEpochDay, expectedVersion) == 1)
        {
            return ValueTask.CompletedTask;
        }

        var current = One($"SELECT {LedgerRows.PoolStakingColumns} FROM pool_staking WHERE pool_id = $1", static r => LedgerRows.ReadPoolStaking(r, Amount39, Big), updated.PoolId.Value ?? string.Empty);
        throw StoreErrors.UpdateRefused("Staking state of pool", updated.PoolId, expectedVersion, current?.Version);
    }

    public ValueTask<TokenAmount> GetScheduledEligibilityAsync(PoolId pool, int day, CancellationToken cancellationToken = default) =>
        new(One("SELECT amount FROM stake_schedule WHERE pool_id = $1 AND day = $2", static r => (TokenAmount?)Amount39(r, 0), pool.Value ?? string.Empty, day) ?? TokenAmount.Zero);

    public ValueTask SetScheduledEligibilityAsync(PoolId pool, int day, TokenAmount amount, CancellationToken cancellationToken = default)
    {
        if (amount.IsZero)
        {
            Write("DELETE FROM stake_schedule WHERE pool_id = $1 AND day = $2", Required(pool.Value), day);
        }
        else
        {
            Write("INSERT INTO stake_schedule (pool_id, day, amount) VALUES ($1, $2, $3) ON CONFLICT (pool_id, day) DO UPDATE SET amount = excluded.amount",
                Required(pool.Value), day, SqliteStatements.Amount(amount));
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask<bool> TryInsertEpochAsync(StakeEpoch epoch, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(epoch);
        return new(Write(
            $"INSERT INTO stake_epochs ({LedgerRows.StakeEpochColumns}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (pool_id, day) DO NOTHING",
            Required(epoch.PoolId.Value), epoch.Day, SqliteStatements.Amount(epoch.Eligible), SqliteStatements.Amount(epoch.Budget), SqliteStatements.Amount(epoch.Paid),
            SqliteStatements.Amount(epoch.Shortfall), Text(epoch.RewardPerTokenAfter), epoch.ProcessedAt.UtcTicks) == 1);
    }

    public ValueTask<StakeEpoch?> GetEpochAsync(PoolId pool, int day, CancellationToken cancellationToken = default) =>
        new(One($"SELECT {LedgerRows.StakeEpochColumns} FROM stake_epochs WHERE pool_id = $1 AND day = $2", static r => LedgerRows.ReadStakeEpoch(r, Amount39, Big), pool.Value ?? string.Empty, day));

    public ValueTask<IReadOnlyList<StakeEpoch>> ListEpochsAsync(PoolId pool, int? beforeDay, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        IReadOnlyList<StakeEpoch> epochs = Many(
            $"SELECT {LedgerRows.StakeEpochColumns} FROM stake_epochs WHERE pool_id = $1 AND day < $2 ORDER BY day DESC LIMIT $3",
            static r => LedgerRows.ReadStakeEpoch(r, Amount39, Big), pool.Value ?? string.Empty, beforeDay ?? int.MaxValue, limit);
        return new(epochs);
    }

    public ValueTask<bool> TryInsertLotAsync(StakeLot lot, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(lot);
        ArgumentException.ThrowIfNullOrEmpty(lot.Id);
        return new(Write(
            $"INSERT INTO stake_lots ({LedgerRows.StakeLotColumns}) VALUES ($1, $2, $3, $4, $5, $6, 0) ON CONFLICT (pool_id, staker, id) DO NOTHING",
            Required(lot.PoolId.Value), lot.Staker.ToString(), lot.Id, SqliteStatements.Amount(lot.Amount), lot.StakedAt.UtcTicks, lot.EligibleDay) == 1);
    }

    public ValueTask UpdateLotAmountAsync(StakeLot lot, TokenAmount amount, long expectedVersion, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(lot);
        var changed = amount.IsZero
            ? Write("DELETE FROM stake_lots WHERE pool_id = $1 AND staker = $2 AND id = $3 AND version = $4", lot.PoolId.Value ?? string.Empty, lot.Staker.ToString(), lot.Id, expectedVersion)
            : Write("UPDATE stake_lots SET amount = $5, version = version + 1 WHERE pool_id = $1 AND staker = $2 AND id = $3 AND version = $4",
                lot.PoolId.Value ?? string.Empty, lot.Staker.ToString(), lot.Id, expectedVersion, SqliteStatements.Amount(amount));
        if (changed == 1)
        {
            return ValueTask.CompletedTask;
        }

        var current = One($"SELECT {LedgerRows.StakeLotColumns} FROM stake_lots WHERE pool_id = $1 AND staker = $2 AND id = $3",
            static r => LedgerRows.ReadStakeLot(r, Amount39), lot.PoolId.Value ?? string.Empty, lot.Staker.ToString(), lot.Id);
        throw StoreErrors.UpdateRefused("Stake lot", lot.Id, expectedVersion, current?.Version);
    }

    public ValueTask<IReadOnlyList<StakeLot>> ListLotsAsync(PoolId pool, Address staker, CancellationToken cancellationToken = default)
    {
        IReadOnlyList<StakeLot> lots = Many(
            $"SELECT {LedgerRows.StakeLotColumns} FROM stake_lots WHERE pool_id = $1 AND staker = $2 ORDER BY staked_at_ticks, id",
            static r => LedgerRows.ReadStakeLot(r, Amount39), pool.Value ?? string.Empty, staker.ToString());
        return new(lots);
    }

    public ValueTask<StakerState?> GetStakerAsync(PoolId pool, Address staker, CancellationToken cancellationToken = default) =>
        new(One($"SELECT {LedgerRows.StakerColumns} FROM stakers WHERE pool_id = $1 AND staker = $2", static r => LedgerRows.ReadStaker(r, Amount39, Big), pool.Value ?? string.Empty, staker.ToString()));

    public ValueTask<bool> TryInsertStakerAsync(StakerState staker, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(staker);
        return new(Write(
            $"INSERT INTO stakers ({LedgerRows.StakerColumns}) VALUES ($1, $2, $3, $4, $5, 0) ON CONFLICT (pool_id, staker) DO NOTHING",
            Required(staker.PoolId.Value), staker.Staker.ToString(), Text(staker.SettledReward), Text(staker.SettledStakeDays), SqliteStatements.Amount(staker.Claimed)) == 1);
    }

    public ValueTask UpdateStakerAsync(StakerState updated, long expectedVersion, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(updated);
        if (Write(
            "UPDATE stakers SET settled_reward = $3, settled_stake_days = $4, claimed = $5, version = version + 1 WHERE pool_id = $1 AND staker = $2 AND version = $6",
            updated.PoolId.Value ?? string.Empty, updated.Staker.ToString(), Text(updated.SettledReward), Text(updated.SettledStakeDays), SqliteStatements.Amount(updated.Claimed),
            expectedVersion) == 1)
        {
            return ValueTask.CompletedTask;
        }

        var current = One($"SELECT {LedgerRows.StakerColumns} FROM stakers WHERE pool_id = $1 AND staker = $2", static r => LedgerRows.ReadStaker(r, Amount39, Big),
            updated.PoolId.Value ?? string.Empty, updated.Staker.ToString());
        throw StoreErrors.UpdateRefused("Staker", $"{updated.PoolId}/{updated.Staker}", expectedVersion, current?.Version);
    }

    private static string Text(BigInteger value) =>
        value.Sign >= 0 ? value.ToString(CultureInfo.InvariantCulture) : throw new ArgumentOutOfRangeException(nameof(value), "Staking values are never negative.");

    private int Write(string sql, params object[] values)
    {
        var command = Bind(Writable.Cached(sql, values.Length), values);
        return SqliteAnpmStore.Translate(command.ExecuteNonQuery);
    }

    private T? One<T>(string sql, Func<SqliteDataReader, T> read, params object[] values) =>
        Many(sql, read, values) is [var row] ? row : default;

    private List<T> Many<T>(string sql, Func<SqliteDataReader, T> read, params object[] values) =>
        ReadAll(Bind(Statements.Cached(sql, values.Length), values), read);

    private static SqliteCommand Bind(SqliteCommand command, object[] values)
    {
        for (var i = 0; i < values.Length; i++)
        {
            command.Parameters[i].Value = values[i];
        }

        return command;
    }
}
