using System.Text;
using Anpm.Abstractions;
using Anpm.Credits;
using Anpm.Pools;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Anpm.AspNetCore;

/// <summary>The signed commands of users and oracles: credits, tasks, contributions, staking, pools and their oracles.</summary>
internal static partial class CommandEndpoints
{
    public static Task<Results<Ok<CreditsMoved>, ProblemHttpResult>> TransferCreditsAsync(string poolId, SignedRequest request, CreditService credits, CancellationToken ct) =>
        MoveCreditsAsync(request, poolId, credits, toPool: true, ct);

    public static Task<Results<Ok<CreditsMoved>, ProblemHttpResult>> WithdrawCreditsAsync(string poolId, SignedRequest request, CreditService credits, CancellationToken ct) =>
        MoveCreditsAsync(request, poolId, credits, toPool: false, ct);

    private static async Task<Results<Ok<CreditsMoved>, ProblemHttpResult>> MoveCreditsAsync(SignedRequest request, string poolId, CreditService credits, bool toPool, CancellationToken ct)
    {
        if (request.Text("poolId") != poolId || !PoolId.TryParse(poolId, out var pool))
        {
            return AnpmProblems.Invalid("message.poolId must be the pool of the route.");
        }

        if (request.Amount("amount") is not { } amount)
        {
            return AnpmProblems.Invalid("message.amount is larger than any balance can be.");
        }

        var id = TransferId.Parse((toPool ? "tc:" : "wc:") + request.ShortId);
        var moved = toPool
            ? await credits.TransferToPoolAsync(request.UnitOfWork, id, request.Signer, pool, amount, ct)
            : await credits.WithdrawFromPoolAsync(request.UnitOfWork, id, request.Signer, pool, amount, ct);
        if (!moved.IsRefused)
        {
            return TypedResults.Ok(new CreditsMoved(request.Signer, pool, moved.AccountCredits, moved.PoolCredits));
        }

        return moved.Result switch
        {
            CreditTransferResult.InsufficientCredits => AnpmProblems.InsufficientBalance(moved.Error),
            CreditTransferResult.AmountTooLarge => AnpmProblems.AmountTooLarge(moved.Error),
            CreditTransferResult.InvalidAmount => AnpmProblems.Invalid(moved.Error),
            CreditTransferResult.SystemPaused => AnpmProblems.Paused(moved.Error),
            CreditTransferResult.IdTaken => AnpmProblems.Conflict(moved.Error),
            CreditTransferResult.PoolNotFound => AnpmProblems.NotFound(moved.Error),
            _ => AnpmProblems.InvalidState(moved.Error),
        };
    }

    public static async Task<Results<Accepted<TaskAdded>, ProblemHttpResult>> AddTaskAsync(string poolId, SignedRequest request, InferenceService inference, CancellationToken ct)
    {
        if (request.Text("poolId") != poolId || !PoolId.TryParse(poolId, out var pool))
        {
            return AnpmProblems.Invalid("message.poolId must be the pool of the route.");
        }

        if (request.Extra("input") is not { } input)
        {
            return AnpmProblems.Invalid("input (JSON text) is required.");
        }

        var inputHash = Keccak(input);
        if (!string.Equals(inputHash, request.Text("inputHash"), StringComparison.OrdinalIgnoreCase))
        {
            return AnpmProblems.Invalid($"message.inputHash is not keccak256(input) ({inputHash}).");
        }

        var maxCredits = request.Amount("maxCredits") ?? TokenAmount.MaxValue;
        var added = await inference.AddTaskAsync(request.UnitOfWork, request.Key, request.Signer, pool, request.Text("model"), input, maxCredits, request.Delegate, ct);
        if (!added.IsRefused)
        {
            return TypedResults.Accepted((string?)null, new TaskAdded(added.Task.Id, added.Task.Status.ToString(), added.Task.Price));
        }

        return added.Result switch
        {
            AddTaskResult.PoolNotFound => AnpmProblems.NotFound(added.Error),
            AddTaskResult.PoolNotActive => AnpmProblems.InvalidState(added.Error),
            AddTaskResult.InputTooLarge => AnpmProblems.TooLarge(added.Error),
            AddTaskResult.InsufficientCredits => AnpmProblems.InsufficientBalance(added.Error),
            AddTaskResult.AmountTooLarge => AnpmProblems.AmountTooLarge(added.Error),
            AddTaskResult.InvalidInput => AnpmProblems.Invalid(added.Error),
            AddTaskResult.SystemPaused => AnpmProblems.Paused(added.Error),
            AddTaskResult.IdTaken => AnpmProblems.Conflict(added.Error),
            AddTaskResult.SessionKeyRefused when added.SessionKeyRefusal == SessionKeyRefusal.Unknown =>
                AnpmProblems.InvalidSignature($"The request is signed by {request.Delegate}, which holds no session key of its account {request.Signer}."),
            AddTaskResult.SessionKeyRefused => AnpmProblems.SessionKey(added.SessionKeyRefusal, added.Error),
            _ => AnpmProblems.Invalid(added.Error), // model not offered, price above maxCredits
        };
    }

