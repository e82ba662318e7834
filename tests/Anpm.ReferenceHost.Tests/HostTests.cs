using System.Net;
using System.Text.Json;
using Anpm.Abstractions;
using Anpm.Credits;
using Anpm.Pools;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Anpm.ReferenceHost.Tests;

/// <summary>The reference host on a real SQLite file in a throwaway data folder, in Development (in-process oracle on).</summary>
public sealed class HostTests : IDisposable
{
    private readonly string _data = Directory.CreateTempSubdirectory("anpm-host-").FullName;

    public void Dispose() => Directory.Delete(_data, recursive: true);

    private TestHost Host(params (string Key, string Value)[] settings) => TestHost.Start(_data, settings);

    [Fact]
    public async Task Reads_ConfigEip712DemoPoolHealthAndOpenApi()
    {
        await using var host = Host();
        var http = host.Http;
        using var config = JsonDocument.Parse(await http.GetStringAsync("/api/v1/config"));
        Assert.Equal(("APUS", 12, 31337, true), (config.RootElement.GetProperty("token").GetProperty("symbol").GetString(), config.RootElement.GetProperty("token").GetProperty("decimals").GetInt32(),
            config.RootElement.GetProperty("chainId").GetInt32(), config.RootElement.GetProperty("devToken").GetBoolean()));
        var keys = JsonSerializer.Deserialize<Dictionary<string, string>>(await File.ReadAllTextAsync(Path.Combine(_data, "dev-keys.json")))!;
        Assert.Contains("admin", keys.Keys);

        using var eip712 = JsonDocument.Parse(await http.GetStringAsync("/api/v1/eip712"));
        Assert.Equal(config.RootElement.GetProperty("managerAddress").GetString(), eip712.RootElement.GetProperty("domain").GetProperty("verifyingContract").GetString());
        Assert.True(eip712.RootElement.GetProperty("types").TryGetProperty("TaskResult", out _));

        using var demo = JsonDocument.Parse(await http.GetStringAsync("/api/v1/pools/demo"));
        Assert.Equal(("Active", 1), (demo.RootElement.GetProperty("status").GetString(), demo.RootElement.GetProperty("statusNumber").GetInt32()));
        Assert.Equal("digits", demo.RootElement.GetProperty("config").GetProperty("inference").GetProperty("models")[0].GetProperty("id").GetString());
        Assert.Single(JsonDocument.Parse(await http.GetStringAsync("/api/v1/pools")).RootElement.EnumerateArray());
        Assert.Empty(JsonDocument.Parse(await http.GetStringAsync("/api/v1/pools?after=demo&limit=10")).RootElement.EnumerateArray());
        foreach (var tooLarge in new[] { "/api/v1/pools?limit=0", "/api/v1/pools?limit=501", "/api/v1/pools/demo/tasks?limit=501", "/api/v1/pools?after=a%20b",
            $"/api/v1/accounts/{config.RootElement.GetProperty("feeder").GetString()}/history?limit=501", "/api/v1/accounts/0x0000000000000000000000000000000000000001/history?cursor=zz" })
        {
            var refused = await http.GetAsync(tooLarge);
            Assert.True(refused.StatusCode == HttpStatusCode.BadRequest, $"{tooLarge}: {(int)refused.StatusCode}");
        }


        var missing = await http.GetAsync("/api/v1/pools/nothing");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal("application/problem+json", missing.Content.Headers.ContentType!.MediaType);
        Assert.Equal("not_found", JsonDocument.Parse(await missing.Content.ReadAsStringAsync()).RootElement.GetProperty("code").GetString());
        Assert.Equal("invalid_request", JsonDocument.Parse(await (await http.GetAsync("/api/v1/accounts/0x123")).Content.ReadAsStringAsync()).RootElement.GetProperty("code").GetString());
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/healthz")).StatusCode);
        using var openApi = JsonDocument.Parse(await http.GetStringAsync("/openapi/v1.json"));
        Assert.True(openApi.RootElement.GetProperty("paths").TryGetProperty("/api/v1/pools/{poolId}", out _));
        var pull = openApi.RootElement.GetProperty("paths").GetProperty("/api/v1/gateway/outbox/pull").GetProperty("post");
        Assert.Contains("OutboxPull(address gateway,uint256 limit,uint256 nonce,uint256 deadline)", pull.GetProperty("description").GetString(), StringComparison.Ordinal);
        Assert.True(pull.GetProperty("requestBody").GetProperty("content").TryGetProperty("application/json", out _));
        Assert.Contains("swagger-ui", await http.GetStringAsync("/swagger/index.html"), StringComparison.Ordinal);
        var metrics = await http.GetStringAsync("/metrics");
        Assert.Contains("# TYPE http_server_request_duration_seconds histogram", metrics, StringComparison.Ordinal); // the OpenTelemetry SDK's Prometheus exporter
        Assert.Matches(@"http_server_request_duration_seconds_count\{[^}]*http_route=""/api/v1/pools/\{poolId\}""[^}]*\} [1-9]", metrics);
        Assert.Matches(@"anpm_job_runs_total\{[^}]*job=""inference-sweep"",outcome=""ok""\} [1-9]", metrics);
        using var rate = JsonDocument.Parse(await http.GetStringAsync("/api/v1/exchange-rate"));
        Assert.Equal(("1000", "1000000000000"), (rate.RootElement.GetProperty("current").GetProperty("credits").GetString(), rate.RootElement.GetProperty("current").GetProperty("tokenUnits").GetString()));
        using var solvency = JsonDocument.Parse(await http.GetStringAsync("/api/v1/audit/solvency"));
        Assert.True(solvency.RootElement.GetProperty("ok").GetBoolean());
    }

