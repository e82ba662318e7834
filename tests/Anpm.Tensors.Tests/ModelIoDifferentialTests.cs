using Anpm.Abstractions;
using System.Globalization;
using System.Text;
using Anpm.Tensors;

namespace Anpm.Tensors.Tests;

/// <summary>
/// The one-pass reader and the reused writer of <see cref="ModelIo"/> against the DOM-based code Anpm shipped before
/// (<see cref="DomModelIo"/>), on random documents and outputs: every document reads to the same tensors or is refused
/// with the same message, every output is written to the same bytes — so nodes of either version attest the same hashes.
/// The seed is printed on failure; rerun one with ANPM_MODELIO_SEED.
/// </summary>
public sealed class ModelIoDifferentialTests
{
    private static readonly string[] Types = ["float32", "float16", "int64", "int32", "int8", "uint8", "bool"];
    private static readonly string[] Names = ["pixels", "x", "state_N", "out-1.b:c/d", "état", "a\"b", "tab\there", "with space", "<&>", "😀", "back\\slash", "\u0001ctl"];

    private static int Seed => int.TryParse(Environment.GetEnvironmentVariable("ANPM_MODELIO_SEED"), out var seed) ? seed : Random.Shared.Next();

    [Fact]
    public void ParseInputs_RandomDocuments_ReadExactlyAsTheDomReader()
    {
        var seed = Seed;
        var random = new Random(seed);
        var (read, refused) = (0, 0);
        for (var i = 0; i < 4000; i++)
        {
            var text = Document(random);
            var ours = Outcome(() => ModelIo.ParseInputs(text));
            var dom = Outcome(() => DomModelIo.ParseInputs(text));
            var context = $"seed {seed}, document {i}: {text}\nours: {ours.Error}\nDOM: {dom.Error}";
            Assert.True(ours.Error == dom.Error, context);
            if (ours.Tensors is null)
            {
                refused++;
                continue;
            }

            read++;
            Assert.True(ours.Tensors.Keys.Order(StringComparer.Ordinal).SequenceEqual(dom.Tensors!.Keys.Order(StringComparer.Ordinal)), context);
            foreach (var (name, tensor) in ours.Tensors)
            {
                var expected = dom.Tensors[name];
                Assert.True(tensor.ElementType == expected.ElementType && tensor.Shape.SequenceEqual(expected.Shape) && tensor.Data.SequenceEqual(expected.Data), context + $"\ntensor {name}");
            }
        }

        // Both kinds of outcome were exercised in earnest.
        Assert.True(read > 800 && refused > 800, $"seed {seed}: {read} read, {refused} refused");
    }

    [Fact]
    public void WriteOutputs_RandomOutputs_SameBytesAsTheDomWriter()
    {
        var seed = Seed;
        var random = new Random(seed);
        for (var i = 0; i < 2000; i++)
        {
            var outputs = new Dictionary<string, Tensor>(StringComparer.Ordinal);
            for (var n = random.Next(0, 4); n > 0; n--)
            {
                var type = Enum.GetValues<TensorElementType>()[random.Next(7)];
                var shape = Enumerable.Range(0, random.Next(0, 3)).Select(_ => (long)random.Next(0, 4)).ToArray();
                var data = new byte[Anpm.Tensors.Tensor.ElementCountOf(shape) * TensorElementTypes.SizeOf(type)];
                random.NextBytes(data);
                outputs[Names[random.Next(Names.Length)] + random.Next(3).ToString(CultureInfo.InvariantCulture)] = new Anpm.Tensors.Tensor(type, shape, data);
            }

            var expected = DomModelIo.WriteOutputs(outputs);
            var actual = ModelIo.WriteOutputs(outputs);
            Assert.True(expected == actual, $"seed {seed}, output {i}:\nDOM:  {expected}\nours: {actual}");
            Assert.Equal(DomModelIo.OutputHash(expected), ModelIo.OutputHash(actual));
        }
    }

    private static (IReadOnlyDictionary<string, Tensor>? Tensors, string? Error) Outcome(Func<IReadOnlyDictionary<string, Tensor>> parse)
    {
        try
        {
            return (parse(), null);
        }
        catch (FormatException exception)
        {
            // The DOM code wrapped the tensor's own ArgumentException, whose message names its parameter.
            return (null, exception.Message.Replace(" (Parameter 'data')", string.Empty, StringComparison.Ordinal));
        }
    }

    private static string Document(Random random)
    {
        var text = new StringBuilder();
        if (random.Next(20) == 0)
        {
            text.Append(random.Next(3) switch { 0 => "[1,2]", 1 => "\"inputs\"", _ => "42" });
        }
        else
        {
            var members = new List<string>();
            var inputsCount = random.Next(30) switch { 0 => 0, 1 or 2 => 2, _ => 1 };
            for (var i = 0; i < inputsCount; i++)
            {
                members.Add(Member("inputs", Inputs(random), random));
            }

            if (random.Next(4) == 0)
            {
                members.Add(Member("meta", "{\"note\":[1,{\"a\":null}]}", random));
            }

            Shuffle(members, random);
            text.Append(Object(members, random));
        }

        var document = text.ToString();
        return random.Next(25) switch
        {
            0 => document[..random.Next(document.Length)], // cut short: not JSON
            1 => document + (random.Next(2) == 0 ? " x" : "}"), // trailing content
            _ => document,
        };
    }

