using System.Text;
using System.Text.Json.Nodes;
using Anpm.Abstractions;

namespace Anpm.Credits;

/// <summary>The event types Anpm writes (the <c>type</c> of a webhook delivery).</summary>
public static class AnpmEventTypes
{
    /// <summary>A task is Done: its output verified and its price charged. Data: <c>taskId, poolId, account, creditsCharged</c>.</summary>
    public const string TaskDone = "task.done";

    /// <summary>A task Failed: its hold voided. Data: <c>taskId, poolId, account, reason</c>.</summary>
    public const string TaskFailed = "task.failed";

    /// <summary>A contribution was paid. Data: <c>contributionId, poolId, owner, amount</c>.</summary>
    public const string ContributionPaid = "contribution.paid";

    /// <summary>A contribution's payout can be claimed. Data: <c>contributionId, poolId, owner</c>.</summary>
    public const string ContributionPayoutAvailable = "contribution.payout_available";

    /// <summary>A contribution's refund can be claimed. Data: <c>contributionId, poolId, owner</c>.</summary>
    public const string ContributionRefundAvailable = "contribution.refund_available";

    /// <summary>Tokens that arrived bought credits. Data: <c>messageId, account, credits, tokens</c>.</summary>
    public const string DepositCredited = "deposit.credited";

    /// <summary>A staker's rewards were paid out. Data: <c>poolId, account, amount</c>.</summary>
    public const string StakeReward = "stake.reward";

    /// <summary>An account's credits in a pool fell to or below its alert threshold. Data: <c>account, poolId, credits, threshold</c>.</summary>
    public const string LowBalance = "balance.low";

    /// <summary>A pool's status changed. Data: <c>poolId, from, to</c>.</summary>
    public const string PoolStatusChanged = "pool.status_changed";

    /// <summary>An operator sent a payout that failed on chain again: <c>{transferId, to, amount, by, reason}</c>.</summary>
    public const string PayoutRetried = "payout.retried";

    /// <summary>An operator gave up on a payout that failed on chain; its tokens went back to the account they came from: <c>{transferId, to, amount, by, reason}</c>.</summary>
    public const string PayoutReturned = "payout.returned";

    /// <summary>An operator resumed crediting deposits after a reorg halted it: <c>{chainId, anchor, haltedAt, by, reason}</c>.</summary>
    public const string DepositsResumed = "deposits.resumed";

    /// <summary>Every type, for validating an endpoint's list.</summary>
    public static IReadOnlyList<string> All { get; } =
        [TaskDone, TaskFailed, ContributionPaid, ContributionPayoutAvailable, ContributionRefundAvailable, DepositCredited, StakeReward, LowBalance, PoolStatusChanged,
            PayoutRetried, PayoutReturned, DepositsResumed];
}

/// <summary>
/// Writes events into the unit of work of the change that caused them (a transactional outbox): they commit or roll back
/// with it, and a webhook dispatcher delivers them afterwards. An event's id is derived from its type and its cause's
/// key, so the same cause never makes two events.
/// </summary>
public static class AnpmEvents
{
    /// <summary>The id of the event of <paramref name="type"/> caused by <paramref name="key"/>: <c>evt_</c> + 32 hex digits.</summary>
    public static string IdOf(string type, string key) =>
        "evt_" + Convert.ToHexStringLower(Keccak256.Hash(Encoding.UTF8.GetBytes(type + ":" + key)))[..32];

    /// <summary>Appends an event, with the id its cause gives it (<see cref="IdOf"/>), to the unit of work of the change whose store this is (nothing when the same cause wrote it before).</summary>
    /// <param name="events">The event store of the change's unit of work.</param>
    /// <param name="type">One of <see cref="AnpmEventTypes"/>.</param>
    /// <param name="key">What caused it, unique for the type (e.g. a task id).</param>
    /// <param name="data">What happened.</param>
    /// <param name="now">When.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    public static async ValueTask AppendAsync(this IEventStore events, string type, string key, JsonObject data, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(events);
        ArgumentException.ThrowIfNullOrEmpty(type);
        ArgumentException.ThrowIfNullOrEmpty(key);
        ArgumentNullException.ThrowIfNull(data);
        await events.TryAppendEventAsync(new AnpmEvent { Id = IdOf(type, key), Type = type, Data = data.ToJsonString(), CreatedAt = now }, cancellationToken)
            .ConfigureAwait(false);
    }
}
