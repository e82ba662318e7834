using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Numerics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Anpm.Abstractions;
using Anpm.Credits;
using Anpm.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Anpm.ReferenceHost.Tests;

/// <summary>
/// Answers that agree with the books and the docs: a failed task's refund comes back "in" and the history's changes add
/// up to the balance; an alert removed with threshold 0 still shows the credits; disabling a webhook fails its pending
/// deliveries at once and counts them; an all-pools session key says <c>poolId: ""</c>; lists read alike with spaces; a
/// Buy-Credits reference is kept.
/// </summary>
public sealed class ApiAnswerTests : IAsyncLifetime
{
    private readonly TestKey _user = TestKey.New();
    private readonly TestKey _oracle = TestKey.New();
    private readonly TestKey _backend = TestKey.New();
    private TestHost _host = null!;
    private int _nonce;

    public Task InitializeAsync()
    {
        _host = TestHost.Start(null, ("Anpm:Oracle:InProcess", "false"));
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await LedgerAssert.InvariantHoldsAsync(_host.Services.GetRequiredService<Ledger>());
        await _host.DisposeAsync();
        _user.Dispose();
        _oracle.Dispose();
        _backend.Dispose();
    }

    [Fact]
    public async Task AFailedTasksRefund_ComesBackIn_AndTheHistoryAddsUpToTheBalance()
    {
        var admin = _host.Role("admin");
        var (_, sha) = HostSetup.DigitsModel();
        var config = "{\"name\":\"Once\",\"inference\":{\"maxAttempts\":1,\"models\":[{\"id\":\"digits\",\"sha256\":\"" + sha + "\",\"price\":\"10\","
            + "\"inputs\":{\"pixels\":{\"type\":\"float32\",\"shape\":[1,64]}},\"outputs\":{\"label\":{\"type\":\"int64\",\"shape\":[1]},\"probabilities\":{\"type\":\"float32\",\"shape\":[1,10]}}}],"
            + "\"oracles\":[\"" + _oracle.Address + "\"]}}";
        var created = await _host.PostAsync("/api/v1/pools", _host.Sign(admin, "CreatePool", Dated(new JsonObject
        {
            ["owner"] = admin.Address.ToString(), ["poolId"] = "once", ["configHash"] = TestHost.Keccak(config),
        }), ("config", config)));
        Assert.True(created.Status == HttpStatusCode.Created, created.ToString());
        await _host.GiveCreditsAsync(_user.Address, 30, PoolId.Parse("once"));

        var failed = await AddTaskAsync();
        var claimed = await _host.PostAsync("/api/v1/oracle/pools/once/claim", _host.Sign(_oracle, "ClaimTask", Dated(new JsonObject { ["oracle"] = _oracle.Address.ToString(), ["poolId"] = "once" })));
        Assert.Equal(failed, claimed.Text("taskId"));
        var failure = await _host.PostAsync($"/api/v1/oracle/tasks/{failed}/failure", _host.Sign(_oracle, "TaskFailure", new JsonObject
        {
            ["oracle"] = _oracle.Address.ToString(), ["taskId"] = failed, ["leaseId"] = claimed.Text("leaseId"), ["reason"] = "GPU fell over",
        }));
        Assert.Equal((HttpStatusCode.OK, "Failed"), (failure.Status, failure.Text("status")));
        await AddTaskAsync(); // still held

        var history = await _host.GetAsync($"/api/v1/accounts/{_user.Address}/history?poolId=once");
        var entries = history.GetProperty("entries").EnumerateArray().ToList();
        var refund = entries.Single(e => e.GetProperty("kind").GetString() == "refund");
        Assert.Equal(("in", "10", "10"), (refund.GetProperty("direction").GetString(), refund.GetProperty("amount").GetString(), refund.GetProperty("change").GetString()));
        var sum = entries.Aggregate(BigInteger.Zero, (total, e) => total + BigInteger.Parse(e.GetProperty("change").GetString()!, CultureInfo.InvariantCulture));
        var balance = (await _host.GetAsync($"/api/v1/accounts/{_user.Address}")).GetProperty("pools").EnumerateArray()
            .Single(p => p.GetProperty("poolId").GetString() == "once").GetProperty("credits").GetString();
        Assert.Equal(("20", "20"), (sum.ToString(CultureInfo.InvariantCulture), balance));
    }

    [Fact]
    public async Task AnAlertRemovedWithThresholdZero_StillShowsTheCredits()
    {
        await _host.GiveCreditsAsync(_user.Address, 30, PoolId.Parse("demo"));
        var set = await _host.PostAsync("/api/v1/pools/demo/alerts", _host.Sign(_user, "SetBalanceAlert", Dated(new JsonObject
        {
            ["account"] = _user.Address.ToString(), ["poolId"] = "demo", ["threshold"] = "0",
        })));
        Assert.Equal((HttpStatusCode.OK, "30", "0", false), (set.Status, set.Text("credits"), set.Text("threshold"), set.Body.GetProperty("armed").GetBoolean()));
    }

