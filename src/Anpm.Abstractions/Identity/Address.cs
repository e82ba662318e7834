using System.Buffers.Binary;
using System.ComponentModel;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Anpm.Abstractions;

/// <summary>
/// A 20-byte Ethereum address. Parsed from <c>0x</c> + 40 hex digits in any case, verifying the EIP-55 checksum
/// when the text is mixed case; formatted lowercase (<see cref="ToString"/>) or checksummed (<see cref="ToChecksumString"/>).
/// </summary>
[JsonConverter(typeof(AddressJsonConverter))]
[TypeConverter(typeof(AddressTypeConverter))]
public readonly record struct Address
{
    /// <summary>The length of an address in bytes.</summary>
    public const int SizeBytes = 20;

    /// <summary>The length of an address as text: <c>0x</c> and 40 hex digits.</summary>
    public const int TextLength = 2 + (2 * SizeBytes);

    // Three fields rather than an array so that equality and hashing are by value and nothing is allocated.
    private readonly ulong _bytes0To7;
    private readonly ulong _bytes8To15;
    private readonly uint _bytes16To19;

    private Address(ulong bytes0To7, ulong bytes8To15, uint bytes16To19)
    {
        _bytes0To7 = bytes0To7;
        _bytes8To15 = bytes8To15;
        _bytes16To19 = bytes16To19;
    }

    /// <summary>The zero address, <c>0x0000000000000000000000000000000000000000</c>.</summary>
    public static Address Zero => default;

    /// <summary>Whether this is the zero address.</summary>
    public bool IsZero => _bytes0To7 == 0 && _bytes8To15 == 0 && _bytes16To19 == 0;

    /// <summary>Creates an address from its 20 bytes.</summary>
    /// <exception cref="ArgumentException"><paramref name="bytes"/> is not 20 bytes long.</exception>
    public static Address FromBytes(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != SizeBytes)
        {
            throw new ArgumentException($"An address is {SizeBytes} bytes, not {bytes.Length}.", nameof(bytes));
        }

        return new Address(
            BinaryPrimitives.ReadUInt64BigEndian(bytes[..8]),
            BinaryPrimitives.ReadUInt64BigEndian(bytes[8..16]),
            BinaryPrimitives.ReadUInt32BigEndian(bytes[16..]));
    }

    /// <summary>The address of an uncompressed secp256k1 public key: the last 20 bytes of Keccak-256 of its 64-byte X‖Y.</summary>
    /// <exception cref="ArgumentException"><paramref name="publicKeyXy"/> is not 64 bytes long.</exception>
    public static Address FromPublicKey(ReadOnlySpan<byte> publicKeyXy)
    {
        if (publicKeyXy.Length != 64)
        {
            throw new ArgumentException($"An uncompressed public key without its 0x04 prefix is 64 bytes, not {publicKeyXy.Length}.", nameof(publicKeyXy));
        }

        Span<byte> hash = stackalloc byte[Keccak256.HashSizeBytes];
        Keccak256.Hash(publicKeyXy, hash);
        return FromBytes(hash[12..]);
    }

    /// <summary>Writes the 20 bytes of the address into <paramref name="destination"/>.</summary>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is shorter than 20 bytes.</exception>
    public void WriteBytes(Span<byte> destination)
    {
        if (destination.Length < SizeBytes)
        {
            throw new ArgumentException($"The destination must hold {SizeBytes} bytes.", nameof(destination));
        }

        BinaryPrimitives.WriteUInt64BigEndian(destination[..8], _bytes0To7);
        BinaryPrimitives.WriteUInt64BigEndian(destination[8..16], _bytes8To15);
        BinaryPrimitives.WriteUInt32BigEndian(destination[16..20], _bytes16To19);
    }

    /// <summary>The 20 bytes of the address.</summary>
    public byte[] ToArray()
    {
        var bytes = new byte[SizeBytes];
        WriteBytes(bytes);
        return bytes;
    }

    /// <summary>The address as <c>0x</c> and 40 lowercase hex digits.</summary>
    public override string ToString()
    {
        Span<byte> bytes = stackalloc byte[SizeBytes];
        WriteBytes(bytes);
        return "0x" + Convert.ToHexStringLower(bytes);
    }

    /// <summary>The address with its EIP-55 mixed-case checksum, e.g. <c>0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed</c>.</summary>
    public string ToChecksumString()
    {
        var lower = ToString();
        Span<byte> ascii = stackalloc byte[2 * SizeBytes];
        for (var i = 0; i < ascii.Length; i++)
        {
            ascii[i] = (byte)lower[i + 2];
        }

        Span<byte> hash = stackalloc byte[Keccak256.HashSizeBytes];
        Keccak256.Hash(ascii, hash);
        return string.Create(TextLength, (lower, hash.ToArray()), static (chars, state) =>
        {
            chars[0] = '0';
            chars[1] = 'x';
            for (var i = 0; i < 2 * SizeBytes; i++)
            {
                var c = state.lower[i + 2];
                chars[i + 2] = c >= 'a' && ChecksumNibble(state.Item2, i) >= 8 ? char.ToUpperInvariant(c) : c;
            }
        });
    }

    /// <summary>Parses <c>0x</c> + 40 hex digits; see <see cref="TryParse(string?, out Address, out string?)"/>.</summary>
    /// <exception cref="FormatException">The text is not an address; the message says why.</exception>
    public static Address Parse(string text) =>
        TryParse(text, out var address, out var error) ? address : throw new FormatException(error);

    /// <summary>Parses <c>0x</c> + 40 hex digits.</summary>
    /// <returns><see langword="false"/> when the text is not an address or fails its checksum.</returns>
    public static bool TryParse([NotNullWhen(true)] string? text, out Address address) => TryParse(text, out address, out _);

    /// <summary>
    /// Parses <c>0x</c> + 40 hex digits. All-lowercase and all-uppercase digits are accepted as they are; mixed case must
    /// carry a valid EIP-55 checksum.
    /// </summary>
    /// <param name="text">The text to parse.</param>
    /// <param name="address">The address, or <see cref="Zero"/>.</param>
    /// <param name="error">Why the text was refused, or <see langword="null"/>.</param>
    /// <returns><see langword="false"/> with <paramref name="error"/> naming the problem when the text is refused.</returns>
    public static bool TryParse([NotNullWhen(true)] string? text, out Address address, [NotNullWhen(false)] out string? error)
    {
        address = default;
        if (string.IsNullOrEmpty(text))
        {
            error = "Address is empty.";
            return false;
        }

        if (text.Length > 2 * TextLength)
        {
            error = $"Address is {text.Length} characters long; an address is 0x and 40 hex digits.";
            return false;
        }

        if (!text.StartsWith("0x", StringComparison.Ordinal) && !text.StartsWith("0X", StringComparison.Ordinal))
        {
            error = $"Address '{text}' must start with 0x.";
            return false;
        }

        if (text.Length != TextLength)
        {
            error = $"Address '{text}' has {text.Length - 2} hex digits; an address has 40.";
            return false;
        }

        var digits = text.AsSpan(2);
        bool hasUpper = false, hasLower = false;
        for (var i = 0; i < digits.Length; i++)
        {
            var c = digits[i];
            if (!char.IsAsciiHexDigit(c))
            {
                error = $"Address '{text}' has '{c}' at position {i + 2}, which is not a hex digit.";
                return false;
            }

            hasUpper |= char.IsAsciiLetterUpper(c);
            hasLower |= char.IsAsciiLetterLower(c);
        }

        Span<byte> bytes = stackalloc byte[SizeBytes];
        Convert.FromHexString(digits, bytes, out _, out _);
        var parsed = FromBytes(bytes);
        if (hasUpper && hasLower && !string.Equals(parsed.ToChecksumString(), "0x" + digits.ToString(), StringComparison.Ordinal))
        {
            error = $"Address '{text}' is mixed case but its EIP-55 checksum is wrong (expected {parsed.ToChecksumString()}).";
            return false;
        }

        address = parsed;
        error = null;
        return true;
    }

    private static int ChecksumNibble(byte[] hash, int index) =>
        index % 2 == 0 ? hash[index / 2] >> 4 : hash[index / 2] & 0x0f;
}

