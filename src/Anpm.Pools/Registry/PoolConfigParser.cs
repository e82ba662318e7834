using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Anpm.Abstractions;
using Anpm.Tensors;

namespace Anpm.Pools;

/// <summary>Why a pool config was refused: the offending field (a JSON path such as <c>inference.quorum</c>) and the problem.</summary>
/// <param name="Field">The field, or <c>$</c> for the document as a whole.</param>
/// <param name="Message">The problem in words, naming the field.</param>
/// <param name="IsTooLarge"><see langword="true"/> when the config is over <see cref="PoolConfigLimits.MaxConfigBytes"/> (HTTP 413 rather than 400).</param>
public sealed record PoolConfigError(string Field, string Message, bool IsTooLarge = false);

/// <summary>The limits a pool config must respect; each is an option with a default.</summary>
public sealed class PoolConfigLimits
{
    /// <summary>The largest config, in UTF-8 bytes. Default 65 536.</summary>
    public int MaxConfigBytes { get; set; } = 65_536;

    /// <summary>The most models a pool offers. Default 32.</summary>
    public int MaxModels { get; set; } = 32;

    /// <summary>The most oracles a pool allows. Default 64.</summary>
    public int MaxOracles { get; set; } = 64;

    /// <summary>The highest replication factor. Default 16.</summary>
    public int MaxReplication { get; set; } = 16;

    /// <summary>The longest lease, in seconds. Default 3600.</summary>
    public int MaxLeaseSeconds { get; set; } = 3600;

    /// <summary>The most attempts per task. Default 10.</summary>
    public int MaxAttempts { get; set; } = 10;

    /// <summary>The largest task input a pool may allow, in bytes. Default 16 MiB.</summary>
    public int MaxInputBytes { get; set; } = 16 * 1024 * 1024;

    /// <summary>The largest task output a pool may allow, in bytes. Default 16 MiB.</summary>
    public int MaxOutputBytes { get; set; } = 16 * 1024 * 1024;
}

/// <summary>
/// Parses and validates pool configs strictly: unknown fields, wrong types, bad values, an end before a start and a quorum
/// above the replication are refused, naming the field. Amounts are decimal strings of base units.
/// </summary>
public static class PoolConfigParser
{
    private static readonly System.Buffers.SearchValues<char> HexDigits = System.Buffers.SearchValues.Create("0123456789abcdefABCDEF");

    private static readonly string[] TopLevel = ["name", "description", "contribution", "staking", "inference"];
    private static readonly string[] ContributionFields = ["startUtc", "endUtc", "amountLimit", "destination", "prizeCalculator"];
    private static readonly string[] StakingFields = ["capacity", "dailyReward", "minStakeAgeSeconds"];
    private static readonly string[] InferenceFields = ["models", "oracles", "replication", "quorum", "leaseSeconds", "maxAttempts", "maxInputBytes", "maxOutputBytes"];
    private static readonly string[] ModelFields = ["id", "sha256", "price", "inputs", "outputs"];
    private static readonly string[] TensorFields = ["type", "shape", "allowNonFinite"];
    private const int MaxDeclaredTensors = 32;

    /// <summary>The prize calculators a config may name.</summary>
    public static IReadOnlyList<string> PrizeCalculators { get; } = ["pro-rata", "equal-split"];

