using System.Text.Json;
using Anpm.Abstractions;

namespace Anpm.AspNetCore;

// The response bodies of the API's routes (camelCase JSON; amounts as decimal strings of base units, addresses lowercase).

/// <summary><c>GET /config</c>: what a client needs to talk to this host.</summary>
public sealed record ConfigView(bool Paused, TokenView Token, Address ManagerAddress, ulong ChainId, IReadOnlyList<Address> Admins, Address? Feeder, Address? Treasury)
{
    /// <summary>The application's further public settings (<see cref="AnpmApiOptions.PublicSettings"/>), as top-level fields.</summary>
    [System.Text.Json.Serialization.JsonExtensionData]
    public IDictionary<string, JsonElement>? Settings { get; init; }
}

/// <summary>The token's symbol and decimals.</summary>
public sealed record TokenView(string Symbol, int Decimals);

/// <summary><c>GET /eip712</c>: the domain and the types, ready for <c>eth_signTypedData_v4</c>.</summary>
public sealed record Eip712View(Eip712DomainView Domain, JsonElement Types);

/// <summary>The EIP-712 domain.</summary>
public sealed record Eip712DomainView(string Name, string Version, ulong ChainId, Address VerifyingContract);

/// <summary><c>GET /exchange-rate</c>: the rate in force and the history, newest first.</summary>
public sealed record ExchangeRateView(RateView? Current, IReadOnlyList<RateView> History);

/// <summary>An exchange rate: <c>credits</c> per <c>tokenUnits</c> base units, from <c>effectiveAt</c>.</summary>
public sealed record RateView(TokenAmount Credits, TokenAmount TokenUnits, DateTimeOffset EffectiveAt);

/// <summary>A pool: id, owner, config, status (name and number) and campaign totals.</summary>
public sealed record PoolView(PoolId PoolId, Address Owner, JsonElement Config, string Status, int StatusNumber, PoolTotalsView? Totals);

/// <summary>A pool's campaign totals.</summary>
public sealed record PoolTotalsView(IReadOnlyDictionary<string, int> Contributions, TokenAmount Collected, TokenAmount Held, TokenAmount ReceivedBack, TokenAmount Undistributed, TokenAmount Dust);

/// <summary><c>GET /pools/{poolId}/stats</c>: tasks by status, latency percentiles, per-oracle counts, credits consumed.</summary>
public sealed record PoolStatsView(IReadOnlyDictionary<string, int> Counts, LatencyView LatencyMs, IReadOnlyList<OracleStatsView> Oracles, TokenAmount CreditsConsumed);

/// <summary>Task latency percentiles in milliseconds (null before any task finished).</summary>
public sealed record LatencyView(double? P50, double? P95, double? P99);

/// <summary>One oracle's counts in a pool.</summary>
public sealed record OracleStatsView(Address Oracle, int Leases, int Results, int Failures, int Dissents);

/// <summary><c>GET /pools/{poolId}/tasks</c>: a page of tasks, newest first.</summary>
public sealed record TaskPage(IReadOnlyList<TaskSummary> Tasks, string? NextCursor);

/// <summary>A task in a list.</summary>
public sealed record TaskSummary(string TaskId, Address Account, string Model, string Status, TokenAmount CreditsCharged, DateTimeOffset CreatedAt, DateTimeOffset? CompletedAt);

/// <summary><c>GET /tasks/{taskId}</c>: a task with its output and the oracles' attestations.</summary>
public sealed record TaskDetail(string TaskId, string Status, string? Output, IReadOnlyList<AttestationView> Attestations, TokenAmount CreditsCharged, string? FailureReason);

/// <summary>An oracle's signed attestation of a result (EIP-712 <c>TaskResult</c>), and whether it agrees with the accepted output.</summary>
public sealed record AttestationView(AttestationMessage Message, string Signature, bool Agrees);

