using System.Text.Json;
using System.Text.Json.Serialization;

namespace Anpm.Abstractions;

/// <summary>Reads and writes a validated id as a JSON string.</summary>
/// <typeparam name="T">The id type.</typeparam>
public sealed class IdentifierJsonConverter<T> : JsonConverter<T>
    where T : struct, IIdentifier<T>
{
    /// <inheritdoc />
    /// <exception cref="JsonException">The token is not a valid id string; the message says why.</exception>
    public override T Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.String)
        {
            throw new JsonException($"An id must be a JSON string, not {reader.TokenType}.");
        }

        return T.TryParse(reader.GetString(), out var id, out var error) ? id : throw new JsonException(error);
    }

    /// <inheritdoc />
    /// <exception cref="JsonException"><paramref name="value"/> is the invalid <see langword="default"/> id.</exception>
    public override void Write(Utf8JsonWriter writer, T value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteStringValue(value.Value ?? throw new JsonException($"The default {typeof(T).Name} is not a valid id."));
    }
}
