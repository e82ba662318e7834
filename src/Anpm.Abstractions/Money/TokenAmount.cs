using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text.Json.Serialization;

namespace Anpm.Abstractions;

/// <summary>
/// An amount of an asset in indivisible base units (for APUS, 10^-12 of a token; for credits, one credit).
/// Unsigned, so it can never be negative; arithmetic is checked and never wraps.
/// </summary>
/// <remarks>
/// JSON carries a <see cref="TokenAmount"/> as a decimal string of base units, e.g. <c>"1500000000000"</c>.
/// Decimals apply only when parsing or formatting for people (<see cref="Parse(string, int)"/>,
/// <see cref="ToString(int)"/>).
/// </remarks>
/// <param name="BaseUnits">The amount in base units.</param>
[JsonConverter(typeof(TokenAmountJsonConverter))]
public readonly record struct TokenAmount(UInt128 BaseUnits) : IComparable<TokenAmount>
{
    /// <summary>The most decimals <see cref="Parse(string, int)"/> and <see cref="ToString(int)"/> accept.</summary>
    public const int MaxDecimals = 38;

    /// <summary>The most characters a textual amount may have; longer text is refused before it is read.</summary>
    public const int MaxTextLength = 80;

    /// <summary>Zero base units.</summary>
    public static TokenAmount Zero => default;

    /// <summary>The largest representable amount, 2^128 - 1 base units.</summary>
    public static TokenAmount MaxValue => new(UInt128.MaxValue);

    /// <summary>Whether the amount is zero.</summary>
    public bool IsZero => BaseUnits == UInt128.Zero;

    /// <summary>Creates an amount from a number of base units.</summary>
    /// <param name="baseUnits">Base units; must not be negative.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="baseUnits"/> is negative.</exception>
    public static TokenAmount FromBaseUnits(long baseUnits)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(baseUnits);
        return new TokenAmount((UInt128)(ulong)baseUnits);
    }

    /// <summary>Adds two amounts unless the sum exceeds <see cref="MaxValue"/>.</summary>
    /// <returns><see langword="false"/> (and <paramref name="sum"/> zero) when the sum would overflow.</returns>
    public bool TryAdd(TokenAmount other, out TokenAmount sum)
    {
        var result = BaseUnits + other.BaseUnits;
        if (result < BaseUnits)
        {
            sum = default;
            return false;
        }

        sum = new TokenAmount(result);
        return true;
    }

    /// <summary>Subtracts <paramref name="other"/> unless the result would be negative.</summary>
    /// <returns><see langword="false"/> (and <paramref name="difference"/> zero) when <paramref name="other"/> is larger.</returns>
    public bool TrySubtract(TokenAmount other, out TokenAmount difference)
    {
        if (other.BaseUnits > BaseUnits)
        {
            difference = default;
            return false;
        }

        difference = new TokenAmount(BaseUnits - other.BaseUnits);
        return true;
    }

    /// <summary>Checked addition.</summary>
    /// <exception cref="OverflowException">The sum exceeds <see cref="MaxValue"/>.</exception>
    public static TokenAmount operator +(TokenAmount left, TokenAmount right) =>
        left.TryAdd(right, out var sum) ? sum : throw new OverflowException($"{left} + {right} exceeds the largest token amount.");

    /// <summary>Checked subtraction.</summary>
    /// <exception cref="OverflowException">The result would be negative.</exception>
    public static TokenAmount operator -(TokenAmount left, TokenAmount right) =>
        left.TrySubtract(right, out var difference) ? difference : throw new OverflowException($"{left} - {right} would be negative.");

    /// <summary>Compares base units.</summary>
    public static bool operator <(TokenAmount left, TokenAmount right) => left.BaseUnits < right.BaseUnits;

    /// <summary>Compares base units.</summary>
    public static bool operator >(TokenAmount left, TokenAmount right) => left.BaseUnits > right.BaseUnits;

    /// <summary>Compares base units.</summary>
    public static bool operator <=(TokenAmount left, TokenAmount right) => left.BaseUnits <= right.BaseUnits;

    /// <summary>Compares base units.</summary>
    public static bool operator >=(TokenAmount left, TokenAmount right) => left.BaseUnits >= right.BaseUnits;

    /// <inheritdoc />
    public int CompareTo(TokenAmount other) => BaseUnits.CompareTo(other.BaseUnits);

    /// <summary>
    /// Computes <c>floor(this × multiplier / divisor)</c> with an exact 256-bit intermediate, so nothing is lost
    /// to overflow, and returns the remainder (the dust) so the caller can account for it.
    /// </summary>
    /// <param name="multiplier">The numerator of the ratio.</param>
    /// <param name="divisor">The denominator of the ratio; must not be zero.</param>
    /// <param name="quotient">The result, rounded down.</param>
    /// <param name="remainder">
    /// <c>(this × multiplier) mod divisor</c>: what rounding down left over, in units of 1/<paramref name="divisor"/> base units.
    /// </param>
    /// <returns><see langword="false"/> (outputs zero) when <paramref name="divisor"/> is zero or the quotient exceeds <see cref="MaxValue"/>.</returns>
    public bool TryMultiplyDivide(UInt128 multiplier, UInt128 divisor, out TokenAmount quotient, out UInt128 remainder)
    {
        if (divisor == UInt128.Zero || !WideMath.TryMultiplyDivide(BaseUnits, multiplier, divisor, out var q, out remainder))
        {
            quotient = default;
            remainder = UInt128.Zero;
            return false;
        }

        quotient = new TokenAmount(q);
        return true;
    }

    /// <summary>
    /// Computes <c>floor(this × multiplier / divisor)</c> with a 256-bit intermediate; see
    /// <see cref="TryMultiplyDivide(UInt128, UInt128, out TokenAmount, out UInt128)"/>.
    /// </summary>
    /// <exception cref="DivideByZeroException"><paramref name="divisor"/> is zero.</exception>
    /// <exception cref="OverflowException">The quotient exceeds <see cref="MaxValue"/>.</exception>
    public TokenAmount MultiplyDivide(UInt128 multiplier, UInt128 divisor, out UInt128 remainder)
    {
        if (divisor == UInt128.Zero)
        {
            throw new DivideByZeroException("The divisor of a token amount ratio must not be zero.");
        }

        return TryMultiplyDivide(multiplier, divisor, out var quotient, out remainder)
            ? quotient
            : throw new OverflowException($"{this} × {multiplier} / {divisor} exceeds the largest token amount.");
    }

    /// <summary>The amount as a decimal string of base units (invariant culture), e.g. <c>"1500000000000"</c>.</summary>
    public override string ToString() => BaseUnits.ToString(CultureInfo.InvariantCulture);

    /// <summary>
    /// Formats the amount for people with <paramref name="decimals"/> decimals: <c>1500000000000</c> with 12 decimals is
    /// <c>"1.5"</c>. Trailing zeros of the fraction are dropped; invariant culture, no grouping.
    /// </summary>
    /// <param name="decimals">Decimals of the asset, 0 to <see cref="MaxDecimals"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="decimals"/> is out of range.</exception>
    public string ToString(int decimals)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(decimals);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(decimals, MaxDecimals);
        var digits = ToString();
        if (decimals == 0)
        {
            return digits;
        }

        if (digits.Length <= decimals)
        {
            digits = new string('0', decimals - digits.Length + 1) + digits;
        }

        var whole = digits[..^decimals];
        var fraction = digits[^decimals..].TrimEnd('0');
        return fraction.Length == 0 ? whole : whole + "." + fraction;
    }

    /// <summary>Parses a decimal string of base units such as <c>"1500000000000"</c>.</summary>
    /// <exception cref="FormatException">The text is not a base-unit amount; the message says why.</exception>
    public static TokenAmount Parse(string text) => Parse(text, 0);

    /// <summary>
    /// Parses an amount written with up to <paramref name="decimals"/> decimals, e.g. <c>"1.5"</c> with 12 decimals is
    /// 1 500 000 000 000 base units. Digits with at most one <c>.</c>; no sign, exponent, grouping or whitespace.
    /// </summary>
    /// <exception cref="FormatException">The text is not such an amount; the message says why.</exception>
    public static TokenAmount Parse(string text, int decimals) =>
        TryParse(text, decimals, out var amount, out var error) ? amount : throw new FormatException(error);

    /// <summary>Parses a decimal string of base units.</summary>
    /// <returns><see langword="false"/> when the text is not a base-unit amount.</returns>
    public static bool TryParse([NotNullWhen(true)] string? text, out TokenAmount amount) => TryParse(text, 0, out amount, out _);

    /// <summary>Parses an amount with up to <paramref name="decimals"/> decimals; see <see cref="Parse(string, int)"/>.</summary>
    /// <param name="text">The text to parse.</param>
    /// <param name="decimals">Decimals of the asset, 0 to <see cref="MaxDecimals"/>.</param>
    /// <param name="amount">The parsed amount, or zero.</param>
    /// <param name="error">Why the text was refused, or <see langword="null"/>.</param>
    /// <returns><see langword="false"/> with <paramref name="error"/> naming the problem when the text is refused.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="decimals"/> is out of range.</exception>
    public static bool TryParse(
        [NotNullWhen(true)] string? text,
        int decimals,
        out TokenAmount amount,
        [NotNullWhen(false)] out string? error)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(decimals);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(decimals, MaxDecimals);
        amount = default;
        error = Validate(text, decimals);
        if (error is not null)
        {
            return false;
        }

        var point = text!.IndexOf('.', StringComparison.Ordinal);
        var whole = point < 0 ? text.AsSpan() : text.AsSpan(0, point);
        var fraction = point < 0 ? [] : text.AsSpan(point + 1);
        UInt128 value = UInt128.Zero;
        foreach (var digit in whole)
        {
            if (!TryAppendDigit(ref value, digit))
            {
                error = $"Amount '{text}' exceeds the largest token amount.";
                return false;
            }
        }

        for (var i = 0; i < decimals; i++)
        {
            if (!TryAppendDigit(ref value, i < fraction.Length ? fraction[i] : '0'))
            {
                error = $"Amount '{text}' exceeds the largest token amount.";
                return false;
            }
        }

        amount = new TokenAmount(value);
        return true;
    }

    private static string? Validate(string? text, int decimals)
    {
        if (string.IsNullOrEmpty(text))
        {
            return "Amount is empty.";
        }

        if (text.Length > MaxTextLength)
        {
            return $"Amount is {text.Length} characters long; at most {MaxTextLength} are allowed.";
        }

        var point = -1;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c == '.')
            {
                if (decimals == 0)
                {
                    return $"Amount '{text}' has a decimal point, but base units are whole numbers.";
                }

                if (point >= 0)
                {
                    return $"Amount '{text}' has more than one decimal point.";
                }

                point = i;
            }
            else if (!char.IsAsciiDigit(c))
            {
                return $"Amount '{text}' has '{c}' at position {i}; only digits and one '.' are allowed.";
            }
        }

        if (point == 0 || point == text.Length - 1)
        {
            return $"Amount '{text}' needs digits on both sides of its decimal point.";
        }

        if (point >= 0 && text.Length - point - 1 > decimals)
        {
            return $"Amount '{text}' has {text.Length - point - 1} decimals; this asset has {decimals}.";
        }

        return null;
    }

    private static bool TryAppendDigit(ref UInt128 value, char digit)
    {
        var high = WideMath.MultiplyHigh(value, 10);
        if (high != UInt128.Zero)
        {
            return false;
        }

        var shifted = value * 10;
        var next = shifted + (uint)(digit - '0');
        if (next < shifted)
        {
            return false;
        }

        value = next;
        return true;
    }
}
