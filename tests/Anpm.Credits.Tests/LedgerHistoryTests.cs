using Anpm.Abstractions;
using static Anpm.Credits.Tests.LedgerFixture;

namespace Anpm.Credits.Tests;

public sealed class LedgerHistoryTests
{
    [Fact]
    public async Task History_PagesNewestFirstUntilTheEnd()
    {
        var f = await new LedgerFixture().WithFundedUsersAsync(100, "a", "b", "c");
        for (var i = 0; i < 7; i++)
        {
            await f.Ledger.CreateTransferAsync(Move("t" + i, "a", i % 2 == 0 ? "b" : "c", 1));
        }

        var seen = new List<string>();
        string? cursor = null;
        var pages = 0;
        do
        {
            var page = await f.Ledger.GetAccountHistoryAsync(Id("a"), cursor, 3);
            Assert.Equal(AccountHistoryStatus.Ok, page.Status);
            seen.AddRange(page.Entries.Select(e => e.Transfer.Id.ToString()));
            cursor = page.NextCursor;
            pages++;
        }
        while (cursor is not null);

        Assert.Equal(["t6", "t5", "t4", "t3", "t2", "t1", "t0", "fund-a"], seen);
        Assert.Equal(3, pages);
        var b = await f.Ledger.GetAccountHistoryAsync(Id("b"), null, 10);
        Assert.Equal(["t6", "t4", "t2", "t0", "fund-b"], b.Entries.Select(e => e.Transfer.Id.ToString()));
        Assert.Null(b.NextCursor);
    }

    [Theory]
    [InlineData("abc", 10, AccountHistoryStatus.CursorIsInvalid)]
    [InlineData("-5", 10, AccountHistoryStatus.CursorIsInvalid)]
    [InlineData("0", 10, AccountHistoryStatus.CursorIsInvalid)]
    [InlineData("99999999999999999999", 10, AccountHistoryStatus.CursorIsInvalid)]
    [InlineData(null, 0, AccountHistoryStatus.LimitIsOutOfRange)]
    [InlineData(null, 501, AccountHistoryStatus.LimitIsOutOfRange)]
    public async Task History_BadCursorOrLimit_NamesTheProblem(string? cursor, int limit, AccountHistoryStatus expected)
    {
        var f = await new LedgerFixture().WithFundedUsersAsync(100, "a");
        var page = await f.Ledger.GetAccountHistoryAsync(Id("a"), cursor, limit);
        Assert.Equal(expected, page.Status);
        Assert.Empty(page.Entries);
    }

    [Fact]
    public async Task History_UnknownAccount_NotFound()
    {
        var f = new LedgerFixture();
        Assert.Equal(AccountHistoryStatus.AccountNotFound, (await f.Ledger.GetAccountHistoryAsync(Id("nobody"), null, 10)).Status);
        Assert.Equal(AccountHistoryStatus.AccountNotFound, (await f.Ledger.GetAccountHistoryAsync(default, null, 10)).Status);
    }
}
