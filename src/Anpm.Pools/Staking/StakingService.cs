using System.Diagnostics.CodeAnalysis;
using System.Numerics;
using Anpm.Abstractions;
using Anpm.Credits;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Anpm.Pools;

/// <summary>Options of the <see cref="StakingService"/>.</summary>
public sealed class StakingOptions
{
    /// <summary>The only sender whose <c>Fund-Rewards</c> notices fill reward reserves; others are refunded.</summary>
    public Address? Treasury { get; set; }
}

/// <summary>Validates <see cref="StakingOptions"/>: a treasury, when set, is not the zero address (no one can send from it, so no reward could ever be funded).</summary>
public sealed class StakingOptionsValidator : IValidateOptions<StakingOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, StakingOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.Treasury is { IsZero: true }
            ? ValidateOptionsResult.Fail("StakingOptions.Treasury is the zero address, which sends no notices: no reward could be funded. Set the treasury's address, or leave it unset.")
            : ValidateOptionsResult.Success;
    }
}

/// <summary>The outcome of an unstake or a reward claim.</summary>
public enum StakeCommandResult
{
    /// <summary>Done: the tokens are on their way through the outbox.</summary>
    Done = 1,

    /// <summary>The same request was done before (an idempotent replay); nothing changed now.</summary>
    Exists = 2,

    /// <summary>There is no such pool, or it takes no stake.</summary>
    PoolNotFound = 3,

    /// <summary>The amount is zero or above the staker's stake.</summary>
    InsufficientStake = 4,

    /// <summary>There are no rewards to claim.</summary>
    NothingToClaim = 5,

    /// <summary>The system is paused.</summary>
    SystemPaused = 6,

    /// <summary>The request id was used for another transfer; nothing changed.</summary>
    IdTaken = 7,
}

/// <summary>A staker's stake and profit in a pool.</summary>
/// <param name="Staked">Everything staked, eligible or aging.</param>
/// <param name="Eligible">What earns now (past the minimum age, for whole days).</param>
/// <param name="Pending">Rewards earned through the last processed epoch and not claimed.</param>
/// <param name="Claimed">Rewards paid out so far.</param>
/// <param name="RealisedApr">Earned rewards per eligible stake-day × 365 (0.05 = 5%); null before any stake earned.</param>
/// <param name="LastEpochDay">The last processed epoch.</param>
public sealed record StakeStatus(TokenAmount Staked, TokenAmount Eligible, TokenAmount Pending, TokenAmount Claimed, decimal? RealisedApr, DateOnly LastEpochDay);

/// <summary>What staking an amount now would earn over the next 365 days, if nothing else changed.</summary>
/// <param name="Amount">The amount that would be staked (what the pool's capacity leaves room for is all that counts).</param>
/// <param name="Apr">The projected rewards per staked token over the year (0.05 = 5%); null when nothing could be staked.</param>
/// <param name="ProjectedRewards">The rewards the stake would earn in those 365 days.</param>
/// <param name="EarnsFrom">The first day the stake would earn (after the minimum age).</param>
/// <param name="RunwayDays">How many more days the reward reserve can pay the full daily reward.</param>
/// <param name="Eligible">The stake earning today, this one not counted.</param>
/// <param name="Room">What the pool's capacity still takes.</param>
public sealed record StakeProjection(TokenAmount Amount, decimal? Apr, TokenAmount ProjectedRewards, DateOnly EarnsFrom, int RunwayDays, TokenAmount Eligible, TokenAmount Room);

/// <summary>The result of an unstake or a claim: what happened, the transfer amount, and the status after it.</summary>
public sealed record StakeCommandOutcome(StakeCommandResult Result, TokenAmount Amount, StakeStatus? Status, string? Error)
{
    /// <summary>Whether the command was refused; then <see cref="Error"/> says why, and nothing changed.</summary>
    [MemberNotNullWhen(true, nameof(Error))]
    public bool IsRefused => Result is not (StakeCommandResult.Done or StakeCommandResult.Exists);
}

/// <summary>What one run of the daily incentive job did.</summary>
/// <param name="EpochsProcessed">Pool-days processed in this run.</param>
/// <param name="Failures">Pools whose epochs failed, with the reason; the other pools were processed.</param>
public sealed record EpochRunReport(int EpochsProcessed, IReadOnlyList<(PoolId Pool, string Error)> Failures);

/// <summary>
/// Staking and daily incentives. <c>Stake</c> notices add a lot (the part above the pool's capacity is refunded); a lot
/// earns from the first whole UTC day after it reached the pool's minimum stake age. Each epoch (a UTC day) splits the
/// pool's daily reward over the eligible stake with an exact integer accumulator (reward per token, scaled by 10^18),
/// paying only what the pool's reserve covers and recording the shortfall. Rewards are floor(Σ lot × accumulator
/// difference / 10^18) per staker, so nobody is paid more than the epochs paid; the rounding dust stays in the reward
/// pot. Every command on a pool first processes the epochs it missed, so the result never depends on when the job ran.
/// Unstaking takes the newest lots first (the ones still aging leave before the earning ones).
/// </summary>
public sealed partial class StakingService : ITokenNoticeHandler
{
    /// <summary>The accumulator's scale: reward per token is kept in units of 10^-18 base units.</summary>
    public static readonly BigInteger Scale = BigInteger.Pow(10, 18);

