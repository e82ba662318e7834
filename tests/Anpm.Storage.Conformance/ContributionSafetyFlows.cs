using System.Numerics;
using Anpm.Abstractions;
using Anpm.Credits;
using Anpm.Pools;
using Microsoft.Extensions.Options;

namespace Anpm.Storage.Conformance;

/// <summary>The claim window, the system pause and the emergency withdrawal, over each store.</summary>
public abstract partial class ContributionFlowConformanceTests
{
    [Fact]
    public async Task ClosePool_AfterTheClaimWindow_UnclaimedPayoutsGoToTheirOwners()
    {
        await CreateCampaignAsync();
        await _contributions.CreateAsync(ContributionId.Parse("c1"), Campaign, Alice, new TokenAmount(1500));
        await _contributions.CreateAsync(ContributionId.Parse("c2"), Campaign, Bob, new TokenAmount(500));
        await _notices.ApplyAsync(Notice("m1", Alice, 1500, reference: "c1"));
        await _notices.ApplyAsync(Notice("m2", Bob, 500, reference: "c2"));
        await _contributions.StartFundingAsync(Campaign, force: true);
        await ConfirmAllDueAsync();
        await _notices.ApplyAsync(Notice("back", Alice, 2801, action: "Distribute"));
        _clock.Advance(TimeSpan.FromHours(1));
        var distributing = await _contributions.StartDistributingAsync(Campaign, new TokenAmount(2800));
        Assert.Equal(_clock.GetUtcNow(), distributing.Pool!.StatusChangedAt);
        Assert.Equal(ClaimResult.Claimed, (await _contributions.ClaimPayoutAsync(ContributionId.Parse("c1"))).Result); // Bob never claims

        _clock.Advance(TimeSpan.FromDays(30) - TimeSpan.FromSeconds(1));
        var early = await _contributions.ClosePoolAsync(Campaign);
        Assert.Equal(PoolStatusChangeResult.InvalidTransition, early.Result);
        Assert.Contains("2 contribution(s)", early.Error, StringComparison.Ordinal);
        Assert.Contains("claim window ends at 2026-12-21T13:00:00.0000000+00:00", early.Error, StringComparison.Ordinal);
        Assert.Equal(ContributionStatus.AvailablePayout, (await ContributionAsync("c2")).Status);

        _clock.Advance(TimeSpan.FromSeconds(1));
        var closed = await _contributions.ClosePoolAsync(Campaign);
        Assert.Equal((PoolStatusChangeResult.Changed, PoolStatus.Closed), (closed.Result, closed.Pool!.Status));
        Assert.Equal(ContributionStatus.PendingPayout, (await ContributionAsync("c2")).Status);
        await using (var unitOfWork = await _store.BeginAsync())
        {
            var due = (await unitOfWork.Outbox.GetDueOutgoingAsync(_clock.GetUtcNow(), 10)).Select(t => (t.To, t.Amount.BaseUnits, t.Kind.ToString())).OrderBy(t => t.BaseUnits).ToList();
            Assert.Equal([(Treasury, (UInt128)1, "treasury"), (Bob, (UInt128)700, "contribution-prize"), (Alice, (UInt128)2100, "contribution-prize")], due);
        }

        await AssertEveryTokenOwnedAsync(2801);
        await ConfirmAllDueAsync(); // payouts on their way complete after the close
        Assert.Equal((ContributionStatus.RewardPaidout, ContributionStatus.RewardPaidout), ((await ContributionAsync("c1")).Status, (await ContributionAsync("c2")).Status));
        Assert.Equal(PoolStatus.Closed, (await _registry.GetAsync(Campaign))!.Status);
        await AssertEveryTokenOwnedAsync(0);
    }

