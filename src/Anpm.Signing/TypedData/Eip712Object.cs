using System.Collections;
using System.Collections.Concurrent;
using System.Globalization;
using System.Numerics;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using Anpm.Abstractions;

namespace Anpm.Signing;

/// <summary>
/// EIP-712 hashing of C# objects whose types carry <see cref="Eip712TypeAttribute"/> and <see cref="Eip712FieldAttribute"/>:
/// the types are read from the attributes (nested types included) and the values go through the same encoder as JSON
/// documents, so both paths hash identically.
/// </summary>
public static class Eip712Object
{
    private static readonly ConcurrentDictionary<Type, Eip712TypedData> TypesByClr = new();

    /// <summary>The EIP-712 types of <typeparamref name="T"/> and every struct type it references.</summary>
    /// <exception cref="ArgumentException">A type lacks <see cref="Eip712TypeAttribute"/> or declares an invalid field.</exception>
    public static Eip712TypedData TypesOf<T>() => TypesOf(typeof(T));

    /// <summary>The digest a wallet signs for <paramref name="message"/> under <paramref name="domain"/> (<c>eth_signTypedData_v4</c>).</summary>
    /// <exception cref="ArgumentException">The types are malformed.</exception>
    /// <exception cref="FormatException">A value does not fit its field (e.g. out of range); the message names the field.</exception>
    public static byte[] Digest<T>(Eip712Domain domain, T message)
        where T : notnull
    {
        ArgumentNullException.ThrowIfNull(domain);
        var domainSeparator = TypesOf<Eip712Domain>().HashStruct("EIP712Domain", ToJson(domain));
        return Eip712TypedData.Digest(domainSeparator, HashStruct(message));
    }

    /// <summary><c>hashStruct</c> of an attributed object.</summary>
    public static byte[] HashStruct<T>(T message)
        where T : notnull => TypesOf(message.GetType()).HashStruct(NameOf(message.GetType()), ToJson(message));

    /// <summary>The object as the JSON value the encoder reads (addresses and numbers as strings, bytes as hex).</summary>
    public static JsonElement ToJson(object value)
    {
        ArgumentNullException.ThrowIfNull(value);
        return JsonSerializer.SerializeToElement(ToNode(value));
    }

    private static Eip712TypedData TypesOf(Type type) => TypesByClr.GetOrAdd(type, static clr =>
    {
        var types = new JsonObject();
        Collect(clr, types);
        using var document = JsonDocument.Parse(types.ToJsonString());
        return Eip712TypedData.TryCreate(document.RootElement, out var typedData, out var error)
            ? typedData
            : throw new ArgumentException($"The EIP-712 types of {clr.Name} are malformed: {error}", nameof(clr));
    });

    private static string NameOf(Type type) =>
        type.GetCustomAttribute<Eip712TypeAttribute>()?.Name ?? throw new ArgumentException($"{type.Name} has no [Eip712Type] attribute.", nameof(type));

    private static IEnumerable<(PropertyInfo Property, Eip712FieldAttribute Field)> Fields(Type type) =>
        type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Select(p => (Property: p, Field: p.GetCustomAttribute<Eip712FieldAttribute>()))
            .Where(p => p.Field is not null)
            .OrderBy(p => p.Field!.Order)
            .Select(p => (p.Property, p.Field!));

    private static void Collect(Type type, JsonObject types)
    {
        var name = NameOf(type);
        if (types.ContainsKey(name))
        {
            return;
        }

        var fields = new JsonArray();
        types[name] = fields;
        foreach (var (property, field) in Fields(type))
        {
            fields.Add(new JsonObject { ["name"] = field.Name, ["type"] = field.Type });
            if (ElementType(property.PropertyType) is { } nested && nested.GetCustomAttribute<Eip712TypeAttribute>() is not null)
            {
                Collect(nested, types);
            }
        }
    }

    // The struct type inside arrays and lists, or the type itself.
    private static Type? ElementType(Type type)
    {
        while (true)
        {
            if (type.IsArray)
            {
                type = type.GetElementType()!;
                continue;
            }

            var enumerable = type != typeof(string) && type != typeof(byte[])
                ? type.GetInterfaces().Append(type).FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IEnumerable<>))
                : null;
            if (enumerable is not null && type.GetCustomAttribute<Eip712TypeAttribute>() is null)
            {
                type = enumerable.GetGenericArguments()[0];
                continue;
            }

            return type;
        }
    }

    private static JsonNode? ToNode(object? value) => value switch
    {
        null => null,
        string text => text,
        bool flag => flag,
        Address address => address.ToString(),
        TokenAmount amount => amount.ToString(),
        byte[] bytes => "0x" + Convert.ToHexStringLower(bytes),
        ReadOnlyMemory<byte> memory => "0x" + Convert.ToHexStringLower(memory.Span),
        BigInteger number => number.ToString(CultureInfo.InvariantCulture),
        UInt128 number => number.ToString(CultureInfo.InvariantCulture),
        Int128 number => number.ToString(CultureInfo.InvariantCulture),
        IConvertible number when IsInteger(number) => Convert.ToString(number, CultureInfo.InvariantCulture),
        IEnumerable items when value.GetType().GetCustomAttribute<Eip712TypeAttribute>() is null =>
            new JsonArray(items.Cast<object?>().Select(ToNode).ToArray()),
        _ when value.GetType().GetCustomAttribute<Eip712TypeAttribute>() is not null => ToObject(value),
        _ => throw new ArgumentException($"{value.GetType().Name} has no EIP-712 encoding; use string, bool, Address, TokenAmount, an integer, byte[], a list or an [Eip712Type] object.", nameof(value)),
    };

    private static JsonObject ToObject(object value)
    {
        var node = new JsonObject();
        foreach (var (property, field) in Fields(value.GetType()))
        {
            node[field.Name] = ToNode(property.GetValue(value));
        }

        return node;
    }

    private static bool IsInteger(IConvertible value) => value.GetTypeCode() is TypeCode.Byte or TypeCode.SByte or TypeCode.Int16
        or TypeCode.UInt16 or TypeCode.Int32 or TypeCode.UInt32 or TypeCode.Int64 or TypeCode.UInt64;
}
