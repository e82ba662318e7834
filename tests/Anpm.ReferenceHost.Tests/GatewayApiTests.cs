using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;

namespace Anpm.ReferenceHost.Tests;

/// <summary>Production gateway mode (development token off): notices from the gateway; it pulls and confirms outgoing transfers.</summary>
public sealed class GatewayApiTests : IDisposable
{
    private readonly TestKey _user = TestKey.New();

    public void Dispose() => _user.Dispose();

    [Fact]
    public async Task StakeNotice_Unstake_GatewayPullsOnceAndConfirms()
    {
        await using var host = TestHost.Start(null, ("Anpm:DevToken:Enabled", "false"));
        var gateway = host.Role("gateway");
        var nonce = 0;
        string Nonce() => (++nonce).ToString(CultureInfo.InvariantCulture);
        var staked = await host.PostAsync("/api/v1/token/notices", host.Sign(gateway, "CreditNotice", new JsonObject
        {
            ["gateway"] = gateway.Address.ToString(), ["messageId"] = "tx-1", ["sender"] = _user.Address.ToString(), ["quantity"] = "3000000000000", ["action"] = "Stake",
            ["poolId"] = "demo", ["reference"] = "",
        }));
        Assert.Equal((HttpStatusCode.OK, "staked"), (staked.Status, staked.Text("outcome")));
        var unstaked = await host.PostAsync("/api/v1/pools/demo/stakes/unstake", host.Sign(_user, "Unstake", new JsonObject
        {
            ["account"] = _user.Address.ToString(), ["poolId"] = "demo", ["amount"] = "1000000000000", ["nonce"] = Nonce(), ["deadline"] = TestHost.Deadline(),
        }));
        Assert.Equal(HttpStatusCode.OK, unstaked.Status);
        Assert.Null((await host.GetAsync("/api/v1/audit/solvency")).GetProperty("token").GetString()); // holdings are the gateway's to report

        JsonObject Pull(TestKey signer, string limit = "10") => new() { ["gateway"] = signer.Address.ToString(), ["limit"] = limit, ["nonce"] = Nonce(), ["deadline"] = TestHost.Deadline() };
        Assert.Equal(HttpStatusCode.Forbidden, (await host.PostAsync("/api/v1/gateway/outbox/pull", host.Sign(_user, "OutboxPull", Pull(_user)))).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await host.PostAsync("/api/v1/gateway/outbox/pull", host.Sign(gateway, "OutboxPull", Pull(gateway, "101")))).Status);
        var pulled = await host.PostAsync("/api/v1/gateway/outbox/pull", host.Sign(gateway, "OutboxPull", Pull(gateway)));
        Assert.Equal(HttpStatusCode.OK, pulled.Status);
        var transfer = Assert.Single(pulled.Body.GetProperty("transfers").EnumerateArray());
        Assert.Equal((_user.Address.ToString(), "1000000000000", "APUS"), (transfer.GetProperty("to").GetString(), transfer.GetProperty("amount").GetString(), transfer.GetProperty("asset").GetString()));
        Assert.Empty((await host.PostAsync("/api/v1/gateway/outbox/pull", host.Sign(gateway, "OutboxPull", Pull(gateway)))).Body.GetProperty("transfers").EnumerateArray());

        var transferId = transfer.GetProperty("transferId").GetString()!;
        JsonObject Confirm(TestKey signer, string id) => new()
        {
            ["gateway"] = signer.Address.ToString(), ["transferId"] = id, ["externalReference"] = "0xabc", ["nonce"] = Nonce(), ["deadline"] = TestHost.Deadline(),
        };
        var before = await host.SolvencyAsync();
        var foreign = await host.PostAsync($"/api/v1/gateway/outbox/{transferId}/confirm", host.Sign(_user, "OutboxConfirm", Confirm(_user, transferId)));
        Assert.Equal((HttpStatusCode.Forbidden, "forbidden"), (foreign.Status, foreign.Code));
        var unknown = await host.PostAsync("/api/v1/gateway/outbox/nothing/confirm", host.Sign(gateway, "OutboxConfirm", Confirm(gateway, "nothing")));
        Assert.Equal((HttpStatusCode.NotFound, "not_found"), (unknown.Status, unknown.Code));
        Assert.Equal(before, await host.SolvencyAsync());
        var confirmed = await host.PostAsync($"/api/v1/gateway/outbox/{transferId}/confirm", host.Sign(gateway, "OutboxConfirm", Confirm(gateway, transferId)));
        Assert.Equal((HttpStatusCode.OK, "Confirmed"), (confirmed.Status, confirmed.Text("result")));
        var again = await host.PostAsync($"/api/v1/gateway/outbox/{transferId}/confirm", host.Sign(gateway, "OutboxConfirm", Confirm(gateway, transferId)));
        Assert.Equal((HttpStatusCode.OK, "AlreadyConfirmed"), (again.Status, again.Text("result")));
        var stake = await host.GetAsync($"/api/v1/pools/demo/stakes/{_user.Address}");
        Assert.Equal("2000000000000", stake.GetProperty("staked").GetString());
        Assert.True((await host.GetAsync("/api/v1/audit/solvency")).GetProperty("ok").GetBoolean());
    }

    [Fact]
    public async Task BuyCreditsNotice_AppliedOnce_ReplayedBySameId_ConflictWithOtherFields()
    {
        await using var host = TestHost.Start(null, ("Anpm:DevToken:Enabled", "false"));
        var gateway = host.Role("gateway");
        JsonObject Notice(string quantity) => new()
        {
            ["gateway"] = gateway.Address.ToString(), ["messageId"] = "m1", ["sender"] = _user.Address.ToString(), ["quantity"] = quantity, ["action"] = "Buy-Credits",
            ["poolId"] = "", ["reference"] = "",
        };
        var notice = await host.PostAsync("/api/v1/token/notices", host.Sign(gateway, "CreditNotice", Notice("1000000000000")));
        Assert.Equal((HttpStatusCode.OK, "credits-bought:1000", false), (notice.Status, notice.Text("outcome"), notice.Body.GetProperty("replayed").GetBoolean()));
        var again = await host.PostAsync("/api/v1/token/notices", host.Sign(gateway, "CreditNotice", Notice("1000000000000")));
        Assert.True(again.Body.GetProperty("replayed").GetBoolean());
        var conflict = await host.PostAsync("/api/v1/token/notices", host.Sign(gateway, "CreditNotice", Notice("2000000000000")));
        Assert.Equal((HttpStatusCode.Conflict, "conflict"), (conflict.Status, conflict.Code));
        Assert.Equal("1000", (await host.GetAsync($"/api/v1/accounts/{_user.Address}")).GetProperty("credits").GetString());
        await Anpm.Testing.LedgerAssert.InvariantHoldsAsync(host.Services.GetRequiredService<Anpm.Credits.Ledger>());
    }
}
