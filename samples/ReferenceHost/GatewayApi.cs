using Anpm.Abstractions;
using Anpm.Credits;

namespace Anpm.ReferenceHost;

/// <summary>
/// Production gateway mode (development token off): the token gateway pulls the due outgoing transfers
/// (<c>OutboxPull</c>) and, once a transfer is final on the token, confirms it (<c>OutboxConfirm</c>), which lets its
/// tokens leave the ledger and marks the payout, refund or unstake it pays as paid. A pulled transfer that is not
/// confirmed within the outbox's confirmation timeout is handed out again, so the gateway must be idempotent by
/// <c>transferId</c>. Credit notices come in through <c>POST /api/v1/token/notices</c>.
/// </summary>
public static class GatewayApi
{
    /// <summary>The most transfers one pull returns.</summary>
    public const int MaxPull = 100;

    public static IEndpointRouteBuilder MapGatewayApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1/gateway").WithTags("token gateway");
        api.MapPost("/outbox/pull", (HttpContext http, Outbox outbox, HostRoles roles, AnpmHostOptions options) =>
            SignedRequests.HandleAsync(http, "OutboxPull", async request =>
            {
                if (request.Signer != roles.Gateway)
                {
                    return CommandResponse.Fail(Problems.Of(403, "forbidden", $"{request.Signer} is not the gateway (Anpm:Gateway)."), 403);
                }

                if (options.DevToken.Enabled == true)
                {
                    return CommandResponse.Fail(Problems.Of(409, "invalid_state", "The development token settles outgoing transfers (Anpm:DevToken:Enabled is on); there is nothing to pull.", "DevToken"), 409);
                }

                var limit = SignedRequests.Integer(request.Message.GetProperty("limit"));
                if (limit < 1 || limit > MaxPull)
                {
                    return CommandResponse.Fail(Problems.Invalid($"message.limit must be 1 to {MaxPull}, not {limit}."), 400);
                }

                var collector = new PullingGateway();
                await outbox.DispatchDueAsync(collector, (int)limit, http.RequestAborted);
                return CommandResponse.Ok(new
                {
                    transfers = collector.Pulled.Select(t => new
                    {
                        transferId = t.Id, to = t.To, asset = t.Asset, amount = t.Amount, kind = t.Kind, reference = t.Reference, attempts = t.Attempts + 1,
                    }),
                });
            })).Signed("OutboxPull");
        api.MapPost("/outbox/{transferId}/confirm", (string transferId, HttpContext http, Outbox outbox, HostRoles roles) =>
            SignedRequests.HandleAsync(http, "OutboxConfirm", async request =>
            {
                if (request.Signer != roles.Gateway)
                {
                    return CommandResponse.Fail(Problems.Of(403, "forbidden", $"{request.Signer} is not the gateway (Anpm:Gateway)."), 403);
                }

                if (request.Text("transferId") != transferId || !TransferId.TryParse(transferId, out var id, out _))
                {
                    return CommandResponse.Fail(Problems.Invalid("message.transferId must be the transfer of the route."), 400);
                }

                var reference = request.Text("externalReference");
                if (reference.Length > 256)
                {
                    return CommandResponse.Fail(Problems.Invalid("message.externalReference is longer than 256 characters."), 400);
                }

                var confirmed = await outbox.ConfirmAsync(id, reference, http.RequestAborted);
                return confirmed == ConfirmResult.NotFound
                    ? CommandResponse.Fail(Problems.NotFound($"There is no outgoing transfer '{transferId}'."), 404)
                    : CommandResponse.Ok(new { transferId = id, result = confirmed.ToString() });
            })).Signed("OutboxConfirm");
        return app;
    }

    // Collects the due transfers of one pull and reports them accepted: they wait for the confirmation.
    private sealed class PullingGateway : ITokenGateway
    {
        public List<OutgoingTransfer> Pulled { get; } = [];

        public ValueTask<GatewaySendResult> SendAsync(OutgoingTransfer transfer, CancellationToken cancellationToken = default)
        {
            Pulled.Add(transfer);
            return new(new GatewaySendResult(GatewaySendStatus.Accepted, "pulled"));
        }
    }
}
