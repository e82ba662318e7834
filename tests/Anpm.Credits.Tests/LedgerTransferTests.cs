using Anpm.Abstractions;
using Anpm.Testing;
using static Anpm.Credits.Tests.LedgerFixture;

namespace Anpm.Credits.Tests;

public sealed class LedgerTransferTests
{
    [Fact]
    public async Task Transfer_Plain_MovesPostedBalances()
    {
        var f = await new LedgerFixture().WithFundedUsersAsync(100, "a", "b");
        Assert.Equal(CreateTransferResult.Created, await f.Ledger.CreateTransferAsync(Move("t1", "a", "b", 30)));
        Assert.Equal((70UL, 0UL, 70UL), await f.BalanceAsync("a"));
        Assert.Equal((130UL, 0UL, 130UL), await f.BalanceAsync("b"));
        Assert.Equal(-200, (int)(await f.AccountAsync("mint")).PostedBalance);
        var stored = await f.Ledger.GetTransferAsync(Tid("t1"));
        Assert.NotNull(stored);
        Assert.Equal(f.Clock.GetUtcNow(), stored.Timestamp);
        Assert.Equal(PendingTransferState.None, stored.State);
        await LedgerAssert.InvariantHoldsAsync(f.Ledger);
    }

    [Fact]
    public async Task Transfer_Replayed_ExistsAndChangesNothing()
    {
        var f = await new LedgerFixture().WithFundedUsersAsync(100, "a", "b");
        var request = Move("t1", "a", "b", 30) with { Reference = "notice-7" };
        Assert.Equal(CreateTransferResult.Created, await f.Ledger.CreateTransferAsync(request));
        f.Clock.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(CreateTransferResult.Exists, await f.Ledger.CreateTransferAsync(request));
        Assert.Equal((70UL, 0UL, 70UL), await f.BalanceAsync("a"));
        Assert.Equal(f.Clock.GetUtcNow() - TimeSpan.FromSeconds(5), (await f.Ledger.GetTransferAsync(Tid("t1")))!.Timestamp);
    }

    public static TheoryData<string, TransferRequest> ReusedIds => new()
    {
        { "amount", Move("t1", "a", "b", 31) },
        { "debit", Move("t1", "b", "a", 30) },
        { "credit", Move("t1", "a", "c", 30) },
        { "kind", Move("t1", "a", "b", 30) with { Kind = TransferKind.Parse("other") } },
        { "reference", Move("t1", "a", "b", 30) with { Reference = "x" } },
        { "flags", Move("t1", "a", "b", 30, flags: TransferFlags.Pending) },
    };

    [Theory]
    [MemberData(nameof(ReusedIds))]
    public async Task Transfer_IdReusedWithOtherFields_ExistsWithDifferentFields(string field, TransferRequest reused)
    {
        var f = await new LedgerFixture().WithFundedUsersAsync(100, "a", "b", "c");
        Assert.Equal(CreateTransferResult.Created, await f.Ledger.CreateTransferAsync(Move("t1", "a", "b", 30)));
        Assert.True(CreateTransferResult.ExistsWithDifferentFields == await f.Ledger.CreateTransferAsync(reused), field);
        Assert.Equal((70UL, 0UL, 70UL), await f.BalanceAsync("a"));
        Assert.Equal((100UL, 0UL, 100UL), await f.BalanceAsync("c"));
    }

    [Fact]
    public async Task Transfer_MoreThanUserHolds_ExceedsBalanceAndChangesNothing()
    {
        var f = await new LedgerFixture().WithFundedUsersAsync(100, "a", "b");
        Assert.Equal(CreateTransferResult.ExceedsBalance, await f.Ledger.CreateTransferAsync(Move("t1", "a", "b", 101)));
        Assert.Equal(CreateTransferResult.Created, await f.Ledger.CreateTransferAsync(Move("t2", "a", "b", 100)));
        Assert.Equal((0UL, 0UL, 0UL), await f.BalanceAsync("a"));
        Assert.Null(await f.Ledger.GetTransferAsync(Tid("t1")));
        // A failed transfer does not use up its id.
        Assert.Equal(CreateTransferResult.Created, await f.Ledger.CreateTransferAsync(Move("t1", "b", "a", 1)));
        await LedgerAssert.InvariantHoldsAsync(f.Ledger);
    }

