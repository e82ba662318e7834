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
    private readonly string _data = Directory.CreateTempSubdirectory("anpm-host-").FullName;
    private readonly EthereumKey _user = EthereumKey.Generate();

    public void Dispose()
    {
        _user.Dispose();
        Directory.Delete(_data, recursive: true);
    }

    [Fact]
    public async Task Faucet_BuyCredits_Stake_AndAnUnknownActionRefunded()
    {
        await using var host = new WebApplicationFactory<Program>().WithWebHostBuilder(web =>
        {
            web.UseEnvironment("Development");
            web.UseSetting("Anpm:DataFolder", _data);
        });
        using var http = host.CreateClient();
        var services = host.Services;
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
            var digest = services.GetRequiredService<SignedRequestVerifier>().Digest("TokenTransfer", JsonSerializer.SerializeToElement(message));
            var body = new JsonObject { ["message"] = message, ["signature"] = _user.SignHash(digest).ToString() };
            var response = await http.PostAsync("/api/v1/dev-token/transfers", new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"));
            return (response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone());
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
        var deadline = DateTime.UtcNow.AddSeconds(15);
        string token;
        do
        {
            await Task.Delay(200);
            using var account = JsonDocument.Parse(await http.GetStringAsync($"/api/v1/accounts/{_user.Address}"));
            token = account.RootElement.GetProperty("token").GetString()!;
        }
        while (token != "2000000000000" && DateTime.UtcNow < deadline);

        Assert.Equal("2000000000000", token); // the outbox paid the refund back through the dev token
        using var solvency = JsonDocument.Parse(await http.GetStringAsync("/api/v1/audit/solvency"));
        Assert.True(solvency.RootElement.GetProperty("ok").GetBoolean());
    }
}
