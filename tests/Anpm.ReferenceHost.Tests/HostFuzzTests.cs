using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Anpm.Abstractions;
using Anpm.AspNetCore;
using Anpm.Credits;
using Anpm.Signing;
using CsCheck;
using Microsoft.Extensions.DependencyInjection;

namespace Anpm.ReferenceHost.Tests;

/// <summary>
/// The fuzz harness: property-based generation (CsCheck) of validly signed hostile messages for every signed route and
/// hostile path and query values for every read, driven against the host in process. After each case: no 5xx, no
/// exception logged as unhandled, the ledger's totals unchanged when the answer is an error (no money moved on an error
/// path, for any actor), and the ledger's invariant.
/// </summary>
/// <remarks>
/// <c>ANPM_FUZZ_CASES</c> sets the budget (default 10,000: about 8 s on a 2-core machine); each run draws a fresh seed, and
/// <c>ANPM_FUZZ_SEED</c> replays a failure with the seed its message gives (CsCheck's seed string). A longer local run:
/// <c>ANPM_FUZZ_CASES=1000000</c> (about 12 minutes).
/// </remarks>
public sealed class HostFuzzTests(Xunit.Abstractions.ITestOutputHelper output)
{
    /// <summary>The number of cases; CI runs the default.</summary>
    public const string CasesVariable = "ANPM_FUZZ_CASES";

    /// <summary>The CsCheck seed to replay, as a failure prints it.</summary>
    public const string SeedVariable = "ANPM_FUZZ_SEED";

    [Fact]
    public async Task SignedRoutesAndReads_HostileInput_NoServerError_NoUnhandledException_NoMoneyMovedOnError()
    {
        var cases = Environment.GetEnvironmentVariable(CasesVariable) is { Length: > 0 } configured ? long.Parse(configured, CultureInfo.InvariantCulture) : 10_000;
        var seed = Environment.GetEnvironmentVariable(SeedVariable) is { Length: > 0 } pinned ? pinned : null;

        // Background jobs off: between a request and the checks after it, nothing else moves money.
        var host = TestHost.Start(null, services => services.AddAnpmJobs(o => o.Enabled = false), ("Anpm:Oracle:InProcess", "false"));
        FuzzWorld world;
        try
        {
            world = await FuzzWorld.SetUpAsync(host);
            await FuzzCase.Generator(world.Routes.Count, FuzzWorld.Reads.Length).SampleAsync(
                world.RunAsync, seed: seed, iter: cases, threads: 1, print: world.Describe);
        }
        catch (Exception exception)
        {
            // The failing case and its seed come first; the host's own report of the same unhandled exceptions is not needed.
            var failure = new InvalidOperationException(
                $"The fuzz harness failed; replay with {SeedVariable} set to the seed below (CsCheck's 'Set seed').\n{exception.Message}", exception);
            try
            {
                await host.DisposeAsync();
            }
            catch (InvalidOperationException)
            {
            }

            throw failure;
        }

        await host.DisposeAsync();
        output.WriteLine($"{world.Ran} cases, {world.Successes} answered 2xx.");
        foreach (var (type, statuses) in world.Answered)
        {
            output.WriteLine($"{type}: " + string.Join(", ", statuses.GroupBy(s => s).OrderBy(g => g.Key).Select(g => $"{g.Key}×{g.Count()}")));
        }

        // The harness reached the commands, not only the parsers: every signed route passed verification in some cases.
        Assert.All(world.Routes, route => Assert.True(world.Answered[route.Type].Any(s => s is not (400 or 401 or 413)), $"{route.Type}: {string.Join(",", world.Answered[route.Type].Distinct())}"));
        Assert.True(world.Successes > 20, $"Only {world.Successes} of {world.Ran} cases succeeded; the generators rarely reach the commands.");
    }
}

/// <summary>One generated case: a signed route with mutations, or a read with a hostile value.</summary>
/// <param name="IsRead">A read (GET) rather than a signed command.</param>
/// <param name="Route">The route's index (signed routes or reads).</param>
/// <param name="Signer">0: the route's actor; otherwise another actor signs.</param>
/// <param name="Mutations">What is changed in the message before it is signed.</param>
/// <param name="Extra">The body's text field (input, config, output): null for a valid one, else raw hostile text.</param>
/// <param name="Envelope">0: none; otherwise an attack on the signed body's bytes.</param>
/// <param name="PathValue">Null: the route's own path value; else a hostile one.</param>
public sealed record FuzzCase(bool IsRead, int Route, int Signer, FuzzMutation[] Mutations, string? Extra, int Envelope, string? PathValue)
{
    public const int EnvelopeAttacks = 9;

