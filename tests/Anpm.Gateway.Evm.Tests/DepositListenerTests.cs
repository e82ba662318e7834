using System.Numerics;
using System.Text.Json;
using Anpm.Abstractions;
using Anpm.Credits;
using Anpm.Storage.InMemory;
using Anpm.Testing;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Anpm.Gateway.Evm.Tests;

/// <summary>
/// The deposit listener against anvil: a deposit is pending below finality and credited exactly at depth N, once; a
/// deposit a reorg drops is never credited; one a reorg re-includes elsewhere is credited once under the id it had; a
/// reorg below the credited height halts crediting until an operator resumes; router deposits carry their action, pool
/// and reference; other tokens and zero-value transfers are not deposits. Credits equal the custody's token balance.
/// </summary>
public sealed class DepositListenerTests : IAsyncLifetime
{
    private static readonly Address Treasury = Address.Parse("0x00000000000000000000000000000000000000aa");
    private TestChain _chain = null!;
    private Deployed _token = null!;
    private Deployed _router = null!;
    private TestWallet _payer = null!;
    private string _custody = string.Empty;
    private InMemoryAnpmStore _store = null!;
    private Ledger _ledger = null!;
    private CreditService _credits = null!;
    private TokenNoticeProcessor _notices = null!;

    public async Task InitializeAsync()
    {
        _chain = await TestChain.StartAsync();
        _payer = await _chain.WalletAsync();
        _custody = (await _chain.WalletAsync()).Address;
        _token = await _chain.DeployAsync("TestToken");
        _router = await _chain.DeployAsync("AnpmDepositRouter", _token.Address, _custody, _chain.Owner.Address);
        await TestChain.SendAsync(_payer, _token, "mint", _payer.Address, new BigInteger(1_000_000));

        _store = new InMemoryAnpmStore();
        (_ledger, _, _credits, _notices) = CreditPipeline.Over(_store);
        await TestRates.SetSinceYesterdayAsync(_store, 1, 1);
    }

    public async Task DisposeAsync() => await _chain.DisposeAsync();

    [Fact]
    public async Task Deposit_PendingBelowDepth_CreditedExactlyAtDepth_Once()
    {
        var listener = Listener(depth: 3);
        await listener.VerifyChainAsync();
        var receipt = await TestChain.SendAsync(_payer, _token, "transfer", _custody, new BigInteger(500));

        var first = await listener.PollAsync();
        var pending = Assert.Single(first.Pending);
        Assert.Equal((1L, 0, "Buy-Credits", (long)receipt.BlockNumber.Value), (pending.Confirmations, first.Credited, pending.Action, pending.BlockNumber));
        Assert.Equal(EvmMessageIds.ForTransfer(31337, _token.Address, receipt.TransactionHash, 0), pending.MessageId);
        Assert.Equal(0, await CreditsAsync());

        await _chain.Node.MineAsync();
        var second = await listener.PollAsync();
        Assert.Equal((2L, 0), (Assert.Single(second.Pending).Confirmations, second.Credited));

        await _chain.Node.MineAsync();
        var third = await listener.PollAsync();
        Assert.Equal((1, 0), (third.Credited, third.Pending.Count));
        Assert.Equal(500, await CreditsAsync());
        var notice = await NoticeAsync(pending.MessageId);
        Assert.Equal((_payer.Address.ToLowerInvariant(), "credits-bought:500"), (notice.Sender.ToString(), notice.Outcome));

        await _chain.Node.MineAsync(5);
        Assert.Equal(0, (await listener.PollAsync()).Credited);
        Assert.Equal(500, await CreditsAsync());
        await AssertCreditsEqualCustodyAsync();
    }

