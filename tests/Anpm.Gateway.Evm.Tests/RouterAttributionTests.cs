using System.Numerics;
using Anpm.Abstractions;
using Anpm.Credits;
using Anpm.Storage.InMemory;
using Anpm.Testing;
using Microsoft.Extensions.Options;
using Nethereum.Hex.HexTypes;
using Nethereum.RPC.Eth.DTOs;

namespace Anpm.Gateway.Evm.Tests;

/// <summary>
/// Router deposits are attributed per transaction whatever range the listener reads them through: deposits of every
/// action in consecutive blocks, several in one block, and several in one transaction (with a plain transfer of the same
/// payer between them) are booked the same by a listener that reads the whole span in one <c>eth_getLogs</c> range and
/// by one that reads a block at a time — each with its own action, pool, reference and amount.
/// </summary>
public sealed class RouterAttributionTests : IAsyncLifetime
{
    private static readonly HexBigInteger Gas = new(2_000_000);
    private TestChain _chain = null!;
    private Deployed _token = null!;
    private Deployed _router = null!;
    private TestWallet _payer = null!;
    private string _custody = string.Empty;

    public async Task InitializeAsync()
    {
        _chain = await TestChain.StartAsync();
        _payer = await _chain.WalletAsync();
        _custody = (await _chain.WalletAsync()).Address;
        _token = await _chain.DeployAsync("TestToken");
        _router = await _chain.DeployAsync("AnpmDepositRouter", _token.Address, _custody, _chain.Owner.Address);
        await TestChain.SendAsync(_payer, _token, "mint", _payer.Address, new BigInteger(1_000_000));
        await TestChain.SendAsync(_payer, _token, "approve", _router.Address, new BigInteger(1_000_000));
    }

    public async Task DisposeAsync() => await _chain.DisposeAsync();

    [Fact]
    public async Task DepositsInConsecutiveBlocks_InOneBlock_AndInOneTransaction_AreBookedAlike_ThroughAnyRange()
    {
        var expected = new List<Expected>();
        var first = await _chain.Node.BlockNumberAsync() + 1;

        // Every action, one deposit a block (the case: stake 5, then stake 7 in the next block).
        for (byte action = 0; action <= 4; action++)
        {
            var reference = "seq-" + action;
            await TestChain.SendAsync(_payer, _router, "deposit", TestChain.Bytes32(reference), TestChain.Bytes32("demo"), action, new BigInteger(100 + action));
            expected.Add(Routed(reference, action, 100 + action, _payer.Address));
        }

        // Every action in one block, then a plain transfer in the block after.
        await _chain.Node.RpcAsync("evm_setAutomine", false);
        var nonce = (long)(await _payer.Web3.Eth.Transactions.GetTransactionCount.SendRequestAsync(_payer.Address)).Value;
        for (byte action = 0; action <= 4; action++)
        {
            var reference = "blk-" + action;
            var input = _router.For(_payer).GetFunction("deposit").CreateTransactionInput(
                _payer.Address, Gas, null, null, TestChain.Bytes32(reference), TestChain.Bytes32("demo"), action, new BigInteger(200 + action));
            input.Nonce = new HexBigInteger(nonce++);
            await _payer.Web3.TransactionManager.SendTransactionAsync(input);
            expected.Add(Routed(reference, action, 200 + action, _payer.Address));
        }

        await _chain.Node.MineAsync();
        await _chain.Node.RpcAsync("evm_setAutomine", true);
        var plain = await TestChain.SendAsync(_payer, _token, "transfer", _custody, new BigInteger(104)); // same amount as seq-4
        expected.Add(new Expected(EvmMessageIds.ForTransfer(31337, _token.Address, plain.TransactionHash, 0), "Buy-Credits", string.Empty, string.Empty, 104, _payer.Address.ToLowerInvariant()));

        // Every action in one transaction, with a plain transfer of the same payer and amount between the first two.
        var batch = await _chain.DeployAsync("RouterBatch");
        await TestChain.SendAsync(_payer, _token, "mint", batch.Address, new BigInteger(10_000));
        var references = Enumerable.Range(0, 5).Select(i => "one-" + i).ToArray();
        var receipt = await batch.For(_payer).GetFunction("run").SendTransactionAndWaitForReceiptAsync(
            _payer.Address, Gas, null, null, _token.Address, _router.Address, _custody, references.Select(TestChain.Bytes32).ToList(),
            TestChain.Bytes32("demo"), new List<byte> { 0, 1, 2, 3, 4 }, new List<BigInteger> { 300, 300, 302, 303, 300 }, new BigInteger(300));
        Assert.Equal(1, (int)receipt.Status.Value);
        long[] amounts = [300, 300, 302, 303, 300];
        for (var i = 0; i < 5; i++)
        {
            expected.Add(Routed(references[i], (byte)i, amounts[i], batch.Address));
        }

        // Logs of the batch: [approve's Approval], then per deposit Transfer + Deposited; the plain transfer follows the
        // first deposit's Deposited log. Its position in the receipt names it.
        var plainPosition = PlainTransferPosition(receipt);
        expected.Add(new Expected(EvmMessageIds.ForTransfer(31337, _token.Address, receipt.TransactionHash, plainPosition), "Buy-Credits", string.Empty, string.Empty, 300, batch.Address.ToLowerInvariant()));

        await _chain.Node.MineAsync(2);
        var last = await _chain.Node.BlockNumberAsync() - 1;

        var ids = expected.Select(e => e.MessageId).ToList();
        var wide = await BookAsync(first, blocksPerRequest: 2_000, ids);
        var narrow = await BookAsync(first, blocksPerRequest: 1, ids);

        foreach (var deposit in expected)
        {
            Assert.Equal(deposit, wide.Notices.GetValueOrDefault(deposit.MessageId));
            Assert.Equal(deposit, narrow.Notices.GetValueOrDefault(deposit.MessageId));
        }

        Assert.Equal(expected.Count, wide.Credited);
        Assert.Equal(expected.Count, narrow.Credited);
        Assert.Equal(last, wide.Cursor);
        Assert.Equal(last, narrow.Cursor);
    }

