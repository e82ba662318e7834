using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Anpm.Abstractions;
using Anpm.Credits;
using Anpm.Signing;
using Anpm.Testing;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Anpm.ReferenceHost.Tests;

/// <summary>A key whose private part the test knows (so that an outside implementation can sign with it too).</summary>
public sealed class TestKey : IDisposable
{
    private TestKey(string hex)
    {
        Hex = hex;
        Key = EthereumKey.FromHex(hex);
    }

    /// <summary>The private key, <c>0x</c> + 64 hex.</summary>
    public string Hex { get; }

    public EthereumKey Key { get; }

    public Address Address => Key.Address;

    public static TestKey New() => new("0x" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32)));

    public static TestKey FromHex(string hex) => new(hex);

    public void Dispose() => Key.Dispose();
}

/// <summary>An HTTP answer: status, JSON body (default when empty) and whether it was a replay.</summary>
public sealed record Reply(HttpStatusCode Status, JsonElement Body, bool Replayed, string? MediaType = null)
{
    /// <summary>The problem's <c>code</c>, or null.</summary>
    public string? Code => Body.ValueKind == JsonValueKind.Object && Body.TryGetProperty("code", out var code) ? code.GetString() : null;

    public string Text(string property) => Body.GetProperty(property).GetString()!;

    public override string ToString() => $"{(int)Status} {Body}";
}

/// <summary>
/// The reference host in Development on a real SQLite file in a throwaway data folder (or the settings given), with
/// helpers to sign requests with the host's domain, post them and read the state a refused request must not change.
/// </summary>
public sealed class TestHost : IAsyncDisposable
{
    private readonly string? _ownedFolder;
    private readonly Dictionary<string, TestKey> _roleKeys = [];

    private TestHost(WebApplicationFactory<Program> factory, UnhandledExceptionLog unhandled, string dataFolder, string? ownedFolder, Uri? address = null)
    {
        Unhandled = unhandled;
        Factory = factory;
        DataFolder = dataFolder;
        _ownedFolder = ownedFolder;
        Address = address;
        Http = address is null ? factory.CreateClient() : new HttpClient { BaseAddress = address };
    }

    /// <summary>Where the host listens on 127.0.0.1, when started with <see cref="StartListening"/> (other processes can call it); else null.</summary>
    public Uri? Address { get; }

    public WebApplicationFactory<Program> Factory { get; }

    /// <summary>The exceptions the host logged as unhandled; disposing the host fails the test when there is any.</summary>
    public UnhandledExceptionLog Unhandled { get; }

    public HttpClient Http { get; }

    public IServiceProvider Services => Factory.Services;

    public string DataFolder { get; }

    /// <summary>Starts a host; <paramref name="dataFolder"/> null uses a new temporary folder removed on dispose.</summary>
    public static TestHost Start(string? dataFolder = null, params (string Key, string Value)[] settings) => Start(dataFolder, null, settings);

    /// <summary>Starts a host on Kestrel at 127.0.0.1 and a free port, for clients in other processes.</summary>
    public static TestHost StartListening(params (string Key, string Value)[] settings)
    {
        var folder = Directory.CreateTempSubdirectory("anpm-host-").FullName;
        var unhandled = new UnhandledExceptionLog();
        var factory = CreateFactory(folder, null, settings, unhandled);
        factory.UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        factory.StartServer();
        var address = factory.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>()
            .Features.Get<Microsoft.AspNetCore.Hosting.Server.Features.IServerAddressesFeature>()!.Addresses.Single();
        return new TestHost(factory, unhandled, folder, folder, new Uri(address + "/"));
    }

    /// <summary>Starts a host whose services the test changes (e.g. its clock).</summary>
    public static TestHost Start(string? dataFolder, Action<IServiceCollection>? services, params (string Key, string Value)[] settings)
    {
        var owned = dataFolder is null ? Directory.CreateTempSubdirectory("anpm-host-").FullName : null;
        var folder = dataFolder ?? owned!;
        var unhandled = new UnhandledExceptionLog();
        return new TestHost(CreateFactory(folder, services, settings, unhandled), unhandled, folder, owned);
    }

    private static WebApplicationFactory<Program> CreateFactory(string folder, Action<IServiceCollection>? services, (string Key, string Value)[] settings, UnhandledExceptionLog unhandled) =>
        new WebApplicationFactory<Program>().WithWebHostBuilder(web =>
        {
            web.UseEnvironment("Development");
            web.ConfigureLogging(logging => logging.AddProvider(unhandled));
            web.UseSetting("Anpm:DataFolder", folder);
            foreach (var (key, value) in settings)
            {
                web.UseSetting(key, value);
            }

            if (services is not null)
            {
                web.ConfigureServices(services);
            }
        });

