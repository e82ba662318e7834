namespace Anpm.Abstractions;

/// <summary>An inference task as stored: what to run, its credit hold, its replication settings and its outcome.</summary>
public sealed record InferenceTask
{
    /// <summary>The task id (derived from the requester and nonce, so a replayed request finds its task).</summary>
    public required string Id { get; init; }

    /// <summary>The pool that runs it.</summary>
    public required PoolId PoolId { get; init; }

    /// <summary>Who asked (and whose credits in the pool are held).</summary>
    public required Address Account { get; init; }

    /// <summary>The model id.</summary>
    public required string Model { get; init; }

    /// <summary>The model's SHA-256 (<c>0x</c> + 64 hex digits), as the attestations must name it.</summary>
    public required string ModelHash { get; init; }

    /// <summary>The input (JSON text).</summary>
    public required string Input { get; init; }

    /// <summary>The price held from the account's credits in the pool.</summary>
    public required TokenAmount Price { get; init; }

    /// <summary>The task's status.</summary>
    public required InferenceTaskStatus Status { get; init; }

    /// <summary>How many oracles run it (k).</summary>
    public required int Replication { get; init; }

    /// <summary>How many agreeing results accept it (q).</summary>
    public required int Quorum { get; init; }

    /// <summary>How many leases may end without a result before it fails.</summary>
    public required int MaxAttempts { get; init; }

    /// <summary>Replica slots not leased and without a result (while Pending there is at least one).</summary>
    public required int OpenSlots { get; init; }

    /// <summary>Leases that ended without a result (failure or expiry).</summary>
    public int FailedAttempts { get; init; }

    /// <summary>When it was added.</summary>
    public required DateTimeOffset CreatedAt { get; init; }

    /// <summary>When it ended (Done or Failed).</summary>
    public DateTimeOffset? CompletedAt { get; init; }

    /// <summary>The accepted output (JSON text), when Done.</summary>
    public string? Output { get; init; }

    /// <summary>The accepted output's Keccak-256 (<c>0x</c> + 64 hex digits), when Done.</summary>
    public string? OutputHash { get; init; }

    /// <summary>Why it failed, when Failed.</summary>
    public string? FailureReason { get; init; }

    /// <summary>The optimistic version.</summary>
    public long Version { get; init; }

    /// <summary>The session key that added the task for <see cref="Account"/> (its price counts against the key's cap until the task fails); <see langword="null"/> when the account signed it.</summary>
    public string? SessionKeyId { get; init; }
}

/// <summary>The state of a lease of one replica slot of a task to one oracle.</summary>
public enum TaskLeaseState
{
    /// <summary>The oracle holds it until it expires.</summary>
    Active = 1,

    /// <summary>The oracle returned a signed result.</summary>
    Resulted = 2,

    /// <summary>The oracle reported a failure.</summary>
    Failed = 3,

    /// <summary>It expired without a result.</summary>
    Expired = 4,
}

/// <summary>A lease of one replica slot of a task to an oracle, and what the oracle returned.</summary>
public sealed record TaskLease
{
    /// <summary>The lease id (given to the oracle; its attestation names it).</summary>
    public required string Id { get; init; }

    /// <summary>The task.</summary>
    public required string TaskId { get; init; }

    /// <summary>The pool (for per-pool statistics).</summary>
    public required PoolId PoolId { get; init; }

    /// <summary>The oracle holding it.</summary>
    public required Address Oracle { get; init; }

    /// <summary>The lease's state.</summary>
    public required TaskLeaseState State { get; init; }

    /// <summary>When it was leased.</summary>
    public required DateTimeOffset LeasedAt { get; init; }

    /// <summary>When it expires unless a result or failure arrives.</summary>
    public required DateTimeOffset ExpiresAt { get; init; }

    /// <summary>When it ended.</summary>
    public DateTimeOffset? EndedAt { get; init; }

    /// <summary>The output's hash the oracle attested (Resulted).</summary>
    public string? OutputHash { get; init; }

    /// <summary>The output the oracle returned (Resulted).</summary>
    public string? Output { get; init; }

    /// <summary>The oracle's signature over its TaskResult or TaskFailure.</summary>
    public string? Signature { get; init; }

    /// <summary>The reason the oracle gave (Failed) or <c>expired</c>.</summary>
    public string? Reason { get; init; }

    /// <summary>Set when the task was accepted with another output than this lease's (a dissenting oracle).</summary>
    public bool Dissent { get; init; }

    /// <summary>The optimistic version.</summary>
    public long Version { get; init; }
}

/// <summary>An oracle's standing in a pool's allow-list.</summary>
/// <param name="PoolId">The pool.</param>
/// <param name="Oracle">The oracle's address.</param>
/// <param name="Active">Whether it may claim the pool's tasks.</param>
/// <param name="ChangedAt">When it was last set.</param>
public sealed record PoolOracle(PoolId PoolId, Address Oracle, bool Active, DateTimeOffset ChangedAt);

/// <summary>Per-oracle counts of a pool's leases.</summary>
/// <param name="Oracle">The oracle.</param>
/// <param name="Leases">Leases taken.</param>
/// <param name="Results">Signed results returned.</param>
/// <param name="Failures">Failures reported or leases expired.</param>
/// <param name="Dissents">Results that disagreed with the accepted output.</param>
public sealed record OracleTaskCounts(Address Oracle, int Leases, int Results, int Failures, int Dissents);

/// <summary>Storage of inference tasks, their leases and the pools' oracle allow-lists inside a unit of work.</summary>
public interface IInferenceStore
{
    /// <summary>Inserts a task unless one with its id exists.</summary>
    /// <returns><see langword="false"/> when it exists; nothing changed.</returns>
    ValueTask<bool> TryInsertTaskAsync(InferenceTask task, CancellationToken cancellationToken = default);

