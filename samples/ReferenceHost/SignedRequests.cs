using System.Globalization;
using System.Numerics;
using System.Text;
using System.Text.Json;
using Anpm.Abstractions;
using Anpm.Signing;

namespace Anpm.ReferenceHost;

/// <summary>A verified signed request: its message, signer, digest and the extra body fields.</summary>
public sealed record SignedRequest(JsonElement Message, Address Signer, string Digest, JsonElement Body)
{
    /// <summary>A string field of the message.</summary>
    public string Text(string field) => Message.GetProperty(field).GetString() ?? string.Empty;

    /// <summary>A uint256 field of the message as a token amount; null when it does not fit 128 bits.</summary>
    public TokenAmount? Amount(string field)
    {
        var value = SignedRequests.Integer(Message.GetProperty(field));
        return value <= (BigInteger)UInt128.MaxValue ? new TokenAmount((UInt128)value) : null;
    }

    /// <summary>A stable key of this request: signer and nonce.</summary>
    public string Key => $"{Signer}:{SignedRequests.Integer(Message.GetProperty("nonce")).ToString(CultureInfo.InvariantCulture)}";

    /// <summary>A short id derived from the signer and nonce (for ledger transfer ids and the like).</summary>
    public string ShortId => Convert.ToHexStringLower(Keccak256.Hash(Encoding.UTF8.GetBytes(Key)))[..40];
}

/// <summary>The body of a signed request, as the OpenAPI document shows it.</summary>
/// <param name="Message">The fields of the route's EIP-712 type.</param>
/// <param name="Signature"><c>0x</c> + 130 hex: the <c>eth_signTypedData_v4</c> signature of the message by its actor.</param>
/// <param name="Extra">The route's extra field (<c>input</c>, <c>config</c> or <c>output</c>) where it has one.</param>
public sealed record SignedEnvelope(JsonElement Message, string Signature, string? Extra = null);

/// <summary>The body of the development token's faucet.</summary>
/// <param name="Address">Who receives the tokens.</param>
/// <param name="Quantity">How many base units, as a decimal string.</param>
public sealed record FaucetRequest(string Address, string Quantity);

/// <summary>The outcome of a signed command: an HTTP status and a body (or a problem).</summary>
public sealed record CommandResponse(int Status, object? Body, IResult? Problem = null)
{
    public static CommandResponse Ok(object body, int status = StatusCodes.Status200OK) => new(status, body);

    public static CommandResponse Fail(IResult problem, int status) => new(status, null, problem);
}

/// <summary>
/// API.md "Signed requests": parse <c>{message, signature, …extra}</c>, verify the EIP-712 signature against the message's
/// actor (through Anpm.Signing), enforce the deadline, and replay a (signer, nonce) already processed with the same
/// message (header <c>Idempotency-Replayed: true</c>) or refuse it with another message (409 <c>conflict</c>).
/// </summary>
public static class SignedRequests
{
    /// <summary>The largest request body accepted, in bytes.</summary>
    public const long MaxBodyBytes = 1 << 20;

    /// <summary>The longest string a message field may hold (ids, actions, references, reasons).</summary>
    public const int MaxStringLength = 256;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static BigInteger Integer(JsonElement value)
    {
        var text = value.ValueKind == JsonValueKind.Number ? value.GetRawText() : value.GetString() ?? string.Empty;
        return text.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            ? BigInteger.Parse("0" + text[2..], NumberStyles.HexNumber, CultureInfo.InvariantCulture)
            : BigInteger.Parse(text, NumberStyles.None, CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// Reads the request body as JSON, at most <see cref="MaxBodyBytes"/> whatever the Content-Length says (a chunked
    /// body is counted as it arrives): the body, or the problem (413 <c>payload_too_large</c>, 400 <c>invalid_request</c>).
    /// </summary>
    public static async Task<(JsonElement Body, IResult? Problem)> ReadJsonBodyAsync(HttpContext http)
    {
        ArgumentNullException.ThrowIfNull(http);
        var tooLarge = Problems.Of(StatusCodes.Status413PayloadTooLarge, "payload_too_large", $"The body is larger than {MaxBodyBytes} bytes.");
        if (http.Request.ContentLength > MaxBodyBytes)
        {
            return (default, tooLarge);
        }

        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await http.Request.Body.ReadAsync(chunk, http.RequestAborted)) > 0)
        {
            if (buffer.Length + read > MaxBodyBytes)
            {
                return (default, tooLarge);
            }

            buffer.Write(chunk, 0, read);
        }

        try
        {
            using var document = JsonDocument.Parse(buffer.GetBuffer().AsMemory(0, (int)buffer.Length));
            return (document.RootElement.Clone(), null);
        }
        catch (JsonException exception)
        {
            return (default, Problems.Invalid("The body is not JSON: " + exception.Message));
        }
    }

