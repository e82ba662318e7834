using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Anpm.Abstractions;
using Anpm.Credits;
using Microsoft.Extensions.DependencyInjection;

namespace Anpm.ReferenceHost.Tests;

/// <summary>
/// Regressions of hostile input an attacker sent to a Release host: each class answers its documented code (never a
/// 500, never an unhandled exception — the host's log is checked when it is disposed), moves no money on an error path,
/// and leaves the ledger balanced.
/// </summary>
public sealed class HostileInputTests : IDisposable
{
    private readonly TestKey _user = TestKey.New();
    private int _nonce = 70_000;

    public void Dispose() => _user.Dispose();

    private string Nonce() => (++_nonce).ToString(CultureInfo.InvariantCulture);

    private static async Task<Reply> PostBytesAsync(TestHost host, string path, byte[] body)
    {
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        using var response = await host.Http.PostAsync(path, content);
        var text = await response.Content.ReadAsStringAsync();
        return new Reply(response.StatusCode, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone(), false);
    }

    private JsonObject Transfer(string amount) => new()
    {
        ["account"] = _user.Address.ToString(), ["poolId"] = "demo", ["amount"] = amount, ["nonce"] = Nonce(), ["deadline"] = TestHost.Deadline(),
    };

    [Fact]
    public async Task NegativeZero_InAnyUintField_AfterAValidSignature_400()
    {
        await using var host = TestHost.Start();
        await host.GiveCreditsAsync(_user.Address, 10);
        foreach (var zero in new JsonNode[] { "-0", "-0x0", "-0X00", JsonValue.Create(-0.0)!, JsonNode.Parse("-0")! })
        {
            var message = Transfer("0");
            var body = host.Sign(_user, "TransferCredits", message); // signed over amount 0, the value every spelling of zero means
            body["message"]!["amount"] = zero.DeepClone();
            var reply = await host.PostAsync("/api/v1/pools/demo/credits", body);
            Assert.True(reply.Status == HttpStatusCode.BadRequest && reply.Code == "invalid_request", $"{zero.ToJsonString()}: {reply}");
        }

        Assert.Equal("10", (await host.GetAsync($"/api/v1/accounts/{_user.Address}")).GetProperty("credits").GetString());
    }

    [Fact]
    public async Task BrokenText_LoneSurrogatesInvalidUtf8AndDuplicateKeys_400BeforeAnythingElse()
    {
        await using var host = TestHost.Start();
        var valid = host.Sign(_user, "TransferCredits", Transfer("1")).ToJsonString();
        var bodies = new Dictionary<string, byte[]>
        {
            ["lone surrogate in a message string"] = Encoding.UTF8.GetBytes(valid.Replace("\"poolId\":\"demo\"", "\"poolId\":\"de\\ud800mo\"", StringComparison.Ordinal)),
            ["lone surrogate in a key"] = Encoding.UTF8.GetBytes(valid.Replace("\"poolId\":", "\"\\udc00\":", StringComparison.Ordinal)),
            ["invalid UTF-8"] = [.. Encoding.UTF8.GetBytes(valid[..^2]), (byte)',', (byte)'"', (byte)'x', (byte)'"', (byte)':', (byte)'"', 0xC3, 0x28, (byte)'"', (byte)'}'],
            ["duplicate key in the message"] = Encoding.UTF8.GetBytes(valid.Replace("\"amount\":\"1\"", "\"amount\":\"1\",\"amount\":\"1000\"", StringComparison.Ordinal)),
            ["duplicate key in the envelope"] = Encoding.UTF8.GetBytes(valid[..^1] + ",\"signature\":\"0x00\"}"),
        };
        foreach (var (name, body) in bodies)
        {
            var reply = await PostBytesAsync(host, "/api/v1/pools/demo/credits", body);
            Assert.True(reply.Status == HttpStatusCode.BadRequest && reply.Code == "invalid_request", $"{name}: {reply}");
        }

        // A pool config with a duplicate key is refused too.
        var admin = host.Role("admin");
        const string Config = "{\"name\":\"Dup\",\"name\":\"Other\",\"staking\":{\"capacity\":\"1\",\"dailyReward\":\"1\",\"minStakeAgeSeconds\":0}}";
        var pool = await host.PostAsync("/api/v1/pools", host.Sign(admin, "CreatePool", new JsonObject
        {
            ["owner"] = admin.Address.ToString(), ["poolId"] = "dup", ["configHash"] = TestHost.Keccak(Config), ["nonce"] = Nonce(), ["deadline"] = TestHost.Deadline(),
        }, ("config", Config)));
        Assert.True(pool.Status == HttpStatusCode.BadRequest && pool.Text("detail").Contains("name", StringComparison.Ordinal), pool.ToString());
    }

