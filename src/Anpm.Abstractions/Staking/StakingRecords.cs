using System.Numerics;

namespace Anpm.Abstractions;

/// <summary>
/// A pool's staking state, as stored: what is staked, what earns, the cumulative reward per eligible token and the last
/// UTC day (epoch) whose rewards were processed. Every staking command on the pool updates it with its version, so
/// commands on one pool are serialized and an epoch is processed once.
/// </summary>
public sealed record PoolStakingState
{
    /// <summary>The pool.</summary>
    public required PoolId PoolId { get; init; }

    /// <summary>All stake in the pool, eligible or still aging, in base units.</summary>
    public required TokenAmount Staked { get; init; }

    /// <summary>The stake that earned in the last processed epoch (and earns in the next unless it leaves).</summary>
    public required TokenAmount Eligible { get; init; }

    /// <summary>The cumulative reward per eligible base unit, scaled by 10^18, after the last processed epoch.</summary>
    public required BigInteger RewardPerToken { get; init; }

    /// <summary>The last processed epoch, as a day number (<see cref="DateOnly.DayNumber"/>).</summary>
    public required int LastEpochDay { get; init; }

    /// <summary>The optimistic version: 0 when inserted, one more after each update.</summary>
    public long Version { get; init; }
}

/// <summary>One processed epoch (UTC day) of a pool: what earned, what was budgeted and paid, and the accumulator after it.</summary>
public sealed record StakeEpoch
{
    /// <summary>The pool.</summary>
    public required PoolId PoolId { get; init; }

    /// <summary>The UTC day, as a day number.</summary>
    public required int Day { get; init; }

    /// <summary>The eligible stake that shared the day's reward.</summary>
    public required TokenAmount Eligible { get; init; }

    /// <summary>The day's reward budget (the pool config's daily reward).</summary>
    public required TokenAmount Budget { get; init; }

    /// <summary>What the reserve covered and moved to the stakers' reward pot.</summary>
    public required TokenAmount Paid { get; init; }

    /// <summary>The budget the reserve could not cover (zero when it could, or when nothing was eligible).</summary>
    public required TokenAmount Shortfall { get; init; }

    /// <summary>The cumulative reward per eligible base unit (scaled by 10^18) after this epoch.</summary>
    public required BigInteger RewardPerTokenAfter { get; init; }

    /// <summary>When it was processed.</summary>
    public required DateTimeOffset ProcessedAt { get; init; }
}

/// <summary>A stake deposit (a lot) still in the pool: it earns from <see cref="EligibleDay"/> on.</summary>
public sealed record StakeLot
{
    /// <summary>The lot's id (unique within the pool and staker).</summary>
    public required string Id { get; init; }

    /// <summary>The pool.</summary>
    public required PoolId PoolId { get; init; }

    /// <summary>The staker; unstaked tokens and rewards go to this address.</summary>
    public required Address Staker { get; init; }

    /// <summary>What of the lot is still staked, in base units.</summary>
    public required TokenAmount Amount { get; init; }

    /// <summary>When it was staked.</summary>
    public required DateTimeOffset StakedAt { get; init; }

    /// <summary>The first epoch (day number) it earns in: the first whole UTC day after it reached the minimum age.</summary>
    public required int EligibleDay { get; init; }

    /// <summary>The optimistic version.</summary>
    public long Version { get; init; }
}

/// <summary>A staker's reward bookkeeping in a pool.</summary>
public sealed record StakerState
{
    /// <summary>The pool.</summary>
    public required PoolId PoolId { get; init; }

    /// <summary>The staker.</summary>
    public required Address Staker { get; init; }

    /// <summary>
    /// The reward earned by stake that has left, scaled by 10^18 (exact: amount × accumulator difference), so unstaking
    /// never rounds a reward away.
    /// </summary>
    public required BigInteger SettledReward { get; init; }

    /// <summary>The eligible stake-days of stake that has left (for the realised APR).</summary>
    public required BigInteger SettledStakeDays { get; init; }

    /// <summary>The rewards paid out so far, in base units.</summary>
    public required TokenAmount Claimed { get; init; }

    /// <summary>The optimistic version.</summary>
    public long Version { get; init; }
}

