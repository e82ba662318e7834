using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Anpm.Pools;
using Anpm.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Anpm.ReferenceHost.Tests;

/// <summary>
/// ANPM's "Incentive daily" through the API on a host whose clock the test moves: the treasury funds the demo pool's
/// rewards, a user stakes, the stake ages, the daily epochs run, and the user claims the day's reward in tokens.
/// </summary>
public sealed class StakingRewardTests : IDisposable
{
    private const string Whole = "000000000000";
    private readonly TestKey _user = TestKey.New();

    public void Dispose() => _user.Dispose();

    [Fact]
    public async Task FundStakeAgeEpochClaim_TheDailyRewardPaidInTokens()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(DateTime.UtcNow.Date.AddHours(12), TimeSpan.Zero));
        await using var host = TestHost.Start(null, services => services.AddSingleton<TimeProvider>(clock));
        var treasury = host.Role("treasury");
        var manager = (await host.GetAsync("/api/v1/config")).GetProperty("managerAddress").GetString()!;
        var nonce = 0;
        JsonObject Dated(JsonObject message)
        {
            message["nonce"] = (++nonce).ToString(CultureInfo.InvariantCulture);
            message["deadline"] = clock.GetUtcNow().AddMinutes(10).ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
            return message;
        }

        async Task<Reply> TokenAsync(TestKey from, string quantity, string action) =>
            await host.PostAsync("/api/v1/dev-token/transfers", host.Sign(from, "TokenTransfer", Dated(new JsonObject
            {
                ["from"] = from.Address.ToString(), ["to"] = manager, ["quantity"] = quantity, ["action"] = action, ["poolId"] = "demo", ["reference"] = "",
            })));

        foreach (var who in new[] { treasury, _user })
        {
            Assert.Equal(HttpStatusCode.OK, (await host.Http.PostAsJsonAsync("/api/v1/dev-token/faucet", new { address = who.Address.ToString(), quantity = "10" + Whole })).StatusCode);
        }

        Assert.Equal("rewards-funded", (await TokenAsync(treasury, "5" + Whole, "Fund-Rewards")).Text("notice"));
        Assert.Equal("staked", (await TokenAsync(_user, "4" + Whole, "Stake")).Text("notice"));
        JsonObject Claim() => Dated(new JsonObject { ["account"] = _user.Address.ToString(), ["poolId"] = "demo" });
        Assert.Equal((HttpStatusCode)422, (await host.PostAsync("/api/v1/pools/demo/stakes/claim", host.Sign(_user, "ClaimRewards", Claim()))).Status);

        // Staked at noon of day D: aged a day later, eligible from day D+2, whose epoch closes at the start of D+3.
        clock.Advance(TimeSpan.FromDays(3));
        await host.Services.GetRequiredService<StakingService>().ProcessEpochsAsync();
        var stake = await host.GetAsync($"/api/v1/pools/demo/stakes/{_user.Address}");
        Assert.Equal(("4" + Whole, "1" + Whole), (stake.GetProperty("staked").GetString(), stake.GetProperty("pending").GetString())); // the demo pool's daily reward, all of it

        var claimed = await host.PostAsync("/api/v1/pools/demo/stakes/claim", host.Sign(_user, "ClaimRewards", Claim()));
        Assert.True(claimed.Status == HttpStatusCode.OK, claimed.ToString());
        Assert.Equal("1" + Whole, claimed.Text("amount"));
        // The reward leaves through the outbox, which the host's job loop (on the host's clock) dispatches every 2 s.
        var token = await TestHost.EventuallyAsync(
            async () =>
            {
                clock.Advance(TimeSpan.FromSeconds(2));
                return (await host.GetAsync($"/api/v1/accounts/{_user.Address}")).GetProperty("token").GetString();
            },
            t => t == "7" + Whole);
        Assert.Equal("7" + Whole, token); // 10 − 4 staked + 1 reward
        Assert.True((await host.GetAsync("/api/v1/audit/solvency")).GetProperty("ok").GetBoolean());
    }
}
