using System.Buffers;
using System.Buffers.Text;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Anpm.Abstractions;

namespace Anpm.Tensors;

/// <summary>
/// The wire contract's model input and output: <c>{"inputs": {NAME: TENSOR}}</c> in, <c>{"outputs": {NAME: TENSOR}}</c> out, with
/// <c>TENSOR = {"type": …, "shape": [..], "data": [numbers] | "&lt;base64 little-endian&gt;"}</c>. Outputs are written
/// canonically — names in ordinal order, data as base64, no whitespace — so identical tensors give byte-identical text on
/// every node, and its Keccak-256 is the attestation's output hash.
/// </summary>
public static class ModelIo
{
    private static readonly JsonWriterOptions CanonicalWriter = new() { Indented = false, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    // Names of these characters need no escaping in JSON (the writer's encoder leaves them as they are), so outputs named
    // with them alone are written directly; others go through Utf8JsonWriter. Both give the same bytes (tested).
    private static readonly SearchValues<char> PlainNameCharacters = SearchValues.Create("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.:/");

    [ThreadStatic]
    private static CanonicalBuffer? t_buffer;

    /// <summary>Parses a task's input text into named tensors.</summary>
    /// <remarks>
    /// Read in one pass over the UTF-8 text (the object's members in any order; a repeated member counts as its last
    /// occurrence). Numbers are read as JSON numbers and converted as <c>(float)double</c> for float32 and
    /// <c>(Half)double</c> for float16; integers must fit their type exactly.
    /// </remarks>
    /// <exception cref="FormatException">The text is not the input format; the message names the field.</exception>
    public static IReadOnlyDictionary<string, Tensor> ParseInputs(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        var bytes = ArrayPool<byte>.Shared.Rent(Encoding.UTF8.GetMaxByteCount(json.Length));
        try
        {
            var length = Encoding.UTF8.GetBytes(json, bytes);
            return ParseDocument(bytes.AsSpan(0, length), Root.Inputs);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(bytes);
        }
    }

    /// <summary>
    /// Checks a task's input before anyone pays for it: strict JSON (no repeated key, valid Unicode), the input format,
    /// and — when the model declares its inputs — exactly the declared names, element types and shapes, with floats
    /// finite unless the declaration allows otherwise.
    /// </summary>
    /// <param name="json">The input text.</param>
    /// <param name="declared">The model's declared inputs; <see langword="null"/> checks the format only.</param>
    /// <returns>The first problem, naming the field (e.g. <c>inputs.pixels.shape</c>); <see langword="null"/> when it fits.</returns>
    public static string? CheckInputs(string json, IReadOnlyList<TensorSpec>? declared)
    {
        ArgumentNullException.ThrowIfNull(json);
        if (StrictProblem(json, "input") is { } strict)
        {
            return strict;
        }

        IReadOnlyDictionary<string, Tensor> inputs;
        try
        {
            inputs = ParseInputs(json);
        }
        catch (FormatException exception)
        {
            return exception.Message;
        }

        return declared is null ? null : CheckDeclared(inputs, declared, Root.Inputs);
    }

    /// <summary>
    /// Checks an oracle's output before a user is charged for it: it must be exactly the canonical
    /// <c>{"outputs": …}</c> text (<see cref="WriteOutputs"/>) and, when the model declares its outputs, hold exactly the
    /// declared names, element types and shapes, with floats finite unless the declaration allows otherwise.
    /// </summary>
    /// <param name="text">The output text.</param>
    /// <param name="declared">The model's declared outputs; <see langword="null"/> checks the canonical form only.</param>
    /// <returns>The first problem, naming the field (e.g. <c>outputs.label.type</c>); <see langword="null"/> when it fits.</returns>
    public static string? CheckOutputs(string text, IReadOnlyList<TensorSpec>? declared)
    {
        ArgumentNullException.ThrowIfNull(text);
        Dictionary<string, Tensor> outputs;
        var bytes = Encoding.UTF8.GetBytes(text);
        try
        {
            outputs = ParseDocument(bytes, Root.Outputs);
        }
        catch (FormatException exception)
        {
            return exception.Message;
        }

        if (!Canonical(outputs).SequenceEqual(bytes))
        {
            return "The output is not in canonical form ({\"outputs\":{…}} with names in ordinal order, base64 data, no whitespace, nothing else).";
        }

        return declared is null ? null : CheckDeclared(outputs, declared, Root.Outputs);
    }

    private static string? StrictProblem(string json, string noun)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            return StrictJson.FindProblem(document.RootElement, noun) is { } problem ? $"The {noun} is refused: {problem}" : null;
        }
        catch (JsonException exception)
        {
            return $"The {noun} is not JSON: " + exception.Message;
        }
    }

    private static string? CheckDeclared(IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyList<TensorSpec> declared, Root root)
    {
        foreach (var spec in declared)
        {
            if (!tensors.TryGetValue(spec.Name, out var tensor))
            {
                return $"{root.Key}.{spec.Name} is missing; the model takes {Describe(declared)}.";
            }

            if (spec.FindProblem(tensor) is { } problem)
            {
                return $"{root.Key}.{spec.Name}{problem}";
            }
        }

        foreach (var name in tensors.Keys)
        {
            if (!declared.Any(spec => spec.Name == name))
            {
                return $"{root.Key}.{name} is not declared; the model's {root.Key} are {Describe(declared)}.";
            }
        }

        return null;
    }

    private static string Describe(IReadOnlyList<TensorSpec> declared) => string.Join(", ", declared.Select(spec => spec.ToString()));

    /// <summary>Writes outputs canonically (names in ordinal order, base64 data, no whitespace).</summary>
    public static string WriteOutputs(IReadOnlyDictionary<string, Tensor> outputs) => Encoding.UTF8.GetString(Canonical(outputs));

    /// <summary>The attestation's output hash: <c>0x</c> + Keccak-256 of the UTF-8 output text.</summary>
    public static string OutputHash(string output) =>
        HashText(Encoding.UTF8.GetBytes(output ?? throw new ArgumentNullException(nameof(output))));

    /// <summary>The canonical output text and its hash in one pass over the UTF-8 bytes (a backend's hot path).</summary>
    public static (string Output, string OutputHash) WriteOutputsWithHash(IReadOnlyDictionary<string, Tensor> outputs)
    {
        var utf8 = Canonical(outputs);
        return (Encoding.UTF8.GetString(utf8), HashText(utf8));
    }

    private static string HashText(ReadOnlySpan<byte> utf8)
    {
        Span<byte> digest = stackalloc byte[Keccak256.HashSizeBytes];
        Keccak256.Hash(utf8, digest);
        return string.Create(2 + (2 * Keccak256.HashSizeBytes), digest.ToArray(), static (text, hash) =>
        {
            text[0] = '0';
            text[1] = 'x';
            Convert.TryToHexStringLower(hash, text[2..], out _);
        });
    }

    // The canonical UTF-8 text in a per-thread buffer, valid until this thread writes again.
    private static ReadOnlySpan<byte> Canonical(IReadOnlyDictionary<string, Tensor> outputs)
    {
        ArgumentNullException.ThrowIfNull(outputs);
        var names = new string[outputs.Count];
        var n = 0;
        foreach (var name in outputs.Keys)
        {
            names[n++] = name;
        }

        Array.Sort(names, StringComparer.Ordinal);
        var buffer = t_buffer ??= new CanonicalBuffer();
        if (Array.TrueForAll(names, static name => !name.AsSpan().ContainsAnyExcept(PlainNameCharacters)))
        {
            return buffer.WritePlain(names, outputs);
        }

        var writer = buffer.Begin();
        writer.WriteStartObject();
        writer.WriteStartObject("outputs"u8);
        foreach (var name in names)
        {
            var tensor = outputs[name];
            writer.WriteStartObject(name);
            writer.WriteString("type"u8, TensorElementTypes.NameOf(tensor.ElementType));
            writer.WriteStartArray("shape"u8);
            foreach (var dimension in tensor.ShapeArray)
            {
                writer.WriteNumberValue(dimension);
            }

            writer.WriteEndArray();
            writer.WriteBase64String("data"u8, tensor.RawData);
            writer.WriteEndObject();
        }

        writer.WriteEndObject();
        writer.WriteEndObject();
        writer.Flush();
        return buffer.Written;
    }

    // Errors are reported as a parse of the whole document would: text that is not JSON anywhere is "not JSON"; of a
    // repeated "inputs" member only the last counts (as a repeated member always does), so an error inside an earlier one
    // is dropped when a later one follows.
    private static Dictionary<string, Tensor> ParseDocument(ReadOnlySpan<byte> json, Root root)
    {
        var reader = new Utf8JsonReader(json);
        Dictionary<string, Tensor>? tensors = null;
        FormatException? error = null;
        try
        {
            reader.Read();
            if (reader.TokenType != JsonTokenType.StartObject)
            {
                error = new FormatException(root.NotDocument);
                reader.Skip();
            }
            else
            {
                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    var isInputs = reader.ValueTextEquals(root.Key);
                    reader.Read();
                    if (!isInputs)
                    {
                        reader.Skip();
                        continue;
                    }

                    var depth = reader.CurrentDepth;
                    try
                    {
                        (tensors, error) = (ParseTensorsObject(ref reader, json, root), null);
                    }
                    catch (FormatException exception)
                    {
                        (tensors, error) = (null, exception);
                        SkipRestOf(ref reader, depth);
                    }
                }
            }

            while (reader.Read())
            {
                // The rest must be JSON too (trailing content is not).
            }
        }
        catch (JsonException exception)
        {
            throw new FormatException($"The {root.Noun} is not JSON: " + exception.Message, exception);
        }

        return error is not null ? throw error : tensors ?? throw new FormatException(root.NotDocument);
    }

    /// <summary>Which document is read: its member (<c>inputs</c> or <c>outputs</c>) and how errors name it.</summary>
    private sealed record Root(string Key, string Noun)
    {
        public static readonly Root Inputs = new("inputs", "input");
        public static readonly Root Outputs = new("outputs", "output");

        public string NotDocument => $"The {Noun} must be {{\"{Key}\": {{NAME: TENSOR, …}}}}.";
    }

    // The reader is on the value of "inputs"; it ends on the value's last token.
    private static Dictionary<string, Tensor> ParseTensorsObject(ref Utf8JsonReader reader, ReadOnlySpan<byte> json, Root root)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw new FormatException(root.NotDocument);
        }

        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var name = reader.GetString()!;
            reader.Read();
            tensors[name] = ParseTensor(ref reader, root.Key + "." + name, json);
        }

        return tensors;
    }

    // After an error somewhere inside the value that starts at depth: on to the value's last token.
    private static void SkipRestOf(ref Utf8JsonReader reader, int depth)
    {
        if (reader.CurrentDepth == depth)
        {
            if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray)
            {
                reader.Skip();
            }

            return; // a primitive value, or already the last token
        }

        while (reader.Read() && !(reader.CurrentDepth == depth && reader.TokenType is JsonTokenType.EndObject or JsonTokenType.EndArray))
        {
        }
    }

    // Errors name a tensor by its path in the document, e.g. inputs.pixels.
    private static string PathOf(string path) => path;

    // The reader is on the tensor's first token; it ends on the tensor's last token. Members come in any order and may
    // repeat (the last counts): "data" is read at once when a valid "type" and "shape" came before it (the usual order),
    // and read again from its saved position only when a later member changed them or they came after it. Errors are
    // reported in one order whatever the member order: type, shape, missing data, then the data's own.
    private static Tensor ParseTensor(ref Utf8JsonReader reader, string name, ReadOnlySpan<byte> json)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw new FormatException($"{PathOf(name)} must be a tensor object.");
        }

        TensorElementType? type = null;
        long[]? dimensions = null;
        string? shapeError = null;
        var data = default(Utf8JsonReader);
        var hasData = false;
        DataRead? early = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("type"u8))
            {
                reader.Read();
                type = reader.TokenType == JsonTokenType.String ? ElementType(ref reader) : null;
                reader.Skip();
            }
            else if (reader.ValueTextEquals("shape"u8))
            {
                reader.Read();
                (dimensions, shapeError) = ReadShape(ref reader, name, json);
            }
            else if (reader.ValueTextEquals("data"u8))
            {
                reader.Read();
                data = reader;
                (hasData, early) = (true, null);
                if (type is { } known && dimensions is not null && shapeError is null)
                {
                    early = ReadData(ref reader, known, dimensions, name, json);
                }
                else
                {
                    reader.Skip();
                }
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        if (type is not { } elementType)
        {
            throw new FormatException($"{PathOf(name)}.type must be one of float32, float16, int64, int32, int8, uint8, bool.");
        }

        if (dimensions is null)
        {
            throw new FormatException($"{PathOf(name)}.shape must be an array of dimensions.");
        }

        if (shapeError is not null)
        {
            throw new FormatException(shapeError);
        }

        if (!hasData)
        {
            throw new FormatException($"{PathOf(name)}.data is missing.");
        }

        var read = early is { } e && e.Type == elementType && ReferenceEquals(e.Dimensions, dimensions) ? e : ReadData(ref data, elementType, dimensions, name, json);
        return read.Error is { } error ? throw error : new Tensor(elementType, dimensions, read.Bytes!);
    }

    private static TensorElementType? ElementType(ref Utf8JsonReader reader) =>
        reader.ValueTextEquals("float32"u8) ? TensorElementType.Float32
        : reader.ValueTextEquals("int64"u8) ? TensorElementType.Int64
        : reader.ValueTextEquals("int32"u8) ? TensorElementType.Int32
        : reader.ValueTextEquals("uint8"u8) ? TensorElementType.UInt8
        : reader.ValueTextEquals("int8"u8) ? TensorElementType.Int8
        : reader.ValueTextEquals("bool"u8) ? TensorElementType.Bool
        : reader.ValueTextEquals("float16"u8) ? TensorElementType.Float16
        : null;

    // A "shape" value: the dimensions (null when it is not an array) and the first bad one's message.
    private static (long[]? Dimensions, string? Error) ReadShape(ref Utf8JsonReader reader, string name, ReadOnlySpan<byte> json)
    {
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            reader.Skip();
            return (null, null);
        }

        Span<long> dimensions = stackalloc long[8];
        var rank = 0;
        long[]? large = null;
        string? error = null;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt64(out var dimension) || dimension < 0 || dimension > int.MaxValue)
            {
                error ??= $"{PathOf(name)}.shape holds {RawText(ref reader, json)}; dimensions are whole numbers from 0.";
                reader.Skip();
                continue;
            }

            if (rank == dimensions.Length)
            {
                large = new long[rank * 2];
                dimensions.CopyTo(large);
                dimensions = large;
            }

            dimensions[rank++] = dimension;
        }

        return (dimensions[..rank].ToArray(), error);
    }

    /// <summary>A "data" value as read for one type and shape: its bytes, or why it does not fit.</summary>
    private readonly record struct DataRead(TensorElementType Type, long[] Dimensions, byte[]? Bytes, FormatException? Error);

    // The reader is on the data value; it ends on the value's last token, also after an error.
    private static DataRead ReadData(ref Utf8JsonReader reader, TensorElementType type, long[] dimensions, string name, ReadOnlySpan<byte> json)
    {
        var depth = reader.CurrentDepth;
        try
        {
            long expectedBytes = -1; // -1: the shape's element count overflows (reported after the data's own errors)
            try
            {
                expectedBytes = checked(Tensor.ElementCountOf(dimensions) * TensorElementTypes.SizeOf(type));
            }
            catch (OverflowException)
            {
            }

            long count = 0;
            var bytes = reader.TokenType switch
            {
                JsonTokenType.String => Base64(ref reader, name),
                JsonTokenType.StartArray => Numbers(ref reader, type, expectedBytes, name, json, out count),
                _ => throw new FormatException($"{PathOf(name)}.data must be an array of numbers or a base64 string."),
            };
            var actualBytes = reader.TokenType == JsonTokenType.String ? bytes.LongLength : count * TensorElementTypes.SizeOf(type);
            if (expectedBytes < 0)
            {
                throw new FormatException($"{PathOf(name)}.shape is too large.");
            }

            return actualBytes == expectedBytes
                ? new DataRead(type, dimensions, bytes, null)
                : throw new FormatException($"{PathOf(name)}: A {TensorElementTypes.NameOf(type)} tensor of shape [{string.Join(",", dimensions)}] has {expectedBytes} data bytes, not {actualBytes}.");
        }
        catch (FormatException exception)
        {
            SkipRestOf(ref reader, depth);
            return new DataRead(type, dimensions, null, exception);
        }
    }

    private static string RawText(ref Utf8JsonReader reader, ReadOnlySpan<byte> json)
    {
        var start = (int)reader.TokenStartIndex;
        var copy = reader;
        copy.Skip();
        var end = (int)copy.BytesConsumed;
        return Encoding.UTF8.GetString(json[start..end]);
    }

    private static byte[] Base64(ref Utf8JsonReader reader, string name)
    {
        if (reader.TryGetBytesFromBase64(out var bytes))
        {
            return bytes;
        }

        // The lenient form (whitespace inside) that Convert accepts.
        try
        {
            return Convert.FromBase64String(reader.GetString()!);
        }
        catch (FormatException)
        {
            throw new FormatException($"{PathOf(name)}.data is not base64.");
        }
    }

    // The elements of a data array, little-endian, and how many there are. The buffer is sized by the shape, but never
    // beyond what the text can hold (n elements take at least 2n - 1 characters), so a huge declared shape cannot allocate
    // more than the input; elements past it are checked and counted, not kept (the count then differs from the shape's).
    private static byte[] Numbers(ref Utf8JsonReader reader, TensorElementType type, long expectedBytes, string name, ReadOnlySpan<byte> json, out long count)
    {
        var size = TensorElementTypes.SizeOf(type);
        var capacity = (int)Math.Min(expectedBytes < 0 ? long.MaxValue : expectedBytes / size, (json.Length / 2) + 1);
        var bytes = new byte[capacity * size];
        var floats = type == TensorElementType.Float32 ? MemoryMarshal.Cast<byte, float>(bytes.AsSpan()) : default;
        Span<byte> scratch = stackalloc byte[8];
        count = 0;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            bool written;
            if (type == TensorElementType.Float32 && count < capacity)
            {
                // The common case (pixels, audio samples) without the per-element dispatch.
                var value = 0.0;
                written = reader.TokenType == JsonTokenType.Number && TryReadReal(ref reader, out value);
                floats[(int)count] = (float)value;
            }
            else
            {
                written = TryWrite(ref reader, type, count < capacity ? bytes.AsSpan((int)count * size, size) : scratch[..size]);
            }

            if (!written)
            {
                throw new FormatException($"{PathOf(name)}.data[{count.ToString(CultureInfo.InvariantCulture)}] = {RawText(ref reader, json)} is not a {TensorElementTypes.NameOf(type)}.");
            }

            count++;
        }

        return bytes;
    }

    private static bool TryWrite(ref Utf8JsonReader reader, TensorElementType type, scoped Span<byte> target)
    {
        if (type == TensorElementType.Bool)
        {
            if (reader.TokenType is not (JsonTokenType.True or JsonTokenType.False))
            {
                return false;
            }

            target[0] = reader.TokenType == JsonTokenType.True ? (byte)1 : (byte)0;
            return true;
        }

        if (reader.TokenType != JsonTokenType.Number)
        {
            return false;
        }

        switch (type)
        {
            case TensorElementType.Float32:
                if (!TryReadReal(ref reader, out var single))
                {
                    return false;
                }

                MemoryMarshal.Write(target, (float)single);
                return true;
            case TensorElementType.Float16:
                if (!TryReadReal(ref reader, out var half))
                {
                    return false;
                }

                MemoryMarshal.Write(target, (Half)half);
                return true;
            case TensorElementType.Int64:
                return reader.TryGetInt64(out var l) && Write(target, l);
            case TensorElementType.Int32:
                return reader.TryGetInt32(out var i) && Write(target, i);
            case TensorElementType.Int8:
                return reader.TryGetSByte(out var sb) && Write(target, sb);
            case TensorElementType.UInt8:
                return reader.TryGetByte(out var b) && Write(target, b);
            default:
                return false;
        }
    }

    // A finite JSON number as a double. Whole numbers of up to 15 digits (exact in a double) skip the general parser and
    // give the same double it would; "-0" stays negative zero, as the general parser reads it.
    private static bool TryReadReal(ref Utf8JsonReader reader, out double value)
    {
        if (!reader.HasValueSequence)
        {
            var text = reader.ValueSpan;
            var negative = text.Length > 0 && text[0] == '-';
            var digits = text[(negative ? 1 : 0)..];
            if (digits.Length is > 0 and <= 15)
            {
                long whole = 0;
                var i = 0;
                for (; i < digits.Length && (uint)(digits[i] - '0') <= 9; i++)
                {
                    whole = (whole * 10) + (digits[i] - '0');
                }

                if (i == digits.Length)
                {
                    value = negative ? -(double)whole : whole;
                    return true;
                }
            }
        }

        return reader.TryGetDouble(out value) && double.IsFinite(value);
    }

    private static bool Write<T>(scoped Span<byte> target, T value)
        where T : unmanaged
    {
        MemoryMarshal.Write(target, in value);
        return true;
    }

    /// <summary>A thread's reusable writer over a growing buffer (it lives as long as its thread; the writer holds no native resource).</summary>
    private sealed class CanonicalBuffer : IDisposable
    {
        private readonly ArrayBufferWriter<byte> _buffer = new(1024);
        private readonly Utf8JsonWriter _writer;

        public CanonicalBuffer() => _writer = new Utf8JsonWriter(_buffer, CanonicalWriter);

        public void Dispose() => _writer.Dispose();

        public ReadOnlySpan<byte> Written => _buffer.WrittenSpan;

        public Utf8JsonWriter Begin()
        {
            _buffer.ResetWrittenCount();
            _writer.Reset(_buffer);
            return _writer;
        }

        // {"outputs":{"NAME":{"type":"T","shape":[D,…],"data":"BASE64"},…}} for names that need no escaping.
        public ReadOnlySpan<byte> WritePlain(string[] names, IReadOnlyDictionary<string, Tensor> outputs)
        {
            _buffer.ResetWrittenCount();
            Append("{\"outputs\":{"u8);
            for (var i = 0; i < names.Length; i++)
            {
                var tensor = outputs[names[i]];
                Append(i == 0 ? "\""u8 : ",\""u8);
                _buffer.Advance(Encoding.ASCII.GetBytes(names[i], _buffer.GetSpan(names[i].Length)));
                Append("\":{\"type\":\""u8);
                _buffer.Advance(Encoding.ASCII.GetBytes(TensorElementTypes.NameOf(tensor.ElementType), _buffer.GetSpan(8)));
                Append("\",\"shape\":["u8);
                for (var d = 0; d < tensor.ShapeArray.Length; d++)
                {
                    if (d > 0)
                    {
                        Append(","u8);
                    }

                    Utf8Formatter.TryFormat(tensor.ShapeArray[d], _buffer.GetSpan(20), out var written);
                    _buffer.Advance(written);
                }

                Append("],\"data\":\""u8);
                var base64 = _buffer.GetSpan(System.Buffers.Text.Base64.GetMaxEncodedToUtf8Length(tensor.RawData.Length));
                System.Buffers.Text.Base64.EncodeToUtf8(tensor.RawData, base64, out _, out var encoded);
                _buffer.Advance(encoded);
                Append("\"}"u8);
            }

            Append("}}"u8);
            return _buffer.WrittenSpan;
        }

        private void Append(ReadOnlySpan<byte> text) => _buffer.Write(text);
    }
}
