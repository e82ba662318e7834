using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Numerics;
using System.Text;
using System.Text.Json;
using Anpm.Abstractions;

namespace Anpm.Signing;

/// <summary>
/// EIP-712 typed-data hashing with <c>eth_signTypedData_v4</c> semantics: address, bool, bytes1..32, uint8..256,
/// int8..256, string, bytes, fixed and dynamic arrays (also nested), and structs referencing structs, with referenced
/// types sorted by name after the primary type. Malformed documents and values give an error naming the field.
/// </summary>
public sealed class Eip712TypedData
{
    private static readonly System.Buffers.SearchValues<char> HexDigits = System.Buffers.SearchValues.Create("0123456789abcdefABCDEF");

    private const string DomainType = "EIP712Domain";
    private readonly Dictionary<string, IReadOnlyList<(string Name, string Type)>> _types;
    private readonly Dictionary<string, byte[]> _typeHashes = new(StringComparer.Ordinal);

    private Eip712TypedData(Dictionary<string, IReadOnlyList<(string Name, string Type)>> types) => _types = types;

    /// <summary>The struct types by name, each with its fields in order.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<(string Name, string Type)>> Types => _types;

    /// <summary>Parses and checks the <c>types</c> object of a typed-data document.</summary>
    /// <param name="types">A JSON object: type name → array of <c>{"name", "type"}</c>.</param>
    /// <param name="typedData">The types, or <see langword="null"/>.</param>
    /// <param name="error">What is wrong, naming the type and field, or <see langword="null"/>.</param>
    /// <returns><see langword="false"/> with <paramref name="error"/> when the types are malformed.</returns>
    public static bool TryCreate(JsonElement types, [NotNullWhen(true)] out Eip712TypedData? typedData, [NotNullWhen(false)] out string? error)
    {
        typedData = null;
        try
        {
            typedData = Create(types);
            error = null;
            return true;
        }
        catch (TypedDataException exception)
        {
            error = exception.Message;
            return false;
        }
    }