/// <summary>Reads an <see cref="Address"/> from a JSON string in any case (checksum verified when mixed) and writes it lowercase.</summary>
public sealed class AddressJsonConverter : JsonConverter<Address>
{
    /// <inheritdoc />
    /// <exception cref="JsonException">The token is not an address string; the message says why.</exception>
    public override Address Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.String)
        {
            throw new JsonException($"An address must be a JSON string, not {reader.TokenType}.");
        }

        return Address.TryParse(reader.GetString(), out var address, out var error) ? address : throw new JsonException(error);
    }

    /// <inheritdoc />
    public override void Write(Utf8JsonWriter writer, Address value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteStringValue(value.ToString());
    }
}

/// <summary>
/// Converts addresses from and to text, so options bind them from configuration (<c>"Treasury": "0x…"</c>); a bad
/// address fails with the parser's message.
/// </summary>
public sealed class AddressTypeConverter : TypeConverter
{
    /// <inheritdoc />
    public override bool CanConvertFrom(ITypeDescriptorContext? context, Type sourceType) =>
        sourceType == typeof(string) || base.CanConvertFrom(context, sourceType);

    /// <inheritdoc />
    public override object? ConvertFrom(ITypeDescriptorContext? context, CultureInfo? culture, object value) =>
        value is string text
            ? Address.TryParse(text.Trim(), out var address, out var error) ? address : throw new FormatException(error)
            : base.ConvertFrom(context, culture, value);

    /// <inheritdoc />
    public override object? ConvertTo(ITypeDescriptorContext? context, CultureInfo? culture, object? value, Type destinationType) =>
        destinationType == typeof(string) && value is Address address ? address.ToString() : base.ConvertTo(context, culture, value, destinationType);
}
