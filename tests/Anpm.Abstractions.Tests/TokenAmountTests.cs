using System.Numerics;
using System.Text.Json;
using Anpm.Abstractions;

namespace Anpm.Abstractions.Tests;

public sealed class TokenAmountTests
{
    private static readonly UInt128 Max = UInt128.MaxValue;

    [Fact]
    public void TryAdd_Overflow_ReturnsFalseAndZero()
    {
        Assert.True(new TokenAmount(Max - 1).TryAdd(new TokenAmount(1), out var sum));
        Assert.Equal(TokenAmount.MaxValue, sum);
        Assert.False(TokenAmount.MaxValue.TryAdd(new TokenAmount(1), out sum));
        Assert.Equal(TokenAmount.Zero, sum);
        Assert.Throws<OverflowException>(() => TokenAmount.MaxValue + new TokenAmount(1));
    }

    [Fact]
    public void TrySubtract_BelowZero_ReturnsFalse()
    {
        Assert.True(new TokenAmount(5).TrySubtract(new TokenAmount(5), out var difference));
        Assert.Equal(TokenAmount.Zero, difference);
        Assert.False(new TokenAmount(5).TrySubtract(new TokenAmount(6), out difference));
        Assert.Equal(TokenAmount.Zero, difference);
        Assert.Throws<OverflowException>(() => new TokenAmount(5) - new TokenAmount(6));
    }

    [Fact]
    public void FromBaseUnits_Negative_Throws()
    {
        Assert.Equal(new TokenAmount(7), TokenAmount.FromBaseUnits(7));
        Assert.Throws<ArgumentOutOfRangeException>(() => TokenAmount.FromBaseUnits(-1));
    }

    [Fact]
    public void MultiplyDivide_SeedExample_PaysProRataAndKeepsDust()
    {
        // Seed: 1500 and 500 of 2000 collected, 2800 to distribute -> 2100 and 700.
        Assert.Equal(new TokenAmount(2100), new TokenAmount(1500).MultiplyDivide(2800, 2000, out var r1));
        Assert.Equal(UInt128.Zero, r1);
        Assert.Equal(new TokenAmount(700), new TokenAmount(500).MultiplyDivide(2800, 2000, out _));
        Assert.Equal(new TokenAmount(3), new TokenAmount(10).MultiplyDivide(1, 3, out var r2));
        Assert.Equal((UInt128)1, r2);
    }

    [Fact]
    public void MultiplyDivide_ProductBeyond128Bits_IsExact()
    {
        var amount = new TokenAmount(Max);
        Assert.Equal(amount, amount.MultiplyDivide(Max, Max, out var remainder));
        Assert.Equal(UInt128.Zero, remainder);
        Assert.Equal(new TokenAmount(Max / 3), amount.MultiplyDivide(Max / 3, Max, out _));
    }

    [Fact]
    public void MultiplyDivide_RandomOperands_MatchBigInteger()
    {
        var random = new Random(20261121);
        Span<byte> bytes = stackalloc byte[16];
        for (var i = 0; i < 20_000; i++)
        {
            var value = RandomUInt128(random, bytes);
            var multiplier = RandomUInt128(random, bytes);
            var divisor = RandomUInt128(random, bytes);
            if (divisor == UInt128.Zero)
            {
                continue;
            }

            var expected = BigInteger.DivRem((BigInteger)value * multiplier, divisor, out var expectedRemainder);
            var ok = new TokenAmount(value).TryMultiplyDivide(multiplier, divisor, out var quotient, out var remainder);
            Assert.Equal(expected <= Max, ok);
            if (ok)
            {
                Assert.Equal(expected, (BigInteger)quotient.BaseUnits);
                Assert.Equal(expectedRemainder, (BigInteger)remainder);
            }
        }
    }

    [Fact]
    public void MultiplyDivide_ZeroDivisorOrOverflow_RefusedWithoutChange()
    {
        Assert.False(new TokenAmount(1).TryMultiplyDivide(1, 0, out var quotient, out var remainder));
        Assert.Equal(TokenAmount.Zero, quotient);
        Assert.Equal(UInt128.Zero, remainder);
        Assert.False(TokenAmount.MaxValue.TryMultiplyDivide(2, 1, out _, out _));
        Assert.Throws<DivideByZeroException>(() => new TokenAmount(1).MultiplyDivide(1, 0, out _));
        Assert.Throws<OverflowException>(() => TokenAmount.MaxValue.MultiplyDivide(2, 1, out _));
    }