    private Expected Routed(string reference, byte action, long amount, string sender) => new(
        EvmMessageIds.ForRouterDeposit(31337, _router.Address, TestChain.Bytes32(reference)),
        new[] { "Buy-Credits", "Contribute", "Stake", "Fund-Rewards", "Distribute" }[action], "demo", reference, amount, sender.ToLowerInvariant());

    private int PlainTransferPosition(TransactionReceipt receipt)
    {
        var logs = receipt.Logs.Select(l => (Address: l.Address.ToLowerInvariant(), Topic: l.Topics[0].ToString()!)).ToList();
        var firstDeposited = logs.FindIndex(l => l.Topic == EvmDepositListener.DepositedTopic);
        Assert.Equal((_token.Address.ToLowerInvariant(), EvmDepositListener.TransferTopic), logs[firstDeposited + 1]);
        return firstDeposited + 1;
    }

    // A fresh store and listener that read from `first` to the final block in ranges of at most `blocksPerRequest`.
    private async Task<Booking> BookAsync(long first, int blocksPerRequest, IReadOnlyList<string> ids)
    {
        var store = new InMemoryAnpmStore();
        var pipeline = CreditPipeline.Over(store);
        await TestRates.SetSinceYesterdayAsync(store, 1, 1);
        var listener = new EvmDepositListener(new NethereumChainClient(_chain.Node.Url), store, pipeline.Notices, Options.Create(new EvmDepositOptions
        {
            ChainId = 31337,
            Token = _token.Address,
            Custody = _custody,
            Router = _router.Address,
            Finality = EvmFinality.Depth(2),
            StartBlock = first,
            MaxBlocksPerRequest = blocksPerRequest,
        }));

        var result = await listener.PollAsync();
        Assert.Null(result.HaltReason);
        await LedgerAssert.InvariantHoldsAsync(pipeline.Ledger);
        var notices = new Dictionary<string, Expected>(StringComparer.Ordinal);
        foreach (var id in ids)
        {
            if (await store.RunReadAsync(id, static (u, i, c) => u.Notices.GetNoticeAsync(i, c)) is { } notice)
            {
                notices[id] = new Expected(id, notice.Action, notice.PoolId, notice.Reference, (long)notice.Quantity.BaseUnits, notice.Sender.ToString());
            }
        }

        return new Booking(notices, result.Credited, result.Cursor);
    }

    private sealed record Booking(IReadOnlyDictionary<string, Expected> Notices, int Credited, long Cursor);

    private sealed record Expected(string MessageId, string Action, string PoolId, string Reference, long Quantity, string Sender);
}
