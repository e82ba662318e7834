using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Anpm.Abstractions;

namespace Anpm.ReferenceHost.Tests;

/// <summary>Signs a request body: key, message type, message and the extra body fields.</summary>
public delegate Task<JsonObject> RequestSigner(TestKey key, string type, JsonObject message, params (string Name, string Value)[] extra);

/// <summary>
/// The end-to-end flows (credits, inference and staking; campaigns) driven through the reference host's API only, with every request signed by the given signer
/// (in-process keys, or an outside implementation): a campaign pool (aigang) and credits, inference and staking (ANPM).
/// Each step checks its documented answer, and the ledger stays sound throughout.
/// </summary>
public static class EndToEndFlows
{
    private const string Whole = "000000000000"; // 12 decimals

    /// <summary>
    /// Aigang: an admin creates a campaign pool; a user contributes (pending, then paid with the dev token); the admin
    /// starts funding (the collection goes to the destination); the destination sends back more; the admin starts the
    /// distribution; the user claims and is paid; the pool closes by itself.
    /// </summary>
    public static async Task CampaignAsync(TestHost host, RequestSigner sign, TestKey user, TestKey destination)
    {
        var admin = host.Role("admin");
        var nonce = 1000;
        string Nonce() => (++nonce).ToString(CultureInfo.InvariantCulture);
        var config = new JsonObject
        {
            ["name"] = "Campaign",
            ["contribution"] = new JsonObject
            {
                ["startUtc"] = DateTimeOffset.UtcNow.AddHours(-1).ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
                ["endUtc"] = DateTimeOffset.UtcNow.AddDays(7).ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
                ["amountLimit"] = "50" + Whole, ["destination"] = destination.Address.ToString(), ["prizeCalculator"] = "pro-rata",
            },
        }.ToJsonString();
        JsonObject Create(TestKey owner, string configText) => new()
        {
            ["owner"] = owner.Address.ToString(), ["poolId"] = "camp", ["configHash"] = TestHost.Keccak(configText), ["nonce"] = Nonce(), ["deadline"] = TestHost.Deadline(),
        };

        var refused = await host.PostAsync("/api/v1/pools", await sign(user, "CreatePool", Create(user, config), ("config", config)));
        Assert.Equal((HttpStatusCode.Forbidden, "forbidden"), (refused.Status, refused.Code));
        var created = await host.PostAsync("/api/v1/pools", await sign(admin, "CreatePool", Create(admin, config), ("config", config)));
        Assert.True(created.Status == HttpStatusCode.Created, created.ToString());
        Assert.Equal(("camp", "Active"), (created.Text("poolId"), created.Text("status")));
        var other = config.Replace("Campaign", "Other", StringComparison.Ordinal);
        var taken = await host.PostAsync("/api/v1/pools", await sign(admin, "CreatePool", Create(admin, other), ("config", other)));
        Assert.Equal((HttpStatusCode.Conflict, "conflict"), (taken.Status, taken.Code));

        Assert.Equal(HttpStatusCode.OK, (await host.Http.PostAsJsonAsync("/api/v1/dev-token/faucet", new { address = user.Address.ToString(), quantity = "20" + Whole })).StatusCode);
        var contribution = await host.PostAsync("/api/v1/pools/camp/contributions", await sign(user, "CreateContribution", new JsonObject
        {
            ["account"] = user.Address.ToString(), ["poolId"] = "camp", ["amount"] = "10" + Whole, ["nonce"] = Nonce(), ["deadline"] = TestHost.Deadline(),
        }));
        Assert.Equal((HttpStatusCode.Created, "PendingPayment"), (contribution.Status, contribution.Text("status")));
        var contributionId = contribution.Text("contributionId");
        var manager = (await host.GetAsync("/api/v1/config")).GetProperty("managerAddress").GetString()!;
        async Task<Reply> PayAsync(TestKey from, string quantity, string action, string reference) =>
            await host.PostAsync("/api/v1/dev-token/transfers", await sign(from, "TokenTransfer", new JsonObject
            {
                ["from"] = from.Address.ToString(), ["to"] = manager, ["quantity"] = quantity, ["action"] = action, ["poolId"] = "camp", ["reference"] = reference,
                ["nonce"] = Nonce(), ["deadline"] = TestHost.Deadline(),
            }));

        var paid = await PayAsync(user, "10" + Whole, "Contribute", contributionId);
        Assert.Equal((HttpStatusCode.OK, "contribution-paid"), (paid.Status, paid.Text("notice")));
        Assert.Equal("Paid", (await host.GetAsync($"/api/v1/contributions/{contributionId}")).GetProperty("status").GetString());
        var early = await host.PostAsync($"/api/v1/contributions/{contributionId}/claim", await sign(user, "ClaimContribution", new JsonObject
        {
            ["account"] = user.Address.ToString(), ["contributionId"] = contributionId, ["nonce"] = Nonce(), ["deadline"] = TestHost.Deadline(),
        }));
        Assert.Equal((HttpStatusCode.Conflict, "invalid_state"), (early.Status, early.Code));

        async Task<Reply> SetStatusAsync(TestKey signer, int status) =>
            await host.PostAsync("/api/v1/admin/pools/camp/status", await sign(signer, "SetPoolStatus", new JsonObject
            {
                ["admin"] = signer.Address.ToString(), ["poolId"] = "camp", ["status"] = status, ["reason"] = "test", ["nonce"] = Nonce(), ["deadline"] = TestHost.Deadline(),
            }));

        Assert.Equal((HttpStatusCode.Forbidden, "forbidden"), ((await SetStatusAsync(user, 3)).Status, (await SetStatusAsync(user, 3)).Code));
        var funding = await SetStatusAsync(admin, 3);
        Assert.Equal((HttpStatusCode.OK, "Funding"), (funding.Status, funding.Text("status")));
        var funded = await TestHost.EventuallyAsync(() => host.GetAsync($"/api/v1/accounts/{destination.Address}"), a => a.GetProperty("token").GetString() == "10" + Whole);
        Assert.Equal("10" + Whole, funded.GetProperty("token").GetString()); // the collection reached the destination through the outbox

        Assert.Equal(HttpStatusCode.OK, (await host.Http.PostAsJsonAsync("/api/v1/dev-token/faucet", new { address = destination.Address.ToString(), quantity = "5" + Whole })).StatusCode);
        var back = await PayAsync(destination, "15" + Whole, "Distribute", "");
        Assert.Equal("distribution-received", back.Text("notice"));
        JsonObject Distributing(TestKey signer, string amount) => new()
        {
            ["admin"] = signer.Address.ToString(), ["poolId"] = "camp", ["amount"] = amount, ["nonce"] = Nonce(), ["deadline"] = TestHost.Deadline(),
        };

        var tooMuch = await host.PostAsync("/api/v1/admin/pools/camp/distributing", await sign(admin, "SetAmountDistributing", Distributing(admin, "16" + Whole)));
        Assert.True(tooMuch.Status is HttpStatusCode.Conflict or (HttpStatusCode)422, tooMuch.ToString());
        var distributing = await host.PostAsync("/api/v1/admin/pools/camp/distributing", await sign(admin, "SetAmountDistributing", Distributing(admin, "15" + Whole)));
        Assert.Equal((HttpStatusCode.OK, "Distributing"), (distributing.Status, distributing.Text("status")));

        var claim = await host.PostAsync($"/api/v1/contributions/{contributionId}/claim", await sign(user, "ClaimContribution", new JsonObject
        {
            ["account"] = user.Address.ToString(), ["contributionId"] = contributionId, ["nonce"] = Nonce(), ["deadline"] = TestHost.Deadline(),
        }));
        Assert.Equal(HttpStatusCode.OK, claim.Status);
        var paidOut = await TestHost.EventuallyAsync(() => host.GetAsync($"/api/v1/contributions/{contributionId}"), c => c.GetProperty("status").GetString() == "RewardPaidout");
        Assert.Equal(("RewardPaidout", 6), (paidOut.GetProperty("status").GetString(), paidOut.GetProperty("statusNumber").GetInt32()));
        var account = await host.GetAsync($"/api/v1/accounts/{user.Address}");
        Assert.Equal("25" + Whole, account.GetProperty("token").GetString()); // 20 − 10 contributed + 15 prize (the only contributor)
        var closed = await TestHost.EventuallyAsync(() => host.GetAsync("/api/v1/pools/camp"), p => p.GetProperty("status").GetString() == "Closed");
        Assert.Equal("Closed", closed.GetProperty("status").GetString());
        Assert.True((await host.GetAsync("/api/v1/audit/solvency")).GetProperty("ok").GetBoolean());
    }

