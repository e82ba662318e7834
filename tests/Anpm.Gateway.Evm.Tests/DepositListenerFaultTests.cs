using System.Numerics;
using Anpm.Abstractions;
using Anpm.Credits;
using Anpm.Storage.InMemory;
using Anpm.Testing;
using Microsoft.Extensions.Options;

namespace Anpm.Gateway.Evm.Tests;

/// <summary>
/// The deposit listener under faults: a provider that refuses wide log ranges, fails a third of its calls (before or
/// after doing them, so answers get lost) and a store whose commits fail at random, with the listener replaced by a new
/// instance after every failure (a restart); and a backfill through a provider that caps ranges. Every final deposit is credited exactly once and the credits equal the
/// custody's token balance.
/// </summary>
public sealed class DepositListenerFaultTests : IAsyncLifetime
{
    private TestChain _chain = null!;

    public async Task InitializeAsync() => _chain = await TestChain.StartAsync();

    public async Task DisposeAsync() => await _chain.DisposeAsync();

    [Fact]
    public async Task FlakyProviderNarrowRangesFailingCommitsAndRestarts_CreditEveryFinalDepositOnce()
    {
        var seed = TestSeed.Next();
        var random = new Random(seed);
        var custody = (await _chain.WalletAsync()).Address;
        var token = await _chain.DeployAsync("TestToken");
        var payers = new List<TestWallet>();
        for (var i = 0; i < 4; i++)
        {
            var payer = await _chain.WalletAsync();
            await TestChain.SendAsync(payer, token, "mint", payer.Address, new BigInteger(1_000_000));
            payers.Add(payer);
        }

        var sent = new Dictionary<string, long>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < 20; i++)
        {
            var payer = payers[random.Next(payers.Count)];
            var amount = random.Next(1, 10_000);
            await TestChain.SendAsync(payer, token, "transfer", custody, new BigInteger(amount));
            sent[payer.Address] = sent.GetValueOrDefault(payer.Address) + amount;
            await _chain.Node.MineAsync(random.Next(0, 4));
        }

        await _chain.Node.MineAsync(3);
        var store = new InMemoryAnpmStore();
        var failing = false; // on once the exchange rate is set
        var flaky = new CommitFailingStore(store, () => failing && random.Next(5) == 0 ? new AnpmException("Injected: the commit failed; nothing was kept.") : null);
        var (ledger, _, credits, notices) = CreditPipeline.Over(store, services: flaky);
        await TestRates.SetSinceYesterdayAsync(store, 1, 1);
        failing = true;
        var options = Options.Create(new EvmDepositOptions { ChainId = 31337, Token = token.Address, Custody = custody, Finality = EvmFinality.Depth(2), MaxBlocksPerRequest = 50 });
        var provider = new FlakyChainClient(new NethereumChainClient(_chain.Node.Url), random, maxRange: 7);

        var (failures, credited) = (0, 0);
        for (var poll = 0; poll < 400; poll++)
        {
            try
            {
                var listener = new EvmDepositListener(provider, flaky, notices, options); // a new instance each time: a restart
                var result = await listener.PollAsync();
                credited += result.Credited;
                if (result.Cursor >= result.LastFinal && result.Pending.Count == 0 && poll > 0)
                {
                    break;
                }
            }
            catch (Exception exception) when (exception is EvmRpcException or HttpRequestException or AnpmException)
            {
                failures++;
            }
        }

        failing = false;
        var last = await new EvmDepositListener(provider.Reliable, store, notices, options).PollAsync();
        credited += last.Credited;
        Assert.True(failures > 10, $"seed {seed}: only {failures} faults were injected");
        Assert.True(provider.NarrowedRanges > 0, $"seed {seed}: no range was refused");
        Assert.Equal((last.LastFinal, 0), (last.Cursor, last.Pending.Count));
        foreach (var (payer, amount) in sent)
        {
            Assert.Equal(amount, (long)(await credits.GetBalancesAsync(Address.Parse(payer))).Account.BaseUnits);
        }

        Assert.Equal(sent.Values.Sum(), (long)await _chain.BalanceAsync(token, custody));
        Assert.True(credited <= 20, $"seed {seed}: {credited} deposits counted as credited for 20 sent");
        await LedgerAssert.InvariantHoldsAsync(ledger);
    }


    [Fact]
    public async Task Backfill_300DepositsOver2000Blocks_ThroughAProviderCappedAt200Blocks_CreditsEachOnce()
    {
        var custody = (await _chain.WalletAsync()).Address;
        var token = await _chain.DeployAsync("TestToken");
        var payer = await _chain.WalletAsync();
        await TestChain.SendAsync(payer, token, "mint", payer.Address, new BigInteger(10_000_000));
        var expected = 0L;
        await _chain.Node.RpcAsync("anvil_impersonateAccount", payer.Address); // anvil signs: 300 sends in a second or two
        var transfer = token.For(payer).GetFunction("transfer");
        for (var i = 0; i < 300; i++)
        {
            var amount = 1 + (i % 97);
            await _chain.Node.RpcAsync("eth_sendTransaction", new { from = payer.Address, to = token.Address, gas = "0x30d40", data = transfer.GetData(custody, new BigInteger(amount)) });
            expected += amount;
            if (i % 20 == 19)
            {
                await _chain.Node.MineAsync(130); // the listener was down: 2,000 blocks pass (anvil mines ~4 ms a block)
            }
        }

        await _chain.Node.MineAsync(5);
        var store = new InMemoryAnpmStore();
        var (ledger, _, credits, notices) = CreditPipeline.Over(store);
        await TestRates.SetSinceYesterdayAsync(store, 1, 1);
        var provider = new FlakyChainClient(new NethereumChainClient(_chain.Node.Url), new Random(1), maxRange: 200) { FailureRate = 0 };
        var listener = new EvmDepositListener(provider, store, notices,
            Options.Create(new EvmDepositOptions { ChainId = 31337, Token = token.Address, Custody = custody, Finality = EvmFinality.Depth(3), MaxBlocksPerRequest = 2_000 }));

        var result = await listener.PollAsync();
        // The ranges adapt to the provider's limit instead of shrinking to a block at a time: about head ÷ 200 requests
        // (counted, not timed: a busy machine slows a test down, never this count).
        Assert.InRange(provider.LogRequests, 1, (int)(result.Head / 200) + 20);
        Assert.True(result.Head >= 2_000, $"head {result.Head}");
        Assert.Equal((300, result.LastFinal), (result.Credited, result.Cursor));
        Assert.True(provider.NarrowedRanges > 0);
        Assert.Equal(expected, (long)(await credits.GetBalancesAsync(Address.Parse(payer.Address))).Account.BaseUnits);
        Assert.Equal(expected, (long)await _chain.BalanceAsync(token, custody));
        Assert.Equal(0, (await listener.PollAsync()).Credited);
        await LedgerAssert.InvariantHoldsAsync(ledger);
    }
}
