using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Anpm.Abstractions;
using Anpm.Credits;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Anpm.ReferenceHost.Tests;

/// <summary>
/// Secrets never in text: no public type that holds a webhook secret, a private key or a key file's password prints it
/// from <see cref="object.ToString"/> (records print their members), and a host run at Debug logs none of them while
/// it registers a webhook, signs requests with the development keys and delivers to an endpoint that refuses.
/// </summary>
public sealed partial class SecretsInTextTests
{
    private const string Sentinel = "SENTINEL-secret-0123456789abcdef";

    [GeneratedRegex("secret|password|keyhex|privatekey|mnemonic", RegexOptions.IgnoreCase)]
    private static partial Regex SecretName();

    [Fact]
    public void NoPublicTypeHoldingASecret_PrintsIt()
    {
        var assemblies = new[]
        {
            typeof(Address).Assembly, typeof(Ledger).Assembly, typeof(Anpm.Signing.EthereumKey).Assembly, typeof(Anpm.Pools.PoolRegistry).Assembly,
            typeof(Anpm.AspNetCore.AnpmRoles).Assembly, typeof(Anpm.Gateway.Evm.EvmPayoutSender).Assembly, typeof(Anpm.Oracle.OracleNodeOptions).Assembly,
            typeof(Program).Assembly,
        };
        var holders = assemblies.SelectMany(a => a.GetTypes())
            .Where(t => t.IsPublic || t.IsNestedPublic)
            .Where(t => !t.IsAbstract && !t.IsGenericTypeDefinition)
            .Select(t => (Type: t, Secrets: t.GetProperties(BindingFlags.Public | BindingFlags.Instance)
                .Where(p => p.PropertyType == typeof(string) && SecretName().IsMatch(p.Name) && !p.Name.Contains("Hash", StringComparison.Ordinal)).ToList()))
            .Where(h => h.Secrets.Count > 0)
            .ToList();
        Assert.Contains(holders, h => h.Type == typeof(WebhookEndpoint)); // the scan finds what it is meant to find

        foreach (var (type, secrets) in holders)
        {
            if (type.GetMethod("ToString", Type.EmptyTypes)!.DeclaringType == typeof(object))
            {
                continue; // a class without its own ToString prints its type's name only
            }

            var instance = type.GetConstructor(Type.EmptyTypes) is { } constructor ? constructor.Invoke(null)
                : throw new Xunit.Sdk.XunitException($"{type} holds a secret and prints its members: give it a parameterless constructor for this test, or redact it.");
            foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite && p.PropertyType == typeof(string)))
            {
                property.SetValue(instance, secrets.Contains(property) ? Sentinel : "x");
            }

            if (instance is WebhookEndpoint endpoint)
            {
                instance = endpoint with { EventTypes = [] };
            }

            Assert.DoesNotContain(Sentinel, instance.ToString(), StringComparison.Ordinal);
        }

        // Records that hold an endpoint print it redacted too.
        var held = new WebhookEndpoint { Id = "e", Url = "https://example.test/hook", Secret = Sentinel, EventTypes = ["task.done"], CreatedAt = DateTimeOffset.UnixEpoch };
        var outcome = new WebhookEndpointOutcome(WebhookEndpointResult.Registered, held, null).ToString();
        Assert.DoesNotContain(Sentinel, outcome, StringComparison.Ordinal);
        Assert.Contains("Secret = [redacted]", outcome, StringComparison.Ordinal);
        Assert.Contains("Url = https://example.test/hook", outcome, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AHostAtDebug_LogsNoSecretAndNoKey()
    {
        var logs = new CapturedLogs();
        using var user = TestKey.New();
        var secret = WebhookSignature.NewSecret();
        var nonce = 0;
        JsonObject Dated(JsonObject message)
        {
            message["nonce"] = (++nonce).ToString(CultureInfo.InvariantCulture);
            message["deadline"] = TestHost.Deadline();
            return message;
        }

        await using (var host = TestHost.Start(null, services => services.AddSingleton<ILoggerProvider>(logs), ("Logging:LogLevel:Default", "Debug"), ("Logging:LogLevel:Microsoft", "Debug")))
        {
            var admin = host.Role("admin");
            var registered = await host.PostAsync("/api/v1/admin/webhooks", host.Sign(admin, "RegisterWebhook", Dated(new JsonObject
            {
                ["admin"] = admin.Address.ToString(), ["url"] = "http://127.0.0.1:9/hook", ["secretHash"] = TestHost.Keccak(secret), ["eventTypes"] = "",
            }), ("secret", secret)));
            Assert.Equal(HttpStatusCode.Created, registered.Status);
            var again = await host.PostAsync("/api/v1/admin/webhooks", host.Sign(admin, "RegisterWebhook", Dated(new JsonObject
            {
                ["admin"] = admin.Address.ToString(), ["url"] = "http://127.0.0.1:9/hook", ["secretHash"] = TestHost.Keccak(secret), ["eventTypes"] = "",
            }), ("secret", "whsec_bad")));
            Assert.Equal(HttpStatusCode.BadRequest, again.Status);

            // A purchase (signed by a user key) makes an event; its delivery to a closed port fails and is logged.
            Assert.Equal(HttpStatusCode.OK, (await host.Http.PostAsJsonAsync("/api/v1/dev-token/faucet", new { address = user.Address.ToString(), quantity = "1000000000000" })).StatusCode);
            var manager = (await host.GetAsync("/api/v1/config")).GetProperty("managerAddress").GetString()!;
            Assert.Equal(HttpStatusCode.OK, (await host.PostAsync("/api/v1/dev-token/transfers", host.Sign(user, "TokenTransfer", Dated(new JsonObject
            {
                ["from"] = user.Address.ToString(), ["to"] = manager, ["quantity"] = "1000000000000", ["action"] = "Buy-Credits", ["poolId"] = "", ["reference"] = "",
            })))).Status);
            var webhooks = host.Services.GetRequiredService<WebhookService>();
            var endpointId = registered.Text("endpointId");
            var tried = await TestHost.EventuallyAsync(async () => await webhooks.ListDeliveriesAsync(endpointId, null, 10), d => d.Any(x => x.Attempts > 0));
            Assert.Contains(tried, d => d.Attempts > 0);

            var keys = JsonSerializer.Deserialize<Dictionary<string, string>>(File.ReadAllText(Path.Combine(host.DataFolder, "dev-keys.json")))!;
            var forbidden = keys.Values.Select(k => k.StartsWith("0x", StringComparison.Ordinal) ? k[2..] : k).Append(secret[6..]).Append(secret).Append(user.Hex[2..]).ToList();
            Assert.True(logs.Lines.Count > 20, $"Only {logs.Lines.Count} lines were logged at Debug.");
            foreach (var line in logs.Lines)
            {
                Assert.DoesNotContain(forbidden, f => line.Text.Contains(f, StringComparison.OrdinalIgnoreCase));
            }
        }
    }
}
