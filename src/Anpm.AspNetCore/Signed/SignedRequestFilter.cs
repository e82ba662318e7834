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
/// answers a request that failed verification, checks the signer's role, and applies a message with a nonce once.
/// </summary>
internal sealed class SignedRequestFilter(IAnpmStore store, AnpmRoles roles, AnpmTelemetry telemetry, TimeProvider timeProvider, IOptions<AnpmApiOptions> options) : IEndpointFilter
{
    private const string ReplayedHeader = "Idempotency-Replayed";
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(25);

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

        if (request.Nonce is null)
        {
            return await RunCommandAsync(context, next).ConfigureAwait(false); // no nonce, no replay record: the command itself is idempotent
        }

        var ct = context.HttpContext.RequestAborted;
        var claimFirst = context.HttpContext.GetEndpoint()!.Metadata.GetMetadata<ClaimInFirstCommit>() is null;
        for (var attempt = 0; ; attempt++)
        {
            var scope = new SignedCommandScope(request, timeProvider.GetUtcNow());
            object? result;
            try
            {
                using (scope.Enter())
                {
                    if (claimFirst)
                    {
                        // An empty unit of work of the command: committing it claims the (signer, nonce) and holds the
                        // transaction open for the handler's units of work and the answer (or throws when it is taken).
                        await using var claim = await store.BeginAsync(ct).ConfigureAwait(false);
                        await claim.CommitAsync(ct).ConfigureAwait(false);
                    }

                    result = await RunCommandAsync(context, next).ConfigureAwait(false);
                }
            }
            catch (Exception exception) when (scope.Pending is not null)
            {
                // The command's held transaction is rolled back: nothing of it is kept, its claim included.
                await scope.RollBackAsync().ConfigureAwait(false);
                if (exception is SignedRequestRetryException or AnpmConcurrencyException && attempt < 2)
                {
                    continue;
                }

                throw;
            }
            catch (SignedRequestClaimedException claimed)
            {
                if (claimed.Existing.Digest != request.Digest)
                {
                    return Conflict(request);
                }

                var settled = await WaitForAnswerAsync(request, ct).ConfigureAwait(false);
                if (settled is { IsClaimed: false })
                {
                    return Replay(context.HttpContext, settled);
                }

                if (settled is null && attempt < 2)
                {
                    continue; // the first copy was refused and released its claim: run this one
                }

                // Still claimed after the wait: the first copy is stuck or crashed after applying. The command is idempotent
                // by the request's key, so running it again under the same claim answers what the first would have.
                scope = new SignedCommandScope(request, timeProvider.GetUtcNow()) { Claimed = true, Recovering = true };
                using (scope.Enter())
                {
                    result = await RunCommandAsync(context, next).ConfigureAwait(false);
                }
            }

            try
            {
                return await SettleAsync(context.HttpContext, request, scope, result, ct).ConfigureAwait(false);
            }
            catch (Exception exception) when (exception is SignedRequestRetryException or AnpmConcurrencyException && scope.Pending is null && attempt < 2)
            {
                continue; // the one commit lost a race (or a joined unit of work failed): nothing was kept, run it again
            }
            finally
            {
                await scope.RollBackAsync().ConfigureAwait(false);
            }
        }
    }

    // A ledger overflow met deep inside a command rolled its unit of work back: the input was too large, not a defect.
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

    // Records a success under the claim (or claims it now, when the command committed nothing), or releases the claim of a refusal.
    // With the command's transaction held, the answer's record joins it and the request commits once; a refusal rolls it back.
    private async ValueTask<object?> SettleAsync(HttpContext http, SignedRequest request, SignedCommandScope scope, object? result, CancellationToken ct)
    {
        var (status, value) = Inspect(result);
        if (scope.Pending is { } pending)
        {
            if (status >= 400)
            {
                await scope.RollBackAsync().ConfigureAwait(false); // a refusal changes nothing, its claim included
                return result;
            }

            if (scope.Poisoned)
            {
                // A joined unit of work failed but the command answered success: keep nothing and run it again.
                await scope.RollBackAsync().ConfigureAwait(false);
                throw new SignedRequestRetryException();
            }

            var answer = AnswerText(http, status, value);
            await pending.Requests.CompleteRequestAsync(request.Signer, request.Nonce!, request.Digest, status, answer, ct).ConfigureAwait(false);
            scope.Pending = null;
            try
            {
                await pending.CommitAsync(ct).ConfigureAwait(false);
            }
            finally
            {
                await pending.DisposeAsync().ConfigureAwait(false);
            }

            return Answer(status, answer);
        }

        if (status >= 400)
        {
            // A refusal changed nothing: its claim goes, so the same message may come again. Not when recovering another
            // copy's claim: that copy may have applied the command before it stopped.
            if (scope.Claimed && !scope.Recovering)
            {
                await store.RunAsync(request, static (u, r, c) => u.Requests.ReleaseRequestAsync(r.Signer, r.Nonce!, r.Digest, c), ct).ConfigureAwait(false);
            }

            return result;
        }

        var text = AnswerText(http, status, value);
        if (scope.Claimed)
        {
            await store.RunAsync((Request: request, Status: status, Text: text), static (u, a, c) =>
                u.Requests.CompleteRequestAsync(a.Request.Signer, a.Request.Nonce!, a.Request.Digest, a.Status, a.Text, c), ct).ConfigureAwait(false);
        }
        else
        {
            var record = scope.Claim with { Status = status, Response = text };
            var existing = await store.RunAsync(record, static async (u, r, c) =>
                await u.Requests.TryInsertRequestAsync(r, c).ConfigureAwait(false) ? null : await u.Requests.GetRequestAsync(r.Signer, r.Nonce, c).ConfigureAwait(false), ct).ConfigureAwait(false);
            if (existing is not null && existing.Digest != request.Digest)
            {
                return Conflict(request);
            }
        }

        return Answer(status, text);
    }

    // Polls the claimed record until its answer is recorded or it is released, for at most ReplayWait (real time: it waits
    // for another request, not for the clock).
    private async ValueTask<ProcessedRequest?> WaitForAnswerAsync(SignedRequest request, CancellationToken ct)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(options.Value.ReplayWait.TotalSeconds * Stopwatch.Frequency);
        while (true)
        {
            // Through a writing unit of work, not a reader: with group commit the first copy's record may sit in a group
            // that is not on disk yet, which a reader cannot see; a writing unit joins that group and returns once it is
            // durable, so an answer read here can be replayed.
            var current = await store.RunAsync(request, static (u, r, c) => u.Requests.GetRequestAsync(r.Signer, r.Nonce!, c), ct).ConfigureAwait(false);
            if (current is null || !current.IsClaimed || Stopwatch.GetTimestamp() >= deadline)
            {
                return current;
            }

            await Task.Delay(Poll, ct).ConfigureAwait(false);
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
