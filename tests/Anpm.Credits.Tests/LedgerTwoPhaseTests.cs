using Anpm.Abstractions;
using Anpm.Testing;
using static Anpm.Credits.Tests.LedgerFixture;

namespace Anpm.Credits.Tests;

public sealed class LedgerTwoPhaseTests
{
    private static TransferRequest Hold(string id, ulong amount, uint timeoutSeconds = 0) =>
        Move(id, "a", "b", amount, flags: TransferFlags.Pending, timeoutSeconds: timeoutSeconds);

    [Fact]
    public async Task Pending_ReservesWithoutMoving()
    {
        var f = await new LedgerFixture().WithFundedUsersAsync(100, "a", "b");
        Assert.Equal(CreateTransferResult.Created, await f.Ledger.CreateTransferAsync(Hold("p", 60)));
        Assert.Equal((100UL, 60UL, 40UL), await f.BalanceAsync("a"));
        Assert.Equal(new TokenAmount(60), (await f.AccountAsync("b")).CreditsPending);
        Assert.Equal(CreateTransferResult.ExceedsBalance, await f.Ledger.CreateTransferAsync(Move("t", "a", "b", 41)));
        Assert.Equal(CreateTransferResult.ExceedsBalance, await f.Ledger.CreateTransferAsync(Hold("p2", 41)));
        Assert.Equal(PendingTransferState.Pending, (await f.Ledger.GetTransferAsync(Tid("p")))!.State);
        await LedgerAssert.InvariantHoldsAsync(f.Ledger);
    }

    [Fact]
    public async Task Post_Full_MovesTheReservedAmount()
    {
        var f = await new LedgerFixture().WithFundedUsersAsync(100, "a", "b");
        await f.Ledger.CreateTransferAsync(Hold("p", 60));
        Assert.Equal(CreateTransferResult.Created, await f.Ledger.CreateTransferAsync(TransferRequest.PostPending(Tid("post"), Tid("p"), Kind)));
        Assert.Equal((40UL, 0UL, 40UL), await f.BalanceAsync("a"));
        Assert.Equal((160UL, 0UL, 160UL), await f.BalanceAsync("b"));
        var post = (await f.Ledger.GetTransferAsync(Tid("post")))!;
        Assert.Equal((Id("a"), Id("b"), new TokenAmount(60), Tid("p")), (post.DebitAccountId, post.CreditAccountId, post.Amount, post.PendingId));
        Assert.Equal(PendingTransferState.Posted, (await f.Ledger.GetTransferAsync(Tid("p")))!.State);
        await LedgerAssert.InvariantHoldsAsync(f.Ledger);
    }

    [Fact]
    public async Task Post_Partial_MovesPartAndReleasesTheRest()
    {
        var f = await new LedgerFixture().WithFundedUsersAsync(100, "a", "b");
        await f.Ledger.CreateTransferAsync(Hold("p", 60));
        Assert.Equal(CreateTransferResult.Created, await f.Ledger.CreateTransferAsync(
            TransferRequest.PostPending(Tid("post"), Tid("p"), Kind, new TokenAmount(25)) with { DebitAccountId = Id("a"), Asset = Apus }));
        Assert.Equal((75UL, 0UL, 75UL), await f.BalanceAsync("a"));
        Assert.Equal((125UL, 0UL, 125UL), await f.BalanceAsync("b"));
        await LedgerAssert.InvariantHoldsAsync(f.Ledger);
    }

    [Fact]
    public async Task Void_ReleasesTheReservation()
    {
        var f = await new LedgerFixture().WithFundedUsersAsync(100, "a", "b");
        await f.Ledger.CreateTransferAsync(Hold("p", 60));
        Assert.Equal(CreateTransferResult.Created, await f.Ledger.CreateTransferAsync(TransferRequest.VoidPending(Tid("void"), Tid("p"), Kind)));
        Assert.Equal((100UL, 0UL, 100UL), await f.BalanceAsync("a"));
        Assert.Equal(PendingTransferState.Voided, (await f.Ledger.GetTransferAsync(Tid("p")))!.State);
        await LedgerAssert.InvariantHoldsAsync(f.Ledger);
    }

    [Fact]
    public async Task Settle_Twice_SecondNamesTheState()
    {
        var f = await new LedgerFixture().WithFundedUsersAsync(100, "a", "b");
        await f.Ledger.CreateTransferAsync(Hold("p1", 10));
        await f.Ledger.CreateTransferAsync(Hold("p2", 10));
        await f.Ledger.CreateTransferAsync(TransferRequest.PostPending(Tid("post1"), Tid("p1"), Kind));
        await f.Ledger.CreateTransferAsync(TransferRequest.VoidPending(Tid("void2"), Tid("p2"), Kind));
        Assert.Equal(CreateTransferResult.PendingTransferAlreadyPosted, await f.Ledger.CreateTransferAsync(TransferRequest.VoidPending(Tid("x1"), Tid("p1"), Kind)));
        Assert.Equal(CreateTransferResult.PendingTransferAlreadyPosted, await f.Ledger.CreateTransferAsync(TransferRequest.PostPending(Tid("x2"), Tid("p1"), Kind)));
        Assert.Equal(CreateTransferResult.PendingTransferAlreadyVoided, await f.Ledger.CreateTransferAsync(TransferRequest.PostPending(Tid("x3"), Tid("p2"), Kind)));
        Assert.Equal((90UL, 0UL, 90UL), await f.BalanceAsync("a"));
    }

