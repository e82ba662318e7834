using System.Globalization;
using System.Text.Json;
using Anpm.Abstractions;
using Anpm.Credits;
using Anpm.Pools;
using Anpm.Signing;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace Anpm.AspNetCore;

/// <summary>The public reads: configuration, pools, tasks, stakes, contributions, accounts and the solvency audit.</summary>
internal static class ReadEndpoints
{
    /// <summary>The largest page a list route returns.</summary>
    public const int MaxPageSize = 500;

    public static async Task<Ok<ConfigView>> GetConfigAsync(
        SystemPause pause, IOptions<AnpmApiOptions> api, IOptions<SignedRequestOptions> signing, IOptions<LedgerOptions> ledger, IOptions<CreditOptions> credits, AnpmRoles roles, CancellationToken ct)
    {
        var settings = api.Value.PublicSettings.ToDictionary(s => s.Key, s => JsonSerializer.SerializeToElement(s.Value, JsonSerializerOptions.Web), StringComparer.Ordinal);
        var decimals = ledger.Value.Assets.TryGetValue(WellKnownAssets.Apus.ToString(), out var d) ? d : 12;
        return TypedResults.Ok(new ConfigView((await pause.GetAsync(ct)).Paused, new TokenView(api.Value.TokenSymbol, decimals), Address.Parse(signing.Value.VerifyingContract),
            signing.Value.ChainId, roles.Admins, roles.Feeder, credits.Value.Treasury) { Settings = settings.Count == 0 ? null : settings });
    }

    public static Ok<Eip712View> GetEip712(IOptions<SignedRequestOptions> signing, SignedRequestVerifier verifier)
    {
        var o = signing.Value;
        return TypedResults.Ok(new Eip712View(new Eip712DomainView(o.Name, o.Version, o.ChainId, Address.Parse(o.VerifyingContract)), JsonDocument.Parse(verifier.TypesJson).RootElement));
    }

    public static async Task<Ok<ExchangeRateView>> GetExchangeRateAsync(CreditService credits, CancellationToken ct)
    {
        var current = await credits.GetExchangeRateAsync(cancellationToken: ct);
        var history = await credits.GetExchangeRateHistoryAsync(null, 100, ct);
        return TypedResults.Ok(new ExchangeRateView(current is null ? null : Rate(current), [.. history.Select(Rate)]));
    }

    public static async Task<Results<Ok<List<PoolView>>, ProblemHttpResult>> ListPoolsAsync(string? after, string? limit, PoolRegistry registry, CancellationToken ct)
    {
        if (!AnpmQuery.TryLimit(limit, MaxPageSize, MaxPageSize, out var page, out var refused))
        {
            return refused!;
        }

        PoolId? from = null;
        if (after is not null)
        {
            if (!PoolId.TryParse(after, out var id, out var error))
            {
                return AnpmProblems.Invalid("after: " + error);
            }

            from = id;
        }

        var views = new List<PoolView>();
        foreach (var pool in await registry.ListAsync(from, page, ct))
        {
            views.Add(await PoolViewAsync(registry, pool, ct));
        }

        return TypedResults.Ok(views);
    }

    public static async Task<Results<Ok<PoolView>, ProblemHttpResult>> GetPoolAsync(string poolId, PoolRegistry registry, CancellationToken ct) =>
        !PoolId.TryParse(poolId, out var id) ? AnpmProblems.Invalid($"'{poolId}' is not a pool id.")
        : await registry.GetAsync(id, ct) is { } pool ? TypedResults.Ok(await PoolViewAsync(registry, pool, ct))
        : AnpmProblems.NotFound($"There is no pool '{poolId}'.");

    public static async Task<Results<Ok<PoolStatsView>, ProblemHttpResult>> GetPoolStatsAsync(string poolId, PoolRegistry registry, InferenceService inference, CancellationToken ct)
    {
        if (!PoolId.TryParse(poolId, out var id) || await registry.GetAsync(id, ct) is null)
        {
            return AnpmProblems.NotFound($"There is no pool '{poolId}'.");
        }

        var stats = await inference.GetStatisticsAsync(id, ct);
        return TypedResults.Ok(new PoolStatsView(
            Enum.GetValues<InferenceTaskStatus>().ToDictionary(s => s.ToString(), s => stats.Counts.GetValueOrDefault(s)),
            new LatencyView(stats.LatencyP50?.TotalMilliseconds, stats.LatencyP95?.TotalMilliseconds, stats.LatencyP99?.TotalMilliseconds),
            [.. stats.Oracles.Select(o => new OracleStatsView(o.Oracle, o.Leases, o.Results, o.Failures, o.Dissents))],
            stats.CreditsConsumed));
    }

