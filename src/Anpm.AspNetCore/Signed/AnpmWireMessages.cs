using Anpm.Abstractions;

namespace Anpm.AspNetCore;

/// <summary>
/// The EIP-712 message types of the wire contract (docs/reference/wire-contract.md, "Signed requests"), which
/// <c>AddAnpmApi</c> adds to <c>SignedRequestOptions.MessageTypes</c>: users', admins', the token gateway's (pull due
/// outgoing transfers, confirm one, credit notices), a wallet's grant and revocation of a session key, an admin's webhook
/// endpoints, the short-lived read token of an operator's reads (<c>ReadAccess</c>: no nonce, reusable until its
/// deadline), and the oracles' (<see cref="AnpmOracleMessages"/>). The actor is each type's first field.
/// </summary>
public static class AnpmWireMessages
{
    /// <summary>Every message type of the wire contract, in EIP-712 notation.</summary>
    public static IReadOnlyList<string> All { get; } =
    [
        "TokenTransfer(address from,address to,uint256 quantity,string action,string poolId,string reference,uint256 nonce,uint256 deadline)",
        "CreditNotice(address gateway,string messageId,address sender,uint256 quantity,string action,string poolId,string reference)",
        "TransferCredits(address account,string poolId,uint256 amount,uint256 nonce,uint256 deadline)",
        "WithdrawCredits(address account,string poolId,uint256 amount,uint256 nonce,uint256 deadline)",
        "AddTask(address account,string poolId,string model,bytes32 inputHash,uint256 maxCredits,uint256 nonce,uint256 deadline)",
        "Unstake(address account,string poolId,uint256 amount,uint256 nonce,uint256 deadline)",
        "ClaimRewards(address account,string poolId,uint256 nonce,uint256 deadline)",
        "CreateContribution(address account,string poolId,uint256 amount,uint256 nonce,uint256 deadline)",
        "ClaimContribution(address account,string contributionId,uint256 nonce,uint256 deadline)",
        "CreatePool(address owner,string poolId,bytes32 configHash,uint256 nonce,uint256 deadline)",
        "SetPoolStatus(address admin,string poolId,uint8 status,string reason,uint256 nonce,uint256 deadline)",
        "SetAmountDistributing(address admin,string poolId,uint256 amount,uint256 nonce,uint256 deadline)",
        "SetExchangeRate(address feeder,uint256 credits,uint256 tokenUnits,uint256 effectiveAt,uint256 nonce,uint256 deadline)",
        "SetOracle(address owner,string poolId,address oracle,bool active,uint256 nonce,uint256 deadline)",
        "Pause(address admin,bool paused,uint256 nonce,uint256 deadline)",
        AnpmOracleMessages.ClaimTask,
        AnpmOracleMessages.TaskResult,
        AnpmOracleMessages.TaskFailure,
        "OutboxPull(address gateway,uint256 limit,uint256 nonce,uint256 deadline)",
        "OutboxConfirm(address gateway,string transferId,string externalReference,uint256 nonce,uint256 deadline)",
        "Delegate(address account,address delegate,string poolId,string actions,uint256 spendCap,uint256 expiresAt,uint256 nonce,uint256 deadline)",
        "RevokeDelegate(address account,address delegate,uint256 nonce,uint256 deadline)",
        "RegisterWebhook(address admin,string url,bytes32 secretHash,string eventTypes,uint256 nonce,uint256 deadline)",
        "DisableWebhook(address admin,string endpointId,uint256 nonce,uint256 deadline)",
        "SetBalanceAlert(address account,string poolId,uint256 threshold,uint256 nonce,uint256 deadline)",
        "GrantCredits(address admin,address account,uint256 amount,string category,uint256 expiresAt,uint8 priority,uint256 nonce,uint256 deadline)",
        "RetryPayout(address admin,string transferId,string reason,uint256 nonce,uint256 deadline)",
        "ReturnPayout(address admin,string transferId,string reason,uint256 nonce,uint256 deadline)",
        "ReadAccess(address reader,uint256 deadline)",
    ];
}
