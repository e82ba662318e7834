using System.Numerics;
using Anpm.Abstractions;

namespace Anpm.Storage.Conformance;

/// <summary>
/// Hot wallets' nonces and signed transactions: one transfer per nonce and one nonce per transfer round (atomic inserts),
/// round trips (fees beyond 64 bits), open nonces lowest first, the highest nonce, optimistic versions, atomicity, and
/// two store instances racing for the same nonce.
/// </summary>
public abstract class ChainNonceConformanceTests(StoreFactory factory) : ConformanceSuite(factory)
{
    private const ulong Chain = 31337;
    private static readonly Address Wallet = Address.Parse("0x70997970c51812dc3a010c7d01b50e0d17dc79c8");
    private static readonly Address OtherWallet = Address.Parse("0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc");

    [Fact]
    public async Task Reserve_RoundTrips_ANonceTakenOrATransferRoundTaken_IsRefused()
    {
        var store = await Factory.CreateAsync();
        await using (var write = await store.BeginAsync())
        {
            Assert.Null(await write.Chain.GetHighestNonceAsync(Chain, Wallet));
            Assert.True(await write.Chain.TryReserveNonceAsync(Nonce(7, "payout:a")));
            Assert.False(await write.Chain.TryReserveNonceAsync(Nonce(7, "payout:b"))); // the nonce is taken
            Assert.False(await write.Chain.TryReserveNonceAsync(Nonce(8, "payout:a"))); // the transfer has round 0
            Assert.True(await write.Chain.TryReserveNonceAsync(Nonce(8, "payout:a", round: 1)));
            Assert.True(await write.Chain.TryReserveNonceAsync(Nonce(7, "payout:c") with { Wallet = OtherWallet }));
            Assert.True(await write.Chain.TryReserveNonceAsync(Nonce(7, "payout:d") with { ChainId = 1 }));
            await write.CommitAsync();
        }

        var reopened = await Factory.OpenAnotherInstanceAsync(store);
        await using var read = await reopened.BeginReadAsync();
        Assert.Equal(Nonce(7, "payout:a"), await read.Chain.GetNonceAsync(Chain, Wallet, 7));
        Assert.Equal(Nonce(8, "payout:a", round: 1), await read.Chain.GetLatestNonceOfTransferAsync(Chain, Tid("payout:a")));
        Assert.Null(await read.Chain.GetLatestNonceOfTransferAsync(Chain, Tid("payout:none")));
        Assert.Null(await read.Chain.GetLatestNonceOfTransferAsync(5, Tid("payout:a")));
        Assert.Null(await read.Chain.GetNonceAsync(Chain, Wallet, 9));
        Assert.Equal(8, await read.Chain.GetHighestNonceAsync(Chain, Wallet));
        Assert.Equal(7, await read.Chain.GetHighestNonceAsync(Chain, OtherWallet));
        Assert.Null(await read.Chain.GetHighestNonceAsync(0, Wallet));
    }

    [Fact]
    public async Task OpenNonces_LowestFirst_Limited_Update_IsVersioned()
    {
        var store = await Factory.CreateAsync();
        await using var unitOfWork = await store.BeginAsync();
        foreach (var nonce in new long[] { 4, 2, 3, 5 })
        {
            Assert.True(await unitOfWork.Chain.TryReserveNonceAsync(Nonce(nonce, "t" + nonce)));
        }

        var three = (await unitOfWork.Chain.GetNonceAsync(Chain, Wallet, 3))!;
        var confirmed = three with { State = ChainNonceState.Confirmed, FinalHash = Hash(0x33) };
        await unitOfWork.Chain.UpdateNonceAsync(confirmed, 0);
        Assert.Equal(confirmed with { Version = 1 }, await unitOfWork.Chain.GetNonceAsync(Chain, Wallet, 3));
        Assert.Equal(confirmed with { Version = 1 }, await unitOfWork.Chain.GetLatestNonceOfTransferAsync(Chain, Tid("t3")));
        Assert.Equal([2L, 4, 5], (await unitOfWork.Chain.GetOpenNoncesAsync(Chain, Wallet, 10)).Select(n => n.Nonce));
        Assert.Equal([2L, 4], (await unitOfWork.Chain.GetOpenNoncesAsync(Chain, Wallet, 2)).Select(n => n.Nonce));
        Assert.Empty(await unitOfWork.Chain.GetOpenNoncesAsync(Chain, OtherWallet, 10));
        await RefusedByOrAfterAsync<AnpmConcurrencyException>(unitOfWork, async () => await unitOfWork.Chain.UpdateNonceAsync(confirmed, 0));
        await RefusedByOrAfterAsync<AnpmException>(unitOfWork, async () => await unitOfWork.Chain.UpdateNonceAsync(Nonce(99, "none"), 0));
    }

