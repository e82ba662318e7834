using System.Numerics;
using Anpm.Abstractions;

namespace Anpm.Storage.Conformance;

/// <summary>The ledger store and its units of work: atomicity, unique ids, versions, exact amounts, queries.</summary>
public abstract class LedgerStoreConformanceTests(StoreFactory factory) : ConformanceSuite(factory)
{
    private static LedgerAccount Account(string id, AccountFlags flags = AccountFlags.None) =>
        LedgerAccount.Create(new NewAccount(Id(id), WellKnownAssets.Apus, flags), Now);

    private static Transfer Pending(string id, int expiresInSeconds, ulong amount = 5) => new()
    {
        Id = Tid(id),
        DebitAccountId = Id("a"),
        CreditAccountId = Id("b"),
        Asset = WellKnownAssets.Apus,
        Amount = new TokenAmount(amount),
        Kind = TransferKind.Parse("hold"),
        Reference = "ref " + id,
        Flags = TransferFlags.Pending,
        TimeoutSeconds = (uint)expiresInSeconds,
        Timestamp = Now,
        ExpiresAt = Now.AddSeconds(expiresInSeconds),
        State = PendingTransferState.Pending,
    };

    private async Task<IAnpmStore> StoreWithAccountsAsync(params string[] ids)
    {
        var store = await Factory.CreateAsync();
        await using var unitOfWork = await store.BeginAsync();
        foreach (var id in ids)
        {
            Assert.True(await unitOfWork.Ledger.TryInsertAccountAsync(Account(id)));
        }

        await unitOfWork.CommitAsync();
        return store;
    }

    [Fact]
    public async Task Commit_MakesEveryChangeVisibleToTheNextUnitOfWork()
    {
        var store = await StoreWithAccountsAsync("a", "b");
        await using (var write = await store.BeginAsync())
        {
            await write.Ledger.UpdateAccountTotalsAsync(Id("a"), 0, new AccountTotals(default, new TokenAmount(3), default, new TokenAmount(4)));
            Assert.True(await write.Ledger.TryInsertTransferAsync(Pending("p1", 10)));
            await write.CommitAsync();
        }

        await using var read = await store.BeginAsync();
        var a = (await read.Ledger.GetAccountAsync(Id("a")))!;
        Assert.Equal((new TokenAmount(3), new TokenAmount(4), 1L), (a.CreditsPosted, a.CreditsPending, a.Version));
        Assert.Equal(Pending("p1", 10), await read.Ledger.GetTransferAsync(Tid("p1")));
    }

    [Fact]
    public async Task DisposeWithoutCommit_KeepsNothingOfTheUnitOfWork()
    {
        var store = await StoreWithAccountsAsync("a", "b");
        await using (var setup = await store.BeginAsync())
        {
            Assert.True(await setup.Ledger.TryInsertTransferAsync(Pending("p1", 10)));
            await setup.CommitAsync();
        }

        await using (var discarded = await store.BeginAsync())
        {
            var ledger = discarded.Ledger;
            Assert.True(await ledger.TryInsertAccountAsync(Account("c")));
            await ledger.UpdateAccountTotalsAsync(Id("a"), 0, new AccountTotals(default, default, new TokenAmount(9), default));
            Assert.True(await ledger.TryInsertTransferAsync(Pending("p2", 5)));
            await ledger.UpdatePendingStateAsync(Tid("p1"), PendingTransferState.Voided);
            Assert.Equal(new TokenAmount(9), (await ledger.GetAccountAsync(Id("a")))!.DebitsPending);
            Assert.Equal(PendingTransferState.Voided, (await ledger.GetTransferAsync(Tid("p1")))!.State);
            Assert.Equal(["p2"], (await ledger.GetExpiredPendingTransfersAsync(Now.AddSeconds(10), 10)).Select(t => t.Id.ToString()));
        }

        await using var check = await store.BeginAsync();
        Assert.Null(await check.Ledger.GetAccountAsync(Id("c")));
        var a = (await check.Ledger.GetAccountAsync(Id("a")))!;
        Assert.Equal((TokenAmount.Zero, 0L), (a.DebitsPending, a.Version));
        Assert.Null(await check.Ledger.GetTransferAsync(Tid("p2")));
        Assert.Equal(PendingTransferState.Pending, (await check.Ledger.GetTransferAsync(Tid("p1")))!.State);
        Assert.Equal(["p1"], (await check.Ledger.GetExpiredPendingTransfersAsync(Now.AddSeconds(10), 10)).Select(t => t.Id.ToString()));
        Assert.Equal(["p1"], (await check.Ledger.GetAccountHistoryAsync(Id("a"), null, 10)).Select(e => e.Transfer.Id.ToString()));
    }

