using System.Text;
using Anpm.Abstractions;
using Anpm.Credits;
using Anpm.Pools;

namespace Anpm.ReferenceHost;

/// <summary>The signed write routes of API.md (the first of them: credits, tasks and the oracle routes).</summary>
public static class WriteApi
{
    public static IEndpointRouteBuilder MapWriteApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1").WithTags("writes");
        api.MapPost("/pools/{poolId}/credits", (string poolId, HttpContext http, CreditService credits) =>
            SignedRequests.HandleAsync(http, "TransferCredits", request => MoveCreditsAsync(request, poolId, credits, toPool: true, http.RequestAborted))).Signed("TransferCredits");
        api.MapPost("/pools/{poolId}/credits/withdraw", (string poolId, HttpContext http, CreditService credits) =>
            SignedRequests.HandleAsync(http, "WithdrawCredits", request => MoveCreditsAsync(request, poolId, credits, toPool: false, http.RequestAborted))).Signed("WithdrawCredits");
        api.MapPost("/pools/{poolId}/tasks", (string poolId, HttpContext http, InferenceService inference) =>
            SignedRequests.HandleAsync(http, "AddTask", request => AddTaskAsync(request, poolId, inference, http.RequestAborted))).Signed("AddTask", "input");
        api.MapPost("/oracle/pools/{poolId}/claim", async (string poolId, HttpContext http, InferenceService inference) =>
        {
            OracleClaim? claimed = null;
            var result = await SignedRequests.HandleAsync(http, "ClaimTask", async request =>
            {
                if (request.Text("poolId") != poolId || !PoolId.TryParse(poolId, out var id))
                {
                    return CommandResponse.Fail(Problems.Invalid("message.poolId must be the pool of the route."), 400);
                }

                var claim = await inference.ClaimAsync(request.Signer, id, http.RequestAborted);
                return claim.Result switch
                {
                    ClaimTaskResult.Leased => CommandResponse.Ok(claimed = new OracleClaim(claim.Task!.Id, claim.Lease!.Id, claim.Lease.ExpiresAt, claim.Task.Model, claim.Task.ModelHash, claim.Task.Input)),
                    ClaimTaskResult.NoTask => CommandResponse.Ok(new { }, StatusCodes.Status204NoContent),
                    ClaimTaskResult.NotAllowed => CommandResponse.Fail(Problems.Of(403, "forbidden", claim.Error!), 403),
                    ClaimTaskResult.SystemPaused => CommandResponse.Fail(Problems.Of(423, "paused", claim.Error!), 423),
                    _ => CommandResponse.Fail(Problems.NotFound(claim.Error!), 404),
                };
            });
            return result is IStatusCodeHttpResult { StatusCode: 204 } ? Results.NoContent() : result;
        }).Signed("ClaimTask");
        api.MapPost("/oracle/tasks/{taskId}/result", (string taskId, HttpContext http, InferenceService inference) =>
            SignedRequests.HandleAsync(http, "TaskResult", async request =>
            {
                if (request.Text("taskId") != taskId || !request.Body.TryGetProperty("output", out var output) || output.ValueKind != System.Text.Json.JsonValueKind.String)
                {
                    return CommandResponse.Fail(Problems.Invalid("message.taskId must be the route's task, and output (JSON text) is required."), 400);
                }

                var outputHash = "0x" + Convert.ToHexStringLower(Keccak256.Hash(Encoding.UTF8.GetBytes(output.GetString()!)));
                if (!string.Equals(outputHash, request.Text("outputHash"), StringComparison.OrdinalIgnoreCase))
                {
                    return CommandResponse.Fail(Problems.Invalid($"message.outputHash is not keccak256(output) ({outputHash})."), 400);
                }

                var report = await inference.SubmitResultAsync(request.Signer, taskId, request.Text("leaseId"), request.Text("modelHash"), request.Text("outputHash"),
                    output.GetString()!, request.Body.GetProperty("signature").GetString()!, http.RequestAborted);
                return Report(report);
            })).Signed("TaskResult", "output");
        api.MapPost("/oracle/tasks/{taskId}/failure", (string taskId, HttpContext http, InferenceService inference) =>
            SignedRequests.HandleAsync(http, "TaskFailure", async request =>
            {
                if (request.Text("taskId") != taskId)
                {
                    return CommandResponse.Fail(Problems.Invalid("message.taskId must be the route's task."), 400);
                }

                var report = await inference.SubmitFailureAsync(request.Signer, taskId, request.Text("leaseId"), request.Text("reason"),
                    request.Body.GetProperty("signature").GetString()!, http.RequestAborted);
                return Report(report);
            })).Signed("TaskFailure");
        return app;
    }

    private sealed record OracleClaim(string TaskId, string LeaseId, DateTimeOffset LeaseExpiresAt, string Model, string ModelHash, string Input);

    private static CommandResponse Report(TaskReportOutcome report) => report.Result switch
    {
        TaskReportResult.Rejected => report.Rejection switch
        {
            TaskReportRejection.ForeignLease when report.Task is null => CommandResponse.Fail(Problems.NotFound(report.Error!), 404),
            TaskReportRejection.ForeignLease => CommandResponse.Fail(Problems.Of(403, "forbidden", report.Error!), 403),
            TaskReportRejection.BadSignature => CommandResponse.Fail(Problems.Of(401, "invalid_signature", report.Error!), 401),
            TaskReportRejection.OutputTooLarge => CommandResponse.Fail(Problems.Of(413, "payload_too_large", report.Error!), 413),
            TaskReportRejection.HashMismatch => CommandResponse.Fail(Problems.Invalid(report.Error!), 400),
            _ => CommandResponse.Fail(Problems.Of(409, "invalid_state", report.Error!, report.Task?.Status.ToString()), 409),
        },
        _ => CommandResponse.Ok(new { taskId = report.Task!.Id, status = report.Task.Status.ToString(), outcome = report.Result.ToString() }),
    };

    private static async Task<CommandResponse> MoveCreditsAsync(SignedRequest request, string poolId, CreditService credits, bool toPool, CancellationToken ct)
    {
        if (request.Text("poolId") != poolId || !PoolId.TryParse(poolId, out var pool))
        {
            return CommandResponse.Fail(Problems.Invalid("message.poolId must be the pool of the route."), 400);
        }

        if (request.Amount("amount") is not { } amount)
        {
            return CommandResponse.Fail(Problems.Invalid("message.amount is larger than any balance can be."), 400);
        }

        var id = TransferId.Parse((toPool ? "tc:" : "wc:") + request.ShortId);
        var moved = toPool
            ? await credits.TransferToPoolAsync(id, request.Signer, pool, amount, ct)
            : await credits.WithdrawFromPoolAsync(id, request.Signer, pool, amount, ct);
        return moved.Result switch
        {
            CreditTransferResult.Moved or CreditTransferResult.Exists => CommandResponse.Ok(new { account = request.Signer, poolId = pool, credits = moved.AccountCredits, poolCredits = moved.PoolCredits }),
            CreditTransferResult.InsufficientCredits => CommandResponse.Fail(Problems.Of(422, "insufficient_balance", moved.Error!), 422),
            CreditTransferResult.InvalidAmount => CommandResponse.Fail(Problems.Invalid(moved.Error!), 400),
            CreditTransferResult.SystemPaused => CommandResponse.Fail(Problems.Of(423, "paused", moved.Error!), 423),
            CreditTransferResult.IdTaken => CommandResponse.Fail(Problems.Of(409, "conflict", moved.Error!), 409),
            _ => moved.Error is { } error && error.StartsWith("There is no pool", StringComparison.Ordinal)
                ? CommandResponse.Fail(Problems.NotFound(error), 404)
                : CommandResponse.Fail(Problems.Of(409, "invalid_state", moved.Error!), 409),
        };
    }

    private static async Task<CommandResponse> AddTaskAsync(SignedRequest request, string poolId, InferenceService inference, CancellationToken ct)
    {
        if (request.Text("poolId") != poolId || !PoolId.TryParse(poolId, out var pool))
        {
            return CommandResponse.Fail(Problems.Invalid("message.poolId must be the pool of the route."), 400);
        }

        if (!request.Body.TryGetProperty("input", out var inputElement) || inputElement.ValueKind != System.Text.Json.JsonValueKind.String)
        {
            return CommandResponse.Fail(Problems.Invalid("input (JSON text) is required."), 400);
        }

        var input = inputElement.GetString()!;
        var inputHash = "0x" + Convert.ToHexStringLower(Keccak256.Hash(Encoding.UTF8.GetBytes(input)));
        if (!string.Equals(inputHash, request.Text("inputHash"), StringComparison.OrdinalIgnoreCase))
        {
            return CommandResponse.Fail(Problems.Invalid($"message.inputHash is not keccak256(input) ({inputHash})."), 400);
        }

        var maxCredits = request.Amount("maxCredits") ?? TokenAmount.MaxValue;
        var added = await inference.AddTaskAsync(request.Key, request.Signer, pool, request.Text("model"), input, maxCredits, ct);
        return added.Result switch
        {
            AddTaskResult.Added or AddTaskResult.Exists => CommandResponse.Ok(new { taskId = added.Task!.Id, status = added.Task.Status.ToString(), creditsHeld = added.Task.Price }, StatusCodes.Status202Accepted),
            AddTaskResult.PoolNotFound => CommandResponse.Fail(Problems.NotFound(added.Error!), 404),
            AddTaskResult.PoolNotActive => CommandResponse.Fail(Problems.Of(409, "invalid_state", added.Error!), 409),
            AddTaskResult.InputTooLarge => CommandResponse.Fail(Problems.Of(413, "payload_too_large", added.Error!), 413),
            AddTaskResult.InsufficientCredits => CommandResponse.Fail(Problems.Of(422, "insufficient_balance", added.Error!), 422),
            AddTaskResult.SystemPaused => CommandResponse.Fail(Problems.Of(423, "paused", added.Error!), 423),
            AddTaskResult.IdTaken => CommandResponse.Fail(Problems.Of(409, "conflict", added.Error!), 409),
            _ => CommandResponse.Fail(Problems.Invalid(added.Error!), 400), // model not offered, price above maxCredits
        };
    }
}