    [Fact]
    public async Task ClosePool_CanceledAfterTheClaimWindow_UnclaimedRefundsGoToTheirOwners()
    {
        await CreateCampaignAsync();
        await _notices.ApplyAsync(Notice("m1", Alice, 1500));
        await _notices.ApplyAsync(Notice("m2", Bob, 500));
        await _contributions.CancelPoolAsync(Campaign);
        _clock.Advance(TimeSpan.FromDays(31));
        var closed = await _contributions.ClosePoolAsync(Campaign);
        Assert.Equal((PoolStatusChangeResult.Changed, PoolStatus.Closed), (closed.Result, closed.Pool!.Status));
        await using (var unitOfWork = await _store.BeginAsync())
        {
            var due = (await unitOfWork.Outbox.GetDueOutgoingAsync(_clock.GetUtcNow(), 10)).Select(t => (t.To, t.Amount.BaseUnits)).OrderBy(t => t.BaseUnits).ToList();
            Assert.Equal([(Bob, (UInt128)500), (Alice, (UInt128)1500)], due); // nothing left over for the treasury
        }

        Assert.Equal(0, await BalanceAsync(PoolAccounts.Contributions(Campaign)));
        await ConfirmAllDueAsync();
        await AssertEveryTokenOwnedAsync(0);
    }

    [Fact]
    public async Task ClosePool_AfterTheWindowWithLeftoverAndNoTreasury_RefusedAndNothingPaid()
    {
        var options = Options.Create(new ContributionOptions { ClaimWindowSeconds = 0 });
        var noTreasury = new ContributionService(_store, _ledger, _outbox, _registry, options, _clock);
        await CreateCampaignAsync();
        await noTreasury.CreateAsync(ContributionId.Parse("c1"), Campaign, Alice, new TokenAmount(1000));
        await NoticesFor(noTreasury).ApplyAsync(Notice("m1", Alice, 1000, reference: "c1"));
        await noTreasury.StartFundingAsync(Campaign, force: true);
        await ConfirmAllDueAsync();
        await NoticesFor(noTreasury).ApplyAsync(Notice("back", Alice, 50, action: "Distribute"));
        await noTreasury.StartDistributingAsync(Campaign, new TokenAmount(40));
        var refused = await noTreasury.ClosePoolAsync(Campaign);
        Assert.Equal(PoolStatusChangeResult.InvalidTransition, refused.Result);
        Assert.Contains("ContributionOptions.Treasury", refused.Error, StringComparison.Ordinal);
        Assert.Equal(ContributionStatus.AvailablePayout, Assert.Single(await ListAsync(Campaign)).Status);
        await AssertEveryTokenOwnedAsync(50);
    }