    public static async Task<Results<Ok<OracleClaim>, NoContent, ProblemHttpResult>> ClaimTaskAsync(string poolId, SignedRequest request, InferenceService inference, CancellationToken ct)
    {
        if (request.Text("poolId") != poolId || !PoolId.TryParse(poolId, out var id))
        {
            return AnpmProblems.Invalid("message.poolId must be the pool of the route.");
        }

        var claim = await inference.ClaimAsync(request.UnitOfWork, request.Signer, id, ct);
        if (claim.IsLeased)
        {
            return TypedResults.Ok(new OracleClaim(claim.Task.Id, claim.Lease.Id, claim.Lease.ExpiresAt, claim.Task.Model, claim.Task.ModelHash, claim.Task.Input));
        }

        if (!claim.IsRefused)
        {
            return TypedResults.NoContent(); // no task waits
        }

        return claim.Result switch
        {
            ClaimTaskResult.NotAllowed => AnpmProblems.Forbidden(claim.Error),
            ClaimTaskResult.SystemPaused => AnpmProblems.Paused(claim.Error),
            _ => AnpmProblems.NotFound(claim.Error),
        };
    }

    public static async Task<Results<Ok<TaskReport>, ProblemHttpResult>> SubmitResultAsync(string taskId, SignedRequest request, InferenceService inference, CancellationToken ct)
    {
        if (request.Text("taskId") != taskId || request.Extra("output") is not { } output)
        {
            return AnpmProblems.Invalid("message.taskId must be the route's task, and output (JSON text) is required.");
        }

        var outputHash = Keccak(output);
        if (!string.Equals(outputHash, request.Text("outputHash"), StringComparison.OrdinalIgnoreCase))
        {
            return AnpmProblems.Invalid($"message.outputHash is not keccak256(output) ({outputHash}).");
        }

        return Report(await inference.SubmitResultAsync(request.UnitOfWork, request.Signer, taskId, request.Text("leaseId"), request.Text("modelHash"), request.Text("outputHash"), output, request.Signature, ct));
    }

    public static async Task<Results<Ok<TaskReport>, ProblemHttpResult>> SubmitFailureAsync(string taskId, SignedRequest request, InferenceService inference, CancellationToken ct)
    {
        if (request.Text("taskId") != taskId)
        {
            return AnpmProblems.Invalid("message.taskId must be the route's task.");
        }

        return Report(await inference.SubmitFailureAsync(request.UnitOfWork, request.Signer, taskId, request.Text("leaseId"), request.Text("reason"), request.Signature, ct));
    }

