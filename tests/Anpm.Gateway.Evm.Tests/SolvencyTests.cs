using System.Numerics;
using Anpm.Abstractions;
using Anpm.Credits;
using Anpm.Storage.InMemory;
using Anpm.Testing;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Anpm.Gateway.Evm.Tests;

/// <summary>
/// The solvency report on a chain reads holdings and obligations at the same point: a deposit seen above finality is no
/// surplus, a payout mined but not final is no shortfall (it shows as in flight), and after confirmation both sides agree
/// again. Only a real gap — tokens gone from the wallet that the ledger did not pay — is a shortfall.
/// </summary>
public sealed class SolvencyTests : IAsyncLifetime
{
    private static readonly Address Treasury = Address.Parse("0x00000000000000000000000000000000000000aa");
    private readonly FakeTimeProvider _clock = new(DateTimeOffset.UtcNow);
    private TestChain _chain = null!;
    private Deployed _token = null!;
    private TestWallet _hot = null!;
    private TestWallet _payer = null!;
    private InMemoryAnpmStore _store = null!;
    private Ledger _ledger = null!;
    private Outbox _outbox = null!;
    private CreditService _credits = null!;
    private EvmDepositListener _listener = null!;
    private EvmPayoutSender _sender = null!;
    private EmergencyWithdrawal _report = null!;

    public async Task InitializeAsync()
    {
        _chain = await TestChain.StartAsync();
        _hot = await _chain.WalletAsync();
        _payer = await _chain.WalletAsync();
        _token = await _chain.DeployAsync("TestToken");
        await TestChain.SendAsync(_payer, _token, "mint", _payer.Address, new BigInteger(1_000_000));

        _store = new InMemoryAnpmStore();
        await TestRates.SetSinceYesterdayAsync(_store, 1, 1);
        var client = new NethereumChainClient(_chain.Node.Url);
        var finality = EvmFinality.Depth(3);
        _ledger = new Ledger(_store, Options.Create(new LedgerOptions()), _clock);
        _sender = new EvmPayoutSender(client, EvmKeySigner.FromHex(_hot.PrivateKeyHex), _store, () => _outbox, Options.Create(new EvmPayoutOptions
        {
            ChainId = 31337, Token = _token.Address, Finality = finality,
        }), _clock);
        _outbox = new Outbox(_store, _ledger, _sender, Options.Create(new OutboxOptions()), _clock);
        _credits = new CreditService(_store, _ledger, _outbox, Options.Create(new CreditOptions { Treasury = Treasury }), _clock);
        var notices = new TokenNoticeProcessor(_store, _ledger, _outbox, _clock, [_credits]);
        var deposits = Options.Create(new EvmDepositOptions { ChainId = 31337, Token = _token.Address, Custody = _hot.Address, Finality = finality });
        _listener = new EvmDepositListener(client, _store, notices, deposits);
        _report = new EmergencyWithdrawal(_store, _ledger, _outbox, new EvmTokenHoldings(client, _store, _sender, deposits));
    }

    public async Task DisposeAsync()
    {
        await LedgerAssert.InvariantHoldsAsync(_ledger);
        await _chain.DisposeAsync();
    }

    [Fact]
    public async Task ADepositAboveFinality_IsNoSurplus_APayoutMinedButNotFinal_IsNoShortfall()
    {
        // A deposit at the head: not final, not credited, and not counted as held either.
        await TestChain.SendAsync(_payer, _token, "transfer", _hot.Address, new BigInteger(1_000));
        Assert.Single((await _listener.PollAsync()).Pending);
        await AssertReportAsync(holdings: 0, inFlight: 0, obligations: 0);

        // Final and credited: held and owed.
        await _chain.Node.MineAsync(2);
        Assert.Equal(1, (await _listener.PollAsync()).Credited);
        await AssertReportAsync(holdings: 1_000, inFlight: 0, obligations: 1_000);

        // The day's revenue is paid to the treasury: mined at the head, then below the credited height but not yet
        // confirmed by the sender — in flight, never a shortfall.
        _clock.Advance(TimeSpan.FromDays(2));
        Assert.True(await _credits.SendDailyRevenueAsync() >= 1);
        Assert.Equal(1, await _outbox.DispatchDueAsync());
        await MinedAsync(1);
        await _listener.PollAsync();
        await AssertReportAsync(holdings: 1_000, inFlight: 0, obligations: 1_000);
        await _chain.Node.MineAsync(2);
        await _listener.PollAsync();
        await AssertReportAsync(holdings: 0, inFlight: 1_000, obligations: 1_000);

        // Confirmed at finality: the ledger no longer owes it.
        Assert.Equal(1, (await _sender.ReconcileAsync())!.Confirmed);
        await AssertReportAsync(holdings: 0, inFlight: 0, obligations: 0);
        Assert.Equal(1_000, await _chain.BalanceAsync(_token, Treasury.ToString()));

        // A real gap: tokens leave the wallet without the ledger paying them.
        await TestChain.SendAsync(_payer, _token, "transfer", _hot.Address, new BigInteger(500));
        await _chain.Node.MineAsync(2);
        Assert.Equal(1, (await _listener.PollAsync()).Credited);
        await TestChain.SendAsync(_hot, _token, "transfer", _payer.Address, new BigInteger(200));
        await _chain.Node.MineAsync(2);
        await _listener.PollAsync();
        var report = await _report.GetSolvencyAsync(WellKnownAssets.Apus);
        Assert.False(report.IsSolvent);
        Assert.Equal(new TokenAmount(200), report.Shortfall);
    }

    private async Task AssertReportAsync(long holdings, long inFlight, long obligations)
    {
        var report = await _report.GetSolvencyAsync(WellKnownAssets.Apus);
        Assert.Equal((holdings, inFlight, obligations), ((long)report.Holdings.BaseUnits, (long)report.InFlight.BaseUnits, (long)report.Obligations.BaseUnits));
        Assert.True(report.IsSolvent);
        Assert.Equal(TokenAmount.Zero, report.Shortfall);
        Assert.Equal(TokenAmount.Zero, report.Surplus);
        Assert.StartsWith("block ", report.ReadAt, StringComparison.Ordinal);
        await LedgerAssert.InvariantHoldsAsync(_ledger);
    }

    // anvil mines a sent transaction right after answering: wait (up to 30 s) until the hot wallet's count reaches it.
    private async Task MinedAsync(long count)
    {
        for (var i = 0; i < 600 && await NonceAsync() < count; i++)
        {
            await Task.Delay(50);
        }

        Assert.Equal(count, await NonceAsync());
    }

    private async Task<long> NonceAsync() =>
        (long)AnvilNode.ParseQuantity((await _chain.Node.RpcAsync("eth_getTransactionCount", _hot.Address, "latest")).GetString()!);
}