    public static Gen<FuzzCase> Generator(int routes, int reads)
    {
        var mutation = Gen.Select(Gen.Int[0, 9], Gen.Int[0, 2], HostileJson.Any, (field, kind, value) => new FuzzMutation(field, (FuzzMutationKind)kind, value));
        var mutations = Gen.Frequency((2, Gen.Const(Array.Empty<FuzzMutation>())), (6, mutation.Array[1, 1]), (2, mutation.Array[2, 4]));
        var extra = Gen.Frequency((6, Gen.Const((string?)null)), (4, HostileJson.Text.Select(t => (string?)t)));
        var pathValue = Gen.Frequency((8, Gen.Const((string?)null)), (2, HostileJson.PathSegment.Select(t => (string?)t)));
        var envelope = Gen.Frequency((8, Gen.Const(0)), (2, Gen.Int[1, EnvelopeAttacks]));
        var signer = Gen.Frequency((8, Gen.Const(0)), (2, Gen.Int[1, 5]));
        var command = Gen.Select(Gen.Int[0, routes - 1], signer, mutations, extra, envelope, pathValue,
            (route, who, changes, text, attack, path) => new FuzzCase(false, route, who, changes, text, attack, path));
        var read = Gen.Select(Gen.Int[0, reads - 1], HostileJson.PathSegment, HostileJson.QueryValue,
            (route, path, query) => new FuzzCase(true, route, 0, [], query, 0, path));
        return Gen.Frequency((4, command), (1, read));
    }
}

/// <summary>How a message field is changed.</summary>
public enum FuzzMutationKind
{
    /// <summary>The value is replaced by hostile JSON.</summary>
    Replace = 0,

    /// <summary>The field is removed.</summary>
    Remove = 1,

    /// <summary>An unknown field holding the hostile JSON is added.</summary>
    AddUnknown = 2,
}

/// <summary>A change to a message field (the field index wraps around the message's fields).</summary>
public sealed record FuzzMutation(int Field, FuzzMutationKind Kind, string RawJson);

/// <summary>Hostile JSON values, as raw text so a case prints and replays exactly.</summary>
internal static class HostileJson
{
    private static readonly string[] Integers =
    [
        "\"-0\"", "\"-0x0\"", "\"-0X00\"", "-0", "-0.0", "\"0x\"", "\"0X0\"", "\"00\"", "\"01\"", "\"+1\"", "\"1e3\"", "\"1.0\"", "\" 1\"", "\"1 \"", "\"0x-1\"",
        "\"-1\"", "-1", "1.5", "1e400", "1e3", "\"NaN\"", "\"Infinity\"", "\"\"", "\"٣\"", "\"１\"",
        "\"340282366920938463463374607431768211455\"", "\"340282366920938463463374607431768211456\"", "\"170141183460469231731687303715884105728\"",
        "\"115792089237316195423570985008687907853269984665640564039457584007913129639935\"",
        "\"115792089237316195423570985008687907853269984665640564039457584007913129639936\"",
        "\"18446744073709551616\"", "\"253402300800\"", "\"253402300799\"", "\"9223372036854775808\"", "9223372036854775808", "\"4294967296\"",
        "\"0xffffffffffffffffffffffffffffffff\"", "\"0x" + new string('f', 64) + "\"", "\"0x" + new string('f', 65) + "\"", "340282366920938463463374607431768211456",
        "0", "1", "\"0\"", "\"1\"", "\"1000000000000\"", "\"" + new string('9', 200) + "\"",
    ];

    private static readonly string[] Texts =
    [
        "\"\"", "\" \"", "\"\\u0000\"", "\"a\\nb\"", "\"\\u202e\"", "\"'; DROP TABLE pools; --\"", "\"../../etc/passwd\"", "\"%00\"", "\"demo\"", "\"DEMO\"",
        "\"demo \"", "\"é\"", "\"😀\"", "\"\\uffff\"", "\"\\ufeff\"", "\"\\ud800\"", "\"\\udc00x\"", "\"\\ud83d\"", "\"" + new string('a', 300) + "\"",
        "\"" + new string('a', 5000) + "\"", "\"Buy-Credits\"", "\"Stake\"", "\"Contribute\"", "\"camp\"", "\"t-none\"",
    ];

