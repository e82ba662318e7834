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
    private readonly string _data = Directory.CreateTempSubdirectory("anpm-host-").FullName;
    private readonly EthereumKey _user = EthereumKey.Generate();
    private readonly EthereumKey _stranger = EthereumKey.Generate();

    public void Dispose()
    {
        _user.Dispose();
        _stranger.Dispose();
        Directory.Delete(_data, recursive: true);
    }

    private WebApplicationFactory<Program> Host() =>
        new WebApplicationFactory<Program>().WithWebHostBuilder(web =>
        {
            web.UseEnvironment("Development");
            web.UseSetting("Anpm:DataFolder", _data);
        });

    private static JsonObject Signed(IServiceProvider services, EthereumKey key, string type, JsonObject message, params (string Name, string Value)[] extra)
    {
        var digest = services.GetRequiredService<SignedRequestVerifier>().Digest(type, JsonSerializer.SerializeToElement(message));
        var body = new JsonObject { ["message"] = message.DeepClone(), ["signature"] = key.SignHash(digest).ToString() };
        foreach (var (name, value) in extra)
        {
            body[name] = value;
        }

        return body;
    }

    private static string Deadline(int seconds = 600) => DateTimeOffset.UtcNow.AddSeconds(seconds).ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture);

    private async Task GiveCreditsAsync(IServiceProvider services, ulong credits)
    {
        var ledger = services.GetRequiredService<Ledger>();
        await ledger.CreateAccountsAsync([new NewAccount(SystemAccounts.Issuance(WellKnownAssets.Credit), WellKnownAssets.Credit, AccountFlags.None),
            new NewAccount(CreditAccounts.Of(_user.Address), WellKnownAssets.Credit, AccountFlags.DebitsMustNotExceedCredits)]);
        await ledger.CreateTransferAsync(new TransferRequest
        {
            Id = TransferId.Parse("gift"), DebitAccountId = SystemAccounts.Issuance(WellKnownAssets.Credit), CreditAccountId = CreditAccounts.Of(_user.Address),
            Asset = WellKnownAssets.Credit, Amount = new TokenAmount(credits), Kind = TransferKind.Parse("purchase"),
        });
    }

    private static async Task<(HttpStatusCode Status, JsonElement Body, bool Replayed)> PostAsync(HttpClient http, string path, JsonObject body)
    {
        var response = await http.PostAsync(path, new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone(), response.Headers.Contains("Idempotency-Replayed"));
    }

    [Fact]
    public async Task TransferCredits_Signed_ReplayedConflictingAndRefusedAsDocumented()
    {
        await using var host = Host();
        using var http = host.CreateClient();
        var services = host.Services;
        await GiveCreditsAsync(services, 100);
        JsonObject Message(string amount, string nonce, string? deadline = null) => new()
        {
            ["account"] = _user.Address.ToString(), ["poolId"] = "demo", ["amount"] = amount, ["nonce"] = nonce, ["deadline"] = deadline ?? Deadline(),
        };

        var moved = await PostAsync(http, "/api/v1/pools/demo/credits", Signed(services, _user, "TransferCredits", Message("60", "1")));
        Assert.Equal(HttpStatusCode.OK, moved.Status);
        Assert.Equal(("40", "60", false), (moved.Body.GetProperty("credits").GetString(), moved.Body.GetProperty("poolCredits").GetString(), moved.Replayed));
        var replay = await PostAsync(http, "/api/v1/pools/demo/credits", Signed(services, _user, "TransferCredits", Message("60", "1")));
        Assert.Equal((HttpStatusCode.OK, "40", true), (replay.Status, replay.Body.GetProperty("credits").GetString(), replay.Replayed));
        var solvency = await http.GetStringAsync("/api/v1/audit/solvency");

        async Task RefusedAsync(JsonObject body, HttpStatusCode status, string code, string path = "/api/v1/pools/demo/credits")
        {
            var refused = await PostAsync(http, path, body);
            Assert.Equal((status, code), (refused.Status, refused.Body.GetProperty("code").GetString()));
            Assert.Equal(solvency, await http.GetStringAsync("/api/v1/audit/solvency"));
            using var account = JsonDocument.Parse(await http.GetStringAsync($"/api/v1/accounts/{_user.Address}"));
            Assert.Equal("40", account.RootElement.GetProperty("credits").GetString());
        }

        await RefusedAsync(Signed(services, _user, "TransferCredits", Message("61", "1")), HttpStatusCode.Conflict, "conflict");
        await RefusedAsync(Signed(services, _user, "TransferCredits", Message("41", "2")), (HttpStatusCode)422, "insufficient_balance");
        await RefusedAsync(Signed(services, _user, "TransferCredits", Message("1", "3", Deadline(-5))), HttpStatusCode.Unauthorized, "signature_expired");
        await RefusedAsync(Signed(services, _stranger, "TransferCredits", Message("1", "4")), HttpStatusCode.Unauthorized, "invalid_signature");
        await RefusedAsync(Signed(services, _user, "TransferCredits", Message("0", "5")), HttpStatusCode.BadRequest, "invalid_request");
        var negative = Signed(services, _user, "TransferCredits", Message("1", "6"));
        negative["message"]!["amount"] = "-1"; // no wallet can sign it; the host must refuse it as malformed
        await RefusedAsync(negative, HttpStatusCode.BadRequest, "invalid_request");
        var huge = Signed(services, _user, "TransferCredits", Message("1", "6"));
        huge["message"]!["amount"] = "1" + new string('0', 80);
        await RefusedAsync(huge, HttpStatusCode.BadRequest, "invalid_request");
        var elsewhere = Message("1", "7");
        elsewhere["poolId"] = "nowhere";
        await RefusedAsync(Signed(services, _user, "TransferCredits", elsewhere), HttpStatusCode.NotFound, "not_found", "/api/v1/pools/nowhere/credits");
        var malformed = await http.PostAsync("/api/v1/pools/demo/credits", new StringContent("{not json", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
        var unsigned = await http.PostAsJsonAsync("/api/v1/pools/demo/credits", new { message = Message("1", "8") });
        Assert.Equal(HttpStatusCode.BadRequest, unsigned.StatusCode);

        var back = await PostAsync(http, "/api/v1/pools/demo/credits/withdraw", Signed(services, _user, "WithdrawCredits", Message("10", "9")));
        Assert.Equal((HttpStatusCode.OK, "50", "50"), (back.Status, back.Body.GetProperty("credits").GetString(), back.Body.GetProperty("poolCredits").GetString()));
    }

    [Fact]
    public async Task AddTask_Signed_RunByTheInProcessOracle()
    {
        await using var host = Host();
        using var http = host.CreateClient();
        var services = host.Services;
        await GiveCreditsAsync(services, 10);
        await PostAsync(http, "/api/v1/pools/demo/credits", Signed(services, _user, "TransferCredits", new JsonObject
        {
            ["account"] = _user.Address.ToString(), ["poolId"] = "demo", ["amount"] = "10", ["nonce"] = "1", ["deadline"] = Deadline(),
        }));
        var input = "{\"inputs\":{\"pixels\":{\"type\":\"float32\",\"shape\":[1,64],\"data\":[" + string.Join(",", Enumerable.Repeat(8, 64)) + "]}}}";
        var inputHash = "0x" + Convert.ToHexStringLower(Keccak256.Hash(Encoding.UTF8.GetBytes(input)));
        JsonObject Task(string hash) => new()
        {
            ["account"] = _user.Address.ToString(), ["poolId"] = "demo", ["model"] = "digits", ["inputHash"] = hash, ["maxCredits"] = "10", ["nonce"] = "2", ["deadline"] = Deadline(),
        };

        var wrongHash = await PostAsync(http, "/api/v1/pools/demo/tasks", Signed(services, _user, "AddTask", Task("0x" + new string('0', 64)), ("input", input)));
        Assert.Equal((HttpStatusCode.BadRequest, "invalid_request"), (wrongHash.Status, wrongHash.Body.GetProperty("code").GetString()));
        var added = await PostAsync(http, "/api/v1/pools/demo/tasks", Signed(services, _user, "AddTask", Task(inputHash), ("input", input)));
        Assert.Equal((HttpStatusCode.Accepted, "10"), (added.Status, added.Body.GetProperty("creditsHeld").GetString()));
        var taskId = added.Body.GetProperty("taskId").GetString();
        JsonDocument task;
        var deadline = DateTime.UtcNow.AddSeconds(20);
        do
        {
            await System.Threading.Tasks.Task.Delay(100);
            task = JsonDocument.Parse(await http.GetStringAsync($"/api/v1/tasks/{taskId}"));
        }
        while (task.RootElement.GetProperty("status").GetString() != "Done" && DateTime.UtcNow < deadline);

        Assert.Equal("Done", task.RootElement.GetProperty("status").GetString());
        using var account = JsonDocument.Parse(await http.GetStringAsync($"/api/v1/accounts/{_user.Address}"));
        Assert.Empty(account.RootElement.GetProperty("pools").EnumerateArray()); // the 10 credits were consumed
    }
}