    [Fact]
    public async Task DisablingAWebhook_FailsItsPendingDeliveriesAtOnce_AndCountsThem()
    {
        var admin = _host.Role("admin");
        var secret = WebhookSignature.NewSecret();
        var registered = await _host.PostAsync("/api/v1/admin/webhooks", _host.Sign(admin, "RegisterWebhook", Dated(new JsonObject
        {
            ["admin"] = admin.Address.ToString(), ["url"] = "http://127.0.0.1:9/hook", ["secretHash"] = TestHost.Keccak(secret), ["eventTypes"] = " pool.status_changed , deposit.credited",
        }), ("secret", secret)));
        Assert.Equal(HttpStatusCode.Created, registered.Status);
        Assert.Equal(["pool.status_changed", "deposit.credited"], registered.Body.GetProperty("eventTypes").EnumerateArray().Select(t => t.GetString()));
        var endpointId = registered.Text("endpointId");
        await BuyAsync(reference: string.Empty); // an event; its delivery waits (the receiver is down)
        var webhooks = _host.Services.GetRequiredService<WebhookService>();
        await TestHost.EventuallyAsync(async () => await webhooks.ListDeliveriesAsync(endpointId, null, 10), d => d.Count > 0);

        var disabled = await _host.PostAsync($"/api/v1/admin/webhooks/{endpointId}/disable", _host.Sign(admin, "DisableWebhook", Dated(new JsonObject
        {
            ["admin"] = admin.Address.ToString(), ["endpointId"] = endpointId,
        })));
        Assert.Equal(HttpStatusCode.OK, disabled.Status);
        var deliveries = disabled.Body.GetProperty("deliveries");
        Assert.Equal((0L, 1L), (deliveries.GetProperty("pending").GetInt64(), deliveries.GetProperty("failed").GetInt64()));
        Assert.Equal(WebhookService.DisabledError, disabled.Text("lastError"));
        Assert.All(await webhooks.ListDeliveriesAsync(endpointId, null, 10), d => Assert.Equal(WebhookDeliveryState.Failed, d.State));
    }

    [Fact]
    public async Task AnAllPoolsSessionKey_SaysPoolIdEmpty_AndActionsReadWithSpaces()
    {
        var granted = await _host.PostAsync("/api/v1/session-keys", _host.Sign(_user, "Delegate", Dated(new JsonObject
        {
            ["account"] = _user.Address.ToString(), ["delegate"] = _backend.Address.ToString(), ["poolId"] = "", ["actions"] = "AddTask, TransferCredits", ["spendCap"] = "10",
            ["expiresAt"] = DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture),
        })));
        Assert.True(granted.Status == HttpStatusCode.Created, granted.ToString());
        Assert.Equal(("", "AddTask,TransferCredits"), (granted.Text("poolId"), granted.Text("actions")));
        var listed = (await _host.GetAsync($"/api/v1/accounts/{_user.Address}/session-keys")).GetProperty("sessionKeys")[0];
        Assert.Equal(JsonValueKind.String, listed.GetProperty("poolId").ValueKind);
        Assert.Equal(string.Empty, listed.GetProperty("poolId").GetString());
    }

    [Fact]
    public async Task ABuyCreditsReference_IsKept_InTheHistoryAndTheEvent()
    {
        await BuyAsync(reference: "order-17");
        var entry = (await _host.GetAsync($"/api/v1/accounts/{_user.Address}/history")).GetProperty("entries")[0];
        Assert.StartsWith("order-17 · ", entry.GetProperty("reference").GetString(), StringComparison.Ordinal);
        var events = await _host.Services.GetRequiredService<IAnpmStore>().RunReadAsync(0, static (u, _, ct) => u.Events.GetEventsToFanOutAsync(100, ct));
        var credited = events.Single(e => e.Type == "deposit.credited");
        Assert.Equal("order-17", JsonNode.Parse(credited.Data)!["reference"]!.GetValue<string>());
    }

    private async Task<string> AddTaskAsync()
    {
        var input = "{\"inputs\":{\"pixels\":{\"type\":\"float32\",\"shape\":[1,64],\"data\":[" + string.Join(",", Enumerable.Repeat(1, 64)) + "]}}}";
        var added = await _host.PostAsync("/api/v1/pools/once/tasks", _host.Sign(_user, "AddTask", Dated(new JsonObject
        {
            ["account"] = _user.Address.ToString(), ["poolId"] = "once", ["model"] = "digits", ["inputHash"] = TestHost.Keccak(input), ["maxCredits"] = "10",
        }), ("input", input)));
        Assert.True(added.Status == HttpStatusCode.Accepted, added.ToString());
        return added.Text("taskId");
    }

    private async Task BuyAsync(string reference)
    {
        Assert.Equal(HttpStatusCode.OK, (await _host.Http.PostAsJsonAsync("/api/v1/dev-token/faucet", new { address = _user.Address.ToString(), quantity = "1000000000000" })).StatusCode);
        var manager = (await _host.GetAsync("/api/v1/config")).GetProperty("managerAddress").GetString()!;
        var bought = await _host.PostAsync("/api/v1/dev-token/transfers", _host.Sign(_user, "TokenTransfer", Dated(new JsonObject
        {
            ["from"] = _user.Address.ToString(), ["to"] = manager, ["quantity"] = "1000000000000", ["action"] = "Buy-Credits", ["poolId"] = "", ["reference"] = reference,
        })));
        Assert.True(bought.Status == HttpStatusCode.OK, bought.ToString());
    }

    private JsonObject Dated(JsonObject message)
    {
        message["nonce"] = (++_nonce).ToString(CultureInfo.InvariantCulture);
        message["deadline"] = TestHost.Deadline();
        return message;
    }
}