    [Fact]
    public async Task ListRoutes_BadLimitAndCursorValues_400InDevelopmentToo()
    {
        await using var host = TestHost.Start();
        var routes = new[] { "/api/v1/pools", "/api/v1/pools/demo/tasks", $"/api/v1/accounts/{_user.Address}/history" };
        foreach (var route in routes)
        {
            foreach (var query in new[] { "limit=abc", "limit=1&limit=2", "limit=-1", "limit=99999999999999999999", "limit=1.5", "limit=", "cursor=abc&cursor=def" })
            {
                using var response = await host.Http.GetAsync($"{route}?{query}");
                var text = await response.Content.ReadAsStringAsync();
                Assert.True(response.StatusCode == HttpStatusCode.BadRequest && text.Contains("\"code\":\"invalid_request\"", StringComparison.Ordinal), $"{route}?{query}: {(int)response.StatusCode} {text}");
            }
        }

        Assert.Equal(HttpStatusCode.BadRequest, (await host.Http.GetAsync("/api/v1/pools/demo/tasks?cursor=123456789012345678901234567890")).StatusCode);
    }

    [Fact]
    public async Task ExchangeRateBeyondYear9999_AndNoticeIdsThatAreNotIds_400()
    {
        await using var host = TestHost.Start();
        var feeder = host.Role("feeder");
        var rate = await host.PostAsync("/api/v1/admin/exchange-rate", host.Sign(feeder, "SetExchangeRate", new JsonObject
        {
            ["feeder"] = feeder.Address.ToString(), ["credits"] = "1", ["tokenUnits"] = "1", ["effectiveAt"] = "253402300800", ["nonce"] = Nonce(), ["deadline"] = TestHost.Deadline(),
        }));
        Assert.True(rate.Status == HttpStatusCode.BadRequest && rate.Text("detail").Contains("effectiveAt", StringComparison.Ordinal), rate.ToString());

        var gateway = host.Role("gateway");
        foreach (var id in new[] { "", "tx\u0001", "line\nbreak" })
        {
            var notice = await host.PostAsync("/api/v1/token/notices", host.Sign(gateway, "CreditNotice", new JsonObject
            {
                ["gateway"] = gateway.Address.ToString(), ["messageId"] = id, ["sender"] = _user.Address.ToString(), ["quantity"] = "1", ["action"] = "Buy-Credits",
                ["poolId"] = "", ["reference"] = "",
            }));
            Assert.True(notice.Status is HttpStatusCode.BadRequest or HttpStatusCode.Conflict && notice.Code is "invalid_request" or "invalid_state", $"'{id}': {notice}");
        }
    }

    [Fact]
    public async Task BuyCredits_WhoseCreditsOverflow_RefundedNotStranded()
    {
        await using var host = TestHost.Start();
        var feeder = host.Role("feeder");
        Assert.Equal(HttpStatusCode.OK, (await host.PostAsync("/api/v1/admin/exchange-rate", host.Sign(feeder, "SetExchangeRate", new JsonObject
        {
            ["feeder"] = feeder.Address.ToString(), ["credits"] = UInt128.MaxValue.ToString(CultureInfo.InvariantCulture), ["tokenUnits"] = "1", ["effectiveAt"] = "0",
            ["nonce"] = Nonce(), ["deadline"] = TestHost.Deadline(),
        }))).Status);
        Assert.Equal(HttpStatusCode.OK, (await host.Http.PostAsJsonAsync("/api/v1/dev-token/faucet", new { address = _user.Address.ToString(), quantity = "5000" })).StatusCode);
        var manager = (await host.GetAsync("/api/v1/config")).GetProperty("managerAddress").GetString()!;
        var bought = await host.PostAsync("/api/v1/dev-token/transfers", host.Sign(_user, "TokenTransfer", new JsonObject
        {
            ["from"] = _user.Address.ToString(), ["to"] = manager, ["quantity"] = "3000", ["action"] = "Buy-Credits", ["poolId"] = "", ["reference"] = "",
            ["nonce"] = Nonce(), ["deadline"] = TestHost.Deadline(),
        }));
        Assert.True(bought.Status == HttpStatusCode.OK && bought.Text("notice").StartsWith("refunded:", StringComparison.Ordinal), bought.ToString());

        // The refund goes back through the outbox; the development token settles it: the user holds what they had.
        var account = await TestHost.EventuallyAsync(() => host.GetAsync($"/api/v1/accounts/{_user.Address}"), a => a.GetProperty("token").GetString() == "5000");
        Assert.Equal(("0", "5000"), (account.GetProperty("credits").GetString(), account.GetProperty("token").GetString()));
        await Anpm.Testing.LedgerAssert.InvariantHoldsAsync(host.Services.GetRequiredService<Ledger>());
    }

