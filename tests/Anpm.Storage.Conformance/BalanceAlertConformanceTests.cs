using Anpm.Abstractions;
using Anpm.Credits;
using Anpm.Pools;
using Anpm.Signing;
using Anpm.Testing;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Anpm.Storage.Conformance;

/// <summary>
/// Low-balance alerts over each store: the store's records (one per account and pool, versioned, removable), and the
/// alert in use — one <c>balance.low</c> event per fall through the threshold, whatever the number of tasks below it;
/// re-armed by credits coming back (a voided hold, a top-up); a withdrawal fires it too; a rolled-back change fires nothing.
/// </summary>
public abstract class BalanceAlertConformanceTests(StoreFactory factory) : ConformanceSuite(factory)
{
    private static readonly Address User = Address.Parse("0x70997970c51812dc3a010c7d01b50e0d17dc79c8");
    private static readonly PoolId Pool = PoolId.Parse("ai");
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 11, 21, 12, 0, 0, TimeSpan.Zero));

    [Fact]
    public async Task Store_OnePerAccountAndPool_Versioned_Removable()
    {
        var store = await Factory.CreateAsync();
        var alert = new BalanceAlert { Account = User, PoolId = Pool, Threshold = new TokenAmount(UInt128.MaxValue), Armed = true, ChangedAt = Now };
        await using (var write = await store.BeginAsync())
        {
            Assert.True(await write.BalanceAlerts.TryInsertAlertAsync(alert));
            Assert.False(await write.BalanceAlerts.TryInsertAlertAsync(alert with { Armed = false }));
            Assert.True(await write.BalanceAlerts.TryInsertAlertAsync(alert with { PoolId = PoolId.Parse("a0") }));
            await write.CommitAsync();
        }

        await using (var write = await store.BeginAsync())
        {
            await write.BalanceAlerts.UpdateAlertAsync(alert with { Armed = false, Threshold = new TokenAmount(5), ChangedAt = Now.AddMinutes(1) }, 0);
            await RefusedByOrAfterAsync<AnpmConcurrencyException>(write, async () => await write.BalanceAlerts.UpdateAlertAsync(alert, 0));
        }

        await using (var write = await store.BeginAsync())
        {
            await write.BalanceAlerts.UpdateAlertAsync(alert with { Armed = false, Threshold = new TokenAmount(5), ChangedAt = Now.AddMinutes(1) }, 0);
            Assert.True(await write.BalanceAlerts.DeleteAlertAsync(User, PoolId.Parse("a0")));
            Assert.False(await write.BalanceAlerts.DeleteAlertAsync(User, PoolId.Parse("a0")));
            await write.CommitAsync();
        }

        var reopened = await Factory.OpenAnotherInstanceAsync(store);
        await using var read = await reopened.BeginReadAsync();
        Assert.Equal(alert with { Armed = false, Threshold = new TokenAmount(5), ChangedAt = Now.AddMinutes(1), Version = 1 }, await read.BalanceAlerts.GetAlertAsync(User, Pool));
        Assert.Equal([Pool], (await read.BalanceAlerts.ListAlertsAsync(User)).Select(a => a.PoolId));
        Assert.Empty(await read.BalanceAlerts.ListAlertsAsync(Address.Zero));
        Assert.Null(await read.BalanceAlerts.GetAlertAsync(User, PoolId.Parse("a0")));
    }

    [Fact]
    public async Task OneEventPerFall_NotPerTask_RearmedWhenCreditsComeBack_WithdrawalsToo()
    {
        var store = await Factory.CreateAsync();
        var (ledger, inference, credits, registry) = InferenceKit.Services(store, _clock);
        var alerts = new BalanceAlertService(store, _clock);
        Assert.Equal(CreatePoolResult.Created, (await registry.CreateAsync(Pool, User, InferenceKit.PoolConfig())).Result);
        await ledger.CreateAccountsAsync([new NewAccount(SystemAccounts.Issuance(WellKnownAssets.Credit), WellKnownAssets.Credit, AccountFlags.None),
            new NewAccount(CreditAccounts.Of(User), WellKnownAssets.Credit, AccountFlags.DebitsMustNotExceedCredits)]);
        Assert.Equal(CreateTransferResult.Created, await ledger.CreateTransferAsync(new TransferRequest
        {
            Id = TransferId.Parse("buy"), DebitAccountId = SystemAccounts.Issuance(WellKnownAssets.Credit), CreditAccountId = CreditAccounts.Of(User),
            Asset = WellKnownAssets.Credit, Amount = new TokenAmount(1000), Kind = TransferKind.Parse("purchase"),
        }));
        Assert.Equal(CreditTransferResult.Moved, (await credits.TransferToPoolAsync(TransferId.Parse("in-1"), User, Pool, new TokenAmount(50))).Result);

        var set = (await alerts.SetAsync(User, Pool, new TokenAmount(25)))!;
        Assert.Equal((true, false, new TokenAmount(50)), (set.Alert.Armed, set.IsLow, set.Credits));
        var n = 0;
        async Task<AddTaskResult> TaskAsync() => (await inference.AddTaskAsync("t" + n++, User, Pool, "digits", "{}", new TokenAmount(10))).Result;

        // 50 → 40 → 30 → 20 (fires) → 10 → 0: one event.
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(AddTaskResult.Added, await TaskAsync());
        }

        Assert.Equal(AddTaskResult.InsufficientCredits, await TaskAsync());
        Assert.Equal(["20"], await LowEventsAsync(store));
        Assert.Equal((false, true), ((await alerts.ListAsync(User))[0].Alert.Armed, (await alerts.ListAsync(User))[0].IsLow));

        // The holds are voided: 50 again, re-armed; falling again fires again.
        _clock.Advance(TimeSpan.FromSeconds(3601));
        Assert.Equal(5, await inference.SweepAsync());
        Assert.True((await alerts.ListAsync(User))[0].Alert.Armed);
        Assert.Equal(CreditTransferResult.Moved, (await credits.WithdrawFromPoolAsync(TransferId.Parse("out-1"), User, Pool, new TokenAmount(30))).Result);
        Assert.Equal(["20", "20"], await LowEventsAsync(store));

        // A top-up above re-arms; a refused move changes nothing; a threshold of zero removes the alert.
        Assert.Equal(CreditTransferResult.Moved, (await credits.TransferToPoolAsync(TransferId.Parse("in-2"), User, Pool, new TokenAmount(10))).Result);
        Assert.True((await alerts.ListAsync(User))[0].Alert.Armed);
        Assert.Equal(CreditTransferResult.InsufficientCredits, (await credits.WithdrawFromPoolAsync(TransferId.Parse("out-2"), User, Pool, new TokenAmount(31))).Result);
        Assert.Equal(["20", "20"], await LowEventsAsync(store));
        Assert.Equal(CreditTransferResult.Moved, (await credits.WithdrawFromPoolAsync(TransferId.Parse("out-3"), User, Pool, new TokenAmount(30))).Result);
        Assert.Equal(["20", "20", "0"], await LowEventsAsync(store));
        Assert.Null(await alerts.SetAsync(User, Pool, TokenAmount.Zero));
        Assert.Empty(await alerts.ListAsync(User));
        await LedgerAssert.InvariantHoldsAsync(ledger);
    }

    // The credits in the balance.low events written so far, in order.
    private static async Task<List<string>> LowEventsAsync(IAnpmStore store)
    {
        await using var read = await store.BeginReadAsync();
        var events = await read.Events.GetEventsToFanOutAsync(10_000);
        return [.. events.Where(e => e.Type == AnpmEventTypes.LowBalance).Select(e => System.Text.Json.Nodes.JsonNode.Parse(e.Data)!["credits"]!.GetValue<string>())];
    }
}

public sealed class InMemoryBalanceAlertTests() : BalanceAlertConformanceTests(new InMemoryStoreFactory());

public sealed class SqliteBalanceAlertTests() : BalanceAlertConformanceTests(new SqliteStoreFactory());

[Collection(PostgresCollection.Name)]
public sealed class PostgresBalanceAlertTests(PostgresServerFixture server) : BalanceAlertConformanceTests(new PostgresStoreFactory(server));