    private static readonly TransferKind StakeKind = TransferKind.Parse("stake");
    private static readonly TransferKind FundKind = TransferKind.Parse("fund-rewards");
    private static readonly TransferKind EpochKind = TransferKind.Parse("epoch-reward");
    private static readonly TransferKind UnstakeKind = TransferKind.Parse("unstake");

    /// <summary>The kind of the outgoing transfers paying claimed staking rewards.</summary>
    public static TransferKind RewardKind { get; } = TransferKind.Parse("staking-reward");

    private readonly IAnpmStore _store;
    private readonly Ledger _ledger;
    private readonly Outbox _outbox;
    private readonly PoolRegistry _registry;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly StakingOptions _options;

    /// <summary>Creates the service.</summary>
    public StakingService(IAnpmStore store, Ledger ledger, Outbox outbox, PoolRegistry registry, IOptions<StakingOptions> options, TimeProvider timeProvider, ILogger<StakingService>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(ledger);
        ArgumentNullException.ThrowIfNull(outbox);
        ArgumentNullException.ThrowIfNull(registry);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(timeProvider);
        _store = store;
        _ledger = ledger;
        _outbox = outbox;
        _registry = registry;
        _timeProvider = timeProvider;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _options = ValidatedOptions.Value(options, new StakingOptionsValidator());
    }

    /// <inheritdoc />
    public IReadOnlyCollection<string> Actions { get; } = ["Stake", "Fund-Rewards"];

    /// <summary>The first epoch a stake made at <paramref name="stakedAt"/> earns in: the first whole UTC day starting at or after it is <paramref name="minStakeAgeSeconds"/> old.</summary>
    public static int EligibleDayOf(DateTimeOffset stakedAt, long minStakeAgeSeconds)
    {
        var aged = stakedAt.UtcDateTime.AddSeconds(minStakeAgeSeconds);
        var day = DateOnly.FromDateTime(aged).DayNumber;
        return aged.TimeOfDay == TimeSpan.Zero ? day : day + 1;
    }

    /// <summary>Applies a <c>Stake</c> or <c>Fund-Rewards</c> notice (called by the <see cref="TokenNoticeProcessor"/>).</summary>
    public async ValueTask<string> HandleAsync(TokenNoticeContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var (unitOfWork, notice) = (context.UnitOfWork, context.Notice);
        if (!PoolId.TryParse(notice.PoolId, out var poolId) || await unitOfWork.Pools.GetPoolAsync(poolId, cancellationToken).ConfigureAwait(false) is not { } pool)
        {
            return await context.RefundAsync(notice.Quantity, "unknown-pool", cancellationToken).ConfigureAwait(false);
        }

        var config = _registry.ConfigOf(pool).Staking;
        if (config is null)
        {
            return await context.RefundAsync(notice.Quantity, "pool-not-staking", cancellationToken).ConfigureAwait(false);
        }

        if (notice.Action == "Fund-Rewards")
        {
            if (_options.Treasury is not { } treasury || notice.Sender != treasury)
            {
                return await context.RefundAsync(notice.Quantity, "not-treasury", cancellationToken).ConfigureAwait(false);
            }

            // Epochs already over are processed first: the funds count from the epoch running now on.
            var funded = await StateAsync(unitOfWork, pool.Id, config, context.Now, cancellationToken).ConfigureAwait(false);
            await SaveAsync(unitOfWork, funded, cancellationToken).ConfigureAwait(false);
            await context.DepositAsync(PoolAccounts.RewardReserve(pool.Id), notice.Quantity, FundKind, cancellationToken).ConfigureAwait(false);
            return "rewards-funded";
        }

        if (await unitOfWork.System.IsPausedAsync(cancellationToken).ConfigureAwait(false))
        {
            return await context.RefundAsync(notice.Quantity, "system-paused", cancellationToken).ConfigureAwait(false);
        }

        if (pool.Status != PoolStatus.Active)
        {
            return await context.RefundAsync(notice.Quantity, pool.Status == PoolStatus.Paused ? "pool-paused" : "pool-not-active", cancellationToken).ConfigureAwait(false);
        }

        var state = await StateAsync(unitOfWork, pool.Id, config, context.Now, cancellationToken).ConfigureAwait(false);
        var room = config.Capacity > state.Current.Staked ? config.Capacity - state.Current.Staked : TokenAmount.Zero;
        var accepted = notice.Quantity > room ? room : notice.Quantity;
        if (accepted.IsZero)
        {
            await SaveAsync(unitOfWork, state, cancellationToken).ConfigureAwait(false);
            return await context.RefundAsync(notice.Quantity, "capacity-reached", cancellationToken).ConfigureAwait(false);
        }

        await context.DepositAsync(PoolAccounts.Stakes(pool.Id), accepted, StakeKind, cancellationToken).ConfigureAwait(false);
        var eligibleDay = EligibleDayOf(context.Now, config.MinStakeAgeSeconds);
        var lot = new StakeLot
        {
            Id = context.TransferIdFor("lot").ToString(),
            PoolId = pool.Id,
            Staker = notice.Sender,
            Amount = accepted,
            StakedAt = context.Now,
            EligibleDay = eligibleDay,
        };
        if (!await unitOfWork.Staking.TryInsertLotAsync(lot, cancellationToken).ConfigureAwait(false))
        {
            throw new AnpmConcurrencyException($"Stake lot '{lot.Id}' was written at the same time; retry.");
        }

        var scheduled = await unitOfWork.Staking.GetScheduledEligibilityAsync(pool.Id, eligibleDay, cancellationToken).ConfigureAwait(false);
        await unitOfWork.Staking.SetScheduledEligibilityAsync(pool.Id, eligibleDay, scheduled + accepted, cancellationToken).ConfigureAwait(false);
        await unitOfWork.Staking.TryInsertStakerAsync(new StakerState { PoolId = pool.Id, Staker = notice.Sender, SettledReward = 0, SettledStakeDays = 0, Claimed = TokenAmount.Zero }, cancellationToken).ConfigureAwait(false);
        state.Current = state.Current with { Staked = state.Current.Staked + accepted };
        await SaveAsync(unitOfWork, state, cancellationToken).ConfigureAwait(false);
        if (accepted < notice.Quantity)
        {
            await context.RefundAsync(notice.Quantity - accepted, "over-capacity", cancellationToken).ConfigureAwait(false);
            return "staked-partly";
        }

        return "staked";
    }