/// <summary>The fields of a <c>TaskResult</c> attestation.</summary>
public sealed record AttestationMessage(Address Oracle, string TaskId, string LeaseId, string ModelHash, string OutputHash);

/// <summary><c>GET /pools/{poolId}/stakes/projection</c>: what staking an amount now would earn over a year (the what-if APR), if nothing else changed.</summary>
public sealed record StakeProjectionView(TokenAmount Amount, decimal? Apr, TokenAmount ProjectedRewards, DateOnly EarnsFrom, int RunwayDays, TokenAmount Eligible, TokenAmount Room);

/// <summary><c>GET /pools/{poolId}/stakes/{address}</c>: a staker's stake and profit.</summary>
public sealed record StakeView(TokenAmount Staked, TokenAmount Eligible, TokenAmount Pending, TokenAmount Claimed, decimal? Apr, DateOnly LastEpoch);

/// <summary>A contribution.</summary>
public sealed record ContributionView(ContributionId ContributionId, PoolId PoolId, Address Owner, TokenAmount Amount, string Status, int StatusNumber, TokenAmount Paidout);

/// <summary><c>GET /accounts/{address}</c>: an address's credits, credits in pools, stakes, contributions and token balance.</summary>
public sealed record AccountView(Address Address, TokenAmount Credits, IReadOnlyList<PoolCreditsView> Pools, IReadOnlyList<AccountStakeView> Stakes, IReadOnlyList<AccountContributionView> Contributions, TokenAmount? Token)
{
    /// <summary>The account's credit grants in the order tasks burn them (empty when the host keeps none).</summary>
    public IReadOnlyList<CreditGrantView> Grants { get; init; } = [];
}

/// <summary>A credit grant: category, amounts (granted, left, held by tasks, expired), expiry and priority.</summary>
/// <param name="GrantId">Its id (<c>paid:{address}</c> for purchased credits).</param>
/// <param name="Category"><c>Paid</c> or <c>Promotional</c>.</param>
/// <param name="Amount">Granted in all.</param>
/// <param name="Remaining">Left to spend.</param>
/// <param name="Held">Held by tasks not finished.</param>
/// <param name="Expired">Gone at its expiry.</param>
/// <param name="ExpiresAt">When what is left expires; null for never.</param>
/// <param name="Priority">0 (burnt first) to 100.</param>
public sealed record CreditGrantView(string GrantId, string Category, TokenAmount Amount, TokenAmount Remaining, TokenAmount Held, TokenAmount Expired, DateTimeOffset? ExpiresAt, int Priority)
{
    /// <summary>The view of a grant.</summary>
    public static CreditGrantView Of(CreditGrant grant)
    {
        ArgumentNullException.ThrowIfNull(grant);
        return new(grant.Id, grant.Category.ToString(), grant.Amount, grant.Remaining, grant.Held, grant.Expired, grant.ExpiresAt, grant.Priority);
    }
}

/// <summary>Credits an address holds in a pool.</summary>
public sealed record PoolCreditsView(PoolId PoolId, TokenAmount Credits);

/// <summary>An address's stake in a pool.</summary>
public sealed record AccountStakeView(PoolId PoolId, TokenAmount Staked, TokenAmount Eligible, TokenAmount Pending, TokenAmount Claimed);

/// <summary>An address's contribution.</summary>
public sealed record AccountContributionView(ContributionId ContributionId, PoolId PoolId, TokenAmount Amount, string Status, int StatusNumber, TokenAmount Paidout);

/// <summary><c>GET /accounts/{address}/history</c>: ledger entries of the address's credits, newest first.</summary>
public sealed record HistoryPage(IReadOnlyList<HistoryEntry> Entries, string? NextCursor);