    [Fact]
    public async Task DemoPool_TaskRunByTheInProcessOracle_ReadableWithItsAttestation()
    {
        await using var host = Host();
        var http = host.Http;
        var services = host.Services;
        var user = Address.Parse("0x70997970c51812dc3a010c7d01b50e0d17dc79c8");
        await host.GiveCreditsAsync(user, 10, PoolId.Parse("demo"));
        var zero = "{\"inputs\":{\"pixels\":{\"type\":\"float32\",\"shape\":[1,64],\"data\":[" + string.Join(",", Enumerable.Repeat(0, 28).Concat(Enumerable.Repeat(16, 8)).Concat(Enumerable.Repeat(0, 28))) + "]}}}";
        var added = await services.GetRequiredService<InferenceService>().AddTaskAsync("test:1", user, PoolId.Parse("demo"), "digits", zero, new TokenAmount(10));
        Assert.Equal(AddTaskResult.Added, added.Result);

        var task = await TestHost.EventuallyAsync(() => host.GetAsync($"/api/v1/tasks/{added.Task!.Id}"), t => t.GetProperty("status").GetString() == "Done");
        Assert.Equal("Done", task.GetProperty("status").GetString());
        Assert.Equal("10", task.GetProperty("creditsCharged").GetString());
        var attestation = task.GetProperty("attestations")[0];
        var verified = services.GetRequiredService<Anpm.Signing.SignedRequestVerifier>().Verify("TaskResult", attestation.GetProperty("message"), attestation.GetProperty("signature").GetString());
        Assert.True(verified.IsValid, verified.Error);
        using var stats = JsonDocument.Parse(await http.GetStringAsync("/api/v1/pools/demo/stats"));
        Assert.Equal(1, stats.RootElement.GetProperty("counts").GetProperty("Done").GetInt32());
    }

    [Fact]
    public void BadConfiguration_StartRefused_NamingTheKey()
    {
        var error = Assert.Throws<OptionsValidationException>(() => Host(("Anpm:Storage:Provider", "Oracle"), ("Anpm:Feeder", "0x123"), ("Anpm:DevToken:FaucetMax", "0")));
        Assert.Contains("Anpm:Storage:Provider must be Sqlite, Postgres or InMemory, not 'Oracle'.", error.Message, StringComparison.Ordinal);
        Assert.Contains("Anpm:Feeder:", error.Message, StringComparison.Ordinal);
        Assert.Contains("Anpm:DevToken:FaucetMax must be 1 to 1000000000, not 0.", error.Message, StringComparison.Ordinal);
    }

    private WebApplicationFactory<Program> Production(params (string Key, string Value)[] settings) =>
        new WebApplicationFactory<Program>().WithWebHostBuilder(web =>
        {
            web.UseEnvironment("Production");
            web.UseSetting("Anpm:DataFolder", _data);
            foreach (var (key, value) in settings)
            {
                web.UseSetting(key, value);
            }
        });

    [Fact]
    public void OutsideDevelopment_Unconfigured_StartRefused_NamingEachMissingSetting()
    {
        using var factory = Production();
        var error = Assert.Throws<OptionsValidationException>(() => factory.CreateClient());
        foreach (var key in AnpmHostOptions.RequiredOutsideDevelopment)
        {
            Assert.Contains($"{key} is required outside Development", error.Message, StringComparison.Ordinal);
        }

        Assert.False(File.Exists(Path.Combine(_data, "dev-keys.json"))); // no development keys were generated
        Assert.False(File.Exists(Path.Combine(_data, "anpm.db")));
    }

    [Fact]
    public async Task OutsideDevelopment_Configured_StartsOnItsRolesWithoutDevelopmentKeysDemoPoolOrDevToken()
    {
        using var admin = TestKey.New();
        using var manager = TestKey.New();
        using var factory = Production(("Anpm:ChainId", "8453"), ("Anpm:ManagerAddress", manager.Address.ToString()), ("Anpm:Admins:0", admin.Address.ToString()),
            ("Anpm:Feeder", admin.Address.ToString()), ("Anpm:Treasury", "0x90f79bf6eb2c4f870365e785982e1f101e93b906"), ("Anpm:Gateway", "0x15d34aaf54267db7d7c367839aaf71a00a2c6a65"));
        using var http = factory.CreateClient();
        using var config = JsonDocument.Parse(await http.GetStringAsync("/api/v1/config"));
        Assert.Equal((8453, manager.Address.ToString(), false), (config.RootElement.GetProperty("chainId").GetInt32(), config.RootElement.GetProperty("managerAddress").GetString(),
            config.RootElement.GetProperty("devToken").GetBoolean()));
        Assert.Empty(JsonDocument.Parse(await http.GetStringAsync("/api/v1/pools")).RootElement.EnumerateArray()); // no demo pool
        Assert.Equal(HttpStatusCode.NotFound, (await http.PostAsync("/api/v1/dev-token/faucet", new StringContent("{}", System.Text.Encoding.UTF8, "application/json"))).StatusCode);
        Assert.False(File.Exists(Path.Combine(_data, "dev-keys.json")));
    }
}