    /// <summary>Parses a pool config.</summary>
    /// <param name="json">The config's JSON text.</param>
    /// <param name="limits">The limits; defaults when <see langword="null"/>.</param>
    /// <param name="config">The config, or <see langword="null"/>.</param>
    /// <param name="error">Why it was refused, or <see langword="null"/>.</param>
    /// <returns><see langword="false"/> with <paramref name="error"/> naming the field when the config is refused.</returns>
    public static bool TryParse(string? json, PoolConfigLimits? limits, [NotNullWhen(true)] out PoolConfig? config, [NotNullWhen(false)] out PoolConfigError? error)
    {
        limits ??= new PoolConfigLimits();
        config = null;
        if (string.IsNullOrEmpty(json))
        {
            error = new PoolConfigError("$", "The pool config is empty.");
            return false;
        }

        var size = Encoding.UTF8.GetByteCount(json);
        if (size > limits.MaxConfigBytes)
        {
            error = new PoolConfigError("$", $"The pool config is {size} bytes; at most {limits.MaxConfigBytes} are allowed.", IsTooLarge: true);
            return false;
        }

        try
        {
            using var document = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 16 });
            if (StrictJson.FindProblem(document.RootElement) is { } problem)
            {
                error = new PoolConfigError("$", "The pool config is refused: " + problem);
                return false;
            }

