using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text.Json.Nodes;

namespace Anpm.ReferenceHost.Tests;

/// <summary>
/// A (signer, nonce) takes effect once, under concurrency: N different messages under one nonce sent at once apply exactly
/// one (the others 409, nothing applied); N copies of one message sent at once apply once and the others are answered
/// with the first answer and <c>Idempotency-Replayed: true</c>. On SQLite (one host) and on PostgreSQL (two host
/// instances on one database, the requests spread over both).
/// </summary>
public sealed class ReplaySafetyTests(HostPostgresFixture postgres) : IClassFixture<HostPostgresFixture>
{
    private const int Copies = 8;
    private const int Rounds = 4;

    private static string Config(string name) => "{\"name\":\"" + name + "\",\"staking\":{\"capacity\":\"1000\",\"dailyReward\":\"1\",\"minStakeAgeSeconds\":0}}";

    private static JsonObject CreatePool(TestKey admin, string poolId, string nonce) => new()
    {
        ["owner"] = admin.Address.ToString(), ["poolId"] = poolId, ["configHash"] = TestHost.Keccak(Config(poolId)), ["nonce"] = nonce, ["deadline"] = TestHost.Deadline(),
    };

    private static async Task<HashSet<string>> PoolIdsAsync(TestHost host) =>
        [.. (await host.GetAsync("/api/v1/pools")).EnumerateArray().Select(p => p.GetProperty("poolId").GetString()!)];

    private static async Task DifferentMessagesUnderOneNonce_ExactlyOneAppliedAsync(TestHost[] instances)
    {
        var admin = instances[0].Role("admin");
        for (var round = 0; round < Rounds; round++)
        {
            var before = await PoolIdsAsync(instances[0]);
            var nonce = RandomNumberGenerator.GetInt32(int.MaxValue).ToString(CultureInfo.InvariantCulture);
            var ids = Enumerable.Range(0, Copies).Select(i => $"r{round}p{i}{nonce}").ToList();
            var replies = await Task.WhenAll(ids.Select((id, i) =>
                instances[i % instances.Length].PostAsync("/api/v1/pools", instances[0].Sign(admin, "CreatePool", CreatePool(admin, id, nonce), ("config", Config(id))))));
            var created = replies.Where(r => r.Status == HttpStatusCode.Created).ToList();
            Assert.True(created.Count == 1, $"round {round}: {string.Join(" | ", replies.Select(r => r.ToString()))}");
            Assert.False(created[0].Replayed);
            Assert.All(replies.Where(r => r.Status != HttpStatusCode.Created), r => Assert.Equal((HttpStatusCode.Conflict, "conflict"), (r.Status, r.Code)));
            var added = (await PoolIdsAsync(instances[^1])).Except(before).ToList();
            Assert.Equal([created[0].Text("poolId")], added); // exactly the one answered Created exists
        }
    }

    private static async Task CopiesOfOneMessage_OneAppliedOthersReplayedAsync(TestHost[] instances)
    {
        var admin = instances[0].Role("admin");
        for (var round = 0; round < Rounds; round++)
        {
            var before = await PoolIdsAsync(instances[0]);
            var nonce = RandomNumberGenerator.GetInt32(int.MaxValue).ToString(CultureInfo.InvariantCulture);
            var id = $"copy{round}n{nonce}";
            var body = instances[0].Sign(admin, "CreatePool", CreatePool(admin, id, nonce), ("config", Config(id)));
            var replies = await Task.WhenAll(Enumerable.Range(0, Copies).Select(i => instances[i % instances.Length].PostAsync("/api/v1/pools", body)));
            Assert.All(replies, r => Assert.True(r.Status == HttpStatusCode.Created, r.ToString()));
            Assert.Equal(Copies - 1, replies.Count(r => r.Replayed));
            Assert.All(replies, r => Assert.Equal(replies[0].Body.GetRawText(), r.Body.GetRawText()));
            Assert.Equal([id], (await PoolIdsAsync(instances[^1])).Except(before));
        }
    }

    [Fact]
    public async Task Sqlite_DifferentMessagesUnderOneNonce_ExactlyOneApplied()
    {
        await using var host = TestHost.Start();
        await DifferentMessagesUnderOneNonce_ExactlyOneAppliedAsync([host]);
    }

    [Fact]
    public async Task Sqlite_CopiesOfOneMessage_OneAppliedOthersReplayed()
    {
        await using var host = TestHost.Start();
        await CopiesOfOneMessage_OneAppliedOthersReplayedAsync([host]);
    }

    [Fact]
    public async Task Postgres_TwoInstances_DifferentMessagesUnderOneNonce_ExactlyOneApplied()
    {
        var data = Directory.CreateTempSubdirectory("anpm-host-").FullName;
        try
        {
            var database = await postgres.NewDatabaseAsync();
            await using var first = TestHost.Start(data, ("Anpm:Storage:Provider", "Postgres"), ("Anpm:Storage:ConnectionString", database));
            await using var second = TestHost.Start(data, ("Anpm:Storage:Provider", "Postgres"), ("Anpm:Storage:ConnectionString", database));
            await DifferentMessagesUnderOneNonce_ExactlyOneAppliedAsync([first, second]);
            await CopiesOfOneMessage_OneAppliedOthersReplayedAsync([first, second]);
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }

    [Fact]
    public async Task ExistingPoolId_UnderANewNonce_Conflict_WhileTheReplayStaysCreated()
    {
        await using var host = TestHost.Start();
        var admin = host.Role("admin");
        var first = host.Sign(admin, "CreatePool", CreatePool(admin, "twice", "1"), ("config", Config("twice")));
        Assert.Equal(HttpStatusCode.Created, (await host.PostAsync("/api/v1/pools", first)).Status);
        var again = await host.PostAsync("/api/v1/pools", host.Sign(admin, "CreatePool", CreatePool(admin, "twice", "2"), ("config", Config("twice"))));
        Assert.Equal((HttpStatusCode.Conflict, "conflict"), (again.Status, again.Code));
        var replay = await host.PostAsync("/api/v1/pools", first);
        Assert.Equal((HttpStatusCode.Created, true), (replay.Status, replay.Replayed));

        // The refused request claimed nothing: the same message is refused again the same way, not replayed.
        var retried = await host.PostAsync("/api/v1/pools", host.Sign(admin, "CreatePool", CreatePool(admin, "twice", "2"), ("config", Config("twice"))));
        Assert.Equal((HttpStatusCode.Conflict, false), (retried.Status, retried.Replayed));
    }
}