    private static Results<Ok<TaskReport>, ProblemHttpResult> Report(TaskReportOutcome report) => !report.IsRejected
        ? TypedResults.Ok(new TaskReport(report.Task.Id, report.Task.Status.ToString(), report.Result.ToString(), report.Error))
        : report.Rejection switch
        {
            TaskReportRejection.ForeignLease when report.Task is null => AnpmProblems.NotFound(report.Error),
            TaskReportRejection.ForeignLease => AnpmProblems.Forbidden(report.Error),
            TaskReportRejection.BadSignature => AnpmProblems.InvalidSignature(report.Error),
            TaskReportRejection.OutputTooLarge => AnpmProblems.TooLarge(report.Error),
            TaskReportRejection.HashMismatch => AnpmProblems.Invalid(report.Error),
            _ => AnpmProblems.InvalidState(report.Error, report.Task?.Status.ToString()),
        };

    public static async Task<Results<Created<PoolCreated>, ProblemHttpResult>> CreatePoolAsync(SignedRequest request, PoolRegistry registry, AnpmRoles roles, IOptions<AnpmApiOptions> options, CancellationToken ct)
    {
        if (!options.Value.OpenPoolCreation && !roles.IsAdmin(request.Signer))
        {
            return AnpmProblems.Forbidden($"{request.Signer} is not an admin (AnpmApiOptions.OpenPoolCreation is off).");
        }

        if (request.Extra("config") is not { } config)
        {
            return AnpmProblems.Invalid("config (JSON text) is required.");
        }

        var hash = Keccak(config);
        if (!string.Equals(hash, request.Text("configHash"), StringComparison.OrdinalIgnoreCase))
        {
            return AnpmProblems.Invalid($"message.configHash is not keccak256(config) ({hash}).");
        }

        if (!PoolId.TryParse(request.Text("poolId"), out var id, out var idError))
        {
            return AnpmProblems.Invalid("message.poolId: " + idError);
        }

        var created = await registry.CreateAsync(request.UnitOfWork, id, request.Signer, config, ct);
        return created.Result switch
        {
            CreatePoolResult.Created when created.IsCreated => TypedResults.Created((string?)null, new PoolCreated(created.Pool.Id, created.Pool.Owner, created.Pool.Status.ToString())),

            // An existing pool under a new nonce is another request for a taken id (a replay of the same request never gets here).
            CreatePoolResult.Exists or CreatePoolResult.IdTaken => AnpmProblems.Conflict($"Pool id '{id}' is taken."),
            CreatePoolResult.ConfigTooLarge when created.Error is { } tooLarge => AnpmProblems.TooLarge(tooLarge.Message),
            _ => AnpmProblems.Invalid(created.Error is { } error ? (error.Message.Contains(error.Field, StringComparison.Ordinal) ? error.Message : $"{error.Field}: {error.Message}") : "The config is not valid."),
        };
    }

    public static async Task<Results<Created<ContributionCreated>, ProblemHttpResult>> CreateContributionAsync(string poolId, SignedRequest request, ContributionService contributions, CancellationToken ct)
    {
        if (request.Text("poolId") != poolId || !PoolId.TryParse(poolId, out var pool))
        {
            return AnpmProblems.Invalid("message.poolId must be the pool of the route.");
        }

        if (request.Amount("amount") is not { } amount)
        {
            return AnpmProblems.Invalid("message.amount is out of range.");
        }

        // "c" + 31 hex digits: 32 characters, so a contribution id fits a bytes32 reference (the EVM deposit router's).
        var created = await contributions.CreateAsync(request.UnitOfWork, ContributionId.Parse("c" + request.ShortId[..31]), pool, request.Signer, amount, ct);
        if (!created.IsRefused)
        {
            return TypedResults.Created((string?)null, new ContributionCreated(created.Contribution.Id, created.Contribution.Status.ToString(), created.Contribution.PayBefore));
        }

        return created.Result switch
        {
            CreateContributionResult.PoolNotFound => AnpmProblems.NotFound(created.Error),
            CreateContributionResult.InvalidState => AnpmProblems.InvalidState(created.Error),
            CreateContributionResult.WindowClosed => AnpmProblems.Of(StatusCodes.Status422UnprocessableEntity, "window_closed", created.Error),
            CreateContributionResult.LimitExceeded => AnpmProblems.Of(StatusCodes.Status422UnprocessableEntity, "limit_exceeded", created.Error),
            CreateContributionResult.Paused => AnpmProblems.Paused(created.Error),
            _ => AnpmProblems.Conflict("The contribution id is taken."),
        };
    }