    /// <summary>
    /// Unstakes <paramref name="amount"/> (the newest lots first) and sends it to the staker through the outbox (id
    /// <paramref name="requestId"/>). Rewards earned by the unstaked part stay claimable.
    /// </summary>
    public ValueTask<StakeCommandOutcome> UnstakeAsync(TransferId requestId, PoolId poolId, Address staker, TokenAmount amount, CancellationToken cancellationToken = default) =>
        CommandAsync(requestId, poolId, staker, amount, isClaim: false, cancellationToken);

    /// <summary>Unstakes like the overload without a unit of work, inside the caller's unit of work, which the caller commits.</summary>
    public ValueTask<StakeCommandOutcome> UnstakeAsync(IAnpmUnitOfWork unitOfWork, TransferId requestId, PoolId poolId, Address staker, TokenAmount amount, CancellationToken cancellationToken = default) =>
        CommandAsync(unitOfWork, requestId, poolId, staker, amount, isClaim: false, cancellationToken);

    /// <summary>Pays the staker's pending rewards through the outbox (id <paramref name="requestId"/>).</summary>
    public ValueTask<StakeCommandOutcome> ClaimRewardsAsync(TransferId requestId, PoolId poolId, Address staker, CancellationToken cancellationToken = default) =>
        CommandAsync(requestId, poolId, staker, TokenAmount.Zero, isClaim: true, cancellationToken);

    /// <summary>Pays the staker's pending rewards inside the caller's unit of work, which the caller commits.</summary>
    public ValueTask<StakeCommandOutcome> ClaimRewardsAsync(IAnpmUnitOfWork unitOfWork, TransferId requestId, PoolId poolId, Address staker, CancellationToken cancellationToken = default) =>
        CommandAsync(unitOfWork, requestId, poolId, staker, TokenAmount.Zero, isClaim: true, cancellationToken);

    /// <summary>A staker's stake and profit, with the pool's missed epochs counted (nothing is written).</summary>
    /// <returns>The status, or <see langword="null"/> when there is no such pool with staking.</returns>
    public ValueTask<StakeStatus?> GetStatusAsync(PoolId poolId, Address staker, CancellationToken cancellationToken = default) =>
        _store.RunReadAsync((Service: this, Pool: poolId, Staker: staker), static async (unitOfWork, request, ct) =>
        {
            // The missed epochs are computed, not written: a read neither waits for nor conflicts with the job.
            var service = request.Service;
            var pool = await unitOfWork.Pools.GetPoolAsync(request.Pool, ct).ConfigureAwait(false);
            if (pool is null || service._registry.ConfigOf(pool).Staking is not { } config)
            {
                return null;
            }

            var projection = await ProjectAsync(unitOfWork, request.Pool, config, service._timeProvider.GetUtcNow(), ct).ConfigureAwait(false);
            return (await StakerAsync(unitOfWork, projection.Current, request.Staker, projection.RewardPerTokenAfter, ct).ConfigureAwait(false)).Status;
        }, cancellationToken);

