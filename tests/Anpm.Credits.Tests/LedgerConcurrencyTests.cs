using Anpm.Abstractions;
using Anpm.Testing;
using static Anpm.Credits.Tests.LedgerFixture;

namespace Anpm.Credits.Tests;

public sealed class LedgerConcurrencyTests
{
    [Fact]
    public async Task ConcurrentTransfers_OnSharedAccounts_NoUpdateIsLost()
    {
        const int workers = 8;
        const int transfersPerWorker = 2_000;
        var f = await new LedgerFixture().WithFundedUsersAsync(0, "hot", "a", "b");
        await Task.WhenAll(Enumerable.Range(0, workers).Select(w => Task.Run(async () =>
        {
            for (var i = 0; i < transfersPerWorker; i++)
            {
                // Every worker credits the same hot account and moves money through two shared users.
                var results = await f.Ledger.CreateTransfersAsync(
                [
                    Move($"w{w}-{i}-in", "mint", "hot", 3, flags: TransferFlags.Linked),
                    Move($"w{w}-{i}-out", "hot", i % 2 == 0 ? "a" : "b", 1),
                ]);
                Assert.Equal([CreateTransferResult.Created, CreateTransferResult.Created], results);
            }
        })));

        const ulong total = workers * transfersPerWorker;
        Assert.Equal((2 * total, 0UL, 2 * total), await f.BalanceAsync("hot"));
        Assert.Equal((total / 2, 0UL, total / 2), await f.BalanceAsync("a"));
        Assert.Equal((total / 2, 0UL, total / 2), await f.BalanceAsync("b"));
        await LedgerAssert.InvariantHoldsAsync(f.Ledger);
    }

    [Fact]
    public async Task ConcurrentSpends_OfOneBalance_NeverOverdraw()
    {
        var f = await new LedgerFixture().WithFundedUsersAsync(1_000, "payer", "payee");
        var created = 0;
        await Task.WhenAll(Enumerable.Range(0, 8).Select(w => Task.Run(async () =>
        {
            for (var i = 0; i < 500; i++)
            {
                if (await f.Ledger.CreateTransferAsync(Move($"w{w}-{i}", "payer", "payee", 1)) == CreateTransferResult.Created)
                {
                    Interlocked.Increment(ref created);
                }
            }
        })));

        Assert.Equal(1_000, created);
        Assert.Equal((0UL, 0UL, 0UL), await f.BalanceAsync("payer"));
        await LedgerAssert.InvariantHoldsAsync(f.Ledger);
    }

    [Fact]
    public async Task ConcurrentPostAndVoid_OfOnePending_ExactlyOneWins()
    {
        var f = await new LedgerFixture().WithFundedUsersAsync(100, "a", "b");
        for (var round = 0; round < 200; round++)
        {
            var pendingId = "p" + round;
            Assert.Equal(CreateTransferResult.Created, await f.Ledger.CreateTransferAsync(Move(pendingId, "a", "b", 1, flags: TransferFlags.Pending)));
            var attempts = await Task.WhenAll(Enumerable.Range(0, 4).Select(i => Task.Run(async () =>
                await f.Ledger.CreateTransferAsync(i % 2 == 0
                    ? TransferRequest.PostPending(Tid($"{pendingId}-post{i}"), Tid(pendingId), Kind)
                    : TransferRequest.VoidPending(Tid($"{pendingId}-void{i}"), Tid(pendingId), Kind)))));
            Assert.Single(attempts, r => r == CreateTransferResult.Created);
            Assert.All(attempts.Where(r => r != CreateTransferResult.Created), r =>
                Assert.True(r is CreateTransferResult.PendingTransferAlreadyPosted or CreateTransferResult.PendingTransferAlreadyVoided, r.ToString()));
        }

        var a = await f.AccountAsync("a");
        Assert.Equal(TokenAmount.Zero, a.DebitsPending);
        await LedgerAssert.InvariantHoldsAsync(f.Ledger);
    }
}
