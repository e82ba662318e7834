using Anpm.Abstractions;
using Anpm.Credits;
using Anpm.Testing;
using Microsoft.Extensions.Time.Testing;

namespace Anpm.Storage.Conformance;

/// <summary>The ledger's behaviour over each store, including its races between concurrent units of work.</summary>
public abstract class LedgerConformanceTests(StoreFactory factory) : ConformanceSuite(factory)
{
    [Fact]
    public async Task Transfer_CreatedReplayedAndRefused_BalancesExact()
    {
        var (_, ledger, clock) = await LedgerWithUsersAsync(100, "a", "b");
        var request = Move("t1", "a", "b", 30) with { Reference = "notice 7" };
        Assert.Equal(CreateTransferResult.Created, await ledger.CreateTransferAsync(request));
        clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(CreateTransferResult.Exists, await ledger.CreateTransferAsync(request));
        Assert.Equal(CreateTransferResult.ExistsWithDifferentFields, await ledger.CreateTransferAsync(request with { Amount = new TokenAmount(31) }));
        Assert.Equal(CreateTransferResult.ExceedsBalance, await ledger.CreateTransferAsync(Move("t2", "a", "b", 71)));
        Assert.Equal((70UL, 130UL), (await AvailableAsync(ledger, "a"), await AvailableAsync(ledger, "b")));
        var stored = (await ledger.GetTransferAsync(Tid("t1")))!;
        Assert.Equal((clock.GetUtcNow().AddSeconds(-1), "notice 7"), (stored.Timestamp, stored.Reference));
        await LedgerAssert.InvariantHoldsAsync(ledger);
    }

    [Fact]
    public async Task LinkedChain_OneFails_NothingOfItKept()
    {
        var (_, ledger, _) = await LedgerWithUsersAsync(100, "a", "b");
        var results = await ledger.CreateTransfersAsync(
        [
            Move("c1", "a", "b", 10, TransferFlags.Linked),
            Move("c2", "a", "b", 10, TransferFlags.Pending | TransferFlags.Linked),
            Move("c3", "b", "a", 500),
            Move("solo", "b", "a", 1),
        ]);
        Assert.Equal([CreateTransferResult.LinkedEventFailed, CreateTransferResult.LinkedEventFailed, CreateTransferResult.ExceedsBalance, CreateTransferResult.Created], results);
        Assert.Null(await ledger.GetTransferAsync(Tid("c1")));
        Assert.Null(await ledger.GetTransferAsync(Tid("c2")));
        Assert.Equal(101UL, await AvailableAsync(ledger, "a"));
        await LedgerAssert.InvariantHoldsAsync(ledger);
    }

    [Fact]
    public async Task TwoPhase_PostVoidAndExpiry_ReleaseExactly()
    {
        var (_, ledger, clock) = await LedgerWithUsersAsync(100, "a", "b");
        Assert.Equal(
            [CreateTransferResult.Created, CreateTransferResult.Created, CreateTransferResult.Created],
            await ledger.CreateTransfersAsync(
            [
                Move("p1", "a", "b", 30, TransferFlags.Pending),
                Move("p2", "a", "b", 20, TransferFlags.Pending),
                Move("p3", "a", "b", 10, TransferFlags.Pending, timeoutSeconds: 60),
            ]));
        Assert.Equal(40UL, await AvailableAsync(ledger, "a"));
        Assert.Equal(CreateTransferResult.Created, await ledger.CreateTransferAsync(TransferRequest.PostPending(Tid("post1"), Tid("p1"), Kind, new TokenAmount(25))));
        Assert.Equal(CreateTransferResult.Created, await ledger.CreateTransferAsync(TransferRequest.VoidPending(Tid("void2"), Tid("p2"), Kind)));
        Assert.Equal(CreateTransferResult.PendingTransferAlreadyPosted, await ledger.CreateTransferAsync(TransferRequest.VoidPending(Tid("void1"), Tid("p1"), Kind)));
        clock.Advance(TimeSpan.FromSeconds(60));
        Assert.Equal(1, await ledger.ExpirePendingTransfersAsync());
        Assert.Equal(0, await ledger.ExpirePendingTransfersAsync());
        Assert.Equal(PendingTransferState.Expired, (await ledger.GetTransferAsync(Tid("p3")))!.State);
        Assert.Equal((75UL, 125UL), (await AvailableAsync(ledger, "a"), await AvailableAsync(ledger, "b")));
        await LedgerAssert.InvariantHoldsAsync(ledger);
    }

