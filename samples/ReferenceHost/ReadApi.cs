using System.Text.Json;
using Anpm.Abstractions;
using Anpm.Credits;
using Anpm.Pools;
using Anpm.Signing;

namespace Anpm.ReferenceHost;

/// <summary>API.md errors: RFC 9457 problem details with a <c>code</c>.</summary>
public static class Problems
{
    public static IResult Of(int status, string code, string detail, object? currentStatus = null)
    {
        var extensions = new Dictionary<string, object?> { ["code"] = code };
        if (currentStatus is not null)
        {
            extensions["currentStatus"] = currentStatus;
        }

        return Results.Problem(detail: detail, statusCode: status, title: code, extensions: extensions);
    }

    public static IResult NotFound(string detail) => Of(StatusCodes.Status404NotFound, "not_found", detail);

    public static IResult Invalid(string detail) => Of(StatusCodes.Status400BadRequest, "invalid_request", detail);
}

/// <summary>The public reads of API.md.</summary>
public static class ReadApi
{
    /// <summary>The largest page a list route returns (the ledger's MaxHistoryPageSize default).</summary>
    public const int MaxPageSize = 500;

    public static IEndpointRouteBuilder MapReadApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1").WithTags("reads");
        api.MapGet("/config", async (AnpmHostOptions options, HostRoles roles, SystemPause pause, CancellationToken ct) => Results.Ok(new
        {
            paused = (await pause.GetAsync(ct)).Paused,
            token = new { symbol = options.Token.Symbol, decimals = options.Token.Decimals },
            managerAddress = roles.Manager,
            chainId = options.ChainId,
            admins = roles.Admins,
            feeder = roles.Feeder,
            treasury = roles.Treasury,
            devToken = options.DevToken.Enabled == true,
        }));
        api.MapGet("/eip712", (AnpmHostOptions options, HostRoles roles) => Results.Ok(new
        {
            domain = new { name = "ANPM", version = "1", chainId = options.ChainId, verifyingContract = roles.Manager },
            types = JsonDocument.Parse(AnpmMessageTypes.TypesJson).RootElement,
        }));
        api.MapGet("/exchange-rate", async (CreditService credits, CancellationToken ct) =>
        {
            var current = await credits.GetExchangeRateAsync(cancellationToken: ct);
            var history = await credits.GetExchangeRateHistoryAsync(null, 100, ct);
            return Results.Ok(new { current = current is null ? null : Rate(current), history = history.Select(Rate) });
        });
        api.MapGet("/pools", async (string? after, int? limit, PoolRegistry registry, CancellationToken ct) =>
        {
            // Pools in id order; a page ends at `limit` (default and most: MaxPageSize), the next starts `after` its last id.
            if (limit is < 1 or > MaxPageSize)
            {
                return Problems.Invalid($"limit must be 1 to {MaxPageSize}, not {limit}.");
            }

            PoolId? from = null;
            if (after is not null)
            {
                if (!PoolId.TryParse(after, out var id, out var error))
                {
                    return Problems.Invalid("after: " + error);
                }

                from = id;
            }

            var pools = await registry.ListAsync(from, limit ?? MaxPageSize, ct);
            var views = new List<object>();
            foreach (var pool in pools)
            {
                views.Add(await PoolView(registry, pool, ct));
            }

            return Results.Ok(views);
        });
        api.MapGet("/pools/{poolId}", async (string poolId, PoolRegistry registry, CancellationToken ct) =>
            !PoolId.TryParse(poolId, out var id) ? Problems.Invalid($"'{poolId}' is not a pool id.")
            : await registry.GetAsync(id, ct) is { } pool ? Results.Ok(await PoolView(registry, pool, ct))
            : Problems.NotFound($"There is no pool '{poolId}'."));
        api.MapGet("/pools/{poolId}/stats", async (string poolId, PoolRegistry registry, InferenceService inference, CancellationToken ct) =>
        {
            if (!PoolId.TryParse(poolId, out var id) || await registry.GetAsync(id, ct) is null)
            {
                return Problems.NotFound($"There is no pool '{poolId}'.");
            }

            var stats = await inference.GetStatisticsAsync(id, ct);
            return Results.Ok(new
            {
                counts = Enum.GetValues<InferenceTaskStatus>().ToDictionary(s => s.ToString(), s => stats.Counts.GetValueOrDefault(s)),
                latencyMs = new { p50 = stats.LatencyP50?.TotalMilliseconds, p95 = stats.LatencyP95?.TotalMilliseconds, p99 = stats.LatencyP99?.TotalMilliseconds },
                oracles = stats.Oracles.Select(o => new { oracle = o.Oracle, leases = o.Leases, results = o.Results, failures = o.Failures, dissents = o.Dissents }),
                creditsConsumed = stats.CreditsConsumed,
            });
        });
        api.MapGet("/pools/{poolId}/tasks", async (string poolId, string? account, string? cursor, int? limit, InferenceService inference, CancellationToken ct) =>
        {
            if (!PoolId.TryParse(poolId, out var id))
            {
                return Problems.NotFound($"There is no pool '{poolId}'.");
            }

            Address? who = null;
            if (account is not null)
            {
                if (!Address.TryParse(account, out var parsed, out var error))
                {
                    return Problems.Invalid("account: " + error);
                }

                who = parsed;
            }

            DateTimeOffset? before = null;
            if (cursor is not null)
            {
                if (!long.TryParse(cursor, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var ticks))
                {
                    return Problems.Invalid("cursor is not a cursor this host returned.");
                }

                before = new DateTimeOffset(ticks, TimeSpan.Zero);
            }

            if (limit is < 1 or > MaxPageSize)
            {
                return Problems.Invalid($"limit must be 1 to {MaxPageSize}, not {limit}.");
            }

            var page = limit ?? 50;
            var tasks = await inference.ListTasksAsync(id, who, before, page, ct);
            return Results.Ok(new
            {
                tasks = tasks.Select(t => new { taskId = t.Id, account = t.Account, model = t.Model, status = t.Status.ToString(), creditsCharged = t.Status == InferenceTaskStatus.Done ? t.Price : TokenAmount.Zero, createdAt = t.CreatedAt, completedAt = t.CompletedAt }),
                nextCursor = tasks.Count == page ? tasks[^1].CreatedAt.UtcTicks.ToString(System.Globalization.CultureInfo.InvariantCulture) : null,
            });
        });
        api.MapGet("/pools/{poolId}/stakes/{address}", async (string poolId, string address, StakingService staking, CancellationToken ct) =>
        {
            if (!Address.TryParse(address, out var staker, out var error))
            {
                return Problems.Invalid("address: " + error);
            }

            return !PoolId.TryParse(poolId, out var id) || await staking.GetStatusAsync(id, staker, ct) is not { } status
                ? Problems.NotFound($"There is no staking pool '{poolId}'.")
                : Results.Ok(new { staked = status.Staked, eligible = status.Eligible, pending = status.Pending, claimed = status.Claimed, apr = status.RealisedApr, lastEpoch = status.LastEpochDay });
        });
        api.MapGet("/contributions/{id}", async (string id, IAnpmStore store, CancellationToken ct) =>
        {
            if (!ContributionId.TryParse(id, out var contributionId))
            {
                return Problems.NotFound($"There is no contribution '{id}'.");
            }

            var contribution = await store.RunAsync(contributionId, static (u, cid, c) => u.Contributions.GetContributionAsync(cid, c), ct);
            return contribution is null ? Problems.NotFound($"There is no contribution '{id}'.") : Results.Ok(new
            {
                contributionId = contribution.Id,
                poolId = contribution.PoolId,
                owner = contribution.Owner,
                amount = contribution.Amount,
                status = contribution.Status.ToString(),
                statusNumber = (int)contribution.Status,
                paidout = contribution.Paidout,
            });
        });
        api.MapGet("/tasks/{taskId}", async (string taskId, InferenceService inference, CancellationToken ct) =>
            await inference.GetTaskAsync(taskId, ct) is not { } view ? Problems.NotFound($"There is no task '{taskId}'.") : Results.Ok(new
            {
                taskId = view.Task.Id,
                status = view.Task.Status.ToString(),
                output = view.Task.Output,
                attestations = view.Attestations.Select(a => new
                {
                    message = new { oracle = a.Oracle, taskId = view.Task.Id, leaseId = a.LeaseId, modelHash = a.ModelHash, outputHash = a.OutputHash },
                    signature = a.Signature,
                    agrees = a.Agrees,
                }),
                creditsCharged = view.CreditsCharged,
                failureReason = view.Task.FailureReason,
            }));
        api.MapGet("/accounts/{address}", async (string address, CreditService credits, PoolRegistry registry, StakingService staking, IAnpmStore store, IServiceProvider services, CancellationToken ct) =>
        {
            if (!Address.TryParse(address, out var account, out var error))
            {
                return Problems.Invalid("address: " + error);
            }

            var (own, _) = await credits.GetBalancesAsync(account, null, ct);
            var pools = new List<object>();
            var stakes = new List<object>();
            foreach (var pool in await registry.ListAsync(null, MaxPageSize, ct))
            {
                var (_, inPool) = await credits.GetBalancesAsync(account, pool.Id, ct);
                if (!inPool.IsZero)
                {
                    pools.Add(new { poolId = pool.Id, credits = inPool });
                }

                if (await staking.GetStatusAsync(pool.Id, account, ct) is { } stake && !(stake.Staked.IsZero && stake.Pending.IsZero && stake.Claimed.IsZero))
                {
                    stakes.Add(new { poolId = pool.Id, staked = stake.Staked, eligible = stake.Eligible, pending = stake.Pending, claimed = stake.Claimed });
                }
            }

            var contributions = await store.RunAsync(account, static (u, owner, c) => u.Contributions.ListOwnerContributionsAsync(owner, null, MaxPageSize, c), ct);
            var token = services.GetService<DevToken>() is { } dev ? await dev.BalanceAsync(account, ct) : (TokenAmount?)null;
            return Results.Ok(new
            {
                address = account, credits = own, pools, stakes,
                contributions = contributions.Select(c => new { contributionId = c.Id, poolId = c.PoolId, amount = c.Amount, status = c.Status.ToString(), statusNumber = (int)c.Status, paidout = c.Paidout }),
                token,
            });
        });
        api.MapGet("/accounts/{address}/history", async (string address, string? poolId, string? cursor, int? limit, CreditService credits, CancellationToken ct) =>
        {
            if (!Address.TryParse(address, out var account, out var error))
            {
                return Problems.Invalid("address: " + error);
            }

            PoolId? pool = null;
            if (poolId is not null)
            {
                if (!PoolId.TryParse(poolId, out var id, out var poolError))
                {
                    return Problems.Invalid("poolId: " + poolError);
                }

                pool = id;
            }

            var page = await credits.GetHistoryAsync(account, pool, cursor, limit ?? 50, ct);
            var own = pool is { } inPool ? CreditAccounts.InPool(inPool, account) : CreditAccounts.Of(account);
            return page.Status switch
            {
                AccountHistoryStatus.LimitIsOutOfRange => Problems.Invalid($"limit must be 1 to {MaxPageSize}, not {limit}."),
                AccountHistoryStatus.CursorIsInvalid => Problems.Invalid("cursor is not a cursor this host returned."),
                AccountHistoryStatus.AccountNotFound => Results.Ok(new { entries = Array.Empty<object>(), nextCursor = (string?)null }),
                _ => Results.Ok(new
                {
                    entries = page.Entries.Select(e => new
                    {
                        sequence = e.Sequence, transferId = e.Transfer.Id, kind = e.Transfer.Kind, amount = e.Transfer.Amount,
                        direction = e.Transfer.CreditAccountId == own ? "in" : "out",
                        counterparty = e.Transfer.CreditAccountId == own ? e.Transfer.DebitAccountId : e.Transfer.CreditAccountId,
                        reference = e.Transfer.Reference, pending = e.Transfer.Flags.HasFlag(TransferFlags.Pending), state = e.Transfer.State.ToString(), timestamp = e.Transfer.Timestamp,
                    }),
                    nextCursor = page.NextCursor,
                }),
            };
        });
        api.MapGet("/audit/solvency", async (Ledger ledger, EmergencyWithdrawal withdrawal, AnpmHostOptions options, CancellationToken ct) =>
        {
            var report = await ledger.CheckInvariantAsync(ct);

            // Holdings are known where the token is in-process (the development token); a production gateway keeps them.
            var solvency = options.DevToken.Enabled == true ? await withdrawal.GetSolvencyAsync(WellKnownAssets.Apus, ct) : null;
            return Results.Ok(new
            {
                ok = report.IsSound && solvency?.IsSolvent != false,
                problems = report.Problems,
                assets = report.Assets.Select(a => new
                {
                    asset = a.Asset, accounts = a.AccountCount, debitsPosted = a.DebitsPosted.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    creditsPosted = a.CreditsPosted.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    debitsPending = a.DebitsPending.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    creditsPending = a.CreditsPending.ToString(System.Globalization.CultureInfo.InvariantCulture), negativeAccounts = a.NegativeAccountCount,
                }),
                token = solvency is null ? null : new
                {
                    asset = solvency.Asset, holdings = solvency.Holdings, obligations = solvency.Obligations, surplus = solvency.Surplus, shortfall = solvency.Shortfall,
                    solvent = solvency.IsSolvent,
                },
            });
        });
        return app;
    }

    private static object Rate(ExchangeRate rate) => new { credits = rate.Credits, tokenUnits = rate.TokenUnits, effectiveAt = rate.EffectiveAt };

    /// <summary>A pool as the API shows it: id, owner, config, status (name and number) and totals.</summary>
    public static async Task<object> PoolView(PoolRegistry registry, PoolRecord pool, CancellationToken ct)
    {
        var totals = await registry.GetTotalsAsync(pool.Id, ct);
        return new
        {
            poolId = pool.Id,
            owner = pool.Owner,
            config = JsonDocument.Parse(pool.ConfigJson).RootElement,
            status = pool.Status.ToString(),
            statusNumber = (int)pool.Status,
            totals = totals is null ? null : new
            {
                contributions = totals.Contributions.ToDictionary(c => c.Key.ToString(), c => c.Value),
                collected = totals.Collected,
                held = totals.Held,
                receivedBack = totals.ReceivedBack,
                undistributed = totals.Undistributed,
                dust = totals.Dust,
            },
        };
    }
}