    [Fact]
    public async Task Deposit_CreditedAtTheRateInForceAtItsBlockTime_NotAtFinality()
    {
        // Its own store, on a clock the test moves together with the chain's (nothing waits in real time).
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var store = new InMemoryAnpmStore();
        var pipeline = CreditPipeline.Over(store, clock: clock);
        await TestRates.SetSinceYesterdayAsync(store, 1, 1);
        var listener = new EvmDepositListener(new NethereumChainClient(_chain.Node.Url), store, pipeline.Notices, Options.Create(ListenerOptions(depth: 3)));
        await TestChain.SendAsync(_payer, _token, "transfer", _custody, new BigInteger(400));

        // A new rate (3 credits per unit) takes effect two seconds after the deposit's block, before the deposit is final;
        // the chain and the processor's clock move four seconds on (block times are whole seconds).
        Assert.Equal(SetExchangeRateResult.Set, (await pipeline.Credits.SetExchangeRateAsync(Treasury, new TokenAmount(3), new TokenAmount(1), clock.GetUtcNow().AddSeconds(2))).Result);
        await _chain.Node.RpcAsync("evm_increaseTime", 4);
        clock.Advance(TimeSpan.FromSeconds(4));
        await _chain.Node.MineAsync(2);
        Assert.Equal(1, (await listener.PollAsync()).Credited);
        Assert.Equal(400, await pipeline.CreditsOfAsync(_payer.Address)); // 1 credit per unit, the rate when the tokens moved

        await TestChain.SendAsync(_payer, _token, "transfer", _custody, new BigInteger(10));
        await _chain.Node.MineAsync(2);
        Assert.Equal(1, (await listener.PollAsync()).Credited);
        Assert.Equal(430, await pipeline.CreditsOfAsync(_payer.Address)); // a deposit after the change: 3 per unit
        Assert.Equal(410, await _chain.BalanceAsync(_token, _custody));
        await LedgerAssert.InvariantHoldsAsync(pipeline.Ledger);
    }

    [Fact]
    public async Task TwoListenersPollingTogether_CreditEachDepositOnce_WithoutFailing()
    {
        for (var i = 0; i < 6; i++)
        {
            await TestChain.SendAsync(_payer, _token, "transfer", _custody, new BigInteger(10 + i));
        }

        await _chain.Node.MineAsync(3);
        for (var round = 0; round < 3; round++)
        {
            // Two hosts' listeners over one store, polling at the same moment: the one that loses a range's race stops its poll.
            await Task.WhenAll(Task.Run(() => Listener(depth: 3).PollAsync()), Task.Run(() => Listener(depth: 3).PollAsync()));
        }

        Assert.Equal(10 + 11 + 12 + 13 + 14 + 15, await CreditsAsync());
        await AssertCreditsEqualCustodyAsync();
    }

    [Fact]
    public async Task DepositDroppedByAReorg_IsNeverCredited()
    {
        var listener = Listener(depth: 3);
        await TestChain.SendAsync(_payer, _token, "transfer", _custody, new BigInteger(700));
        Assert.Single((await listener.PollAsync()).Pending);

        await _chain.Node.RpcAsync("anvil_reorg", 1, Array.Empty<object>()); // the deposit's block is replaced by an empty one
        await _chain.Node.MineAsync(10);
        var result = await listener.PollAsync();
        Assert.Equal((0, 0, (string?)null), (result.Credited, result.Pending.Count, result.HaltReason));
        Assert.Equal(0, await CreditsAsync());
        Assert.Equal(0, await _chain.BalanceAsync(_token, _custody));
    }

    [Fact]
    public async Task DepositReIncludedAtAnotherHeight_IsCreditedOnce_UnderTheIdItHad()
    {
        var listener = Listener(depth: 3);
        await _chain.Node.MineAsync(2);
        var receipt = await TestChain.SendAsync(_payer, _token, "transfer", _custody, new BigInteger(900));
        var raw = (await _chain.Node.RpcAsync("eth_getRawTransactionByHash", receipt.TransactionHash)).GetString()!;
        var seen = Assert.Single((await listener.PollAsync()).Pending);

        // The two newest blocks (less than the depth) replaced; the same signed transaction lands in the first new one.
        await _chain.Node.RpcAsync("anvil_reorg", 2, new object[] { new object[] { raw, 0 } });
        var moved = Assert.Single((await listener.PollAsync()).Pending);
        Assert.Equal(seen.MessageId, moved.MessageId);
        Assert.NotEqual(seen.BlockNumber, moved.BlockNumber);

        await _chain.Node.MineAsync(5);
        Assert.Equal(1, (await listener.PollAsync()).Credited);
        Assert.Equal(900, await CreditsAsync());
        Assert.Equal(seen.MessageId, (await NoticeAsync(seen.MessageId)).MessageId);
        await AssertCreditsEqualCustodyAsync();
    }

