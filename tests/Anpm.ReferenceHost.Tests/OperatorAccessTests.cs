using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Anpm.AspNetCore;
using Anpm.Signing;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Anpm.ReferenceHost.Tests;

/// <summary>
/// Operator routes are the operators': every route under <c>/api/v1/admin</c> answers 401 to a caller who cannot prove
/// to be an admin — reads without (or with a bad, expired or foreign) read token, commands whose signature is not the
/// actor's — and an admin's token opens the reads. The pages carry a Content-Security-Policy and nosniff; the framework
/// logs nothing per request by default.
/// </summary>
public sealed class OperatorAccessTests : IAsyncLifetime
{
    private readonly CapturedLogs _logs = new();
    private TestHost _host = null!;

    public Task InitializeAsync()
    {
        _host = TestHost.Start(null, services => services.AddSingleton<ILoggerProvider>(_logs), ("Anpm:Oracle:InProcess", "false"));
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task EveryAdminRoute_RefusesAnUnauthenticatedCaller_With401()
    {
        using var stranger = TestKey.New();
        var admin = _host.Role("admin");
        var types = JsonDocument.Parse(_host.Services.GetRequiredService<SignedRequestVerifier>().TypesJson).RootElement;
        var routes = _host.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText!.StartsWith("/api/v1/admin", StringComparison.Ordinal))
            .Select(e => (Path: Concrete(e.RoutePattern.RawText!), Method: e.Metadata.GetMetadata<Microsoft.AspNetCore.Routing.HttpMethodMetadata>()!.HttpMethods.Single(),
                Signed: e.Metadata.GetMetadata<SignedMessageMetadata>()))
            .ToList();
        Assert.Contains(routes, r => r.Method == "GET");
        Assert.Contains(routes, r => r.Method == "POST");

        foreach (var (path, method, signed) in routes)
        {
            if (method == "GET")
            {
                Assert.Equal((HttpStatusCode.Unauthorized, "signature_required"), await ReadAsync(path, null));
                Assert.Equal(HttpStatusCode.Unauthorized, (await ReadAsync(path, "Bearer abc")).Status);
                Assert.Equal(HttpStatusCode.Unauthorized, (await ReadAsync(path, "Anpm !!!")).Status);
                Assert.Equal((HttpStatusCode.Unauthorized, "signature_expired"), await ReadAsync(path, _host.ReadToken(admin, seconds: -5)));
                Assert.Equal(HttpStatusCode.Unauthorized, (await ReadAsync(path, Forged(admin, stranger))).Status);
                Assert.Equal((HttpStatusCode.Forbidden, "forbidden"), await ReadAsync(path, _host.ReadToken(stranger)));
                var opened = await ReadAsync(path, _host.ReadToken(admin));
                Assert.True(opened.Status is HttpStatusCode.OK or HttpStatusCode.NotFound, $"{path}: {opened.Status}");
                continue;
            }

            // A command claiming to come from the admin, signed by someone else.
            Assert.NotNull(signed);
            var message = Message(types.GetProperty(signed.Type), admin);
            var body = TestHost.Envelope(message, _host.Sign(stranger, signed.Type, message)["signature"]!.GetValue<string>(),
                signed.Extra is { } extra ? [(extra, "{}")] : []);
            var reply = await _host.PostAsync(path, body);
            Assert.True(reply.Status == HttpStatusCode.Unauthorized, $"POST {path}: {reply}");
        }
    }

    [Fact]
    public async Task ThePages_SendAContentSecurityPolicyAndNosniff_AndTheFrameworkIsQuietPerRequest()
    {
        using var page = await _host.Http.GetAsync("/");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        var policy = string.Join(";", page.Headers.GetValues("Content-Security-Policy"));
        Assert.Contains("script-src 'self'", policy, StringComparison.Ordinal);
        Assert.Contains("object-src 'none'", policy, StringComparison.Ordinal);
        Assert.Contains("frame-ancestors 'none'", policy, StringComparison.Ordinal);
        Assert.Equal("nosniff", page.Headers.GetValues("X-Content-Type-Options").Single());
        using var script = await _host.Http.GetAsync("/js/app.js");
        Assert.Equal("nosniff", script.Headers.GetValues("X-Content-Type-Options").Single());

        var before = _logs.Lines.Count;
        for (var i = 0; i < 5; i++)
        {
            await _host.GetAsync("/api/v1/pools");
        }

        var chatter = _logs.Lines.Skip(before).Where(l => l.Level < Microsoft.Extensions.Logging.LogLevel.Warning
            && l.Category.StartsWith("Microsoft", StringComparison.Ordinal)).ToList();
        Assert.True(chatter.Count == 0, "The framework logged per request: " + string.Join("\n", chatter.Take(5)));
    }

    private async Task<(HttpStatusCode Status, string? Code)> ReadAsync(string path, string? authorization)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (authorization is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", authorization);
        }

        using var response = await _host.Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        var code = text.StartsWith('{') && JsonDocument.Parse(text).RootElement.TryGetProperty("code", out var c) ? c.GetString() : null;
        return (response.StatusCode, code);
    }

    // A token naming the admin as reader but signed by someone else.
    private string Forged(TestKey admin, TestKey signer)
    {
        var message = new JsonObject { ["reader"] = admin.Address.ToString(), ["deadline"] = TestHost.Deadline() };
        var body = TestHost.Envelope(message, _host.Sign(signer, "ReadAccess", message)["signature"]!.GetValue<string>());
        return "Anpm " + System.Buffers.Text.Base64Url.EncodeToString(Encoding.UTF8.GetBytes(body.ToJsonString()));
    }

    // A well-formed message of the type: its actor is the admin, every other field a plausible value.
    private static JsonObject Message(JsonElement fields, TestKey actor)
    {
        var message = new JsonObject();
        foreach (var field in fields.EnumerateArray())
        {
            var name = field.GetProperty("name").GetString()!;
            message[name] = field.GetProperty("type").GetString() switch
            {
                "address" => actor.Address.ToString(),
                "bool" => false,
                "bytes32" => TestHost.Keccak("{}"),
                "string" => name == "eventTypes" ? string.Empty : "x",
                _ => name == "deadline" ? TestHost.Deadline() : name == "nonce" ? DateTime.UtcNow.Ticks.ToString(CultureInfo.InvariantCulture) : "1",
            };
        }

        return message;
    }

    private static string Concrete(string pattern) =>
        System.Text.RegularExpressions.Regex.Replace(pattern, "\\{[^}]+\\}", "x");
}
