using Anpm.Abstractions;
using Anpm.Credits;

namespace Anpm.AspNetCore;

/// <summary>
/// The gateway of <see cref="OutboxDelivery.GatewayPull"/>: the token gateway pulls the due transfers through the API, so
/// nothing is sent from here; should anything dispatch through it, the transfers stay in the outbox (retried later).
/// </summary>
internal sealed class PulledOutboxGateway : ITokenGateway
{
    public ValueTask<GatewaySendResult> SendAsync(OutgoingTransfer transfer, CancellationToken cancellationToken = default) =>
        new(new GatewaySendResult(GatewaySendStatus.RetryLater));
}
