using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Anpm.Abstractions;
using Anpm.AspNetCore;
using Anpm.Credits;
using Anpm.Pools;
using Anpm.Signing;
using Anpm.Storage.InMemory;
using Anpm.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace Anpm.AspNetCore.Tests;

/// <summary>
/// A minimal ASP.NET Core application of an integrator: Anpm on the in-memory store added with AddAnpm(…).AddAnpmApi(…),
/// its own EIP-712 type, a fake clock; the routes are what the test maps. Runs on the test server.
/// </summary>
public sealed class ApiApp : IAsyncDisposable
{
    public const string Manager = "0x5fbdb2315678afecb367f032d93f642f64180aa3";
    public const string VoteType = "Vote(address voter,string poolId,bool yes,uint256 nonce,uint256 deadline)";

    private ApiApp(WebApplication app, FakeTimeProvider clock, UnhandledExceptionLog unhandled)
    {
        Unhandled = unhandled;
        App = app;
        Clock = clock;
        Http = app.GetTestClient();
    }

    public WebApplication App { get; }

    /// <summary>The exceptions the app logged as unhandled; disposing fails the test when there is any.</summary>
    public UnhandledExceptionLog Unhandled { get; }

    public FakeTimeProvider Clock { get; }

    public HttpClient Http { get; }

    public IServiceProvider Services => App.Services;

    public static async Task<ApiApp> StartAsync(Action<WebApplication> map, Action<AnpmApiOptions>? api = null, Action<IServiceCollection>? services = null, Address? treasury = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseTestServer();
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var unhandled = new UnhandledExceptionLog();
        builder.Logging.AddProvider(unhandled);
        builder.Services.AddSingleton<TimeProvider>(clock);
        builder.Services
            .AddAnpm(anpm => anpm
                .UseInMemoryStore()
                .AddSigning(o =>
                {
                    o.VerifyingContract = Manager;
                    o.MessageTypes.Add(VoteType);
                })
                .AddPools(o => o.Treasury = treasury)
                .AddCredits(o => o.Treasury = treasury)
                .AddStaking(o => o.Treasury = treasury)
                .AddInference())
            .AddAnpmApi(api);
        services?.Invoke(builder.Services);
        var app = builder.Build();
        map(app);
        await app.StartAsync();
        return new ApiApp(app, clock, unhandled);
    }

    public string Deadline() => Clock.GetUtcNow().AddMinutes(10).ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The body <c>{message, signature, …extra}</c> signed by <paramref name="key"/>.</summary>
    public JsonObject Sign(EthereumKey key, string type, JsonObject message, params (string Name, string Value)[] extra)
    {
        var digest = Services.GetRequiredService<SignedRequestVerifier>().Digest(type, JsonSerializer.SerializeToElement(message));
        var body = new JsonObject { ["message"] = message.DeepClone(), ["signature"] = key.SignHash(digest).ToString() };
        foreach (var (name, value) in extra)
        {
            body[name] = value;
        }

        return body;
    }

    public async Task<(HttpStatusCode Status, JsonElement Body, bool Replayed)> PostAsync(string path, JsonNode body)
    {
        using var response = await Http.PostAsync(path, new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone(), response.Headers.Contains("Idempotency-Replayed"));
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
        Unhandled.AssertNone();
    }
}