    private static readonly string[] Addresses =
    [
        "\"0x0000000000000000000000000000000000000000\"", "\"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD\"", "\"0x5aaeb6053f3e94c9b9a09f33669435e7ef1beae\"",
        "\"0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed00\"", "\"5aaeb6053f3e94c9b9a09f33669435e7ef1beaed\"", "\"0X5AAEB6053F3E94C9B9A09F33669435E7EF1BEAED\"",
        "\"0xzzeb6053f3e94c9b9a09f33669435e7ef1beaed\"", "\"0x" + new string('f', 40) + "\"",
    ];

    private static readonly string[] Structures =
    [
        "null", "true", "false", "[]", "{}", "[1]", "{\"a\":1}", "[\"1\"]", "{\"$ref\":\"#\"}", new string('[', 100) + new string(']', 100),
        "\"0x" + new string('a', 64) + "\"", "\"0x00\"", "\"0x" + new string('A', 64) + "\"", "\"0x" + new string('a', 63) + "\"",
    ];

    /// <summary>Any hostile value: integers, text, addresses, structures, or random text.</summary>
    public static readonly Gen<string> Any = Gen.Frequency(
        (4, Gen.OneOf(Integers)),
        (3, Gen.OneOf(Texts)),
        (2, Gen.OneOf(Addresses)),
        (2, Gen.OneOf(Structures)),
        (1, Gen.String[0, 40].Select(s => JsonSerializer.Serialize(s))),
        (1, Gen.Long.Select(l => l.ToString(CultureInfo.InvariantCulture))),
        (1, Gen.Double.Select(d => double.IsFinite(d) ? d.ToString("R", CultureInfo.InvariantCulture) : "1e999")));

    /// <summary>Hostile text for an input, a config or an output field.</summary>
    public static readonly Gen<string> Text = Gen.Frequency(
        (2, Gen.OneOf(
            "", "{}", "[]", "null", "{\"inputs\":{}}", "{\"outputs\":{}}", "{\"inputs\":", "not json",
            "{\"inputs\":{\"pixels\":{\"type\":\"float32\",\"shape\":[1,64],\"data\":\"" + Convert.ToBase64String(new byte[256]) + "\"},\"pixels\":{\"type\":\"float32\",\"shape\":[1,64],\"data\":[]}}}",
            "{\"inputs\":{\"pixels\":{\"type\":\"float32\",\"shape\":[1,64],\"data\":\"" + Convert.ToBase64String([.. Enumerable.Repeat(new byte[] { 0, 0, 0xC0, 0x7F }, 64).SelectMany(b => b)]) + "\"}}}",
            "{\"inputs\":{\"pixels\":{\"type\":\"float32\",\"shape\":[1,64],\"data\":\"%%%\"}}}",
            "{\"inputs\":{\"pixels\":{\"type\":\"float32\",\"shape\":[4294967296,4294967296],\"data\":[]}}}",
            "{\"inputs\":{\"pixels\":{\"type\":\"float16\",\"shape\":[1,64],\"data\":[" + string.Join(",", Enumerable.Repeat("1e9", 64)) + "]}}}",
            "{\"outputs\":{\"label\":{\"type\":\"int64\",\"shape\":[1],\"data\":\"BwAAAAAAAAA=\"}}}",
            "{\"name\":\"x\",\"name\":\"y\",\"staking\":{\"capacity\":\"1\",\"dailyReward\":\"1\",\"minStakeAgeSeconds\":0}}",
            "{\"name\":\"x\",\"staking\":{\"capacity\":\"340282366920938463463374607431768211455\",\"dailyReward\":\"340282366920938463463374607431768211455\",\"minStakeAgeSeconds\":0}}",
            "{\"name\":\"x\",\"inference\":{\"models\":[{\"id\":\"m\",\"sha256\":\"0x" + new string('0', 64) + "\",\"price\":\"340282366920938463463374607431768211455\",\"inputs\":{\"x\":{\"type\":\"float32\",\"shape\":[-1]}}}]}}",
            "{\"name\":\"\\ud800\",\"staking\":{\"capacity\":\"1\",\"dailyReward\":\"1\",\"minStakeAgeSeconds\":0}}",
            new string('[', 2000) + new string(']', 2000),
            new string('a', 70_000))),
        (1, Any));

    /// <summary>
    /// Hostile path segments (escaped when the path is built). No NUL: ASP.NET Core's in-process test client refuses a
    /// path holding one before any request is made (Kestrel answers such a request 400 itself).
    /// </summary>
    public static readonly Gen<string> PathSegment = Gen.Frequency(
        (3, Gen.OneOf("", " ", "demo", "DEMO", "camp", "..", "%2e%2e", "a/b", "-1", "0", "null", "\ud800", "😀", new string('a', 300), new string('a', 5000),
            "0x0000000000000000000000000000000000000000", "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD", "t-" + new string('f', 40), "c-1", "ctr-0")),
        (1, Gen.String[0, 30].Where(s => !s.Contains('\0', StringComparison.Ordinal))));