    public static async Task<Results<Ok<TaskPage>, ProblemHttpResult>> ListTasksAsync(string poolId, string? account, string? cursor, string? limit, InferenceService inference, CancellationToken ct)
    {
        if (!PoolId.TryParse(poolId, out var id))
        {
            return AnpmProblems.NotFound($"There is no pool '{poolId}'.");
        }

        Address? who = null;
        if (account is not null)
        {
            if (!Address.TryParse(account, out var parsed, out var error))
            {
                return AnpmProblems.Invalid("account: " + error);
            }

            who = parsed;
        }

        DateTimeOffset? before = null;
        if (cursor is not null)
        {
            if (!long.TryParse(cursor, NumberStyles.None, CultureInfo.InvariantCulture, out var ticks) || ticks > DateTimeOffset.MaxValue.UtcTicks)
            {
                return AnpmProblems.Invalid("cursor is not a cursor this host returned.");
            }

            before = new DateTimeOffset(ticks, TimeSpan.Zero);
        }

        if (!AnpmQuery.TryLimit(limit, 50, MaxPageSize, out var page, out var refused))
        {
            return refused!;
        }

        var tasks = await inference.ListTasksAsync(id, who, before, page, ct);
        return TypedResults.Ok(new TaskPage(
            [.. tasks.Select(t => new TaskSummary(t.Id, t.Account, t.Model, t.Status.ToString(), t.Status == InferenceTaskStatus.Done ? t.Price : TokenAmount.Zero, t.CreatedAt, t.CompletedAt))],
            tasks.Count == page ? tasks[^1].CreatedAt.UtcTicks.ToString(CultureInfo.InvariantCulture) : null));
    }

    public static async Task<Results<Ok<StakeView>, ProblemHttpResult>> GetStakeAsync(string poolId, string address, StakingService staking, CancellationToken ct)
    {
        if (!Address.TryParse(address, out var staker, out var error))
        {
            return AnpmProblems.Invalid("address: " + error);
        }

        return !PoolId.TryParse(poolId, out var id) || await staking.GetStatusAsync(id, staker, ct) is not { } status
            ? AnpmProblems.NotFound($"There is no staking pool '{poolId}'.")
            : TypedResults.Ok(new StakeView(status.Staked, status.Eligible, status.Pending, status.Claimed, status.RealisedApr, status.LastEpochDay));
    }

    public static async Task<Results<Ok<StakeProjectionView>, ProblemHttpResult>> ProjectStakeAsync(string poolId, string? amount, StakingService staking, CancellationToken ct)
    {
        if (!TokenAmount.TryParse(amount, out var quantity) || quantity.IsZero)
        {
            return AnpmProblems.Invalid($"amount must be a whole number of base units of at least 1, not '{amount}'.");
        }

        return !PoolId.TryParse(poolId, out var id) || await staking.ProjectStakeAsync(id, quantity, ct) is not { } projection
            ? AnpmProblems.NotFound($"There is no staking pool '{poolId}'.")
            : TypedResults.Ok(new StakeProjectionView(projection.Amount, projection.Apr, projection.ProjectedRewards, projection.EarnsFrom, projection.RunwayDays, projection.Eligible, projection.Room));
    }

    public static async Task<Results<Ok<ContributionView>, ProblemHttpResult>> GetContributionAsync(string id, IAnpmStore store, CancellationToken ct)
    {
        if (!ContributionId.TryParse(id, out var contributionId))
        {
            return AnpmProblems.NotFound($"There is no contribution '{id}'.");
        }

        var c = await store.RunReadAsync(contributionId, static (u, cid, token) => u.Contributions.GetContributionAsync(cid, token), ct);
        return c is null
            ? AnpmProblems.NotFound($"There is no contribution '{id}'.")
            : TypedResults.Ok(new ContributionView(c.Id, c.PoolId, c.Owner, c.Amount, c.Status.ToString(), (int)c.Status, c.Paidout));
    }

    public static async Task<Results<Ok<TaskDetail>, ProblemHttpResult>> GetTaskAsync(string taskId, InferenceService inference, CancellationToken ct) =>
        await inference.GetTaskAsync(taskId, ct) is not { } view
            ? AnpmProblems.NotFound($"There is no task '{taskId}'.")
            : TypedResults.Ok(new TaskDetail(view.Task.Id, view.Task.Status.ToString(), view.Task.Output,
                [.. view.Attestations.Select(a => new AttestationView(new AttestationMessage(a.Oracle, view.Task.Id, a.LeaseId, a.ModelHash, a.OutputHash), a.Signature, a.Agrees))],
                view.CreditsCharged, view.Task.FailureReason));

