using Anpm.Abstractions;
using Anpm.Credits;

namespace Anpm.Gateway.Evm.Tests;

/// <summary>An outbox gateway that never sends (these tests move money in, not out).</summary>
internal sealed class NoGateway : ITokenGateway
{
    public ValueTask<GatewaySendResult> SendAsync(OutgoingTransfer transfer, CancellationToken cancellationToken = default) =>
        new(new GatewaySendResult(GatewaySendStatus.RetryLater));
}
