using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Anpm.Abstractions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Anpm.ReferenceHost.Tests;

/// <summary>
/// Session keys over HTTP: a wallet grants a backend key; the backend runs tasks for the wallet's account with its own
/// signatures until the spend cap, an action or pool outside the grant, the revocation or the expiry stops it — each a
/// 403 with its code that changes nothing — and a failed task gives its price back to the key.
/// </summary>
public sealed class SessionKeyRouteTests : IDisposable
{
    private const string Input = "{\"inputs\":{\"pixels\":{\"type\":\"float32\",\"shape\":[1,64],\"data\":[" + "3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3" + "]}}}";
    private readonly TestKey _user = TestKey.New();
    private readonly TestKey _backend = TestKey.New();
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(DateTime.UtcNow.Date.AddHours(12), TimeSpan.Zero));
    private int _nonce;

    public void Dispose()
    {
        _user.Dispose();
        _backend.Dispose();
    }

    [Fact]
    public async Task ABackendRunsTasksForTheWallet_UntilTheCap_OutsideTheGrant_Revoked_Expired_EachRefusedWithItsCode()
    {
        // No oracle runs: the tasks stay pending until they time out.
        await using var host = TestHost.Start(null, services => services.AddSingleton<TimeProvider>(_clock), ("Anpm:Oracle:InProcess", "false"));
        await host.GiveCreditsAsync(_user.Address, 100, PoolId.Parse("demo"));

        var granted = await GrantAsync(host, pool: "demo", actions: "AddTask,WithdrawCredits", cap: "25", expiresIn: TimeSpan.FromHours(2));
        Assert.Equal(HttpStatusCode.Created, granted.Status);
        Assert.Equal((_backend.Address.ToString(), "demo", "AddTask,WithdrawCredits", "25", "Active"), (granted.Text("delegate"), granted.Text("poolId"), granted.Text("actions"),
            granted.Text("spendCap"), granted.Text("status")));

        // The backend signs the wallet's AddTask itself: accepted as the wallet's, its price charged to the key.
        var first = await host.PostAsync("/api/v1/pools/demo/tasks", host.Sign(_backend, "AddTask", AddTask(), ("input", Input)));
        Assert.Equal(HttpStatusCode.Accepted, first.Status);
        var mine = await host.GetAsync($"/api/v1/pools/demo/tasks?account={_user.Address}");
        Assert.Equal(first.Text("taskId"), mine.GetProperty("tasks")[0].GetProperty("taskId").GetString()); // the wallet's task
        Assert.Equal(HttpStatusCode.Accepted, (await host.PostAsync("/api/v1/pools/demo/tasks", host.Sign(_backend, "AddTask", AddTask(), ("input", Input)))).Status);
        var keys = await host.GetAsync($"/api/v1/accounts/{_user.Address}/session-keys");
        Assert.Equal(("20", "5"), (keys.GetProperty("sessionKeys")[0].GetProperty("spent").GetString(), keys.GetProperty("sessionKeys")[0].GetProperty("remaining").GetString()));

        // Refusals change nothing.
        var before = await StateAsync(host);
        await RefusedAsync(host, "/api/v1/pools/demo/tasks", "AddTask", AddTask(), HttpStatusCode.Forbidden, "spend_cap_reached", ("input", Input));
        await RefusedAsync(host, "/api/v1/pools/demo/credits", "TransferCredits", Move(), HttpStatusCode.Forbidden, "session_key_not_allowed");
        await RefusedAsync(host, "/api/v1/pools/demo/stakes/claim", "ClaimRewards", Dated(new JsonObject { ["account"] = _user.Address.ToString(), ["poolId"] = "demo" }),
            HttpStatusCode.Unauthorized, "invalid_signature"); // not a type a session key signs
        await RefusedAsync(host, "/api/v1/session-keys/revoke", "RevokeDelegate", Dated(new JsonObject { ["account"] = _user.Address.ToString(), ["delegate"] = _backend.Address.ToString() }),
            HttpStatusCode.Unauthorized, "invalid_signature"); // a delegate never revokes nor grants
        Assert.Equal(before, await StateAsync(host));

        // A delegate withdraws within its grant (credits stay the wallet's: the cap is not charged).
        var withdrawn = await host.PostAsync("/api/v1/pools/demo/credits/withdraw", host.Sign(_backend, "WithdrawCredits", Move()));
        Assert.Equal(HttpStatusCode.OK, withdrawn.Status);
        Assert.Equal(_user.Address.ToString(), withdrawn.Text("account"));

        // The pending tasks time out: their holds are voided and the key has its 25 again.
        _clock.Advance(TimeSpan.FromSeconds(3601));
        await host.Services.GetRequiredService<Anpm.Pools.InferenceService>().SweepAsync();
        keys = await host.GetAsync($"/api/v1/accounts/{_user.Address}/session-keys");
        Assert.Equal("0", keys.GetProperty("sessionKeys")[0].GetProperty("spent").GetString());

        // Revoked by the wallet: refused at once.
        var revoked = await host.PostAsync("/api/v1/session-keys/revoke", host.Sign(_user, "RevokeDelegate",
            Dated(new JsonObject { ["account"] = _user.Address.ToString(), ["delegate"] = _backend.Address.ToString() })));
        Assert.Equal((HttpStatusCode.OK, "Revoked"), (revoked.Status, revoked.Text("status")));
        await RefusedAsync(host, "/api/v1/pools/demo/tasks", "AddTask", AddTask(), HttpStatusCode.Forbidden, "session_key_revoked", ("input", Input));
        Assert.Equal(HttpStatusCode.NotFound, (await host.PostAsync("/api/v1/session-keys/revoke", host.Sign(_user, "RevokeDelegate",
            Dated(new JsonObject { ["account"] = _user.Address.ToString(), ["delegate"] = _backend.Address.ToString() })))).Status);

        // A new grant, then its expiry.
        Assert.Equal(HttpStatusCode.Created, (await GrantAsync(host, pool: "", actions: "AddTask", cap: "10", expiresIn: TimeSpan.FromMinutes(5))).Status);
        Assert.Equal(HttpStatusCode.Accepted, (await host.PostAsync("/api/v1/pools/demo/tasks", host.Sign(_backend, "AddTask", AddTask(), ("input", Input)))).Status);
        _clock.Advance(TimeSpan.FromMinutes(5));
        await RefusedAsync(host, "/api/v1/pools/demo/tasks", "AddTask", AddTask(), HttpStatusCode.Forbidden, "session_key_expired", ("input", Input));
        keys = await host.GetAsync($"/api/v1/accounts/{_user.Address}/session-keys");
        Assert.Equal(["Expired", "Revoked"], keys.GetProperty("sessionKeys").EnumerateArray().Select(k => k.GetProperty("status").GetString()));
        Assert.True((await host.GetAsync("/api/v1/audit/solvency")).GetProperty("ok").GetBoolean());
    }

    [Fact]
    public async Task Grant_BadFieldsNamed_UnknownPoolNotFound_ADelegateWithoutAGrantIsAnInvalidSignature()
    {
        await using var host = TestHost.Start(null, services => services.AddSingleton<TimeProvider>(_clock));
        await host.GiveCreditsAsync(_user.Address, 100, PoolId.Parse("demo"));
        foreach (var (pool, actions, cap, expiresIn, code, names) in new (string, string, string, TimeSpan, HttpStatusCode, string)[]
        {
            ("demo", "AddTask,AddTask", "1", TimeSpan.FromHours(1), HttpStatusCode.BadRequest, "named twice"),
            ("demo", "Unstake", "1", TimeSpan.FromHours(1), HttpStatusCode.BadRequest, "Unstake"),
            ("demo", "", "1", TimeSpan.FromHours(1), HttpStatusCode.BadRequest, "actions"),
            ("demo", "AddTask", "0", TimeSpan.FromHours(1), HttpStatusCode.BadRequest, "spendCap"),
            ("demo", "AddTask", "1", TimeSpan.FromDays(400), HttpStatusCode.BadRequest, "365 days"),
            ("demo", "AddTask", "1", TimeSpan.FromHours(-1), HttpStatusCode.BadRequest, "expiresAt"),
            ("not a pool!", "AddTask", "1", TimeSpan.FromHours(1), HttpStatusCode.BadRequest, "poolId"),
            ("nowhere", "AddTask", "1", TimeSpan.FromHours(1), HttpStatusCode.NotFound, "nowhere"),
        })
        {
            var reply = await GrantAsync(host, pool, actions, cap, expiresIn);
            Assert.True(reply.Status == code && reply.Body.GetProperty("detail").GetString()!.Contains(names, StringComparison.Ordinal), $"{pool} {actions} {cap}: {reply}");
        }

        Assert.Equal(0, (await host.GetAsync($"/api/v1/accounts/{_user.Address}/session-keys")).GetProperty("sessionKeys").GetArrayLength());
        await RefusedAsync(host, "/api/v1/pools/demo/tasks", "AddTask", AddTask(), HttpStatusCode.Unauthorized, "invalid_signature", ("input", Input));
    }

    private Task<Reply> GrantAsync(TestHost host, string pool, string actions, string cap, TimeSpan expiresIn) =>
        host.PostAsync("/api/v1/session-keys", host.Sign(_user, "Delegate", Dated(new JsonObject
        {
            ["account"] = _user.Address.ToString(), ["delegate"] = _backend.Address.ToString(), ["poolId"] = pool, ["actions"] = actions, ["spendCap"] = cap,
            ["expiresAt"] = Math.Max(1, _clock.GetUtcNow().Add(expiresIn).ToUnixTimeSeconds()).ToString(CultureInfo.InvariantCulture),
        })));

    private async Task RefusedAsync(TestHost host, string path, string type, JsonObject message, HttpStatusCode status, string code, params (string Name, string Value)[] extra)
    {
        var reply = await host.PostAsync(path, host.Sign(_backend, type, message, extra));
        Assert.True(reply.Status == status && reply.Code == code, $"{type}: {reply}");
    }

    private JsonObject AddTask() => Dated(new JsonObject
    {
        ["account"] = _user.Address.ToString(), ["poolId"] = "demo", ["model"] = "digits", ["inputHash"] = TestHost.Keccak(Input), ["maxCredits"] = "10",
    });

    private JsonObject Move() => Dated(new JsonObject { ["account"] = _user.Address.ToString(), ["poolId"] = "demo", ["amount"] = "5" });

    private JsonObject Dated(JsonObject message)
    {
        message["nonce"] = (++_nonce).ToString(CultureInfo.InvariantCulture);
        message["deadline"] = _clock.GetUtcNow().AddMinutes(10).ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        return message;
    }

    private async Task<string> StateAsync(TestHost host) =>
        await host.SolvencyAsync() + JsonSerializer.Serialize(await host.GetAsync($"/api/v1/accounts/{_user.Address}"))
        + JsonSerializer.Serialize(await host.GetAsync($"/api/v1/accounts/{_user.Address}/session-keys"));
}