    /// <summary>Hostile query strings (raw: repeated keys, bad numbers, encodings).</summary>
    public static readonly Gen<string> QueryValue = Gen.Frequency(
        (3, Gen.OneOf(
            "", "limit=abc", "limit=-1", "limit=0", "limit=501", "limit=1.5", "limit=", "limit=1&limit=2", "limit=99999999999999999999", "limit=%00",
            "cursor=abc", "cursor=", "cursor=123456789012345678901234567890", "cursor=-1", "cursor=0", "cursor=1&cursor=2", "cursor=%FF%FE",
            "after=", "after=demo", "after=%00", "after=\u00e9", "account=0x0", "account=not-an-address", "poolId=", "poolId=..%2f", "poolId=demo&poolId=camp",
            "limit=1&cursor=9223372036854775807", "cursor=18446744073709551616", "x=1", "limit=%2B1", "limit=1e2", "limit= 1")),
        (1, Gen.String[0, 20].Select(s => "limit=" + Uri.EscapeDataString(s))),
        (1, Gen.String[0, 20].Select(s => "cursor=" + Uri.EscapeDataString(s))));
}

/// <summary>The host under fuzz: actors with money in every place a command can reach, the signed routes and the reads.</summary>
internal sealed class FuzzWorld
{
    private const string Whole = "000000000000";

    public static readonly string[] Reads =
    [
        "/api/v1/config", "/api/v1/eip712", "/api/v1/exchange-rate", "/api/v1/pools", "/api/v1/pools/{p}", "/api/v1/pools/{p}/stats", "/api/v1/pools/{p}/tasks",
        "/api/v1/pools/demo/stakes/{p}", "/api/v1/contributions/{p}", "/api/v1/tasks/{p}", "/api/v1/accounts/{p}", "/api/v1/accounts/{p}/history",
        "/api/v1/audit/solvency", "/api/v1/pools/{p}/stakes/{user}", "/api/v1/accounts/{user}/history",
    ];

    private readonly TestHost _host;
    private readonly IAnpmStore _store;
    private readonly Ledger _ledger;
    private readonly SignedRequestVerifier _verifier;
    private readonly TestKey[] _actors;
    private long _nonce = 1_000_000;

    private FuzzWorld(TestHost host, TestKey[] actors, IReadOnlyList<FuzzRoute> routes)
    {
        _host = host;
        _actors = actors;
        Routes = routes;
        _store = host.Services.GetRequiredService<IAnpmStore>();
        _ledger = host.Services.GetRequiredService<Ledger>();
        _verifier = host.Services.GetRequiredService<SignedRequestVerifier>();
        Answered = routes.ToDictionary(r => r.Type, _ => new List<int>());
    }

    public IReadOnlyList<FuzzRoute> Routes { get; }

    /// <summary>The statuses each signed route answered.</summary>
    public Dictionary<string, List<int>> Answered { get; }

    public int Ran { get; private set; }

    public int Successes { get; private set; }

    private TestKey User => _actors[0];

