using System.Diagnostics.CodeAnalysis;
using System.Numerics;

namespace Anpm.Signing;

/// <summary>
/// An Ethereum ECDSA signature: r, s and the recovery value v, written as <c>0x</c> + 130 hex digits (r‖s‖v, v = 27 or
/// 28). Parsing accepts v as 27/28 or 0/1 and refuses a high s (EIP-2) and out-of-range r or s.
/// </summary>
public sealed class EthereumSignature : IEquatable<EthereumSignature>
{
    /// <summary>The length of a signature in bytes: r (32), s (32), v (1).</summary>
    public const int SizeBytes = 65;

    private static readonly BigInteger N = BigInteger.Parse("0FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141", System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture);
    private static readonly BigInteger HalfN = N / 2;

    private readonly byte[] _rs;

    private EthereumSignature(byte[] rs, byte recoveryId)
    {
        _rs = rs;
        RecoveryId = recoveryId;
    }

    /// <summary>0 or 1: which candidate public key signed (v − 27).</summary>
    public byte RecoveryId { get; }

    /// <summary>Ethereum's v: 27 or 28.</summary>
    public byte V => (byte)(27 + RecoveryId);

    /// <summary>r‖s, 64 bytes.</summary>
    public ReadOnlySpan<byte> RS => _rs;

    /// <summary>Creates a signature from r‖s and a recovery id, checking the ranges and low s.</summary>
    /// <exception cref="FormatException">r or s is out of range, s is high, or the recovery id is not 0 or 1.</exception>
    public static EthereumSignature FromParts(ReadOnlySpan<byte> rs, byte recoveryId)
    {
        var error = Check(rs, recoveryId);
        return error is null ? new EthereumSignature(rs.ToArray(), recoveryId) : throw new FormatException(error);
    }

    /// <summary>Parses <c>0x</c> + 130 hex digits; see <see cref="TryParse(string?, out EthereumSignature?, out string?)"/>.</summary>
    /// <exception cref="FormatException">The text is not a valid signature; the message says why.</exception>
    public static EthereumSignature Parse(string text) =>
        TryParse(text, out var signature, out var error) ? signature : throw new FormatException(error);

    /// <summary>Parses <c>0x</c> + 130 hex digits (r‖s‖v) with v as 27/28 or 0/1.</summary>
    /// <param name="text">The text to parse.</param>
    /// <param name="signature">The signature, or <see langword="null"/>.</param>
    /// <param name="error">Why the text was refused, or <see langword="null"/>.</param>
    /// <returns><see langword="false"/> with <paramref name="error"/> naming the problem when the text is refused.</returns>
    public static bool TryParse([NotNullWhen(true)] string? text, [NotNullWhen(true)] out EthereumSignature? signature, [NotNullWhen(false)] out string? error)
    {
        signature = null;
        if (!HexText.TryDecode(text, SizeBytes, "Signature", out var bytes, out error))
        {
            return false;
        }

        var v = bytes[64];
        if (v is not (0 or 1 or 27 or 28))
        {
            error = $"Signature has v = {v}; v must be 27 or 28 (or 0 or 1).";
            return false;
        }

        var recoveryId = (byte)(v >= 27 ? v - 27 : v);
        error = Check(bytes.AsSpan(0, 64), recoveryId);
        if (error is not null)
        {
            return false;
        }

        signature = new EthereumSignature(bytes[..64], recoveryId);
        return true;
    }

    /// <summary>The signature as <c>0x</c> + 130 lowercase hex digits, v as 27 or 28 (<c>1b</c>/<c>1c</c>).</summary>
    public override string ToString() => "0x" + Convert.ToHexStringLower(_rs) + V.ToString("x2", System.Globalization.CultureInfo.InvariantCulture);

    /// <inheritdoc />
    public bool Equals(EthereumSignature? other) => other is not null && RecoveryId == other.RecoveryId && _rs.AsSpan().SequenceEqual(other._rs);

    /// <inheritdoc />
    public override bool Equals(object? obj) => Equals(obj as EthereumSignature);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(BitConverter.ToInt32(_rs, 0), BitConverter.ToInt32(_rs, 32), RecoveryId);

    private static string? Check(ReadOnlySpan<byte> rs, byte recoveryId)
    {
        if (rs.Length != 64)
        {
            return $"A signature's r and s are 64 bytes, not {rs.Length}.";
        }

        if (recoveryId > 1)
        {
            return $"Signature recovery id is {recoveryId}; it must be 0 or 1.";
        }

        var r = new BigInteger(rs[..32], isUnsigned: true, isBigEndian: true);
        var s = new BigInteger(rs[32..], isUnsigned: true, isBigEndian: true);
        if (r.IsZero || r >= N)
        {
            return "Signature r is zero or not below the curve order.";
        }

        if (s.IsZero || s >= N)
        {
            return "Signature s is zero or not below the curve order.";
        }

        return s > HalfN ? "Signature s is in the upper half of the curve order; EIP-2 requires low s." : null;
    }
}

/// <summary>Decodes <c>0x</c>-prefixed hex with errors that name the problem.</summary>
internal static class HexText
{
    private static readonly System.Buffers.SearchValues<char> HexDigits = System.Buffers.SearchValues.Create("0123456789abcdefABCDEF");

    public static bool TryDecode([NotNullWhen(true)] string? text, int sizeBytes, string what, [NotNullWhen(true)] out byte[]? bytes, [NotNullWhen(false)] out string? error)
    {
        bytes = null;
        if (string.IsNullOrEmpty(text))
        {
            error = $"{what} is empty.";
            return false;
        }

        if (!text.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
        {
            error = $"{what} must start with 0x.";
            return false;
        }

        if (text.Length != 2 + (2 * sizeBytes))
        {
            error = $"{what} has {text.Length - 2} hex digits; it must have {2 * sizeBytes}.";
            return false;
        }

        var digits = text.AsSpan(2);
        var bad = digits.IndexOfAnyExcept(HexDigits);
        if (bad >= 0)
        {
            error = $"{what} has a character that is not a hex digit at position {bad + 2}.";
            return false;
        }

        bytes = Convert.FromHexString(digits);
        error = null;
        return true;
    }
}