    public static TheoryData<CreateTransferResult, TransferRequest> BadSettlements => new()
    {
        { CreateTransferResult.ExceedsPendingTransferAmount, TransferRequest.PostPending(Tid("s"), Tid("p"), Kind, new TokenAmount(61)) },
        { CreateTransferResult.PendingTransferHasDifferentAmount, TransferRequest.VoidPending(Tid("s"), Tid("p"), Kind) with { Amount = new TokenAmount(59) } },
        { CreateTransferResult.PendingTransferHasDifferentDebitAccountId, TransferRequest.PostPending(Tid("s"), Tid("p"), Kind) with { DebitAccountId = Id("b") } },
        { CreateTransferResult.PendingTransferHasDifferentCreditAccountId, TransferRequest.PostPending(Tid("s"), Tid("p"), Kind) with { CreditAccountId = Id("a") } },
        { CreateTransferResult.PendingTransferHasDifferentAsset, TransferRequest.VoidPending(Tid("s"), Tid("p"), Kind) with { Asset = Credit } },
    };

    [Theory]
    [MemberData(nameof(BadSettlements))]
    public async Task Settle_Mismatched_NamesTheProblemAndKeepsTheReservation(CreateTransferResult expected, TransferRequest request)
    {
        var f = await new LedgerFixture().WithFundedUsersAsync(100, "a", "b");
        await f.Ledger.CreateTransferAsync(Hold("p", 60));
        Assert.Equal(expected, await f.Ledger.CreateTransferAsync(request));
        Assert.Equal((100UL, 60UL, 40UL), await f.BalanceAsync("a"));
        Assert.Equal(PendingTransferState.Pending, (await f.Ledger.GetTransferAsync(Tid("p")))!.State);
    }

    [Fact]
    public async Task Post_Replayed_ExistsOnlyWithTheSameAmount()
    {
        var f = await new LedgerFixture().WithFundedUsersAsync(100, "a", "b");
        await f.Ledger.CreateTransferAsync(Hold("p1", 60));
        await f.Ledger.CreateTransferAsync(Hold("p2", 20));
        var full = TransferRequest.PostPending(Tid("post1"), Tid("p1"), Kind);
        var partial = TransferRequest.PostPending(Tid("post2"), Tid("p2"), Kind, new TokenAmount(5));
        Assert.Equal([CreateTransferResult.Created, CreateTransferResult.Created], await f.Ledger.CreateTransfersAsync([full, partial]));
        Assert.Equal(CreateTransferResult.Exists, await f.Ledger.CreateTransferAsync(full));
        Assert.Equal(CreateTransferResult.Exists, await f.Ledger.CreateTransferAsync(full with { Amount = new TokenAmount(60) }));
        Assert.Equal(CreateTransferResult.Exists, await f.Ledger.CreateTransferAsync(partial));
        Assert.Equal(CreateTransferResult.ExistsWithDifferentFields, await f.Ledger.CreateTransferAsync(partial with { Amount = null }));
        Assert.Equal(CreateTransferResult.ExistsWithDifferentFields, await f.Ledger.CreateTransferAsync(full with { Flags = TransferFlags.VoidPending }));
        Assert.Equal((35UL, 0UL, 35UL), await f.BalanceAsync("a"));
        await LedgerAssert.InvariantHoldsAsync(f.Ledger);
    }

    [Fact]
    public async Task Expiry_AfterTimeout_PostRefusedAndSweepReleases()
    {
        var f = await new LedgerFixture().WithFundedUsersAsync(100, "a", "b");
        await f.Ledger.CreateTransferAsync(Hold("p1", 10, timeoutSeconds: 60));
        await f.Ledger.CreateTransferAsync(Hold("p2", 20, timeoutSeconds: 120));
        await f.Ledger.CreateTransferAsync(Hold("forever", 30));
        Assert.Equal(f.Clock.GetUtcNow().AddSeconds(60), (await f.Ledger.GetTransferAsync(Tid("p1")))!.ExpiresAt);

        f.Clock.Advance(TimeSpan.FromSeconds(59));
        Assert.Equal(0, await f.Ledger.ExpirePendingTransfersAsync());
        f.Clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(CreateTransferResult.PendingTransferExpired, await f.Ledger.CreateTransferAsync(TransferRequest.PostPending(Tid("late"), Tid("p1"), Kind)));
        Assert.Equal(1, await f.Ledger.ExpirePendingTransfersAsync());
        Assert.Equal(PendingTransferState.Expired, (await f.Ledger.GetTransferAsync(Tid("p1")))!.State);
        Assert.Equal((100UL, 50UL, 50UL), await f.BalanceAsync("a"));
        Assert.Equal(CreateTransferResult.PendingTransferExpired, await f.Ledger.CreateTransferAsync(TransferRequest.VoidPending(Tid("late2"), Tid("p1"), Kind)));

        f.Clock.Advance(TimeSpan.FromDays(365));
        Assert.Equal(1, await f.Ledger.ExpirePendingTransfersAsync());
        Assert.Equal(0, await f.Ledger.ExpirePendingTransfersAsync());
        Assert.Equal((100UL, 30UL, 70UL), await f.BalanceAsync("a"));
        await LedgerAssert.InvariantHoldsAsync(f.Ledger);
    }

    [Fact]
    public async Task Expiry_ManyPending_SweptInSeveralUnitsOfWork()
    {
        var f = await new LedgerFixture(options => options.ExpirySweepBatchSize = 3).WithFundedUsersAsync(100, "a", "b");
        for (var i = 0; i < 10; i++)
        {
            Assert.Equal(CreateTransferResult.Created, await f.Ledger.CreateTransferAsync(Hold("p" + i, 1, timeoutSeconds: (uint)(1 + i))));
        }

        f.Clock.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(10, await f.Ledger.ExpirePendingTransfersAsync());
        Assert.Equal((100UL, 0UL, 100UL), await f.BalanceAsync("a"));
        await LedgerAssert.InvariantHoldsAsync(f.Ledger);
    }
}