    [Fact]
    public async Task Transfer_IssuanceAccount_MayGoNegative()
    {
        var f = await new LedgerFixture().WithFundedUsersAsync(0, "a");
        Assert.Equal(CreateTransferResult.Created, await f.Ledger.CreateTransferAsync(Move("t1", "mint", "a", 1_000_000)));
        Assert.Equal(-1_000_000, (long)(await f.AccountAsync("mint")).PostedBalance);
        Assert.Equal(TokenAmount.Zero, (await f.AccountAsync("mint")).AvailableBalance);
        await LedgerAssert.InvariantHoldsAsync(f.Ledger);
    }

    public static TheoryData<CreateTransferResult, TransferRequest> InvalidRequests => new()
    {
        { CreateTransferResult.IdMustNotBeDefault, Move("x", "a", "b", 1) with { Id = default } },
        { CreateTransferResult.FlagsAreInvalid, Move("x", "a", "b", 1, flags: TransferFlags.Pending | TransferFlags.VoidPending) },
        { CreateTransferResult.FlagsAreInvalid, Move("x", "a", "b", 1, flags: (TransferFlags)64) },
        { CreateTransferResult.KindMustNotBeDefault, Move("x", "a", "b", 1) with { Kind = default } },
        { CreateTransferResult.ReferenceIsInvalid, Move("x", "a", "b", 1) with { Reference = new string('r', 257) } },
        { CreateTransferResult.ReferenceIsInvalid, Move("x", "a", "b", 1) with { Reference = "line\nbreak" } },
        { CreateTransferResult.DebitAccountIdMustNotBeDefault, Move("x", "a", "b", 1) with { DebitAccountId = default } },
        { CreateTransferResult.CreditAccountIdMustNotBeDefault, Move("x", "a", "b", 1) with { CreditAccountId = default } },
        { CreateTransferResult.AccountsMustBeDifferent, Move("x", "a", "a", 1) },
        { CreateTransferResult.AssetMustNotBeDefault, Move("x", "a", "b", 1) with { Asset = default } },
        { CreateTransferResult.AssetNotFound, Move("x", "a", "b", 1, AssetCode.Parse("GOLD")) },
        { CreateTransferResult.AmountMustNotBeZero, Move("x", "a", "b", 0) },
        { CreateTransferResult.AmountMustNotBeZero, Move("x", "a", "b", 1) with { Amount = null } },
        { CreateTransferResult.PendingIdMustBeDefault, Move("x", "a", "b", 1) with { PendingId = Tid("p") } },
        { CreateTransferResult.TimeoutReservedForPendingTransfer, Move("x", "a", "b", 1, timeoutSeconds: 5) },
        { CreateTransferResult.TimeoutExceedsMaximum, Move("x", "a", "b", 1, flags: TransferFlags.Pending, timeoutSeconds: 30 * 86_400 + 1) },
        { CreateTransferResult.PendingIdMustNotBeDefault, TransferRequest.PostPending(Tid("x"), default, Kind) },
        { CreateTransferResult.PendingIdMustBeDifferent, TransferRequest.VoidPending(Tid("x"), Tid("x"), Kind) },
        { CreateTransferResult.AmountMustNotBeZero, TransferRequest.PostPending(Tid("x"), Tid("p"), Kind, TokenAmount.Zero) },
        { CreateTransferResult.TimeoutReservedForPendingTransfer, TransferRequest.PostPending(Tid("x"), Tid("p"), Kind) with { TimeoutSeconds = 1 } },
        { CreateTransferResult.AssetNotFound, TransferRequest.PostPending(Tid("x"), Tid("p"), Kind) with { Asset = AssetCode.Parse("GOLD") } },
        { CreateTransferResult.DebitAccountNotFound, Move("x", "nobody", "b", 1) },
        { CreateTransferResult.CreditAccountNotFound, Move("x", "a", "nobody", 1) },
        { CreateTransferResult.AccountAssetMismatch, Move("x", "a", "b", 1, Credit) },
        { CreateTransferResult.PendingTransferNotFound, TransferRequest.PostPending(Tid("x"), Tid("nothing"), Kind) },
        { CreateTransferResult.PendingTransferNotPending, TransferRequest.PostPending(Tid("x"), Tid("fund-a"), Kind) },
    };

    [Theory]
    [MemberData(nameof(InvalidRequests))]
    public async Task Transfer_InvalidRequest_NamesTheProblemAndChangesNothing(CreateTransferResult expected, TransferRequest request)
    {
        var f = await new LedgerFixture().WithFundedUsersAsync(100, "a", "b");
        var before = await f.Ledger.CheckInvariantAsync();
        Assert.Equal(expected, await f.Ledger.CreateTransferAsync(request));
        Assert.Equal((100UL, 0UL, 100UL), await f.BalanceAsync("a"));
        Assert.Equal((100UL, 0UL, 100UL), await f.BalanceAsync("b"));
        Assert.Equal(before.Assets, (await f.Ledger.CheckInvariantAsync()).Assets);
        if (request.Id.Value is not null)
        {
            Assert.Null(await f.Ledger.GetTransferAsync(request.Id));
        }
    }

