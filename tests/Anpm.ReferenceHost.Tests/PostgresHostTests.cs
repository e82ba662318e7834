using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Anpm.Testing;
using Npgsql;

namespace Anpm.ReferenceHost.Tests;

/// <summary>One PostgreSQL server for the host tests that run on it.</summary>
public sealed class HostPostgresFixture : IAsyncLifetime
{
    private PostgresTestServer? _server;

    public async Task InitializeAsync() => _server = await PostgresTestServer.StartAsync();

    /// <summary>A new, empty database on the server.</summary>
    public async Task<string> NewDatabaseAsync()
    {
        var name = "host_" + Guid.NewGuid().ToString("N")[..16];
        await using (var connection = new NpgsqlConnection(_server!.ConnectionString))
        {
            await connection.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
            await create.ExecuteNonQueryAsync();
        }

        return new NpgsqlConnectionStringBuilder(_server.ConnectionString) { Database = name }.ConnectionString;
    }

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}

/// <summary>
/// The main flows on PostgreSQL, and two host instances on one database: both run the background jobs and an oracle;
/// requests spread over both, the same signed request sent to both at once takes effect once.
/// </summary>
public sealed class PostgresHostTests(HostPostgresFixture postgres) : IClassFixture<HostPostgresFixture>, IDisposable
{
    private readonly TestKey _user = TestKey.New();
    private readonly TestKey _destination = TestKey.New();
    private readonly string _data = Directory.CreateTempSubdirectory("anpm-host-").FullName;

    public void Dispose()
    {
        _user.Dispose();
        _destination.Dispose();
        Directory.Delete(_data, recursive: true);
    }

    private TestHost Instance(string connectionString) =>
        TestHost.Start(_data, ("Anpm:Storage:Provider", "Postgres"), ("Anpm:Storage:ConnectionString", connectionString));

    [Fact]
    public async Task BothSeeds_OnPostgres()
    {
        await using var host = Instance(await postgres.NewDatabaseAsync());
        RequestSigner sign = (key, type, message, extra) => Task.FromResult(host.Sign(key, type, message, extra));
        await EndToEndFlows.CreditsInferenceAndStakingAsync(host, sign, _user);
        using var contributor = TestKey.New();
        await EndToEndFlows.CampaignAsync(host, sign, contributor, _destination);
    }