    /// <summary>
    /// Hashes a whole <c>eth_signTypedData_v4</c> document (<c>types</c>, <c>primaryType</c>, <c>domain</c>, <c>message</c>):
    /// <c>keccak256(0x19 0x01 ‖ hashStruct(domain) ‖ hashStruct(message))</c>.
    /// </summary>
    /// <param name="json">The document.</param>
    /// <param name="digest">The 32-byte digest a wallet signs, or <see langword="null"/>.</param>
    /// <param name="error">What is wrong with the document, or <see langword="null"/>.</param>
    /// <returns><see langword="false"/> with <paramref name="error"/> when the document is malformed.</returns>
    public static bool TryHashDocument(string json, [NotNullWhen(true)] out byte[]? digest, [NotNullWhen(false)] out string? error)
    {
        digest = null;
        try
        {
            using var document = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 64 });
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new TypedDataException("Typed data must be a JSON object.");
            }

            var typedData = Create(Property(root, "types"));
            var primaryType = Property(root, "primaryType");
            if (primaryType.ValueKind != JsonValueKind.String)
            {
                throw new TypedDataException("primaryType must be a string.");
            }

            var domainSeparator = typedData.HashStructCore(DomainType, Property(root, "domain"), "domain");
            var messageHash = typedData.HashStructCore(primaryType.GetString()!, Property(root, "message"), "message");
            digest = Digest(domainSeparator, messageHash);
            error = null;
            return true;
        }
        catch (JsonException exception)
        {
            error = "Typed data is not valid JSON: " + exception.Message;
            return false;
        }
        catch (TypedDataException exception)
        {
            error = exception.Message;
            return false;
        }
    }

    /// <summary>The digest a wallet signs: <c>keccak256(0x19 0x01 ‖ domainSeparator ‖ messageHash)</c>.</summary>
    public static byte[] Digest(ReadOnlySpan<byte> domainSeparator, ReadOnlySpan<byte> messageHash)
    {
        if (domainSeparator.Length != 32 || messageHash.Length != 32)
        {
            throw new ArgumentException("The domain separator and the message hash are 32 bytes each.");
        }

        Span<byte> data = stackalloc byte[66];
        data[0] = 0x19;
        data[1] = 0x01;
        domainSeparator.CopyTo(data[2..]);
        messageHash.CopyTo(data[34..]);
        return Keccak256.Hash(data);
    }

    /// <summary>The type's encoding: <c>Name(type name,…)</c> followed by every referenced struct type, sorted by name.</summary>
    /// <exception cref="FormatException"><paramref name="primaryType"/> is not one of the types.</exception>
    public string EncodeType(string primaryType)
    {
        ArgumentNullException.ThrowIfNull(primaryType);
        if (!_types.ContainsKey(primaryType))
        {
            throw new FormatException($"Type '{primaryType}' is not defined.");
        }

        var dependencies = new SortedSet<string>(StringComparer.Ordinal);
        CollectDependencies(primaryType, dependencies);
        dependencies.Remove(primaryType);
        var builder = new StringBuilder();
        foreach (var type in new[] { primaryType }.Concat(dependencies))
        {
            builder.Append(type).Append('(').AppendJoin(',', _types[type].Select(f => f.Type + " " + f.Name)).Append(')');
        }

        return builder.ToString();
    }

    /// <summary><c>keccak256(encodeType(type))</c>, cached per type.</summary>
    public byte[] TypeHash(string type)
    {
        lock (_typeHashes)
        {
            if (!_typeHashes.TryGetValue(type, out var hash))
            {
                _typeHashes[type] = hash = Keccak256.Hash(Encoding.UTF8.GetBytes(EncodeType(type)));
            }

            return hash;
        }
    }

    /// <summary>
    /// <c>hashStruct(type, value) = keccak256(typeHash ‖ encodeData(value))</c>. Every field of the type must be present; a
    /// member the type does not declare is an error.
    /// </summary>
    /// <exception cref="FormatException">The value does not match the type; the message names the field.</exception>
    public byte[] HashStruct(string type, JsonElement value)
    {
        try
        {
            return HashStructCore(type, value, type);
        }
        catch (TypedDataException exception)
        {
            throw new FormatException(exception.Message, exception);
        }
    }

    private static Eip712TypedData Create(JsonElement types)
    {
        if (types.ValueKind != JsonValueKind.Object)
        {
            throw new TypedDataException("types must be a JSON object of type name to fields.");
        }

        var parsed = new Dictionary<string, IReadOnlyList<(string Name, string Type)>>(StringComparer.Ordinal);
        foreach (var type in types.EnumerateObject())
        {
            if (!IsIdentifier(type.Name))
            {
                throw new TypedDataException($"Type name '{type.Name}' is not an identifier.");
            }

            if (type.Value.ValueKind != JsonValueKind.Array)
            {
                throw new TypedDataException($"Type '{type.Name}' must be an array of fields.");
            }

            var fields = new List<(string, string)>();
            var names = new HashSet<string>(StringComparer.Ordinal);
            foreach (var field in type.Value.EnumerateArray())
            {
                if (field.ValueKind != JsonValueKind.Object
                    || !field.TryGetProperty("name", out var name) || name.ValueKind != JsonValueKind.String
                    || !field.TryGetProperty("type", out var fieldType) || fieldType.ValueKind != JsonValueKind.String)
                {
                    throw new TypedDataException($"Every field of type '{type.Name}' needs a string name and type.");
                }

                var fieldName = name.GetString()!;
                if (!IsIdentifier(fieldName) || !names.Add(fieldName))
                {
                    throw new TypedDataException($"Type '{type.Name}' has an invalid or repeated field name '{fieldName}'.");
                }

                fields.Add((fieldName, fieldType.GetString()!));
            }

            parsed[type.Name] = fields;
        }

        var typedData = new Eip712TypedData(parsed);
        foreach (var (typeName, fields) in parsed)
        {
            foreach (var (fieldName, fieldType) in fields)
            {
                if (!typedData.IsValidType(fieldType))
                {
                    throw new TypedDataException($"Field '{typeName}.{fieldName}' has unknown type '{fieldType}'.");
                }
            }
        }

        return typedData;
    }

    private static JsonElement Property(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) ? value : throw new TypedDataException($"Typed data has no '{name}'.");

    private static bool IsIdentifier(string name) =>
        name.Length is > 0 and <= 256 && (char.IsAsciiLetter(name[0]) || name[0] is '_' or '$')
        && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '$');

    private bool IsValidType(string type)
    {
        var (element, _) = SplitArray(type);
        if (element is not null)
        {
            return IsValidType(element);
        }

        return type is "address" or "bool" or "string" or "bytes" || _types.ContainsKey(type)
            || IntegerBits(type, out _, out _) || FixedBytes(type) > 0;
    }

    private void CollectDependencies(string type, SortedSet<string> found)
    {
        var baseType = type;
        while (SplitArray(baseType).Element is { } element)
        {
            baseType = element;
        }

        if (!_types.TryGetValue(baseType, out var fields) || !found.Add(baseType))
        {
            return;
        }

        foreach (var (_, fieldType) in fields)
        {
            CollectDependencies(fieldType, found);
        }
    }

    private byte[] HashStructCore(string type, JsonElement value, string path)
    {
        if (!_types.TryGetValue(type, out var fields))
        {
            throw new TypedDataException($"Type '{type}' is not defined.");
        }

        if (value.ValueKind != JsonValueKind.Object)
        {
            throw new TypedDataException($"{path} must be an object of type {type}.");
        }

        foreach (var member in value.EnumerateObject())
        {
            if (!fields.Any(f => f.Name == member.Name))
            {
                throw new TypedDataException($"{path} has '{member.Name}', which type {type} does not declare.");
            }
        }

        var data = new byte[32 * (fields.Count + 1)];
        TypeHash(type).CopyTo(data, 0);
        for (var i = 0; i < fields.Count; i++)
        {
            var (name, fieldType) = fields[i];
            if (!value.TryGetProperty(name, out var fieldValue))
            {
                throw new TypedDataException($"{path}.{name} ({fieldType}) is missing.");
            }

            EncodeValue(fieldType, fieldValue, $"{path}.{name}", data.AsSpan(32 * (i + 1), 32));
        }

        return Keccak256.Hash(data);
    }

    // Writes the 32-byte encoding of one value.
    private void EncodeValue(string type, JsonElement value, string path, Span<byte> destination)
    {
        var (element, length) = SplitArray(type);
        if (element is not null)
        {
            if (value.ValueKind != JsonValueKind.Array)
            {
                throw new TypedDataException($"{path} must be an array ({type}).");
            }

            var count = value.GetArrayLength();
            if (length is { } fixedLength && count != fixedLength)
            {
                throw new TypedDataException($"{path} has {count} elements; {type} has {fixedLength}.");
            }

            var items = new byte[32 * count];
            var index = 0;
            foreach (var item in value.EnumerateArray())
            {
                EncodeValue(element, item, $"{path}[{index}]", items.AsSpan(32 * index, 32));
                index++;
            }

            Keccak256.Hash(items, destination);
            return;
        }

        if (_types.ContainsKey(type))
        {
            HashStructCore(type, value, path).CopyTo(destination);
            return;
        }

        destination.Clear();
        switch (type)
        {
            case "address":
                if (value.ValueKind != JsonValueKind.String)
                {
                    throw new TypedDataException($"{path} (address) must be a string.");
                }

                if (!Address.TryParse(value.GetString(), out var address, out var addressError))
                {
                    throw new TypedDataException($"{path} (address): {addressError}");
                }

                address.WriteBytes(destination[12..]);
                return;
            case "bool":
                if (value.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
                {
                    throw new TypedDataException($"{path} (bool) must be true or false.");
                }

                destination[31] = value.ValueKind == JsonValueKind.True ? (byte)1 : (byte)0;
                return;
            case "string":
                if (value.ValueKind != JsonValueKind.String)
                {
                    throw new TypedDataException($"{path} (string) must be a string.");
                }

                Keccak256.Hash(Encoding.UTF8.GetBytes(value.GetString()!), destination);
                return;
            case "bytes":
                Keccak256.Hash(HexBytes(value, path, type, expectedLength: null), destination);
                return;
        }

        if (FixedBytes(type) is var width and > 0)
        {
            HexBytes(value, path, type, width).CopyTo(destination);
            return;
        }

        if (IntegerBits(type, out var bits, out var signed))
        {
            var number = Integer(value, path, type);
            var minimum = signed ? -(BigInteger.One << (bits - 1)) : BigInteger.Zero;
            var maximum = (BigInteger.One << (signed ? bits - 1 : bits)) - 1;
            if (number < minimum || number > maximum)
            {
                throw new TypedDataException($"{path} ({type}) is out of range: {number}.");
            }

            // Two's complement in 256 bits, big-endian.
            var twos = number.Sign < 0 ? (BigInteger.One << 256) + number : number;
            var bytes = twos.ToByteArray(isUnsigned: true, isBigEndian: true);
            bytes.CopyTo(destination[(32 - bytes.Length)..]);
            return;
        }

        throw new TypedDataException($"{path} has unknown type '{type}'.");
    }

    private static BigInteger Integer(JsonElement value, string path, string type) =>
        TryParseInteger(value, out var number)
            ? number
            : throw new TypedDataException($"{path} ({type}) must be an integer: a JSON integer or a decimal or 0x-hex string (no negative zero).");

    /// <summary>
    /// Reads an EIP-712 integer value as every Anpm component reads it: a JSON integer, or a string of decimal digits or
    /// of <c>0x</c>-prefixed hex digits, optionally after a minus sign; at most 80 characters. Negative zero (<c>-0</c>,
    /// <c>-0x0</c>) is refused: a value has one sign. Range checks (uint256, int8 …) are the caller's.
    /// </summary>
    /// <returns><see langword="false"/> when the value is not such an integer.</returns>
    public static bool TryParseInteger(JsonElement value, out BigInteger number)
    {
        number = BigInteger.Zero;
        string? text;
        try
        {
            text = value.ValueKind switch
            {
                JsonValueKind.Number => value.GetRawText(),
                JsonValueKind.String => value.GetString(),
                _ => null,
            };
        }
        catch (InvalidOperationException)
        {
            return false; // text that is not valid UTF-16
        }

        if (text is not { Length: > 0 and <= 80 })
        {
            return false;
        }

        var negative = text.StartsWith('-');
        var digits = negative ? text[1..] : text;
        if (digits.StartsWith("0x", StringComparison.OrdinalIgnoreCase) && digits.Length > 2 && digits.AsSpan(2).IndexOfAnyExcept(HexDigits) < 0)
        {
            number = BigInteger.Parse("0" + digits[2..], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        }
        else if (digits.Length > 0 && digits.All(char.IsAsciiDigit))
        {
            number = BigInteger.Parse(digits, NumberStyles.None, CultureInfo.InvariantCulture);
        }
        else
        {
            return false;
        }

        if (negative && number.IsZero)
        {
            return false;
        }

        number = negative ? -number : number;
        return true;
    }

    private static byte[] HexBytes(JsonElement value, string path, string type, int? expectedLength)
    {
        var text = value.ValueKind == JsonValueKind.String ? value.GetString()! : null;
        if (text is null || !text.StartsWith("0x", StringComparison.OrdinalIgnoreCase) || text.Length % 2 != 0
            || text.AsSpan(2).IndexOfAnyExcept(HexDigits) >= 0)
        {
            throw new TypedDataException($"{path} ({type}) must be 0x-prefixed hex with an even number of digits.");
        }

        var bytes = Convert.FromHexString(text.AsSpan(2));
        if (expectedLength is { } length && bytes.Length != length)
        {
            throw new TypedDataException($"{path} ({type}) has {bytes.Length} bytes; it must have {length}.");
        }

        return bytes;
    }

    private static (string? Element, int? Length) SplitArray(string type)
    {
        if (!type.EndsWith(']'))
        {
            return (null, null);
        }

        var open = type.LastIndexOf('[');
        if (open <= 0)
        {
            return (null, null);
        }

        var inside = type[(open + 1)..^1];
        if (inside.Length == 0)
        {
            return (type[..open], null);
        }

        return int.TryParse(inside, NumberStyles.None, CultureInfo.InvariantCulture, out var length) && length is > 0 and <= 1_000_000
            ? (type[..open], length)
            : (null, null);
    }

    private static int FixedBytes(string type) =>
        type.StartsWith("bytes", StringComparison.Ordinal) && type.Length > 5
        && int.TryParse(type.AsSpan(5), NumberStyles.None, CultureInfo.InvariantCulture, out var width) && width is >= 1 and <= 32
        && type == "bytes" + width.ToString(CultureInfo.InvariantCulture)
            ? width
            : 0;

    private static bool IntegerBits(string type, out int bits, out bool signed)
    {
        signed = type.StartsWith("int", StringComparison.Ordinal);
        var prefix = signed ? "int" : type.StartsWith("uint", StringComparison.Ordinal) ? "uint" : null;
        bits = 0;
        return prefix is not null
            && int.TryParse(type.AsSpan(prefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out bits)
            && bits is >= 8 and <= 256 && bits % 8 == 0
            && type == prefix + bits.ToString(CultureInfo.InvariantCulture);
    }

    private sealed class TypedDataException(string message) : Exception(message);
}