    /// <summary>A development role key from the data folder's <c>dev-keys.json</c> (admin, feeder, gateway, treasury, oracle, manager).</summary>
    public TestKey Role(string role)
    {
        if (!_roleKeys.TryGetValue(role, out var key))
        {
            var keys = JsonSerializer.Deserialize<Dictionary<string, string>>(File.ReadAllText(Path.Combine(DataFolder, "dev-keys.json")))!;
            _roleKeys[role] = key = TestKey.FromHex(keys[role]);
        }

        return key;
    }

    /// <summary>The folder holding Anpm.sln.</summary>
    public static string RepositoryRoot() => Anpm.Testing.Repository.Root;

    public static string Deadline(int seconds = 600) =>
        DateTimeOffset.UtcNow.AddSeconds(seconds).ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);

    public static string Keccak(string text) => "0x" + Convert.ToHexStringLower(Keccak256.Hash(Encoding.UTF8.GetBytes(text)));

    /// <summary>The body <c>{message, signature, …extra}</c> signed by <paramref name="key"/> under the host's domain.</summary>
    public JsonObject Sign(TestKey key, string type, JsonObject message, params (string Name, string Value)[] extra)
    {
        var digest = Services.GetRequiredService<SignedRequestVerifier>().Digest(type, JsonSerializer.SerializeToElement(message));
        return Envelope(message, key.Key.SignHash(digest).ToString(), extra);
    }

    public static JsonObject Envelope(JsonObject message, string signature, params (string Name, string Value)[] extra)
    {
        var body = new JsonObject { ["message"] = message.DeepClone(), ["signature"] = signature };
        foreach (var (name, value) in extra)
        {
            body[name] = value;
        }

        return body;
    }

    public Task<Reply> PostAsync(string path, JsonNode body) => PostRawAsync(path, body.ToJsonString());

    public async Task<Reply> PostRawAsync(string path, string body)
    {
        using var response = await Http.PostAsync(path, new StringContent(body, Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();
        return new Reply(response.StatusCode, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone(), response.Headers.Contains("Idempotency-Replayed"),
            response.Content.Headers.ContentType?.MediaType);
    }

    public async Task<JsonElement> GetAsync(string path)
    {
        using var document = JsonDocument.Parse(await Http.GetStringAsync(path));
        return document.RootElement.Clone();
    }

    /// <summary>
    /// A read token for <paramref name="reader"/> (<c>Authorization: Anpm …</c>): the base64url of a ReadAccess message
    /// signed under the host's domain, valid for <paramref name="seconds"/> on the host's clock.
    /// </summary>
    public string ReadToken(TestKey reader, int seconds = 3000)
    {
        var deadline = Services.GetRequiredService<TimeProvider>().GetUtcNow().AddSeconds(seconds).ToUnixTimeSeconds();
        var message = new JsonObject { ["reader"] = reader.Address.ToString(), ["deadline"] = deadline.ToString(CultureInfo.InvariantCulture) };
        var body = Sign(reader, "ReadAccess", message);
        return "Anpm " + System.Buffers.Text.Base64Url.EncodeToString(Encoding.UTF8.GetBytes(body.ToJsonString()));
    }

    /// <summary>GET of an operator's read, with <paramref name="reader"/>'s read token.</summary>
    public async Task<JsonElement> GetSignedAsync(string path, TestKey reader)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.TryAddWithoutValidation("Authorization", ReadToken(reader));
        using var response = await Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"GET {path} answered {(int)response.StatusCode}: {text}");
        using var document = JsonDocument.Parse(text);
        return document.RootElement.Clone();
    }

    /// <summary>The solvency report (per asset totals, holdings and obligations) as text, to compare before and after.</summary>
    public Task<string> SolvencyAsync() => Http.GetStringAsync("/api/v1/audit/solvency");

    /// <summary>Credits <paramref name="credits"/> to an account straight through the ledger (test set-up).</summary>
    public async Task GiveCreditsAsync(Address account, ulong credits, PoolId? pool = null)
    {
        var ledger = Services.GetRequiredService<Ledger>();
        var to = pool is { } id ? CreditAccounts.InPool(id, account) : CreditAccounts.Of(account);
        await ledger.CreateAccountsAsync([new NewAccount(SystemAccounts.Issuance(WellKnownAssets.Credit), WellKnownAssets.Credit, AccountFlags.None),
            new NewAccount(to, WellKnownAssets.Credit, AccountFlags.DebitsMustNotExceedCredits)]);
        var created = await ledger.CreateTransferAsync(new TransferRequest
        {
            Id = TransferId.Parse("gift:" + Guid.NewGuid().ToString("N")), DebitAccountId = SystemAccounts.Issuance(WellKnownAssets.Credit), CreditAccountId = to,
            Asset = WellKnownAssets.Credit, Amount = new TokenAmount(credits), Kind = TransferKind.Parse("purchase"),
        });
        Assert.Equal(CreateTransferResult.Created, created);
    }

    /// <summary>An admin lists <paramref name="oracle"/> as an active oracle of the demo pool.</summary>
    public async Task ListOracleAsync(Address oracle)
    {
        var admin = Role("admin");
        var listed = await PostAsync("/api/v1/pools/demo/oracles", Sign(admin, "SetOracle", new JsonObject
        {
            ["owner"] = admin.Address.ToString(), ["poolId"] = "demo", ["oracle"] = oracle.ToString(), ["active"] = true,
            ["nonce"] = RandomNumberGenerator.GetInt32(int.MaxValue).ToString(CultureInfo.InvariantCulture), ["deadline"] = Deadline(),
        }));
        Assert.Equal(HttpStatusCode.OK, listed.Status);
    }

    /// <summary><paramref name="user"/>, given 10 credits in the demo pool, adds a digits task whose every pixel is <paramref name="pixel"/>; its task id.</summary>
    public async Task<string> AddDigitsTaskAsync(TestKey user, int pixel)
    {
        await GiveCreditsAsync(user.Address, 10, PoolId.Parse("demo"));
        var input = "{\"inputs\":{\"pixels\":{\"type\":\"float32\",\"shape\":[1,64],\"data\":[" + string.Join(",", Enumerable.Repeat(pixel, 64)) + "]}}}";
        var added = await PostAsync("/api/v1/pools/demo/tasks", Sign(user, "AddTask", new JsonObject
        {
            ["account"] = user.Address.ToString(), ["poolId"] = "demo", ["model"] = "digits", ["inputHash"] = Keccak(input), ["maxCredits"] = "10",
            ["nonce"] = RandomNumberGenerator.GetInt32(int.MaxValue).ToString(CultureInfo.InvariantCulture), ["deadline"] = Deadline(),
        }, ("input", input)));
        Assert.Equal(HttpStatusCode.Accepted, added.Status);
        return added.Text("taskId");
    }

    /// <summary>Waits until the task is Done; checks that its attestation is <paramref name="oracle"/>'s and verifies, and that the books balance.</summary>
    public async Task<JsonElement> DoneByAsync(string taskId, Address oracle, Func<string>? diagnostics = null)
    {
        var task = await EventuallyAsync(() => GetAsync($"/api/v1/tasks/{taskId}"), t => t.GetProperty("status").GetString() == "Done");
        Assert.True(task.GetProperty("status").GetString() == "Done", $"The task is {task}. {diagnostics?.Invoke()}");
        var attestation = task.GetProperty("attestations")[0];
        Assert.Equal(oracle.ToString(), attestation.GetProperty("message").GetProperty("oracle").GetString());
        var verified = Services.GetRequiredService<SignedRequestVerifier>().Verify("TaskResult", attestation.GetProperty("message"), attestation.GetProperty("signature").GetString());
        Assert.True(verified.IsValid, verified.Error);
        Assert.True((await GetAsync("/api/v1/audit/solvency")).GetProperty("ok").GetBoolean());
        return task;
    }

    /// <summary>Polls <paramref name="read"/> until <paramref name="done"/> holds or 90 seconds pass (generous: the host works in the background, the machine may be busy); returns the last value.</summary>
    public static async Task<T> EventuallyAsync<T>(Func<Task<T>> read, Func<T, bool> done)
    {
        var deadline = DateTime.UtcNow.AddSeconds(90);
        T value;
        while (!done(value = await read()) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }

        return value;
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await Factory.DisposeAsync();
        foreach (var key in _roleKeys.Values)
        {
            key.Dispose();
        }

        if (_ownedFolder is not null)
        {
            Directory.Delete(_ownedFolder, recursive: true);
        }

        Unhandled.AssertNone(); // a defect is a test failure, not only a 500 the client saw
    }
}
