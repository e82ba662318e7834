using Anpm.Abstractions;

namespace Anpm.Storage.Conformance;

/// <summary>The outbox: written once per id, due transfers earliest first, optimistic versions, exact amounts, atomicity.</summary>
public abstract class OutboxStoreConformanceTests(StoreFactory factory) : ConformanceSuite(factory)
{
    private static OutgoingTransfer Outgoing(string id, int dueInSeconds = 0, ulong amount = 100) => new()
    {
        Id = Tid(id),
        To = Address.Parse("0x70997970c51812dc3a010c7d01b50e0d17dc79c8"),
        Asset = WellKnownAssets.Apus,
        Amount = new TokenAmount(amount),
        Kind = TransferKind.Parse("payout"),
        Reference = "contribution c-" + id,
        State = OutgoingTransferState.Pending,
        CreatedAt = Now,
        NextAttemptAt = Now.AddSeconds(dueInSeconds),
    };

    [Fact]
    public async Task Insert_ThenRead_RoundTripsEveryFieldExactly()
    {
        var store = await Factory.CreateAsync();
        var transfer = Outgoing("o1") with { Amount = TokenAmount.MaxValue, ExternalReference = "tx 9", Attempts = 2, State = OutgoingTransferState.Dispatched };
        await using (var write = await store.BeginAsync())
        {
            Assert.True(await write.Outbox.TryInsertOutgoingAsync(transfer));
            await write.CommitAsync();
        }

        await using var read = await store.BeginAsync();
        Assert.Equal(transfer, await read.Outbox.GetOutgoingAsync(Tid("o1")));
        Assert.Null(await read.Outbox.GetOutgoingAsync(Tid("none")));
        Assert.Null(await read.Outbox.GetOutgoingAsync(default));
    }

    [Fact]
    public async Task Insert_SameId_RefusedWithoutChange()
    {
        var store = await Factory.CreateAsync();
        await using var unitOfWork = await store.BeginAsync();
        Assert.True(await unitOfWork.Outbox.TryInsertOutgoingAsync(Outgoing("o1")));
        Assert.False(await unitOfWork.Outbox.TryInsertOutgoingAsync(Outgoing("o1", amount: 5)));
        Assert.Equal(new TokenAmount(100), (await unitOfWork.Outbox.GetOutgoingAsync(Tid("o1")))!.Amount);
    }

    [Fact]
    public async Task Due_EarliestFirstLimitedAndNeverConfirmed()
    {
        var store = await Factory.CreateAsync();
        await using var unitOfWork = await store.BeginAsync();
        foreach (var (id, due) in new[] { ("late", 30), ("early", 10), ("b-same", 20), ("a-same", 20), ("future", 100) })
        {
            Assert.True(await unitOfWork.Outbox.TryInsertOutgoingAsync(Outgoing(id, due)));
        }

        await unitOfWork.Outbox.UpdateOutgoingAsync(Outgoing("late", 30) with { State = OutgoingTransferState.Confirmed }, 0);
        Assert.Equal(["early", "a-same", "b-same"], (await unitOfWork.Outbox.GetDueOutgoingAsync(Now.AddSeconds(30), 10)).Select(t => t.Id.ToString()));
        Assert.Equal(["early"], (await unitOfWork.Outbox.GetDueOutgoingAsync(Now.AddSeconds(30), 1)).Select(t => t.Id.ToString()));
    }

