using System.Text.Json;
using System.Text.Json.Serialization;

namespace Anpm.Abstractions;

/// <summary>Reads and writes a <see cref="TokenAmount"/> as a JSON string of base units, e.g. <c>"1500000000000"</c>.</summary>
/// <remarks>JSON numbers are refused: most JSON readers lose precision beyond 2^53.</remarks>
public sealed class TokenAmountJsonConverter : JsonConverter<TokenAmount>
{
    /// <inheritdoc />
    /// <exception cref="JsonException">The token is not a string of base units; the message says why.</exception>
    public override TokenAmount Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.String)
        {
            throw new JsonException($"A token amount must be a JSON string of base units, not {reader.TokenType}.");
        }

        var text = reader.GetString();
        return TokenAmount.TryParse(text, 0, out var amount, out var error) ? amount : throw new JsonException(error);
    }

    /// <inheritdoc />
    public override void Write(Utf8JsonWriter writer, TokenAmount value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        Span<byte> buffer = stackalloc byte[40];
        value.BaseUnits.TryFormat(buffer, out var written, default, System.Globalization.CultureInfo.InvariantCulture);
        writer.WriteStringValue(buffer[..written]);
    }
}