    /// <summary>
    /// What-if: the APR of staking <paramref name="amount"/> now, projected over the next 365 days from the pool's daily
    /// reward, the stake that earns (today's and what is already scheduled to join) and what the reward reserve can still
    /// pay — the epochs simulated as the job will process them, assuming no other stake joins or leaves and no one funds
    /// the reserve. Nothing is written.
    /// </summary>
    /// <returns>The projection, or <see langword="null"/> when there is no such pool with staking.</returns>
    public ValueTask<StakeProjection?> ProjectStakeAsync(PoolId poolId, TokenAmount amount, CancellationToken cancellationToken = default) =>
        _store.RunReadAsync((Service: this, Pool: poolId, Amount: amount), static async (unitOfWork, request, ct) =>
        {
            var service = request.Service;
            var pool = await unitOfWork.Pools.GetPoolAsync(request.Pool, ct).ConfigureAwait(false);
            if (pool is null || service._registry.ConfigOf(pool).Staking is not { } config)
            {
                return null;
            }

            var now = service._timeProvider.GetUtcNow();
            var projection = await ProjectAsync(unitOfWork, request.Pool, config, now, ct).ConfigureAwait(false);
            var current = projection.Current;
            var room = config.Capacity > current.Staked ? config.Capacity - current.Staked : TokenAmount.Zero;
            var staked = request.Amount < room ? request.Amount : room;
            var earnsFrom = EligibleDayOf(now, config.MinStakeAgeSeconds);
            var reserve = (BigInteger)projection.Reserve.BaseUnits;
            var daily = (BigInteger)config.DailyReward.BaseUnits;
            var runway = daily.IsZero ? 365 : (int)BigInteger.Min(reserve / daily, 100_000);

            // The epochs from the next one for a year: stake joins as scheduled (this one on its day), the reserve pays
            // the daily reward while it lasts, this stake takes its share of each epoch it earns in.
            var eligible = (BigInteger)current.Eligible.BaseUnits;
            var earned = BigInteger.Zero;
            var scheduledUntil = Math.Max(earnsFrom, current.LastEpochDay + 1) + (int)Math.Ceiling(config.MinStakeAgeSeconds / 86_400d) + 1;
            for (var day = current.LastEpochDay + 1; day <= current.LastEpochDay + 365; day++)
            {
                if (day <= scheduledUntil)
                {
                    eligible += (BigInteger)(await unitOfWork.Staking.GetScheduledEligibilityAsync(request.Pool, day, ct).ConfigureAwait(false)).BaseUnits;
                }

                var mine = day >= earnsFrom ? (BigInteger)staked.BaseUnits : BigInteger.Zero;
                if (eligible + mine > 0 && daily > 0 && reserve > 0)
                {
                    var paid = BigInteger.Min(daily, reserve);
                    reserve -= paid;
                    earned += paid * mine / (eligible + mine);
                }
            }

            var apr = staked.IsZero ? (decimal?)null : (decimal)(earned * 1_000_000_000 / (BigInteger)staked.BaseUnits) / 1_000_000_000m;
            return new StakeProjection(staked, apr, new TokenAmount((UInt128)earned), DateOnly.FromDayNumber(earnsFrom), runway, current.Eligible, room);
        }, cancellationToken);

    /// <summary>A pool's processed epochs, latest first (1 to 500 per page).</summary>
    public ValueTask<IReadOnlyList<StakeEpoch>> GetEpochsAsync(PoolId poolId, DateOnly? before, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(limit, 500);
        return _store.RunReadAsync((Pool: poolId, Before: before?.DayNumber, Limit: limit), static (unitOfWork, page, ct) => unitOfWork.Staking.ListEpochsAsync(page.Pool, page.Before, page.Limit, ct), cancellationToken);
    }

    [LoggerMessage(EventId = 402, Level = LogLevel.Warning, Message = "Staking epochs of pool {PoolId} failed to process; the run goes on with the other pools and tries it again next time.")]
    private static partial void LogEpochsFailed(ILogger logger, Exception exception, PoolId poolId);