    [Fact]
    public async Task DuplicateIds_RefusedWithoutChange()
    {
        var store = await StoreWithAccountsAsync("a", "b");
        await using var unitOfWork = await store.BeginAsync();
        Assert.False(await unitOfWork.Ledger.TryInsertAccountAsync(Account("a", AccountFlags.DebitsMustNotExceedCredits)));
        Assert.Equal(AccountFlags.None, (await unitOfWork.Ledger.GetAccountAsync(Id("a")))!.Flags);
        Assert.True(await unitOfWork.Ledger.TryInsertTransferAsync(Pending("p", 1)));
        Assert.False(await unitOfWork.Ledger.TryInsertTransferAsync(Pending("p", 2, amount: 7)));
        Assert.Equal(new TokenAmount(5), (await unitOfWork.Ledger.GetTransferAsync(Tid("p")))!.Amount);
        Assert.Single(await unitOfWork.Ledger.GetAccountHistoryAsync(Id("a"), null, 10));
    }

    [Fact]
    public async Task UpdateTotals_StaleVersion_LostRaceAndNoChange()
    {
        var store = await StoreWithAccountsAsync("a");
        await using var unitOfWork = await store.BeginAsync();
        await unitOfWork.Ledger.UpdateAccountTotalsAsync(Id("a"), 0, new AccountTotals(default, new TokenAmount(1), default, default));
        await RefusedByOrAfterAsync<AnpmConcurrencyException>(unitOfWork, async () =>
            await unitOfWork.Ledger.UpdateAccountTotalsAsync(Id("a"), 0, new AccountTotals(default, new TokenAmount(2), default, default)));
        Assert.Equal((new TokenAmount(1), 1L), ((await unitOfWork.Ledger.GetAccountAsync(Id("a")))!.CreditsPosted, (await unitOfWork.Ledger.GetAccountAsync(Id("a")))!.Version));
    }

    [Fact]
    public async Task LargestAmounts_RoundTripExactlyAndSumBeyond128Bits()
    {
        var store = await StoreWithAccountsAsync("a", "b", "c");
        var max = TokenAmount.MaxValue;
        await using (var write = await store.BeginAsync())
        {
            await write.Ledger.UpdateAccountTotalsAsync(Id("a"), 0, new AccountTotals(max, max, max, max));
            await write.Ledger.UpdateAccountTotalsAsync(Id("b"), 0, new AccountTotals(max, new TokenAmount(1), default, default));
            Assert.True(await write.Ledger.TryInsertTransferAsync(Pending("p", 1) with { Amount = max }));
            await write.CommitAsync();
        }

        await using var read = await store.BeginAsync();
        Assert.Equal(new AccountTotals(max, max, max, max), (await read.Ledger.GetAccountAsync(Id("a")))!.Totals);
        Assert.Equal(max, (await read.Ledger.GetTransferAsync(Tid("p")))!.Amount);
        var totals = Assert.Single(await read.Ledger.GetAssetTotalsAsync());
        var maxValue = (BigInteger)UInt128.MaxValue;
        Assert.Equal(new AssetTotals(WellKnownAssets.Apus, 3, 2 * maxValue, maxValue + 1, maxValue, maxValue, 0), totals);
    }

    [Fact]
    public async Task AssetTotals_PerAssetWithNegativeUserAccountsCounted()
    {
        var store = await Factory.CreateAsync();
        await using var unitOfWork = await store.BeginAsync();
        var ledger = unitOfWork.Ledger;
        Assert.True(await ledger.TryInsertAccountAsync(LedgerAccount.Create(new NewAccount(Id("u1"), WellKnownAssets.Credit, AccountFlags.DebitsMustNotExceedCredits), Now)));
        Assert.True(await ledger.TryInsertAccountAsync(LedgerAccount.Create(new NewAccount(Id("u2"), WellKnownAssets.Credit, AccountFlags.DebitsMustNotExceedCredits), Now)));
        Assert.True(await ledger.TryInsertAccountAsync(Account("mint")));
        await ledger.UpdateAccountTotalsAsync(Id("u1"), 0, new AccountTotals(new TokenAmount(5), new TokenAmount(9), new TokenAmount(5), default));
        await ledger.UpdateAccountTotalsAsync(Id("mint"), 0, new AccountTotals(new TokenAmount(7), default, default, default));
        Assert.Equal(
            [
                new AssetTotals(WellKnownAssets.Apus, 1, 7, 0, 0, 0, 0),
                new AssetTotals(WellKnownAssets.Credit, 2, 5, 9, 5, 0, 1),
            ],
            await ledger.GetAssetTotalsAsync());
    }