    /// <summary>Reads a task.</summary>
    ValueTask<InferenceTask?> GetTaskAsync(string id, CancellationToken cancellationToken = default);

    /// <summary>Replaces a task's changing fields if its version is still <paramref name="expectedVersion"/>.</summary>
    /// <exception cref="AnpmConcurrencyException">It changed meanwhile.</exception>
    /// <exception cref="AnpmException">It does not exist.</exception>
    ValueTask UpdateTaskAsync(InferenceTask updated, long expectedVersion, CancellationToken cancellationToken = default);

    /// <summary>
    /// The oldest Pending task of a pool that <paramref name="oracle"/> never leased, locked for this unit of work; tasks
    /// locked by other units of work are skipped (PostgreSQL: <c>FOR UPDATE SKIP LOCKED</c>).
    /// </summary>
    /// <returns>The task, or <see langword="null"/> when there is none for this oracle.</returns>
    ValueTask<InferenceTask?> ClaimNextTaskAsync(PoolId pool, Address oracle, CancellationToken cancellationToken = default);

    /// <summary>
    /// Pending tasks (of any pool) nobody is working on and nothing has happened to since <paramref name="idleSince"/>:
    /// no Active lease, created at or before it, and no lease taken or ended after it. Oldest first.
    /// </summary>
    ValueTask<IReadOnlyList<InferenceTask>> GetOverdueTasksAsync(DateTimeOffset idleSince, int limit, CancellationToken cancellationToken = default);

    /// <summary>A pool's tasks counted by status.</summary>
    ValueTask<IReadOnlyDictionary<InferenceTaskStatus, int>> CountTasksAsync(PoolId pool, CancellationToken cancellationToken = default);

    /// <summary>How long a pool's latest Done tasks took from creation to completion, newest first.</summary>
    ValueTask<IReadOnlyList<TimeSpan>> GetRecentLatenciesAsync(PoolId pool, int limit, CancellationToken cancellationToken = default);

    /// <summary>An account's tasks in a pool, newest first.</summary>
    /// <param name="pool">The pool.</param>
    /// <param name="account">The account; every account's when <see langword="null"/>.</param>
    /// <param name="before">Only tasks created before this (a cursor); <see langword="null"/> from the newest.</param>
    /// <param name="limit">The most tasks.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    ValueTask<IReadOnlyList<InferenceTask>> ListTasksAsync(PoolId pool, Address? account, DateTimeOffset? before, int limit, CancellationToken cancellationToken = default);

    /// <summary>Inserts a lease unless one with its id exists.</summary>
    /// <returns><see langword="false"/> when it exists; nothing changed.</returns>
    ValueTask<bool> TryInsertLeaseAsync(TaskLease lease, CancellationToken cancellationToken = default);

    /// <summary>Reads a lease.</summary>
    ValueTask<TaskLease?> GetLeaseAsync(string id, CancellationToken cancellationToken = default);

    /// <summary>Replaces a lease's changing fields (state, end, output, signature, reason, dissent, expiry) if its version is still <paramref name="expectedVersion"/>.</summary>
    /// <exception cref="AnpmConcurrencyException">It changed meanwhile.</exception>
    /// <exception cref="AnpmException">It does not exist.</exception>
    ValueTask UpdateLeaseAsync(TaskLease updated, long expectedVersion, CancellationToken cancellationToken = default);

    /// <summary>A task's leases, oldest first.</summary>
    ValueTask<IReadOnlyList<TaskLease>> ListTaskLeasesAsync(string taskId, CancellationToken cancellationToken = default);

    /// <summary>Active leases whose expiry is at or before <paramref name="now"/>, earliest first.</summary>
    ValueTask<IReadOnlyList<TaskLease>> GetExpiredLeasesAsync(DateTimeOffset now, int limit, CancellationToken cancellationToken = default);

    /// <summary>A pool's leases counted per oracle.</summary>
    ValueTask<IReadOnlyList<OracleTaskCounts>> CountOracleLeasesAsync(PoolId pool, CancellationToken cancellationToken = default);

    /// <summary>Sets an oracle's standing in a pool's allow-list (insert or replace).</summary>
    ValueTask SetOracleAsync(PoolOracle oracle, CancellationToken cancellationToken = default);

    /// <summary>Reads an oracle's standing in a pool.</summary>
    ValueTask<PoolOracle?> GetOracleAsync(PoolId pool, Address oracle, CancellationToken cancellationToken = default);

    /// <summary>A pool's allow-list, in address order.</summary>
    ValueTask<IReadOnlyList<PoolOracle>> ListOraclesAsync(PoolId pool, CancellationToken cancellationToken = default);
}

/// <summary>Reasons an oracle gives in a <c>TaskFailure</c> that a pool acts on.</summary>
public static class TaskFailureReasons
{
    /// <summary>
    /// The prefix of a failure caused by the task's input, which no node can run (e.g. <c>bad input: inputs.pixels.shape …</c>):
    /// the pool ends the task at once and voids its hold, instead of requeuing it for another attempt.
    /// </summary>
    public const string BadInput = "bad input";

    /// <summary>Whether <paramref name="reason"/> reports a bad input (<see cref="BadInput"/>, alone or followed by <c>:</c>).</summary>
    public static bool IsBadInput(string? reason) =>
        reason is not null && reason.StartsWith(BadInput, StringComparison.Ordinal) && (reason.Length == BadInput.Length || reason[BadInput.Length] == ':');
}
