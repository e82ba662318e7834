using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Anpm.Abstractions;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Anpm.AspNetCore;

/// <summary>
/// The signed-command pipeline around a route's handler (see <see cref="Microsoft.AspNetCore.Builder.SignedRouteBuilderExtensions.RequireSignedMessage"/>):
/// answers a request that failed verification, checks the signer's role, and runs the handler in one unit of work that
/// claims the message's (signer, nonce), holds the handler's reads and writes (<see cref="SignedRequest.UnitOfWork"/>) and
/// the answer's record, and commits once.
/// </summary>
internal sealed class SignedRequestFilter(IAnpmStore store, AnpmRoles roles, AnpmTelemetry telemetry, TimeProvider timeProvider) : IEndpointFilter
{
    private const string ReplayedHeader = "Idempotency-Replayed";

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        var request = context.Arguments.OfType<SignedRequest>().FirstOrDefault()
            ?? throw new InvalidOperationException("A signed route's handler takes a SignedRequest parameter.");
        using var activity = AnpmTelemetry.Source.StartActivity("anpm.signed " + request.Type);
        activity?.SetTag("anpm.message_type", request.Type);
        var result = await AnswerAsync(context, next, request).ConfigureAwait(false);
        var (status, _) = Inspect(result);
        var replayed = context.HttpContext.Response.Headers.ContainsKey(ReplayedHeader);
        activity?.SetTag("http.response.status_code", status);
        if (status >= 500)
        {
            activity?.SetStatus(ActivityStatusCode.Error);
        }

        telemetry.SignedRequests.Add(1, new("type", request.Type), new("status", status), new("replayed", replayed));
        return result;
    }

    private async ValueTask<object?> AnswerAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next, SignedRequest request)
    {
        if (request.Problem is { } problem)
        {
            return problem;
        }

        var metadata = context.HttpContext.GetEndpoint()!.Metadata.GetMetadata<SignedMessageMetadata>()!;
        if (!roles.HoldsAny(request.Signer, metadata.Roles))
        {
            return AnpmProblems.Forbidden($"{request.Signer} is not {AnpmRoles.Describe(metadata.Roles)}.");
        }

        // The one retry loop: an attempt that lost a race kept nothing (its claim included) and runs again from the start.
        return await LostRaceRetry.RunAsync((Filter: this, Context: context, Next: next, Request: request),
            static (attempt, ct) => attempt.Filter.RunOnceAsync(attempt.Context, attempt.Next, attempt.Request, ct), context.HttpContext.RequestAborted).ConfigureAwait(false);
    }

    // One attempt, one unit of work: claim (signer, nonce), run the handler on the unit of work, record the answer, commit
    // once. A refusal, an exception or a lost claim ends the unit of work uncommitted, so nothing of the attempt is kept.
    private async ValueTask<object?> RunOnceAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next, SignedRequest request, CancellationToken ct)
    {
        var unitOfWork = await store.BeginAsync(ct).ConfigureAwait(false);
        await using (unitOfWork.ConfigureAwait(false))
        {
            if (request.Nonce is { } nonce)
            {
                var claim = new ProcessedRequest
                {
                    Signer = request.Signer, Nonce = nonce, Digest = request.Digest, Status = ProcessedRequest.ClaimedStatus, Response = string.Empty,
                    ProcessedAt = timeProvider.GetUtcNow(),
                };
                if (!await unitOfWork.Requests.TryInsertRequestAsync(claim, ct).ConfigureAwait(false))
                {
                    // Taken by a request that committed (its insert waited for that commit): its answer, or a conflict.
                    var existing = await unitOfWork.Requests.GetRequestAsync(request.Signer, nonce, ct).ConfigureAwait(false)
                        ?? throw new AnpmConcurrencyException($"Nonce {nonce} of {request.Signer} was claimed and released meanwhile; retry.");
                    if (existing.Digest != request.Digest || !existing.IsClaimed)
                    {
                        // Committing the unit of work that wrote nothing waits until what it read is durable (SQLite's
                        // group commit may still be writing the first copy's group), so a replay never answers ahead of it.
                        await unitOfWork.CommitAsync(ct).ConfigureAwait(false);
                        return existing.Digest != request.Digest ? Conflict(request) : Replay(context.HttpContext, existing);
                    }

                    // A claim without an answer, committed by an older host that recorded them apart and stopped between
                    // them: the command is idempotent by the request's key, so it runs again and answers under that claim.
                }
            }

            object? result;
            request.Attach(unitOfWork);
            try
            {
                result = await RunCommandAsync(context, next).ConfigureAwait(false);
            }
            finally
            {
                request.Attach(null);
            }

            var (status, value) = Inspect(result);
            if (status >= 400)
            {
                return result; // a refusal changes nothing, its claim included: the same message may come again
            }

            var answer = AnswerText(context.HttpContext, status, value);
            if (request.Nonce is not null
                && !await unitOfWork.Requests.CompleteRequestAsync(request.Signer, request.Nonce, request.Digest, status, answer, ct).ConfigureAwait(false))
            {
                // Only an unanswered older claim gets here: another copy answered it meanwhile; the next attempt replays that.
                throw new AnpmConcurrencyException($"Nonce {request.Nonce} of {request.Signer} was answered meanwhile; retry.");
            }

            await unitOfWork.CommitAsync(ct).ConfigureAwait(false); // the request's one commit
            return Answer(status, answer);
        }
    }

    // A ledger overflow met deep inside a command: the input was too large, not a defect (the unit of work is not committed).
    private static async ValueTask<object?> RunCommandAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        try
        {
            return await next(context).ConfigureAwait(false);
        }
        catch (LedgerOverflowException overflow)
        {
            return AnpmProblems.AmountTooLarge(overflow.Message + " Nothing changed.");
        }
    }

    private static string AnswerText(HttpContext http, int status, object? value)
    {
        var json = http.RequestServices.GetService<IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions>>()?.Value.SerializerOptions ?? JsonSerializerOptions.Web;
        return status == StatusCodes.Status204NoContent || value is null ? string.Empty : JsonSerializer.Serialize(value, value.GetType(), json);
    }

    private static IResult Conflict(SignedRequest request) => AnpmProblems.Conflict($"Nonce {request.Nonce} of {request.Signer} was used for another message.");

    private static IResult Answer(int status, string text) =>
        status == StatusCodes.Status204NoContent ? TypedResults.NoContent() : TypedResults.Text(text, "application/json", Encoding.UTF8, status);

    private static IResult Replay(HttpContext http, ProcessedRequest processed)
    {
        http.Response.Headers[ReplayedHeader] = "true";
        return Answer(processed.Status, processed.Response);
    }

    private static (int Status, object? Value) Inspect(object? result)
    {
        var inner = result;
        while (inner is INestedHttpResult nested)
        {
            inner = nested.Result;
        }

        if (inner is not IResult)
        {
            return (StatusCodes.Status200OK, inner);
        }

        var status = inner is IStatusCodeHttpResult { StatusCode: { } code } ? code : StatusCodes.Status200OK;
        return (status, inner is IValueHttpResult valued ? valued.Value : null);
    }
}