    /// <summary>
    /// The daily incentive job: processes every staking pool's missed epochs up to yesterday, one unit of work per pool.
    /// A pool that fails is reported and the others still run; running it twice or on two instances processes each
    /// epoch once (the pool's state version and the epoch's unique day decide).
    /// </summary>
    public async ValueTask<EpochRunReport> ProcessEpochsAsync(CancellationToken cancellationToken = default)
    {
        var processed = 0;
        var failures = new List<(PoolId, string)>();
        PoolId? after = null;
        while (true)
        {
            var pools = await _registry.ListAsync(after, 500, cancellationToken).ConfigureAwait(false);
            foreach (var pool in pools)
            {
                if (_registry.ConfigOf(pool).Staking is not { } config)
                {
                    continue;
                }

                try
                {
                    processed += await _store.RunAsync((Service: this, Pool: pool.Id, Config: config), static async (unitOfWork, request, ct) =>
                    {
                        if (await unitOfWork.Staking.GetPoolStakingAsync(request.Pool, ct).ConfigureAwait(false) is null)
                        {
                            return 0;
                        }

                        var state = await request.Service.StateAsync(unitOfWork, request.Pool, request.Config, request.Service._timeProvider.GetUtcNow(), ct).ConfigureAwait(false);
                        await SaveAsync(unitOfWork, state, ct).ConfigureAwait(false);
                        return state.EpochsProcessed;
                    }, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception exception) when (exception is not OperationCanceledException)
                {
                    LogEpochsFailed(_logger, exception, pool.Id);
                    failures.Add((pool.Id, exception.Message));
                }
            }

            if (pools.Count < 500)
            {
                return new EpochRunReport(processed, failures);
            }

            after = pools[^1].Id;
        }
    }

    private ValueTask<StakeCommandOutcome> CommandAsync(TransferId requestId, PoolId poolId, Address staker, TokenAmount amount, bool isClaim, CancellationToken cancellationToken) =>
        _store.RunAsync((Service: this, Id: requestId, Pool: poolId, Staker: staker, Amount: amount, IsClaim: isClaim), static (unitOfWork, request, ct) =>
            request.Service.CommandAsync(unitOfWork, request.Id, request.Pool, request.Staker, request.Amount, request.IsClaim, ct), cancellationToken);

    private async ValueTask<StakeCommandOutcome> CommandAsync(IAnpmUnitOfWork unitOfWork, TransferId requestId, PoolId poolId, Address account, TokenAmount amount, bool isClaim, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(unitOfWork);
        var pool = await unitOfWork.Pools.GetPoolAsync(poolId, cancellationToken).ConfigureAwait(false);
        if (pool is null || _registry.ConfigOf(pool).Staking is not { } config)
        {
            return new StakeCommandOutcome(StakeCommandResult.PoolNotFound, TokenAmount.Zero, null, $"There is no staking pool '{poolId}'.");
        }

        var now = _timeProvider.GetUtcNow();
        var state = await StateAsync(unitOfWork, pool.Id, config, now, cancellationToken).ConfigureAwait(false);
        await SaveAsync(unitOfWork, state, cancellationToken).ConfigureAwait(false); // the epochs caught up are kept whatever follows
        if (await unitOfWork.Outbox.GetOutgoingAsync(requestId, cancellationToken).ConfigureAwait(false) is { } previous)
        {
            var same = previous.To == account && previous.Kind == (isClaim ? RewardKind : UnstakeKind) && (isClaim || previous.Amount == amount);
            var status = (await StakerAsync(unitOfWork, state.Current, account, null, cancellationToken).ConfigureAwait(false)).Status;
            return same
                ? new StakeCommandOutcome(StakeCommandResult.Exists, previous.Amount, status, null)
                : new StakeCommandOutcome(StakeCommandResult.IdTaken, TokenAmount.Zero, status, $"Request id '{requestId}' was used for another transfer.");
        }

        if (await unitOfWork.System.IsPausedAsync(cancellationToken).ConfigureAwait(false))
        {
            return new StakeCommandOutcome(StakeCommandResult.SystemPaused, TokenAmount.Zero, null, "The system is paused.");
        }

        var staker = await StakerAsync(unitOfWork, state.Current, account, null, cancellationToken).ConfigureAwait(false);
        TokenAmount paid;
        if (isClaim)
        {
            paid = staker.Status.Pending;
            if (paid.IsZero)
            {
                return new StakeCommandOutcome(StakeCommandResult.NothingToClaim, TokenAmount.Zero, staker.Status, "There are no rewards to claim.");
            }

            await unitOfWork.Staking.UpdateStakerAsync(staker.State! with { Claimed = staker.State!.Claimed + paid }, staker.State.Version, cancellationToken).ConfigureAwait(false);
            await SendAsync(unitOfWork, requestId, PoolAccounts.RewardPot(pool.Id), account, paid, RewardKind, cancellationToken).ConfigureAwait(false);
            await unitOfWork.Events.AppendAsync(AnpmEventTypes.StakeReward, requestId.ToString(), new System.Text.Json.Nodes.JsonObject
            {
                ["poolId"] = pool.Id.ToString(), ["account"] = account.ToString(), ["amount"] = paid.ToString(), ["transferId"] = requestId.ToString(),
            }, _timeProvider.GetUtcNow(), cancellationToken).ConfigureAwait(false);
        }
        else
        {
            if (amount.IsZero || amount > staker.Status.Staked)
            {
                return new StakeCommandOutcome(StakeCommandResult.InsufficientStake, TokenAmount.Zero, staker.Status,
                    $"Unstake 1 to {staker.Status.Staked} base units (the stake of {account} in pool '{pool.Id}').");
            }

            await UnstakeLotsAsync(unitOfWork, state, staker, amount, cancellationToken).ConfigureAwait(false);
            await SendAsync(unitOfWork, requestId, PoolAccounts.Stakes(pool.Id), account, amount, UnstakeKind, cancellationToken).ConfigureAwait(false);
            paid = amount;
        }

        await SaveAsync(unitOfWork, state, cancellationToken).ConfigureAwait(false);
        var after = (await StakerAsync(unitOfWork, state.Current, account, null, cancellationToken).ConfigureAwait(false)).Status;
        return new StakeCommandOutcome(StakeCommandResult.Done, paid, after, null);
    }

    // Newest lots first: aging lots leave before earning ones. An earning lot's reward so far is settled exactly.
    private static async ValueTask UnstakeLotsAsync(IAnpmUnitOfWork unitOfWork, PoolState state, StakerView staker, TokenAmount amount, CancellationToken cancellationToken)
    {
        var current = state.Current;
        var settled = staker.State!.SettledReward;
        var stakeDays = staker.State.SettledStakeDays;
        var remaining = amount;
        foreach (var lot in staker.Lots.AsEnumerable().Reverse())
        {
            if (remaining.IsZero)
            {
                break;
            }

            var take = lot.Amount < remaining ? lot.Amount : remaining;
            if (lot.EligibleDay <= current.LastEpochDay)
            {
                settled += (BigInteger)take.BaseUnits * (current.RewardPerToken - await RewardPerTokenBeforeAsync(unitOfWork, current, lot.EligibleDay, cancellationToken).ConfigureAwait(false));
                stakeDays += (BigInteger)take.BaseUnits * (current.LastEpochDay - lot.EligibleDay + 1);
                current = current with { Eligible = current.Eligible - take };
            }
            else
            {
                var scheduled = await unitOfWork.Staking.GetScheduledEligibilityAsync(current.PoolId, lot.EligibleDay, cancellationToken).ConfigureAwait(false);
                await unitOfWork.Staking.SetScheduledEligibilityAsync(current.PoolId, lot.EligibleDay, scheduled - take, cancellationToken).ConfigureAwait(false);
            }

            await unitOfWork.Staking.UpdateLotAmountAsync(lot, lot.Amount - take, lot.Version, cancellationToken).ConfigureAwait(false);
            remaining -= take;
        }

        state.Current = current with { Staked = current.Staked - amount };
        await unitOfWork.Staking.UpdateStakerAsync(staker.State with { SettledReward = settled, SettledStakeDays = stakeDays }, staker.State.Version, cancellationToken).ConfigureAwait(false);
    }

    private async ValueTask SendAsync(IAnpmUnitOfWork unitOfWork, TransferId id, AccountId from, Address to, TokenAmount amount, TransferKind kind, CancellationToken cancellationToken)
    {
        var sent = await _outbox.EnqueueAsync(unitOfWork, id, from, to, WellKnownAssets.Apus, amount, kind, from.ToString(), cancellationToken).ConfigureAwait(false);
        if (sent.Result != EnqueueResult.Enqueued)
        {
            throw sent.ToException($"Paying '{id}' from '{from}'");
        }
    }

    // The staker's lots, bookkeeping and status against the pool's (caught-up) state.
    // projected: the accumulator after each epoch computed but not stored (a status read); null when every epoch is stored.
    private static async ValueTask<StakerView> StakerAsync(
        IAnpmUnitOfWork unitOfWork, PoolStakingState pool, Address staker, IReadOnlyDictionary<int, BigInteger>? projected, CancellationToken cancellationToken)
    {
        var state = await unitOfWork.Staking.GetStakerAsync(pool.PoolId, staker, cancellationToken).ConfigureAwait(false);
        var lots = await unitOfWork.Staking.ListLotsAsync(pool.PoolId, staker, cancellationToken).ConfigureAwait(false);
        var reward = state?.SettledReward ?? BigInteger.Zero;
        var stakeDays = state?.SettledStakeDays ?? BigInteger.Zero;
        var (staked, eligible) = (TokenAmount.Zero, TokenAmount.Zero);
        foreach (var lot in lots)
        {
            staked += lot.Amount;
            if (lot.EligibleDay <= pool.LastEpochDay)
            {
                var before = projected is not null && projected.TryGetValue(lot.EligibleDay - 1, out var computed) ? computed
                    : await RewardPerTokenBeforeAsync(unitOfWork, pool, lot.EligibleDay, cancellationToken).ConfigureAwait(false);
                reward += (BigInteger)lot.Amount.BaseUnits * (pool.RewardPerToken - before);
                stakeDays += (BigInteger)lot.Amount.BaseUnits * (pool.LastEpochDay - lot.EligibleDay + 1);
            }

            if (lot.EligibleDay <= pool.LastEpochDay + 1)
            {
                eligible += lot.Amount;
            }
        }

        var earned = new TokenAmount((UInt128)(reward / Scale));
        var claimed = state?.Claimed ?? TokenAmount.Zero;
        decimal? apr = stakeDays.IsZero ? null : (decimal)((BigInteger)earned.BaseUnits * 365 * 1_000_000_000 / stakeDays) / 1_000_000_000m;
        var status = new StakeStatus(staked, eligible, earned - claimed, claimed, apr, DateOnly.FromDayNumber(pool.LastEpochDay));
        return new StakerView(state, lots, status);
    }

    // The accumulator before epoch `day` ran: after epoch day - 1, or zero before the pool's first epoch.
    private static async ValueTask<BigInteger> RewardPerTokenBeforeAsync(IAnpmUnitOfWork unitOfWork, PoolStakingState pool, int day, CancellationToken cancellationToken) =>
        day - 1 == pool.LastEpochDay ? pool.RewardPerToken
            : (await unitOfWork.Staking.GetEpochAsync(pool.PoolId, day - 1, cancellationToken).ConfigureAwait(false))?.RewardPerTokenAfter ?? BigInteger.Zero;

    // The pool's staking state with every finished epoch processed (in the caller's unit of work; SaveAsync writes it).
    private async ValueTask<PoolState> StateAsync(IAnpmUnitOfWork unitOfWork, PoolId pool, StakingConfig config, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var today = DateOnly.FromDateTime(now.UtcDateTime).DayNumber;
        var stored = await unitOfWork.Staking.GetPoolStakingAsync(pool, cancellationToken).ConfigureAwait(false);
        if (stored is null)
        {
            foreach (var account in new[] { PoolAccounts.Stakes(pool), PoolAccounts.RewardReserve(pool), PoolAccounts.RewardPot(pool) })
            {
                var created = await _ledger.CreateAccountsAsync(unitOfWork, [new NewAccount(account, WellKnownAssets.Apus, AccountFlags.DebitsMustNotExceedCredits)], cancellationToken).ConfigureAwait(false);
                if (!created[0].IsSuccess())
                {
                    throw new AnpmException($"Account '{account}' could not be created: {created[0]}.");
                }
            }

            return new PoolState(null, new PoolStakingState { PoolId = pool, Staked = TokenAmount.Zero, Eligible = TokenAmount.Zero, RewardPerToken = 0, LastEpochDay = today - 1 });
        }

        var state = new PoolState(stored, stored);
        while (state.Current.LastEpochDay < today - 1)
        {
            await ProcessEpochAsync(unitOfWork, state, config, now, cancellationToken).ConfigureAwait(false);
        }

        return state;
    }

    // The pool's staking state with every finished epoch computed from what is stored, writing nothing: the accumulator
    // after each computed epoch, for the stakers' rewards.
    private static async ValueTask<Projection> ProjectAsync(IAnpmUnitOfWork unitOfWork, PoolId pool, StakingConfig config, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var today = DateOnly.FromDateTime(now.UtcDateTime).DayNumber;
        var current = await unitOfWork.Staking.GetPoolStakingAsync(pool, cancellationToken).ConfigureAwait(false);
        var projected = new Dictionary<int, BigInteger>();
        if (current is null)
        {
            return new Projection(new PoolStakingState { PoolId = pool, Staked = TokenAmount.Zero, Eligible = TokenAmount.Zero, RewardPerToken = 0, LastEpochDay = today - 1 }, projected,
                await ReserveAsync(unitOfWork, pool, cancellationToken).ConfigureAwait(false));
        }

        var reserve = await ReserveAsync(unitOfWork, pool, cancellationToken).ConfigureAwait(false);
        while (current.LastEpochDay < today - 1)
        {
            var next = await NextEpochAsync(unitOfWork, current, config, reserve, now, cancellationToken).ConfigureAwait(false);
            reserve -= next.Epoch.Paid;
            projected[next.Epoch.Day] = next.Epoch.RewardPerTokenAfter;
            current = After(current, next.Epoch);
        }

        return new Projection(current, projected, reserve);
    }

    private static async ValueTask<TokenAmount> ReserveAsync(IAnpmUnitOfWork unitOfWork, PoolId pool, CancellationToken cancellationToken) =>
        (await unitOfWork.Ledger.GetAccountAsync(PoolAccounts.RewardReserve(pool), cancellationToken).ConfigureAwait(false))?.AvailableBalance ?? TokenAmount.Zero;

    // The epoch after `current`: the stake joining that day, what the reserve pays of the daily reward, the accumulator
    // after it. Reads only.
    private static async ValueTask<NextEpoch> NextEpochAsync(
        IAnpmUnitOfWork unitOfWork, PoolStakingState current, StakingConfig config, TokenAmount reserve, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var day = current.LastEpochDay + 1;
        var joining = await unitOfWork.Staking.GetScheduledEligibilityAsync(current.PoolId, day, cancellationToken).ConfigureAwait(false);
        var eligible = current.Eligible + joining;
        var (paid, shortfall, increment) = (TokenAmount.Zero, TokenAmount.Zero, BigInteger.Zero);
        if (!eligible.IsZero && !config.DailyReward.IsZero)
        {
            paid = config.DailyReward < reserve ? config.DailyReward : reserve;
            shortfall = config.DailyReward - paid;
            increment = (BigInteger)paid.BaseUnits * Scale / (BigInteger)eligible.BaseUnits;
        }

        var epoch = new StakeEpoch
        {
            PoolId = current.PoolId,
            Day = day,
            Eligible = eligible,
            Budget = config.DailyReward,
            Paid = paid,
            Shortfall = shortfall,
            RewardPerTokenAfter = current.RewardPerToken + increment,
            ProcessedAt = now,
        };
        return new NextEpoch(epoch, joining);
    }

    private static PoolStakingState After(PoolStakingState current, StakeEpoch epoch) =>
        current with { Eligible = epoch.Eligible, RewardPerToken = epoch.RewardPerTokenAfter, LastEpochDay = epoch.Day };

    // Processes the next epoch in the caller's unit of work: the joining stake becomes eligible, the reserve pays the pot,
    // the epoch is recorded (once: its day is unique).
    private async ValueTask ProcessEpochAsync(IAnpmUnitOfWork unitOfWork, PoolState state, StakingConfig config, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var current = state.Current;
        var reserve = await ReserveAsync(unitOfWork, current.PoolId, cancellationToken).ConfigureAwait(false);
        var (epoch, joining) = await NextEpochAsync(unitOfWork, current, config, reserve, now, cancellationToken).ConfigureAwait(false);
        if (!joining.IsZero)
        {
            await unitOfWork.Staking.SetScheduledEligibilityAsync(current.PoolId, epoch.Day, TokenAmount.Zero, cancellationToken).ConfigureAwait(false);
        }

        if (!epoch.Paid.IsZero)
        {
            var moved = (await _ledger.CreateTransfersAsync(unitOfWork,
            [
                new TransferRequest
                {
                    Id = TransferId.Parse($"epoch:{current.PoolId}:{epoch.Day}"),
                    DebitAccountId = PoolAccounts.RewardReserve(current.PoolId),
                    CreditAccountId = PoolAccounts.RewardPot(current.PoolId),
                    Asset = WellKnownAssets.Apus,
                    Amount = epoch.Paid,
                    Kind = EpochKind,
                    Reference = DateOnly.FromDayNumber(epoch.Day).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture),
                },
            ], cancellationToken).ConfigureAwait(false))[0];
            if (moved != CreateTransferResult.Created)
            {
                throw moved.ToException($"Paying epoch {epoch.Day} of pool '{current.PoolId}'");
            }
        }

        if (!await unitOfWork.Staking.TryInsertEpochAsync(epoch, cancellationToken).ConfigureAwait(false))
        {
            throw new AnpmConcurrencyException($"Epoch {epoch.Day} of pool '{current.PoolId}' was processed at the same time; retry.");
        }

        state.Current = After(current, epoch);
        state.EpochsProcessed++;
    }

