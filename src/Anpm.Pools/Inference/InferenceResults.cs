using System.Diagnostics.CodeAnalysis;
using Anpm.Abstractions;
using Anpm.Credits;

namespace Anpm.Pools;

/// <summary>The outcome of adding a task.</summary>
public enum AddTaskResult
{
    /// <summary>Added: Pending, its price held from the account's credits in the pool.</summary>
    Added = 1,

    /// <summary>The same request was added before (an idempotent replay); nothing changed.</summary>
    Exists = 2,

    /// <summary>The request key was used for another task; nothing changed.</summary>
    IdTaken = 3,

    /// <summary>There is no such pool, or it offers no inference.</summary>
    PoolNotFound = 4,

    /// <summary>The pool is not Active.</summary>
    PoolNotActive = 5,

    /// <summary>The pool does not offer that model.</summary>
    ModelNotOffered = 6,

    /// <summary>The model's price is above the request's maximum.</summary>
    PriceAboveMaximum = 7,

    /// <summary>The input is larger than the pool allows.</summary>
    InputTooLarge = 8,

    /// <summary>The account's credits in the pool do not cover the price.</summary>
    InsufficientCredits = 9,

    /// <summary>The system is paused.</summary>
    SystemPaused = 10,

    /// <summary>The price would push a ledger account past its 128-bit totals; nothing changed.</summary>
    AmountTooLarge = 11,

    /// <summary>The input does not fit the model's declared inputs (or the input format); nothing changed. The message names the field.</summary>
    InvalidInput = 12,

    /// <summary>The session key that signed the task may not add it now (<see cref="AddTaskOutcome.SessionKeyRefusal"/> says why); nothing changed.</summary>
    SessionKeyRefused = 13,
}

/// <summary>The result of adding a task.</summary>
/// <param name="Result">What happened.</param>
/// <param name="Task">The task, when added or found.</param>
/// <param name="Error">Why not, in words.</param>
/// <param name="SessionKeyRefusal">Why the session key was refused, with <see cref="AddTaskResult.SessionKeyRefused"/>.</param>
public sealed record AddTaskOutcome(AddTaskResult Result, InferenceTask? Task, string? Error, SessionKeyRefusal SessionKeyRefusal = SessionKeyRefusal.None)
{
    /// <summary>Whether the task was refused; then <see cref="Error"/> says why, and nothing changed.</summary>
    [MemberNotNullWhen(true, nameof(Error))]
    [MemberNotNullWhen(false, nameof(Task))]
    public bool IsRefused => Result is not (AddTaskResult.Added or AddTaskResult.Exists);
}

/// <summary>The outcome of an oracle's claim.</summary>
public enum ClaimTaskResult
{
    /// <summary>A task was leased to the oracle.</summary>
    Leased = 1,

    /// <summary>No task is waiting for this oracle.</summary>
    NoTask = 2,

    /// <summary>The oracle is not allowed (or not active) in the pool.</summary>
    NotAllowed = 3,

    /// <summary>There is no such pool, or it offers no inference.</summary>
    PoolNotFound = 4,

    /// <summary>The system is paused.</summary>
    SystemPaused = 5,
}

/// <summary>The result of a claim: the lease and the task to run.</summary>
public sealed record ClaimTaskOutcome(ClaimTaskResult Result, TaskLease? Lease, InferenceTask? Task, string? Error)
{
    /// <summary>Whether a task was leased: then <see cref="Task"/> and <see cref="Lease"/> are it.</summary>
    [MemberNotNullWhen(true, nameof(Task), nameof(Lease))]
    public bool IsLeased => Result == ClaimTaskResult.Leased;

    /// <summary>Whether the claim was refused; then <see cref="Error"/> says why, and nothing changed.</summary>
    [MemberNotNullWhen(true, nameof(Error))]
    public bool IsRefused => Result is not (ClaimTaskResult.Leased or ClaimTaskResult.NoTask);
}