    [Fact]
    public async Task Transfer_TotalsWouldOverflow_OverflowsCreditsOrDebits()
    {
        var f = await new LedgerFixture().WithFundedUsersAsync(0, "a");
        await f.Ledger.CreateAccountAsync(new NewAccount(Id("mint2"), Apus, AccountFlags.None));
        var max = TokenAmount.MaxValue;
        Assert.Equal(CreateTransferResult.Created, await f.Ledger.CreateTransferAsync(Move("t1", "mint", "a", 1) with { Amount = max - new TokenAmount(1) }));
        Assert.Equal(CreateTransferResult.OverflowsCredits, await f.Ledger.CreateTransferAsync(Move("t2", "mint2", "a", 2)));
        Assert.Equal(CreateTransferResult.OverflowsDebits, await f.Ledger.CreateTransferAsync(Move("t3", "mint", "mint2", 2)));
        Assert.Equal(CreateTransferResult.Created, await f.Ledger.CreateTransferAsync(Move("t4", "mint2", "a", 1)));
        Assert.Equal(max, (await f.AccountAsync("a")).CreditsPosted);
        await LedgerAssert.InvariantHoldsAsync(f.Ledger);
    }

    [Fact]
    public async Task CreateTransfers_BatchTooLargeOrNullItem_Throws()
    {
        var f = new LedgerFixture(options => options.MaxBatchSize = 2);
        var error = await Assert.ThrowsAsync<ArgumentException>(async () =>
            await f.Ledger.CreateTransfersAsync([Move("1", "a", "b", 1), Move("2", "a", "b", 1), Move("3", "a", "b", 1)]));
        Assert.Contains("at most 2", error.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<ArgumentException>(async () => await f.Ledger.CreateTransfersAsync([null!]));
    }

    [Fact]
    public async Task CreateTransfers_InCallersUnitOfWork_KeptOnlyWhenCommitted()
    {
        var f = await new LedgerFixture().WithFundedUsersAsync(100, "a", "b");
        await using (var unitOfWork = await f.Store.BeginAsync())
        {
            Assert.Equal([CreateTransferResult.Created], await f.Ledger.CreateTransfersAsync(unitOfWork, [Move("t1", "a", "b", 10)]));
            Assert.Equal([CreateAccountResult.Created], await f.Ledger.CreateAccountsAsync(unitOfWork, [new NewAccount(Id("c"), Apus, AccountFlags.None)]));
        }

        Assert.Null(await f.Ledger.GetTransferAsync(Tid("t1")));
        Assert.Null(await f.Ledger.GetAccountAsync(Id("c")));
        Assert.Equal((100UL, 0UL, 100UL), await f.BalanceAsync("a"));
        Assert.DoesNotContain((await f.Ledger.GetAccountHistoryAsync(Id("b"), null, 10)).Entries, e => e.Transfer.Id == Tid("t1"));

        await using (var unitOfWork = await f.Store.BeginAsync())
        {
            Assert.Equal([CreateTransferResult.Created], await f.Ledger.CreateTransfersAsync(unitOfWork, [Move("t1", "a", "b", 10)]));
            await unitOfWork.CommitAsync();
        }

        Assert.Equal((90UL, 0UL, 90UL), await f.BalanceAsync("a"));
        await LedgerAssert.InvariantHoldsAsync(f.Ledger);
    }

    [Fact]
    public async Task CheckInvariant_CorruptedTotals_ReportsEachProblem()
    {
        var f = await new LedgerFixture().WithFundedUsersAsync(100, "a");
        await using (var unitOfWork = await f.Store.BeginAsync())
        {
            var a = (await unitOfWork.Ledger.GetAccountAsync(Id("a")))!;
            await unitOfWork.Ledger.UpdateAccountTotalsAsync(a.Id, a.Version, a.Totals with { DebitsPosted = new TokenAmount(150), DebitsPending = new TokenAmount(1) });
            await unitOfWork.CommitAsync();
        }

        var report = await f.Ledger.CheckInvariantAsync();
        Assert.False(report.IsSound);
        Assert.Equal(
            ["APUS: posted debits 250 differ from posted credits 100.", "APUS: pending debits 1 differ from pending credits 0.",
             "APUS: 1 accounts that must not go negative are negative."],
            report.Problems);
    }
}
