using System.Globalization;
using System.Numerics;
using Anpm.Abstractions;
using Anpm.Credits;
using Anpm.Storage.InMemory;
using Anpm.Testing;
using Microsoft.Extensions.Options;
using Nethereum.Contracts;
using Nethereum.Contracts.Standards.ERC20.ContractDefinition;

namespace Anpm.Gateway.Evm.Tests;

/// <summary>
/// Random programs against the deposit listener on anvil — deposits from several payers, blocks, reorgs shallower than
/// the finality depth that drop or re-include deposits, polls and restarts — checked against the chain itself after
/// every poll: what was credited equals the custody's token balance at the last final block (every custody inflow is a
/// deposit), nothing ever halts, and the ledger balances. A failing run prints its seed.
/// </summary>
public sealed class DepositListenerModelTests : IAsyncLifetime
{
    private const int Depth = 4;
    private TestChain _chain = null!;

    public async Task InitializeAsync() => _chain = await TestChain.StartAsync();

    public async Task DisposeAsync() => await _chain.DisposeAsync();

    [Fact]
    public async Task RandomDepositsShallowReorgsAndRestarts_CreditExactlyTheFinalCustodyBalance()
    {
        var seed = TestSeed.Next();
        var random = new Random(seed);
        var token = await _chain.DeployAsync("TestToken");
        var custody = (await _chain.WalletAsync()).Address.ToLowerInvariant();
        var wallets = new List<TestWallet>();
        for (var i = 0; i < 3; i++)
        {
            var wallet = await _chain.WalletAsync();
            await TestChain.SendAsync(_chain.Owner, token, "mint", wallet.Address, new BigInteger(100_000_000));
            wallets.Add(wallet);
        }

        await _chain.Node.MineAsync(Depth); // the mints below any reorg of the program
        var payers = wallets.Select(w => w.Address.ToLowerInvariant()).ToList();

        var store = new InMemoryAnpmStore();
        var (ledger, _, credits, notices) = CreditPipeline.Over(store);
        await TestRates.SetSinceYesterdayAsync(store, 1, 1);
        EvmDepositListener NewListener() => new(new NethereumChainClient(_chain.Node.Url), store, notices, Options.Create(new EvmDepositOptions
        {
            ChainId = 31337, Token = token.Address, Custody = custody, Finality = EvmFinality.Depth(Depth), MaxBlocksPerRequest = 1 + random.Next(5),
        }));

        var listener = NewListener();
        var trace = new List<string>();
        for (var step = 0; step < 60; step++)
        {
            switch (random.Next(6))
            {
                case 0 or 1:
                    await DepositAsync(wallets[random.Next(wallets.Count)], token.Address, custody, random.Next(1, 10_000));
                    trace.Add("deposit");
                    break;
                case 2:
                    var blocks = random.Next(1, 4);
                    await _chain.Node.MineAsync(blocks);
                    trace.Add("mine " + blocks);
                    break;
                case 3:
                    // A reorg shallower than the depth: the newest blocks replaced, their deposits dropped or re-included.
                    var depth = random.Next(1, Depth);
                    var reincluded = await ReorgAsync(depth, keep: random.Next(2) == 0);
                    trace.Add($"reorg {depth} ({reincluded} re-included)");
                    break;
                case 4:
                    listener = NewListener();
                    trace.Add("restart");
                    break;
                default:
                    var poll = await listener.PollAsync();
                    trace.Add($"poll {poll.Credited}");
                    Assert.True(poll.HaltReason is null, $"seed {seed}: halted by a reorg shallower than the depth; {string.Join(", ", trace)}");
                    var credited = (await credits.GetBalancesAsync(Address.Parse(payers[0]))).Account.BaseUnits
                        + (await credits.GetBalancesAsync(Address.Parse(payers[1]))).Account.BaseUnits
                        + (await credits.GetBalancesAsync(Address.Parse(payers[2]))).Account.BaseUnits;
                    var final = await BalanceAtAsync(token.Address, custody, poll.Cursor);
                    Assert.True((BigInteger)credited == final, $"seed {seed}: credited {credited}, custody held {final} at block {poll.Cursor}; {string.Join(", ", trace)}");
                    await LedgerAssert.InvariantHoldsAsync(ledger);
                    break;
            }
        }

        // Everything final at the end: the credits are the custody's whole balance, and the program did reorg and credit.
        await _chain.Node.MineAsync(Depth);
        var last = await listener.PollAsync();
        var total = BigInteger.Zero;
        foreach (var payer in payers)
        {
            total += (BigInteger)(await credits.GetBalancesAsync(Address.Parse(payer))).Account.BaseUnits;
        }

        Assert.Equal(await _chain.BalanceAsync(token, custody), total);
        Assert.True(total > 0 && trace.Any(t => t.StartsWith("reorg", StringComparison.Ordinal)), $"seed {seed}: a program without deposits or reorgs; {string.Join(", ", trace)}");
        Assert.Null(last.HaltReason);
    }

    // A signed transfer to custody at the payer's next nonce as the chain now counts it (a reorg may have taken nonces
    // back, which a client's own nonce counter would not know).
    private async Task DepositAsync(TestWallet payer, string token, string custody, int amount)
    {
        var nonce = (long)AnvilNode.ParseQuantity((await _chain.Node.RpcAsync("eth_getTransactionCount", payer.Address, "pending")).GetString()!);
        var data = "0x" + Convert.ToHexStringLower(new TransferFunction { To = custody, Value = amount }.GetCallData());
        var fees = new Eip1559Fees(BigInteger.Pow(10, 11), BigInteger.Pow(10, 9));
        var signed = await EvmKeySigner.FromHex(payer.PrivateKeyHex).SignAsync(new EvmTransactionRequest(31337, nonce, token, BigInteger.Zero, data, 100_000, fees), default);
        await _chain.Node.RpcAsync("eth_sendRawTransaction", signed.RawTransaction);
    }

    // Replaces the newest `depth` blocks; with `keep`, their transactions go into the first new block. Returns how many.
    private async Task<int> ReorgAsync(int depth, bool keep)
    {
        var head = await _chain.Node.BlockNumberAsync();
        var raws = new List<object>();
        for (var number = head - depth + 1; keep && number <= head; number++)
        {
            var block = await _chain.Node.RpcAsync("eth_getBlockByNumber", AnvilNode.Quantity(number), false);
            foreach (var hash in block.GetProperty("transactions").EnumerateArray())
            {
                raws.Add(new object[] { (await _chain.Node.RpcAsync("eth_getRawTransactionByHash", hash.GetString())).GetString()!, 0 });
            }
        }

        await _chain.Node.RpcAsync("anvil_reorg", depth, raws.ToArray());
        return raws.Count;
    }

    // The token balance at a block (an eth_call of balanceOf there); 0 before the first block.
    private async Task<BigInteger> BalanceAtAsync(string token, string owner, long block)
    {
        if (block < 0)
        {
            return BigInteger.Zero;
        }

        var data = "0x" + Convert.ToHexStringLower(new BalanceOfFunction { Owner = owner }.GetCallData());
        var result = await _chain.Node.RpcAsync("eth_call", new { to = token, data }, AnvilNode.Quantity(block));
        return BigInteger.Parse("0" + result.GetString()![2..], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
    }
}
