using System.Text;
using System.Text.Json;
using Anpm.Signing;
using Microsoft.AspNetCore.Http;

namespace Anpm.AspNetCore;

/// <summary>
/// Guards a read that only some roles may make (an operator's): the request carries a short-lived read token,
/// <c>Authorization: Anpm &lt;token&gt;</c>, where the token is the base64url of <c>{"message": {"reader": "0x…",
/// "deadline": "…"}, "signature": "0x…"}</c> — an EIP-712 <c>ReadAccess</c> message signed by the reader under the
/// host's domain, valid until its deadline (at most <see cref="SignedRequestOptions.MaxLifetimeSeconds"/> ahead). No
/// token is 401 <c>signature_required</c>; a bad or expired one 401; a reader without the role 403.
/// </summary>
internal sealed class SignedReadFilter(SignedRequestVerifier verifier, AnpmRoles roles) : IEndpointFilter
{
    /// <summary>The scheme of the <c>Authorization</c> header.</summary>
    public const string Scheme = "Anpm";

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        var required = context.HttpContext.GetEndpoint()?.Metadata.GetMetadata<SignedReadMetadata>()?.Roles ?? AnpmRole.Admin;
        return Check(context.HttpContext.Request.Headers.Authorization.ToString(), required) ?? await next(context).ConfigureAwait(false);
    }

    // The problem answer of a missing, bad or insufficient token; null when the reader may read.
    private IResult? Check(string header, AnpmRole required)
    {
        var who = AnpmRoles.Describe(required);
        if (header.Length == 0)
        {
            return AnpmProblems.Of(StatusCodes.Status401Unauthorized, "signature_required",
                $"This read is for {who} only: send 'Authorization: {Scheme} <token>', the base64url of {{\"message\": {{\"reader\", \"deadline\"}}, \"signature\"}} (EIP-712 ReadAccess under GET /eip712).");
        }

        if (!header.StartsWith(Scheme + " ", StringComparison.Ordinal))
        {
            return AnpmProblems.InvalidSignature($"The Authorization header must use the scheme '{Scheme}'.");
        }

        JsonElement message;
        string? signature;
        try
        {
            var token = header[(Scheme.Length + 1)..].Trim();
            if (token.Length > 4096)
            {
                return AnpmProblems.InvalidSignature("The read token is longer than 4096 characters.");
            }

            using var document = JsonDocument.Parse(System.Buffers.Text.Base64Url.DecodeFromChars(token));
            if (document.RootElement.ValueKind != JsonValueKind.Object || !document.RootElement.TryGetProperty("message", out var m) || m.ValueKind != JsonValueKind.Object
                || !document.RootElement.TryGetProperty("signature", out var s) || s.ValueKind != JsonValueKind.String)
            {
                return AnpmProblems.InvalidSignature("The read token must be the base64url of {\"message\": {…}, \"signature\": \"0x…\"}.");
            }

            message = m.Clone();
            signature = s.GetString();
        }
        catch (Exception exception) when (exception is FormatException or JsonException or DecoderFallbackException)
        {
            return AnpmProblems.InvalidSignature("The read token is not base64url of JSON.");
        }

        var verified = verifier.Verify("ReadAccess", message, signature);
        return verified.Status switch
        {
            SignedRequestStatus.Valid when roles.HoldsAny(verified.Signer, required) => null,
            SignedRequestStatus.Valid => AnpmProblems.Forbidden($"{verified.Signer} is not {who}."),
            SignedRequestStatus.Expired or SignedRequestStatus.DeadlineTooFar => AnpmProblems.Of(StatusCodes.Status401Unauthorized, "signature_expired", verified.Error ?? "The deadline is not acceptable."),
            _ => AnpmProblems.InvalidSignature(verified.Error ?? "The read token's signature does not recover to its reader."),
        };
    }

}

/// <summary>The roles a signed read (<see cref="SignedReadFilter"/>) requires.</summary>
/// <param name="Roles">The roles the reader must hold one of.</param>
internal sealed record SignedReadMetadata(AnpmRole Roles);