    [Fact]
    public async Task Transactions_RoundTripByAttempt_AnAttemptOrAHashTaken_IsRefused()
    {
        var store = await Factory.CreateAsync();
        var huge = BigInteger.Pow(2, 200) + 12_345;
        await using (var write = await store.BeginAsync())
        {
            Assert.True(await write.Chain.TryReserveNonceAsync(Nonce(0, "payout:a")));
            Assert.True(await write.Chain.TryAddTransactionAsync(Transaction(0, 1, 0xB1) with { Kind = ChainTransactionKind.Cancellation }));
            Assert.True(await write.Chain.TryAddTransactionAsync(Transaction(0, 0, 0xA1) with { MaxFeePerGas = huge }));
            Assert.False(await write.Chain.TryAddTransactionAsync(Transaction(0, 1, 0xC1))); // the attempt is taken
            Assert.False(await write.Chain.TryAddTransactionAsync(Transaction(0, 2, 0xA1))); // the hash is taken
            await write.CommitAsync();
        }

        var reopened = await Factory.OpenAnotherInstanceAsync(store);
        await using var read = await reopened.BeginReadAsync();
        var stored = await read.Chain.GetTransactionsAsync(Chain, Wallet, 0);
        Assert.Equal([Transaction(0, 0, 0xA1) with { MaxFeePerGas = huge }, Transaction(0, 1, 0xB1) with { Kind = ChainTransactionKind.Cancellation }], stored);
        Assert.Empty(await read.Chain.GetTransactionsAsync(Chain, Wallet, 1));
        Assert.Empty(await read.Chain.GetTransactionsAsync(Chain, OtherWallet, 0));
    }

    [Fact]
    public async Task AmountsReservedSince_EachTransferOnce_OnlyThisWallet_OnlySinceTheTime()
    {
        var store = await Factory.CreateAsync();
        await using (var write = await store.BeginAsync())
        {
            foreach (var (id, amount) in new[] { ("old", 1UL), ("a", 20UL), ("b", 300UL), ("other", 4000UL) })
            {
                Assert.True(await write.Outbox.TryInsertOutgoingAsync(new OutgoingTransfer
                {
                    Id = Tid(id), To = OtherWallet, Asset = WellKnownAssets.Apus, Amount = new TokenAmount(amount), Kind = TransferKind.Parse("payout"),
                    Reference = string.Empty, State = OutgoingTransferState.Dispatched, CreatedAt = Now, NextAttemptAt = Now,
                }));
            }

            Assert.True(await write.Chain.TryReserveNonceAsync(Nonce(0, "old") with { ReservedAt = Now.AddHours(-30) }));
            Assert.True(await write.Chain.TryReserveNonceAsync(Nonce(1, "a") with { ReservedAt = Now.AddHours(-2) }));
            Assert.True(await write.Chain.TryReserveNonceAsync(Nonce(2, "a", round: 1) with { ReservedAt = Now.AddHours(-1) })); // a's second nonce
            Assert.True(await write.Chain.TryReserveNonceAsync(Nonce(3, "b") with { ReservedAt = Now.AddHours(-24) })); // exactly at the bound
            Assert.True(await write.Chain.TryReserveNonceAsync(Nonce(0, "other") with { Wallet = OtherWallet, ReservedAt = Now }));
            await write.CommitAsync();
        }

        await using var read = await store.BeginReadAsync();
        var amounts = await read.Chain.GetAmountsReservedSinceAsync(Chain, Wallet, Now.AddHours(-24));
        Assert.Equal([20UL, 300UL], amounts.Select(a => (ulong)a.BaseUnits).Order());
        Assert.Empty(await read.Chain.GetAmountsReservedSinceAsync(Chain, Wallet, Now.AddHours(1)));
        Assert.Empty(await read.Chain.GetAmountsReservedSinceAsync(1, Wallet, Now.AddDays(-9)));
    }