    [Fact]
    public async Task FailedAndReturned_AreNeverDue_ListedByState_ByIdAfterACursor()
    {
        var store = await Factory.CreateAsync();
        await using (var write = await store.BeginAsync())
        {
            foreach (var id in new[] { "f-2", "f-1", "f-3", "r-1", "p-1" })
            {
                Assert.True(await write.Outbox.TryInsertOutgoingAsync(Outgoing(id)));
            }

            foreach (var id in new[] { "f-2", "f-1", "f-3" })
            {
                await write.Outbox.UpdateOutgoingAsync(Outgoing(id) with { State = OutgoingTransferState.FailedOnChain, ExternalReference = "0xfeed" }, 0);
            }

            await write.Outbox.UpdateOutgoingAsync(Outgoing("r-1") with { State = OutgoingTransferState.Returned }, 0);
            await write.CommitAsync();
        }

        var reopened = await Factory.OpenAnotherInstanceAsync(store);
        await using var read = await reopened.BeginReadAsync();
        Assert.Equal(["p-1"], (await read.Outbox.GetDueOutgoingAsync(Now.AddDays(1), 10)).Select(t => t.Id.ToString()));
        Assert.Equal(["f-1", "f-2", "f-3"], (await read.Outbox.GetOutgoingInStateAsync(OutgoingTransferState.FailedOnChain, null, 10)).Select(t => t.Id.ToString()));
        Assert.Equal(["f-3"], (await read.Outbox.GetOutgoingInStateAsync(OutgoingTransferState.FailedOnChain, Tid("f-2"), 10)).Select(t => t.Id.ToString()));
        Assert.Equal(["f-1"], (await read.Outbox.GetOutgoingInStateAsync(OutgoingTransferState.FailedOnChain, null, 1)).Select(t => t.Id.ToString()));
        Assert.Equal(OutgoingTransferState.Returned, Assert.Single(await read.Outbox.GetOutgoingInStateAsync(OutgoingTransferState.Returned, null, 10)).State);
        Assert.Equal("0xfeed", (await read.Outbox.GetOutgoingAsync(Tid("f-1")))!.ExternalReference);
    }

    [Fact]
    public async Task Update_WithVersion_ThenStaleRefused()
    {
        var store = await Factory.CreateAsync();
        await using var unitOfWork = await store.BeginAsync();
        Assert.True(await unitOfWork.Outbox.TryInsertOutgoingAsync(Outgoing("o1")));
        var dispatched = Outgoing("o1") with { State = OutgoingTransferState.Dispatched, Attempts = 1, NextAttemptAt = Now.AddMinutes(5), ExternalReference = "tx 1" };
        await unitOfWork.Outbox.UpdateOutgoingAsync(dispatched, 0);
        Assert.Equal(dispatched with { Version = 1 }, await unitOfWork.Outbox.GetOutgoingAsync(Tid("o1")));
        await RefusedByOrAfterAsync<AnpmConcurrencyException>(unitOfWork, async () => await unitOfWork.Outbox.UpdateOutgoingAsync(dispatched, 0));
        await RefusedByOrAfterAsync<AnpmException>(unitOfWork, async () => await unitOfWork.Outbox.UpdateOutgoingAsync(Outgoing("none"), 0));
    }

    [Fact]
    public async Task DisposeWithoutCommit_KeepsNoOutboxChange()
    {
        var store = await Factory.CreateAsync();
        await using (var setup = await store.BeginAsync())
        {
            Assert.True(await setup.Outbox.TryInsertOutgoingAsync(Outgoing("kept")));
            await setup.CommitAsync();
        }

        await using (var discarded = await store.BeginAsync())
        {
            Assert.True(await discarded.Outbox.TryInsertOutgoingAsync(Outgoing("gone")));
            await discarded.Outbox.UpdateOutgoingAsync(Outgoing("kept") with { State = OutgoingTransferState.Confirmed }, 0);
        }

        await using var check = await store.BeginAsync();
        Assert.Null(await check.Outbox.GetOutgoingAsync(Tid("gone")));
        Assert.Equal(Outgoing("kept"), await check.Outbox.GetOutgoingAsync(Tid("kept")));
    }
}

public sealed class InMemoryOutboxStoreTests() : OutboxStoreConformanceTests(new InMemoryStoreFactory());

public sealed class SqliteOutboxStoreTests() : OutboxStoreConformanceTests(new SqliteStoreFactory());

[Collection(PostgresCollection.Name)]
public sealed class PostgresOutboxStoreTests(PostgresServerFixture server) : OutboxStoreConformanceTests(new PostgresStoreFactory(server));
