using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Anpm.Credits;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Anpm.ReferenceHost.Tests;

/// <summary>
/// Webhooks end to end: an admin registers a receiver on 127.0.0.1; the changes a user and an admin make arrive signed
/// (verified by the Standard Webhooks reference library, npm <c>standardwebhooks</c>), exactly one event per change —
/// also when the receiver is down while they happen and the host restarts before it is back.
/// </summary>
public sealed class WebhookHostTests : IDisposable
{
    private const string Whole = "000000000000";
    private readonly TestKey _user = TestKey.New();
    private readonly FakeTimeProvider _clock = new(DateTimeOffset.UtcNow);
    private int _nonce;

    public void Dispose() => _user.Dispose();

    [Fact]
    public async Task ChangesArriveSigned_OnceEach_AcrossAReceiverOutageAndAHostRestart()
    {
        var folder = Directory.CreateTempSubdirectory("anpm-webhooks-").FullName;
        var secret = WebhookSignature.NewSecret();
        await using var receiver = WebhookReceiver.Start(secret, _clock);
        try
        {
            receiver.Down = true;
            string endpointId;
            await using (var host = Start(folder))
            {
                var admin = host.Role("admin");
                var bad = await host.PostAsync("/api/v1/admin/webhooks", host.Sign(admin, "RegisterWebhook", Dated(new JsonObject
                {
                    ["admin"] = admin.Address.ToString(), ["url"] = receiver.Url, ["secretHash"] = TestHost.Keccak("whsec_x"), ["eventTypes"] = "",
                }), ("secret", "whsec_x")));
                Assert.Equal(("invalid_request", true), (bad.Code, bad.Body.GetProperty("detail").GetString()!.Contains("secret", StringComparison.Ordinal)));
                var registered = await host.PostAsync("/api/v1/admin/webhooks", host.Sign(admin, "RegisterWebhook", Dated(new JsonObject
                {
                    ["admin"] = admin.Address.ToString(), ["url"] = receiver.Url, ["secretHash"] = TestHost.Keccak(secret), ["eventTypes"] = "",
                }), ("secret", secret)));
                Assert.Equal(HttpStatusCode.Created, registered.Status);
                endpointId = registered.Text("endpointId");
                Assert.False(registered.Body.TryGetProperty("secret", out _));

                // Two purchases and a pause and resume of the demo pool: four events, while the receiver answers 503.
                await BuyCreditsAsync(host);
                await BuyCreditsAsync(host);
                await SetPoolStatusAsync(host, 4); // Paused
                await SetPoolStatusAsync(host, 1); // Active
                var endpoint = await EventuallyAsync(host, h => h.GetSignedAsync("/api/v1/admin/webhooks", h.Role("admin")),
                    page => page.GetProperty("endpoints")[0].GetProperty("deliveries").GetProperty("attempts").GetInt64() >= 4);
                var deliveries = endpoint.GetProperty("endpoints")[0].GetProperty("deliveries");
                Assert.Equal((4L, 0L), (deliveries.GetProperty("pending").GetInt64(), deliveries.GetProperty("delivered").GetInt64()));
                Assert.StartsWith("HTTP 503", endpoint.GetProperty("endpoints")[0].GetProperty("lastError").GetString(), StringComparison.Ordinal);
                Assert.Empty(receiver.Received);
            }

            // The host restarts; the receiver comes back: the pending deliveries arrive at their next attempt, once each.
            receiver.Down = false;
            await using (var host = Start(folder))
            {
                await EventuallyAsync(host, _ => Task.FromResult(receiver.Received.Count), count => count >= 4);
                await SetPoolStatusAsync(host, 4);
                await EventuallyAsync(host, _ => Task.FromResult(receiver.Received.Count), count => count >= 5);
                // The receiver has the fifth event before the dispatcher records its delivery: wait for the record.
                var page = await EventuallyAsync(host, h => h.GetSignedAsync($"/api/v1/admin/webhooks/{endpointId}/deliveries", h.Role("admin")),
                    p => p.GetProperty("deliveries").EnumerateArray().Count(d => d.GetProperty("state").GetString() == "Delivered") == 5);
                Assert.Equal(5, page.GetProperty("deliveries").GetArrayLength());
                Assert.All(page.GetProperty("deliveries").EnumerateArray(), d => Assert.Equal("Delivered", d.GetProperty("state").GetString()));
                using var badCursor = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/admin/webhooks/{endpointId}/deliveries?before=x");
                badCursor.Headers.TryAddWithoutValidation("Authorization", host.ReadToken(host.Role("admin")));
                Assert.Equal(HttpStatusCode.BadRequest, (await host.Http.SendAsync(badCursor)).StatusCode);
            }

            var types = receiver.Received.Select(r => JsonNode.Parse(r.Body)!["type"]!.GetValue<string>()).Order(StringComparer.Ordinal).ToList(); // in parallel: any order
            Assert.Equal(["deposit.credited", "deposit.credited", "pool.status_changed", "pool.status_changed", "pool.status_changed"], types);
            Assert.Equal(5, receiver.Received.Select(r => r.Id).Distinct().Count()); // one event per change, none twice
            Assert.All(receiver.Received, r => Assert.True(r.SignatureValid, r.Id));
            Assert.Equal("Paused", JsonNode.Parse(receiver.Received[^1].Body)!["data"]!["to"]!.GetValue<string>());
            await VerifyWithReferenceLibraryAsync(secret, receiver.Received);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private TestHost Start(string folder) =>
        TestHost.Start(folder, services => services.AddSingleton<TimeProvider>(_clock), ("Anpm:Oracle:InProcess", "false"));

    // Polls while moving the host's clock a second at a time, so its webhook job (every second) and retries (5 s first) run.
    private async Task<T> EventuallyAsync<T>(TestHost host, Func<TestHost, Task<T>> read, Func<T, bool> done) =>
        await TestHost.EventuallyAsync(async () =>
        {
            _clock.Advance(TimeSpan.FromSeconds(1));
            return await read(host);
        }, done);

    private async Task BuyCreditsAsync(TestHost host)
    {
        Assert.Equal(HttpStatusCode.OK, (await host.Http.PostAsJsonAsync("/api/v1/dev-token/faucet", new { address = _user.Address.ToString(), quantity = "1" + Whole })).StatusCode);
        var manager = (await host.GetAsync("/api/v1/config")).GetProperty("managerAddress").GetString()!;
        var bought = await host.PostAsync("/api/v1/dev-token/transfers", host.Sign(_user, "TokenTransfer", Dated(new JsonObject
        {
            ["from"] = _user.Address.ToString(), ["to"] = manager, ["quantity"] = "1" + Whole, ["action"] = "Buy-Credits", ["poolId"] = "", ["reference"] = "",
        })));
        Assert.Equal(HttpStatusCode.OK, bought.Status);
    }

    private async Task SetPoolStatusAsync(TestHost host, int status)
    {
        var admin = host.Role("admin");
        var set = await host.PostAsync("/api/v1/admin/pools/demo/status", host.Sign(admin, "SetPoolStatus", Dated(new JsonObject
        {
            ["admin"] = admin.Address.ToString(), ["poolId"] = "demo", ["status"] = status, ["reason"] = "test",
        })));
        Assert.True(set.Status == HttpStatusCode.OK, set.ToString());
    }

    private JsonObject Dated(JsonObject message)
    {
        message["nonce"] = (++_nonce).ToString(CultureInfo.InvariantCulture);
        message["deadline"] = _clock.GetUtcNow().AddMinutes(10).ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        return message;
    }

    private static async Task VerifyWithReferenceLibraryAsync(string secret, IReadOnlyList<ReceivedDelivery> received)
    {
        var folder = Path.Combine(TestHost.RepositoryRoot(), "tests", "node");
        var file = Path.GetTempFileName();
        try
        {
            await File.WriteAllTextAsync(file, new JsonArray([.. received.Select(r => (JsonNode)new JsonObject
            {
                ["secret"] = secret, ["body"] = r.Body,
                ["headers"] = new JsonObject { ["webhook-id"] = r.Id, ["webhook-timestamp"] = r.Timestamp, ["webhook-signature"] = r.Signature },
            })]).ToJsonString());
            var start = new ProcessStartInfo("node") { WorkingDirectory = folder, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            start.ArgumentList.Add("verify-webhooks.mjs");
            start.ArgumentList.Add(file);
            using var process = Process.Start(start)!;
            var output = process.StandardOutput.ReadToEndAsync();
            var error = process.StandardError.ReadToEndAsync();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await process.WaitForExitAsync(timeout.Token);
            Assert.True(process.ExitCode == 0, "standardwebhooks refused a delivery: " + await error);
            Assert.Equal(received.Count.ToString(CultureInfo.InvariantCulture), (await output).Trim());
        }
        finally
        {
            File.Delete(file);
        }
    }
}

/// <summary>One delivery a receiver took.</summary>
public sealed record ReceivedDelivery(string Id, string Timestamp, string Signature, string Body, bool SignatureValid);

/// <summary>A webhook receiver on 127.0.0.1 (HttpListener): answers 503 while <see cref="Down"/>, else records each delivery and checks its signature.</summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly HttpListener _listener = new();
    private readonly ConcurrentQueue<ReceivedDelivery> _received = new();
    private readonly string _secret;
    private readonly TimeProvider _clock;
    private readonly Task _loop;

    private WebhookReceiver(string secret, TimeProvider clock, int port)
    {
        _secret = secret;
        _clock = clock;
        Url = $"http://127.0.0.1:{port}/hook/";
        _listener.Prefixes.Add(Url);
        _listener.Start();
        _loop = Task.Run(LoopAsync);
    }

    public string Url { get; }

    public volatile bool Down;

    public IReadOnlyList<ReceivedDelivery> Received => [.. _received];

    public static WebhookReceiver Start(string secret, TimeProvider clock)
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        return new WebhookReceiver(secret, clock, port);
    }

    private async Task LoopAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception exception) when (exception is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            using var reader = new StreamReader(context.Request.InputStream, Encoding.UTF8);
            var body = await reader.ReadToEndAsync();
            if (Down)
            {
                context.Response.StatusCode = 503;
            }
            else
            {
                var (id, timestamp, signature) = (context.Request.Headers["webhook-id"] ?? "", context.Request.Headers["webhook-timestamp"] ?? "", context.Request.Headers["webhook-signature"] ?? "");
                var valid = WebhookSignature.Verify(_secret, id, timestamp, signature, body, _clock.GetUtcNow(), TimeSpan.FromMinutes(5));
                if (!_received.Any(r => r.Id == id))
                {
                    _received.Enqueue(new ReceivedDelivery(id, timestamp, signature, body, valid)); // deduplicated by webhook-id, as receivers should
                }

                context.Response.StatusCode = 204;
            }

            context.Response.Close();
        }
    }

    public async ValueTask DisposeAsync()
    {
        _listener.Stop();
        _listener.Close();
        await _loop;
    }
}
