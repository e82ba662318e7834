using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Microsoft.AspNetCore.Builder;

/// <summary>
/// Maps Anpm's wire contract. <see cref="MapAnpmApi"/> maps all of it; the <c>MapAnpm…</c> methods map one part each onto
/// a group of yours (e.g. <c>app.MapGroup("/api/v1").RequireRateLimiting("signed").MapAnpmCredits()</c>), and return the
/// group they created, so each part can take its own authorization, rate limiting or tags.
/// </summary>
public static class AnpmEndpointRouteBuilderExtensions
{
    /// <summary>
    /// Maps every route of the wire contract under <paramref name="prefix"/>, and the health checks at
    /// <see cref="Anpm.AspNetCore.AnpmApiOptions.HealthPath"/> (a JSON report; not under the prefix).
    /// </summary>
    /// <param name="endpoints">The application.</param>
    /// <param name="prefix">The API's base path. Default <c>/api/v1</c>.</param>
    /// <returns>The group of all API routes.</returns>
    public static RouteGroupBuilder MapAnpmApi(this IEndpointRouteBuilder endpoints, string prefix = "/api/v1")
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var api = endpoints.MapGroup(prefix);
        api.MapAnpmReads();
        api.MapAnpmCredits();
        api.MapAnpmSessionKeys();
        api.MapAnpmInference();
        api.MapAnpmPools();
        api.MapAnpmTokenNotices();
        api.MapAnpmAdmin();
        api.MapAnpmGateway();
        if (endpoints.ServiceProvider.GetRequiredService<IOptions<Anpm.AspNetCore.AnpmApiOptions>>().Value.HealthPath is { } health)
        {
            endpoints.MapAnpmHealthChecks(health);
        }