    private static string Inputs(Random random)
    {
        if (random.Next(25) == 0)
        {
            return random.Next(2) == 0 ? "[]" : "\"pixels\"";
        }

        var members = new List<string>();
        for (var n = random.Next(0, 4); n > 0; n--)
        {
            members.Add(Member(Names[random.Next(Names.Length)], TensorText(random), random));
        }

        return Object(members, random);
    }

    private static string TensorText(Random random)
    {
        if (random.Next(30) == 0)
        {
            return random.Next(2) == 0 ? "[1,2,3]" : "null";
        }

        var type = random.Next(15) switch { 0 => "float64", 1 => "FLOAT32", _ => Types[random.Next(Types.Length)] };
        var shape = Shape(random, out var count);
        var members = new List<string>();
        if (random.Next(20) != 0)
        {
            members.Add(Member("type", random.Next(30) == 0 ? "5" : Quote(type), random));
        }

        if (random.Next(20) != 0)
        {
            members.Add(Member("shape", random.Next(30) == 0 ? "\"1,64\"" : shape, random));
        }

        if (random.Next(20) != 0)
        {
            var elements = count + random.Next(12) switch { 0 => -1, 1 => 1, 2 => 5, _ => 0 };
            members.Add(Member("data", Data(type, Math.Max(0, Math.Min(elements, 200)), random), random));
        }

        if (random.Next(10) == 0)
        {
            // A repeated member: the last occurrence counts.
            members.Add(Member(random.Next(3) switch { 0 => "type", 1 => "shape", _ => "data" }, random.Next(2) == 0 ? Quote(Types[random.Next(Types.Length)]) : Shape(random, out _), random));
        }

        if (random.Next(8) == 0)
        {
            members.Add(Member("comment", "{\"deep\":[[[]]]}", random));
        }

        Shuffle(members, random);
        return Object(members, random);
    }

    private static string Shape(Random random, out long count)
    {
        var dimensions = new List<string>();
        count = 1;
        for (var rank = random.Next(0, 4); rank > 0; rank--)
        {
            var (text, value) = random.Next(40) switch
            {
                0 => ("-1", 1L),
                1 => ("1.5", 1L),
                2 => ("2147483648", 1L),
                3 => ("\"2\"", 1L),
                4 => ("2147483647", 1L),
                _ => random.Next(0, 5) is var d ? (d.ToString(CultureInfo.InvariantCulture), (long)d) : default,
            };
            dimensions.Add(text);
            count *= value;
        }

        return "[" + string.Join(",", dimensions) + "]";
    }

    private static string Data(string type, long count, Random random)
    {
        if (random.Next(4) == 0)
        {
            var size = TensorElementTypes.TryParse(type, out var known) ? TensorElementTypes.SizeOf(known) : 4;
            var bytes = new byte[(count * size) + (random.Next(10) == 0 ? 1 : 0)];
            random.NextBytes(bytes);
            var base64 = Convert.ToBase64String(bytes);
            return random.Next(15) switch
            {
                0 => "\"%%not base64\"",
                1 when base64.Length > 2 => Quote(base64[..2] + " " + base64[2..]), // whitespace inside: Convert takes it
                2 => Quote(base64.Replace("A", "\\u0041", StringComparison.Ordinal)), // escaped characters in the JSON string
                _ => Quote(base64),
            };
        }

        var elements = new List<string>();
        for (var i = 0; i < count; i++)
        {
            elements.Add(Element(type, random));
        }

        return "[" + string.Join(random.Next(5) == 0 ? ", " : ",", elements) + "]";
    }

    private static string Element(string type, Random random)
    {
        if (random.Next(60) == 0)
        {
            return random.Next(3) switch { 0 => "\"1\"", 1 => "[1]", _ => "null" };
        }

        return type switch
        {
            "bool" => random.Next(12) == 0 ? "1" : random.Next(2) == 0 ? "true" : "false",
            "float32" or "float16" or "float64" or "FLOAT32" => random.Next(16) switch
            {
                14 => "-999999999999999",
                15 => random.NextInt64(-999_999_999_999_999, 999_999_999_999_999).ToString(CultureInfo.InvariantCulture),
                0 => "-0",
                1 => "-0.0",
                2 => "9007199254740993",
                3 => "-1234567890123456",
                4 => "12345678901234567",
                5 => "3.4028235e38",
                6 => "1e39",
                7 => "1e-46",
                8 => "65520",
                9 => "1E2",
                10 => "0.1",
                11 => (random.NextDouble() * 2000 - 1000).ToString("R", CultureInfo.InvariantCulture),
                _ => random.Next(-300, 300).ToString(CultureInfo.InvariantCulture),
            },
            _ => random.Next(12) switch
            {
                0 => "1.0",
                1 => "128",
                2 => "-129",
                3 => "256",
                4 => "2147483648",
                5 => "9223372036854775807",
                6 => "9223372036854775808",
                7 => "-1",
                8 => "1e2",
                _ => random.Next(-100, 255).ToString(CultureInfo.InvariantCulture),
            },
        };
    }

    private static string Member(string name, string value, Random random) => Quote(name) + Space(random) + ":" + Space(random) + value;

    private static string Object(List<string> members, Random random) => "{" + Space(random) + string.Join("," + Space(random), members) + Space(random) + "}";

    private static string Space(Random random) => random.Next(6) switch { 0 => " ", 1 => "\n  ", _ => string.Empty };

    private static string Quote(string text) => System.Text.Json.JsonSerializer.Serialize(text);

    private static void Shuffle(List<string> items, Random random)
    {
        for (var i = items.Count - 1; i > 0; i--)
        {
            var j = random.Next(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }
}