    [Fact]
    public async Task SystemPause_RefusesMoneyMovingCommands_HoldsTheOutbox_UntilResumed()
    {
        var gateway = new CountingGateway();
        var outbox = new Outbox(_store, _ledger, gateway, Options.Create(new OutboxOptions()), _clock,
            [new ContributionPayoutConfirmations(Options.Create(new ContributionOptions { Treasury = Treasury }), _clock)]);
        var contributions = new ContributionService(_store, _ledger, outbox, _registry, Options.Create(new ContributionOptions { Treasury = Treasury }), _clock);
        var pause = new SystemPause(_store, _clock);
        await CreateCampaignAsync();
        await contributions.CreateAsync(ContributionId.Parse("c1"), Campaign, Alice, new TokenAmount(1500));
        await NoticesFor(contributions, outbox).ApplyAsync(Notice("m1", Alice, 1000));

        var paused = await pause.SetAsync(true, Treasury, "investigating");
        Assert.Equal((SetPauseResult.Changed, true, (Address?)Treasury, "investigating", 1L), (paused.Result, paused.State.Paused, paused.State.ChangedBy, paused.State.Reason, paused.State.Version));
        Assert.Equal(SetPauseResult.Unchanged, (await pause.SetAsync(true, Alice, "again")).Result);
        Assert.Equal(paused.State, await pause.GetAsync());

        var created = await contributions.CreateAsync(ContributionId.Parse("c2"), Campaign, Bob, new TokenAmount(1));
        Assert.Equal((CreateContributionResult.Paused, "The system is paused."), (created.Result, created.Error));
        Assert.Equal("refunded:system-paused", (await NoticesFor(contributions, outbox).ApplyAsync(Notice("m2", Alice, 1500, reference: "c1"))).Outcome);
        Assert.Equal(ContributionStatus.PendingPayment, (await ContributionAsync("c1")).Status);
        var funding = await contributions.StartFundingAsync(Campaign, force: true);
        Assert.Equal((PoolStatusChangeResult.SystemPaused, PoolStatus.Active), (funding.Result, funding.Pool!.Status));
        Assert.Equal(0, await outbox.DispatchDueAsync()); // the refund waits
        Assert.Equal(0, gateway.Sent);

        // Cancel moves no money: an admin may still cancel; the refunds wait for the system to run.
        Assert.Equal(PoolStatusChangeResult.Changed, (await contributions.CancelPoolAsync(Campaign)).Result);
        var direct = await ListAsync(Campaign);
        Assert.Equal(ClaimResult.SystemPaused, (await contributions.ClaimRefundAsync(direct.Single(c => c.Status == ContributionStatus.AvailableRefund).Id)).Result);
        Assert.Equal(PoolStatusChangeResult.SystemPaused, (await contributions.ClosePoolAsync(Campaign)).Result);
        await AssertEveryTokenOwnedAsync(2500);

        Assert.Equal(SetPauseResult.Changed, (await pause.SetAsync(false, Treasury, "fixed")).Result);
        Assert.Equal(1, await outbox.DispatchDueAsync());
        Assert.Equal(ClaimResult.Claimed, (await contributions.ClaimRefundAsync(direct.Single(c => c.Status == ContributionStatus.AvailableRefund).Id)).Result);
        Assert.Equal(1, await outbox.DispatchDueAsync());
        Assert.Equal(2, gateway.Sent);
    }

    [Fact]
    public async Task EmergencyWithdrawal_TakesOnlyTokensNobodyIsOwed_OnlyWhilePaused()
    {
        var holdings = new FixedHoldings();
        var withdrawal = new EmergencyWithdrawal(_store, _ledger, _outbox, holdings);
        var pause = new SystemPause(_store, _clock);
        await CreateCampaignAsync();
        await _notices.ApplyAsync(Notice("m1", Alice, 1000));
        await _notices.ApplyAsync(Notice("m2", Bob, 9, action: "Stake")); // refunded: still owed, in the outbox
        holdings.Value = new TokenAmount(1009 + 250); // 250 arrived without a notice

        Assert.Equal(new Solvency(WellKnownAssets.Apus, new TokenAmount(1259), new TokenAmount(1009)), await withdrawal.GetSolvencyAsync(WellKnownAssets.Apus));
        var running = await withdrawal.WithdrawAsync(TransferId.Parse("emergency:1"), WellKnownAssets.Apus, Treasury, new TokenAmount(250));
        Assert.Equal(EmergencyWithdrawalResult.SystemNotPaused, running.Result);

        await pause.SetAsync(true, Treasury, "stray tokens");
        var tooMuch = await withdrawal.WithdrawAsync(TransferId.Parse("emergency:1"), WellKnownAssets.Apus, Treasury, new TokenAmount(251));
        Assert.Equal(EmergencyWithdrawalResult.ExceedsSurplus, tooMuch.Result);
        Assert.Equal("Only tokens nobody is owed can be withdrawn: the token holds 1259 and 1009 are owed, so at most 250 (asked 251).", tooMuch.Error);
        Assert.Equal(EmergencyWithdrawalResult.ExceedsSurplus, (await withdrawal.WithdrawAsync(TransferId.Parse("emergency:1"), WellKnownAssets.Apus, Treasury, TokenAmount.Zero)).Result);

        Assert.Equal(EmergencyWithdrawalResult.Enqueued, (await withdrawal.WithdrawAsync(TransferId.Parse("emergency:1"), WellKnownAssets.Apus, Treasury, new TokenAmount(250))).Result);
        Assert.Equal(EmergencyWithdrawalResult.Exists, (await withdrawal.WithdrawAsync(TransferId.Parse("emergency:1"), WellKnownAssets.Apus, Treasury, new TokenAmount(250))).Result);
        Assert.Equal(EmergencyWithdrawalResult.IdTaken, (await withdrawal.WithdrawAsync(TransferId.Parse("emergency:1"), WellKnownAssets.Apus, Alice, new TokenAmount(250))).Result);
        var again = await withdrawal.WithdrawAsync(TransferId.Parse("emergency:2"), WellKnownAssets.Apus, Treasury, new TokenAmount(1));
        Assert.Equal((EmergencyWithdrawalResult.ExceedsSurplus, new TokenAmount(1259)), (again.Result, again.Solvency!.Obligations)); // the withdrawal is owed now
        await AssertEveryTokenOwnedAsync(1259);

        Assert.Equal(ConfirmResult.Confirmed, await _outbox.ConfirmAsync(TransferId.Parse("emergency:1")));
        holdings.Value = new TokenAmount(1009);
        var after = await withdrawal.GetSolvencyAsync(WellKnownAssets.Apus);
        Assert.Equal((true, TokenAmount.Zero, TokenAmount.Zero), (after.IsSolvent, after.Surplus, after.Shortfall));
        await AssertEveryTokenOwnedAsync(1009);
    }

