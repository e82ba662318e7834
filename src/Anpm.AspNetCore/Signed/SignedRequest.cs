using System.Globalization;
using System.Numerics;
using System.Reflection;
using System.Text;
using System.Text.Json;
using Anpm.Abstractions;
using Anpm.Credits;
using Anpm.Signing;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Anpm.AspNetCore;

/// <summary>
/// A verified signed request, bound from the body <c>{"message": {…}, "signature": "0x…", …extra}</c> of a route marked
/// with <see cref="Microsoft.AspNetCore.Builder.SignedRouteBuilderExtensions.RequireSignedMessage"/>: the body read within
/// <see cref="AnpmApiOptions.MaxBodyBytes"/>, every string field within <see cref="AnpmApiOptions.MaxStringLength"/>, the
/// EIP-712 signature recovered to the message's actor (its first field) and the deadline checked. A handler only ever
/// sees a request that passed; the route's filter answers the others.
/// </summary>
public sealed class SignedRequest : IBindableFromHttpContext<SignedRequest>
{
    private IAnpmUnitOfWork? _unitOfWork;

    private SignedRequest(string type, JsonElement message, Address signer, string digest, JsonElement body, string? nonce)
    {
        Type = type;
        Message = message;
        Signer = signer;
        Digest = digest;
        Body = body;
        Nonce = nonce;
    }

    private SignedRequest(string type, IResult problem)
    {
        Type = type;
        Digest = string.Empty;
        Problem = problem;
    }

    /// <summary>The EIP-712 message type, e.g. <c>TransferCredits</c>.</summary>
    public string Type { get; }

    /// <summary>The message's fields.</summary>
    public JsonElement Message { get; }

    /// <summary>Who signed it: the message's actor.</summary>
    public Address Signer { get; }

    /// <summary>The EIP-712 digest (<c>0x</c> + 64 hex): the same digest is the same message.</summary>
    public string Digest { get; }

    /// <summary>The whole body, with the extra fields (<c>input</c>, <c>config</c>, <c>output</c>…).</summary>
    public JsonElement Body { get; }

    /// <summary>The message's nonce in decimal digits, or <see langword="null"/> when its type has none (no replay record then).</summary>
    public string? Nonce { get; }

    /// <summary>The signature, <c>0x</c> + 130 hex.</summary>
    public string Signature => Body.GetProperty("signature").GetString()!;

    /// <summary>A stable key of this request: signer and nonce (the digest when the type has no nonce).</summary>
    public string Key => Nonce is null ? $"{Signer}:{Digest}" : $"{Signer}:{Nonce}";

    /// <summary>A short id derived from <see cref="Key"/> (40 hex digits), for ids of what the request creates.</summary>
    public string ShortId => Convert.ToHexStringLower(Keccak256.Hash(Encoding.UTF8.GetBytes(Key)))[..40];

    /// <summary>
    /// The session key that signed the request for <see cref="Signer"/> (the message's actor), or <see langword="null"/>
    /// when the actor signed it. A delegated <c>TransferCredits</c> or <c>WithdrawCredits</c> reaches its handler only with
    /// a key that was not revoked or expired and allows the type in the message's pool; a delegated <c>AddTask</c> is
    /// judged by <see cref="Anpm.Pools.InferenceService"/> with its charge, in the task's unit of work.
    /// </summary>
    public Address? Delegate { get; private init; }

    /// <summary>
    /// The unit of work of this signed command, opened by the route's pipeline before the handler runs: it already holds
    /// the claim of (signer, nonce). The handler does every read and write of the command through it (pass it to the
    /// command cores, e.g. <c>CreditService.TransferToPoolAsync(request.UnitOfWork, …)</c>) and never commits it: the
    /// pipeline records the answer in it and commits once, or ends it uncommitted when the handler answers a problem (a
    /// refusal keeps nothing, its claim included). Do not begin another unit of work of the same store inside the handler:
    /// on a store with one writer it would wait for this one.
    /// </summary>
    /// <exception cref="InvalidOperationException">Read outside the handler's run.</exception>
    public IAnpmUnitOfWork UnitOfWork =>
        _unitOfWork ?? throw new InvalidOperationException("SignedRequest.UnitOfWork exists only while the signed route's handler runs.");