    // Writes the pool's state (inserting it the first time); safe to call again after further changes.
    private static async ValueTask SaveAsync(IAnpmUnitOfWork unitOfWork, PoolState state, CancellationToken cancellationToken)
    {
        if (state.Stored is null)
        {
            if (!await unitOfWork.Staking.TryInsertPoolStakingAsync(state.Current, cancellationToken).ConfigureAwait(false))
            {
                throw new AnpmConcurrencyException($"Staking in pool '{state.Current.PoolId}' started at the same time; retry.");
            }

            state.Current = state.Current with { Version = 0 };
        }
        else if (state.Current != state.Stored)
        {
            await unitOfWork.Staking.UpdatePoolStakingAsync(state.Current, state.Stored.Version, cancellationToken).ConfigureAwait(false);
            state.Current = state.Current with { Version = state.Stored.Version + 1 };
        }

        state.Stored = state.Current;
    }

    private sealed class PoolState(PoolStakingState? stored, PoolStakingState current)
    {
        public PoolStakingState? Stored { get; set; } = stored;

        public PoolStakingState Current { get; set; } = current;

        public int EpochsProcessed { get; set; }
    }

    private sealed record StakerView(StakerState? State, IReadOnlyList<StakeLot> Lots, StakeStatus Status);

    private sealed record Projection(PoolStakingState Current, IReadOnlyDictionary<int, BigInteger> RewardPerTokenAfter, TokenAmount Reserve);

    private readonly record struct NextEpoch(StakeEpoch Epoch, TokenAmount Joining);
}