    [Fact]
    public async Task PoolTotals_CountContributionsAndTheTokensOfTheCampaign()
    {
        await CreateCampaignAsync();
        await _contributions.CreateAsync(ContributionId.Parse("c1"), Campaign, Alice, new TokenAmount(1500));
        await _notices.ApplyAsync(Notice("m1", Alice, 1500, reference: "c1"));
        await _notices.ApplyAsync(Notice("m2", Bob, 500));
        await _contributions.CreateAsync(ContributionId.Parse("c3"), Campaign, Bob, new TokenAmount(7));
        var active = (await _registry.GetTotalsAsync(Campaign))!;
        Assert.Equal(new Dictionary<ContributionStatus, int> { [ContributionStatus.Paid] = 2, [ContributionStatus.PendingPayment] = 1 }, active.Contributions);
        Assert.Equal((new TokenAmount(2000), new TokenAmount(2000), TokenAmount.Zero), (active.Collected, active.Held, active.ReceivedBack));

        await _contributions.StartFundingAsync(Campaign, force: true);
        await _notices.ApplyAsync(Notice("back", Alice, 2801, action: "Distribute"));
        await _contributions.StartDistributingAsync(Campaign, new TokenAmount(2799)); // 2099 and 699, dust 1
        var distributing = (await _registry.GetTotalsAsync(Campaign))!;
        Assert.Equal(new Dictionary<ContributionStatus, int> { [ContributionStatus.AvailablePayout] = 2, [ContributionStatus.Canceled] = 1 }, distributing.Contributions);
        Assert.Equal((new TokenAmount(2000), TokenAmount.Zero, new TokenAmount(2801), new TokenAmount(2), new TokenAmount(1)),
            (distributing.Collected, distributing.Held, distributing.ReceivedBack, distributing.Undistributed, distributing.Dust));
        Assert.Null(await _registry.GetTotalsAsync(PoolId.Parse("nowhere")));
    }

    private async Task<IReadOnlyList<ContributionRecord>> ListAsync(PoolId pool)
    {
        await using var unitOfWork = await _store.BeginAsync();
        return await unitOfWork.Contributions.ListPoolContributionsAsync(pool, null, 100);
    }

    private sealed class CountingGateway : ITokenGateway
    {
        public int Sent { get; private set; }

        public ValueTask<GatewaySendResult> SendAsync(OutgoingTransfer transfer, CancellationToken cancellationToken = default)
        {
            Sent++;
            return new(new GatewaySendResult(GatewaySendStatus.Accepted, "tx-" + transfer.Id));
        }
    }

    private sealed class FixedHoldings : ITokenHoldings
    {
        public TokenAmount Value { get; set; }

        public ValueTask<TokenAmount> GetSettledHoldingsAsync(AssetCode asset, CancellationToken cancellationToken = default) => new(Value);
    }
}