    public static async Task<Results<Ok<AccountView>, ProblemHttpResult>> GetAccountAsync(
        string address, CreditService credits, PoolRegistry registry, StakingService staking, IAnpmStore store, IServiceProvider services, CancellationToken ct)
    {
        if (!Address.TryParse(address, out var account, out var error))
        {
            return AnpmProblems.Invalid("address: " + error);
        }

        var (own, _) = await credits.GetBalancesAsync(account, null, ct);
        var pools = new List<PoolCreditsView>();
        var stakes = new List<AccountStakeView>();

        // Every pool and every contribution, page by page: an account active in more than a page of pools sees them all.
        for (PoolId? after = null; ;)
        {
            var page = await registry.ListAsync(after, MaxPageSize, ct);
            foreach (var pool in page)
            {
                var (_, inPool) = await credits.GetBalancesAsync(account, pool.Id, ct);
                if (!inPool.IsZero)
                {
                    pools.Add(new PoolCreditsView(pool.Id, inPool));
                }

                if (await staking.GetStatusAsync(pool.Id, account, ct) is { } stake && !(stake.Staked.IsZero && stake.Pending.IsZero && stake.Claimed.IsZero))
                {
                    stakes.Add(new AccountStakeView(pool.Id, stake.Staked, stake.Eligible, stake.Pending, stake.Claimed));
                }
            }

            if (page.Count < MaxPageSize)
            {
                break;
            }

            after = page[^1].Id;
        }

        var contributions = new List<ContributionRecord>();
        for (ContributionId? after = null; ;)
        {
            var page = await store.RunReadAsync((Owner: account, After: after), static (u, q, token) => u.Contributions.ListOwnerContributionsAsync(q.Owner, q.After, MaxPageSize, token), ct);
            contributions.AddRange(page);
            if (page.Count < MaxPageSize)
            {
                break;
            }

            after = page[^1].Id;
        }

        var balance = services.GetService(typeof(ITokenBalances)) is ITokenBalances balances ? await balances.GetBalanceAsync(account, ct) : (TokenAmount?)null;
        var grants = services.GetService(typeof(CreditGrantService)) is CreditGrantService grantService ? await grantService.ListAsync(account, ct) : [];
        return TypedResults.Ok(new AccountView(account, own, pools, stakes,
            [.. contributions.Select(c => new AccountContributionView(c.Id, c.PoolId, c.Amount, c.Status.ToString(), (int)c.Status, c.Paidout))], balance)
        {
            Grants = [.. grants.Select(CreditGrantView.Of)],
        });
    }

    public static async Task<Results<Ok<HistoryPage>, ProblemHttpResult>> GetHistoryAsync(string address, string? poolId, string? cursor, string? limit, CreditService credits, Ledger ledger, CancellationToken ct)
    {
        if (!AnpmQuery.TryLimit(limit, 50, MaxPageSize, out var size, out var refused))
        {
            return refused!;
        }

        if (!Address.TryParse(address, out var account, out var error))
        {
            return AnpmProblems.Invalid("address: " + error);
        }

        PoolId? pool = null;
        if (poolId is not null)
        {
            if (!PoolId.TryParse(poolId, out var id, out var poolError))
            {
                return AnpmProblems.Invalid("poolId: " + poolError);
            }

            pool = id;
        }

        var page = await credits.GetHistoryAsync(account, pool, cursor, size, ct);
        var own = pool is { } inPool ? CreditAccounts.InPool(inPool, account) : CreditAccounts.Of(account);
        switch (page.Status)
        {
            case AccountHistoryStatus.LimitIsOutOfRange:
                return AnpmProblems.Invalid($"limit must be 1 to {MaxPageSize}, not {limit}.");
            case AccountHistoryStatus.CursorIsInvalid:
                return AnpmProblems.Invalid("cursor is not a cursor this host returned.");
            case AccountHistoryStatus.AccountNotFound:
                return TypedResults.Ok(new HistoryPage([], null));
        }

        var entries = new List<HistoryEntry>(page.Entries.Count);
        foreach (var entry in page.Entries)
        {
            var transfer = entry.Transfer;
            var incoming = transfer.CreditAccountId == own;

            // A partial post releases what it did not take: the change needs the hold's amount.
            var held = transfer.Flags.HasFlag(TransferFlags.PostPending) && !incoming ? (await ledger.GetTransferAsync(transfer.PendingId, ct))?.Amount : null;
            var (direction, change) = HistoryChange(transfer, incoming, held);
            entries.Add(new HistoryEntry(entry.Sequence, transfer.Id, transfer.Kind, transfer.Amount, direction, incoming ? transfer.DebitAccountId : transfer.CreditAccountId,
                transfer.Reference, transfer.Flags.HasFlag(TransferFlags.Pending), transfer.State.ToString(), transfer.Timestamp) { Change = change });
        }

        return TypedResults.Ok(new HistoryPage(entries, page.NextCursor));
    }