    [Fact]
    public async Task TwoInstances_OneDatabase_EachRequestTakesEffectOnce()
    {
        var database = await postgres.NewDatabaseAsync();
        await using var first = Instance(database);
        await using var second = Instance(database); // same data folder: the same development role keys
        _ = first.Http; // both started
        Assert.Equal(first.Role("admin").Address, second.Role("admin").Address);
        await first.GiveCreditsAsync(_user.Address, 1000);

        // 40 transfers of 1 credit, each sent to both instances at once: 40 credits move, not 80.
        var requests = Enumerable.Range(1, 40).Select(n => first.Sign(_user, "TransferCredits", new JsonObject
        {
            ["account"] = _user.Address.ToString(), ["poolId"] = "demo", ["amount"] = "1", ["nonce"] = n.ToString(CultureInfo.InvariantCulture), ["deadline"] = TestHost.Deadline(),
        })).ToList();
        var replies = await Task.WhenAll(requests.SelectMany(body => new[] { first.PostAsync("/api/v1/pools/demo/credits", body), second.PostAsync("/api/v1/pools/demo/credits", body) }));
        Assert.All(replies, r => Assert.True(r.Status == HttpStatusCode.OK, r.ToString()));
        Assert.Equal("960", (await second.GetAsync($"/api/v1/accounts/{_user.Address}")).GetProperty("credits").GetString());

        // Tasks added through either instance are run by one of the two oracles, each charged once.
        var input = "{\"inputs\":{\"pixels\":{\"type\":\"float32\",\"shape\":[1,64],\"data\":[" + string.Join(",", Enumerable.Repeat(5, 64)) + "]}}}";
        var tasks = new List<string>();
        for (var n = 0; n < 4; n++)
        {
            var body = first.Sign(_user, "AddTask", new JsonObject
            {
                ["account"] = _user.Address.ToString(), ["poolId"] = "demo", ["model"] = "digits", ["inputHash"] = TestHost.Keccak(input), ["maxCredits"] = "10",
                ["nonce"] = (100 + n).ToString(CultureInfo.InvariantCulture), ["deadline"] = TestHost.Deadline(),
            }, ("input", input));
            var added = await Task.WhenAll(first.PostAsync("/api/v1/pools/demo/tasks", body), second.PostAsync("/api/v1/pools/demo/tasks", body));
            Assert.All(added, a => Assert.True(a.Status == HttpStatusCode.Accepted, a.ToString()));
            Assert.Equal(added[0].Text("taskId"), added[1].Text("taskId"));
            tasks.Add(added[0].Text("taskId"));
        }

        foreach (var task in tasks)
        {
            var done = await TestHost.EventuallyAsync(() => first.GetAsync($"/api/v1/tasks/{task}"), t => t.GetProperty("status").GetString() == "Done");
            Assert.Equal(("Done", "10"), (done.GetProperty("status").GetString(), done.GetProperty("creditsCharged").GetString()));
        }

        // Token transfers, unstakes and contributions, each sent to both instances at once, take effect once too.
        Assert.Equal(HttpStatusCode.OK, (await first.Http.PostAsJsonAsync("/api/v1/dev-token/faucet", new { address = _user.Address.ToString(), quantity = "10000000000000" })).StatusCode);
        var manager = (await first.GetAsync("/api/v1/config")).GetProperty("managerAddress").GetString()!;
        var nonce = 200;
        async Task<Reply[]> BothAsync(string path, string type, JsonObject message)
        {
            message["nonce"] = (++nonce).ToString(CultureInfo.InvariantCulture);
            message["deadline"] = TestHost.Deadline();
            var body = first.Sign(_user, type, message);
            var replies = await Task.WhenAll(first.PostAsync(path, body), second.PostAsync(path, body));
            Assert.All(replies, r => Assert.True((int)r.Status is >= 200 and < 300, $"{type}: {r}"));
            return replies;
        }

        JsonObject Token(string quantity, string action, string pool) => new()
        {
            ["from"] = _user.Address.ToString(), ["to"] = manager, ["quantity"] = quantity, ["action"] = action, ["poolId"] = pool, ["reference"] = "",
        };
        await BothAsync("/api/v1/dev-token/transfers", "TokenTransfer", Token("1000000000000", "Buy-Credits", ""));
        await BothAsync("/api/v1/dev-token/transfers", "TokenTransfer", Token("3000000000000", "Stake", "demo"));
        await BothAsync("/api/v1/pools/demo/stakes/unstake", "Unstake", new JsonObject { ["account"] = _user.Address.ToString(), ["poolId"] = "demo", ["amount"] = "1000000000000" });
        var account = await first.GetAsync($"/api/v1/accounts/{_user.Address}");
        Assert.Equal("1960", account.GetProperty("credits").GetString());
        Assert.Equal("2000000000000", (await first.GetAsync($"/api/v1/pools/demo/stakes/{_user.Address}")).GetProperty("staked").GetString());
        var token = await TestHost.EventuallyAsync(async () => (await first.GetAsync($"/api/v1/accounts/{_user.Address}")).GetProperty("token").GetString(), t => t == "7000000000000");
        Assert.Equal("7000000000000", token); // 10 − 1 bought − 3 staked + 1 unstaked, each once

        var pools = (await first.GetAsync($"/api/v1/accounts/{_user.Address}")).GetProperty("pools");
        Assert.DoesNotContain(pools.EnumerateArray(), p => p.GetProperty("poolId").GetString() == "demo"); // 40 credits, 4 tasks of 10: none left
        Assert.True((await first.GetAsync("/api/v1/audit/solvency")).GetProperty("ok").GetBoolean());
        Assert.Equal(await first.SolvencyAsync(), await second.SolvencyAsync());
    }
}
