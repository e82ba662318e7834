using Anpm.Abstractions;
using Anpm.Testing;
using static Anpm.Credits.Tests.LedgerFixture;

namespace Anpm.Credits.Tests;

public sealed class LedgerLinkedTests
{
    [Fact]
    public async Task LinkedChain_AllValid_AllCreatedAndEachSeesThePrevious()
    {
        var f = await new LedgerFixture().WithFundedUsersAsync(0, "a", "b");
        // b can only pay a because the first transfer of the chain funded it.
        var results = await f.Ledger.CreateTransfersAsync(
        [
            Move("t1", "mint", "b", 50, flags: TransferFlags.Linked),
            Move("t2", "b", "a", 50),
        ]);
        Assert.Equal([CreateTransferResult.Created, CreateTransferResult.Created], results);
        Assert.Equal((50UL, 0UL, 50UL), await f.BalanceAsync("a"));
        Assert.Equal((0UL, 0UL, 0UL), await f.BalanceAsync("b"));
        await LedgerAssert.InvariantHoldsAsync(f.Ledger);
    }

    [Fact]
    public async Task LinkedChain_OneFails_NoneAppliedAndOthersUnaffected()
    {
        var f = await new LedgerFixture().WithFundedUsersAsync(100, "a", "b");
        var results = await f.Ledger.CreateTransfersAsync(
        [
            Move("before", "a", "b", 1),
            Move("c1", "a", "b", 10, flags: TransferFlags.Linked),
            Move("c2", "a", "b", 10, flags: TransferFlags.Pending | TransferFlags.Linked),
            Move("c3", "b", "a", 500, flags: TransferFlags.Linked),
            Move("c4", "a", "b", 10),
            Move("after", "b", "a", 2),
        ]);
        Assert.Equal(
            [CreateTransferResult.Created, CreateTransferResult.LinkedEventFailed, CreateTransferResult.LinkedEventFailed,
             CreateTransferResult.ExceedsBalance, CreateTransferResult.LinkedEventFailed, CreateTransferResult.Created],
            results);
        Assert.Equal((101UL, 0UL, 101UL), await f.BalanceAsync("a"));
        Assert.Equal((99UL, 0UL, 99UL), await f.BalanceAsync("b"));
        foreach (var id in new[] { "c1", "c2", "c3", "c4" })
        {
            Assert.Null(await f.Ledger.GetTransferAsync(Tid(id)));
        }

        await LedgerAssert.InvariantHoldsAsync(f.Ledger);
    }

    [Fact]
    public async Task LinkedChain_InvalidRequestInside_FailsTheChain()
    {
        var f = await new LedgerFixture().WithFundedUsersAsync(100, "a", "b");
        var results = await f.Ledger.CreateTransfersAsync(
        [
            Move("c1", "a", "b", 10, flags: TransferFlags.Linked),
            Move("c2", "a", "b", 0),
        ]);
        Assert.Equal([CreateTransferResult.LinkedEventFailed, CreateTransferResult.AmountMustNotBeZero], results);
        Assert.Equal((100UL, 0UL, 100UL), await f.BalanceAsync("a"));
    }

    [Fact]
    public async Task LinkedChain_LeftOpenAtEndOfBatch_ChainOpenAndNothingApplied()
    {
        var f = await new LedgerFixture().WithFundedUsersAsync(100, "a", "b");
        var results = await f.Ledger.CreateTransfersAsync(
        [
            Move("solo", "a", "b", 1),
            Move("c1", "a", "b", 10, flags: TransferFlags.Linked),
            Move("c2", "a", "b", 10, flags: TransferFlags.Linked),
        ]);
        Assert.Equal([CreateTransferResult.Created, CreateTransferResult.LinkedEventFailed, CreateTransferResult.LinkedEventChainOpen], results);
        Assert.Equal((99UL, 0UL, 99UL), await f.BalanceAsync("a"));
    }

    [Fact]
    public async Task LinkedChain_PendingAndPostInOneChain_BothApplied()
    {
        var f = await new LedgerFixture().WithFundedUsersAsync(100, "a", "b");
        var results = await f.Ledger.CreateTransfersAsync(
        [
            Move("p", "a", "b", 40, flags: TransferFlags.Pending | TransferFlags.Linked),
            TransferRequest.PostPending(Tid("post"), Tid("p"), Kind, new TokenAmount(30)),
        ]);
        Assert.Equal([CreateTransferResult.Created, CreateTransferResult.Created], results);
        Assert.Equal((70UL, 0UL, 70UL), await f.BalanceAsync("a"));
        Assert.Equal(PendingTransferState.Posted, (await f.Ledger.GetTransferAsync(Tid("p")))!.State);
        await LedgerAssert.InvariantHoldsAsync(f.Ledger);
    }

    [Fact]
    public async Task LinkedChain_PostFailsAfterPendingChange_PendingStateRestored()
    {
        var f = await new LedgerFixture().WithFundedUsersAsync(100, "a", "b");
        Assert.Equal(CreateTransferResult.Created, await f.Ledger.CreateTransferAsync(Move("p", "a", "b", 40, flags: TransferFlags.Pending)));
        var results = await f.Ledger.CreateTransfersAsync(
        [
            TransferRequest.VoidPending(Tid("void"), Tid("p"), Kind) with { Flags = TransferFlags.VoidPending | TransferFlags.Linked },
            Move("big", "a", "b", 1000),
        ]);
        Assert.Equal([CreateTransferResult.LinkedEventFailed, CreateTransferResult.ExceedsBalance], results);
        Assert.Equal(PendingTransferState.Pending, (await f.Ledger.GetTransferAsync(Tid("p")))!.State);
        Assert.Equal((100UL, 40UL, 60UL), await f.BalanceAsync("a"));
        await LedgerAssert.InvariantHoldsAsync(f.Ledger);
    }

    [Fact]
    public async Task Batch_SameIdTwice_SecondIsExists()
    {
        var f = await new LedgerFixture().WithFundedUsersAsync(100, "a", "b");
        var results = await f.Ledger.CreateTransfersAsync([Move("t", "a", "b", 5), Move("t", "a", "b", 5), Move("t", "a", "b", 6)]);
        Assert.Equal([CreateTransferResult.Created, CreateTransferResult.Exists, CreateTransferResult.ExistsWithDifferentFields], results);
        Assert.Equal((95UL, 0UL, 95UL), await f.BalanceAsync("a"));
    }

    [Fact]
    public async Task LinkedChain_ReplayedWhole_EveryTransferExistsAndNothingChanges()
    {
        var f = await new LedgerFixture().WithFundedUsersAsync(100, "a", "b");
        TransferRequest[] chain = [Move("c1", "a", "b", 10, flags: TransferFlags.Linked), Move("c2", "b", "a", 3)];
        Assert.Equal([CreateTransferResult.Created, CreateTransferResult.Created], await f.Ledger.CreateTransfersAsync(chain));
        Assert.Equal([CreateTransferResult.Exists, CreateTransferResult.Exists], await f.Ledger.CreateTransfersAsync(chain));
        Assert.Equal((93UL, 0UL, 93UL), await f.BalanceAsync("a"));
        await LedgerAssert.InvariantHoldsAsync(f.Ledger);
    }
}
