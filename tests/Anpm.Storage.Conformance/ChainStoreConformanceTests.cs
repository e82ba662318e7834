using Anpm.Abstractions;

namespace Anpm.Storage.Conformance;

/// <summary>
/// The outside chains' processed blocks: an atomic insert per (chain, number), round trips, the latest block as the
/// cursor, re-anchoring (forget above) and pruning (forget below, bounded), chains kept apart, atomicity.
/// </summary>
public abstract class ChainStoreConformanceTests(StoreFactory factory) : ConformanceSuite(factory)
{
    private const ulong Chain = 8453;

    [Fact]
    public async Task Insert_RoundTripsEveryField_ASecondBlockAtTheNumberIsRefused_ChainsApart()
    {
        var store = await Factory.CreateAsync();
        var block = Block(Chain, 17, 0xA1, 0xA0);
        await using (var write = await store.BeginAsync())
        {
            Assert.Null(await write.Chain.GetLatestBlockAsync(Chain));
            Assert.True(await write.Chain.TryInsertBlockAsync(block));
            Assert.False(await write.Chain.TryInsertBlockAsync(Block(Chain, 17, 0xB1, 0xB0))); // another hash at the same height
            Assert.True(await write.Chain.TryInsertBlockAsync(Block(1, 17, 0xC1, 0xC0)));
            await write.CommitAsync();
        }

        var reopened = await Factory.OpenAnotherInstanceAsync(store);
        await using var read = await reopened.BeginReadAsync();
        var stored = await read.Chain.GetBlockAsync(Chain, 17);
        Assert.Equal(block, stored);
        Assert.Equal((Hash(0xA1), Hash(0xA0), block.Timestamp.UtcTicks), (stored!.Hash, stored.ParentHash, stored.Timestamp.UtcTicks)); // hashes lower-cased
        Assert.Equal(Hash(0xC1), (await read.Chain.GetBlockAsync(1, 17))!.Hash);
        Assert.Null(await read.Chain.GetBlockAsync(Chain, 16));
        Assert.Null(await read.Chain.GetBlockAsync(5, 17));
        Assert.Null(await read.Chain.GetBlockAsync(0, 17));
        Assert.Null(await read.Chain.GetLatestBlockAsync(ulong.MaxValue));
    }

    [Fact]
    public async Task Latest_IsTheHighestNumber_ForgetAbove_ReAnchors_PruneBelow_IsBounded()
    {
        var store = await Factory.CreateAsync();
        await using var unitOfWork = await store.BeginAsync();
        foreach (var number in new long[] { 5, 1, 9, 3, 7 })
        {
            Assert.True(await unitOfWork.Chain.TryInsertBlockAsync(Block(Chain, number, (byte)number, (byte)(number - 1))));
        }

        Assert.True(await unitOfWork.Chain.TryInsertBlockAsync(Block(Chain + 1, 100, 0xEE, 0xED)));
        Assert.Equal(9, (await unitOfWork.Chain.GetLatestBlockAsync(Chain))!.Number);

        Assert.Equal(2, await unitOfWork.Chain.DeleteBlocksAboveAsync(Chain, 5)); // 7 and 9
        Assert.Equal(5, (await unitOfWork.Chain.GetLatestBlockAsync(Chain))!.Number);
        Assert.Equal(0, await unitOfWork.Chain.DeleteBlocksAboveAsync(Chain, 5));
        Assert.True(await unitOfWork.Chain.TryInsertBlockAsync(Block(Chain, 7, 0x77, 0x55))); // the canonical block at a forgotten height

        Assert.Equal(1, await unitOfWork.Chain.PruneBlocksBelowAsync(Chain, 5, limit: 1)); // the lowest first
        Assert.Null(await unitOfWork.Chain.GetBlockAsync(Chain, 1));
        Assert.NotNull(await unitOfWork.Chain.GetBlockAsync(Chain, 3));
        Assert.Equal(1, await unitOfWork.Chain.PruneBlocksBelowAsync(Chain, 5, limit: 10));
        Assert.Equal(0, await unitOfWork.Chain.PruneBlocksBelowAsync(Chain, 5, limit: 10));
        Assert.Equal(5, (await unitOfWork.Chain.GetBlockAsync(Chain, 5))!.Number);
        Assert.Equal(7, (await unitOfWork.Chain.GetLatestBlockAsync(Chain))!.Number);
        Assert.Equal(100, (await unitOfWork.Chain.GetLatestBlockAsync(Chain + 1))!.Number); // other chains untouched
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await unitOfWork.Chain.PruneBlocksBelowAsync(Chain, 5, limit: 0));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await unitOfWork.Chain.PruneBlocksBelowAsync(Chain, 5, limit: 10_001));
    }

    [Fact]
    public async Task DisposeWithoutCommit_KeepsNoInsertAndNoForgetting()
    {
        var store = await Factory.CreateAsync();
        await using (var write = await store.BeginAsync())
        {
            Assert.True(await write.Chain.TryInsertBlockAsync(Block(Chain, 1, 0x01, 0x00)));
            Assert.True(await write.Chain.TryInsertBlockAsync(Block(Chain, 2, 0x02, 0x01)));
            await write.CommitAsync();
        }

        await using (var discarded = await store.BeginAsync())
        {
            Assert.True(await discarded.Chain.TryInsertBlockAsync(Block(Chain, 3, 0x03, 0x02)));
            Assert.Equal(3, await discarded.Chain.DeleteBlocksAboveAsync(Chain, 0));
            Assert.Null(await discarded.Chain.GetLatestBlockAsync(Chain));
        }

        await using var check = await store.BeginAsync();
        Assert.Equal(2, (await check.Chain.GetLatestBlockAsync(Chain))!.Number);
        Assert.Equal(Hash(0x01), (await check.Chain.GetBlockAsync(Chain, 1))!.Hash);
    }

    private static ChainBlock Block(ulong chain, long number, byte hash, byte parent) =>
        new(chain, number, Hash(hash).ToUpperInvariant().Replace("0X", "0x", StringComparison.Ordinal), Hash(parent), Now.AddSeconds(12 * number).ToOffset(TimeSpan.FromHours(2)));

    private static string Hash(byte first) => "0x" + first.ToString("x2", System.Globalization.CultureInfo.InvariantCulture) + new string('0', 62);
}

public sealed class InMemoryChainStoreTests() : ChainStoreConformanceTests(new InMemoryStoreFactory());

public sealed class SqliteChainStoreTests() : ChainStoreConformanceTests(new SqliteStoreFactory());

[Collection(PostgresCollection.Name)]
public sealed class PostgresChainStoreTests(PostgresServerFixture server) : ChainStoreConformanceTests(new PostgresStoreFactory(server));