            config = Parse(document.RootElement, limits);
            error = null;
            return true;
        }
        catch (JsonException exception)
        {
            error = new PoolConfigError("$", "The pool config is not valid JSON: " + exception.Message);
            return false;
        }
        catch (ConfigException exception)
        {
            error = new PoolConfigError(exception.Field, exception.Message);
            return false;
        }
    }

    /// <summary>The config as the JSON the API returns: every present section, amounts as decimal strings.</summary>
    public static string ToJson(PoolConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var root = new JsonObject { ["name"] = config.Name, ["description"] = config.Description };
        if (config.Contribution is { } c)
        {
            root["contribution"] = new JsonObject
            {
                ["startUtc"] = c.StartUtc.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
                ["endUtc"] = c.EndUtc.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
                ["amountLimit"] = c.AmountLimit.ToString(),
                ["destination"] = c.Destination.ToString(),
                ["prizeCalculator"] = c.PrizeCalculator,
            };
        }

        if (config.Staking is { } s)
        {
            root["staking"] = new JsonObject
            {
                ["capacity"] = s.Capacity.ToString(),
                ["dailyReward"] = s.DailyReward.ToString(),
                ["minStakeAgeSeconds"] = s.MinStakeAgeSeconds,
            };
        }

        if (config.Inference is { } i)
        {
            root["inference"] = new JsonObject
            {
                ["models"] = new JsonArray(i.Models.Select(m => (JsonNode)ModelJson(m)).ToArray()),
                ["oracles"] = new JsonArray(i.Oracles.Select(o => (JsonNode)JsonValue.Create(o.ToString())).ToArray()),
                ["replication"] = i.Replication,
                ["quorum"] = i.Quorum,
                ["leaseSeconds"] = i.LeaseSeconds,
                ["maxAttempts"] = i.MaxAttempts,
                ["maxInputBytes"] = i.MaxInputBytes,
                ["maxOutputBytes"] = i.MaxOutputBytes,
            };
        }

        return root.ToJsonString();
    }

    private static PoolConfig Parse(JsonElement root, PoolConfigLimits limits)
    {
        RequireObject(root, "$", TopLevel);
        var config = new PoolConfig
        {
            Name = Text(root, "name", "name", maxLength: 100, required: true)!,
            Description = Text(root, "description", "description", maxLength: 2000, required: false) ?? string.Empty,
            Contribution = root.TryGetProperty("contribution", out var contribution) ? ParseContribution(contribution) : null,
            Staking = root.TryGetProperty("staking", out var staking) ? ParseStaking(staking) : null,
            Inference = root.TryGetProperty("inference", out var inference) ? ParseInference(inference, limits) : null,
        };
        if (config.Contribution is null && config.Staking is null && config.Inference is null)
        {
            throw new ConfigException("$", "A pool config needs at least one of contribution, staking and inference.");
        }

        return config;
    }

    private static ContributionConfig ParseContribution(JsonElement section)
    {
        RequireObject(section, "contribution", ContributionFields);
        var start = Time(section, "startUtc", "contribution.startUtc");
        var end = Time(section, "endUtc", "contribution.endUtc");
        if (end <= start)
        {
            throw new ConfigException("contribution.endUtc", $"contribution.endUtc ({end:O}) must be after contribution.startUtc ({start:O}).");
        }

        var calculator = Text(section, "prizeCalculator", "contribution.prizeCalculator", 32, required: false) ?? "pro-rata";
        if (!PrizeCalculators.Contains(calculator))
        {
            throw new ConfigException("contribution.prizeCalculator", $"contribution.prizeCalculator '{calculator}' is not one of {string.Join(", ", PrizeCalculators)}.");
        }

        return new ContributionConfig
        {
            StartUtc = start,
            EndUtc = end,
            AmountLimit = Amount(section, "amountLimit", "contribution.amountLimit", allowZero: false),
            Destination = section.TryGetProperty("destination", out var destination)
                ? AddressField(destination, "contribution.destination")
                : throw new ConfigException("contribution.destination", "contribution.destination is required."),
            PrizeCalculator = calculator,
        };
    }

    private static StakingConfig ParseStaking(JsonElement section)
    {
        RequireObject(section, "staking", StakingFields);
        return new StakingConfig
        {
            Capacity = Amount(section, "capacity", "staking.capacity", allowZero: false),
            DailyReward = Amount(section, "dailyReward", "staking.dailyReward", allowZero: true),
            MinStakeAgeSeconds = Integer(section, "minStakeAgeSeconds", "staking.minStakeAgeSeconds", 0, 30 * 86_400, 86_400),
        };
    }

    private static InferenceConfig ParseInference(JsonElement section, PoolConfigLimits limits)
    {
        RequireObject(section, "inference", InferenceFields);
        if (!section.TryGetProperty("models", out var models) || models.ValueKind != JsonValueKind.Array || models.GetArrayLength() == 0)
        {
            throw new ConfigException("inference.models", "inference.models must be a non-empty array of models.");
        }

        if (models.GetArrayLength() > limits.MaxModels)
        {
            throw new ConfigException("inference.models", $"inference.models has {models.GetArrayLength()} models; at most {limits.MaxModels} are allowed.");
        }

        var offers = new List<ModelOffer>();
        var index = 0;
        foreach (var model in models.EnumerateArray())
        {
            var path = $"inference.models[{index++}]";
            RequireObject(model, path, ModelFields);
            var id = Text(model, "id", path + ".id", 64, required: true)!;
            if (!id.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-'))
            {
                throw new ConfigException(path + ".id", $"{path}.id '{id}' may hold only letters, digits and . _ -.");
            }

            if (offers.Any(o => o.Id == id))
            {
                throw new ConfigException(path + ".id", $"{path}.id '{id}' is offered twice.");
            }

            var sha = Text(model, "sha256", path + ".sha256", 66, required: true)!;
            if (sha.Length != 66 || !sha.StartsWith("0x", StringComparison.OrdinalIgnoreCase) || sha.AsSpan(2).IndexOfAnyExcept(HexDigits) >= 0)
            {
                throw new ConfigException(path + ".sha256", $"{path}.sha256 must be 0x and 64 hex digits.");
            }

            offers.Add(new ModelOffer(id, sha.ToLowerInvariant(), Amount(model, "price", path + ".price", allowZero: false))
            {
                Inputs = Tensors(model, "inputs", path + ".inputs"),
                Outputs = Tensors(model, "outputs", path + ".outputs"),
            });
        }

        var oracles = new List<Address>();
        if (section.TryGetProperty("oracles", out var oracleList))
        {
            if (oracleList.ValueKind != JsonValueKind.Array)
            {
                throw new ConfigException("inference.oracles", "inference.oracles must be an array of addresses.");
            }

            if (oracleList.GetArrayLength() > limits.MaxOracles)
            {
                throw new ConfigException("inference.oracles", $"inference.oracles has {oracleList.GetArrayLength()} addresses; at most {limits.MaxOracles} are allowed.");
            }

            index = 0;
            foreach (var oracle in oracleList.EnumerateArray())
            {
                var path = $"inference.oracles[{index++}]";
                var address = AddressField(oracle, path);
                if (oracles.Contains(address))
                {
                    throw new ConfigException(path, $"{path} {address} is listed twice.");
                }

                oracles.Add(address);
            }
        }

        var replication = (int)Integer(section, "replication", "inference.replication", 1, limits.MaxReplication, 1);
        var quorum = (int)Integer(section, "quorum", "inference.quorum", 1, limits.MaxReplication, 1);
        if (quorum > replication)
        {
            throw new ConfigException("inference.quorum", $"inference.quorum ({quorum}) may not exceed inference.replication ({replication}).");
        }

        return new InferenceConfig
        {
            Models = offers,
            Oracles = oracles,
            Replication = replication,
            Quorum = quorum,
            LeaseSeconds = (int)Integer(section, "leaseSeconds", "inference.leaseSeconds", 1, limits.MaxLeaseSeconds, 60),
            MaxAttempts = (int)Integer(section, "maxAttempts", "inference.maxAttempts", 1, limits.MaxAttempts, 3),
            MaxInputBytes = (int)Integer(section, "maxInputBytes", "inference.maxInputBytes", 1, limits.MaxInputBytes, 65_536),
            MaxOutputBytes = (int)Integer(section, "maxOutputBytes", "inference.maxOutputBytes", 1, limits.MaxOutputBytes, 1_048_576),
        };
    }

    private static JsonObject ModelJson(ModelOffer model)
    {
        var json = new JsonObject { ["id"] = model.Id, ["sha256"] = model.Sha256, ["price"] = model.Price.ToString() };
        foreach (var (name, tensors) in new[] { ("inputs", model.Inputs), ("outputs", model.Outputs) })
        {
            if (tensors is not null)
            {
                var section = new JsonObject();
                foreach (var tensor in tensors)
                {
                    var declared = new JsonObject
                    {
                        ["type"] = TensorElementTypes.NameOf(tensor.ElementType),
                        ["shape"] = new JsonArray(tensor.Shape.Select(d => (JsonNode)JsonValue.Create(d)).ToArray()),
                    };
                    if (tensor.AllowNonFinite)
                    {
                        declared["allowNonFinite"] = true;
                    }

                    section[tensor.Name] = declared;
                }

                json[name] = section;
            }
        }

        return json;
    }

    // A model's declared inputs or outputs: {NAME: {"type": …, "shape": [size or -1, …], "allowNonFinite": false}}.
    private static IReadOnlyList<TensorSpec>? Tensors(JsonElement model, string name, string path)
    {
        if (!model.TryGetProperty(name, out var section))
        {
            return null;
        }

        if (section.ValueKind != JsonValueKind.Object)
        {
            throw new ConfigException(path, $"{path} must be a JSON object of tensors by name.");
        }

        var count = section.EnumerateObject().Count();
        if (count is 0 or > MaxDeclaredTensors)
        {
            throw new ConfigException(path, $"{path} must declare 1 to {MaxDeclaredTensors} tensors.");
        }

        var specs = new List<TensorSpec>();
        foreach (var tensor in section.EnumerateObject())
        {
            var at = $"{path}.{tensor.Name}";
            if (tensor.Name.Length is 0 or > 128 || tensor.Name.Any(char.IsControl))
            {
                throw new ConfigException(path, $"{path} has a tensor name that is not 1 to 128 characters without control characters.");
            }

            RequireObject(tensor.Value, at, TensorFields);
            var typeName = Text(tensor.Value, "type", at + ".type", 16, required: true);
            if (!TensorElementTypes.TryParse(typeName, out var type))
            {
                throw new ConfigException(at + ".type", $"{at}.type '{typeName}' must be one of float32, float16, int64, int32, int8, uint8, bool.");
            }

            if (!tensor.Value.TryGetProperty("shape", out var shape) || shape.ValueKind != JsonValueKind.Array || shape.GetArrayLength() > TensorSpec.MaxRank)
            {
                throw new ConfigException(at + ".shape", $"{at}.shape must be an array of at most {TensorSpec.MaxRank} dimensions.");
            }

            var dimensions = new List<long>();
            foreach (var dimension in shape.EnumerateArray())
            {
                if (dimension.ValueKind != JsonValueKind.Number || !dimension.TryGetInt64(out var size) || size < -1 || size > int.MaxValue)
                {
                    throw new ConfigException(at + ".shape", $"{at}.shape holds {dimension.GetRawText()}; a dimension is a size from 0, or -1 for any size.");
                }

                dimensions.Add(size);
            }

            var allowNonFinite = false;
            if (tensor.Value.TryGetProperty("allowNonFinite", out var flag))
            {
                allowNonFinite = flag.ValueKind switch
                {
                    JsonValueKind.True => true,
                    JsonValueKind.False => false,
                    _ => throw new ConfigException(at + ".allowNonFinite", $"{at}.allowNonFinite must be true or false."),
                };
            }

            specs.Add(new TensorSpec(tensor.Name, type, dimensions, allowNonFinite));
        }

        return specs;
    }

    private static void RequireObject(JsonElement element, string path, string[] allowed)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            throw new ConfigException(path, $"{path} must be a JSON object.");
        }

        foreach (var property in element.EnumerateObject())
        {
            if (!allowed.Contains(property.Name))
            {
                var field = path == "$" ? property.Name : $"{path}.{property.Name}";
                throw new ConfigException(field, $"{field} is not a pool config field; allowed are {string.Join(", ", allowed)}.");
            }
        }
    }

    private static string? Text(JsonElement section, string name, string path, int maxLength, bool required)
    {
        if (!section.TryGetProperty(name, out var value))
        {
            return required ? throw new ConfigException(path, $"{path} is required.") : null;
        }

        if (value.ValueKind != JsonValueKind.String)
        {
            throw new ConfigException(path, $"{path} must be a string.");
        }

        var text = value.GetString()!;
        if ((required && text.Length == 0) || text.Length > maxLength || text.Any(char.IsControl))
        {
            throw new ConfigException(path, $"{path} must be 1 to {maxLength} characters without control characters.");
        }

        return text;
    }

    private static DateTimeOffset Time(JsonElement section, string name, string path)
    {
        var text = Text(section, name, path, 40, required: true)!;
        if (!text.EndsWith('Z') || !DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var time))
        {
            throw new ConfigException(path, $"{path} '{text}' must be an ISO-8601 UTC time such as 2026-11-21T00:00:00Z.");
        }

        return time;
    }

    private static TokenAmount Amount(JsonElement section, string name, string path, bool allowZero)
    {
        var text = Text(section, name, path, TokenAmount.MaxTextLength, required: true)!;
        if (!TokenAmount.TryParse(text, 0, out var amount, out var error))
        {
            throw new ConfigException(path, $"{path}: {error}");
        }

        return amount.IsZero && !allowZero ? throw new ConfigException(path, $"{path} must not be zero.") : amount;
    }

    private static Address AddressField(JsonElement value, string path)
    {
        if (value.ValueKind != JsonValueKind.String)
        {
            throw new ConfigException(path, $"{path} must be an address string.");
        }

        return Address.TryParse(value.GetString(), out var address, out var error) ? address : throw new ConfigException(path, $"{path}: {error}");
    }

    private static long Integer(JsonElement section, string name, string path, long minimum, long maximum, long defaultValue)
    {
        if (!section.TryGetProperty(name, out var value))
        {
            return defaultValue;
        }

        if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt64(out var number) || number < minimum || number > maximum)
        {
            throw new ConfigException(path, $"{path} must be an integer from {minimum} to {maximum}.");
        }

        return number;
    }

    private sealed class ConfigException(string field, string message) : Exception(message)
    {
        public string Field { get; } = field;
    }
}