    /// <summary>Hands the command's unit of work to the handler (the pipeline), or takes it back (<see langword="null"/>).</summary>
    internal void Attach(IAnpmUnitOfWork? unitOfWork) => _unitOfWork = unitOfWork;

    /// <summary>A credit notice whose first attempt would have overflowed the ledger: the next attempt refunds it.</summary>
    internal bool RunsAgainAsRefund { get; set; }

    /// <summary>Why the request was refused before its handler (the route's filter answers it); null when it passed.</summary>
    internal IResult? Problem { get; }

    /// <summary>A string field of the message.</summary>
    public string Text(string field) => Message.GetProperty(field).GetString() ?? string.Empty;

    /// <summary>A uint or int field of the message.</summary>
    public BigInteger Integer(string field) => ParseInteger(Message.GetProperty(field));

    /// <summary>A bool field of the message.</summary>
    public bool Boolean(string field) => Message.GetProperty(field).GetBoolean();

    /// <summary>A uint256 field of the message as a token amount; <see langword="null"/> when it does not fit 128 bits.</summary>
    public TokenAmount? Amount(string field)
    {
        var value = Integer(field);
        return value <= (BigInteger)UInt128.MaxValue ? new TokenAmount((UInt128)value) : null;
    }

    /// <summary>An extra string field of the body (beside message and signature), or <see langword="null"/> when absent or not a string.</summary>
    public string? Extra(string name) =>
        Body.ValueKind == JsonValueKind.Object && Body.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    /// <summary>Reads and verifies the body of a signed route (called by ASP.NET Core's parameter binding).</summary>
    /// <exception cref="InvalidOperationException">The route is not marked with <see cref="Microsoft.AspNetCore.Builder.SignedRouteBuilderExtensions.RequireSignedMessage"/>.</exception>
    public static async ValueTask<SignedRequest?> BindAsync(HttpContext context, ParameterInfo parameter)
    {
        ArgumentNullException.ThrowIfNull(context);
        var metadata = context.GetEndpoint()?.Metadata.GetMetadata<SignedMessageMetadata>()
            ?? throw new InvalidOperationException("A SignedRequest parameter needs a route marked with RequireSignedMessage(type).");
        var options = context.RequestServices.GetRequiredService<IOptions<AnpmApiOptions>>().Value;
        var type = metadata.Type;
        var (body, problem) = await AnpmRequestBody.ReadJsonAsync(context, options.MaxBodyBytes).ConfigureAwait(false);
        if (problem is not null)
        {
            return new SignedRequest(type, problem);
        }

        if (body.ValueKind != JsonValueKind.Object || !body.TryGetProperty("message", out var message) || message.ValueKind != JsonValueKind.Object
            || !body.TryGetProperty("signature", out var signature) || signature.ValueKind != JsonValueKind.String)
        {
            return new SignedRequest(type, AnpmProblems.Invalid("The body must be {\"message\": {...}, \"signature\": \"0x…\"}."));
        }

        foreach (var field in message.EnumerateObject())
        {
            if (field.Value.ValueKind == JsonValueKind.String && field.Value.GetString()!.Length > options.MaxStringLength)
            {
                return new SignedRequest(type, AnpmProblems.Invalid($"message.{field.Name} is longer than {options.MaxStringLength} characters."));
            }
        }

        var verifier = context.RequestServices.GetRequiredService<SignedRequestVerifier>();
        var delegable = SessionKeyService.TryGetAction(type, out var action);
        SignedRequestResult verified;
        try
        {
            verified = verifier.Verify(type, message, signature.GetString(), acceptDelegate: delegable);
        }
        catch (Exception exception) when (exception is FormatException or InvalidOperationException or KeyNotFoundException or OverflowException)
        {
            return new SignedRequest(type, AnpmProblems.Invalid($"The {type} message is not valid: {exception.Message}"));
        }

        var refused = verified.Status switch
        {
            SignedRequestStatus.Valid or SignedRequestStatus.SignedByDelegate => null,
            SignedRequestStatus.InvalidMessage or SignedRequestStatus.UnknownType => AnpmProblems.Invalid(verified.Error ?? "The message is not valid."),
            SignedRequestStatus.Expired or SignedRequestStatus.DeadlineTooFar => AnpmProblems.Of(StatusCodes.Status401Unauthorized, "signature_expired", verified.Error ?? "The deadline is not acceptable."),
            _ => AnpmProblems.InvalidSignature(verified.Error ?? "The signature does not recover to the message's actor."),
        };
        if (refused is not null)
        {
            return new SignedRequest(type, refused);
        }

        var nonce = message.TryGetProperty("nonce", out var nonceElement) ? ParseInteger(nonceElement).ToString(CultureInfo.InvariantCulture) : null;
        var digest = "0x" + Convert.ToHexStringLower(verified.Digest!);
        if (verified.IsValid)
        {
            return new SignedRequest(type, message, verified.Signer, digest, body, nonce);
        }

        // Signed by another address than the actor: accepted only from the actor's session key for this kind of request and
        // pool. A task's key is judged where its price is charged, under the key's lock (one read, in the task's transaction).
        if (action == SessionKeyActions.AddTask)
        {
            return new SignedRequest(type, message, verified.Actor, digest, body, nonce) { Delegate = verified.Signer };
        }

        var sessionKeys = context.RequestServices.GetService<SessionKeyService>();
        if (sessionKeys is null || !message.TryGetProperty("poolId", out var poolField) || !PoolId.TryParse(poolField.GetString(), out var pool))
        {
            return new SignedRequest(type, AnpmProblems.InvalidSignature(verified.Error));
        }

        var check = await sessionKeys.AuthorizeAsync(verified.Actor, verified.Signer, action, pool, context.RequestAborted).ConfigureAwait(false);
        return check.IsAllowed
            ? new SignedRequest(type, message, verified.Actor, digest, body, nonce) { Delegate = verified.Signer }
            : new SignedRequest(type, check.Refusal == SessionKeyRefusal.Unknown ? AnpmProblems.InvalidSignature(verified.Error) : AnpmProblems.SessionKey(check));
    }

