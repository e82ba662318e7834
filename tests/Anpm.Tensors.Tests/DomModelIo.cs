// The DOM-based ModelIo that Anpm shipped before the one-pass reader (JsonDocument in, Utf8JsonWriter with base64 strings
// out), kept as the oracle of a differential test: the fast code must read and write exactly as this did.
using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Anpm.Abstractions;
using Anpm.Tensors;

namespace Anpm.Tensors.Tests;

internal static class DomModelIo
{
    /// <summary>Parses a task's input text into named tensors.</summary>
    /// <exception cref="FormatException">The text is not the input format; the message names the field.</exception>
    public static IReadOnlyDictionary<string, Tensor> ParseInputs(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json);
        }
        catch (JsonException exception)
        {
            throw new FormatException("The input is not JSON: " + exception.Message, exception);
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object || !document.RootElement.TryGetProperty("inputs", out var inputs) || inputs.ValueKind != JsonValueKind.Object)
            {
                throw new FormatException("The input must be {\"inputs\": {NAME: TENSOR, …}}.");
            }

            var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
            foreach (var input in inputs.EnumerateObject())
            {
                tensors[input.Name] = ParseTensor(input.Value, "inputs." + input.Name);
            }

            return tensors;
        }
    }

    /// <summary>Writes outputs canonically (names in ordinal order, base64 data, no whitespace).</summary>
    public static string WriteOutputs(IReadOnlyDictionary<string, Tensor> outputs)
    {
        ArgumentNullException.ThrowIfNull(outputs);
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = false, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            writer.WriteStartObject();
            writer.WriteStartObject("outputs");
            foreach (var (name, tensor) in outputs.OrderBy(o => o.Key, StringComparer.Ordinal))
            {
                writer.WriteStartObject(name);
                writer.WriteString("type", TensorElementTypes.NameOf(tensor.ElementType));
                writer.WriteStartArray("shape");
                foreach (var dimension in tensor.Shape)
                {
                    writer.WriteNumberValue(dimension);
                }

                writer.WriteEndArray();
                writer.WriteString("data", Convert.ToBase64String(tensor.Data));
                writer.WriteEndObject();
            }

            writer.WriteEndObject();
            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>The attestation's output hash: <c>0x</c> + Keccak-256 of the UTF-8 output text.</summary>
    public static string OutputHash(string output) =>
        "0x" + Convert.ToHexStringLower(Keccak256.Hash(Encoding.UTF8.GetBytes(output ?? throw new ArgumentNullException(nameof(output)))));

    private static Tensor ParseTensor(JsonElement element, string path)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            throw new FormatException($"{path} must be a tensor object.");
        }

        if (!element.TryGetProperty("type", out var typeElement) || !TensorElementTypes.TryParse(typeElement.ValueKind == JsonValueKind.String ? typeElement.GetString() : null, out var type))
        {
            throw new FormatException($"{path}.type must be one of float32, float16, int64, int32, int8, uint8, bool.");
        }

        if (!element.TryGetProperty("shape", out var shapeElement) || shapeElement.ValueKind != JsonValueKind.Array)
        {
            throw new FormatException($"{path}.shape must be an array of dimensions.");
        }

        var shape = new List<long>();
        foreach (var dimension in shapeElement.EnumerateArray())
        {
            if (dimension.ValueKind != JsonValueKind.Number || !dimension.TryGetInt64(out var value) || value < 0 || value > int.MaxValue)
            {
                throw new FormatException($"{path}.shape holds {dimension.GetRawText()}; dimensions are whole numbers from 0.");
            }

            shape.Add(value);
        }

        if (!element.TryGetProperty("data", out var data))
        {
            throw new FormatException($"{path}.data is missing.");
        }

        byte[] bytes;
        if (data.ValueKind == JsonValueKind.String)
        {
            try
            {
                bytes = Convert.FromBase64String(data.GetString()!);
            }
            catch (FormatException)
            {
                throw new FormatException($"{path}.data is not base64.");
            }
        }
        else if (data.ValueKind == JsonValueKind.Array)
        {
            bytes = Numbers(data, type, path);
        }
        else
        {
            throw new FormatException($"{path}.data must be an array of numbers or a base64 string.");
        }

        try
        {
            return new Tensor(type, shape, bytes);
        }
        catch (ArgumentException exception)
        {
            throw new FormatException($"{path}: {exception.Message}", exception);
        }
        catch (OverflowException)
        {
            throw new FormatException($"{path}.shape is too large.");
        }
    }

    private static byte[] Numbers(JsonElement data, TensorElementType type, string path)
    {
        var size = TensorElementTypes.SizeOf(type);
        var bytes = new byte[data.GetArrayLength() * size];
        var i = 0;
        foreach (var number in data.EnumerateArray())
        {
            var span = bytes.AsSpan(i * size, size);
            var ok = number.ValueKind == JsonValueKind.Number && type switch
            {
                TensorElementType.Float32 => number.TryGetDouble(out var d) && double.IsFinite(d) && Write(span, (float)d),
                TensorElementType.Float16 => number.TryGetDouble(out var h) && double.IsFinite(h) && Write(span, (Half)h),
                TensorElementType.Int64 => number.TryGetInt64(out var l) && Write(span, l),
                TensorElementType.Int32 => number.TryGetInt32(out var n) && Write(span, n),
                TensorElementType.Int8 => number.TryGetSByte(out var sb) && Write(span, sb),
                TensorElementType.UInt8 => number.TryGetByte(out var b) && Write(span, b),
                _ => false,
            };
            ok = ok || (type == TensorElementType.Bool && (number.ValueKind is JsonValueKind.True or JsonValueKind.False) && Write(span, (byte)(number.GetBoolean() ? 1 : 0)));
            if (!ok)
            {
                throw new FormatException($"{path}.data[{i.ToString(CultureInfo.InvariantCulture)}] = {number.GetRawText()} is not a {TensorElementTypes.NameOf(type)}.");
            }

            i++;
        }

        return bytes;
    }

    private static bool Write<T>(Span<byte> target, T value)
        where T : unmanaged
    {
        System.Runtime.InteropServices.MemoryMarshal.Write(target, in value);
        return true;
    }
}