    // What an entry does to the account's available credits, so that the entries of the whole history add up to it: a
    // plain move in or out; a hold takes them out at once (nothing once it expired — the sweep writes no entry); its post
    // moves nothing more (a partial post gives back the rest); its void gives them back ("in", the refund of a failed
    // task). A hold or void of credits coming in changes nothing until they are posted.
    private static (string Direction, string Change) HistoryChange(Transfer transfer, bool incoming, TokenAmount? held)
    {
        var amount = transfer.Amount.BaseUnits.ToString(CultureInfo.InvariantCulture);
        if (transfer.Flags.HasFlag(TransferFlags.VoidPending))
        {
            return incoming ? ("out", "0") : ("in", amount);
        }

        if (transfer.Flags.HasFlag(TransferFlags.Pending))
        {
            return incoming ? ("in", "0") : ("out", transfer.State == PendingTransferState.Expired ? "0" : "-" + amount);
        }

        if (transfer.Flags.HasFlag(TransferFlags.PostPending))
        {
            return incoming ? ("in", amount)
                : ("out", held is { } hold && hold > transfer.Amount ? (hold - transfer.Amount).BaseUnits.ToString(CultureInfo.InvariantCulture) : "0");
        }

        return incoming ? ("in", amount) : ("out", "-" + amount);
    }

    public static async Task<Ok<SolvencyView>> GetSolvencyAsync(Ledger ledger, EmergencyWithdrawal withdrawal, CancellationToken ct)
    {
        var report = await ledger.CheckInvariantAsync(ct);

        // Holdings are known where the application can read the token's balance (ITokenHoldings); a remote gateway keeps them.
        var solvency = withdrawal.KnowsHoldings ? await withdrawal.GetSolvencyAsync(WellKnownAssets.Apus, ct) : null;
        return TypedResults.Ok(new SolvencyView(
            report.IsSound && solvency?.IsSolvent != false,
            report.Problems,
            [.. report.Assets.Select(a => new AssetAuditView(a.Asset, a.AccountCount, a.DebitsPosted.ToString(CultureInfo.InvariantCulture), a.CreditsPosted.ToString(CultureInfo.InvariantCulture),
                a.DebitsPending.ToString(CultureInfo.InvariantCulture), a.CreditsPending.ToString(CultureInfo.InvariantCulture), a.NegativeAccountCount))],
            solvency is null ? null : new TokenSolvencyView(solvency.Asset, solvency.Holdings, solvency.InFlight, solvency.Obligations, solvency.Surplus, solvency.Shortfall, solvency.IsSolvent, solvency.ReadAt)));
    }

    private static RateView Rate(ExchangeRate rate) => new(rate.Credits, rate.TokenUnits, rate.EffectiveAt);

    /// <summary>A pool as the API shows it.</summary>
    public static async Task<PoolView> PoolViewAsync(PoolRegistry registry, PoolRecord pool, CancellationToken ct) =>
        View(pool, await registry.GetTotalsAsync(pool.Id, ct));

    // Inside a signed command: the totals as its unit of work sees them.
    public static async Task<PoolView> PoolViewAsync(IAnpmUnitOfWork unitOfWork, PoolRecord pool, CancellationToken ct) =>
        View(pool, await PoolRegistry.GetTotalsAsync(unitOfWork, pool.Id, ct));

    private static PoolView View(PoolRecord pool, PoolTotals? totals)
    {
        return new PoolView(pool.Id, pool.Owner, JsonDocument.Parse(pool.ConfigJson).RootElement, pool.Status.ToString(), (int)pool.Status, totals is null ? null
            : new PoolTotalsView(totals.Contributions.ToDictionary(c => c.Key.ToString(), c => c.Value), totals.Collected, totals.Held, totals.ReceivedBack, totals.Undistributed, totals.Dust));
    }
}

/// <summary>The token balance of any address, where the application can read it (e.g. a development token in the same process); <c>GET /accounts/{address}</c> shows it.</summary>
public interface ITokenBalances
{
    /// <summary>The address's token balance in base units.</summary>
    ValueTask<TokenAmount> GetBalanceAsync(Address address, CancellationToken cancellationToken = default);
}