    [Fact]
    public async Task ACreditedBlockReplacedInOneProvidersViewOnly_DoesNotHalt_ConfirmedByASecond_Halts()
    {
        var node = new NethereumChainClient(_chain.Node.Url);
        await TestChain.SendAsync(_payer, _token, "transfer", _custody, new BigInteger(70));
        await _chain.Node.MineAsync(2);
        var credited = await Listener(depth: 2).PollAsync();
        Assert.Equal(1, credited.Credited);
        EvmDepositListener Through(params IEvmChainClient[] providers) =>
            new(new ResilientChainClient(providers), _store, _notices, Options.Create(ListenerOptions(depth: 2)));

        // The preferred provider sees another block at the cursor; the second still has the recorded one: no halt.
        await _chain.Node.MineAsync();
        var unconfirmed = await Through(new ForkedViewChainClient(node, credited.Cursor), node).PollAsync();
        Assert.Equal((0, (string?)null, credited.Cursor), (unconfirmed.Credited, unconfirmed.HaltReason, unconfirmed.Cursor)); // nothing read this poll

        // The honest provider first: the cursor moves on to the new final block.
        var moved = await Through(node, new ForkedViewChainClient(node, credited.Cursor)).PollAsync();
        Assert.Equal(((string?)null, credited.Cursor + 1), (moved.HaltReason, moved.Cursor));

        // Both providers see the new cursor replaced: crediting halts.
        var confirmed = await Through(new ForkedViewChainClient(node, moved.Cursor), new ForkedViewChainClient(node, moved.Cursor)).PollAsync();
        Assert.Contains("A reorg replaced credited block", confirmed.HaltReason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReorgBelowTheCreditedHeight_HaltsCrediting_UntilAnOperatorResumes()
    {
        using var reorgDepths = new MeasurementRecorder("anpm.evm.reorg.depth");
        var listener = Listener(depth: 2);
        await TestChain.SendAsync(_payer, _token, "transfer", _custody, new BigInteger(300));
        await _chain.Node.MineAsync(2);
        var credited = await listener.PollAsync();
        Assert.Equal(1, credited.Credited);

        // Four blocks replaced: the credited deposit (and the payer's mint) are gone from the chain. A new payer (the old
        // one's nonces went back with the reorg) deposits after it.
        async Task<string[]> HashesBelowCursorAsync() =>
            await Task.WhenAll(Enumerable.Range(0, 6).Select(async i =>
                (await _chain.Node.RpcAsync("eth_getBlockByNumber", AnvilNode.Quantity(credited.Cursor - i), false)).GetProperty("hash").GetString()!));
        var before = await HashesBelowCursorAsync();
        await _chain.Node.RpcAsync("anvil_reorg", 4, Array.Empty<object>());
        var after = await HashesBelowCursorAsync();
        var replaced = before.Zip(after).TakeWhile(p => p.First != p.Second).Count(); // from the cursor down
        var other = await _chain.WalletAsync();
        await TestChain.SendAsync(other, _token, "mint", other.Address, new BigInteger(40));
        await TestChain.SendAsync(other, _token, "transfer", _custody, new BigInteger(40));
        await _chain.Node.MineAsync(3);
        var halted = await listener.PollAsync();
        Assert.Contains("A reorg replaced credited block", halted.HaltReason, StringComparison.Ordinal);
        Assert.Equal(0, halted.Credited);
        Assert.InRange(replaced, 1, 4);
        Assert.Equal([(long)replaced], reorgDepths.ValuesWhere("chain", 31337UL)); // the credited blocks the reorg replaced, counted from the cursor down
        Assert.Equal(0, (await Listener(depth: 2).PollAsync()).Credited); // the halt is in the store, not in one listener
        Assert.Equal(300, await CreditsAsync()); // the ledger was not rewritten: reconciling the lost 300 is the operator's

        await listener.ResumeAsync(anchor: credited.Cursor - 4);
        var resumed = await listener.PollAsync();
        Assert.Equal((1, (string?)null), (resumed.Credited, resumed.HaltReason));
        Assert.Equal(40, (long)(await _credits.GetBalancesAsync(Address.Parse(other.Address))).Account.BaseUnits);
        Assert.Equal(40, await _chain.BalanceAsync(_token, _custody)); // custody holds 300 less than was credited
        await LedgerAssert.InvariantHoldsAsync(_ledger);
    }

    [Fact]
    public async Task RouterDeposit_CarriesActionPoolAndReference_AndIsNotCountedTwice()
    {
        var listener = Listener(depth: 1);
        await TestChain.SendAsync(_payer, _token, "approve", _router.Address, new BigInteger(1_000));
        await TestChain.SendAsync(_payer, _router, "deposit", TestChain.Bytes32("order-17"), TestChain.Bytes32("demo"), (byte)0, new BigInteger(250));

        var result = await listener.PollAsync();
        Assert.Equal(1, result.Credited);
        var id = EvmMessageIds.ForRouterDeposit(31337, _router.Address, TestChain.Bytes32("order-17"));
        var notice = await NoticeAsync(id);
        Assert.Equal(("Buy-Credits", "demo", "order-17", 250UL), (notice.Action, notice.PoolId, notice.Reference, (ulong)notice.Quantity.BaseUnits));
        Assert.Equal(250, await CreditsAsync());
        await AssertCreditsEqualCustodyAsync();
    }

    [Fact]
    public async Task OtherTokens_ZeroValueTransfers_AndTransfersElsewhere_AreNotDeposits()
    {
        var listener = Listener(depth: 1);
        var lookalike = await _chain.DeployAsync("TestToken"); // same name and symbol, another contract
        await TestChain.SendAsync(_payer, lookalike, "mint", _payer.Address, new BigInteger(1_000));
        await TestChain.SendAsync(_payer, lookalike, "transfer", _custody, new BigInteger(1_000));
        await TestChain.SendAsync(_payer, _token, "transfer", _custody, BigInteger.Zero);
        await TestChain.SendAsync(_payer, _token, "transfer", Treasury.ToString(), new BigInteger(5));

        var result = await listener.PollAsync();
        Assert.Equal((0, 0), (result.Credited, result.Pending.Count));
        Assert.Equal(0, await CreditsAsync());
    }

    [Fact]
    public async Task VerifyChain_RefusesAnotherChainOrATokenWithoutCode()
    {
        var wrongChain = new EvmDepositListener(new NethereumChainClient(_chain.Node.Url), _store, _notices, Options.Create(ListenerOptions(3, chainId: 1)));
        Assert.Contains("not the configured chain 1", (await Assert.ThrowsAsync<AnpmException>(() => wrongChain.VerifyChainAsync())).Message, StringComparison.Ordinal);
        var noCode = ListenerOptions(3);
        noCode.Token = _custody;
        var noToken = new EvmDepositListener(new NethereumChainClient(_chain.Node.Url), _store, _notices, Options.Create(noCode));
        Assert.Contains("holds no contract", (await Assert.ThrowsAsync<AnpmException>(() => noToken.VerifyChainAsync())).Message, StringComparison.Ordinal);
        var invalid = ListenerOptions(3);
        invalid.Custody = "0x1234";
        Assert.Contains("Custody", Assert.Throws<OptionsValidationException>(() => new EvmDepositListener(new NethereumChainClient(_chain.Node.Url), _store, _notices, Options.Create(invalid))).Message, StringComparison.Ordinal);
    }

    private EvmDepositListener Listener(int depth) =>
        new(new NethereumChainClient(_chain.Node.Url), _store, _notices, Options.Create(ListenerOptions(depth)));

    private EvmDepositOptions ListenerOptions(int depth, ulong chainId = 31337) => new()
    {
        ChainId = chainId,
        Token = _token.Address,
        Custody = _custody,
        Router = _router.Address,
        Finality = EvmFinality.Depth(depth),
        MaxPendingBlocks = 64,
    };

    private async Task<long> CreditsAsync() => (long)(await _credits.GetBalancesAsync(Address.Parse(_payer.Address))).Account.BaseUnits;

    private async Task<TokenNotice> NoticeAsync(string id) =>
        (await _store.RunReadAsync(id, static (u, i, c) => u.Notices.GetNoticeAsync(i, c)))!;

    // Solvency: every token unit custody holds was credited (1 credit per unit here), and the ledger balances.
    private async Task AssertCreditsEqualCustodyAsync()
    {
        Assert.Equal((long)await _chain.BalanceAsync(_token, _custody), await CreditsAsync());
        await LedgerAssert.InvariantHoldsAsync(_ledger);
    }

}
