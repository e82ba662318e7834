using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Anpm.AspNetCore;

/// <summary>
/// The API's errors: RFC 9457 problem details with a <c>code</c> (and <c>currentStatus</c> for <c>invalid_state</c>).
/// Use them in your own routes to answer like Anpm's.
/// </summary>
public static class AnpmProblems
{
    /// <summary>A problem with an HTTP status, a code from the wire contract and a detail in words.</summary>
    public static ProblemHttpResult Of(int status, string code, string detail, object? currentStatus = null)
    {
        var extensions = new Dictionary<string, object?> { ["code"] = code };
        if (currentStatus is not null)
        {
            extensions["currentStatus"] = currentStatus;
        }

        return TypedResults.Problem(detail: detail, statusCode: status, title: code, extensions: extensions);
    }

    /// <summary>400 <c>invalid_request</c>.</summary>
    public static ProblemHttpResult Invalid(string detail) => Of(StatusCodes.Status400BadRequest, "invalid_request", detail);

    /// <summary>401 <c>invalid_signature</c>.</summary>
    public static ProblemHttpResult InvalidSignature(string detail) => Of(StatusCodes.Status401Unauthorized, "invalid_signature", detail);

    /// <summary>403 <c>forbidden</c>.</summary>
    public static ProblemHttpResult Forbidden(string detail) => Of(StatusCodes.Status403Forbidden, "forbidden", detail);

    /// <summary>404 <c>not_found</c>.</summary>
    public static ProblemHttpResult NotFound(string detail) => Of(StatusCodes.Status404NotFound, "not_found", detail);

    /// <summary>409 <c>conflict</c>.</summary>
    public static ProblemHttpResult Conflict(string detail) => Of(StatusCodes.Status409Conflict, "conflict", detail);

    /// <summary>409 <c>invalid_state</c>, naming the current status.</summary>
    public static ProblemHttpResult InvalidState(string detail, object? currentStatus = null) => Of(StatusCodes.Status409Conflict, "invalid_state", detail, currentStatus);

    /// <summary>413 <c>payload_too_large</c>.</summary>
    public static ProblemHttpResult TooLarge(string detail) => Of(StatusCodes.Status413PayloadTooLarge, "payload_too_large", detail);

    /// <summary>422 <c>insufficient_balance</c>.</summary>
    public static ProblemHttpResult InsufficientBalance(string detail) => Of(StatusCodes.Status422UnprocessableEntity, "insufficient_balance", detail);

    /// <summary>422 <c>amount_too_large</c>: the amount fits 128 bits but would push a ledger account's totals past them.</summary>
    public static ProblemHttpResult AmountTooLarge(string detail) => Of(StatusCodes.Status422UnprocessableEntity, "amount_too_large", detail);

    /// <summary>
    /// 403 for a session key's refusal: <c>session_key_revoked</c>, <c>session_key_expired</c>,
    /// <c>session_key_not_allowed</c> (the action or the pool is outside the grant) or <c>spend_cap_reached</c>.
    /// </summary>
    public static ProblemHttpResult SessionKey(Anpm.Credits.SessionKeyCheck check)
    {
        ArgumentNullException.ThrowIfNull(check);
        return SessionKey(check.Refusal, check.Error ?? "The session key may not sign this request.");
    }

    /// <summary>403 for a session key's refusal (see <see cref="SessionKey(Anpm.Credits.SessionKeyCheck)"/>).</summary>
    public static ProblemHttpResult SessionKey(Anpm.Credits.SessionKeyRefusal refusal, string detail) => Of(StatusCodes.Status403Forbidden, refusal switch
    {
        Anpm.Credits.SessionKeyRefusal.Revoked => "session_key_revoked",
        Anpm.Credits.SessionKeyRefusal.Expired => "session_key_expired",
        Anpm.Credits.SessionKeyRefusal.CapReached => "spend_cap_reached",
        _ => "session_key_not_allowed",
    }, detail);

    /// <summary>423 <c>paused</c>.</summary>
    public static ProblemHttpResult Paused(string detail) => Of(StatusCodes.Status423Locked, "paused", detail);
}