    [Fact]
    public async Task DisposeWithoutCommit_KeepsNoNonceNorTransaction()
    {
        var store = await Factory.CreateAsync();
        await using (var setup = await store.BeginAsync())
        {
            Assert.True(await setup.Chain.TryReserveNonceAsync(Nonce(0, "kept")));
            await setup.CommitAsync();
        }

        await using (var discarded = await store.BeginAsync())
        {
            Assert.True(await discarded.Chain.TryReserveNonceAsync(Nonce(1, "gone")));
            Assert.True(await discarded.Chain.TryAddTransactionAsync(Transaction(1, 0, 0x11)));
            await discarded.Chain.UpdateNonceAsync(Nonce(0, "kept") with { State = ChainNonceState.Released }, 0);
        }

        await using var check = await store.BeginAsync();
        Assert.Null(await check.Chain.GetNonceAsync(Chain, Wallet, 1));
        Assert.Empty(await check.Chain.GetTransactionsAsync(Chain, Wallet, 1));
        Assert.Equal(Nonce(0, "kept"), await check.Chain.GetNonceAsync(Chain, Wallet, 0));
        Assert.Equal(0, await check.Chain.GetHighestNonceAsync(Chain, Wallet));
        Assert.True(await check.Chain.TryReserveNonceAsync(Nonce(1, "again")));
        Assert.True(await check.Chain.TryAddTransactionAsync(Transaction(1, 0, 0x11)));
    }

    [Fact]
    public async Task TwoInstances_RacingForOneNonce_OnlyOneKeepsIt()
    {
        var first = await Factory.CreateAsync();
        var second = await Factory.OpenAnotherInstanceAsync(first);
        var outcomes = await Task.WhenAll(
            Enumerable.Range(0, 8).Select(i => Task.Run(async () =>
            {
                try
                {
                    return await (i % 2 == 0 ? first : second).RunAsync(i, static async (unitOfWork, i, ct) =>
                        await unitOfWork.Chain.TryReserveNonceAsync(Nonce(0, "racer-" + i), ct));
                }
                catch (AnpmConcurrencyException)
                {
                    return false;
                }
            })));
        Assert.Equal(1, outcomes.Count(kept => kept));
    }

    private static ChainNonce Nonce(long nonce, string transfer, int round = 0) => new()
    {
        ChainId = Chain,
        Wallet = Wallet,
        Nonce = nonce,
        TransferId = Tid(transfer),
        Round = round,
        State = ChainNonceState.Open,
        ReservedAt = Now.AddSeconds(nonce),
    };

    private static ChainTransaction Transaction(long nonce, int attempt, byte hash) => new()
    {
        ChainId = Chain,
        Wallet = Wallet,
        Nonce = nonce,
        Attempt = attempt,
        Kind = ChainTransactionKind.Payment,
        Hash = Hash(hash),
        RawTransaction = "0x02f8" + hash.ToString("x2", System.Globalization.CultureInfo.InvariantCulture),
        MaxFeePerGas = 30_000_000_000 + attempt,
        MaxPriorityFeePerGas = 1_000_000_000,
        SignedAt = Now.AddSeconds(attempt),
    };

    private static string Hash(byte first) => "0x" + first.ToString("x2", System.Globalization.CultureInfo.InvariantCulture) + new string('0', 62);
}

public sealed class InMemoryChainNonceTests() : ChainNonceConformanceTests(new InMemoryStoreFactory());

public sealed class SqliteChainNonceTests() : ChainNonceConformanceTests(new SqliteStoreFactory());

[Collection(PostgresCollection.Name)]
public sealed class PostgresChainNonceTests(PostgresServerFixture server) : ChainNonceConformanceTests(new PostgresStoreFactory(server));