    // The verifier's own reading (the message was verified, so its integer fields parse).
    private static BigInteger ParseInteger(JsonElement value) =>
        Eip712TypedData.TryParseInteger(value, out var number) ? number : throw new InvalidOperationException("A verified message holds a field that is not an integer.");
}

/// <summary>The body of a signed request, as the OpenAPI document shows it.</summary>
/// <param name="Message">The fields of the route's EIP-712 type.</param>
/// <param name="Signature"><c>0x</c> + 130 hex: the <c>eth_signTypedData_v4</c> signature of the message by its actor.</param>
/// <param name="Extra">The route's extra field (<c>input</c>, <c>config</c> or <c>output</c>) where it has one, under that name.</param>
public sealed record SignedEnvelope(JsonElement Message, string Signature, string? Extra = null);

/// <summary>Reads request bodies within a size limit.</summary>
public static class AnpmRequestBody
{
    /// <summary>
    /// Reads the body as JSON, at most <paramref name="maxBytes"/> whatever the Content-Length says (a chunked body is
    /// counted as it arrives), refusing duplicate keys and text that is not valid Unicode (<see cref="StrictJson"/>): the
    /// body, or the problem (413 <c>payload_too_large</c>, 400 <c>invalid_request</c>).
    /// </summary>
    public static async Task<(JsonElement Body, IResult? Problem)> ReadJsonAsync(HttpContext http, long maxBytes)
    {
        ArgumentNullException.ThrowIfNull(http);
        var tooLarge = AnpmProblems.TooLarge($"The body is larger than {maxBytes} bytes.");
        if (http.Request.ContentLength > maxBytes)
        {
            return (default, tooLarge);
        }

        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await http.Request.Body.ReadAsync(chunk, http.RequestAborted).ConfigureAwait(false)) > 0)
        {
            if (buffer.Length + read > maxBytes)
            {
                return (default, tooLarge);
            }

            buffer.Write(chunk, 0, read);
        }

        JsonElement body;
        try
        {
            using var document = JsonDocument.Parse(buffer.GetBuffer().AsMemory(0, (int)buffer.Length));
            body = document.RootElement.Clone();
        }
        catch (JsonException exception)
        {
            return (default, AnpmProblems.Invalid("The body is not JSON: " + exception.Message));
        }

        // Duplicate keys and broken text are refused before anything reads the body.
        return StrictJson.FindProblem(body) is { } problem ? (default, AnpmProblems.Invalid("The body is refused: " + problem)) : (body, null);
    }
}
