using System.Globalization;
using System.Text;
using Anpm.Abstractions;
using Anpm.Credits;
using Anpm.Pools;

namespace Anpm.ReferenceHost;

/// <summary>The signed routes of pools, contributions, staking, notices and administration (API.md).</summary>
public static class ManageApi
{
    public static IEndpointRouteBuilder MapManageApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1").WithTags("pools and administration");
        api.MapPost("/pools", (HttpContext http, PoolRegistry registry, HostRoles roles, AnpmHostOptions options) =>
            SignedRequests.HandleAsync(http, "CreatePool", async request =>
            {
                if (!options.Pools.OpenCreation && !roles.IsAdmin(request.Signer))
                {
                    return Forbidden($"{request.Signer} is not an admin (Anpm:Pools:OpenCreation is off).");
                }

                if (!request.Body.TryGetProperty("config", out var configElement) || configElement.ValueKind != System.Text.Json.JsonValueKind.String)
                {
                    return Invalid("config (JSON text) is required.");
                }

                var config = configElement.GetString()!;
                var hash = "0x" + Convert.ToHexStringLower(Keccak256.Hash(Encoding.UTF8.GetBytes(config)));
                if (!string.Equals(hash, request.Text("configHash"), StringComparison.OrdinalIgnoreCase))
                {
                    return Invalid($"message.configHash is not keccak256(config) ({hash}).");
                }

                if (!PoolId.TryParse(request.Text("poolId"), out var id, out var idError))
                {
                    return Invalid("message.poolId: " + idError);
                }

                var created = await registry.CreateAsync(id, request.Signer, config, http.RequestAborted);
                return created.Result switch
                {
                    CreatePoolResult.Created or CreatePoolResult.Exists => CommandResponse.Ok(new { poolId = created.Pool!.Id, owner = created.Pool.Owner, status = created.Pool.Status.ToString() }, 201),
                    CreatePoolResult.IdTaken => CommandResponse.Fail(Problems.Of(409, "conflict", $"Pool id '{id}' is taken."), 409),
                    CreatePoolResult.ConfigTooLarge => CommandResponse.Fail(Problems.Of(413, "payload_too_large", created.Error!.Message), 413),
                    _ => Invalid(created.Error is { } error ? (error.Message.Contains(error.Field, StringComparison.Ordinal) ? error.Message : $"{error.Field}: {error.Message}") : "The config is not valid."),
                };
            })).Signed("CreatePool", "config");
        api.MapPost("/pools/{poolId}/contributions", (string poolId, HttpContext http, ContributionService contributions) =>
            SignedRequests.HandleAsync(http, "CreateContribution", async request =>
            {
                if (request.Text("poolId") != poolId || !PoolId.TryParse(poolId, out var pool))
                {
                    return Invalid("message.poolId must be the pool of the route.");
                }

                if (request.Amount("amount") is not { } amount)
                {
                    return Invalid("message.amount is out of range.");
                }

                var created = await contributions.CreateAsync(ContributionId.Parse("c" + request.ShortId), pool, request.Signer, amount, http.RequestAborted);
                return created.Result switch
                {
                    CreateContributionResult.Created or CreateContributionResult.Exists => CommandResponse.Ok(new
                    {
                        contributionId = created.Contribution!.Id, status = created.Contribution.Status.ToString(), payBefore = created.Contribution.PayBefore,
                    }, 201),
                    CreateContributionResult.PoolNotFound => CommandResponse.Fail(Problems.NotFound(created.Error!), 404),
                    CreateContributionResult.InvalidState => CommandResponse.Fail(Problems.Of(409, "invalid_state", created.Error!), 409),
                    CreateContributionResult.WindowClosed => CommandResponse.Fail(Problems.Of(422, "window_closed", created.Error!), 422),
                    CreateContributionResult.LimitExceeded => CommandResponse.Fail(Problems.Of(422, "limit_exceeded", created.Error!), 422),
                    CreateContributionResult.Paused => CommandResponse.Fail(Problems.Of(423, "paused", created.Error!), 423),
                    _ => CommandResponse.Fail(Problems.Of(409, "conflict", "The contribution id is taken."), 409),
                };
            })).Signed("CreateContribution");
        api.MapPost("/contributions/{id}/claim", (string id, HttpContext http, ContributionService contributions, IAnpmStore store) =>
            SignedRequests.HandleAsync(http, "ClaimContribution", async request =>
            {
                if (request.Text("contributionId") != id || !ContributionId.TryParse(id, out var contributionId))
                {
                    return Invalid("message.contributionId must be the contribution of the route.");
                }

                var current = await store.RunAsync(contributionId, static (u, c, ct) => u.Contributions.GetContributionAsync(c, ct), http.RequestAborted);
                if (current is null)
                {
                    return CommandResponse.Fail(Problems.NotFound($"There is no contribution '{id}'."), 404);
                }

                var claimed = current.Status is ContributionStatus.AvailableRefund or ContributionStatus.RefundPaidout
                    ? await contributions.ClaimRefundAsync(contributionId, http.RequestAborted)
                    : await contributions.ClaimPayoutAsync(contributionId, http.RequestAborted);
                return claimed.Result switch
                {
                    ClaimResult.Claimed or ClaimResult.AlreadyClaimed => CommandResponse.Ok(new
                    {
                        contributionId = claimed.Contribution!.Id, status = claimed.Contribution.Status.ToString(), statusNumber = (int)claimed.Contribution.Status,
                    }),
                    ClaimResult.SystemPaused => CommandResponse.Fail(Problems.Of(423, "paused", claimed.Error!), 423),
                    _ => CommandResponse.Fail(Problems.Of(409, "invalid_state", claimed.Error!, claimed.Contribution?.Status.ToString()), 409),
                };
            })).Signed("ClaimContribution");
        api.MapPost("/pools/{poolId}/stakes/unstake", (string poolId, HttpContext http, StakingService staking) =>
            SignedRequests.HandleAsync(http, "Unstake", async request =>
            {
                if (request.Text("poolId") != poolId || !PoolId.TryParse(poolId, out var pool) || request.Amount("amount") is not { } amount)
                {
                    return Invalid("message.poolId must be the pool of the route, and amount in range.");
                }

                return Stake(await staking.UnstakeAsync(TransferId.Parse("unstake:" + request.ShortId), pool, request.Signer, amount, http.RequestAborted));
            })).Signed("Unstake");
        api.MapPost("/pools/{poolId}/stakes/claim", (string poolId, HttpContext http, StakingService staking) =>
            SignedRequests.HandleAsync(http, "ClaimRewards", async request =>
            {
                if (request.Text("poolId") != poolId || !PoolId.TryParse(poolId, out var pool))
                {
                    return Invalid("message.poolId must be the pool of the route.");
                }

                return Stake(await staking.ClaimRewardsAsync(TransferId.Parse("reward:" + request.ShortId), pool, request.Signer, http.RequestAborted));
            })).Signed("ClaimRewards");
        api.MapPost("/pools/{poolId}/oracles", (string poolId, HttpContext http, PoolRegistry registry, InferenceService inference, HostRoles roles) =>
            SignedRequests.HandleAsync(http, "SetOracle", async request =>
            {
                if (request.Text("poolId") != poolId || !PoolId.TryParse(poolId, out var pool) || !Address.TryParse(request.Text("oracle"), out var oracle, out _))
                {
                    return Invalid("message.poolId must be the pool of the route, and oracle an address.");
                }

                if (await registry.GetAsync(pool, http.RequestAborted) is not { } record)
                {
                    return CommandResponse.Fail(Problems.NotFound($"There is no pool '{poolId}'."), 404);
                }

                if (record.Owner != request.Signer && !roles.IsAdmin(request.Signer))
                {
                    return Forbidden($"{request.Signer} is neither the owner of pool '{poolId}' nor an admin.");
                }

                var active = request.Message.GetProperty("active").GetBoolean();
                await inference.SetOracleAsync(pool, oracle, active, http.RequestAborted);
                return CommandResponse.Ok(new { poolId = pool, oracle, active });
            })).Signed("SetOracle");
        api.MapPost("/token/notices", (HttpContext http, TokenNoticeProcessor notices, HostRoles roles) =>
            SignedRequests.HandleAsync(http, "CreditNotice", async request =>
            {
                if (request.Signer != roles.Gateway)
                {
                    return Forbidden($"{request.Signer} is not the gateway (Anpm:Gateway).");
                }

                if (request.Amount("quantity") is not { } quantity || !Address.TryParse(request.Text("sender"), out var sender, out _))
                {
                    return Invalid("message.quantity must be in range and sender an address.");
                }

                var outcome = await notices.ApplyAsync(new TokenNotice
                {
                    MessageId = request.Text("messageId"), Sender = sender, Quantity = quantity, Action = request.Text("action"), PoolId = request.Text("poolId"),
                    Reference = request.Text("reference"), ReceivedAt = default, Outcome = string.Empty,
                }, http.RequestAborted);
                return outcome.IsConflict
                    ? CommandResponse.Fail(Problems.Of(409, "conflict", $"Message id '{request.Text("messageId")}' was used for another notice."), 409)
                    : CommandResponse.Ok(new { messageId = request.Text("messageId"), outcome = outcome.Outcome, replayed = outcome.IsReplay });
            })).Signed("CreditNotice");

