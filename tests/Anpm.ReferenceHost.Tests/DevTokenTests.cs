using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Anpm.Signing;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Anpm.ReferenceHost.Tests;

/// <summary>The development token: faucet, signed transfers that apply their credit notice at once, refunds paid back.</summary>
public sealed class DevTokenTests : IDisposable
{
    private readonly TestKey _user = TestKey.New();

    public void Dispose() => _user.Dispose();

    [Fact]
    public async Task Faucet_BuyCredits_Stake_AndAnUnknownActionRefunded()
    {
        await using var host = TestHost.Start();
        var http = host.Http;
        using var config = JsonDocument.Parse(await http.GetStringAsync("/api/v1/config"));
        var manager = config.RootElement.GetProperty("managerAddress").GetString()!;

        var faucet = await http.PostAsJsonAsync("/api/v1/dev-token/faucet", new { address = _user.Address.ToString(), quantity = "5000000000000" });
        Assert.Equal(HttpStatusCode.OK, faucet.StatusCode);
        var tooMuch = await http.PostAsJsonAsync("/api/v1/dev-token/faucet", new { address = _user.Address.ToString(), quantity = "100000000000000000000" });
        Assert.Equal((HttpStatusCode)422, tooMuch.StatusCode);

        var nonce = 0;
        async Task<(HttpStatusCode Status, JsonElement Body)> TransferAsync(string quantity, string action, string poolId = "", string? to = null)
        {
            var message = new JsonObject
            {
                ["from"] = _user.Address.ToString(), ["to"] = to ?? manager, ["quantity"] = quantity, ["action"] = action, ["poolId"] = poolId, ["reference"] = "",
                ["nonce"] = (++nonce).ToString(System.Globalization.CultureInfo.InvariantCulture), ["deadline"] = DateTimeOffset.UtcNow.AddMinutes(5).ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture),
            };
            var reply = await host.PostAsync("/api/v1/dev-token/transfers", host.Sign(_user, "TokenTransfer", message));
            return (reply.Status, reply.Body);
        }

        var bought = await TransferAsync("2000000000000", "Buy-Credits");
        Assert.Equal((HttpStatusCode.OK, "credits-bought:2000", "3000000000000"), (bought.Status, bought.Body.GetProperty("notice").GetString(), bought.Body.GetProperty("token").GetString()));
        using (var account = JsonDocument.Parse(await http.GetStringAsync($"/api/v1/accounts/{_user.Address}")))
        {
            Assert.Equal(("2000", "3000000000000"), (account.RootElement.GetProperty("credits").GetString(), account.RootElement.GetProperty("token").GetString()));
        }

        var staked = await TransferAsync("1000000000000", "Stake", "demo");
        Assert.Equal("staked", staked.Body.GetProperty("notice").GetString());
        using (var stake = JsonDocument.Parse(await http.GetStringAsync($"/api/v1/pools/demo/stakes/{_user.Address}")))
        {
            Assert.Equal("1000000000000", stake.RootElement.GetProperty("staked").GetString());
        }

        Assert.Equal((HttpStatusCode)422, (await TransferAsync("9000000000000", "Buy-Credits")).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await TransferAsync("1", "Buy-Credits", to: _user.Address.ToString())).Status);

        var refunded = await TransferAsync("500000000000", "Teleport");
        Assert.Equal("refunded:unknown-action", refunded.Body.GetProperty("notice").GetString());
        var token = await TestHost.EventuallyAsync(
            async () => (await host.GetAsync($"/api/v1/accounts/{_user.Address}")).GetProperty("token").GetString(), t => t == "2000000000000");

        Assert.Equal("2000000000000", token); // the outbox paid the refund back through the dev token
        using var solvency = JsonDocument.Parse(await http.GetStringAsync("/api/v1/audit/solvency"));
        Assert.True(solvency.RootElement.GetProperty("ok").GetBoolean());
    }
}
