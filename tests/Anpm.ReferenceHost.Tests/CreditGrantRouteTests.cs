using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using Anpm.Abstractions;
using Anpm.Credits;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Anpm.ReferenceHost.Tests;

/// <summary>Credit grants over HTTP: an admin grants promotional credits; a task burns them before the paid ones; what is left expires through the ledger.</summary>
public sealed class CreditGrantRouteTests : IDisposable
{
    private readonly TestKey _user = TestKey.New();
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(DateTime.UtcNow.Date.AddHours(12), TimeSpan.Zero));
    private int _nonce;

    public void Dispose() => _user.Dispose();

    [Fact]
    public async Task AdminGrantsPromotionalCredits_ATaskBurnsThemFirst_TheRestExpiresThroughTheLedger_BadInputRefused()
    {
        await using var host = TestHost.Start(null, services => services.AddSingleton<TimeProvider>(_clock), ("Anpm:Oracle:InProcess", "false"));
        var admin = host.Role("admin");
        JsonObject Grant(string category, string amount, long expiresAt, int priority = 10) => Dated(new JsonObject
        {
            ["admin"] = admin.Address.ToString(), ["account"] = _user.Address.ToString(), ["amount"] = amount, ["category"] = category,
            ["expiresAt"] = expiresAt.ToString(CultureInfo.InvariantCulture), ["priority"] = priority,
        });
        var inHalfAnHour = _clock.GetUtcNow().AddMinutes(30).ToUnixTimeSeconds();

        var granted = await host.PostAsync("/api/v1/admin/credits/grants", host.Sign(admin, "GrantCredits", Grant("Promotional", "15", inHalfAnHour)));
        Assert.Equal((HttpStatusCode.Created, "Promotional", "15"), (granted.Status, granted.Text("category"), granted.Text("remaining")));
        Assert.Equal(HttpStatusCode.Created, (await host.PostAsync("/api/v1/admin/credits/grants", host.Sign(admin, "GrantCredits", Grant("Paid", "50", 0)))).Status);
        foreach (var (message, code) in new (JsonObject, string)[]
        {
            (Grant("Gift", "5", 0), "invalid_request"),
            (Grant("Promotional", "0", 0), "invalid_request"),
            (Grant("Promotional", "5", 1), "invalid_request"),
            (Grant("Promotional", "5", 0, priority: 101), "invalid_request"),
        })
        {
            Assert.Equal(code, (await host.PostAsync("/api/v1/admin/credits/grants", host.Sign(admin, "GrantCredits", message))).Code);
        }

        var stranger = await host.PostAsync("/api/v1/admin/credits/grants", host.Sign(_user, "GrantCredits", Dated(new JsonObject
        {
            ["admin"] = _user.Address.ToString(), ["account"] = _user.Address.ToString(), ["amount"] = "1000", ["category"] = "Paid", ["expiresAt"] = "0", ["priority"] = 0,
        })));
        Assert.Equal((HttpStatusCode.Forbidden, "forbidden"), (stranger.Status, stranger.Code));

        // 40 credits into the demo pool (grants do not move), then a task of 10: the promotional grant pays it.
        var moved = await host.PostAsync("/api/v1/pools/demo/credits", host.Sign(_user, "TransferCredits", Dated(new JsonObject
        {
            ["account"] = _user.Address.ToString(), ["poolId"] = "demo", ["amount"] = "40",
        })));
        Assert.Equal(HttpStatusCode.OK, moved.Status);
        const string input = "{\"inputs\":{\"pixels\":{\"type\":\"float32\",\"shape\":[1,64],\"data\":[1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1]}}}";
        var added = await host.PostAsync("/api/v1/pools/demo/tasks", host.Sign(_user, "AddTask", Dated(new JsonObject
        {
            ["account"] = _user.Address.ToString(), ["poolId"] = "demo", ["model"] = "digits", ["inputHash"] = TestHost.Keccak(input), ["maxCredits"] = "10",
        }), ("input", input)));
        Assert.Equal(HttpStatusCode.Accepted, added.Status);
        var grants = (await host.GetAsync($"/api/v1/accounts/{_user.Address}")).GetProperty("grants");
        Assert.Equal([("Promotional", "5", "10"), ("Paid", "50", "0")],
            grants.EnumerateArray().Select(g => (g.GetProperty("category").GetString(), g.GetProperty("remaining").GetString(), g.GetProperty("held").GetString())));

        // Half an hour later the promotional grant's 5 left the account through the ledger (the host's credit-expiry job,
        // woken by the clock, or this call: whichever comes first; the other finds nothing left).
        _clock.Advance(TimeSpan.FromMinutes(30));
        await host.Services.GetRequiredService<CreditGrantService>().ExpireDueAsync();
        var account = await TestHost.EventuallyAsync(() => host.GetAsync($"/api/v1/accounts/{_user.Address}"),
            a => a.GetProperty("grants")[1].GetProperty("expired").GetString() == "5");
        Assert.Equal(("10", "5"), (account.GetProperty("grants")[1].GetProperty("held").GetString(), account.GetProperty("grants")[1].GetProperty("expired").GetString()));
        Assert.Equal(("20", "30"), (account.GetProperty("credits").GetString(), account.GetProperty("pools")[0].GetProperty("credits").GetString())); // expired from its own 25 first
        var history = await host.GetAsync($"/api/v1/accounts/{_user.Address}/history");
        Assert.Contains(history.GetProperty("entries").EnumerateArray(), e => e.GetProperty("kind").GetString() == "expire" && e.GetProperty("amount").GetString() == "5");

        // The task times out an hour after it was added: its hold comes back to an expired grant, so it leaves at once.
        _clock.Advance(TimeSpan.FromMinutes(31));
        await host.Services.GetRequiredService<Anpm.Pools.InferenceService>().SweepAsync();
        account = await TestHost.EventuallyAsync(() => host.GetAsync($"/api/v1/accounts/{_user.Address}"),
            a => a.GetProperty("grants")[1].GetProperty("expired").GetString() == "15");
        Assert.Equal(("0", "15", "30"), (account.GetProperty("grants")[1].GetProperty("held").GetString(), account.GetProperty("grants")[1].GetProperty("expired").GetString(),
            account.GetProperty("pools")[0].GetProperty("credits").GetString())); // the voided 10 came back to the pool and left from there
        Assert.True((await host.GetAsync("/api/v1/audit/solvency")).GetProperty("ok").GetBoolean());
    }

    private JsonObject Dated(JsonObject message)
    {
        message["nonce"] = (++_nonce).ToString(CultureInfo.InvariantCulture);
        message["deadline"] = _clock.GetUtcNow().AddMinutes(10).ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        return message;
    }
}