    /// <summary>
    /// Aigang's other ending: a direct deposit over the pool's limit (the excess refunded at once), the admin cancels the
    /// pool, the contributor claims the refund and gets every token back. And the treasury funds the demo pool's rewards
    /// (a stranger's Fund-Rewards is refunded).
    /// </summary>
    public static async Task CanceledCampaignAndRewardFundingAsync(TestHost host, RequestSigner sign, TestKey user, TestKey destination)
    {
        var (admin, treasury) = (host.Role("admin"), host.Role("treasury"));
        var nonce = 2000;
        string Nonce() => (++nonce).ToString(CultureInfo.InvariantCulture);
        var manager = (await host.GetAsync("/api/v1/config")).GetProperty("managerAddress").GetString()!;
        var config = "{\"name\":\"Canceled\",\"contribution\":{\"startUtc\":\"2026-01-01T00:00:00Z\",\"endUtc\":\"2099-01-01T00:00:00Z\",\"amountLimit\":\"5" + Whole
            + "\",\"destination\":\"" + destination.Address + "\"}}";
        var created = await host.PostAsync("/api/v1/pools", await sign(admin, "CreatePool", new JsonObject
        {
            ["owner"] = admin.Address.ToString(), ["poolId"] = "camp2", ["configHash"] = TestHost.Keccak(config), ["nonce"] = Nonce(), ["deadline"] = TestHost.Deadline(),
        }, ("config", config)));
        Assert.True(created.Status == HttpStatusCode.Created, created.ToString());
        async Task<Reply> PayAsync(TestKey from, string quantity, string action, string pool) =>
            await host.PostAsync("/api/v1/dev-token/transfers", await sign(from, "TokenTransfer", new JsonObject
            {
                ["from"] = from.Address.ToString(), ["to"] = manager, ["quantity"] = quantity, ["action"] = action, ["poolId"] = pool, ["reference"] = "",
                ["nonce"] = Nonce(), ["deadline"] = TestHost.Deadline(),
            }));

        Assert.Equal(HttpStatusCode.OK, (await host.Http.PostAsJsonAsync("/api/v1/dev-token/faucet", new { address = user.Address.ToString(), quantity = "10" + Whole })).StatusCode);
        var deposited = await PayAsync(user, "7" + Whole, "Contribute", "camp2");
        Assert.Equal("contribution-paid-partly", deposited.Text("notice"));
        var contribution = Assert.Single((await host.GetAsync($"/api/v1/accounts/{user.Address}")).GetProperty("contributions").EnumerateArray());
        Assert.Equal(("Paid", "5" + Whole), (contribution.GetProperty("status").GetString(), contribution.GetProperty("amount").GetString()));
        var contributionId = contribution.GetProperty("contributionId").GetString()!;

        var canceled = await host.PostAsync("/api/v1/admin/pools/camp2/status", await sign(admin, "SetPoolStatus", new JsonObject
        {
            ["admin"] = admin.Address.ToString(), ["poolId"] = "camp2", ["status"] = 5, ["reason"] = "campaign withdrawn", ["nonce"] = Nonce(), ["deadline"] = TestHost.Deadline(),
        }));
        Assert.True(canceled.Status == HttpStatusCode.OK && canceled.Text("status") == "Canceled", canceled.ToString());
        var refund = await host.PostAsync($"/api/v1/contributions/{contributionId}/claim", await sign(user, "ClaimContribution", new JsonObject
        {
            ["account"] = user.Address.ToString(), ["contributionId"] = contributionId, ["nonce"] = Nonce(), ["deadline"] = TestHost.Deadline(),
        }));
        Assert.True(refund.Status == HttpStatusCode.OK, refund.ToString());
        var refunded = await TestHost.EventuallyAsync(() => host.GetAsync($"/api/v1/contributions/{contributionId}"), c => c.GetProperty("status").GetString() == "RefundPaidout");
        Assert.Equal("RefundPaidout", refunded.GetProperty("status").GetString());
        var token = await TestHost.EventuallyAsync(async () => (await host.GetAsync($"/api/v1/accounts/{user.Address}")).GetProperty("token").GetString(), t => t == "10" + Whole);
        Assert.Equal("10" + Whole, token); // the 2 over the limit at once, the 5 on the refund claim

        Assert.Equal(HttpStatusCode.OK, (await host.Http.PostAsJsonAsync("/api/v1/dev-token/faucet", new { address = treasury.Address.ToString(), quantity = "3" + Whole })).StatusCode);
        Assert.Equal("rewards-funded", (await PayAsync(treasury, "3" + Whole, "Fund-Rewards", "demo")).Text("notice"));
        Assert.Equal("refunded:not-treasury", (await PayAsync(user, "1" + Whole, "Fund-Rewards", "demo")).Text("notice"));
        Assert.True((await host.GetAsync("/api/v1/audit/solvency")).GetProperty("ok").GetBoolean());
    }