    /// <summary>Documents a signed route in the OpenAPI document: its EIP-712 type, the envelope and the problems it may answer.</summary>
    public static RouteHandlerBuilder Signed(this RouteHandlerBuilder route, string type, string? extra = null)
    {
        ArgumentNullException.ThrowIfNull(route);
        var declaration = AnpmMessageTypes.All.Single(t => t.StartsWith(type + "(", StringComparison.Ordinal));
        var extraText = extra is null ? string.Empty : $", \"{extra}\": \"…\" (JSON text; its keccak256 is in the message)";
        return route
            .Accepts<SignedEnvelope>("application/json")
            .WithSummary($"Signed {type}")
            .WithDescription($"Body {{\"message\": {{…}}, \"signature\": \"0x…\"{extraText}}}; the message is EIP-712 `{declaration}` under the domain of GET /api/v1/eip712, "
                + "signed by its first field. A replay of the same (signer, nonce) and message returns the first answer with `Idempotency-Replayed: true`. "
                + "Errors are problem details with `code` (API.md).")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge);
    }

    /// <summary>Runs a signed command for message type <paramref name="type"/>, counted by type and status in the host's metrics.</summary>
    public static async Task<IResult> HandleAsync(HttpContext http, string type, Func<SignedRequest, Task<CommandResponse>> command)
    {
        ArgumentNullException.ThrowIfNull(http);
        var result = await HandleCoreAsync(http, type, command);
        var status = result is IStatusCodeHttpResult { StatusCode: { } code } ? code : StatusCodes.Status200OK;
        http.RequestServices.GetRequiredService<HostMetrics>().SignedRequests.Add(1,
            new KeyValuePair<string, object?>("type", type), new KeyValuePair<string, object?>("status", status));
        return result;
    }

    private static async Task<IResult> HandleCoreAsync(HttpContext http, string type, Func<SignedRequest, Task<CommandResponse>> command)
    {
        var (body, problem) = await ReadJsonBodyAsync(http);
        if (problem is not null)
        {
            return problem;
        }

        if (body.ValueKind != JsonValueKind.Object || !body.TryGetProperty("message", out var message) || message.ValueKind != JsonValueKind.Object
            || !body.TryGetProperty("signature", out var signatureElement) || signatureElement.ValueKind != JsonValueKind.String)
        {
            return Problems.Invalid("The body must be {\"message\": {...}, \"signature\": \"0x…\"}.");
        }

        foreach (var field in message.EnumerateObject())
        {
            if (field.Value.ValueKind == JsonValueKind.String && field.Value.GetString()!.Length > MaxStringLength)
            {
                return Problems.Invalid($"message.{field.Name} is longer than {MaxStringLength} characters.");
            }
        }

        var verifier = http.RequestServices.GetRequiredService<SignedRequestVerifier>();
        SignedRequestResult verified;
        try
        {
            verified = verifier.Verify(type, message, signatureElement.GetString());
        }
        catch (Exception exception) when (exception is FormatException or InvalidOperationException or KeyNotFoundException or OverflowException)
        {
            return Problems.Invalid($"The {type} message is not valid: {exception.Message}");
        }

        switch (verified.Status)
        {
            case SignedRequestStatus.Valid:
                break;
            case SignedRequestStatus.InvalidMessage or SignedRequestStatus.UnknownType:
                return Problems.Invalid(verified.Error ?? "The message is not valid.");
            case SignedRequestStatus.Expired or SignedRequestStatus.DeadlineTooFar:
                return Problems.Of(StatusCodes.Status401Unauthorized, "signature_expired", verified.Error ?? "The deadline is not acceptable.");
            default:
                return Problems.Of(StatusCodes.Status401Unauthorized, "invalid_signature", verified.Error ?? "The signature does not recover to the message's actor.");
        }

        var request = new SignedRequest(message, verified.Signer, "0x" + Convert.ToHexStringLower(verified.Digest!), body);
        var hasNonce = message.TryGetProperty("nonce", out var nonceElement);
        var store = http.RequestServices.GetRequiredService<IAnpmStore>();
        var nonce = hasNonce ? Integer(nonceElement).ToString(CultureInfo.InvariantCulture) : null;
        if (nonce is not null)
        {
            var previous = await store.RunAsync((request.Signer, nonce), static (u, key, ct) => u.Requests.GetRequestAsync(key.Signer, key.nonce, ct), http.RequestAborted);
            if (previous is not null)
            {
                if (previous.Digest != request.Digest)
                {
                    return Problems.Of(StatusCodes.Status409Conflict, "conflict", $"Nonce {nonce} of {request.Signer} was used for another message.");
                }

                http.Response.Headers["Idempotency-Replayed"] = "true";
                return Results.Text(previous.Response, previous.Response.StartsWith("{\"type\"", StringComparison.Ordinal) ? "application/problem+json" : "application/json",
                    Encoding.UTF8, previous.Status);
            }
        }

        var response = await command(request);
        if (response.Problem is not null)
        {
            return response.Problem; // refusals change nothing; the same request may be retried
        }

        var text = JsonSerializer.Serialize(response.Body, Json);
        if (nonce is not null)
        {
            await store.RunAsync(new ProcessedRequest
            {
                Signer = request.Signer,
                Nonce = nonce,
                Digest = request.Digest,
                Status = response.Status,
                Response = text,
                ProcessedAt = DateTimeOffset.UtcNow,
            }, static async (u, processed, ct) => await u.Requests.TryInsertRequestAsync(processed, ct), http.RequestAborted);
        }

        return Results.Text(text, "application/json", Encoding.UTF8, response.Status);
    }
}