    [Theory]
    [InlineData("1.5", 12, "1500000000000")]
    [InlineData("0.000000000001", 12, "1")]
    [InlineData("42", 12, "42000000000000")]
    [InlineData("42", 0, "42")]
    [InlineData("0", 6, "0")]
    [InlineData("007.10", 2, "710")]
    [InlineData("340282366920938463463374607431768211455", 0, "340282366920938463463374607431768211455")]
    public void Parse_WithDecimals_GivesBaseUnits(string text, int decimals, string baseUnits) =>
        Assert.Equal(baseUnits, TokenAmount.Parse(text, decimals).ToString());

    [Theory]
    [InlineData("", "empty")]
    [InlineData("-1", "'-' at position 0")]
    [InlineData("1e5", "'e' at position 1")]
    [InlineData(" 1", "' ' at position 0")]
    [InlineData("1,5", "',' at position 1")]
    [InlineData("1.5", "decimal point")]
    [InlineData("340282366920938463463374607431768211456", "exceeds the largest")]
    public void TryParse_Malformed_NamesTheProblem(string text, string expected)
    {
        Assert.False(TokenAmount.TryParse(text, 0, out var amount, out var error));
        Assert.Equal(TokenAmount.Zero, amount);
        Assert.Contains(expected, error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("1.2.3", 2, "more than one decimal point")]
    [InlineData("1.234", 2, "has 3 decimals; this asset has 2")]
    [InlineData(".5", 2, "digits on both sides")]
    [InlineData("5.", 2, "digits on both sides")]
    [InlineData("340282366920938463463374607431768211.456", 3, "exceeds the largest")]
    public void TryParse_BadDecimals_NamesTheProblem(string text, int decimals, string expected)
    {
        Assert.False(TokenAmount.TryParse(text, decimals, out _, out var error));
        Assert.Contains(expected, error, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_TooLongOrNull_Refused()
    {
        Assert.False(TokenAmount.TryParse(new string('1', 81), out _));
        Assert.False(TokenAmount.TryParse(null, out _));
        Assert.Throws<FormatException>(() => TokenAmount.Parse("x"));
        Assert.Throws<ArgumentOutOfRangeException>(() => TokenAmount.Parse("1", 39));
    }

    [Theory]
    [InlineData("1500000000000", 12, "1.5")]
    [InlineData("1", 12, "0.000000000001")]
    [InlineData("0", 12, "0")]
    [InlineData("42000000000000", 12, "42")]
    [InlineData("710", 2, "7.1")]
    [InlineData("710", 0, "710")]
    public void ToString_WithDecimals_TrimsTrailingZeros(string baseUnits, int decimals, string expected)
    {
        var amount = TokenAmount.Parse(baseUnits);
        Assert.Equal(expected, amount.ToString(decimals));
        Assert.Equal(amount, TokenAmount.Parse(expected, decimals));
    }

    [Fact]
    public void Json_WritesDecimalStringAndRefusesNumbers()
    {
        var amount = new TokenAmount(Max);
        var json = JsonSerializer.Serialize(new { amount });
        Assert.Equal("{\"amount\":\"340282366920938463463374607431768211455\"}", json);
        Assert.Equal(amount, JsonSerializer.Deserialize<TokenAmount>("\"340282366920938463463374607431768211455\""));
        var number = Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<TokenAmount>("15"));
        Assert.Contains("JSON string", number.Message, StringComparison.Ordinal);
        var bad = Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<TokenAmount>("\"1.5\""));
        Assert.Contains("decimal point", bad.Message, StringComparison.Ordinal);
    }

    private static UInt128 RandomUInt128(Random random, Span<byte> bytes)
    {
        random.NextBytes(bytes);
        var value = new UInt128(BitConverter.ToUInt64(bytes[..8]), BitConverter.ToUInt64(bytes[8..]));
        // Mix magnitudes so both the 128-bit fast path and the 256-bit path are exercised.
        return value >> random.Next(0, 128);
    }
}