    public static async Task<FuzzWorld> SetUpAsync(TestHost host)
    {
        var (admin, feeder, gateway, oracle) = (host.Role("admin"), host.Role("feeder"), host.Role("gateway"), TestKey.New());
        var user = TestKey.New();
        var stranger = TestKey.New();
        var manager = (await host.GetAsync("/api/v1/config")).GetProperty("managerAddress").GetString()!;
        var n = 0;
        string Nonce() => (++n).ToString(CultureInfo.InvariantCulture);

        // Money everywhere a command can reach: dev tokens, credits in the account and the pool, a stake, a contribution, a held task.
        Assert.Equal(HttpStatusCode.OK, (await host.Http.PostAsJsonAsync("/api/v1/dev-token/faucet", new { address = user.Address.ToString(), quantity = "50" + Whole })).StatusCode);
        JsonObject Token(string quantity, string action, string pool) => new()
        {
            ["from"] = user.Address.ToString(), ["to"] = manager, ["quantity"] = quantity, ["action"] = action, ["poolId"] = pool, ["reference"] = "", ["nonce"] = Nonce(), ["deadline"] = TestHost.Deadline(3600),
        };
        Assert.Equal(HttpStatusCode.OK, (await host.PostAsync("/api/v1/dev-token/transfers", host.Sign(user, "TokenTransfer", Token("5" + Whole, "Buy-Credits", "")))).Status);
        Assert.Equal(HttpStatusCode.OK, (await host.PostAsync("/api/v1/dev-token/transfers", host.Sign(user, "TokenTransfer", Token("5" + Whole, "Stake", "demo")))).Status);
        Assert.Equal(HttpStatusCode.OK, (await host.PostAsync("/api/v1/pools/demo/credits", host.Sign(user, "TransferCredits", new JsonObject
        {
            ["account"] = user.Address.ToString(), ["poolId"] = "demo", ["amount"] = "2000", ["nonce"] = Nonce(), ["deadline"] = TestHost.Deadline(3600),
        }))).Status);
        var camp = CampConfig(stranger.Address);
        Assert.Equal(HttpStatusCode.Created, (await host.PostAsync("/api/v1/pools", host.Sign(admin, "CreatePool", new JsonObject
        {
            ["owner"] = admin.Address.ToString(), ["poolId"] = "camp", ["configHash"] = TestHost.Keccak(camp), ["nonce"] = Nonce(), ["deadline"] = TestHost.Deadline(3600),
        }, ("config", camp)))).Status);
        var contribution = await host.PostAsync("/api/v1/pools/camp/contributions", host.Sign(user, "CreateContribution", new JsonObject
        {
            ["account"] = user.Address.ToString(), ["poolId"] = "camp", ["amount"] = "1" + Whole, ["nonce"] = Nonce(), ["deadline"] = TestHost.Deadline(3600),
        }));
        Assert.Equal(HttpStatusCode.Created, contribution.Status);
        await host.ListOracleAsync(oracle.Address);
        var taskId = await host.AddDigitsTaskAsync(user, 3);
        var claim = await host.PostAsync("/api/v1/oracle/pools/demo/claim", host.Sign(oracle, "ClaimTask", new JsonObject
        {
            ["oracle"] = oracle.Address.ToString(), ["poolId"] = "demo", ["nonce"] = Nonce(), ["deadline"] = TestHost.Deadline(3600),
        }));
        Assert.Equal(HttpStatusCode.OK, claim.Status);
        var context = new FuzzContext(manager, contribution.Text("contributionId"), taskId, claim.Text("leaseId"), claim.Text("modelHash"));
        return new FuzzWorld(host, [user, admin, feeder, gateway, oracle, stranger], FuzzRoute.All(context));
    }

    internal static string CampConfig(Address destination) =>
        "{\"name\":\"Camp\",\"contribution\":{\"startUtc\":\"2026-01-01T00:00:00Z\",\"endUtc\":\"2099-01-01T00:00:00Z\",\"amountLimit\":\"50" + Whole
        + "\",\"destination\":\"" + destination + "\"}}";

    public string Describe(FuzzCase fuzz)
    {
        if (fuzz.IsRead)
        {
            return $"GET {ReadPath(fuzz)}";
        }

        var route = Routes[fuzz.Route];
        var mutations = string.Join("; ", fuzz.Mutations.Select(m => $"{m.Kind} field#{m.Field}={m.RawJson}"));
        return $"{route.Type} signer#{fuzz.Signer} path={fuzz.PathValue ?? "(own)"} envelope#{fuzz.Envelope} mutations=[{mutations}] extra={(fuzz.Extra is null ? "(valid)" : Shorten(fuzz.Extra))}";
    }

    private static string Shorten(string text) => text.Length <= 200 ? text : text[..200] + $"… ({text.Length} chars)";

    private string ReadPath(FuzzCase fuzz)
    {
        var segment = Uri.EscapeDataString(fuzz.PathValue ?? string.Empty);
        var path = Reads[fuzz.Route].Replace("{p}", segment, StringComparison.Ordinal).Replace("{user}", User.Address.ToString(), StringComparison.Ordinal);
        return string.IsNullOrEmpty(fuzz.Extra) ? path : path + "?" + fuzz.Extra;
    }

