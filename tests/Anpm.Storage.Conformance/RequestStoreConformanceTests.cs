using Anpm.Abstractions;

namespace Anpm.Storage.Conformance;

/// <summary>Processed signed requests: one per (signer, nonce), exact round trip, rolled back with the unit of work, one winner in a race.</summary>
public abstract class RequestStoreConformanceTests(StoreFactory factory) : ConformanceSuite(factory)
{
    private static readonly Address Alice = Address.Parse("0x70997970c51812dc3a010c7d01b50e0d17dc79c8");
    private static readonly Address Bob = Address.Parse("0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc");

    private static ProcessedRequest Request(Address signer, string nonce, int status = 200) => new()
    {
        Signer = signer,
        Nonce = nonce,
        Digest = "0x" + new string('a', 64),
        Status = status,
        Response = "{\"credits\":\"5\",\"note\":\"ünïcode\"}",
        ProcessedAt = Now,
    };

    [Fact]
    public async Task Insert_OncePerSignerAndNonce_RoundTripsExactly()
    {
        var store = await Factory.CreateAsync();
        var huge = new string('9', ProcessedRequest.MaxNonceLength);
        await using (var write = await store.BeginAsync())
        {
            Assert.True(await write.Requests.TryInsertRequestAsync(Request(Alice, "1")));
            Assert.False(await write.Requests.TryInsertRequestAsync(Request(Alice, "1", status: 409)));
            Assert.True(await write.Requests.TryInsertRequestAsync(Request(Bob, "1")));
            Assert.True(await write.Requests.TryInsertRequestAsync(Request(Alice, huge)));
            await write.CommitAsync();
        }

        await using var read = await store.BeginAsync();
        Assert.Equal(Request(Alice, "1"), await read.Requests.GetRequestAsync(Alice, "1"));
        Assert.Equal(Request(Alice, huge), await read.Requests.GetRequestAsync(Alice, huge));
        Assert.Null(await read.Requests.GetRequestAsync(Alice, "2"));
    }

    [Fact]
    public async Task Claimed_CompletedOrReleased_OnlyForItsMessageAndOnlyOnce()
    {
        var store = await Factory.CreateAsync();
        var claim = Request(Alice, "5", ProcessedRequest.ClaimedStatus) with { Response = string.Empty };
        var other = "0x" + new string('b', 64);
        await using (var write = await store.BeginAsync())
        {
            Assert.True(await write.Requests.TryInsertRequestAsync(claim));
            Assert.True(await write.Requests.TryInsertRequestAsync(claim with { Nonce = "6" }));
            Assert.True(await write.Requests.TryInsertRequestAsync(Request(Alice, "7")));
            await write.CommitAsync();
        }

        await using (var write = await store.BeginAsync())
        {
            Assert.True((await write.Requests.GetRequestAsync(Alice, "5"))!.IsClaimed);
            Assert.False(await write.Requests.CompleteRequestAsync(Alice, "5", other, 201, "{}")); // another message
            Assert.False(await write.Requests.CompleteRequestAsync(Bob, "5", claim.Digest, 201, "{}"));
            Assert.True(await write.Requests.CompleteRequestAsync(Alice, "5", claim.Digest, 201, "{\"poolId\":\"p\"}"));
            Assert.False(await write.Requests.CompleteRequestAsync(Alice, "5", claim.Digest, 200, "{}")); // completed once
            Assert.False(await write.Requests.ReleaseRequestAsync(Alice, "5", claim.Digest)); // a completed request stays
            Assert.False(await write.Requests.ReleaseRequestAsync(Alice, "7", claim.Digest));
            Assert.False(await write.Requests.ReleaseRequestAsync(Alice, "6", other));
            Assert.True(await write.Requests.ReleaseRequestAsync(Alice, "6", claim.Digest));
            await Assert.ThrowsAnyAsync<ArgumentException>(async () => await write.Requests.CompleteRequestAsync(Alice, "6", claim.Digest, ProcessedRequest.ClaimedStatus, "{}"));
            await write.CommitAsync();
        }

        await using (var write = await store.BeginAsync())
        {
            Assert.True(await write.Requests.TryInsertRequestAsync(claim with { Nonce = "8" }));
            await write.CommitAsync();
        }

        await using (var rolledBack = await store.BeginAsync())
        {
            Assert.True(await rolledBack.Requests.CompleteRequestAsync(Alice, "8", claim.Digest, 200, "{}"));
            Assert.True(await rolledBack.Requests.TryInsertRequestAsync(claim with { Nonce = "9" }));
            Assert.True(await rolledBack.Requests.ReleaseRequestAsync(Alice, "9", claim.Digest));
        }

        await using var read = await store.BeginAsync();
        Assert.Equal(claim with { Status = 201, Response = "{\"poolId\":\"p\"}" }, await read.Requests.GetRequestAsync(Alice, "5"));
        Assert.Null(await read.Requests.GetRequestAsync(Alice, "6"));
        Assert.Equal(Request(Alice, "7"), await read.Requests.GetRequestAsync(Alice, "7"));
        Assert.Equal(claim with { Nonce = "8" }, await read.Requests.GetRequestAsync(Alice, "8")); // the completion was rolled back
        Assert.Null(await read.Requests.GetRequestAsync(Alice, "9"));
    }

    [Fact]
    public async Task DisposeWithoutCommit_KeepsNothing()
    {
        var store = await Factory.CreateAsync();
        await using (var discarded = await store.BeginAsync())
        {
            Assert.True(await discarded.Requests.TryInsertRequestAsync(Request(Alice, "1")));
        }

        await using var check = await store.BeginAsync();
        Assert.Null(await check.Requests.GetRequestAsync(Alice, "1"));
    }

    [Fact]
    public async Task ConcurrentInserts_OfOneNonce_ExactlyOneWins()
    {
        var first = await Factory.CreateAsync();
        var second = await Factory.OpenAnotherInstanceAsync(first);
        var results = await Task.WhenAll(Enumerable.Range(0, 6).Select(i => Task.Run(async () =>
            await (i % 2 == 0 ? first : second).RunAsync(i, static async (unitOfWork, n, ct) =>
                await unitOfWork.Requests.TryInsertRequestAsync(Request(Alice, "7", 200 + n), ct)))));
        Assert.Single(results, inserted => inserted);
    }
}

public sealed class InMemoryRequestStoreTests() : RequestStoreConformanceTests(new InMemoryStoreFactory());

public sealed class SqliteRequestStoreTests() : RequestStoreConformanceTests(new SqliteStoreFactory());

[Collection(PostgresCollection.Name)]
public sealed class PostgresRequestStoreTests(PostgresServerFixture server) : RequestStoreConformanceTests(new PostgresStoreFactory(server));