    public static async Task<Results<Ok<ContributionClaimed>, ProblemHttpResult>> ClaimContributionAsync(string id, SignedRequest request, ContributionService contributions, CancellationToken ct)
    {
        if (request.Text("contributionId") != id || !ContributionId.TryParse(id, out var contributionId))
        {
            return AnpmProblems.Invalid("message.contributionId must be the contribution of the route.");
        }

        var current = await request.UnitOfWork.Contributions.GetContributionAsync(contributionId, ct);
        if (current is null)
        {
            return AnpmProblems.NotFound($"There is no contribution '{id}'.");
        }

        var claimed = current.Status is ContributionStatus.AvailableRefund or ContributionStatus.RefundPaidout
            ? await contributions.ClaimRefundAsync(request.UnitOfWork, contributionId, ct)
            : await contributions.ClaimPayoutAsync(request.UnitOfWork, contributionId, ct);
        if (!claimed.IsRefused)
        {
            return TypedResults.Ok(new ContributionClaimed(claimed.Contribution.Id, claimed.Contribution.Status.ToString(), (int)claimed.Contribution.Status));
        }

        return claimed.Result == ClaimResult.SystemPaused
            ? AnpmProblems.Paused(claimed.Error)
            : AnpmProblems.InvalidState(claimed.Error, claimed.Contribution?.Status.ToString());
    }

    public static async Task<Results<Ok<StakeResult>, ProblemHttpResult>> UnstakeAsync(string poolId, SignedRequest request, StakingService staking, CancellationToken ct)
    {
        if (request.Text("poolId") != poolId || !PoolId.TryParse(poolId, out var pool) || request.Amount("amount") is not { } amount)
        {
            return AnpmProblems.Invalid("message.poolId must be the pool of the route, and amount in range.");
        }

        return Stake(await staking.UnstakeAsync(request.UnitOfWork, TransferId.Parse("unstake:" + request.ShortId), pool, request.Signer, amount, ct));
    }

    public static async Task<Results<Ok<StakeResult>, ProblemHttpResult>> ClaimRewardsAsync(string poolId, SignedRequest request, StakingService staking, CancellationToken ct)
    {
        if (request.Text("poolId") != poolId || !PoolId.TryParse(poolId, out var pool))
        {
            return AnpmProblems.Invalid("message.poolId must be the pool of the route.");
        }

        return Stake(await staking.ClaimRewardsAsync(request.UnitOfWork, TransferId.Parse("reward:" + request.ShortId), pool, request.Signer, ct));
    }

    private static Results<Ok<StakeResult>, ProblemHttpResult> Stake(StakeCommandOutcome outcome) => !outcome.IsRefused
        ? TypedResults.Ok(new StakeResult(outcome.Amount, outcome.Status?.Staked, outcome.Status?.Pending, outcome.Status?.Claimed))
        : outcome.Result switch
        {
            StakeCommandResult.PoolNotFound => AnpmProblems.NotFound(outcome.Error),
            StakeCommandResult.InsufficientStake or StakeCommandResult.NothingToClaim => AnpmProblems.InsufficientBalance(outcome.Error),
            StakeCommandResult.SystemPaused => AnpmProblems.Paused(outcome.Error),
            _ => AnpmProblems.Conflict(outcome.Error),
        };

