using System.Numerics;

namespace Anpm.Gateway.Evm.Tests;

/// <summary>
/// The gateway's pure rules: finality by tag or depth, deposit ids that survive a reorg, EIP-1559 fees under a cap and
/// replacements that every node pool accepts, and the adaptive eth_getLogs range.
/// </summary>
public sealed class BuildingBlockTests
{
    [Fact]
    public void Finality_ByDepth_CountsTheBlockItself_ByTag_FollowsTheChain()
    {
        var five = EvmFinality.Depth(5);
        Assert.Equal(-1, five.LastFinalBlock(head: 3, finalizedTag: null));
        Assert.Equal(0, five.LastFinalBlock(head: 4, finalizedTag: null)); // block 0 has 5 blocks on it, itself included
        Assert.Equal(96, five.LastFinalBlock(head: 100, finalizedTag: 40)); // depth ignores the tag
        Assert.Equal(100, EvmFinality.Depth(1).LastFinalBlock(head: 100, finalizedTag: null));
        Assert.Equal(40, EvmFinality.FinalizedTag.LastFinalBlock(head: 100, finalizedTag: 40));
        Assert.Equal(-1, EvmFinality.FinalizedTag.LastFinalBlock(head: 100, finalizedTag: null));
        Assert.Equal(5, EvmFinality.ConfirmationsOf(block: 96, head: 100));
        Assert.Equal(0, EvmFinality.ConfirmationsOf(block: 101, head: 100));
        Assert.Equal(("depth 5", "finalized tag"), (five.ToString(), EvmFinality.FinalizedTag.ToString()));
        Assert.Throws<ArgumentOutOfRangeException>(() => EvmFinality.Depth(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => EvmFinality.Depth(10_001));
        Assert.Throws<ArgumentOutOfRangeException>(() => five.LastFinalBlock(head: 10, finalizedTag: 11));
    }

    [Fact]
    public void TransferId_IsTheSameWhereverAReorgPutsTheLog_AndNamesChainTokenTransactionAndOrdinal()
    {
        const string token = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
        const string transaction = "0xAB00000000000000000000000000000000000000000000000000000000000001";

        // The same log first at block-level index 7 (its receipt's logs start at 5), then re-included at index 2 (from 0).
        var first = EvmMessageIds.ForTransfer(31337, token, transaction, EvmMessageIds.OrdinalInReceipt(logIndex: 7, firstLogIndexOfReceipt: 5));
        var again = EvmMessageIds.ForTransfer(31337, token.ToLowerInvariant(), transaction.ToLowerInvariant(), EvmMessageIds.OrdinalInReceipt(logIndex: 2, firstLogIndexOfReceipt: 0));
        Assert.Equal(first, again);
        Assert.Equal("evm:31337:0x5fbdb2315678afecb367f032d93f642f64180aa3:0xab00000000000000000000000000000000000000000000000000000000000001:2", first);
        Assert.NotEqual(first, EvmMessageIds.ForTransfer(1, token, transaction, 2));
        Assert.True(first.Length <= 256);

        Assert.Throws<ArgumentException>(() => EvmMessageIds.ForTransfer(1, "0x1234", transaction, 0));
        Assert.Throws<ArgumentException>(() => EvmMessageIds.ForTransfer(1, token, transaction[..^1] + "g", 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => EvmMessageIds.ForTransfer(1, token, transaction, -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => EvmMessageIds.OrdinalInReceipt(logIndex: 4, firstLogIndexOfReceipt: 5));
    }

    [Fact]
    public void RouterDepositId_IsKeyedOnTheReference()
    {
        var reference = new byte[32];
        reference[0] = 0xFE;
        Assert.Equal("evm:10:0x5fbdb2315678afecb367f032d93f642f64180aa3:ref:0xfe" + new string('0', 62),
            EvmMessageIds.ForRouterDeposit(10, "0x5FbDB2315678afecb367f032d93F642f64180aa3", reference));
        Assert.Throws<ArgumentException>(() => EvmMessageIds.ForRouterDeposit(10, "0x5FbDB2315678afecb367f032d93F642f64180aa3", new byte[31]));
    }

    [Fact]
    public void FeesForTheNextBlock_TwiceTheBaseFeePlusTheTip_NeverAboveTheCap_NoneWhenTheCapCannotPay()
    {
        Assert.Equal(new Eip1559Fees(2_200, 200), Eip1559Fees.ForNextBlock(nextBaseFee: 1_000, marketTip: 200, tipFloor: 100, cap: 10_000));
        Assert.Equal(new Eip1559Fees(2_100, 100), Eip1559Fees.ForNextBlock(nextBaseFee: 1_000, marketTip: 20, tipFloor: 100, cap: 10_000));
        Assert.Equal(new Eip1559Fees(1_500, 200), Eip1559Fees.ForNextBlock(nextBaseFee: 1_000, marketTip: 200, tipFloor: 100, cap: 1_500));
        Assert.Null(Eip1559Fees.ForNextBlock(nextBaseFee: 10_000, marketTip: 200, tipFloor: 100, cap: 10_100)); // a fee spike above the cap
        Assert.Throws<ArgumentOutOfRangeException>(() => new Eip1559Fees(maxFeePerGas: 1, maxPriorityFeePerGas: 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => Eip1559Fees.ForNextBlock(-1, 0, 0, 0));
    }

    [Fact]
    public void Bump_Over10000RandomCases_MeetsGethsReplacementRule_TheMarket_AndTheCap()
    {
        var random = new Random(20261129);
        for (var i = 0; i < 10_000; i++)
        {
            var oldTip = Wei(random);
            var old = new Eip1559Fees(oldTip + Wei(random), oldTip);
            var marketTip = Wei(random);
            var market = new Eip1559Fees(marketTip + Wei(random), marketTip);
            var cap = random.Next(4) == 0 ? Wei(random) : BigInteger.Pow(10, 30);
            var bumped = old.BumpedFor(market, cap);

            // The least replacement this rule allows, computed independently: 12.5 % up (rounded up), 1 wei up, the market.
            var needTip = BigInteger.Max(market.MaxPriorityFeePerGas, BigInteger.Max(oldTip + 1, Ceiling(oldTip * 9, 8)));
            var needMax = BigInteger.Max(needTip, BigInteger.Max(market.MaxFeePerGas, BigInteger.Max(old.MaxFeePerGas + 1, Ceiling(old.MaxFeePerGas * 9, 8))));
            if (needMax > cap)
            {
                Assert.Null(bumped);
                continue;
            }

            var fees = Assert.IsType<Eip1559Fees>(bumped);
            Assert.Equal((needMax, needTip), (fees.MaxFeePerGas, fees.MaxPriorityFeePerGas));

            // geth's txpool: both fields strictly higher and at least 10 % higher.
            Assert.True(fees.MaxPriorityFeePerGas > old.MaxPriorityFeePerGas && fees.MaxFeePerGas > old.MaxFeePerGas);
            Assert.True(fees.MaxPriorityFeePerGas * 100 >= old.MaxPriorityFeePerGas * 110 && fees.MaxFeePerGas * 100 >= old.MaxFeePerGas * 110);
            Assert.True(fees.MaxFeePerGas <= cap);
        }
    }

    [Fact]
    public void LogRange_HalvesOnRefusal_GrowsBackOnSuccess_WithinItsBounds()
    {
        var planner = new LogRangePlanner(initialBlocks: 2_000, minimumBlocks: 10, maximumBlocks: 5_000);
        Assert.Equal((100L, 2_099L), planner.Next(100, 1_000_000));
        Assert.Equal((100L, 150L), planner.Next(100, 150));
        Assert.True(planner.Refused());
        Assert.Equal(1_000, planner.Blocks);
        while (planner.Refused())
        {
        }

        Assert.Equal(10, planner.Blocks); // at the minimum a refusal is not about the range
        planner.Succeeded();
        Assert.Equal(15, planner.Blocks);
        for (var i = 0; i < 50; i++)
        {
            planner.Succeeded();
        }

        Assert.Equal(5_000, planner.Blocks);
        Assert.Throws<ArgumentOutOfRangeException>(() => planner.Next(10, 9));
        Assert.Throws<ArgumentOutOfRangeException>(() => new LogRangePlanner(initialBlocks: 5, minimumBlocks: 10));
    }

    [Theory]
    [InlineData(-32005, "query returned more than 10000 results", true)]
    [InlineData(-32005, null, true)]
    [InlineData(-32602, "eth_getLogs block range too large, range: 2001, max: 2000", true)]
    [InlineData(-32000, "Log response size exceeded. You can make eth_getLogs requests with up to a 2K block range", true)]
    [InlineData(-32000, "request timed out", true)]
    [InlineData(-32000, "header not found", false)]
    [InlineData(-32601, "the method eth_getLogs does not exist", false)]
    [InlineData(429, "Too many requests, limit exceeded", false)] // rate limiting is retried later, not narrowed
    public void RangeRefusals_AreToldFromOtherErrors(int code, string? message, bool refusal) =>
        Assert.Equal(refusal, LogRangePlanner.IsRangeRefusal(code, message));

    private static BigInteger Wei(Random random) => random.Next(3) switch
    {
        0 => random.Next(0, 100),
        1 => random.NextInt64(0, 1_000_000_000_000),
        _ => new BigInteger(random.NextInt64()) * random.NextInt64(1, 1_000_000),
    };

    private static BigInteger Ceiling(BigInteger numerator, BigInteger denominator) => (numerator + denominator - 1) / denominator;
}
