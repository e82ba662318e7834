using System.Numerics;
using Anpm.Abstractions;

namespace Anpm.Pools.Tests;

public sealed class PrizeCalculatorTests
{
    private static TokenAmount[] Amounts(params ulong[] values) => values.Select(v => new TokenAmount(v)).ToArray();

    [Fact]
    public void ProRata_SeedExample_2100And700()
    {
        var split = new ProRataPrizeCalculator().Split(Amounts(1500, 500), new TokenAmount(2800));
        Assert.Equal(Amounts(2100, 700), split.Prizes);
        Assert.Equal(TokenAmount.Zero, split.Dust);
    }

    [Fact]
    public void ProRata_Indivisible_RoundsDownAndKeepsDust()
    {
        var split = new ProRataPrizeCalculator().Split(Amounts(1, 1, 1), new TokenAmount(100));
        Assert.Equal(Amounts(33, 33, 33), split.Prizes);
        Assert.Equal(new TokenAmount(1), split.Dust);
    }

    [Fact]
    public void ProRata_NothingCollected_EverythingIsDust()
    {
        var split = new ProRataPrizeCalculator().Split(Amounts(0, 0), new TokenAmount(5));
        Assert.Equal(Amounts(0, 0), split.Prizes);
        Assert.Equal(new TokenAmount(5), split.Dust);
        Assert.Empty(new ProRataPrizeCalculator().Split([], new TokenAmount(5)).Prizes);
    }

    [Fact]
    public void EqualSplit_ZeroContributionsGetNothing()
    {
        var split = new EqualSplitPrizeCalculator().Split(Amounts(10, 0, 3), new TokenAmount(101));
        Assert.Equal(Amounts(50, 0, 50), split.Prizes);
        Assert.Equal(new TokenAmount(1), split.Dust);
        Assert.Equal(new TokenAmount(7), new EqualSplitPrizeCalculator().Split(Amounts(0), new TokenAmount(7)).Dust);
    }

    [Fact]
    public void Property_RandomContributionsAndPots_FloorFormulaSumWithinPotDustAccounted()
    {
        var random = new Random(2800);
        var calculator = new ProRataPrizeCalculator();
        var equal = new EqualSplitPrizeCalculator();
        for (var run = 0; run < 2000; run++)
        {
            var count = random.Next(0, 12);
            var huge = run % 5 == 0;
            var contributions = Enumerable.Range(0, count).Select(_ => Random128(random, huge ? 124 : 40)).ToArray();
            var pot = Random128(random, huge ? 127 : 48);
            var collected = contributions.Aggregate(BigInteger.Zero, (sum, c) => sum + c.BaseUnits);

            var split = calculator.Split(contributions, pot);
            var sum = split.Prizes.Aggregate(BigInteger.Zero, (s, p) => s + p.BaseUnits);
            for (var i = 0; i < count; i++)
            {
                var expected = collected.IsZero ? BigInteger.Zero : (BigInteger)contributions[i].BaseUnits * pot.BaseUnits / collected;
                Assert.Equal(expected, (BigInteger)split.Prizes[i].BaseUnits);
            }

            Assert.True(sum <= pot.BaseUnits, $"Run {run}: prizes {sum} exceed the pot {pot}.");
            Assert.Equal((BigInteger)pot.BaseUnits - sum, (BigInteger)split.Dust.BaseUnits);

            var equalSplit = equal.Split(contributions, pot);
            var equalSum = equalSplit.Prizes.Aggregate(BigInteger.Zero, (s, p) => s + p.BaseUnits);
            Assert.True(equalSum <= pot.BaseUnits);
            Assert.Equal((BigInteger)pot.BaseUnits - equalSum, (BigInteger)equalSplit.Dust.BaseUnits);
        }
    }

    private static TokenAmount Random128(Random random, int bits)
    {
        var bytes = new byte[16];
        random.NextBytes(bytes);
        var value = new UInt128(BitConverter.ToUInt64(bytes, 8), BitConverter.ToUInt64(bytes, 0));
        return new TokenAmount(value >> (128 - random.Next(1, bits + 1)));
    }
}
