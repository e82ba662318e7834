using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Anpm.Abstractions;

namespace Anpm.ReferenceHost.Tests;

/// <summary>
/// Every POST route against bad input: malformed JSON, missing fields, wrong types, huge and negative numbers, bad hex,
/// bad or foreign signatures, expired or too distant deadlines, the wrong role and oversized bodies. Each is answered with
/// its documented code, and nothing changes: the solvency report and every read are identical before and after. At the
/// end, each route's well-formed request gets its documented answer (the templates are right, so the refusals were the
/// bad input's doing).
/// </summary>
public sealed class BadInputSweepTests : IDisposable
{
    private const string Whole = "000000000000";
    private readonly TestKey _user = TestKey.New();
    private readonly TestKey _stranger = TestKey.New();
    private int _nonce = 5000;

    public void Dispose()
    {
        _user.Dispose();
        _stranger.Dispose();
    }

    /// <summary>A POST route: its type, the key of its actor, the message (for an actor address), extra body fields, and the answer to a well-formed request.</summary>
    private sealed record Route(string Path, string Type, TestKey Actor, Func<Address, JsonObject> Message, (string Name, string Value)[] Extra, bool RoleGated, HttpStatusCode[] Valid);

    private string Nonce() => (++_nonce).ToString(CultureInfo.InvariantCulture);