    public async Task RunAsync(FuzzCase fuzz)
    {
        Ran++;
        var before = await TotalsAsync();
        var unhandled = _host.Unhandled.Entries.Count;
        string description;
        HttpStatusCode status;
        string body;
        if (fuzz.IsRead)
        {
            description = Describe(fuzz);
            using var response = await _host.Http.GetAsync(ReadPath(fuzz));
            (status, body) = (response.StatusCode, await response.Content.ReadAsStringAsync());
        }
        else
        {
            var route = Routes[fuzz.Route];
            var (path, bytes) = Build(route, fuzz);
            description = Describe(fuzz);
            using var content = new ByteArrayContent(bytes);
            content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue(fuzz.Envelope == 9 ? "text/plain" : "application/json");
            using var response = await _host.Http.PostAsync(path, content);
            (status, body) = (response.StatusCode, await response.Content.ReadAsStringAsync());
            Answered[route.Type].Add((int)status);
        }

        Successes += (int)status < 300 ? 1 : 0;
        Assert.True((int)status < 500, $"{description} answered {(int)status}: {Shorten(body)}");
        if (_host.Unhandled.Entries.Count != unhandled)
        {
            Assert.Fail($"{description} logged an unhandled exception: {_host.Unhandled.Entries.Last()}");
        }
        if ((int)status >= 400)
        {
            Assert.True(before == await TotalsAsync(), $"{description} answered {(int)status} after money moved: {Shorten(body)}");
        }

        var invariant = await _ledger.CheckInvariantAsync();
        Assert.True(invariant.IsSound, $"{description}: the ledger invariant broke: {string.Join(" ", invariant.Problems)}");

        // A valid Pause would stop every later case at the pause check: resume, so the run keeps reaching the commands.
        await _host.Services.GetRequiredService<SystemPause>().SetAsync(false, _actors[1].Address, "fuzz");
    }

    // Every asset's posted and pending totals: any money move changes them.
    private async Task<string> TotalsAsync() =>
        string.Join(";", (await _store.RunAsync(0, static (u, _, ct) => u.Ledger.GetAssetTotalsAsync(ct))).Select(t => t.ToString()));

    // The hostile value as a node; JSON that no writer would write again (a lone surrogate) goes in as a placeholder
    // that is replaced by the raw text once the body is serialized.
    private static JsonNode? Node(string json, List<(string Placeholder, string Json)> raw)
    {
        try
        {
            var node = JsonNode.Parse(json);
            _ = node?.ToJsonString();
            return node;
        }
        catch (Exception exception) when (exception is InvalidOperationException or ArgumentException or JsonException)
        {
            var placeholder = "@@raw" + raw.Count.ToString(CultureInfo.InvariantCulture) + "@@";
            raw.Add((placeholder, json));
            return placeholder;
        }
    }

    private (string Path, byte[] Body) Build(FuzzRoute route, FuzzCase fuzz)
    {
        var signer = fuzz.Signer == 0 ? _actors[route.Actor] : _actors[(route.Actor + fuzz.Signer) % _actors.Length];
        var nonce = (++_nonce).ToString(CultureInfo.InvariantCulture);
        var extra = fuzz.Extra ?? route.ValidExtra?.Invoke(nonce);
        var message = route.Message(_actors[route.Actor].Address, nonce, extra);
        var raw = new List<(string Placeholder, string Json)>();
        foreach (var mutation in fuzz.Mutations)
        {
            var names = message.Select(p => p.Key).ToList();
            var name = names.Count == 0 ? "x" : names[mutation.Field % names.Count];
            switch (mutation.Kind)
            {
                case FuzzMutationKind.Replace:
                    message[name] = Node(mutation.RawJson, raw);
                    break;
                case FuzzMutationKind.Remove:
                    message.Remove(name);
                    break;
                default:
                    message["fuzz" + mutation.Field.ToString(CultureInfo.InvariantCulture)] = Node(mutation.RawJson, raw);
                    break;
            }
        }

        // Validly signed whenever the message can be encoded; otherwise a signature over something else.
        string signature;
        try
        {
            signature = signer.Key.SignHash(_verifier.Digest(route.Type, JsonSerializer.SerializeToElement(message))).ToString();
        }
        catch (Exception exception) when (exception is not OutOfMemoryException) // the message does not encode: it cannot be signed as it is
        {
            signature = signer.Key.SignHash(Keccak256.Hash(Encoding.UTF8.GetBytes(nonce))).ToString();
        }

        var body = new JsonObject { ["message"] = message, ["signature"] = signature };
        if (route.ExtraName is { } extraName && extra is not null)
        {
            body[extraName] = extra;
        }

        var text = body.ToJsonString();
        foreach (var (placeholder, json) in raw)
        {
            text = text.Replace("\"" + placeholder + "\"", json, StringComparison.Ordinal);
        }

        var bytes = fuzz.Envelope switch
        {
            1 => Encoding.UTF8.GetBytes(text[..(text.Length / 2)]),
            2 => Encoding.UTF8.GetBytes(text.Replace("\"signature\":\"0x", "\"signature\":\"0x00", StringComparison.Ordinal)),
            3 => Encoding.UTF8.GetBytes(text[..^1] + ",\"message\":{}}"),
            4 => Encoding.UTF8.GetBytes(text.Replace("\"message\":{", "\"message\":{\"\\ud800\":1,", StringComparison.Ordinal)),
            5 => [.. Encoding.UTF8.GetBytes(text[..^1]), (byte)',', (byte)'"', (byte)'z', (byte)'"', (byte)':', (byte)'"', 0xC3, 0x28, (byte)'"', (byte)'}'],
            6 => Encoding.UTF8.GetBytes("[" + text + "]"),
            7 => Encoding.UTF8.GetBytes(text[..^1] + ",\"pad\":\"" + new string('p', 1 << 20) + "\"}"),
            8 => Encoding.UTF8.GetBytes(text.Replace(signature, "0x" + new string('f', 130), StringComparison.Ordinal)),
            _ => Encoding.UTF8.GetBytes(text),
        };
        var segment = fuzz.PathValue is null ? route.PathValue : Uri.EscapeDataString(fuzz.PathValue);
        return (route.Path.Replace("{p}", segment, StringComparison.Ordinal), bytes);
    }
}

