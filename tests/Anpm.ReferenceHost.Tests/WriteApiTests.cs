using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Anpm.Abstractions;
using Anpm.Credits;
using Anpm.Signing;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Anpm.ReferenceHost.Tests;

/// <summary>The signed write routes: verification, replays, conflicts and refusals that change nothing.</summary>
public sealed class WriteApiTests : IDisposable
{
    private readonly TestKey _user = TestKey.New();
    private readonly TestKey _stranger = TestKey.New();

    public void Dispose()
    {
        _user.Dispose();
        _stranger.Dispose();
    }

    private static string Deadline(int seconds = 600) => TestHost.Deadline(seconds);

    [Fact]
    public async Task TransferCredits_Signed_ReplayedConflictingAndRefusedAsDocumented()
    {
        await using var host = TestHost.Start();
        var http = host.Http;
        await host.GiveCreditsAsync(_user.Address, 100);
        JsonObject Message(string amount, string nonce, string? deadline = null) => new()
        {
            ["account"] = _user.Address.ToString(), ["poolId"] = "demo", ["amount"] = amount, ["nonce"] = nonce, ["deadline"] = deadline ?? Deadline(),
        };

        var first = Message("60", "1"); // a replay is the same message, deadline included
        var moved = await host.PostAsync("/api/v1/pools/demo/credits", host.Sign(_user, "TransferCredits", first));
        Assert.Equal(HttpStatusCode.OK, moved.Status);
        Assert.Equal(("40", "60", false), (moved.Body.GetProperty("credits").GetString(), moved.Body.GetProperty("poolCredits").GetString(), moved.Replayed));
        var replay = await host.PostAsync("/api/v1/pools/demo/credits", host.Sign(_user, "TransferCredits", first));
        Assert.True(replay.Status == HttpStatusCode.OK, replay.ToString());
        Assert.Equal((HttpStatusCode.OK, "40", true), (replay.Status, replay.Body.GetProperty("credits").GetString(), replay.Replayed));
        var solvency = await http.GetStringAsync("/api/v1/audit/solvency");

        async Task RefusedAsync(JsonObject body, HttpStatusCode status, string code, string path = "/api/v1/pools/demo/credits")
        {
            var refused = await host.PostAsync(path, body);
            Assert.Equal((status, code), (refused.Status, refused.Code));
            Assert.Equal(solvency, await http.GetStringAsync("/api/v1/audit/solvency"));
            using var account = JsonDocument.Parse(await http.GetStringAsync($"/api/v1/accounts/{_user.Address}"));
            Assert.Equal("40", account.RootElement.GetProperty("credits").GetString());
        }

        await RefusedAsync(host.Sign(_user, "TransferCredits", Message("61", "1")), HttpStatusCode.Conflict, "conflict");
        await RefusedAsync(host.Sign(_user, "TransferCredits", Message("41", "2")), (HttpStatusCode)422, "insufficient_balance");
        await RefusedAsync(host.Sign(_user, "TransferCredits", Message("1", "3", Deadline(-5))), HttpStatusCode.Unauthorized, "signature_expired");
        await RefusedAsync(host.Sign(_stranger, "TransferCredits", Message("1", "4")), HttpStatusCode.Unauthorized, "invalid_signature");
        await RefusedAsync(host.Sign(_user, "TransferCredits", Message("0", "5")), HttpStatusCode.BadRequest, "invalid_request");
        var negative = host.Sign(_user, "TransferCredits", Message("1", "6"));
        negative["message"]!["amount"] = "-1"; // no wallet can sign it; the host must refuse it as malformed
        await RefusedAsync(negative, HttpStatusCode.BadRequest, "invalid_request");
        var huge = host.Sign(_user, "TransferCredits", Message("1", "6"));
        huge["message"]!["amount"] = "1" + new string('0', 80);
        await RefusedAsync(huge, HttpStatusCode.BadRequest, "invalid_request");
        var elsewhere = Message("1", "7");
        elsewhere["poolId"] = "nowhere";
        await RefusedAsync(host.Sign(_user, "TransferCredits", elsewhere), HttpStatusCode.NotFound, "not_found", "/api/v1/pools/nowhere/credits");
        var malformed = await http.PostAsync("/api/v1/pools/demo/credits", new StringContent("{not json", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
        var unsigned = await http.PostAsJsonAsync("/api/v1/pools/demo/credits", new { message = Message("1", "8") });
        Assert.Equal(HttpStatusCode.BadRequest, unsigned.StatusCode);

        var back = await host.PostAsync("/api/v1/pools/demo/credits/withdraw", host.Sign(_user, "WithdrawCredits", Message("10", "9")));
        Assert.Equal((HttpStatusCode.OK, "50", "50"), (back.Status, back.Body.GetProperty("credits").GetString(), back.Body.GetProperty("poolCredits").GetString()));
    }

    [Fact]
    public async Task AddTask_Signed_RunByTheInProcessOracle()
    {
        await using var host = TestHost.Start();
        var http = host.Http;
        await host.GiveCreditsAsync(_user.Address, 10);
        await host.PostAsync("/api/v1/pools/demo/credits", host.Sign(_user, "TransferCredits", new JsonObject
        {
            ["account"] = _user.Address.ToString(), ["poolId"] = "demo", ["amount"] = "10", ["nonce"] = "1", ["deadline"] = Deadline(),
        }));
        var input = "{\"inputs\":{\"pixels\":{\"type\":\"float32\",\"shape\":[1,64],\"data\":[" + string.Join(",", Enumerable.Repeat(8, 64)) + "]}}}";
        var inputHash = TestHost.Keccak(input);
        JsonObject Task(string hash) => new()
        {
            ["account"] = _user.Address.ToString(), ["poolId"] = "demo", ["model"] = "digits", ["inputHash"] = hash, ["maxCredits"] = "10", ["nonce"] = "2", ["deadline"] = Deadline(),
        };

        var wrongHash = await host.PostAsync("/api/v1/pools/demo/tasks", host.Sign(_user, "AddTask", Task("0x" + new string('0', 64)), ("input", input)));
        Assert.Equal((HttpStatusCode.BadRequest, "invalid_request"), (wrongHash.Status, wrongHash.Code));
        var added = await host.PostAsync("/api/v1/pools/demo/tasks", host.Sign(_user, "AddTask", Task(inputHash), ("input", input)));
        Assert.Equal((HttpStatusCode.Accepted, "10"), (added.Status, added.Body.GetProperty("creditsHeld").GetString()));
        var taskId = added.Body.GetProperty("taskId").GetString();
        var task = await TestHost.EventuallyAsync(() => host.GetAsync($"/api/v1/tasks/{taskId}"), t => t.GetProperty("status").GetString() == "Done");
        Assert.Equal("Done", task.GetProperty("status").GetString());
        using var account = JsonDocument.Parse(await http.GetStringAsync($"/api/v1/accounts/{_user.Address}"));
        Assert.Empty(account.RootElement.GetProperty("pools").EnumerateArray()); // the 10 credits were consumed
    }
}
