// A minimal ASP.NET Core application with Anpm's whole API: AddAnpm(…).AddAnpmApi(…) and MapAnpmApi(…), nothing copied.
// It listens on 127.0.0.1, then acts as a client: an admin creates a pool with a signed request, sends it again (a
// replay), another message under the same nonce (a conflict), and reads the pool and the health report.
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Anpm.Abstractions;
using Anpm.Credits;
using Anpm.Pools;
using Anpm.Signing;
using Anpm.Storage.Sqlite;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

using var admin = EthereumKey.Generate();
var folder = Directory.CreateTempSubdirectory("anpm-aspnet-consumer-").FullName;
var builder = WebApplication.CreateBuilder(args);
builder.WebHost.UseUrls("http://127.0.0.1:0");
builder.Logging.SetMinimumLevel(LogLevel.Warning);
builder.Services
    .AddAnpm(anpm => anpm
        .UseSqlite($"Data Source={Path.Combine(folder, "anpm.db")}")
        .AddSigning(o => { o.ChainId = 31337; o.VerifyingContract = "0x5fbdb2315678afecb367f032d93f642f64180aa3"; })
        .AddPools()
        .AddCredits()
        .AddStaking()
        .AddInference())
    .AddAnpmApi(api => api.Admins.Add(admin.Address));

var app = builder.Build();
app.MapAnpmApi("/api/v1");
await app.StartAsync();
var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
using var http = new HttpClient { BaseAddress = new Uri(address) };

// The client signs with the domain and types the API publishes.
var eip712 = await http.GetFromJsonAsync<JsonElement>("/api/v1/eip712");
var verifier = app.Services.GetRequiredService<SignedRequestVerifier>();
JsonObject Sign(string poolId, string nonce, string config)
{
    var message = new JsonObject
    {
        ["owner"] = admin.Address.ToString(), ["poolId"] = poolId, ["configHash"] = "0x" + Convert.ToHexStringLower(Keccak256.Hash(System.Text.Encoding.UTF8.GetBytes(config))),
        ["nonce"] = nonce, ["deadline"] = DateTimeOffset.UtcNow.AddMinutes(5).ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture),
    };
    var signature = admin.SignHash(verifier.Digest("CreatePool", JsonSerializer.SerializeToElement(message)));
    return new JsonObject { ["message"] = message, ["signature"] = signature.ToString(), ["config"] = config };
}

const string Config = "{\"name\":\"Stake\",\"staking\":{\"capacity\":\"1000000\",\"dailyReward\":\"10\",\"minStakeAgeSeconds\":0}}";
var body = Sign("stake", "1", Config);
var created = await http.PostAsJsonAsync("/api/v1/pools", body);
var replayed = await http.PostAsJsonAsync("/api/v1/pools", body);
var conflict = await http.PostAsJsonAsync("/api/v1/pools", Sign("other", "1", Config));
var pool = await http.GetFromJsonAsync<JsonElement>("/api/v1/pools/stake");
var health = await http.GetFromJsonAsync<JsonElement>("/healthz");
Console.WriteLine($"domain={eip712.GetProperty("domain").GetProperty("name").GetString()}");
Console.WriteLine($"created={(int)created.StatusCode} replayed={(int)replayed.StatusCode}:{replayed.Headers.Contains("Idempotency-Replayed")} conflict={(int)conflict.StatusCode}");
Console.WriteLine($"pool={pool.GetProperty("poolId").GetString()} status={pool.GetProperty("status").GetString()} owner={pool.GetProperty("owner").GetString() == admin.Address.ToString()}");
Console.WriteLine($"health={health.GetProperty("status").GetString()}");
await app.StopAsync();
Directory.Delete(folder, recursive: true);
