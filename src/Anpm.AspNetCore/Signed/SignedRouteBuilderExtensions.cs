using Anpm.AspNetCore;
using Anpm.Signing;
using Microsoft.AspNetCore.Http;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Marks routes as signed commands.</summary>
public static class SignedRouteBuilderExtensions
{
    /// <summary>
    /// Makes a route a signed command of message type <paramref name="type"/>: its <see cref="SignedRequest"/> parameter
    /// is read and verified (size, string limits, EIP-712 signature by the message's actor, deadline), the signer must
    /// hold one of <paramref name="roles"/>, and a message with a nonce is applied once, whatever the handler does: the
    /// pipeline opens one unit of work, claims (signer, nonce) in it, runs the handler on it
    /// (<see cref="SignedRequest.UnitOfWork"/>: every read and write of the command goes through it), records the answer
    /// in it and commits once, so of concurrent requests under one nonce exactly one's handler is kept.
    /// The same message again is answered with the first answer and <c>Idempotency-Replayed: true</c> without running the
    /// handler (also while the first still runs: its claim waits for the first's commit); another message under a used nonce is <c>409 conflict</c> with
    /// nothing applied. A refusal (a problem answer) changes nothing and is not recorded: the same message may be sent again.
    /// </summary>
    /// <param name="route">The route; its handler takes a <see cref="SignedRequest"/>.</param>
    /// <param name="type">The EIP-712 primary type.</param>
    /// <param name="extra">The body field beside message and signature that the message hashes, for the OpenAPI document.</param>
    /// <param name="roles">The roles the signer must hold one of.</param>
    /// <returns><paramref name="route"/>, for chaining.</returns>
    public static RouteHandlerBuilder RequireSignedMessage(this RouteHandlerBuilder route, string type, string? extra = null, AnpmRole roles = AnpmRole.None)
    {
        ArgumentNullException.ThrowIfNull(route);
        ArgumentException.ThrowIfNullOrEmpty(type);
        var declaration = AnpmWireMessages.All.FirstOrDefault(t => t.StartsWith(type + "(", StringComparison.Ordinal)) ?? type;
        var extraText = extra is null ? string.Empty : $", \"{extra}\": \"…\" (JSON text; its keccak256 is in the message)";
        var roleText = roles == AnpmRole.None ? string.Empty : $" The signer must be {AnpmRoles.Describe(roles)}.";
        return route
            .WithMetadata(new SignedMessageMetadata(type, extra, roles))
            .AddEndpointFilter<SignedRequestFilter>()
            .Accepts<SignedEnvelope>("application/json")
            .WithDescription($"Body {{\"message\": {{…}}, \"signature\": \"0x…\"{extraText}}}; the message is EIP-712 `{declaration}` under the domain of GET /eip712, "
                + $"signed by its first field.{roleText} A replay of the same (signer, nonce) and message returns the first answer with `Idempotency-Replayed: true`; "
                + "another message under a used nonce is 409 `conflict`. Errors are problem details with a `code`.")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge);
    }

    /// <summary>
    /// Makes a read (a GET route) one that only <paramref name="roles"/> may make: the request carries a short-lived read
    /// token, <c>Authorization: Anpm &lt;token&gt;</c> — the base64url of <c>{"message": {"reader", "deadline"},
    /// "signature"}</c>, an EIP-712 <c>ReadAccess</c> message signed by the reader under the domain of GET /eip712,
    /// reusable until its deadline (at most <see cref="SignedRequestOptions.MaxLifetimeSeconds"/> ahead). Without a token
    /// the answer is 401 <c>signature_required</c>; with a bad or expired one 401; from a reader without the role 403.
    /// </summary>
    /// <param name="route">The route.</param>
    /// <param name="roles">The roles the reader must hold one of (default: an admin).</param>
    /// <returns><paramref name="route"/>, for chaining.</returns>
    public static RouteHandlerBuilder RequireSignedRead(this RouteHandlerBuilder route, AnpmRole roles = AnpmRole.Admin)
    {
        ArgumentNullException.ThrowIfNull(route);
        return route
            .WithMetadata(new SignedReadMetadata(roles))
            .AddEndpointFilter<SignedReadFilter>()
            .WithDescription($"Only for {AnpmRoles.Describe(roles)}: send 'Authorization: Anpm <token>', the base64url of {{\"message\": {{\"reader\": \"0x…\", \"deadline\": \"…\"}}, \"signature\": \"0x…\"}} "
                + "(EIP-712 `ReadAccess(address reader,uint256 deadline)` under the domain of GET /eip712), reusable until its deadline.")
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden);
    }
}
