using System.Net;
using System.Text.Json.Nodes;

namespace Anpm.ReferenceHost.Tests;

/// <summary>The pool, contribution, staking, notice and administration routes, signed with in-process keys.</summary>
public sealed class ManageApiTests : IDisposable
{
    private readonly TestKey _user = TestKey.New();
    private readonly TestKey _destination = TestKey.New();

    public void Dispose()
    {
        _user.Dispose();
        _destination.Dispose();
    }

    private static RequestSigner InProcess(TestHost host) => (key, type, message, extra) => Task.FromResult(host.Sign(key, type, message, extra));

    [Fact]
    public async Task CampaignPool_CreatedContributedFundedDistributedAndClaimed()
    {
        await using var host = TestHost.Start();
        await EndToEndFlows.CampaignAsync(host, InProcess(host), _user, _destination);
    }

    [Fact]
    public async Task CanceledCampaign_Refunded_AndTreasuryFundsRewards()
    {
        await using var host = TestHost.Start();
        await EndToEndFlows.CanceledCampaignAndRewardFundingAsync(host, InProcess(host), _user, _destination);
    }

    [Fact]
    public async Task Credits_Inference_AndStaking()
    {
        await using var host = TestHost.Start();
        await EndToEndFlows.CreditsInferenceAndStakingAsync(host, InProcess(host), _user);
    }

    [Fact]
    public async Task Administration_RolesChecked_PauseStopsMoney_RateFeedAndNotices()
    {
        await using var host = TestHost.Start();
        var (admin, feeder, gateway) = (host.Role("admin"), host.Role("feeder"), host.Role("gateway"));
        await host.GiveCreditsAsync(_user.Address, 50);
        var nonce = 0;
        string Nonce() => (++nonce).ToString(System.Globalization.CultureInfo.InvariantCulture);
        JsonObject Pause(TestKey signer, bool paused) => new() { ["admin"] = signer.Address.ToString(), ["paused"] = paused, ["nonce"] = Nonce(), ["deadline"] = TestHost.Deadline() };
        JsonObject Transfer() => new() { ["account"] = _user.Address.ToString(), ["poolId"] = "demo", ["amount"] = "5", ["nonce"] = Nonce(), ["deadline"] = TestHost.Deadline() };

        var notAdmin = await host.PostAsync("/api/v1/admin/pause", host.Sign(_user, "Pause", Pause(_user, true)));
        Assert.Equal((HttpStatusCode.Forbidden, "forbidden"), (notAdmin.Status, notAdmin.Code));
        var paused = await host.PostAsync("/api/v1/admin/pause", host.Sign(admin, "Pause", Pause(admin, true)));
        Assert.Equal((HttpStatusCode.OK, true), (paused.Status, paused.Body.GetProperty("paused").GetBoolean()));
        var solvency = await host.SolvencyAsync();
        var refused = await host.PostAsync("/api/v1/pools/demo/credits", host.Sign(_user, "TransferCredits", Transfer()));
        Assert.Equal(((HttpStatusCode)423, "paused"), (refused.Status, refused.Code));
        Assert.Equal(solvency, await host.SolvencyAsync());
        Assert.Equal(HttpStatusCode.OK, (await host.PostAsync("/api/v1/admin/pause", host.Sign(admin, "Pause", Pause(admin, false)))).Status);
        Assert.Equal(HttpStatusCode.OK, (await host.PostAsync("/api/v1/pools/demo/credits", host.Sign(_user, "TransferCredits", Transfer()))).Status);

        JsonObject Rate(TestKey signer, string credits) => new()
        {
            ["feeder"] = signer.Address.ToString(), ["credits"] = credits, ["tokenUnits"] = "1000000000000", ["effectiveAt"] = "0", ["nonce"] = Nonce(), ["deadline"] = TestHost.Deadline(),
        };
        Assert.Equal(HttpStatusCode.Forbidden, (await host.PostAsync("/api/v1/admin/exchange-rate", host.Sign(_user, "SetExchangeRate", Rate(_user, "5")))).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await host.PostAsync("/api/v1/admin/exchange-rate", host.Sign(feeder, "SetExchangeRate", Rate(feeder, "0")))).Status);
        var rate = await host.PostAsync("/api/v1/admin/exchange-rate", host.Sign(feeder, "SetExchangeRate", Rate(feeder, "2000")));
        Assert.Equal((HttpStatusCode.OK, "2000"), (rate.Status, rate.Text("credits")));
        Assert.Equal("2000", (await host.GetAsync("/api/v1/exchange-rate")).GetProperty("current").GetProperty("credits").GetString());

        JsonObject Oracle(TestKey signer, bool active) => new()
        {
            ["owner"] = signer.Address.ToString(), ["poolId"] = "demo", ["oracle"] = _destination.Address.ToString(), ["active"] = active, ["nonce"] = Nonce(), ["deadline"] = TestHost.Deadline(),
        };
        Assert.Equal(HttpStatusCode.Forbidden, (await host.PostAsync("/api/v1/pools/demo/oracles", host.Sign(_user, "SetOracle", Oracle(_user, true)))).Status);
        var listed = await host.PostAsync("/api/v1/pools/demo/oracles", host.Sign(admin, "SetOracle", Oracle(admin, true)));
        Assert.Equal((HttpStatusCode.OK, true), (listed.Status, listed.Body.GetProperty("active").GetBoolean()));

        JsonObject Notice(TestKey signer, string messageId, string quantity) => new()
        {
            ["gateway"] = signer.Address.ToString(), ["messageId"] = messageId, ["sender"] = _user.Address.ToString(), ["quantity"] = quantity, ["action"] = "Buy-Credits",
            ["poolId"] = "", ["reference"] = "",
        };
        var foreign = await host.PostAsync("/api/v1/token/notices", host.Sign(_user, "CreditNotice", Notice(_user, "m1", "1000000000000")));
        Assert.Equal((HttpStatusCode.Forbidden, "forbidden"), (foreign.Status, foreign.Code));
        // With the development token in process, no gateway notice is heard: no token backs it here.
        var credits = (await host.GetAsync($"/api/v1/accounts/{_user.Address}")).GetProperty("credits").GetString();
        var notice = await host.PostAsync("/api/v1/token/notices", host.Sign(gateway, "CreditNotice", Notice(gateway, "m1", "1000000000000")));
        Assert.Equal((HttpStatusCode.Conflict, "invalid_state"), (notice.Status, notice.Code));
        Assert.Equal(credits, (await host.GetAsync($"/api/v1/accounts/{_user.Address}")).GetProperty("credits").GetString());
        var report = await host.GetAsync("/api/v1/audit/solvency");
        Assert.True(report.GetProperty("ok").GetBoolean(), report.ToString());
        Assert.Empty(report.GetProperty("problems").EnumerateArray()); // the ledger itself is sound
        var metrics = await host.Http.GetStringAsync("/metrics");
        Assert.Matches(@"anpm_signed_requests_total\{[^}]*replayed=""false"",status=""423"",type=""TransferCredits""\} 1\n", metrics);
        Assert.Matches(@"anpm_signed_requests_total\{[^}]*replayed=""false"",status=""403"",type=""Pause""\} 1\n", metrics);
    }
}
