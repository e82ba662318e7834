using System.Text.Json;
using Anpm.Abstractions;
using Anpm.Credits;

namespace Anpm.ReferenceHost;

/// <summary>The development token's routes (API.md): the faucet and signed transfers to the manager.</summary>
public static class DevTokenApi
{
    public static IEndpointRouteBuilder MapDevTokenApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1/dev-token").WithTags("development token");
        api.MapPost("/faucet", async (HttpContext http, IServiceProvider services) =>
        {
            if (services.GetService<DevToken>() is not { } token)
            {
                return Problems.NotFound("The development token is off (Anpm:DevToken:Enabled).");
            }

            var (body, problem) = await SignedRequests.ReadJsonBodyAsync(http);
            if (problem is not null)
            {
                return problem;
            }

            if (body.ValueKind != JsonValueKind.Object || !body.TryGetProperty("address", out var addressElement) || addressElement.ValueKind != JsonValueKind.String
                || !Address.TryParse(addressElement.GetString(), out var address, out var error))
            {
                return Problems.Invalid("address must be a 0x address.");
            }

            if (!body.TryGetProperty("quantity", out var quantityElement) || quantityElement.ValueKind != JsonValueKind.String
                || !TokenAmount.TryParse(quantityElement.GetString(), out var quantity) || quantity.IsZero)
            {
                return Problems.Invalid("quantity must be a decimal string of base units, at least 1.");
            }

            if (quantity > token.FaucetMax)
            {
                return Problems.Of(422, "limit_exceeded", $"The faucet gives at most {token.FaucetMax} base units per request.");
            }

            await token.FaucetAsync(address, quantity, http.RequestAborted);
            return Results.Ok(new { address, token = await token.BalanceAsync(address, http.RequestAborted) });
        }).Accepts<FaucetRequest>("application/json").WithSummary("Mint development tokens (capped by Anpm:DevToken:FaucetMax).").ProducesProblem(400).ProducesProblem(404).ProducesProblem(422);
        api.MapPost("/transfers", (HttpContext http, IServiceProvider services, HostRoles roles, TokenNoticeProcessor notices) =>
            SignedRequests.HandleAsync(http, "TokenTransfer", async request =>
            {
                if (services.GetService<DevToken>() is not { } token)
                {
                    return CommandResponse.Fail(Problems.NotFound("The development token is off (Anpm:DevToken:Enabled)."), 404);
                }

                if (!Address.TryParse(request.Text("to"), out var to, out _) || to != roles.Manager)
                {
                    return CommandResponse.Fail(Problems.Invalid($"message.to must be the manager address {roles.Manager}."), 400);
                }

                if (request.Amount("quantity") is not { IsZero: false } quantity)
                {
                    return CommandResponse.Fail(Problems.Invalid("message.quantity must be 1 to 2^128-1 base units."), 400);
                }

                var moved = await token.MoveAsync(TransferId.Parse("devtx:" + request.ShortId), request.Signer, roles.Manager, quantity, http.RequestAborted);
                if (moved == CreateTransferResult.ExceedsBalance)
                {
                    return CommandResponse.Fail(Problems.Of(422, "insufficient_balance", $"{request.Signer} holds {await token.BalanceAsync(request.Signer, http.RequestAborted)} dev tokens."), 422);
                }

                if (moved is not (CreateTransferResult.Created or CreateTransferResult.Exists))
                {
                    return CommandResponse.Fail(Problems.Invalid($"The transfer was refused: {moved}."), 400);
                }

                // The token's credit notice, applied before the response returns (idempotent by its message id).
                var outcome = await notices.ApplyAsync(new TokenNotice
                {
                    MessageId = "dev:" + request.ShortId,
                    Sender = request.Signer,
                    Quantity = quantity,
                    Action = request.Text("action"),
                    PoolId = request.Text("poolId"),
                    Reference = request.Text("reference"),
                    ReceivedAt = default,
                    Outcome = string.Empty,
                }, http.RequestAborted);
                return CommandResponse.Ok(new
                {
                    from = request.Signer,
                    quantity,
                    action = request.Text("action"),
                    notice = outcome.Outcome,
                    token = await token.BalanceAsync(request.Signer, http.RequestAborted),
                });
            })).Signed("TokenTransfer");
        return app;
    }
}
