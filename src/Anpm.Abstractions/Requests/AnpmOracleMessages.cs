namespace Anpm.Abstractions;

/// <summary>
/// The EIP-712 messages an oracle node and a pool share (the wire contract's, docs/reference/wire-contract.md): the node
/// signs them and the pool's host verifies them. Their first field is the actor, the oracle.
/// </summary>
public static class AnpmOracleMessages
{
    /// <summary>An oracle claims a task of a pool (a lease).</summary>
    public const string ClaimTask = "ClaimTask(address oracle,string poolId,uint256 nonce,uint256 deadline)";

    /// <summary>An oracle's attestation of a task's result: the model and output hashes it signs.</summary>
    public const string TaskResult = "TaskResult(address oracle,string taskId,string leaseId,bytes32 modelHash,bytes32 outputHash)";

    /// <summary>An oracle reports that it could not run a task.</summary>
    public const string TaskFailure = "TaskFailure(address oracle,string taskId,string leaseId,string reason)";

    /// <summary>The three, for <c>SignedRequestOptions.MessageTypes</c>.</summary>
    public static IReadOnlyList<string> All { get; } = [ClaimTask, TaskResult, TaskFailure];
}