/// <summary>Storage of staking inside a unit of work.</summary>
public interface IStakingStore
{
    /// <summary>Reads a pool's staking state.</summary>
    /// <returns>It, or <see langword="null"/> when nobody staked in the pool yet.</returns>
    ValueTask<PoolStakingState?> GetPoolStakingAsync(PoolId pool, CancellationToken cancellationToken = default);

    /// <summary>Inserts a pool's staking state at version 0 unless it exists (an atomic insert).</summary>
    /// <returns><see langword="false"/> when it exists; nothing changed.</returns>
    ValueTask<bool> TryInsertPoolStakingAsync(PoolStakingState state, CancellationToken cancellationToken = default);

    /// <summary>Replaces a pool's staking state if its version is still <paramref name="expectedVersion"/>.</summary>
    /// <exception cref="AnpmConcurrencyException">It changed meanwhile; retrying the command is safe.</exception>
    /// <exception cref="AnpmException">It does not exist.</exception>
    ValueTask UpdatePoolStakingAsync(PoolStakingState updated, long expectedVersion, CancellationToken cancellationToken = default);

    /// <summary>The stake that becomes eligible on <paramref name="day"/> (zero when none).</summary>
    ValueTask<TokenAmount> GetScheduledEligibilityAsync(PoolId pool, int day, CancellationToken cancellationToken = default);

    /// <summary>Sets the stake that becomes eligible on <paramref name="day"/> (zero removes the entry).</summary>
    ValueTask SetScheduledEligibilityAsync(PoolId pool, int day, TokenAmount amount, CancellationToken cancellationToken = default);

    /// <summary>Records a processed epoch unless one exists for that pool and day.</summary>
    /// <returns><see langword="false"/> when it exists; nothing changed.</returns>
    ValueTask<bool> TryInsertEpochAsync(StakeEpoch epoch, CancellationToken cancellationToken = default);

    /// <summary>Reads a processed epoch.</summary>
    /// <returns>It, or <see langword="null"/> when that day was not processed for the pool.</returns>
    ValueTask<StakeEpoch?> GetEpochAsync(PoolId pool, int day, CancellationToken cancellationToken = default);

    /// <summary>A pool's processed epochs, latest first.</summary>
    /// <param name="pool">The pool.</param>
    /// <param name="beforeDay">Only days before this one; <see langword="null"/> from the latest.</param>
    /// <param name="limit">The most epochs.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    ValueTask<IReadOnlyList<StakeEpoch>> ListEpochsAsync(PoolId pool, int? beforeDay, int limit, CancellationToken cancellationToken = default);

    /// <summary>Inserts a lot unless one with its pool, staker and id exists.</summary>
    /// <returns><see langword="false"/> when it exists; nothing changed.</returns>
    ValueTask<bool> TryInsertLotAsync(StakeLot lot, CancellationToken cancellationToken = default);

    /// <summary>Sets what remains of a lot if its version is still <paramref name="expectedVersion"/>; zero removes it.</summary>
    /// <exception cref="AnpmConcurrencyException">It changed meanwhile.</exception>
    /// <exception cref="AnpmException">It does not exist.</exception>
    ValueTask UpdateLotAmountAsync(StakeLot lot, TokenAmount amount, long expectedVersion, CancellationToken cancellationToken = default);

    /// <summary>A staker's lots in a pool, oldest stake first (ties by id).</summary>
    ValueTask<IReadOnlyList<StakeLot>> ListLotsAsync(PoolId pool, Address staker, CancellationToken cancellationToken = default);

    /// <summary>Reads a staker's reward bookkeeping.</summary>
    /// <returns>It, or <see langword="null"/> when the address never staked in the pool.</returns>
    ValueTask<StakerState?> GetStakerAsync(PoolId pool, Address staker, CancellationToken cancellationToken = default);

    /// <summary>Inserts a staker at version 0 unless it exists.</summary>
    /// <returns><see langword="false"/> when it exists; nothing changed.</returns>
    ValueTask<bool> TryInsertStakerAsync(StakerState staker, CancellationToken cancellationToken = default);

    /// <summary>Replaces a staker's bookkeeping if its version is still <paramref name="expectedVersion"/>.</summary>
    /// <exception cref="AnpmConcurrencyException">It changed meanwhile.</exception>
    /// <exception cref="AnpmException">It does not exist.</exception>
    ValueTask UpdateStakerAsync(StakerState updated, long expectedVersion, CancellationToken cancellationToken = default);
}
