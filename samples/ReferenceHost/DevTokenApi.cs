using System.Text.Json;
using Anpm.Abstractions;
using Anpm.AspNetCore;
using Anpm.Credits;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace Anpm.ReferenceHost;

/// <summary>The body of the development token's faucet.</summary>
/// <param name="Address">Who receives the tokens.</param>
/// <param name="Quantity">How many base units, as a decimal string.</param>
public sealed record FaucetRequest(string Address, string Quantity);

/// <summary>What the faucet or a transfer left the address holding.</summary>
public sealed record DevTokenBalance(Address Address, TokenAmount Token);

/// <summary>A development token transfer to the manager and the credit notice it produced.</summary>
public sealed record DevTokenTransfer(Address From, TokenAmount Quantity, string Action, string Notice, TokenAmount Token);

/// <summary>
/// The development token's routes (docs/reference/wire-contract.md): the faucet and signed transfers to the manager,
/// which emit the token's credit notice before they answer. A signed route of the host's own, through the package's
/// signed-request pipeline.
/// </summary>
public static class DevTokenApi
{
    public static RouteGroupBuilder MapDevTokenApi(this IEndpointRouteBuilder app, string prefix)
    {
        var api = app.MapGroup(prefix + "/dev-token").WithTags("development token");
        api.MapPost("/faucet", FaucetAsync).WithName("DevTokenFaucet").Accepts<FaucetRequest>("application/json")
            .WithSummary("Mint development tokens (capped by Anpm:DevToken:FaucetMax).");
        api.MapPost("/transfers", TransferAsync).WithName("DevTokenTransfer").RequireSignedMessage("TokenTransfer");
        return api;
    }

    private static async Task<Results<Ok<DevTokenBalance>, ProblemHttpResult>> FaucetAsync(HttpContext http, IServiceProvider services, IOptions<AnpmApiOptions> options)
    {
        if (services.GetService<DevToken>() is not { } token)
        {
            return AnpmProblems.NotFound("The development token is off (Anpm:DevToken:Enabled).");
        }

        var (body, problem) = await AnpmRequestBody.ReadJsonAsync(http, options.Value.MaxBodyBytes);
        if (problem is ProblemHttpResult refused)
        {
            return refused;
        }

        if (body.ValueKind != JsonValueKind.Object || !body.TryGetProperty("address", out var addressElement) || addressElement.ValueKind != JsonValueKind.String
            || !Address.TryParse(addressElement.GetString(), out var address, out _))
        {
            return AnpmProblems.Invalid("address must be a 0x address.");
        }

        if (!body.TryGetProperty("quantity", out var quantityElement) || quantityElement.ValueKind != JsonValueKind.String
            || !TokenAmount.TryParse(quantityElement.GetString(), out var quantity) || quantity.IsZero)
        {
            return AnpmProblems.Invalid("quantity must be a decimal string of base units, at least 1.");
        }

        if (quantity > token.FaucetMax)
        {
            return AnpmProblems.Of(StatusCodes.Status422UnprocessableEntity, "limit_exceeded", $"The faucet gives at most {token.FaucetMax} base units per request.");
        }

        await token.FaucetAsync(address, quantity, http.RequestAborted);
        return TypedResults.Ok(new DevTokenBalance(address, await token.BalanceAsync(address, http.RequestAborted)));
    }

    private static async Task<Results<Ok<DevTokenTransfer>, ProblemHttpResult>> TransferAsync(
        SignedRequest request, IServiceProvider services, HostRoles roles, TokenNoticeProcessor notices, CancellationToken ct)
    {
        if (services.GetService<DevToken>() is not { } token)
        {
            return AnpmProblems.NotFound("The development token is off (Anpm:DevToken:Enabled).");
        }

        if (!Address.TryParse(request.Text("to"), out var to, out _) || to != roles.Manager)
        {
            return AnpmProblems.Invalid($"message.to must be the manager address {roles.Manager}.");
        }

        if (request.Amount("quantity") is not { IsZero: false } quantity)
        {
            return AnpmProblems.Invalid("message.quantity must be 1 to 2^128-1 base units.");
        }

        // The transfer and its credit notice are one unit of work (the notice is idempotent by its message id): both
        // commit, or neither does — tokens never move without the notice that says what they are for.
        var notice = new TokenNotice
        {
            MessageId = "dev:" + request.ShortId,
            Sender = request.Signer,
            Quantity = quantity,
            Action = request.Text("action"),
            PoolId = request.Text("poolId"),
            Reference = request.Text("reference"),
            ReceivedAt = default,
            Outcome = string.Empty,
        };

        // Both in the request's one unit of work; an overflow inside rolls both back (the pipeline answers 422 amount_too_large).
        var unitOfWork = request.UnitOfWork;
        var moved = await token.MoveAsync(unitOfWork, TransferId.Parse("devtx:" + request.ShortId), request.Signer, roles.Manager, quantity, ct);
        if (moved == CreateTransferResult.ExceedsBalance)
        {
            return AnpmProblems.InsufficientBalance($"{request.Signer} holds {await DevToken.BalanceAsync(unitOfWork, request.Signer, ct)} dev tokens.");
        }

        if (moved.IsOverflow())
        {
            return AnpmProblems.AmountTooLarge($"{quantity} dev tokens would push a ledger account past its 128-bit totals ({moved}); nothing moved.");
        }

        if (!moved.IsSuccess())
        {
            return AnpmProblems.Invalid($"The transfer was refused: {moved}.");
        }

        var outcome = await notices.ApplyAsync(unitOfWork, notice, ct);
        return TypedResults.Ok(new DevTokenTransfer(request.Signer, quantity, request.Text("action"), outcome.Outcome, await DevToken.BalanceAsync(unitOfWork, request.Signer, ct)));
    }
}
