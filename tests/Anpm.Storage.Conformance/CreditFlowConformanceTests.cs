using System.Numerics;
using Anpm.Abstractions;
using Anpm.Credits;
using Anpm.Pools;
using Anpm.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Anpm.Storage.Conformance;

/// <summary>
/// Credits end to end over each store: the exchange-rate schedule, Buy-Credits notices, moves between an account and a
/// pool, history, and the daily revenue sent to the treasury — every credit and token accounted after each step.
/// </summary>
public abstract class CreditFlowConformanceTests(StoreFactory factory) : ConformanceSuite(factory)
{
    private const ulong Token = 1_000_000_000_000; // one APUS in base units
    private static readonly Address Alice = Address.Parse("0x70997970c51812dc3a010c7d01b50e0d17dc79c8");
    private static readonly Address Bob = Address.Parse("0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc");
    private static readonly Address Feeder = Address.Parse("0x15d34aaf54267db7d7c367839aaf71a00a2c6a65");
    private static readonly Address Treasury = Address.Parse("0x90f79bf6eb2c4f870365e785982e1f101e93b906");
    private static readonly PoolId Demo = PoolId.Parse("demo");

    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 11, 21, 12, 0, 0, TimeSpan.Zero));
    private IAnpmStore _store = null!;
    private Ledger _ledger = null!;
    private Outbox _outbox = null!;
    private CreditService _credits = null!;
    private TokenNoticeProcessor _notices = null!;
    private BigInteger _received;

    public override async Task InitializeAsync()
    {
        _store = await Factory.CreateAsync();
        _ledger = new Ledger(_store, Options.Create(new LedgerOptions()), _clock);
        _outbox = new Outbox(_store, _ledger, new NullGateway(), Options.Create(new OutboxOptions()), _clock);
        _credits = new CreditService(_store, _ledger, _outbox, Options.Create(new CreditOptions { Treasury = Treasury }), _clock);
        _notices = new TokenNoticeProcessor(_store, _ledger, _outbox, _clock, [_credits]);
        var registry = new PoolRegistry(_store, _clock);
        Assert.Equal(CreatePoolResult.Created, (await registry.CreateAsync(Demo, Alice, """{"name":"Demo","inference":{"models":[{"id":"digits","sha256":"0x0000000000000000000000000000000000000000000000000000000000000001","price":"10"}]}}""")).Result);
    }

    private sealed class NullGateway : ITokenGateway
    {
        public ValueTask<GatewaySendResult> SendAsync(OutgoingTransfer transfer, CancellationToken cancellationToken = default) =>
            new(new GatewaySendResult(GatewaySendStatus.RetryLater));
    }

    private async Task<NoticeOutcome> BuyAsync(string id, Address sender, ulong quantity, DateTimeOffset? paidAt = null, string reference = "")
    {
        var outcome = await _notices.ApplyAsync(new TokenNotice
        {
            MessageId = id,
            Sender = sender,
            Quantity = new TokenAmount(quantity),
            Action = "Buy-Credits",
            PoolId = string.Empty,
            Reference = reference,
            ReceivedAt = default,
            Outcome = string.Empty,
        }, paidAt);
        if (!outcome.IsReplay && !outcome.IsConflict)
        {
            _received += quantity;
        }

        return outcome;
    }

    private async Task<BigInteger> BalanceAsync(AccountId account) => (await _ledger.GetAccountAsync(account))?.PostedBalance ?? 0;

    // Every token received is revenue or owed back through the outbox; every credit issued is held by someone.
    private async Task AssertAccountedAsync(params AccountId[] creditAccounts)
    {
        await LedgerAssert.InvariantHoldsAsync(_ledger);
        Assert.Equal(-_received, await BalanceAsync(SystemAccounts.Issuance(WellKnownAssets.Apus)));
        BigInteger credits = 0;
        foreach (var account in creditAccounts)
        {
            credits += await BalanceAsync(account);
        }

        Assert.Equal(-credits, await BalanceAsync(SystemAccounts.Issuance(WellKnownAssets.Credit)));
    }

    [Fact]
    public async Task ExchangeRate_Schedule_ValidatedAndListedNewestFirst()
    {
        var now = _clock.GetUtcNow();
        Assert.Null(await _credits.GetExchangeRateAsync());
        Assert.Equal(SetExchangeRateResult.Set, (await _credits.SetExchangeRateAsync(Feeder, new TokenAmount(1000), new TokenAmount(Token), now)).Result);
        Assert.Equal(SetExchangeRateResult.Exists, (await _credits.SetExchangeRateAsync(Feeder, new TokenAmount(1000), new TokenAmount(Token), now)).Result);
        Assert.Equal(SetExchangeRateResult.Conflict, (await _credits.SetExchangeRateAsync(Feeder, new TokenAmount(999), new TokenAmount(Token), now)).Result);
        var past = await _credits.SetExchangeRateAsync(Feeder, new TokenAmount(5), new TokenAmount(Token), now.AddSeconds(-1));
        Assert.Equal(SetExchangeRateResult.Invalid, past.Result);
        Assert.Contains("is in the past", past.Error, StringComparison.Ordinal);
        Assert.Equal(SetExchangeRateResult.Invalid, (await _credits.SetExchangeRateAsync(Feeder, TokenAmount.Zero, new TokenAmount(Token), now)).Result);
        Assert.Equal(SetExchangeRateResult.Invalid, (await _credits.SetExchangeRateAsync(Feeder, new TokenAmount(1), TokenAmount.Zero, now)).Result);
        Assert.Equal(SetExchangeRateResult.Set, (await _credits.SetExchangeRateAsync(Feeder, new TokenAmount(1200), new TokenAmount(Token), now.AddDays(1))).Result);
        _clock.Advance(TimeSpan.FromHours(1));
        var immediate = await _credits.SetExchangeRateAsync(Feeder, new TokenAmount(1100), new TokenAmount(Token), effectiveAt: null);
        Assert.Equal((SetExchangeRateResult.Set, _clock.GetUtcNow()), (immediate.Result, immediate.Rate!.EffectiveAt));

        Assert.Equal(new TokenAmount(1100), (await _credits.GetExchangeRateAsync())!.Credits);
        Assert.Equal(new TokenAmount(1000), (await _credits.GetExchangeRateAsync(now.AddMinutes(59)))!.Credits);
        Assert.Equal(new TokenAmount(1200), (await _credits.GetExchangeRateAsync(now.AddDays(2)))!.Credits);
        Assert.Equal([1200UL, 1100UL, 1000UL], (await _credits.GetExchangeRateHistoryAsync(null, 10)).Select(r => (ulong)r.Credits.BaseUnits));
    }

    [Fact]
    public async Task BuyCredits_WhoseCreditsOverflowTheLedger_RefundedWholeAndLoggedAsAWarning()
    {
        var log = new ListLogger<TokenNoticeProcessor>();
        _notices = new TokenNoticeProcessor(_store, _ledger, _outbox, _clock, [_credits], log);
        var half = new TokenAmount(UInt128.One << 127);
        await _credits.SetExchangeRateAsync(Feeder, half, new TokenAmount(1), _clock.GetUtcNow());
        Assert.Equal("credits-bought:" + half, (await BuyAsync("big-1", Alice, 1)).Outcome);
        Assert.Empty(log.Entries);
        Assert.Equal("refunded:ledger-overflow", (await BuyAsync("big-2", Alice, 1)).Outcome); // 2^128 credits: one too many
        var warning = Assert.Single(log.Entries);
        Assert.Equal((LogLevel.Warning, 301), (warning.Level, warning.EventId.Id));
        Assert.Contains("big-2", warning.Message, StringComparison.Ordinal);
        Assert.Equal("refunded:ledger-overflow", (await BuyAsync("big-2", Alice, 1)).Outcome); // a replay: nothing new to log
        Assert.Single(log.Entries);
        Assert.Equal((BigInteger)half.BaseUnits, await BalanceAsync(CreditAccounts.Of(Alice)));
        await AssertAccountedAsync(CreditAccounts.Of(Alice));
    }

    [Fact]
    public async Task BuyCredits_AReferenceWithControlCharacters_Bought_TheLedgerKeepsItWithSpaces()
    {
        await _credits.SetExchangeRateAsync(Feeder, new TokenAmount(1000), new TokenAmount(Token), _clock.GetUtcNow());
        Assert.Equal("credits-bought:1000", (await BuyAsync("m-ctl", Alice, Token, reference: "order\n7\t")).Outcome);
        var purchase = (await _ledger.GetAccountHistoryAsync(CreditAccounts.Of(Alice), null, 10)).Entries.Single();
        Assert.Equal("order 7  · m-ctl", purchase.Transfer.Reference); // newline and tab: spaces
        await AssertAccountedAsync(CreditAccounts.Of(Alice));
    }

    [Fact]
    public async Task BuyCredits_AtTheRateInForce_TokenBecomesTheDaysRevenue_RefusalsRefunded()
    {
        Assert.Equal("refunded:no-exchange-rate", (await BuyAsync("m0", Alice, Token)).Outcome);
        await _credits.SetExchangeRateAsync(Feeder, new TokenAmount(1000), new TokenAmount(Token), _clock.GetUtcNow());
        await _credits.SetExchangeRateAsync(Feeder, new TokenAmount(3), new TokenAmount(2), _clock.GetUtcNow().AddHours(1));

        Assert.Equal("credits-bought:2500", (await BuyAsync("m1", Alice, 2 * Token + Token / 2)).Outcome);
        Assert.Equal("credits-bought:2500", (await BuyAsync("m1", Alice, 2 * Token + Token / 2)).Outcome); // replay
        Assert.True((await BuyAsync("m1", Alice, 7)).IsConflict);
        Assert.Equal("credits-bought:1", (await BuyAsync("m2", Bob, Token / 1000 + Token / 1000 - 1)).Outcome); // floor: 1.999 credits → 1
        Assert.Equal("refunded:below-one-credit", (await BuyAsync("m3", Bob, Token / 1000 - 1)).Outcome);

        _clock.Advance(TimeSpan.FromHours(1)); // 3 credits per 2 base units from now on
        Assert.Equal("credits-bought:16", (await BuyAsync("m4", Bob, 11)).Outcome); // 16.5 rounded down
        await _credits.SetExchangeRateAsync(Feeder, TokenAmount.MaxValue, new TokenAmount(1), _clock.GetUtcNow().AddHours(1));
        _clock.Advance(TimeSpan.FromHours(1));
        Assert.Equal("refunded:too-many-credits", (await BuyAsync("m5", Bob, 2)).Outcome); // the credits would not fit
        var (alice, _) = await _credits.GetBalancesAsync(Alice);
        Assert.Equal(new TokenAmount(2500), alice);
        Assert.Equal(
            (BigInteger)(2 * Token + Token / 2) + (Token / 1000 + Token / 1000 - 1) + 11,
            await BalanceAsync(CreditAccounts.Revenue(WellKnownAssets.Apus, new DateOnly(2026, 11, 21))));
        await AssertAccountedAsync(CreditAccounts.Of(Alice), CreditAccounts.Of(Bob));
    }

    [Fact]
    public async Task BuyCredits_AtTheRateInForceWhenTheTokensMoved_NotWhenFinalityLetThemBeCredited()
    {
        var start = _clock.GetUtcNow();
        await _credits.SetExchangeRateAsync(Feeder, new TokenAmount(1000), new TokenAmount(Token), start);
        await _credits.SetExchangeRateAsync(Feeder, new TokenAmount(3), new TokenAmount(2), start.AddMinutes(60));
        _clock.Advance(TimeSpan.FromMinutes(75));
        Assert.Equal("credits-bought:2000", (await BuyAsync("m1", Alice, 2 * Token, paidAt: start.AddMinutes(59))).Outcome);
        Assert.Equal("credits-bought:3", (await BuyAsync("m2", Bob, 2, paidAt: start.AddMinutes(61))).Outcome);
        Assert.Equal("credits-bought:3", (await BuyAsync("m3", Bob, 2, paidAt: start.AddDays(1))).Outcome); // a future stamp is judged now
        Assert.Equal("refunded:no-exchange-rate", (await BuyAsync("m4", Bob, Token, paidAt: start.AddMinutes(-1))).Outcome); // before any rate
        await AssertAccountedAsync(CreditAccounts.Of(Alice), CreditAccounts.Of(Bob));
    }

    [Fact]
    public async Task BuyCredits_WhileSystemPaused_Refunded()
    {
        await _credits.SetExchangeRateAsync(Feeder, new TokenAmount(1000), new TokenAmount(Token), _clock.GetUtcNow());
        await new SystemPause(_store, _clock).SetAsync(true, Feeder, "incident");
        Assert.Equal("refunded:system-paused", (await BuyAsync("m1", Alice, Token)).Outcome);
        Assert.Equal((TokenAmount.Zero, TokenAmount.Zero), await _credits.GetBalancesAsync(Alice));
        await AssertAccountedAsync(CreditAccounts.Of(Alice));
    }

    [Fact]
    public async Task Credits_ThePoolsGate_RefusesMovesIntoAPausedPool_LetsThemOut_WithoutAGateEveryPoolThatExistsIsOpen()
    {
        var registry = new PoolRegistry(_store, _clock);
        var gated = new CreditService(_store, _ledger, _outbox, Options.Create(new CreditOptions { Treasury = Treasury }), _clock, poolGate: registry);
        await _credits.SetExchangeRateAsync(Feeder, new TokenAmount(1000), new TokenAmount(Token), _clock.GetUtcNow());
        await BuyAsync("m1", Alice, Token);
        Assert.Equal(CreditTransferResult.Moved, (await gated.TransferToPoolAsync(TransferId.Parse("in-1"), Alice, Demo, new TokenAmount(300))).Result);
        Assert.Equal(PoolStatus.Paused, (await registry.PauseAsync(Demo)).Pool!.Status);

        var refused = await gated.TransferToPoolAsync(TransferId.Parse("in-2"), Alice, Demo, new TokenAmount(1));
        Assert.Equal((CreditTransferResult.PoolNotActive, "Pool 'demo' is Paused; credits move in while it is Active.", new TokenAmount(700), new TokenAmount(300)),
            (refused.Result, refused.Error, refused.AccountCredits, refused.PoolCredits));
        Assert.Null(await _ledger.GetTransferAsync(TransferId.Parse("in-2"))); // refused: nothing moved
        Assert.Equal(CreditTransferResult.Moved, (await gated.WithdrawFromPoolAsync(TransferId.Parse("out-1"), Alice, Demo, new TokenAmount(100))).Result); // out: still allowed
        var missing = await gated.TransferToPoolAsync(TransferId.Parse("in-3"), Alice, PoolId.Parse("nowhere"), new TokenAmount(1));
        Assert.Equal((CreditTransferResult.PoolNotFound, "There is no pool 'nowhere'."), (missing.Result, missing.Error));

        // Credits alone (no gate): a pool that exists takes credits whatever Pools would say of its status.
        Assert.Equal(CreditTransferResult.Moved, (await _credits.TransferToPoolAsync(TransferId.Parse("in-4"), Alice, Demo, new TokenAmount(1))).Result);
        await AssertAccountedAsync(CreditAccounts.Of(Alice), CreditAccounts.InPool(Demo, Alice));
    }

    [Fact]
    public async Task Credits_MoveToAPoolAndBack_IdempotentNeverNegative_WithHistoryKinds()
    {
        await _credits.SetExchangeRateAsync(Feeder, new TokenAmount(1000), new TokenAmount(Token), _clock.GetUtcNow());
        await BuyAsync("m1", Alice, Token);
        var moved = await _credits.TransferToPoolAsync(TransferId.Parse("t1"), Alice, Demo, new TokenAmount(600));
        Assert.Equal((CreditTransferResult.Moved, new TokenAmount(400), new TokenAmount(600)), (moved.Result, moved.AccountCredits, moved.PoolCredits));
        Assert.Equal(CreditTransferResult.Exists, (await _credits.TransferToPoolAsync(TransferId.Parse("t1"), Alice, Demo, new TokenAmount(600))).Result);
        Assert.Equal(CreditTransferResult.IdTaken, (await _credits.TransferToPoolAsync(TransferId.Parse("t1"), Alice, Demo, new TokenAmount(1))).Result);
        var tooMuch = await _credits.TransferToPoolAsync(TransferId.Parse("t2"), Alice, Demo, new TokenAmount(401));
        Assert.Equal((CreditTransferResult.InsufficientCredits, new TokenAmount(400)), (tooMuch.Result, tooMuch.AccountCredits));
        Assert.Equal(CreditTransferResult.InvalidAmount, (await _credits.TransferToPoolAsync(TransferId.Parse("t3"), Alice, Demo, TokenAmount.Zero)).Result);
        var missing = await _credits.TransferToPoolAsync(TransferId.Parse("t4"), Alice, PoolId.Parse("nowhere"), new TokenAmount(1));
        Assert.Equal((CreditTransferResult.PoolNotFound, "There is no pool 'nowhere'."), (missing.Result, missing.Error));
        Assert.Equal(CreditTransferResult.InsufficientCredits, (await _credits.WithdrawFromPoolAsync(TransferId.Parse("w0"), Bob, Demo, new TokenAmount(1))).Result);

        var back = await _credits.WithdrawFromPoolAsync(TransferId.Parse("w1"), Alice, Demo, new TokenAmount(250));
        Assert.Equal((CreditTransferResult.Moved, new TokenAmount(650), new TokenAmount(350)), (back.Result, back.AccountCredits, back.PoolCredits));
        await new SystemPause(_store, _clock).SetAsync(true, Feeder, "incident");
        Assert.Equal(CreditTransferResult.SystemPaused, (await _credits.WithdrawFromPoolAsync(TransferId.Parse("w2"), Alice, Demo, new TokenAmount(1))).Result);

        var history = await _credits.GetHistoryAsync(Alice, null, null, 10);
        Assert.Equal(["withdraw", "transfer", "purchase"], history.Entries.Select(e => e.Transfer.Kind.ToString()));
        Assert.Equal(["withdraw", "transfer"], (await _credits.GetHistoryAsync(Alice, Demo, null, 10)).Entries.Select(e => e.Transfer.Kind.ToString()));
        await AssertAccountedAsync(CreditAccounts.Of(Alice), CreditAccounts.InPool(Demo, Alice), CreditAccounts.Of(Bob), CreditAccounts.InPool(Demo, Bob));
    }

    [Fact]
    public async Task Credits_SameMoveOrNoticeFromTwoInstancesAtOnce_TakesEffectOnce_EveryCallerToldItIsDone()
    {
        await _credits.SetExchangeRateAsync(Feeder, new TokenAmount(1000), new TokenAmount(Token), _clock.GetUtcNow());
        await BuyAsync("m1", Alice, Token);
        var otherStore = await Factory.OpenAnotherInstanceAsync(_store);
        var otherLedger = new Ledger(otherStore, Options.Create(new LedgerOptions()), _clock);
        var other = new CreditService(otherStore, otherLedger, new Outbox(otherStore, otherLedger, new NullGateway(), Options.Create(new OutboxOptions()), _clock),
            Options.Create(new CreditOptions { Treasury = Treasury }), _clock);
        for (var round = 0; round < 10; round++)
        {
            var id = TransferId.Parse($"same-{round}");
            var outcomes = await Task.WhenAll(Enumerable.Range(0, 8).Select(n => Task.Run(async () =>
                await (n % 2 == 0 ? _credits : other).TransferToPoolAsync(id, Alice, Demo, new TokenAmount(7)))));
            Assert.Single(outcomes, o => o.Result == CreditTransferResult.Moved);
            Assert.All(outcomes, o => Assert.Contains(o.Result, new[] { CreditTransferResult.Moved, CreditTransferResult.Exists }));
        }

        Assert.Equal(new TokenAmount(70), (await _credits.GetBalancesAsync(Alice, Demo)).InPool);

        // The same notice from two instances at once is applied once; the others are told it is a replay.
        var otherNotices = new TokenNoticeProcessor(otherStore, otherLedger, new Outbox(otherStore, otherLedger, new NullGateway(), Options.Create(new OutboxOptions()), _clock), _clock, [other]);
        var notice = new TokenNotice
        {
            MessageId = "raced", Sender = Alice, Quantity = new TokenAmount(Token), Action = "Buy-Credits", PoolId = string.Empty, Reference = string.Empty,
            ReceivedAt = default, Outcome = string.Empty,
        };
        var applied = await Task.WhenAll(Enumerable.Range(0, 8).Select(n => Task.Run(async () => await (n % 2 == 0 ? _notices : otherNotices).ApplyAsync(notice))));
        Assert.Single(applied, o => !o.IsReplay);
        Assert.All(applied, o => Assert.Equal(("credits-bought:1000", false), (o.Outcome, o.IsConflict)));
        _received += Token;
        Assert.Equal(new TokenAmount(1930), (await _credits.GetBalancesAsync(Alice)).Account);
        await AssertAccountedAsync(CreditAccounts.Of(Alice), CreditAccounts.InPool(Demo, Alice));
    }

    [Fact]
    public async Task DailyRevenue_OneTransferPerDayToTheTreasury_CatchesUp_Once()
    {
        await _credits.SetExchangeRateAsync(Feeder, new TokenAmount(1000), new TokenAmount(Token), _clock.GetUtcNow());
        Assert.Equal(0, await _credits.SendDailyRevenueAsync()); // nothing sold yet
        await BuyAsync("d1a", Alice, 3 * Token);
        await BuyAsync("d1b", Bob, 2 * Token);
        Assert.Equal(0, await _credits.SendDailyRevenueAsync()); // today is not over
        _clock.Advance(TimeSpan.FromDays(2)); // day 2 sells nothing, day 3:
        await BuyAsync("d3", Alice, 7 * Token);
        _clock.Advance(TimeSpan.FromDays(2)); // the job was down until day 5

        var second = new CreditService(_store, _ledger, _outbox, Options.Create(new CreditOptions { Treasury = Treasury }), _clock);
        var runs = await Task.WhenAll(_credits.SendDailyRevenueAsync().AsTask(), second.SendDailyRevenueAsync().AsTask());
        Assert.Equal(4, runs.Sum()); // days 21, 22, 23 and 24, each once
        Assert.Equal(0, await _credits.SendDailyRevenueAsync());
        await using (var unitOfWork = await _store.BeginAsync())
        {
            var sent = (await unitOfWork.Outbox.GetDueOutgoingAsync(_clock.GetUtcNow(), 10)).Select(t => (t.Id.ToString(), t.To, t.Amount.BaseUnits)).OrderBy(t => t.Item1).ToList();
            Assert.Equal([("revenue:APUS:2026-11-21", Treasury, (UInt128)(5 * Token)), ("revenue:APUS:2026-11-23", Treasury, (UInt128)(7 * Token))], sent);
        }

        Assert.Equal(0, await BalanceAsync(CreditAccounts.Revenue(WellKnownAssets.Apus, new DateOnly(2026, 11, 21))));
        await AssertAccountedAsync(CreditAccounts.Of(Alice), CreditAccounts.Of(Bob));
        var noTreasury = new CreditService(_store, _ledger, _outbox, Options.Create(new CreditOptions()), _clock);
        var error = await Assert.ThrowsAsync<InvalidOperationException>(async () => await noTreasury.SendDailyRevenueAsync());
        Assert.Contains("CreditOptions.Treasury", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public Task RandomPurchasesAndMoves_NoCreditOrTokenCreatedOrLost() => TestSeed.RunAsync(SimulateCreditsAsync);

    private async Task SimulateCreditsAsync(int seed)
    {
        var random = new Random(seed);
        await _credits.SetExchangeRateAsync(Feeder, new TokenAmount(7), new TokenAmount(3), _clock.GetUtcNow());
        Address[] users = [Alice, Bob];
        BigInteger issued = 0;
        for (var step = 0; step < Factory.SimulationOperations / 500; step++)
        {
            var user = users[random.Next(users.Length)];
            switch (random.Next(4))
            {
                case 0:
                {
                    var quantity = (ulong)random.Next(0, 1000);
                    var outcome = await BuyAsync("r" + step, user, quantity);
                    issued += outcome.Outcome.StartsWith("credits-bought:", StringComparison.Ordinal) ? BigInteger.Parse(outcome.Outcome["credits-bought:".Length..]) : 0;
                    Assert.Equal(quantity * 7 / 3 >= 1 ? "credits-bought:" + (quantity * 7 / 3) : quantity == 0 ? "ignored:zero-quantity" : "refunded:below-one-credit", outcome.Outcome);
                    break;
                }

                case 1:
                    await _credits.TransferToPoolAsync(TransferId.Parse("t" + step), user, Demo, new TokenAmount((ulong)random.Next(0, 500)));
                    break;
                case 2:
                    await _credits.WithdrawFromPoolAsync(TransferId.Parse("w" + step), user, Demo, new TokenAmount((ulong)random.Next(0, 500)));
                    break;
                default:
                    _clock.Advance(TimeSpan.FromHours(random.Next(1, 30)));
                    await _credits.SendDailyRevenueAsync();
                    break;
            }

            AccountId[] accounts = [CreditAccounts.Of(Alice), CreditAccounts.Of(Bob), CreditAccounts.InPool(Demo, Alice), CreditAccounts.InPool(Demo, Bob)];
            await AssertAccountedAsync(accounts);
            Assert.Equal(-issued, await BalanceAsync(SystemAccounts.Issuance(WellKnownAssets.Credit)));
        }
    }
}

public sealed class InMemoryCreditFlowTests() : CreditFlowConformanceTests(new InMemoryStoreFactory());

public sealed class SqliteCreditFlowTests() : CreditFlowConformanceTests(new SqliteStoreFactory());

[Collection(PostgresCollection.Name)]
public sealed class PostgresCreditFlowTests(PostgresServerFixture server) : CreditFlowConformanceTests(new PostgresStoreFactory(server));