    public static async Task<Results<Ok<OracleSet>, ProblemHttpResult>> SetOracleAsync(string poolId, SignedRequest request, InferenceService inference, AnpmRoles roles, CancellationToken ct)
    {
        if (request.Text("poolId") != poolId || !PoolId.TryParse(poolId, out var pool) || !Address.TryParse(request.Text("oracle"), out var oracle, out _))
        {
            return AnpmProblems.Invalid("message.poolId must be the pool of the route, and oracle an address.");
        }

        if (await request.UnitOfWork.Pools.GetPoolAsync(pool, ct) is not { } record)
        {
            return AnpmProblems.NotFound($"There is no pool '{poolId}'.");
        }

        if (record.Owner != request.Signer && !roles.IsAdmin(request.Signer))
        {
            return AnpmProblems.Forbidden($"{request.Signer} is neither the owner of pool '{poolId}' nor an admin.");
        }

        var active = request.Boolean("active");
        await inference.SetOracleAsync(request.UnitOfWork, pool, oracle, active, ct);
        return TypedResults.Ok(new OracleSet(pool, oracle, active));
    }

    public static async Task<Results<Ok<NoticeApplied>, ProblemHttpResult>> ApplyNoticeAsync(SignedRequest request, TokenNoticeProcessor notices, IOptions<AnpmApiOptions> options, ILogger<TokenNoticeProcessor> logger, CancellationToken ct)
    {
        if (!options.Value.AcceptGatewayRequests)
        {
            return AnpmProblems.InvalidState("This host's own token emits the credit notices (AnpmApiOptions.AcceptGatewayRequests is false); a gateway's notice, which no token backs here, is refused.", "OwnToken");
        }

        if (request.Amount("quantity") is not { } quantity || !Address.TryParse(request.Text("sender"), out var sender, out _))
        {
            return AnpmProblems.Invalid("message.quantity must be in range and sender an address.");
        }

        if (!TokenNotice.IsValidMessageId(request.Text("messageId")))
        {
            return AnpmProblems.Invalid($"message.messageId must be 1 to {TokenNotice.MaxTextLength} characters without control characters.");
        }

        var notice = new TokenNotice
        {
            MessageId = request.Text("messageId"), Sender = sender, Quantity = quantity, Action = request.Text("action"), PoolId = request.Text("poolId"),
            Reference = request.Text("reference"), ReceivedAt = default, Outcome = string.Empty,
        };

        // The tokens arrived, so the notice does what it asks or is refunded, never half applied: an attempt that would
        // overflow the ledger ends uncommitted and the request runs again as a refund.
        NoticeOutcome outcome;
        if (request.RunsAgainAsRefund)
        {
            outcome = await notices.RefundAsync(request.UnitOfWork, notice, "ledger-overflow", cancellationToken: ct);
        }
        else
        {
            try
            {
                outcome = await notices.ApplyAsync(request.UnitOfWork, notice, ct);
            }
            catch (LedgerOverflowException overflow)
            {
                LogNoticeOverflows(logger, notice.MessageId, notice.Action, notice.Quantity, notice.Sender);
                request.RunsAgainAsRefund = true;
                throw new AnpmConcurrencyException($"Notice '{notice.MessageId}' would overflow the ledger; the request runs again to refund it.", overflow);
            }
        }

        return outcome.IsConflict
            ? AnpmProblems.Conflict($"Message id '{request.Text("messageId")}' was used for another notice.")
            : TypedResults.Ok(new NoticeApplied(request.Text("messageId"), outcome.Outcome, outcome.IsReplay));
    }

    [LoggerMessage(EventId = 301, Level = LogLevel.Warning, Message = "Token notice {MessageId} ({Action} of {Quantity} base units from {Sender}) would overflow the ledger; the request runs again to refund it to the sender.")]
    private static partial void LogNoticeOverflows(ILogger logger, string messageId, string action, TokenAmount quantity, Address sender);

    internal static string Keccak(string text) => "0x" + Convert.ToHexStringLower(Keccak256.Hash(Encoding.UTF8.GetBytes(text)));
}