    [Fact]
    public async Task EveryPostRoute_BadInput_DocumentedCodeAndNothingChanged()
    {
        await using var host = TestHost.Start();
        var (admin, feeder, gateway, oracle) = (host.Role("admin"), host.Role("feeder"), host.Role("gateway"), host.Role("oracle"));
        var config = await host.GetAsync("/api/v1/config");
        var manager = config.GetProperty("managerAddress").GetString()!;
        var types = (await host.GetAsync("/api/v1/eip712")).GetProperty("types");

        // Set-up through the API: tokens, credits, a stake, a campaign pool and a pending contribution.
        Assert.Equal(HttpStatusCode.OK, (await host.Http.PostAsJsonAsync("/api/v1/dev-token/faucet", new { address = _user.Address.ToString(), quantity = "20" + Whole })).StatusCode);
        JsonObject Token(Address from, string quantity, string action, string pool) => new()
        {
            ["from"] = from.ToString(), ["to"] = manager, ["quantity"] = quantity, ["action"] = action, ["poolId"] = pool, ["reference"] = "", ["nonce"] = Nonce(), ["deadline"] = TestHost.Deadline(),
        };
        Assert.Equal(HttpStatusCode.OK, (await host.PostAsync("/api/v1/dev-token/transfers", host.Sign(_user, "TokenTransfer", Token(_user.Address, "1" + Whole, "Buy-Credits", "")))).Status);
        Assert.Equal(HttpStatusCode.OK, (await host.PostAsync("/api/v1/dev-token/transfers", host.Sign(_user, "TokenTransfer", Token(_user.Address, "2" + Whole, "Stake", "demo")))).Status);
        var campConfig = "{\"name\":\"Camp\",\"contribution\":{\"startUtc\":\"2026-01-01T00:00:00Z\",\"endUtc\":\"2099-01-01T00:00:00Z\",\"amountLimit\":\"5" + Whole
            + "\",\"destination\":\"" + _stranger.Address + "\"}}";
        JsonObject CreatePool(Address owner, string id, string text) => new()
        {
            ["owner"] = owner.ToString(), ["poolId"] = id, ["configHash"] = TestHost.Keccak(text), ["nonce"] = Nonce(), ["deadline"] = TestHost.Deadline(),
        };
        Assert.Equal(HttpStatusCode.Created, (await host.PostAsync("/api/v1/pools", host.Sign(admin, "CreatePool", CreatePool(admin.Address, "camp", campConfig), ("config", campConfig)))).Status);
        var contribution = await host.PostAsync("/api/v1/pools/camp/contributions", host.Sign(_user, "CreateContribution", new JsonObject
        {
            ["account"] = _user.Address.ToString(), ["poolId"] = "camp", ["amount"] = "1" + Whole, ["nonce"] = Nonce(), ["deadline"] = TestHost.Deadline(),
        }));
        Assert.True(contribution.Status == HttpStatusCode.Created, contribution.ToString());
        var contributionId = contribution.Text("contributionId");
        var input = "{\"inputs\":{\"pixels\":{\"type\":\"float32\",\"shape\":[1,64],\"data\":[" + string.Join(",", Enumerable.Repeat(3, 64)) + "]}}}";
        var hash32 = "0x" + new string('a', 64);

        JsonObject Fields(Address actor, string actorName, params (string Name, JsonNode? Value)[] rest)
        {
            var message = new JsonObject { [actorName] = actor.ToString() };
            foreach (var (name, value) in rest)
            {
                message[name] = value;
            }

            return message;
        }

        (string, JsonNode?) N(string name, JsonNode? value) => (name, value);
        (string, JsonNode?) Nonced() => ("nonce", Nonce());
        (string, JsonNode?) Deadline() => ("deadline", TestHost.Deadline());
        HttpStatusCode[] Answer(params int[] statuses) => [.. statuses.Select(s => (HttpStatusCode)s)];
        var routes = new Route[]
        {
            new("/api/v1/dev-token/transfers", "TokenTransfer", _user, a => Fields(a, "from", N("to", manager), N("quantity", "1" + Whole), N("action", "Buy-Credits"), N("poolId", ""), N("reference", ""), Nonced(), Deadline()), [], false, Answer(200)),
            new("/api/v1/token/notices", "CreditNotice", gateway, a => Fields(a, "gateway", N("messageId", "sweep-1"), N("sender", _user.Address.ToString()), N("quantity", "1" + Whole), N("action", "Buy-Credits"), N("poolId", ""), N("reference", "")), [], true, Answer(409)),
            new("/api/v1/pools", "CreatePool", admin, a => Fields(a, "owner", N("poolId", "swept"), N("configHash", TestHost.Keccak(campConfig)), Nonced(), Deadline()), [("config", campConfig)], true, Answer(201)),
            new("/api/v1/pools/demo/credits", "TransferCredits", _user, a => Fields(a, "account", N("poolId", "demo"), N("amount", "20"), Nonced(), Deadline()), [], false, Answer(200)),
            new("/api/v1/pools/demo/credits/withdraw", "WithdrawCredits", _user, a => Fields(a, "account", N("poolId", "demo"), N("amount", "5"), Nonced(), Deadline()), [], false, Answer(200)),
            new("/api/v1/pools/demo/tasks", "AddTask", _user, a => Fields(a, "account", N("poolId", "demo"), N("model", "digits"), N("inputHash", TestHost.Keccak(input)), N("maxCredits", "10"), Nonced(), Deadline()), [("input", input)], false, Answer(202)),
            new("/api/v1/pools/demo/stakes/unstake", "Unstake", _user, a => Fields(a, "account", N("poolId", "demo"), N("amount", "1" + Whole), Nonced(), Deadline()), [], false, Answer(200)),
            new("/api/v1/pools/demo/stakes/claim", "ClaimRewards", _user, a => Fields(a, "account", N("poolId", "demo"), Nonced(), Deadline()), [], false, Answer(422)),
            new("/api/v1/pools/camp/contributions", "CreateContribution", _user, a => Fields(a, "account", N("poolId", "camp"), N("amount", "1" + Whole), Nonced(), Deadline()), [], false, Answer(201)),
            new($"/api/v1/contributions/{contributionId}/claim", "ClaimContribution", _user, a => Fields(a, "account", N("contributionId", contributionId), Nonced(), Deadline()), [], false, Answer(409)),
            new("/api/v1/pools/demo/oracles", "SetOracle", admin, a => Fields(a, "owner", N("poolId", "demo"), N("oracle", _stranger.Address.ToString()), N("active", true), Nonced(), Deadline()), [], true, Answer(200)),
            new("/api/v1/admin/pools/camp/status", "SetPoolStatus", admin, a => Fields(a, "admin", N("poolId", "camp"), N("status", 4), N("reason", "sweep"), Nonced(), Deadline()), [], true, Answer(200)),
            new("/api/v1/admin/pools/camp/distributing", "SetAmountDistributing", admin, a => Fields(a, "admin", N("poolId", "camp"), N("amount", "1"), Nonced(), Deadline()), [], true, Answer(409)),
            new("/api/v1/admin/exchange-rate", "SetExchangeRate", feeder, a => Fields(a, "feeder", N("credits", "1500"), N("tokenUnits", "1" + Whole), N("effectiveAt", "0"), Nonced(), Deadline()), [], true, Answer(200)),
            new("/api/v1/admin/pause", "Pause", admin, a => Fields(a, "admin", N("paused", false), Nonced(), Deadline()), [], true, Answer(200)),
            new("/api/v1/oracle/pools/demo/claim", "ClaimTask", oracle, a => Fields(a, "oracle", N("poolId", "demo"), Nonced(), Deadline()), [], true, Answer(200, 204)),
            new("/api/v1/oracle/tasks/t-none/result", "TaskResult", oracle, a => Fields(a, "oracle", N("taskId", "t-none"), N("leaseId", "l-none"), N("modelHash", hash32), N("outputHash", TestHost.Keccak("{}"))), [("output", "{}")], false, Answer(404)),
            new("/api/v1/oracle/tasks/t-none/failure", "TaskFailure", oracle, a => Fields(a, "oracle", N("taskId", "t-none"), N("leaseId", "l-none"), N("reason", "sweep")), [], false, Answer(404)),
            new("/api/v1/gateway/outbox/pull", "OutboxPull", gateway, a => Fields(a, "gateway", N("limit", "10"), Nonced(), Deadline()), [], true, Answer(409)),
            new("/api/v1/gateway/outbox/none/confirm", "OutboxConfirm", gateway, a => Fields(a, "gateway", N("transferId", "none"), N("externalReference", ""), Nonced(), Deadline()), [], true, Answer(409)),
        };

        async Task<string> SnapshotAsync()
        {
            var reads = new[]
            {
                "/api/v1/audit/solvency", "/api/v1/pools", $"/api/v1/accounts/{_user.Address}", $"/api/v1/accounts/{_stranger.Address}", "/api/v1/exchange-rate",
                "/api/v1/config", $"/api/v1/pools/demo/stakes/{_user.Address}", $"/api/v1/contributions/{contributionId}", "/api/v1/pools/demo/stats",
                $"/api/v1/accounts/{_user.Address}/history?limit=100",
            };
            var texts = new List<string>();
            foreach (var read in reads)
            {
                using var response = await host.Http.GetAsync(read);
                Assert.True(response.IsSuccessStatusCode, $"GET {read}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
                texts.Add(await response.Content.ReadAsStringAsync());
            }

            return string.Join("\n", texts);
        }

        var before = await SnapshotAsync();
        var checkedCases = 0;
        async Task ExpectAsync(string what, string path, string body, HttpStatusCode status, string code)
        {
            var reply = await host.PostRawAsync(path, body);
            Assert.True(reply.Status == status && reply.Code == code, $"{what} on {path}: expected {(int)status} {code}, got {reply}");
            Assert.Equal("application/problem+json", reply.MediaType);
            var after = await SnapshotAsync();
            Assert.True(before == after, $"{what} on {path} changed the state.");
            checkedCases++;
        }

        foreach (var route in routes)
        {
            var message = route.Message(route.Actor.Address);
            var good = host.Sign(route.Actor, route.Type, message, route.Extra);
            var fields = types.GetProperty(route.Type).EnumerateArray().Select(f => (Name: f.GetProperty("name").GetString()!, Type: f.GetProperty("type").GetString()!)).ToList();

            await ExpectAsync("malformed JSON", route.Path, "{\"message\": {", HttpStatusCode.BadRequest, "invalid_request");
            await ExpectAsync("an array body", route.Path, "[]", HttpStatusCode.BadRequest, "invalid_request");
            await ExpectAsync("no message", route.Path, new JsonObject { ["signature"] = good["signature"]!.DeepClone() }.ToJsonString(), HttpStatusCode.BadRequest, "invalid_request");
            await ExpectAsync("no signature", route.Path, new JsonObject { ["message"] = message.DeepClone() }.ToJsonString(), HttpStatusCode.BadRequest, "invalid_request");
            await ExpectAsync("a numeric signature", route.Path, Replace(good, "signature", 12), HttpStatusCode.BadRequest, "invalid_request");
            foreach (var (name, type) in fields)
            {
                var missing = (JsonObject)good.DeepClone();
                ((JsonObject)missing["message"]!).Remove(name);
                await ExpectAsync($"missing {name}", route.Path, missing.ToJsonString(), HttpStatusCode.BadRequest, "invalid_request");
                var bad = type switch
                {
                    "address" => new JsonNode?[] { 42, "0x" + new string('z', 40), "0x1234", "" },
                    "uint256" => ["-1", "1" + new string('0', 80), "12abc", true, 1.5, null],
                    "uint8" => [256, -1, "x"],
                    "bool" => ["yes", 1],
                    "bytes32" => [7, "0x12", "0x" + new string('g', 64)],
                    _ => [5, true, new JsonArray(), new string('x', 5000)],
                };
                foreach (var value in bad)
                {
                    var wrong = (JsonObject)good.DeepClone();
                    wrong["message"]![name] = value?.DeepClone();
                    await ExpectAsync($"{name} = {Shorten(value?.ToJsonString() ?? "null")}", route.Path, wrong.ToJsonString(), HttpStatusCode.BadRequest, "invalid_request");
                }
            }

            foreach (var (name, _) in route.Extra)
            {
                var noExtra = (JsonObject)good.DeepClone();
                noExtra.Remove(name);
                await ExpectAsync($"no {name}", route.Path, noExtra.ToJsonString(), HttpStatusCode.BadRequest, "invalid_request");
                await ExpectAsync($"{name} altered", route.Path, Replace(good, name, good[name]!.GetValue<string>() + " "), HttpStatusCode.BadRequest, "invalid_request");
            }

            await ExpectAsync("a short signature", route.Path, Replace(good, "signature", "0x1234"), HttpStatusCode.Unauthorized, "invalid_signature");
            await ExpectAsync("a signature of no key", route.Path, Replace(good, "signature", "0x" + new string('1', 128) + "1b"), HttpStatusCode.Unauthorized, "invalid_signature");
            await ExpectAsync("a foreign signature", route.Path, host.Sign(_stranger, route.Type, message, route.Extra).ToJsonString(), HttpStatusCode.Unauthorized, "invalid_signature");
            if (fields.Any(f => f.Name == "deadline"))
            {
                var expired = (JsonObject)message.DeepClone();
                expired["deadline"] = TestHost.Deadline(-60);
                await ExpectAsync("an expired deadline", route.Path, host.Sign(route.Actor, route.Type, expired, route.Extra).ToJsonString(), HttpStatusCode.Unauthorized, "signature_expired");
                expired["deadline"] = TestHost.Deadline(48 * 3600);
                await ExpectAsync("a deadline too far ahead", route.Path, host.Sign(route.Actor, route.Type, expired, route.Extra).ToJsonString(), HttpStatusCode.Unauthorized, "signature_expired");
            }

            if (route.RoleGated)
            {
                await ExpectAsync("the wrong role", route.Path, host.Sign(_stranger, route.Type, route.Message(_stranger.Address), route.Extra).ToJsonString(), HttpStatusCode.Forbidden, "forbidden");
            }

            var huge = (JsonObject)good.DeepClone();
            huge["padding"] = new string('x', 1_100_000);
            await ExpectAsync("a body over 1 MiB", route.Path, huge.ToJsonString(), HttpStatusCode.RequestEntityTooLarge, "payload_too_large");
        }

        // A chunked body (no Content-Length) is counted as it arrives.
        using (var chunked = new StreamContent(new NoLengthStream(new string(' ', 1_100_000) + "{}")))
        {
            chunked.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
            using var response = await host.Http.PostAsync("/api/v1/pools/demo/credits", chunked);
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
            Assert.Equal(before, await SnapshotAsync());
        }

        // The unsigned faucet.
        foreach (var body in new[]
        {
            "{", "[]", "{}", "{\"address\":\"0x1234\",\"quantity\":\"1\"}", $"{{\"address\":\"{_user.Address}\",\"quantity\":\"-1\"}}",
            $"{{\"address\":\"{_user.Address}\",\"quantity\":1}}", $"{{\"address\":\"{_user.Address}\",\"quantity\":\"1{new string('0', 80)}\"}}",
            $"{{\"address\":\"{_user.Address}\",\"quantity\":\"0\"}}", $"{{\"address\":42,\"quantity\":\"1\"}}",
        })
        {
            await ExpectAsync("faucet " + body, "/api/v1/dev-token/faucet", body, HttpStatusCode.BadRequest, "invalid_request");
        }

        await ExpectAsync("faucet over the cap", "/api/v1/dev-token/faucet", $"{{\"address\":\"{_user.Address}\",\"quantity\":\"1{new string('0', 30)}\"}}", (HttpStatusCode)422, "limit_exceeded");
        Assert.True(checkedCases > 400, $"only {checkedCases} cases");

        // The well-formed requests get their documented answers.
        foreach (var route in routes)
        {
            var reply = await host.PostAsync(route.Path, host.Sign(route.Actor, route.Type, route.Message(route.Actor.Address), route.Extra));
            Assert.True(route.Valid.Contains(reply.Status), $"{route.Type} on {route.Path}: expected {string.Join(" or ", route.Valid.Select(s => (int)s))}, got {reply}");
        }
    }

    /// <summary>A readable stream that does not know its length, so that HttpClient sends it chunked.</summary>
    private sealed class NoLengthStream(string text) : MemoryStream(System.Text.Encoding.UTF8.GetBytes(text))
    {
        public override bool CanSeek => false;
    }

    private static string Shorten(string text) => text.Length > 80 ? text[..80] + "…" : text;

    private static string Replace(JsonObject body, string name, JsonNode? value)
    {
        var copy = (JsonObject)body.DeepClone();
        copy[name] = value;
        return copy.ToJsonString();
    }
}