/// <summary>What the set-up made that routes name.</summary>
internal sealed record FuzzContext(string Manager, string ContributionId, string TaskId, string LeaseId, string ModelHash);

/// <summary>A signed route: its path, its EIP-712 type, the index of its actor, a valid message, and its text field.</summary>
internal sealed record FuzzRoute(string Path, string PathValue, string Type, int Actor, Func<Address, string, string?, JsonObject> Message, string? ExtraName = null, Func<string, string>? ValidExtra = null)
{
    // Actors: 0 user, 1 admin, 2 feeder, 3 gateway, 4 oracle, 5 stranger.
    public static IReadOnlyList<FuzzRoute> All(FuzzContext c)
    {
        static string Deadline() => TestHost.Deadline(3600);
        const string Whole = "000000000000";
        var input = "{\"inputs\":{\"pixels\":{\"type\":\"float32\",\"shape\":[1,64],\"data\":[" + string.Join(",", Enumerable.Repeat(2, 64)) + "]}}}";
        var output = "{\"outputs\":{\"label\":{\"type\":\"int64\",\"shape\":[1],\"data\":\"AgAAAAAAAAA=\"},\"probabilities\":{\"type\":\"float32\",\"shape\":[1,10],\"data\":\""
            + Convert.ToBase64String(new byte[40]) + "\"}}}";
        return
        [
            new("/api/v1/dev-token/transfers", string.Empty, "TokenTransfer", 0, (a, n, _) => new JsonObject
            {
                ["from"] = a.ToString(), ["to"] = c.Manager, ["quantity"] = "1" + Whole, ["action"] = "Buy-Credits", ["poolId"] = "", ["reference"] = "", ["nonce"] = n, ["deadline"] = Deadline(),
            }),
            new("/api/v1/token/notices", string.Empty, "CreditNotice", 3, (a, n, _) => new JsonObject
            {
                ["gateway"] = a.ToString(), ["messageId"] = "fuzz-" + n, ["sender"] = a.ToString(), ["quantity"] = "1" + Whole, ["action"] = "Buy-Credits", ["poolId"] = "", ["reference"] = "",
            }),
            new("/api/v1/pools", string.Empty, "CreatePool", 1, (a, n, extra) => new JsonObject
            {
                ["owner"] = a.ToString(), ["poolId"] = "f" + n, ["configHash"] = TestHost.Keccak(extra ?? string.Empty), ["nonce"] = n, ["deadline"] = Deadline(),
            }, "config", _ => FuzzWorld.CampConfig(Address.Parse("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed"))),
            new("/api/v1/pools/{p}/credits", "demo", "TransferCredits", 0, (a, n, _) => new JsonObject
            {
                ["account"] = a.ToString(), ["poolId"] = "demo", ["amount"] = "20", ["nonce"] = n, ["deadline"] = Deadline(),
            }),
            new("/api/v1/pools/{p}/credits/withdraw", "demo", "WithdrawCredits", 0, (a, n, _) => new JsonObject
            {
                ["account"] = a.ToString(), ["poolId"] = "demo", ["amount"] = "5", ["nonce"] = n, ["deadline"] = Deadline(),
            }),
            new("/api/v1/pools/{p}/tasks", "demo", "AddTask", 0, (a, n, extra) => new JsonObject
            {
                ["account"] = a.ToString(), ["poolId"] = "demo", ["model"] = "digits", ["inputHash"] = TestHost.Keccak(extra ?? string.Empty), ["maxCredits"] = "10", ["nonce"] = n, ["deadline"] = Deadline(),
            }, "input", _ => input),
            new("/api/v1/pools/{p}/stakes/unstake", "demo", "Unstake", 0, (a, n, _) => new JsonObject
            {
                ["account"] = a.ToString(), ["poolId"] = "demo", ["amount"] = "1" + Whole[..6], ["nonce"] = n, ["deadline"] = Deadline(),
            }),
            new("/api/v1/pools/{p}/stakes/claim", "demo", "ClaimRewards", 0, (a, n, _) => new JsonObject
            {
                ["account"] = a.ToString(), ["poolId"] = "demo", ["nonce"] = n, ["deadline"] = Deadline(),
            }),
            new("/api/v1/pools/{p}/contributions", "camp", "CreateContribution", 0, (a, n, _) => new JsonObject
            {
                ["account"] = a.ToString(), ["poolId"] = "camp", ["amount"] = "1" + Whole, ["nonce"] = n, ["deadline"] = Deadline(),
            }),
            new("/api/v1/contributions/{p}/claim", c.ContributionId, "ClaimContribution", 0, (a, n, _) => new JsonObject
            {
                ["account"] = a.ToString(), ["contributionId"] = c.ContributionId, ["nonce"] = n, ["deadline"] = Deadline(),
            }),
            new("/api/v1/pools/{p}/oracles", "demo", "SetOracle", 1, (a, n, _) => new JsonObject
            {
                ["owner"] = a.ToString(), ["poolId"] = "demo", ["oracle"] = "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed", ["active"] = true, ["nonce"] = n, ["deadline"] = Deadline(),
            }),
            new("/api/v1/admin/pools/{p}/status", "camp", "SetPoolStatus", 1, (a, n, _) => new JsonObject
            {
                ["admin"] = a.ToString(), ["poolId"] = "camp", ["status"] = 2, ["reason"] = "fuzz", ["nonce"] = n, ["deadline"] = Deadline(),
            }),
            new("/api/v1/admin/pools/{p}/distributing", "camp", "SetAmountDistributing", 1, (a, n, _) => new JsonObject
            {
                ["admin"] = a.ToString(), ["poolId"] = "camp", ["amount"] = "1", ["nonce"] = n, ["deadline"] = Deadline(),
            }),
            new("/api/v1/admin/exchange-rate", string.Empty, "SetExchangeRate", 2, (a, n, _) => new JsonObject
            {
                ["feeder"] = a.ToString(), ["credits"] = "1000", ["tokenUnits"] = "1" + Whole, ["effectiveAt"] = "0", ["nonce"] = n, ["deadline"] = Deadline(),
            }),
            new("/api/v1/admin/pause", string.Empty, "Pause", 1, (a, n, _) => new JsonObject
            {
                ["admin"] = a.ToString(), ["paused"] = false, ["nonce"] = n, ["deadline"] = Deadline(),
            }),
            new("/api/v1/oracle/pools/{p}/claim", "demo", "ClaimTask", 4, (a, n, _) => new JsonObject
            {
                ["oracle"] = a.ToString(), ["poolId"] = "demo", ["nonce"] = n, ["deadline"] = Deadline(),
            }),
            new("/api/v1/oracle/tasks/{p}/result", c.TaskId, "TaskResult", 4, (a, n, extra) => new JsonObject
            {
                ["oracle"] = a.ToString(), ["taskId"] = c.TaskId, ["leaseId"] = c.LeaseId, ["modelHash"] = c.ModelHash, ["outputHash"] = TestHost.Keccak(extra ?? string.Empty),
            }, "output", _ => output),
            new("/api/v1/oracle/tasks/{p}/failure", c.TaskId, "TaskFailure", 4, (a, n, _) => new JsonObject
            {
                ["oracle"] = a.ToString(), ["taskId"] = c.TaskId, ["leaseId"] = c.LeaseId, ["reason"] = "fuzz",
            }),
            new("/api/v1/gateway/outbox/pull", string.Empty, "OutboxPull", 3, (a, n, _) => new JsonObject
            {
                ["gateway"] = a.ToString(), ["limit"] = "10", ["nonce"] = n, ["deadline"] = Deadline(),
            }),
            new("/api/v1/gateway/outbox/{p}/confirm", "t-none", "OutboxConfirm", 3, (a, n, _) => new JsonObject
            {
                ["gateway"] = a.ToString(), ["transferId"] = "t-none", ["externalReference"] = "", ["nonce"] = n, ["deadline"] = Deadline(),
            }),
        ];
    }
}