/// <summary>One ledger entry of an account.</summary>
public sealed record HistoryEntry(long Sequence, TransferId TransferId, TransferKind Kind, TokenAmount Amount, string Direction, AccountId Counterparty, string Reference, bool Pending, string State, DateTimeOffset Timestamp)
{
    /// <summary>
    /// What the entry does to the account's available credits, signed (e.g. <c>"-10"</c>): a hold takes them at once, its
    /// post changes nothing more, its void gives them back; the changes of the whole history add up to the balance.
    /// </summary>
    public string Change { get; init; } = "0";
}

/// <summary><c>GET /audit/solvency</c>: the ledger's invariant per asset and, where known, the token's holdings against obligations.</summary>
public sealed record SolvencyView(bool Ok, IReadOnlyList<string> Problems, IReadOnlyList<AssetAuditView> Assets, TokenSolvencyView? Token);

/// <summary>One asset's totals; debits and credits are equal when the ledger balances.</summary>
public sealed record AssetAuditView(AssetCode Asset, long Accounts, string DebitsPosted, string CreditsPosted, string DebitsPending, string CreditsPending, long NegativeAccounts);

/// <summary>
/// What the token holds against what the ledger owes, read at one point (<c>readAt</c>, e.g. a block): the holdings there,
/// and the payouts that left them but are not final yet (<c>inFlight</c>, still owed by the ledger). Solvent when
/// holdings + inFlight cover the obligations; a shortfall is an incident.
/// </summary>
public sealed record TokenSolvencyView(AssetCode Asset, TokenAmount Holdings, TokenAmount InFlight, TokenAmount Obligations, TokenAmount Surplus, TokenAmount Shortfall, bool Solvent, string? ReadAt);

/// <summary>Credits moved into or out of a pool: the account's credits and its credits in the pool after the move.</summary>
public sealed record CreditsMoved(Address Account, PoolId PoolId, TokenAmount Credits, TokenAmount PoolCredits);

/// <summary>A task added: its id, status and the credits held for it.</summary>
public sealed record TaskAdded(string TaskId, string Status, TokenAmount CreditsHeld);

/// <summary>A task leased to an oracle.</summary>
public sealed record OracleClaim(string TaskId, string LeaseId, DateTimeOffset LeaseExpiresAt, string Model, string ModelHash, string Input);

/// <summary>What an oracle's result or failure did to the task.</summary>
public sealed record TaskReport(string TaskId, string Status, string Outcome, string? Detail = null);

/// <summary>A pool created.</summary>
public sealed record PoolCreated(PoolId PoolId, Address Owner, string Status);

/// <summary>A contribution created: pay it (a token transfer) before <c>payBefore</c>.</summary>
public sealed record ContributionCreated(ContributionId ContributionId, string Status, DateTimeOffset? PayBefore);

/// <summary>A contribution's payout or refund claimed.</summary>
public sealed record ContributionClaimed(ContributionId ContributionId, string Status, int StatusNumber);

/// <summary>An unstake or a reward claim: the amount and the staker's status after it.</summary>
public sealed record StakeResult(TokenAmount Amount, TokenAmount? Staked, TokenAmount? Pending, TokenAmount? Claimed);

/// <summary>An oracle allowed or stopped in a pool.</summary>
public sealed record OracleSet(PoolId PoolId, Address Oracle, bool Active);

/// <summary>A credit notice applied (or replayed by its message id).</summary>
public sealed record NoticeApplied(string MessageId, string Outcome, bool Replayed);

/// <summary>The system's pause state.</summary>
public sealed record PauseView(bool Paused, DateTimeOffset ChangedAt, Address? ChangedBy);

/// <summary>The due outgoing transfers handed to the gateway.</summary>
public sealed record OutboxPullView(IReadOnlyList<PulledTransfer> Transfers);

/// <summary>An outgoing transfer to send on the token; confirm it by its id once final.</summary>
public sealed record PulledTransfer(TransferId TransferId, Address To, AssetCode Asset, TokenAmount Amount, TransferKind Kind, string Reference, int Attempts);

/// <summary>An outgoing transfer confirmed.</summary>
public sealed record OutboxConfirmed(TransferId TransferId, string Result);