/// <summary>The outcome of an oracle's result or failure report.</summary>
public enum TaskReportResult
{
    /// <summary>The result was recorded and completed the quorum: the task is Done and its hold posted.</summary>
    Accepted = 1,

    /// <summary>The result was recorded; the task waits for more results.</summary>
    Recorded = 2,

    /// <summary>The failure was recorded and the task requeued.</summary>
    Requeued = 3,

    /// <summary>The report ended the task as Failed (attempts used up, or quorum out of reach); the hold was voided.</summary>
    TaskFailed = 4,

    /// <summary>The same report was made before (an idempotent replay); nothing changed.</summary>
    Replayed = 5,

    /// <summary>Refused, the task unaffected; the message names why.</summary>
    Rejected = 6,

    /// <summary>
    /// The attested output is not the canonical document of the model's declared outputs: nobody is charged for it — the
    /// lease failed and the task was requeued, or (attempts used up) failed with its hold voided. The message names why.
    /// </summary>
    OutputRefused = 7,
}

/// <summary>Why a report was rejected.</summary>
public enum TaskReportRejection
{
    /// <summary>Not rejected.</summary>
    None = 0,

    /// <summary>No such lease, or it belongs to another task or oracle.</summary>
    ForeignLease = 1,

    /// <summary>The lease expired or already ended.</summary>
    LeaseNotActive = 2,

    /// <summary>The signature is malformed or not the oracle's.</summary>
    BadSignature = 3,

    /// <summary>The output's hash is not the attested one, or the model hash is not the task's.</summary>
    HashMismatch = 4,

    /// <summary>The output is larger than the pool allows.</summary>
    OutputTooLarge = 5,
}

/// <summary>The result of an oracle's report.</summary>
public sealed record TaskReportOutcome(TaskReportResult Result, TaskReportRejection Rejection, InferenceTask? Task, string? Error)
{
    /// <summary>Whether the report was rejected (see <see cref="Rejection"/>); then <see cref="Error"/> says why. Any other result names its task.</summary>
    [MemberNotNullWhen(true, nameof(Error))]
    [MemberNotNullWhen(false, nameof(Task))]
    public bool IsRejected => Result == TaskReportResult.Rejected;
}

/// <summary>An oracle's signed attestation of a task's result, as users can verify it.</summary>
/// <param name="Oracle">The oracle.</param>
/// <param name="LeaseId">The lease it answered.</param>
/// <param name="ModelHash">The model hash it attested.</param>
/// <param name="OutputHash">The output hash it attested.</param>
/// <param name="Signature">Its EIP-712 signature over <c>TaskResult(oracle, taskId, leaseId, modelHash, outputHash)</c>.</param>
/// <param name="Agrees">Whether it matches the accepted output (false for a dissenting oracle).</param>
public sealed record TaskAttestation(Address Oracle, string LeaseId, string ModelHash, string OutputHash, string Signature, bool Agrees);

/// <summary>A task as users read it: status, output, the attestations and the credits charged.</summary>
public sealed record TaskView(InferenceTask Task, IReadOnlyList<TaskAttestation> Attestations, TokenAmount CreditsCharged);

/// <summary>A pool's task statistics.</summary>
/// <param name="Counts">Tasks by status.</param>
/// <param name="LatencyP50">Median time from adding to completion of recent Done tasks; null when none.</param>
/// <param name="LatencyP95">95th percentile.</param>
/// <param name="LatencyP99">99th percentile.</param>
/// <param name="Oracles">Per-oracle leases, results, failures and dissents.</param>
/// <param name="CreditsConsumed">Credits consumed by Done tasks.</param>
public sealed record TaskStatistics(
    IReadOnlyDictionary<InferenceTaskStatus, int> Counts, TimeSpan? LatencyP50, TimeSpan? LatencyP95, TimeSpan? LatencyP99,
    IReadOnlyList<OracleTaskCounts> Oracles, TokenAmount CreditsConsumed);
