using Anpm.Abstractions;

namespace Anpm.Credits;

/// <summary>The outcome of handing an outgoing transfer to the token gateway.</summary>
public enum GatewaySendStatus
{
    /// <summary>The gateway accepted it (or had already accepted this id); a confirmation follows.</summary>
    Accepted = 1,

    /// <summary>The gateway could not take it now (unreachable, busy); it will be sent again later.</summary>
    RetryLater = 2,
}

/// <summary>The result of <see cref="ITokenGateway.SendAsync"/>.</summary>
/// <param name="Status">Accepted or retry later.</param>
/// <param name="ExternalReference">The gateway's reference (e.g. a message or transaction id), when it gave one.</param>
public readonly record struct GatewaySendResult(GatewaySendStatus Status, string ExternalReference = "");

/// <summary>
/// Hands outgoing token transfers to the token (a development token, or a production gateway). Sending the same transfer
/// id twice must pay once: the gateway is idempotent by <see cref="OutgoingTransfer.Id"/>.
/// </summary>
public interface ITokenGateway
{
    /// <summary>Hands a transfer to the gateway.</summary>
    /// <param name="transfer">The transfer; its id is the idempotency key.</param>
    /// <param name="cancellationToken">Cancels the call; the transfer is then sent again later.</param>
    /// <returns>Accepted, or retry later. Exceptions count as retry later.</returns>
    ValueTask<GatewaySendResult> SendAsync(OutgoingTransfer transfer, CancellationToken cancellationToken = default);
}