        return api;
    }

    /// <summary>The public reads: <c>GET /config</c>, <c>/eip712</c>, <c>/exchange-rate</c>, pools, stats, tasks, stakes, contributions, accounts, history, <c>/audit/solvency</c>.</summary>
    public static RouteGroupBuilder MapAnpmReads(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var api = endpoints.MapGroup(string.Empty).WithTags("reads").AddEndpointFilter<Anpm.AspNetCore.QueryKeysOnceFilter>();
        api.MapGet("/config", Anpm.AspNetCore.ReadEndpoints.GetConfigAsync).WithName("GetConfig").WithSummary("The token, the EIP-712 domain's chain and manager, the roles and whether the system is paused.");
        api.MapGet("/eip712", Anpm.AspNetCore.ReadEndpoints.GetEip712).WithName("GetEip712").WithSummary("The EIP-712 domain and types, ready for eth_signTypedData_v4.");
        api.MapGet("/exchange-rate", Anpm.AspNetCore.ReadEndpoints.GetExchangeRateAsync).WithName("GetExchangeRate").WithSummary("The exchange rate in force and its history.");
        api.MapGet("/pools", Anpm.AspNetCore.ReadEndpoints.ListPoolsAsync).WithName("ListPools").WithSummary("Pools in id order; a page ends at limit, the next starts after its last id.");
        api.MapGet("/pools/{poolId}", Anpm.AspNetCore.ReadEndpoints.GetPoolAsync).WithName("GetPool").WithSummary("A pool: config, status and totals.");
        api.MapGet("/pools/{poolId}/stats", Anpm.AspNetCore.ReadEndpoints.GetPoolStatsAsync).WithName("GetPoolStats").WithSummary("A pool's task counts, latency percentiles and oracle statistics.");
        api.MapGet("/pools/{poolId}/tasks", Anpm.AspNetCore.ReadEndpoints.ListTasksAsync).WithName("ListTasks").WithSummary("A pool's tasks (an account's, when given), newest first.");
        api.MapGet("/pools/{poolId}/stakes/projection", Anpm.AspNetCore.ReadEndpoints.ProjectStakeAsync).WithName("ProjectStake")
            .WithSummary("What-if: the APR of staking an amount now, projected over a year from the daily reward, the earning stake and the reserve's runway.");
        api.MapGet("/pools/{poolId}/stakes/{address}", Anpm.AspNetCore.ReadEndpoints.GetStakeAsync).WithName("GetStake").WithSummary("A staker's stake and profit, with missed epochs counted.");
        api.MapGet("/contributions/{id}", Anpm.AspNetCore.ReadEndpoints.GetContributionAsync).WithName("GetContribution").WithSummary("A contribution.");
        api.MapGet("/tasks/{taskId}", Anpm.AspNetCore.ReadEndpoints.GetTaskAsync).WithName("GetTask").WithSummary("A task with its output and the oracles' signed attestations.");
        api.MapGet("/accounts/{address}", Anpm.AspNetCore.ReadEndpoints.GetAccountAsync).WithName("GetAccount").WithSummary("An address's credits, credits in pools, stakes, contributions and token balance.");
        api.MapGet("/accounts/{address}/history", Anpm.AspNetCore.ReadEndpoints.GetHistoryAsync).WithName("GetAccountHistory").WithSummary("The ledger entries of an address's credits (in a pool, when given), newest first.");
        api.MapGet("/audit/solvency", Anpm.AspNetCore.ReadEndpoints.GetSolvencyAsync).WithName("GetSolvency").WithSummary("The ledger's invariant per asset and the token's holdings against obligations.");
        return api;
    }

    /// <summary>
    /// Users move credits into and out of pools (<c>POST /pools/{poolId}/credits</c> and <c>/credits/withdraw</c>) and set
    /// low-balance alerts there (<c>POST /pools/{poolId}/alerts</c>, read at <c>GET /accounts/{address}/alerts</c>).
    /// </summary>
    public static RouteGroupBuilder MapAnpmCredits(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var api = endpoints.MapGroup(string.Empty).WithTags("credits");
        api.MapPost("/pools/{poolId}/credits", Anpm.AspNetCore.CommandEndpoints.TransferCreditsAsync).WithName("TransferCredits").RequireSignedMessage("TransferCredits");
        api.MapPost("/pools/{poolId}/credits/withdraw", Anpm.AspNetCore.CommandEndpoints.WithdrawCreditsAsync).WithName("WithdrawCredits").RequireSignedMessage("WithdrawCredits");
        api.MapPost("/pools/{poolId}/alerts", Anpm.AspNetCore.BalanceAlertRoutes.SetAsync).WithName("SetBalanceAlert").RequireSignedMessage("SetBalanceAlert");
        api.MapGet("/accounts/{address}/alerts", Anpm.AspNetCore.BalanceAlertRoutes.ListAsync).WithName("ListBalanceAlerts")
            .WithSummary("An account's low-balance alerts: threshold, armed, the credits watched and whether they are low.").AddEndpointFilter<Anpm.AspNetCore.QueryKeysOnceFilter>();
        return api;
    }

    /// <summary>
    /// Session keys: a wallet grants a delegate (<c>POST /session-keys</c>, <c>Delegate</c>) and revokes it
    /// (<c>POST /session-keys/revoke</c>, <c>RevokeDelegate</c>); <c>GET /accounts/{address}/session-keys</c> lists an
    /// account's. The delegate then signs <c>AddTask</c>, <c>TransferCredits</c> or <c>WithdrawCredits</c> itself.
    /// </summary>
    public static RouteGroupBuilder MapAnpmSessionKeys(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var api = endpoints.MapGroup(string.Empty).WithTags("session keys");
        api.MapPost("/session-keys", Anpm.AspNetCore.SessionKeyEndpoints.GrantAsync).WithName("GrantSessionKey").RequireSignedMessage("Delegate");
        api.MapPost("/session-keys/revoke", Anpm.AspNetCore.SessionKeyEndpoints.RevokeAsync).WithName("RevokeSessionKey").RequireSignedMessage("RevokeDelegate");
        api.MapGet("/accounts/{address}/session-keys", Anpm.AspNetCore.SessionKeyEndpoints.ListAsync).WithName("ListSessionKeys")
            .WithSummary("An account's session keys: delegate, pool, actions, spend cap, spent, expiry, status.").AddEndpointFilter<Anpm.AspNetCore.QueryKeysOnceFilter>();
        return api;
    }

    /// <summary>Inference: users add tasks; oracles claim them and report results or failures.</summary>
    public static RouteGroupBuilder MapAnpmInference(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var api = endpoints.MapGroup(string.Empty).WithTags("inference");
        api.MapPost("/pools/{poolId}/tasks", Anpm.AspNetCore.CommandEndpoints.AddTaskAsync).WithName("AddTask").RequireSignedMessage("AddTask", "input");
        api.MapPost("/oracle/pools/{poolId}/claim", Anpm.AspNetCore.CommandEndpoints.ClaimTaskAsync).WithName("ClaimTask").RequireSignedMessage("ClaimTask");
        api.MapPost("/oracle/tasks/{taskId}/result", Anpm.AspNetCore.CommandEndpoints.SubmitResultAsync).WithName("SubmitTaskResult").RequireSignedMessage("TaskResult", "output");
        api.MapPost("/oracle/tasks/{taskId}/failure", Anpm.AspNetCore.CommandEndpoints.SubmitFailureAsync).WithName("SubmitTaskFailure").RequireSignedMessage("TaskFailure");
        return api;
    }

    /// <summary>Pools: create one, contribute and claim, unstake and claim rewards, allow oracles.</summary>
    public static RouteGroupBuilder MapAnpmPools(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var api = endpoints.MapGroup(string.Empty).WithTags("pools");
        api.MapPost("/pools", Anpm.AspNetCore.CommandEndpoints.CreatePoolAsync).WithName("CreatePool").RequireSignedMessage("CreatePool", "config");
        api.MapPost("/pools/{poolId}/contributions", Anpm.AspNetCore.CommandEndpoints.CreateContributionAsync).WithName("CreateContribution").RequireSignedMessage("CreateContribution");
        api.MapPost("/contributions/{id}/claim", Anpm.AspNetCore.CommandEndpoints.ClaimContributionAsync).WithName("ClaimContribution").RequireSignedMessage("ClaimContribution");
        api.MapPost("/pools/{poolId}/stakes/unstake", Anpm.AspNetCore.CommandEndpoints.UnstakeAsync).WithName("Unstake").RequireSignedMessage("Unstake");
        api.MapPost("/pools/{poolId}/stakes/claim", Anpm.AspNetCore.CommandEndpoints.ClaimRewardsAsync).WithName("ClaimRewards").RequireSignedMessage("ClaimRewards");
        api.MapPost("/pools/{poolId}/oracles", Anpm.AspNetCore.CommandEndpoints.SetOracleAsync).WithName("SetOracle").RequireSignedMessage("SetOracle");
        return api;
    }

    /// <summary>The token gateway's credit notices: <c>POST /token/notices</c>.</summary>
    public static RouteGroupBuilder MapAnpmTokenNotices(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var api = endpoints.MapGroup(string.Empty).WithTags("token gateway");
        api.MapPost("/token/notices", Anpm.AspNetCore.CommandEndpoints.ApplyNoticeAsync).WithName("ApplyCreditNotice").RequireSignedMessage("CreditNotice", roles: Anpm.AspNetCore.AnpmRole.Gateway);
        return api;
    }

    /// <summary>
    /// Administration under <c>/admin</c>: pool status, amounts to distribute, exchange rates, the system pause, credit
    /// grants, the payouts that failed on chain (list, retry, return), and —
    /// with <c>AddWebhooks</c> — webhook endpoints and their deliveries.
    /// </summary>
    public static RouteGroupBuilder MapAnpmAdmin(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var api = endpoints.MapGroup("/admin").WithTags("administration");
        api.MapPost("/pools/{poolId}/status", Anpm.AspNetCore.AdminEndpoints.SetPoolStatusAsync).WithName("SetPoolStatus").RequireSignedMessage("SetPoolStatus");
        api.MapPost("/pools/{poolId}/distributing", Anpm.AspNetCore.AdminEndpoints.SetAmountDistributingAsync).WithName("SetAmountDistributing")
            .RequireSignedMessage("SetAmountDistributing", roles: Anpm.AspNetCore.AnpmRole.Admin);
        api.MapPost("/exchange-rate", Anpm.AspNetCore.AdminEndpoints.SetExchangeRateAsync).WithName("SetExchangeRate")
            .RequireSignedMessage("SetExchangeRate", roles: Anpm.AspNetCore.AnpmRole.Feeder | Anpm.AspNetCore.AnpmRole.Admin);
        api.MapPost("/pause", Anpm.AspNetCore.AdminEndpoints.PauseAsync).WithName("Pause").RequireSignedMessage("Pause", roles: Anpm.AspNetCore.AnpmRole.Admin);
        api.MapPost("/credits/grants", Anpm.AspNetCore.AdminEndpoints.GrantCreditsAsync).WithName("GrantCredits").RequireSignedMessage("GrantCredits", roles: Anpm.AspNetCore.AnpmRole.Admin);
        api.MapGet("/outbox", Anpm.AspNetCore.OperatorOutboxRoutes.ListAsync).WithName("ListOutgoingTransfers").RequireSignedRead()
            .WithSummary("Outgoing transfers in one state (default FailedOnChain), by id: an admin's read.").AddEndpointFilter<Anpm.AspNetCore.QueryKeysOnceFilter>();
        api.MapPost("/outbox/{transferId}/retry", Anpm.AspNetCore.OperatorOutboxRoutes.RetryAsync).WithName("RetryPayout")
            .RequireSignedMessage("RetryPayout", roles: Anpm.AspNetCore.AnpmRole.Admin);
        api.MapPost("/outbox/{transferId}/return", Anpm.AspNetCore.OperatorOutboxRoutes.ReturnAsync).WithName("ReturnPayout")
            .RequireSignedMessage("ReturnPayout", roles: Anpm.AspNetCore.AnpmRole.Admin);
        if (endpoints.ServiceProvider.GetService<Anpm.Credits.WebhookService>() is not null)
        {
            api.MapPost("/webhooks", Anpm.AspNetCore.WebhookRoutes.RegisterAsync).WithName("RegisterWebhook")
                .RequireSignedMessage("RegisterWebhook", "secret", Anpm.AspNetCore.AnpmRole.Admin);
            api.MapPost("/webhooks/{endpointId}/disable", Anpm.AspNetCore.WebhookRoutes.DisableAsync).WithName("DisableWebhook")
                .RequireSignedMessage("DisableWebhook", roles: Anpm.AspNetCore.AnpmRole.Admin);
            api.MapGet("/webhooks", Anpm.AspNetCore.WebhookRoutes.ListAsync).WithName("ListWebhooks").RequireSignedRead()
                .WithSummary("Webhook endpoints (never their secrets) with their deliveries counted and the last error; an admin's read.").AddEndpointFilter<Anpm.AspNetCore.QueryKeysOnceFilter>();
            api.MapGet("/webhooks/{endpointId}/deliveries", Anpm.AspNetCore.WebhookRoutes.ListDeliveriesAsync).WithName("ListWebhookDeliveries").RequireSignedRead()
                .WithSummary("An endpoint's deliveries, newest event first: state, attempts, last status and error, next attempt; an admin's read.").AddEndpointFilter<Anpm.AspNetCore.QueryKeysOnceFilter>();
        }

        return api;
    }

    /// <summary>The token gateway pulls due outgoing transfers and confirms them, under <c>/gateway</c>.</summary>
    public static RouteGroupBuilder MapAnpmGateway(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var api = endpoints.MapGroup("/gateway").WithTags("token gateway");
        api.MapPost("/outbox/pull", Anpm.AspNetCore.AdminEndpoints.PullOutboxAsync).WithName("PullOutbox").RequireSignedMessage("OutboxPull", roles: Anpm.AspNetCore.AnpmRole.Gateway);
        api.MapPost("/outbox/{transferId}/confirm", Anpm.AspNetCore.AdminEndpoints.ConfirmOutboxAsync).WithName("ConfirmOutbox").RequireSignedMessage("OutboxConfirm", roles: Anpm.AspNetCore.AnpmRole.Gateway);
        return api;
    }

    /// <summary>Maps Anpm's health checks (tag <c>anpm</c>) at <paramref name="path"/> with a JSON report of each check.</summary>
    public static IEndpointConventionBuilder MapAnpmHealthChecks(this IEndpointRouteBuilder endpoints, string path = "/healthz")
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        return endpoints.MapHealthChecks(path, new HealthCheckOptions
        {
            Predicate = static check => check.Tags.Contains(Anpm.AspNetCore.AnpmHealthChecks.Tag),
            ResponseWriter = Anpm.AspNetCore.AnpmHealthChecks.WriteJsonAsync,
        }).WithTags("health");
    }
}