        var admin = api.MapGroup("/admin");
        admin.MapPost("/pools/{poolId}/status", (string poolId, HttpContext http, PoolRegistry registry, ContributionService contributions, HostRoles roles) =>
            SignedRequests.HandleAsync(http, "SetPoolStatus", async request =>
            {
                if (request.Text("poolId") != poolId || !PoolId.TryParse(poolId, out var pool))
                {
                    return Invalid("message.poolId must be the pool of the route.");
                }

                var record = await registry.GetAsync(pool, http.RequestAborted);
                if (record is null)
                {
                    return CommandResponse.Fail(Problems.NotFound($"There is no pool '{poolId}'."), 404);
                }

                var target = (PoolStatus)(int)SignedRequests.Integer(request.Message.GetProperty("status"));
                var ownerMayPause = target == PoolStatus.Paused || (target == PoolStatus.Active && record.Status == PoolStatus.Paused);
                if (!roles.IsAdmin(request.Signer) && !(ownerMayPause && record.Owner == request.Signer))
                {
                    return Forbidden($"{request.Signer} may not set pool '{poolId}' to {target}.");
                }

                var change = target switch
                {
                    PoolStatus.Paused => await registry.PauseAsync(pool, http.RequestAborted),
                    PoolStatus.Active when record.Status == PoolStatus.Paused => await registry.ResumeAsync(pool, http.RequestAborted),
                    PoolStatus.Funding => await contributions.StartFundingAsync(pool, force: true, http.RequestAborted),
                    PoolStatus.Canceled => await contributions.CancelPoolAsync(pool, http.RequestAborted),
                    PoolStatus.Closed => await contributions.ClosePoolAsync(pool, http.RequestAborted),
                    _ => new PoolStatusChange(PoolStatusChangeResult.InvalidTransition, record,
                        $"Pool is {record.Status}: status {(int)target} is set by another route or not at all (Distributing: /admin/pools/{{poolId}}/distributing)."),
                };
                return await StatusAsync(change, registry, http.RequestAborted);
            })).Signed("SetPoolStatus");
        admin.MapPost("/pools/{poolId}/distributing", (string poolId, HttpContext http, PoolRegistry registry, ContributionService contributions, HostRoles roles) =>
            SignedRequests.HandleAsync(http, "SetAmountDistributing", async request =>
            {
                if (!roles.IsAdmin(request.Signer))
                {
                    return Forbidden($"{request.Signer} is not an admin.");
                }

                if (request.Text("poolId") != poolId || !PoolId.TryParse(poolId, out var pool) || request.Amount("amount") is not { } amount)
                {
                    return Invalid("message.poolId must be the pool of the route, and amount in range.");
                }

                return await StatusAsync(await contributions.StartDistributingAsync(pool, amount, http.RequestAborted), registry, http.RequestAborted);
            })).Signed("SetAmountDistributing");
        admin.MapPost("/exchange-rate", (HttpContext http, CreditService credits, HostRoles roles) =>
            SignedRequests.HandleAsync(http, "SetExchangeRate", async request =>
            {
                if (request.Signer != roles.Feeder && !roles.IsAdmin(request.Signer))
                {
                    return Forbidden($"{request.Signer} is neither the feeder nor an admin.");
                }

                if (request.Amount("credits") is not { } creditsPer || request.Amount("tokenUnits") is not { } units)
                {
                    return Invalid("message.credits and message.tokenUnits must be in range.");
                }

                var effective = SignedRequests.Integer(request.Message.GetProperty("effectiveAt"));
                DateTimeOffset? at = effective == 0 ? null : effective <= 253_402_300_799 ? DateTimeOffset.FromUnixTimeSeconds((long)effective) : DateTimeOffset.MaxValue;
                var set = await credits.SetExchangeRateAsync(request.Signer, creditsPer, units, at, http.RequestAborted);
                return set.Result switch
                {
                    SetExchangeRateResult.Set or SetExchangeRateResult.Exists => CommandResponse.Ok(new { credits = set.Rate!.Credits, tokenUnits = set.Rate.TokenUnits, effectiveAt = set.Rate.EffectiveAt }),
                    SetExchangeRateResult.Conflict => CommandResponse.Fail(Problems.Of(409, "conflict", set.Error!), 409),
                    _ => Invalid(set.Error!),
                };
            })).Signed("SetExchangeRate");
        admin.MapPost("/pause", (HttpContext http, SystemPause pause, HostRoles roles) =>
            SignedRequests.HandleAsync(http, "Pause", async request =>
            {
                if (!roles.IsAdmin(request.Signer))
                {
                    return Forbidden($"{request.Signer} is not an admin.");
                }

                var set = await pause.SetAsync(request.Message.GetProperty("paused").GetBoolean(), request.Signer, "admin", http.RequestAborted);
                return CommandResponse.Ok(new { paused = set.State.Paused, changedAt = set.State.ChangedAt, changedBy = set.State.ChangedBy });
            })).Signed("Pause");
        return app;
    }

    private static CommandResponse Invalid(string detail) => CommandResponse.Fail(Problems.Invalid(detail), 400);

    private static CommandResponse Forbidden(string detail) => CommandResponse.Fail(Problems.Of(403, "forbidden", detail), 403);

    // A changed pool is answered with its view (as GET /api/v1/pools/{poolId}).
    private static async Task<CommandResponse> StatusAsync(PoolStatusChange change, PoolRegistry registry, CancellationToken ct) => change.Result switch
    {
        PoolStatusChangeResult.Changed => CommandResponse.Ok(await ReadApi.PoolView(registry, change.Pool!, ct)),
        PoolStatusChangeResult.PoolNotFound => CommandResponse.Fail(Problems.NotFound(change.Error!), 404),
        PoolStatusChangeResult.SystemPaused => CommandResponse.Fail(Problems.Of(423, "paused", change.Error!), 423),
        _ => CommandResponse.Fail(Problems.Of(409, "invalid_state", change.Error!, change.Pool?.Status.ToString()), 409),
    };

    private static CommandResponse Stake(StakeCommandOutcome outcome) => outcome.Result switch
    {
        StakeCommandResult.Done or StakeCommandResult.Exists => CommandResponse.Ok(new
        {
            amount = outcome.Amount, staked = outcome.Status?.Staked, pending = outcome.Status?.Pending, claimed = outcome.Status?.Claimed,
        }),
        StakeCommandResult.PoolNotFound => CommandResponse.Fail(Problems.NotFound(outcome.Error!), 404),
        StakeCommandResult.InsufficientStake => CommandResponse.Fail(Problems.Of(422, "insufficient_balance", outcome.Error!), 422),
        StakeCommandResult.NothingToClaim => CommandResponse.Fail(Problems.Of(422, "insufficient_balance", outcome.Error!), 422),
        StakeCommandResult.SystemPaused => CommandResponse.Fail(Problems.Of(423, "paused", outcome.Error!), 423),
        _ => CommandResponse.Fail(Problems.Of(409, "conflict", outcome.Error ?? "The request id was used for another transfer."), 409),
    };
}
