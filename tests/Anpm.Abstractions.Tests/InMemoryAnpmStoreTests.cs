using Anpm.Abstractions;

namespace Anpm.Abstractions.Tests;

public sealed class InMemoryAnpmStoreTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 21, 0, 0, 0, TimeSpan.Zero);

    private static LedgerAccount Account(string id) =>
        LedgerAccount.Create(new NewAccount(AccountId.Parse(id), WellKnownAssets.Apus, AccountFlags.None), Now);

    private static Transfer Pending(string id, int expiresInSeconds) => new()
    {
        Id = TransferId.Parse(id),
        DebitAccountId = AccountId.Parse("a"),
        CreditAccountId = AccountId.Parse("b"),
        Asset = WellKnownAssets.Apus,
        Amount = new TokenAmount(5),
        Kind = TransferKind.Parse("hold"),
        Reference = string.Empty,
        Flags = TransferFlags.Pending,
        Timestamp = Now,
        ExpiresAt = Now.AddSeconds(expiresInSeconds),
        State = PendingTransferState.Pending,
    };

    [Fact]
    public async Task DisposeWithoutCommit_RestoresEverythingItFound()
    {
        var store = new InMemoryAnpmStore();
        await using (var setup = await store.BeginAsync())
        {
            Assert.True(await setup.Ledger.TryInsertAccountAsync(Account("a")));
            Assert.True(await setup.Ledger.TryInsertAccountAsync(Account("b")));
            Assert.True(await setup.Ledger.TryInsertTransferAsync(Pending("p1", 10)));
            await setup.CommitAsync();
        }

        await using (var discarded = await store.BeginAsync())
        {
            var ledger = discarded.Ledger;
            Assert.True(await ledger.TryInsertAccountAsync(Account("c")));
            await ledger.UpdateAccountTotalsAsync(AccountId.Parse("a"), default(AccountTotals) with { DebitsPending = new TokenAmount(9) });
            Assert.True(await ledger.TryInsertTransferAsync(Pending("p2", 5)));
            await ledger.UpdatePendingStateAsync(TransferId.Parse("p1"), PendingTransferState.Voided);
            Assert.Equal(new TokenAmount(9), (await ledger.GetAccountAsync(AccountId.Parse("a")))!.DebitsPending);
            Assert.Equal(PendingTransferState.Voided, (await ledger.GetTransferAsync(TransferId.Parse("p1")))!.State);
            Assert.Equal(["p2"], (await ledger.GetExpiredPendingTransfersAsync(Now.AddSeconds(10), 10)).Select(t => t.Id.ToString()));
        }

        await using var check = await store.BeginAsync();
        Assert.Null(await check.Ledger.GetAccountAsync(AccountId.Parse("c")));
        Assert.Equal(TokenAmount.Zero, (await check.Ledger.GetAccountAsync(AccountId.Parse("a")))!.DebitsPending);
        Assert.Null(await check.Ledger.GetTransferAsync(TransferId.Parse("p2")));
        Assert.Equal(PendingTransferState.Pending, (await check.Ledger.GetTransferAsync(TransferId.Parse("p1")))!.State);
        Assert.Equal(["p1"], (await check.Ledger.GetExpiredPendingTransfersAsync(Now.AddSeconds(10), 10)).Select(t => t.Id.ToString()));
        var history = await check.Ledger.GetAccountHistoryAsync(AccountId.Parse("a"), null, 10);
        Assert.Equal([(1L, "p1")], history.Select(e => (e.Sequence, e.Transfer.Id.ToString())));
    }

    [Fact]
    public async Task DuplicateIds_RefusedWithoutChange()
    {
        var store = new InMemoryAnpmStore();
        await using var unitOfWork = await store.BeginAsync();
        Assert.True(await unitOfWork.Ledger.TryInsertAccountAsync(Account("a")));
        Assert.False(await unitOfWork.Ledger.TryInsertAccountAsync(Account("a") with { Flags = AccountFlags.DebitsMustNotExceedCredits }));
        Assert.Equal(AccountFlags.None, (await unitOfWork.Ledger.GetAccountAsync(AccountId.Parse("a")))!.Flags);
        Assert.True(await unitOfWork.Ledger.TryInsertAccountAsync(Account("b")));
        Assert.True(await unitOfWork.Ledger.TryInsertTransferAsync(Pending("p", 1)));
        Assert.False(await unitOfWork.Ledger.TryInsertTransferAsync(Pending("p", 2)));
        Assert.Single(await unitOfWork.Ledger.GetAccountHistoryAsync(AccountId.Parse("a"), null, 10));
    }

    [Fact]
    public async Task UnitsOfWork_RunOneAtATime()
    {
        var store = new InMemoryAnpmStore();
        var first = await store.BeginAsync();
        var second = store.BeginAsync().AsTask();
        await Task.Delay(50);
        Assert.False(second.IsCompleted);
        await first.DisposeAsync();
        await (await second).DisposeAsync();
    }

    [Fact]
    public async Task AfterCommitOrDispose_FurtherUseRefused()
    {
        var store = new InMemoryAnpmStore();
        var unitOfWork = await store.BeginAsync();
        await unitOfWork.CommitAsync();
        await Assert.ThrowsAsync<InvalidOperationException>(async () => await unitOfWork.Ledger.TryInsertAccountAsync(Account("a")));
        await unitOfWork.DisposeAsync();
        await unitOfWork.DisposeAsync();
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await unitOfWork.Ledger.GetAccountAsync(AccountId.Parse("a")));
    }

    [Fact]
    public async Task UpdatesOfMissingRecords_ThrowAnpmException()
    {
        var store = new InMemoryAnpmStore();
        await using var unitOfWork = await store.BeginAsync();
        await Assert.ThrowsAsync<AnpmException>(async () => await unitOfWork.Ledger.UpdateAccountTotalsAsync(AccountId.Parse("x"), default));
        await Assert.ThrowsAsync<AnpmException>(async () => await unitOfWork.Ledger.UpdatePendingStateAsync(TransferId.Parse("x"), PendingTransferState.Voided));
        await Assert.ThrowsAsync<AnpmException>(async () => await unitOfWork.Ledger.TryInsertTransferAsync(Pending("p", 1)));
    }
}
