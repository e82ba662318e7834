using System.Numerics;
using Anpm.Abstractions;
using Anpm.Credits;
using Anpm.Testing;
using Anpm.Pools;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Anpm.Storage.Conformance;

/// <summary>
/// Contributions end to end over each store: creation, token notices, refunds through the outbox, the timeout job and
/// the start of funding, with every token received owned by a pool or owed back.
/// </summary>
public abstract partial class ContributionFlowConformanceTests(StoreFactory factory) : ConformanceSuite(factory)
{
    private static readonly Address Alice = Address.Parse("0x70997970c51812dc3a010c7d01b50e0d17dc79c8");
    private static readonly Address Bob = Address.Parse("0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc");
    private static readonly PoolId Campaign = PoolId.Parse("campaign");
    private static readonly Address Treasury = Address.Parse("0x90f79bf6eb2c4f870365e785982e1f101e93b906");

    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 11, 21, 12, 0, 0, TimeSpan.Zero));
    private IAnpmStore _store = null!;
    private Ledger _ledger = null!;
    private PoolRegistry _registry = null!;
    private ContributionService _contributions = null!;
    private Outbox _outbox = null!;
    private TokenNoticeProcessor _notices = null!;

    public override async Task InitializeAsync()
    {
        _store = await Factory.CreateAsync();
        _ledger = new Ledger(_store, Options.Create(new LedgerOptions()), _clock);
        _registry = new PoolRegistry(_store, _clock);
        _outbox = new Outbox(_store, _ledger, new NullGateway(), Options.Create(new OutboxOptions()), _clock,
            [new ContributionPayoutConfirmations(Options.Create(new ContributionOptions { Treasury = Treasury }), _clock)]);
        _contributions = new ContributionService(_store, _ledger, _outbox, _registry, Options.Create(new ContributionOptions { Treasury = Treasury }), _clock);
        _notices = NoticesFor(_contributions);
    }

    private TokenNoticeProcessor NoticesFor(ContributionService contributions, Outbox? outbox = null) =>
        new(_store, _ledger, outbox ?? _outbox, _clock, [contributions]);

    private sealed class NullGateway : ITokenGateway
    {
        public ValueTask<GatewaySendResult> SendAsync(OutgoingTransfer transfer, CancellationToken cancellationToken = default) =>
            new(new GatewaySendResult(GatewaySendStatus.RetryLater));
    }

    private async Task CreateCampaignAsync(ulong limit = 5000)
    {
        var config = "{\"name\":\"Campaign\",\"contribution\":{\"startUtc\":\"2026-11-21T00:00:00Z\",\"endUtc\":\"2026-12-21T00:00:00Z\",\"amountLimit\":\""
            + limit + "\",\"destination\":\"0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed\"}}";
        Assert.Equal(CreatePoolResult.Created, (await _registry.CreateAsync(Campaign, Alice, config)).Result);
    }

    private static TokenNotice Notice(string id, Address sender, ulong quantity, string action = "Contribute", string pool = "campaign", string reference = "") => new()
    {
        MessageId = id,
        Sender = sender,
        Quantity = new TokenAmount(quantity),
        Action = action,
        PoolId = pool,
        Reference = reference,
        ReceivedAt = default,
        Outcome = string.Empty,
    };

    private async Task<ContributionRecord> ContributionAsync(string id)
    {
        await using var unitOfWork = await _store.BeginAsync();
        return (await unitOfWork.Contributions.GetContributionAsync(ContributionId.Parse(id)))!;
    }

    private async Task<BigInteger> BalanceAsync(AccountId account) => (await _ledger.GetAccountAsync(account))?.PostedBalance ?? 0;

    // Every token the system holds (received and not yet confirmed out) is held for a pool, a prize, or owed through
    // the outbox, and the ledger balances.
    private async Task AssertEveryTokenOwnedAsync(ulong received)
    {
        await LedgerAssert.InvariantHoldsAsync(_ledger);
        var held = await BalanceAsync(PoolAccounts.Contributions(Campaign)) + await BalanceAsync(PoolAccounts.Distribution(Campaign)) + await BalanceAsync(PoolAccounts.Rounding(Campaign))
            + await BalanceAsync(PoolAccounts.Prize(ContributionId.Parse("c1"))) + await BalanceAsync(PoolAccounts.Prize(ContributionId.Parse("c2")))
            + await BalanceAsync(SystemAccounts.OutboxInFlight(WellKnownAssets.Apus));
        Assert.Equal((BigInteger)received, held);
        Assert.Equal(-(BigInteger)received, await BalanceAsync(SystemAccounts.Issuance(WellKnownAssets.Apus)));
    }

    [Fact]
    public async Task PendingContribution_PaidByNoticeWithItsIdAndExactAmount()
    {
        await CreateCampaignAsync();
        var created = await _contributions.CreateAsync(ContributionId.Parse("c1"), Campaign, Alice, new TokenAmount(1500));
        Assert.Equal(CreateContributionResult.Created, created.Result);
        Assert.Equal(_clock.GetUtcNow().AddHours(1), created.Contribution!.PayBefore);
        Assert.Equal(CreateContributionResult.Exists, (await _contributions.CreateAsync(ContributionId.Parse("c1"), Campaign, Alice, new TokenAmount(1500))).Result);

        var paid = await _notices.ApplyAsync(Notice("m1", Alice, 1500, reference: "c1"));
        Assert.Equal(new NoticeOutcome("contribution-paid", NoticeResult.Applied), paid);
        Assert.Equal(ContributionStatus.Paid, (await ContributionAsync("c1")).Status);
        Assert.Equal(1500, await BalanceAsync(PoolAccounts.Contributions(Campaign)));
        await AssertEveryTokenOwnedAsync(1500);

        Assert.Equal(new NoticeOutcome("contribution-paid", NoticeResult.Replayed), await _notices.ApplyAsync(Notice("m1", Alice, 1500, reference: "c1")));
        Assert.True((await _notices.ApplyAsync(Notice("m1", Alice, 1, reference: "c1"))).IsConflict);
        await AssertEveryTokenOwnedAsync(1500);
    }

    [Theory]
    [InlineData("Buy-Nothing", "campaign", "", 10UL, "refunded:unknown-action")]
    [InlineData("Contribute", "nowhere", "", 10UL, "refunded:unknown-pool")]
    [InlineData("Contribute", "campaign", "c-unknown", 10UL, "refunded:unknown-contribution")]
    [InlineData("Contribute", "campaign", "c1", 1499UL, "refunded:wrong-amount")]
    public async Task UnusableNotice_RefundedToTheSenderNeverKept(string action, string pool, string reference, ulong quantity, string outcome)
    {
        await CreateCampaignAsync();
        await _contributions.CreateAsync(ContributionId.Parse("c1"), Campaign, Alice, new TokenAmount(1500));
        Assert.Equal(outcome, (await _notices.ApplyAsync(Notice("m1", Bob, quantity, action, pool, reference))).Outcome);
        Assert.Equal(quantity, (ulong)await BalanceAsync(SystemAccounts.OutboxInFlight(WellKnownAssets.Apus)));
        Assert.Equal(ContributionStatus.PendingPayment, (await ContributionAsync("c1")).Status);
        await using (var unitOfWork = await _store.BeginAsync())
        {
            var refund = Assert.Single(await unitOfWork.Outbox.GetDueOutgoingAsync(_clock.GetUtcNow(), 10));
            Assert.Equal((Bob, new TokenAmount(quantity)), (refund.To, refund.Amount));
        }

        await AssertEveryTokenOwnedAsync(quantity);
    }

    [Fact]
    public async Task Timeout_CancelsUnpaidThenLatePaymentRefunded()
    {
        await CreateCampaignAsync();
        await _contributions.CreateAsync(ContributionId.Parse("c1"), Campaign, Alice, new TokenAmount(1500));
        await _contributions.CreateAsync(ContributionId.Parse("c2"), Campaign, Alice, new TokenAmount(500));
        _clock.Advance(TimeSpan.FromMinutes(59));
        Assert.Equal(0, await _contributions.CancelOverdueAsync());
        _clock.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(2, await _contributions.CancelOverdueAsync());
        Assert.Equal(ContributionStatus.Canceled, (await ContributionAsync("c1")).Status);
        Assert.Equal("refunded:contribution-canceled", (await _notices.ApplyAsync(Notice("m1", Alice, 1500, reference: "c1"))).Outcome);
        await AssertEveryTokenOwnedAsync(1500);
    }

    [Fact]
    public async Task ChainTime_APaymentMadeInTimeButFinalLater_PaysItsContribution_ALateOneIsRefunded()
    {
        // The seed's 60-minute timeout; the gateway needs 30 minutes to finality, so the timeout job waits that long more.
        var contributions = new ContributionService(_store, _ledger, _outbox, _registry,
            Options.Create(new ContributionOptions { Treasury = Treasury, PaymentGraceSeconds = 1800 }), _clock);
        var notices = NoticesFor(contributions);
        await CreateCampaignAsync();
        var start = _clock.GetUtcNow();
        await contributions.CreateAsync(ContributionId.Parse("c1"), Campaign, Alice, new TokenAmount(1500));
        await contributions.CreateAsync(ContributionId.Parse("c2"), Campaign, Bob, new TokenAmount(500));
        await contributions.CreateAsync(ContributionId.Parse("c3"), Campaign, Bob, new TokenAmount(700));

        // +75 min: the deposit of +59 min is final now; the grace kept both contributions waiting.
        _clock.Advance(TimeSpan.FromMinutes(75));
        Assert.Equal(0, await contributions.CancelOverdueAsync());
        Assert.Equal("contribution-paid", (await notices.ApplyAsync(Notice("m1", Alice, 1500, reference: "c1"), start.AddMinutes(59))).Outcome);
        Assert.Equal(ContributionStatus.Paid, (await ContributionAsync("c1")).Status);

        // A deposit mined at +61 min is late, whenever it is credited; one stamped in the future is judged now (late too).
        Assert.Equal("refunded:late-payment", (await notices.ApplyAsync(Notice("m2", Bob, 500, reference: "c2"), start.AddMinutes(61))).Outcome);
        Assert.Equal("refunded:late-payment", (await notices.ApplyAsync(Notice("m3", Bob, 700, reference: "c3"), start.AddDays(1))).Outcome);

        // After the grace the timeout job cancels what is still unpaid.
        _clock.Advance(TimeSpan.FromMinutes(16));
        Assert.Equal(2, await contributions.CancelOverdueAsync());
        await AssertEveryTokenOwnedAsync(2700);
    }

    [Fact]
    public async Task DirectDeposit_PaidAtOnceAndThePartOverTheLimitRefunded()
    {
        await CreateCampaignAsync(limit: 2000);
        Assert.Equal("contribution-paid", (await _notices.ApplyAsync(Notice("m1", Alice, 1500))).Outcome);
        Assert.Equal("contribution-paid-partly", (await _notices.ApplyAsync(Notice("m2", Bob, 800))).Outcome);
        Assert.Equal("refunded:limit-reached", (await _notices.ApplyAsync(Notice("m3", Bob, 5))).Outcome);
        Assert.Equal(2000, await BalanceAsync(PoolAccounts.Contributions(Campaign)));
        Assert.Equal(305, await BalanceAsync(SystemAccounts.OutboxInFlight(WellKnownAssets.Apus)));
        await AssertEveryTokenOwnedAsync(2305);
    }

    [Fact]
    public async Task Create_RefusedOutsideTheRulesNamingWhy()
    {
        await CreateCampaignAsync(limit: 1000);
        Assert.Equal(CreateContributionResult.PoolNotFound, (await _contributions.CreateAsync(ContributionId.Parse("x"), PoolId.Parse("nowhere"), Alice, new TokenAmount(1))).Result);
        Assert.Equal(CreateContributionResult.LimitExceeded, (await _contributions.CreateAsync(ContributionId.Parse("x"), Campaign, Alice, new TokenAmount(1001))).Result);
        Assert.Equal(CreateContributionResult.LimitExceeded, (await _contributions.CreateAsync(ContributionId.Parse("x"), Campaign, Alice, TokenAmount.Zero)).Result);
        await _registry.PauseAsync(Campaign);
        var paused = await _contributions.CreateAsync(ContributionId.Parse("x"), Campaign, Alice, new TokenAmount(1));
        Assert.Equal((CreateContributionResult.Paused, "Pool 'campaign' is paused."), (paused.Result, paused.Error));
        Assert.Equal("refunded:pool-paused", (await _notices.ApplyAsync(Notice("while-paused", Bob, 5))).Outcome);
        await _registry.ResumeAsync(Campaign);
        _clock.Advance(TimeSpan.FromDays(31));
        Assert.Equal(CreateContributionResult.WindowClosed, (await _contributions.CreateAsync(ContributionId.Parse("x"), Campaign, Alice, new TokenAmount(1))).Result);
    }

    [Fact]
    public async Task StartFunding_SeedExample_CollectedGoesToTheDestinationOnlyOnTheTransition()
    {
        await CreateCampaignAsync(limit: 5000);
        await _contributions.CreateAsync(ContributionId.Parse("c1"), Campaign, Alice, new TokenAmount(1500));
        await _contributions.CreateAsync(ContributionId.Parse("c2"), Campaign, Bob, new TokenAmount(500));
        await _notices.ApplyAsync(Notice("m1", Alice, 1500, reference: "c1"));
        await _notices.ApplyAsync(Notice("m2", Bob, 500, reference: "c2"));

        var early = await _contributions.StartFundingAsync(Campaign, force: false);
        Assert.Equal(PoolStatusChangeResult.InvalidTransition, early.Result);
        Assert.Contains("still collecting", early.Error, StringComparison.Ordinal);

        var funding = await _contributions.StartFundingAsync(Campaign, force: true);
        Assert.Equal((PoolStatusChangeResult.Changed, PoolStatus.Funding), (funding.Result, funding.Pool!.Status));
        await using (var unitOfWork = await _store.BeginAsync())
        {
            var sent = Assert.Single(await unitOfWork.Outbox.GetDueOutgoingAsync(_clock.GetUtcNow(), 10));
            Assert.Equal((Address.Parse("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed"), new TokenAmount(2000)), (sent.To, sent.Amount));
        }

        Assert.Equal(0, await BalanceAsync(PoolAccounts.Contributions(Campaign)));
        Assert.Equal(PoolStatusChangeResult.InvalidTransition, (await _contributions.StartFundingAsync(Campaign, force: true)).Result);
        Assert.Equal("refunded:pool-not-taking-contributions", (await _notices.ApplyAsync(Notice("m3", Bob, 5))).Outcome);
        await AssertEveryTokenOwnedAsync(2005);
    }

    [Theory]
    [InlineData(0, 100)]
    [InlineData(3600, 0)]
    [InlineData(3600, 10_001)]
    public void Options_Invalid_RefusedNamingThem(int timeoutSeconds, int batchSize)
    {
        var error = Assert.Throws<OptionsValidationException>(() => new ContributionService(_store, _ledger, _outbox, _registry,
            Options.Create(new ContributionOptions { PaymentTimeoutSeconds = timeoutSeconds, TimeoutBatchSize = batchSize }), _clock));
        Assert.Contains("PaymentTimeoutSeconds", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StartFunding_AfterTheWindow_AllowedWithoutForce()
    {
        await CreateCampaignAsync();
        _clock.Advance(TimeSpan.FromDays(31));
        Assert.Equal(PoolStatusChangeResult.Changed, (await _contributions.StartFundingAsync(Campaign, force: false)).Result);
        await AssertEveryTokenOwnedAsync(0);
    }

    [Fact]
    public async Task CancelPool_PaidRefundableToTheOwner_ConfirmationMarksItPaidOut()
    {
        await CreateCampaignAsync();
        await _contributions.CreateAsync(ContributionId.Parse("c1"), Campaign, Alice, new TokenAmount(1500));
        await _contributions.CreateAsync(ContributionId.Parse("c2"), Campaign, Bob, new TokenAmount(500));
        await _notices.ApplyAsync(Notice("m1", Alice, 1500, reference: "c1"));
        Assert.Equal(ClaimResult.NotClaimable, (await _contributions.ClaimRefundAsync(ContributionId.Parse("c1"))).Result);

        var canceled = await _contributions.CancelPoolAsync(Campaign);
        Assert.Equal((PoolStatusChangeResult.Changed, PoolStatus.Canceled), (canceled.Result, canceled.Pool!.Status));
        Assert.Equal((ContributionStatus.AvailableRefund, ContributionStatus.Canceled), ((await ContributionAsync("c1")).Status, (await ContributionAsync("c2")).Status));
        var again = await _contributions.CancelPoolAsync(Campaign);
        Assert.Equal(PoolStatusChangeResult.InvalidTransition, again.Result);
        Assert.Contains("Canceled", again.Error, StringComparison.Ordinal);
        await AssertEveryTokenOwnedAsync(1500);

        // Anyone may claim; the owner is paid, once.
        var claimed = await _contributions.ClaimRefundAsync(ContributionId.Parse("c1"));
        Assert.Equal((ClaimResult.Claimed, ContributionStatus.PendingPayout), (claimed.Result, claimed.Contribution!.Status));
        Assert.Equal(ClaimResult.AlreadyClaimed, (await _contributions.ClaimRefundAsync(ContributionId.Parse("c1"))).Result);
        var unpaid = await _contributions.ClaimRefundAsync(ContributionId.Parse("c2"));
        Assert.Equal(ClaimResult.NotClaimable, unpaid.Result);
        Assert.Contains("is Canceled", unpaid.Error, StringComparison.Ordinal);
        Assert.Equal(ClaimResult.NotFound, (await _contributions.ClaimRefundAsync(ContributionId.Parse("nobody"))).Result);
        OutgoingTransfer refund;
        await using (var unitOfWork = await _store.BeginAsync())
        {
            refund = Assert.Single(await unitOfWork.Outbox.GetDueOutgoingAsync(_clock.GetUtcNow(), 10));
            Assert.Equal((Alice, new TokenAmount(1500)), (refund.To, refund.Amount));
        }

        Assert.Equal(0, await BalanceAsync(PoolAccounts.Contributions(Campaign)));
        await AssertEveryTokenOwnedAsync(1500);

        Assert.Equal(ConfirmResult.Confirmed, await _outbox.ConfirmAsync(refund.Id, "tx-1"));
        Assert.Equal(ContributionStatus.RefundPaidout, (await ContributionAsync("c1")).Status);
        Assert.Equal(ConfirmResult.AlreadyConfirmed, await _outbox.ConfirmAsync(refund.Id, "tx-1"));
        Assert.Equal(ClaimResult.AlreadyClaimed, (await _contributions.ClaimRefundAsync(ContributionId.Parse("c1"))).Result);
        await AssertEveryTokenOwnedAsync(0); // everything received went back to its owner
    }

    [Fact]
    public async Task CancelPool_AfterFunding_RefusedWhileTheFundsAreAway()
    {
        await CreateCampaignAsync();
        await _notices.ApplyAsync(Notice("m1", Alice, 1500));
        await _contributions.StartFundingAsync(Campaign, force: true);

        var refused = await _contributions.CancelPoolAsync(Campaign);
        Assert.Equal((PoolStatusChangeResult.InvalidTransition, PoolStatus.Funding), (refused.Result, refused.Pool!.Status));
        Assert.Contains("holds 0 of the 1500", refused.Error, StringComparison.Ordinal);
        await using (var unitOfWork = await _store.BeginAsync())
        {
            Assert.Equal(PoolStatus.Funding, (await unitOfWork.Pools.GetPoolAsync(Campaign))!.Status);
            Assert.All(await unitOfWork.Contributions.ListPoolContributionsAsync(Campaign, null, 10), c => Assert.Equal(ContributionStatus.Paid, c.Status));
        }

        Assert.Equal(PoolStatusChangeResult.PoolNotFound, (await _contributions.CancelPoolAsync(PoolId.Parse("nowhere"))).Result);
        await AssertEveryTokenOwnedAsync(1500);
    }

    private async Task ConfirmAllDueAsync()
    {
        IReadOnlyList<OutgoingTransfer> due;
        await using (var unitOfWork = await _store.BeginAsync())
        {
            due = await unitOfWork.Outbox.GetDueOutgoingAsync(_clock.GetUtcNow(), 100);
        }

        foreach (var transfer in due)
        {
            Assert.Equal(ConfirmResult.Confirmed, await _outbox.ConfirmAsync(transfer.Id, "tx-" + transfer.Id));
        }
    }

    [Fact]
    public async Task SeedExample_FundedThenDistributed_PrizesProRataPaidToTheOwners()
    {
        await CreateCampaignAsync();
        await _contributions.CreateAsync(ContributionId.Parse("c1"), Campaign, Alice, new TokenAmount(1500));
        await _contributions.CreateAsync(ContributionId.Parse("c2"), Campaign, Bob, new TokenAmount(500));
        await _notices.ApplyAsync(Notice("m1", Alice, 1500, reference: "c1"));
        await _notices.ApplyAsync(Notice("m2", Bob, 500, reference: "c2"));
        Assert.Equal("refunded:pool-not-funding", (await _notices.ApplyAsync(Notice("early", Bob, 9, action: "Distribute"))).Outcome);
        Assert.Equal(PoolStatusChangeResult.InvalidTransition, (await _contributions.StartDistributingAsync(Campaign, new TokenAmount(1))).Result);
        await _contributions.StartFundingAsync(Campaign, force: true);
        await ConfirmAllDueAsync(); // the 2000 reached the destination, the 9 went back to Bob
        await AssertEveryTokenOwnedAsync(0);

        Assert.Equal("distribution-received", (await _notices.ApplyAsync(Notice("back", Alice, 2800, action: "Distribute"))).Outcome);
        var tooMuch = await _contributions.StartDistributingAsync(Campaign, new TokenAmount(2801));
        Assert.Equal(PoolStatusChangeResult.InvalidTransition, tooMuch.Result);
        Assert.Contains("received 2800 base units back", tooMuch.Error, StringComparison.Ordinal);
        Assert.Equal(ClaimResult.NotClaimable, (await _contributions.ClaimPayoutAsync(ContributionId.Parse("c1"))).Result);

        var distributing = await _contributions.StartDistributingAsync(Campaign, new TokenAmount(2800));
        Assert.Equal((PoolStatusChangeResult.Changed, PoolStatus.Distributing), (distributing.Result, distributing.Pool!.Status));
        Assert.Equal((2100, 700), (await BalanceAsync(PoolAccounts.Prize(ContributionId.Parse("c1"))), await BalanceAsync(PoolAccounts.Prize(ContributionId.Parse("c2")))));
        Assert.Equal(ContributionStatus.AvailablePayout, (await ContributionAsync("c2")).Status);
        Assert.Equal("refunded:pool-not-funding", (await _notices.ApplyAsync(Notice("late", Alice, 5, action: "Distribute"))).Outcome);
        await AssertEveryTokenOwnedAsync(2805);

        Assert.Equal(ClaimResult.Claimed, (await _contributions.ClaimPayoutAsync(ContributionId.Parse("c1"))).Result);
        Assert.Equal(ClaimResult.Claimed, (await _contributions.ClaimPayoutAsync(ContributionId.Parse("c2"))).Result);
        Assert.Equal(ClaimResult.AlreadyClaimed, (await _contributions.ClaimPayoutAsync(ContributionId.Parse("c2"))).Result);
        Assert.Equal(ClaimResult.NotClaimable, (await _contributions.ClaimRefundAsync(ContributionId.Parse("c2"))).Result);
        await using (var unitOfWork = await _store.BeginAsync())
        {
            var paid = (await unitOfWork.Outbox.GetDueOutgoingAsync(_clock.GetUtcNow(), 10)).Where(t => t.Kind == ContributionPayoutConfirmations.PrizeKind)
                .Select(t => (t.To, t.Amount.BaseUnits)).OrderBy(t => t.BaseUnits).ToList();
            Assert.Equal([(Bob, (UInt128)700), (Alice, (UInt128)2100)], paid);
        }

        await AssertEveryTokenOwnedAsync(2805);
        await ConfirmAllDueAsync();
        Assert.Equal((ContributionStatus.RewardPaidout, ContributionStatus.RewardPaidout), ((await ContributionAsync("c1")).Status, (await ContributionAsync("c2")).Status));
        Assert.Equal(ClaimResult.AlreadyClaimed, (await _contributions.ClaimPayoutAsync(ContributionId.Parse("c1"))).Result);
        await AssertEveryTokenOwnedAsync(0);
    }

    [Fact]
    public async Task StartDistributing_ZeroPrizeAndUnpaidContributions_ClaimCompletesAtOnce()
    {
        await CreateCampaignAsync();
        await _contributions.CreateAsync(ContributionId.Parse("c1"), Campaign, Alice, new TokenAmount(1500));
        await _contributions.CreateAsync(ContributionId.Parse("c2"), Campaign, Bob, new TokenAmount(500));
        await _notices.ApplyAsync(Notice("m1", Alice, 1500, reference: "c1"));
        await _contributions.StartFundingAsync(Campaign, force: true);
        Assert.Equal(PoolStatusChangeResult.Changed, (await _contributions.StartDistributingAsync(Campaign, TokenAmount.Zero)).Result);
        Assert.Equal(ContributionStatus.Canceled, (await ContributionAsync("c2")).Status);
        var claimed = await _contributions.ClaimPayoutAsync(ContributionId.Parse("c1"));
        Assert.Equal((ClaimResult.Claimed, ContributionStatus.RewardPaidout), (claimed.Result, claimed.Contribution!.Status));
        Assert.Equal(PoolStatus.Closed, (await _registry.GetAsync(Campaign))!.Status); // the last claim done: closed by itself
        await AssertEveryTokenOwnedAsync(1500); // the funding transfer is still unconfirmed
    }

    [Fact]
    public async Task LastPayoutConfirmed_PoolClosesByItself_LeftoverToTheTreasury()
    {
        await CreateCampaignAsync();
        await _notices.ApplyAsync(Notice("m1", Alice, 1000));
        await _notices.ApplyAsync(Notice("m2", Bob, 1000));
        await _notices.ApplyAsync(Notice("m3", Alice, 1000));
        await _contributions.StartFundingAsync(Campaign, force: true);
        await _notices.ApplyAsync(Notice("back", Alice, 1200, action: "Distribute"));
        Assert.Equal(PoolStatusChangeResult.InvalidTransition, (await _contributions.ClosePoolAsync(Campaign)).Result);
        await _contributions.StartDistributingAsync(Campaign, new TokenAmount(1000)); // 333 each, dust 1, 200 kept back
        await ConfirmAllDueAsync();

        IReadOnlyList<ContributionRecord> paid;
        await using (var unitOfWork = await _store.BeginAsync())
        {
            paid = await unitOfWork.Contributions.ListPoolContributionsAsync(Campaign, null, 10);
        }

        foreach (var contribution in paid)
        {
            Assert.Equal(ClaimResult.Claimed, (await _contributions.ClaimPayoutAsync(contribution.Id)).Result);
        }

        var pending = await _contributions.ClosePoolAsync(Campaign);
        Assert.Equal(PoolStatusChangeResult.InvalidTransition, pending.Result);
        Assert.Contains("3 contribution(s)", pending.Error, StringComparison.Ordinal);
        Assert.Contains("after the claim window ends at 2026-12-21T12:00:00.0000000+00:00", pending.Error, StringComparison.Ordinal);
        IReadOnlyList<OutgoingTransfer> prizes;
        await using (var unitOfWork = await _store.BeginAsync())
        {
            prizes = await unitOfWork.Outbox.GetDueOutgoingAsync(_clock.GetUtcNow(), 10);
        }

        Assert.Equal(ConfirmResult.Confirmed, await _outbox.ConfirmAsync(prizes[0].Id));
        Assert.Equal(ConfirmResult.Confirmed, await _outbox.ConfirmAsync(prizes[1].Id));
        Assert.Equal(PoolStatus.Distributing, (await _registry.GetAsync(Campaign))!.Status); // one payout still on its way
        Assert.Equal(ConfirmResult.Confirmed, await _outbox.ConfirmAsync(prizes[2].Id));
        var closed = (await _registry.GetAsync(Campaign))!;
        Assert.Equal((PoolStatus.Closed, _clock.GetUtcNow()), (closed.Status, closed.StatusChangedAt));
        Assert.All(paid, c => Assert.Equal(new TokenAmount(333), ContributionAsync(c.Id.ToString()).Result.Paidout));
        await using (var unitOfWork = await _store.BeginAsync())
        {
            var leftover = (await unitOfWork.Outbox.GetDueOutgoingAsync(_clock.GetUtcNow(), 10)).Select(t => (t.To, t.Amount.BaseUnits, t.Id.ToString())).OrderBy(t => t.BaseUnits).ToList();
            Assert.Equal([(Treasury, (UInt128)1, "close:pool:campaign:rounding"), (Treasury, (UInt128)200, "close:pool:campaign:distribution")], leftover); // the dust, and what was kept back
        }

        Assert.Equal((0, 0), (await BalanceAsync(PoolAccounts.Distribution(Campaign)), await BalanceAsync(PoolAccounts.Rounding(Campaign))));
        var again = await _contributions.ClosePoolAsync(Campaign);
        Assert.Equal(PoolStatusChangeResult.InvalidTransition, again.Result);
        Assert.Contains("Closed", again.Error, StringComparison.Ordinal);
        await ConfirmAllDueAsync();
        await AssertEveryTokenOwnedAsync(0);
    }

    [Fact]
    public async Task ClosePool_WithLeftoverAndNoTreasury_RefusedNamingTheOption()
    {
        var options = Options.Create(new ContributionOptions());
        _outbox = new Outbox(_store, _ledger, new NullGateway(), Options.Create(new OutboxOptions()), _clock, [new ContributionPayoutConfirmations(options, _clock)]);
        var noTreasury = new ContributionService(_store, _ledger, _outbox, _registry, options, _clock);
        await CreateCampaignAsync();
        await NoticesFor(noTreasury).ApplyAsync(Notice("m1", Alice, 1000));
        await noTreasury.StartFundingAsync(Campaign, force: true);
        await NoticesFor(noTreasury).ApplyAsync(Notice("back", Alice, 50, action: "Distribute"));
        await noTreasury.StartDistributingAsync(Campaign, new TokenAmount(40));
        Assert.Equal(ClaimResult.Claimed, (await noTreasury.ClaimPayoutAsync(ContributionId.Parse("d" + Convert.ToHexStringLower(Keccak256.Hash("m1"u8))[..40]))).Result);
        await ConfirmAllDueAsync();
        Assert.Equal(PoolStatus.Distributing, (await _registry.GetAsync(Campaign))!.Status); // it cannot close by itself either
        var refused = await noTreasury.ClosePoolAsync(Campaign);
        Assert.Equal((PoolStatusChangeResult.InvalidTransition, PoolStatus.Distributing), (refused.Result, refused.Pool!.Status));
        Assert.Contains("ContributionOptions.Treasury", refused.Error, StringComparison.Ordinal);
        await AssertEveryTokenOwnedAsync(10);
    }
}

public sealed class InMemoryContributionFlowTests() : ContributionFlowConformanceTests(new InMemoryStoreFactory());

public sealed class SqliteContributionFlowTests() : ContributionFlowConformanceTests(new SqliteStoreFactory());

[Collection(PostgresCollection.Name)]
public sealed class PostgresContributionFlowTests(PostgresServerFixture server) : ContributionFlowConformanceTests(new PostgresStoreFactory(server));