    [Fact]
    public async Task History_NewestFirstPagedBySequence()
    {
        var store = await StoreWithAccountsAsync("a", "b", "c");
        await using var unitOfWork = await store.BeginAsync();
        for (var i = 0; i < 5; i++)
        {
            var transfer = Pending("t" + i, 100) with { CreditAccountId = Id(i % 2 == 0 ? "b" : "c") };
            Assert.True(await unitOfWork.Ledger.TryInsertTransferAsync(transfer));
        }

        var all = await unitOfWork.Ledger.GetAccountHistoryAsync(Id("a"), null, 10);
        Assert.Equal(["t4", "t3", "t2", "t1", "t0"], all.Select(e => e.Transfer.Id.ToString()));
        Assert.True(all.Zip(all.Skip(1)).All(pair => pair.First.Sequence > pair.Second.Sequence));
        var page = await unitOfWork.Ledger.GetAccountHistoryAsync(Id("a"), all[1].Sequence, 2);
        Assert.Equal(["t2", "t1"], page.Select(e => e.Transfer.Id.ToString()));
        Assert.Equal(["t4", "t2", "t0"], (await unitOfWork.Ledger.GetAccountHistoryAsync(Id("b"), null, 10)).Select(e => e.Transfer.Id.ToString()));
        Assert.Empty(await unitOfWork.Ledger.GetAccountHistoryAsync(Id("nobody"), null, 10));
    }

    [Fact]
    public async Task ExpiredPending_EarliestFirstLimitedAndOnlyStillPending()
    {
        var store = await StoreWithAccountsAsync("a", "b");
        await using var unitOfWork = await store.BeginAsync();
        foreach (var (id, seconds) in new[] { ("late", 30), ("early", 10), ("mid", 20), ("future", 100) })
        {
            Assert.True(await unitOfWork.Ledger.TryInsertTransferAsync(Pending(id, seconds)));
        }

        Assert.True(await unitOfWork.Ledger.TryInsertTransferAsync(Pending("never", 0) with { ExpiresAt = null }));
        await unitOfWork.Ledger.UpdatePendingStateAsync(Tid("mid"), PendingTransferState.Posted);
        var expired = await unitOfWork.Ledger.GetExpiredPendingTransfersAsync(Now.AddSeconds(30), 10);
        Assert.Equal(["early", "late"], expired.Select(t => t.Id.ToString()));
        Assert.Single(await unitOfWork.Ledger.GetExpiredPendingTransfersAsync(Now.AddSeconds(30), 1));
    }

    [Fact]
    public async Task AfterCommitOrDispose_FurtherUseRefused()
    {
        var store = await Factory.CreateAsync();
        var unitOfWork = await store.BeginAsync();
        await unitOfWork.CommitAsync();
        await Assert.ThrowsAsync<InvalidOperationException>(async () => await unitOfWork.Ledger.TryInsertAccountAsync(Account("a")));
        await unitOfWork.DisposeAsync();
        await unitOfWork.DisposeAsync();
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await unitOfWork.Ledger.GetAccountAsync(Id("a")));
        await using var next = await store.BeginAsync();
        Assert.Null(await next.Ledger.GetAccountAsync(Id("a")));
    }

    [Fact]
    public async Task UpdatesOfMissingRecords_ThrowAnpmException()
    {
        var store = await StoreWithAccountsAsync("a");
        await using var unitOfWork = await store.BeginAsync();
        await RefusedByOrAfterAsync<AnpmException>(unitOfWork, async () => await unitOfWork.Ledger.UpdateAccountTotalsAsync(Id("x"), 0, default));
        await RefusedByOrAfterAsync<AnpmException>(unitOfWork, async () => await unitOfWork.Ledger.UpdatePendingStateAsync(Tid("x"), PendingTransferState.Voided));
    }

    [Fact]
    public async Task TransferNamingUnknownAccount_ThrowsAnpmException()
    {
        var store = await StoreWithAccountsAsync("a");
        await using var unitOfWork = await store.BeginAsync();
        await Assert.ThrowsAnyAsync<AnpmException>(async () => await unitOfWork.Ledger.TryInsertTransferAsync(Pending("p", 1)));
    }

    [Fact]
    public async Task GetAccountsForUpdate_ReturnsThoseThatExistInIdOrder()
    {
        var store = await StoreWithAccountsAsync("b", "a", "c");
        await using var unitOfWork = await store.BeginAsync();
        var accounts = await unitOfWork.Ledger.GetAccountsForUpdateAsync([Id("a"), Id("b"), Id("missing"), Id("x")]);
        Assert.Equal(["a", "b"], accounts.Select(a => a.Id.ToString()));
        Assert.Equal(new LockedAccount(Id("a"), WellKnownAssets.Apus, AccountFlags.None, 0, default), accounts[0]);
        Assert.Empty(await unitOfWork.Ledger.GetAccountsForUpdateAsync([]));
    }

    [Fact]
    public async Task DefaultIds_FindNothing()
    {
        var store = await StoreWithAccountsAsync("a");
        await using var unitOfWork = await store.BeginAsync();
        Assert.Null(await unitOfWork.Ledger.GetAccountAsync(default));
        Assert.Null(await unitOfWork.Ledger.GetTransferAsync(default));
    }
}

public sealed class InMemoryLedgerStoreTests() : LedgerStoreConformanceTests(new InMemoryStoreFactory());

public sealed class SqliteLedgerStoreTests() : LedgerStoreConformanceTests(new SqliteStoreFactory());

[Collection(PostgresCollection.Name)]
public sealed class PostgresLedgerStoreTests(PostgresServerFixture server) : LedgerStoreConformanceTests(new PostgresStoreFactory(server));