    [Fact]
    public async Task History_PagesThroughEveryTransferNewestFirst()
    {
        var (_, ledger, _) = await LedgerWithUsersAsync(100, "a", "b");
        for (var i = 0; i < 7; i++)
        {
            await ledger.CreateTransferAsync(Move("t" + i, "a", "b", 1));
        }

        var seen = new List<string>();
        string? cursor = null;
        do
        {
            var page = await ledger.GetAccountHistoryAsync(Id("a"), cursor, 3);
            Assert.Equal(AccountHistoryStatus.Ok, page.Status);
            seen.AddRange(page.Entries.Select(e => e.Transfer.Id.ToString()));
            cursor = page.NextCursor;
        }
        while (cursor is not null);

        Assert.Equal(["t6", "t5", "t4", "t3", "t2", "t1", "t0", "fund-a"], seen);
    }

    [Fact]
    public async Task ConcurrentSpends_OfOneBalance_NeverOverdraw()
    {
        var (_, ledger, _) = await LedgerWithUsersAsync(200, "payer", "payee");
        var created = 0;
        await Task.WhenAll(Enumerable.Range(0, 4).Select(w => Task.Run(async () =>
        {
            for (var i = 0; i < 80; i++)
            {
                if (await ledger.CreateTransferAsync(Move($"w{w}-{i}", "payer", "payee", 1)) == CreateTransferResult.Created)
                {
                    Interlocked.Increment(ref created);
                }
            }
        })));

        Assert.Equal(200, created);
        Assert.Equal(0UL, await AvailableAsync(ledger, "payer"));
        await LedgerAssert.InvariantHoldsAsync(ledger);
    }

    [Fact]
    public async Task ConcurrentPostAndVoid_OfOnePending_ExactlyOneWins()
    {
        var (store, ledger, clock) = await LedgerWithUsersAsync(100, "a", "b");
        var other = NewLedger(await Factory.OpenAnotherInstanceAsync(store), clock);
        for (var round = 0; round < 20; round++)
        {
            var pendingId = "p" + round;
            Assert.Equal(CreateTransferResult.Created, await ledger.CreateTransferAsync(Move(pendingId, "a", "b", 1, TransferFlags.Pending)));
            var attempts = await Task.WhenAll(Enumerable.Range(0, 4).Select(i => Task.Run(async () =>
                await (i < 2 ? ledger : other).CreateTransferAsync(i % 2 == 0
                    ? TransferRequest.PostPending(Tid($"{pendingId}-post{i}"), Tid(pendingId), Kind)
                    : TransferRequest.VoidPending(Tid($"{pendingId}-void{i}"), Tid(pendingId), Kind)))));
            Assert.Single(attempts, r => r == CreateTransferResult.Created);
        }

        Assert.Equal(TokenAmount.Zero, (await ledger.GetAccountAsync(Id("a")))!.DebitsPending);
        await LedgerAssert.InvariantHoldsAsync(ledger);
    }

    [Fact]
    public async Task ConcurrentSameTransferId_CreatedOnceOthersExist()
    {
        var (store, ledger, clock) = await LedgerWithUsersAsync(100, "a", "b");
        var other = NewLedger(await Factory.OpenAnotherInstanceAsync(store), clock);
        var results = await Task.WhenAll(Enumerable.Range(0, 6).Select(i => Task.Run(async () =>
            await (i % 2 == 0 ? ledger : other).CreateTransferAsync(Move("same", "a", "b", 5)))));
        Assert.Single(results, r => r == CreateTransferResult.Created);
        Assert.All(results.Where(r => r != CreateTransferResult.Created), r => Assert.Equal(CreateTransferResult.Exists, r));
        Assert.Equal(95UL, await AvailableAsync(ledger, "a"));
    }

    [Fact]
    public async Task ConcurrentSameAccountId_CreatedOnceOthersExist()
    {
        var store = await Factory.CreateAsync();
        var clock = new FakeTimeProvider(TestClock.Start);
        var ledgers = new[] { NewLedger(store, clock), NewLedger(await Factory.OpenAnotherInstanceAsync(store), clock) };
        var results = await Task.WhenAll(Enumerable.Range(0, 6).Select(i => Task.Run(async () =>
            await ledgers[i % 2].CreateAccountAsync(new NewAccount(Id("shared"), WellKnownAssets.Credit, AccountFlags.DebitsMustNotExceedCredits)))));
        Assert.Single(results, r => r == CreateAccountResult.Created);
        Assert.All(results.Where(r => r != CreateAccountResult.Created), r => Assert.Equal(CreateAccountResult.Exists, r));
    }
}

public sealed class InMemoryLedgerTests() : LedgerConformanceTests(new InMemoryStoreFactory());

public sealed class SqliteLedgerTests() : LedgerConformanceTests(new SqliteStoreFactory());

[Collection(PostgresCollection.Name)]
public sealed class PostgresLedgerTests(PostgresServerFixture server) : LedgerConformanceTests(new PostgresStoreFactory(server));
