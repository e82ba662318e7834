namespace Anpm.Abstractions;

/// <summary>Exact 128×128→256-bit multiplication and 256÷128-bit division for money ratios.</summary>
internal static class WideMath
{
    /// <summary>Returns the high 128 bits of <c>a × b</c>; the low 128 bits are <c>a * b</c> (wrapping).</summary>
    public static UInt128 MultiplyHigh(UInt128 a, UInt128 b)
    {
        var aLow = (ulong)a;
        var aHigh = (ulong)(a >> 64);
        var bLow = (ulong)b;
        var bHigh = (ulong)(b >> 64);

        var lowLowHigh = Math.BigMul(aLow, bLow, out _);
        var lowHighHigh = Math.BigMul(aLow, bHigh, out var lowHighLow);
        var highLowHigh = Math.BigMul(aHigh, bLow, out var highLowLow);
        var highHigh = (UInt128)aHigh * bHigh;

        // Column of bits 64..127: carry out of it goes into the high half.
        var middle = (UInt128)lowLowHigh + lowHighLow + highLowLow;
        return highHigh + lowHighHigh + highLowHigh + (middle >> 64);
    }

    /// <summary>
    /// Computes <c>floor(value × multiplier / divisor)</c> and <c>(value × multiplier) mod divisor</c> exactly.
    /// </summary>
    /// <returns><see langword="false"/> when the quotient does not fit in 128 bits.</returns>
    public static bool TryMultiplyDivide(UInt128 value, UInt128 multiplier, UInt128 divisor, out UInt128 quotient, out UInt128 remainder)
    {
        var high = MultiplyHigh(value, multiplier);
        var low = value * multiplier;
        if (high == UInt128.Zero)
        {
            (quotient, remainder) = UInt128.DivRem(low, divisor);
            return true;
        }

        if (high >= divisor)
        {
            quotient = UInt128.Zero;
            remainder = UInt128.Zero;
            return false;
        }

        // Restoring long division of the 256-bit (high, low) by divisor, one bit of low at a time.
        // high < divisor, so the quotient fits in 128 bits and the running remainder stays below divisor;
        // 'carry' holds the 129th bit of the shifted remainder.
        var rest = high;
        var q = UInt128.Zero;
        for (var bit = 127; bit >= 0; bit--)
        {
            var carry = rest >> 127 != UInt128.Zero;
            rest = (rest << 1) | ((low >> bit) & UInt128.One);
            q <<= 1;
            if (carry || rest >= divisor)
            {
                rest -= divisor;
                q |= UInt128.One;
            }
        }

        quotient = q;
        remainder = rest;
        return true;
    }
}
