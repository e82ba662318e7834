using Anpm.Abstractions;

namespace Anpm.Storage.Conformance;

/// <summary>The notice store: one record per message id, exact quantities, atomicity, races across instances.</summary>
public abstract class NoticeStoreConformanceTests(StoreFactory factory) : ConformanceSuite(factory)
{
    private static TokenNotice Notice(string messageId, ulong quantity = 1500) => new()
    {
        MessageId = messageId,
        Sender = Address.Parse("0x70997970c51812dc3a010c7d01b50e0d17dc79c8"),
        Quantity = new TokenAmount(quantity),
        Action = "Contribute",
        PoolId = "demo",
        Reference = "c-1",
        ReceivedAt = Now,
        Outcome = "contribution-paid",
    };

    [Fact]
    public async Task Insert_ThenRead_OncePerMessageId()
    {
        var store = await Factory.CreateAsync();
        await using (var write = await store.BeginAsync())
        {
            Assert.True(await write.Notices.TryInsertNoticeAsync(Notice("m:1") with { Quantity = TokenAmount.MaxValue, PoolId = "", Reference = "" }));
            Assert.False(await write.Notices.TryInsertNoticeAsync(Notice("m:1", quantity: 1)));
            await write.CommitAsync();
        }

        await using var read = await store.BeginAsync();
        var stored = await read.Notices.GetNoticeAsync("m:1");
        Assert.Equal(Notice("m:1") with { Quantity = TokenAmount.MaxValue, PoolId = "", Reference = "" }, stored);
        Assert.True(stored!.HasSamePayload(stored with { ReceivedAt = Now.AddDays(1), Outcome = "other" }));
        Assert.False(stored.HasSamePayload(stored with { Quantity = new TokenAmount(1) }));
        Assert.Null(await read.Notices.GetNoticeAsync("m:2"));
    }

    [Fact]
    public async Task DisposeWithoutCommit_KeepsNoNotice()
    {
        var store = await Factory.CreateAsync();
        await using (var discarded = await store.BeginAsync())
        {
            Assert.True(await discarded.Notices.TryInsertNoticeAsync(Notice("m:1")));
        }

        await using var check = await store.BeginAsync();
        Assert.Null(await check.Notices.GetNoticeAsync("m:1"));
    }

    [Fact]
    public async Task ConcurrentInserts_OfOneMessageId_ExactlyOneWins()
    {
        var first = await Factory.CreateAsync();
        var second = await Factory.OpenAnotherInstanceAsync(first);
        var results = await Task.WhenAll(Enumerable.Range(0, 6).Select(i => Task.Run(async () =>
            await (i % 2 == 0 ? first : second).RunAsync(i, static async (unitOfWork, n, ct) =>
                await unitOfWork.Notices.TryInsertNoticeAsync(Notice("m:race", (ulong)n + 1), ct)))));
        Assert.Single(results, inserted => inserted);
    }
}

public sealed class InMemoryNoticeStoreTests() : NoticeStoreConformanceTests(new InMemoryStoreFactory());

public sealed class SqliteNoticeStoreTests() : NoticeStoreConformanceTests(new SqliteStoreFactory());

[Collection(PostgresCollection.Name)]
public sealed class PostgresNoticeStoreTests(PostgresServerFixture server) : NoticeStoreConformanceTests(new PostgresStoreFactory(server));