    [Fact]
    public async Task OneSignedClaimTask_SentTenTimesAtOnce_LeasesOneTask()
    {
        await using var host = TestHost.Start(null, ("Anpm:Oracle:InProcess", "false"));
        using var oracle = TestKey.New();
        await host.ListOracleAsync(oracle.Address);
        for (var i = 0; i < 3; i++)
        {
            await host.AddDigitsTaskAsync(_user, i);
        }

        var body = host.Sign(oracle, "ClaimTask", new JsonObject
        {
            ["oracle"] = oracle.Address.ToString(), ["poolId"] = "demo", ["nonce"] = Nonce(), ["deadline"] = TestHost.Deadline(),
        });
        var replies = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => host.PostAsync("/api/v1/oracle/pools/demo/claim", body)));
        Assert.All(replies, r => Assert.Equal(HttpStatusCode.OK, r.Status));
        Assert.Single(replies.Select(r => r.Text("leaseId")).Distinct());
        Assert.Equal(9, replies.Count(r => r.Replayed));
        var stats = await host.GetAsync("/api/v1/pools/demo/stats");
        Assert.Equal(1, stats.GetProperty("oracles").EnumerateArray().Single().GetProperty("leases").GetInt32());
    }

    [Fact]
    public async Task Gateway_InDevTokenMode_NoticesAndConfirmsRefused_ElsewhereOnlyHandedOutTransfersConfirm()
    {
        await using (var dev = TestHost.Start())
        {
            var gateway = dev.Role("gateway");
            var notice = await dev.PostAsync("/api/v1/token/notices", dev.Sign(gateway, "CreditNotice", new JsonObject
            {
                ["gateway"] = gateway.Address.ToString(), ["messageId"] = "unbacked-1", ["sender"] = _user.Address.ToString(), ["quantity"] = "1000000000000",
                ["action"] = "Buy-Credits", ["poolId"] = "", ["reference"] = "",
            }));
            Assert.Equal((HttpStatusCode.Conflict, "invalid_state"), (notice.Status, notice.Code));
            var confirm = await dev.PostAsync("/api/v1/gateway/outbox/anything/confirm", dev.Sign(gateway, "OutboxConfirm", new JsonObject
            {
                ["gateway"] = gateway.Address.ToString(), ["transferId"] = "anything", ["externalReference"] = "0x1", ["nonce"] = Nonce(), ["deadline"] = TestHost.Deadline(),
            }));
            Assert.Equal((HttpStatusCode.Conflict, "invalid_state"), (confirm.Status, confirm.Code));
            Assert.Equal("0", (await dev.GetAsync($"/api/v1/accounts/{_user.Address}")).GetProperty("credits").GetString());
        }

        // Pull mode: an outgoing transfer waiting in the outbox (never pulled) cannot be confirmed.
        await using var host = TestHost.Start(null, ("Anpm:DevToken:Enabled", "false"));
        var gw = host.Role("gateway");
        var outbox = host.Services.GetRequiredService<Outbox>();
        var ledger = host.Services.GetRequiredService<Ledger>();
        var store = host.Services.GetRequiredService<IAnpmStore>();
        var from = AccountId.Parse("test:source");
        await ledger.CreateAccountsAsync([.. SystemAccounts.For(WellKnownAssets.Apus), new NewAccount(from, WellKnownAssets.Apus, AccountFlags.None)]);
        await store.RunAsync(0, async (u, _, ct) => await outbox.EnqueueAsync(u, TransferId.Parse("out-1"), from, _user.Address, WellKnownAssets.Apus, new TokenAmount(5), TransferKind.Parse("payout"), "test", ct));
        var early = await host.PostAsync("/api/v1/gateway/outbox/out-1/confirm", host.Sign(gw, "OutboxConfirm", new JsonObject
        {
            ["gateway"] = gw.Address.ToString(), ["transferId"] = "out-1", ["externalReference"] = "0x1", ["nonce"] = Nonce(), ["deadline"] = TestHost.Deadline(),
        }));
        Assert.Equal((HttpStatusCode.Conflict, "invalid_state"), (early.Status, early.Code));
        var pulled = await host.PostAsync("/api/v1/gateway/outbox/pull", host.Sign(gw, "OutboxPull", new JsonObject
        {
            ["gateway"] = gw.Address.ToString(), ["limit"] = "10", ["nonce"] = Nonce(), ["deadline"] = TestHost.Deadline(),
        }));
        Assert.Contains("out-1", pulled.Body.GetProperty("transfers").EnumerateArray().Select(t => t.GetProperty("transferId").GetString()));
        var confirmed = await host.PostAsync("/api/v1/gateway/outbox/out-1/confirm", host.Sign(gw, "OutboxConfirm", new JsonObject
        {
            ["gateway"] = gw.Address.ToString(), ["transferId"] = "out-1", ["externalReference"] = "0x1", ["nonce"] = Nonce(), ["deadline"] = TestHost.Deadline(),
        }));
        Assert.Equal((HttpStatusCode.OK, "Confirmed"), (confirmed.Status, confirmed.Text("result")));
        await Anpm.Testing.LedgerAssert.InvariantHoldsAsync(ledger);
    }

    [Fact]
    public async Task AmountsThatOverflowALedgerAccount_422AmountTooLarge_NothingMoved()
    {
        await using var host = TestHost.Start();
        var feeder = host.Role("feeder");
        var manager = (await host.GetAsync("/api/v1/config")).GetProperty("managerAddress").GetString()!;
        const string Half = "170141183460469231731687303715884105728"; // 2^127: two of them overflow any account's totals
        Assert.Equal(HttpStatusCode.OK, (await host.PostAsync("/api/v1/admin/exchange-rate", host.Sign(feeder, "SetExchangeRate", new JsonObject
        {
            ["feeder"] = feeder.Address.ToString(), ["credits"] = Half, ["tokenUnits"] = "1", ["effectiveAt"] = "0", ["nonce"] = Nonce(), ["deadline"] = TestHost.Deadline(),
        }))).Status);
        Assert.Equal(HttpStatusCode.OK, (await host.Http.PostAsJsonAsync("/api/v1/dev-token/faucet", new { address = _user.Address.ToString(), quantity = "10" })).StatusCode);
        JsonObject Buy() => new()
        {
            ["from"] = _user.Address.ToString(), ["to"] = manager, ["quantity"] = "1", ["action"] = "Buy-Credits", ["poolId"] = "", ["reference"] = "", ["nonce"] = Nonce(), ["deadline"] = TestHost.Deadline(),
        };
        var bought = await host.PostAsync("/api/v1/dev-token/transfers", host.Sign(_user, "TokenTransfer", Buy()));
        Assert.Equal((HttpStatusCode.OK, "credits-bought:" + Half), (bought.Status, bought.Text("notice")));

        // In and out of the pool once: the account's credit total would reach 2^128 on the way back.
        Assert.Equal(HttpStatusCode.OK, (await host.PostAsync("/api/v1/pools/demo/credits", host.Sign(_user, "TransferCredits", Transfer(Half)))).Status);
        var snapshot = await host.SolvencyAsync();
        var withdraw = new JsonObject { ["account"] = _user.Address.ToString(), ["poolId"] = "demo", ["amount"] = Half, ["nonce"] = Nonce(), ["deadline"] = TestHost.Deadline() };
        var back = await host.PostAsync("/api/v1/pools/demo/credits/withdraw", host.Sign(_user, "WithdrawCredits", withdraw));
        Assert.Equal(((HttpStatusCode)422, "amount_too_large"), (back.Status, back.Code));
        Assert.Equal(snapshot, await host.SolvencyAsync());

        // A second purchase would push the credits' issuance past 2^128: the dev-token transfer and its notice are one unit
        // of work, so the tokens stay with the user.
        var again = await host.PostAsync("/api/v1/dev-token/transfers", host.Sign(_user, "TokenTransfer", Buy()));
        Assert.Equal(((HttpStatusCode)422, "amount_too_large"), (again.Status, again.Code));
        var account = await host.GetAsync($"/api/v1/accounts/{_user.Address}");
        Assert.Equal(("0", "9"), (account.GetProperty("credits").GetString(), account.GetProperty("token").GetString()));
        Assert.Equal(snapshot, await host.SolvencyAsync());
        await Anpm.Testing.LedgerAssert.InvariantHoldsAsync(host.Services.GetRequiredService<Ledger>());
    }

    [Fact]
    public async Task GatewayNotice_WhoseCreditsOverflowTheLedger_IsRefundedNotHalfApplied()
    {
        await using var host = TestHost.Start(null, ("Anpm:DevToken:Enabled", "false"));
        var (feeder, gateway) = (host.Role("feeder"), host.Role("gateway"));
        const string Half = "170141183460469231731687303715884105728";
        Assert.Equal(HttpStatusCode.OK, (await host.PostAsync("/api/v1/admin/exchange-rate", host.Sign(feeder, "SetExchangeRate", new JsonObject
        {
            ["feeder"] = feeder.Address.ToString(), ["credits"] = Half, ["tokenUnits"] = "1", ["effectiveAt"] = "0", ["nonce"] = Nonce(), ["deadline"] = TestHost.Deadline(),
        }))).Status);
        JsonObject Notice(string id) => new()
        {
            ["gateway"] = gateway.Address.ToString(), ["messageId"] = id, ["sender"] = _user.Address.ToString(), ["quantity"] = "1", ["action"] = "Buy-Credits", ["poolId"] = "", ["reference"] = "",
        };
        Assert.Equal("credits-bought:" + Half, (await host.PostAsync("/api/v1/token/notices", host.Sign(gateway, "CreditNotice", Notice("tx-1")))).Text("outcome"));
        var second = await host.PostAsync("/api/v1/token/notices", host.Sign(gateway, "CreditNotice", Notice("tx-2"))); // 2^128 credits: one too many
        Assert.Equal((HttpStatusCode.OK, "refunded:ledger-overflow"), (second.Status, second.Text("outcome")));
        Assert.Equal(Half, (await host.GetAsync($"/api/v1/accounts/{_user.Address}")).GetProperty("credits").GetString());
        var pulled = await host.PostAsync("/api/v1/gateway/outbox/pull", host.Sign(gateway, "OutboxPull", new JsonObject
        {
            ["gateway"] = gateway.Address.ToString(), ["limit"] = "10", ["nonce"] = Nonce(), ["deadline"] = TestHost.Deadline(),
        }));
        var refund = Assert.Single(pulled.Body.GetProperty("transfers").EnumerateArray());
        Assert.Equal((_user.Address.ToString(), "1"), (refund.GetProperty("to").GetString(), refund.GetProperty("amount").GetString()));
        await Anpm.Testing.LedgerAssert.InvariantHoldsAsync(host.Services.GetRequiredService<Ledger>());
    }

    [Fact]
    public async Task AccountView_WithCreditsInMoreThanAPageOfPools_ShowsThemAll()
    {
        await using var host = TestHost.Start();
        var registry = host.Services.GetRequiredService<Anpm.Pools.PoolRegistry>();
        const string Config = "{\"name\":\"P\",\"staking\":{\"capacity\":\"1\",\"dailyReward\":\"1\",\"minStakeAgeSeconds\":0}}";
        for (var i = 0; i < 520; i++)
        {
            var id = PoolId.Parse("p" + i.ToString("D4", CultureInfo.InvariantCulture));
            Assert.Equal(Anpm.Pools.CreatePoolResult.Created, (await registry.CreateAsync(id, _user.Address, Config)).Result);
        }

        await host.GiveCreditsAsync(_user.Address, 3, PoolId.Parse("p0002"));
        await host.GiveCreditsAsync(_user.Address, 7, PoolId.Parse("p0519"));
        var pools = (await host.GetAsync($"/api/v1/accounts/{_user.Address}")).GetProperty("pools").EnumerateArray()
            .Select(p => (p.GetProperty("poolId").GetString(), p.GetProperty("credits").GetString())).ToList();
        Assert.Equal([("p0002", "3"), ("p0519", "7")], pools);
    }

    [Fact]
    public async Task DemoPool_InputsTheModelCannotTake_400_AndAGarbageOutput_IsNeverCharged()
    {
        await using var host = TestHost.Start(null, ("Anpm:Oracle:InProcess", "false"));
        using var oracle = TestKey.New();
        await host.ListOracleAsync(oracle.Address);
        await host.GiveCreditsAsync(_user.Address, 10, PoolId.Parse("demo"));
        var pixels = string.Join(",", Enumerable.Repeat(1, 64));
        foreach (var (input, field) in new[]
        {
            ("{\"inputs\":{\"pixels\":{\"type\":\"float32\",\"shape\":[1,63],\"data\":[" + string.Join(",", Enumerable.Repeat(1, 63)) + "]}}}", "inputs.pixels.shape"),
            ("{\"inputs\":{\"pixels\":{\"type\":\"int32\",\"shape\":[1,64],\"data\":[" + pixels + "]}}}", "inputs.pixels.type"),
            ("{\"inputs\":{\"pixels\":{\"type\":\"float32\",\"shape\":[1,64],\"data\":\"%%%\"}}}", "inputs.pixels.data"),
            ("{\"inputs\":{\"image\":{\"type\":\"float32\",\"shape\":[1,64],\"data\":[" + pixels + "]}}}", "inputs.pixels"),
        })
        {
            var added = await host.PostAsync("/api/v1/pools/demo/tasks", host.Sign(_user, "AddTask", new JsonObject
            {
                ["account"] = _user.Address.ToString(), ["poolId"] = "demo", ["model"] = "digits", ["inputHash"] = TestHost.Keccak(input), ["maxCredits"] = "10",
                ["nonce"] = Nonce(), ["deadline"] = TestHost.Deadline(),
            }, ("input", input)));
            Assert.True(added.Status == HttpStatusCode.BadRequest && added.Text("detail").Contains(field, StringComparison.Ordinal), $"{field}: {added}");
        }

        Assert.Equal("10", (await host.GetAsync($"/api/v1/accounts/{_user.Address}")).GetProperty("pools")[0].GetProperty("credits").GetString());

        // A valid task; the oracle attests an output that is not the model's: refused, requeued, nobody charged.
        var taskId = await host.AddDigitsTaskAsync(_user, 3);
        var claim = await host.PostAsync("/api/v1/oracle/pools/demo/claim", host.Sign(oracle, "ClaimTask", new JsonObject
        {
            ["oracle"] = oracle.Address.ToString(), ["poolId"] = "demo", ["nonce"] = Nonce(), ["deadline"] = TestHost.Deadline(),
        }));
        const string Garbage = "{\"outputs\":{\"label\":{\"type\":\"int64\",\"shape\":[1],\"data\":\"BwAAAAAAAAA=\"}}}";
        var result = await host.PostAsync($"/api/v1/oracle/tasks/{taskId}/result", host.Sign(oracle, "TaskResult", new JsonObject
        {
            ["oracle"] = oracle.Address.ToString(), ["taskId"] = taskId, ["leaseId"] = claim.Text("leaseId"), ["modelHash"] = claim.Text("modelHash"),
            ["outputHash"] = TestHost.Keccak(Garbage),
        }, ("output", Garbage)));
        Assert.Equal((HttpStatusCode.OK, "OutputRefused", "Pending"), (result.Status, result.Text("outcome"), result.Text("status")));
        Assert.Contains("outputs.probabilities", result.Text("detail"), StringComparison.Ordinal);
        var task = await host.GetAsync($"/api/v1/tasks/{taskId}");
        Assert.Equal("Pending", task.GetProperty("status").GetString());
        Assert.Equal("0", (await host.GetAsync("/api/v1/pools/demo/stats")).GetProperty("creditsConsumed").GetString());
        await Anpm.Testing.LedgerAssert.InvariantHoldsAsync(host.Services.GetRequiredService<Ledger>());
    }
}