    /// <summary>
    /// ANPM: a user buys credits with the dev token, moves them into the demo pool, runs a digits task (the in-process
    /// oracle answers, the attestation verifies), stakes, unstakes and is refused an empty reward claim.
    /// </summary>
    public static async Task CreditsInferenceAndStakingAsync(TestHost host, RequestSigner sign, TestKey user)
    {
        var nonce = 0;
        string Nonce() => (++nonce).ToString(CultureInfo.InvariantCulture);
        var manager = (await host.GetAsync("/api/v1/config")).GetProperty("managerAddress").GetString()!;
        Assert.Equal(HttpStatusCode.OK, (await host.Http.PostAsJsonAsync("/api/v1/dev-token/faucet", new { address = user.Address.ToString(), quantity = "10" + Whole })).StatusCode);
        async Task<Reply> TokenAsync(string quantity, string action, string poolId) =>
            await host.PostAsync("/api/v1/dev-token/transfers", await sign(user, "TokenTransfer", new JsonObject
            {
                ["from"] = user.Address.ToString(), ["to"] = manager, ["quantity"] = quantity, ["action"] = action, ["poolId"] = poolId, ["reference"] = "",
                ["nonce"] = Nonce(), ["deadline"] = TestHost.Deadline(),
            }));

        var bought = await TokenAsync("1" + Whole, "Buy-Credits", "");
        Assert.Equal((HttpStatusCode.OK, "credits-bought:1000"), (bought.Status, bought.Text("notice")));
        var moved = await host.PostAsync("/api/v1/pools/demo/credits", await sign(user, "TransferCredits", new JsonObject
        {
            ["account"] = user.Address.ToString(), ["poolId"] = "demo", ["amount"] = "30", ["nonce"] = Nonce(), ["deadline"] = TestHost.Deadline(),
        }));
        Assert.Equal((HttpStatusCode.OK, "970", "30"), (moved.Status, moved.Text("credits"), moved.Text("poolCredits")));

        // A held-out sample of the digits data set (tools/models/digits.vectors.json) and the label the model gives it.
        using var vectors = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(TestHost.RepositoryRoot(), "tools", "models", "digits.vectors.json")));
        var pixels = vectors.RootElement.GetProperty("inputs")[0].EnumerateArray().Select(p => p.GetDouble().ToString(CultureInfo.InvariantCulture));
        var expectedLabel = vectors.RootElement.GetProperty("expectedLabels")[0].GetInt64();
        var input = "{\"inputs\":{\"pixels\":{\"type\":\"float32\",\"shape\":[1,64],\"data\":[" + string.Join(",", pixels) + "]}}}";
        var added = await host.PostAsync("/api/v1/pools/demo/tasks", await sign(user, "AddTask", new JsonObject
        {
            ["account"] = user.Address.ToString(), ["poolId"] = "demo", ["model"] = "digits", ["inputHash"] = TestHost.Keccak(input), ["maxCredits"] = "10",
            ["nonce"] = Nonce(), ["deadline"] = TestHost.Deadline(),
        }, ("input", input)));
        Assert.Equal((HttpStatusCode.Accepted, "10"), (added.Status, added.Text("creditsHeld")));
        var task = await TestHost.EventuallyAsync(() => host.GetAsync($"/api/v1/tasks/{added.Text("taskId")}"), t => t.GetProperty("status").GetString() == "Done");
        Assert.Equal(("Done", "10"), (task.GetProperty("status").GetString(), task.GetProperty("creditsCharged").GetString()));
        using (var output = JsonDocument.Parse(task.GetProperty("output").GetString()!))
        {
            var label = output.RootElement.GetProperty("outputs").GetProperty("label");
            Assert.Equal(expectedLabel, BitConverter.ToInt64(Convert.FromBase64String(label.GetProperty("data").GetString()!)));
        }

        var staked = await TokenAsync("2" + Whole, "Stake", "demo");
        Assert.Equal("staked", staked.Text("notice"));
        var unstaked = await host.PostAsync("/api/v1/pools/demo/stakes/unstake", await sign(user, "Unstake", new JsonObject
        {
            ["account"] = user.Address.ToString(), ["poolId"] = "demo", ["amount"] = "1" + Whole, ["nonce"] = Nonce(), ["deadline"] = TestHost.Deadline(),
        }));
        Assert.Equal((HttpStatusCode.OK, "1" + Whole), (unstaked.Status, unstaked.Text("staked")));
        var nothing = await host.PostAsync("/api/v1/pools/demo/stakes/claim", await sign(user, "ClaimRewards", new JsonObject
        {
            ["account"] = user.Address.ToString(), ["poolId"] = "demo", ["nonce"] = Nonce(), ["deadline"] = TestHost.Deadline(),
        }));
        Assert.Equal(((HttpStatusCode)422, "insufficient_balance"), (nothing.Status, nothing.Code));
        var token = await TestHost.EventuallyAsync(
            async () => (await host.GetAsync($"/api/v1/accounts/{user.Address}")).GetProperty("token").GetString(), t => t == "8" + Whole);
        Assert.Equal("8" + Whole, token); // 10 − 1 bought − 2 staked + 1 unstaked, returned through the outbox
        Assert.True((await host.GetAsync("/api/v1/audit/solvency")).GetProperty("ok").GetBoolean());
    }

    /// <summary>
    /// A backend runs the digits model for a user through a session key: the wallet signs the <c>Delegate</c> grant, the
    /// backend key signs the user's <c>AddTask</c>s (done by the oracle, charged to the user and to the key's cap) until
    /// the cap refuses one, then the wallet revokes the key and the next is refused.
    /// </summary>
    public static async Task SessionKeyAsync(TestHost host, RequestSigner sign, TestKey user, TestKey backend)
    {
        var nonce = 0;
        string Nonce() => (++nonce).ToString(CultureInfo.InvariantCulture);
        await host.GiveCreditsAsync(user.Address, 100, Anpm.Abstractions.PoolId.Parse("demo"));
        var granted = await host.PostAsync("/api/v1/session-keys", await sign(user, "Delegate", new JsonObject
        {
            ["account"] = user.Address.ToString(), ["delegate"] = backend.Address.ToString(), ["poolId"] = "demo", ["actions"] = "AddTask", ["spendCap"] = "20",
            ["expiresAt"] = DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture), ["nonce"] = Nonce(), ["deadline"] = TestHost.Deadline(),
        }));
        Assert.Equal(HttpStatusCode.Created, granted.Status);

        var input = "{\"inputs\":{\"pixels\":{\"type\":\"float32\",\"shape\":[1,64],\"data\":[" + string.Join(",", Enumerable.Repeat(7, 64)) + "]}}}";
        async Task<Reply> AddAsync() => await host.PostAsync("/api/v1/pools/demo/tasks", await sign(backend, "AddTask", new JsonObject
        {
            ["account"] = user.Address.ToString(), ["poolId"] = "demo", ["model"] = "digits", ["inputHash"] = TestHost.Keccak(input), ["maxCredits"] = "10",
            ["nonce"] = Nonce(), ["deadline"] = TestHost.Deadline(),
        }, ("input", input)));
        foreach (var _ in Enumerable.Range(0, 2))
        {
            var added = await AddAsync();
            Assert.Equal(HttpStatusCode.Accepted, added.Status);
            var task = await TestHost.EventuallyAsync(() => host.GetAsync($"/api/v1/tasks/{added.Text("taskId")}"), t => t.GetProperty("status").GetString() == "Done");
            Assert.Equal(("Done", "10"), (task.GetProperty("status").GetString(), task.GetProperty("creditsCharged").GetString()));
        }

        Assert.Equal((HttpStatusCode.Forbidden, "spend_cap_reached"), ((await AddAsync()).Status, (await AddAsync()).Code));
        var account = await host.GetAsync($"/api/v1/accounts/{user.Address}");
        Assert.Equal("80", account.GetProperty("pools")[0].GetProperty("credits").GetString()); // the user paid for the backend's two tasks

        var revoked = await host.PostAsync("/api/v1/session-keys/revoke", await sign(user, "RevokeDelegate", new JsonObject
        {
            ["account"] = user.Address.ToString(), ["delegate"] = backend.Address.ToString(), ["nonce"] = Nonce(), ["deadline"] = TestHost.Deadline(),
        }));
        Assert.Equal((HttpStatusCode.OK, "Revoked", "20"), (revoked.Status, revoked.Text("status"), revoked.Text("spent")));
        Assert.Equal((HttpStatusCode.Forbidden, "session_key_revoked"), ((await AddAsync()).Status, (await AddAsync()).Code));
        Assert.True((await host.GetAsync("/api/v1/audit/solvency")).GetProperty("ok").GetBoolean());
    }
}
