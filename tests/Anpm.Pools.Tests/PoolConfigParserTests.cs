using System.Text.Json.Nodes;
using Anpm.Abstractions;

namespace Anpm.Pools.Tests;

public sealed class PoolConfigParserTests
{
    private const string Full = """
        {
          "name": "Qwen pool", "description": "Inference and a campaign",
          "contribution": { "startUtc": "2026-11-21T00:00:00Z", "endUtc": "2026-12-21T00:00:00Z",
                            "amountLimit": "5000000000000000", "destination": "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
                            "prizeCalculator": "pro-rata" },
          "staking":      { "capacity": "1000000000000000", "dailyReward": "1000000000000", "minStakeAgeSeconds": 86400 },
          "inference":    { "models": [ { "id": "digits", "sha256": "0xABCDEF0000000000000000000000000000000000000000000000000000000001", "price": "10" } ],
                            "oracles": ["0x70997970c51812dc3a010c7d01b50e0d17dc79c8"], "replication": 3, "quorum": 2, "leaseSeconds": 60,
                            "maxAttempts": 3, "maxInputBytes": 65536 }
        }
        """;

    [Fact]
    public void Full_ParsedAndRoundTrippedThroughToJson()
    {
        Assert.True(PoolConfigParser.TryParse(Full, null, out var config, out var error), error?.Message);
        Assert.Equal("Qwen pool", config.Name);
        Assert.Equal(new DateTimeOffset(2026, 12, 21, 0, 0, 0, TimeSpan.Zero), config.Contribution!.EndUtc);
        Assert.Equal(TokenAmount.Parse("5000000000000000"), config.Contribution.AmountLimit);
        Assert.Equal(Address.Parse("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed"), config.Contribution.Destination);
        Assert.Equal(86_400, config.Staking!.MinStakeAgeSeconds);
        var model = Assert.Single(config.Inference!.Models);
        Assert.Equal(new ModelOffer("digits", "0xabcdef0000000000000000000000000000000000000000000000000000000001", new TokenAmount(10)), model);
        Assert.Equal((3, 2), (config.Inference.Replication, config.Inference.Quorum));

        Assert.True(PoolConfigParser.TryParse(PoolConfigParser.ToJson(config), null, out var again, out _));
        Assert.Equal(config with { Inference = null }, again with { Inference = null });
        Assert.Equal(config.Inference.Models, again.Inference!.Models);
        Assert.Equal(config.Inference.Oracles, again.Inference.Oracles);
    }

    [Fact]
    public void InferenceOnly_DefaultsApplied()
    {
        var json = "{\"name\":\"demo\",\"inference\":{\"models\":[{\"id\":\"digits\",\"sha256\":\"0x" + new string('0', 64) + "\",\"price\":\"1\"}]}}";
        Assert.True(PoolConfigParser.TryParse(json, null, out var config, out _));
        Assert.Equal((1, 1, 60, 3, 65_536), (config.Inference!.Replication, config.Inference.Quorum, config.Inference.LeaseSeconds, config.Inference.MaxAttempts, config.Inference.MaxInputBytes));
        Assert.Empty(config.Inference.Oracles);
        Assert.Null(config.Contribution);
        Assert.Equal(string.Empty, config.Description);
    }

    public static TheoryData<string, string, string> Mutations => new()
    {
        { "$.extra", "1", "extra is not a pool config field" },
        { "$.name", "\"\"", "name must be 1 to 100 characters" },
        { "$.name", "7", "name must be a string" },
        { "contribution.endUtc", "\"2026-11-20T00:00:00Z\"", "contribution.endUtc (2026-11-20T00:00:00.0000000+00:00) must be after contribution.startUtc" },
        { "contribution.startUtc", "\"21 Nov 2026\"", "contribution.startUtc '21 Nov 2026' must be an ISO-8601 UTC time" },
        { "contribution.amountLimit", "\"1.5\"", "contribution.amountLimit: Amount '1.5' has a decimal point" },
        { "contribution.amountLimit", "\"0\"", "contribution.amountLimit must not be zero" },
        { "contribution.destination", "\"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD\"", "contribution.destination: Address" },
        { "contribution.prizeCalculator", "\"winner-takes-all\"", "is not one of pro-rata, equal-split" },
        { "contribution.color", "\"red\"", "contribution.color is not a pool config field" },
        { "staking.minStakeAgeSeconds", "-1", "staking.minStakeAgeSeconds must be an integer from 0 to 2592000" },
        { "inference.quorum", "4", "inference.quorum (4) may not exceed inference.replication (3)" },
        { "inference.replication", "17", "inference.replication must be an integer from 1 to 16" },
        { "inference.leaseSeconds", "0", "inference.leaseSeconds must be an integer from 1 to 3600" },
        { "inference.models", "[]", "inference.models must be a non-empty array" },
        { "inference.models", "[{\"id\":\"a b\",\"sha256\":\"0x00\",\"price\":\"1\"}]", "inference.models[0].id 'a b' may hold only" },
        { "inference.models", "[{\"id\":\"m\",\"sha256\":\"0x00\",\"price\":\"1\"}]", "inference.models[0].sha256 must be 0x and 64 hex digits" },
        { "inference.models", "[{\"id\":\"m\",\"sha256\":\"0x" + "0000000000000000000000000000000000000000000000000000000000000000" + "\",\"price\":\"0\"}]", "inference.models[0].price must not be zero" },
        { "inference.models", Model("\"inputs\":[]"), "inference.models[0].inputs must be a JSON object of tensors by name" },
        { "inference.models", Model("\"inputs\":{}"), "inference.models[0].inputs must declare 1 to 32 tensors" },
        { "inference.models", Model("\"inputs\":{\"x\":{\"type\":\"float64\",\"shape\":[1]}}"), "inference.models[0].inputs.x.type 'float64' must be one of" },
        { "inference.models", Model("\"inputs\":{\"x\":{\"type\":\"float32\",\"shape\":[-2]}}"), "inference.models[0].inputs.x.shape holds -2" },
        { "inference.models", Model("\"inputs\":{\"x\":{\"type\":\"float32\",\"shape\":[1,1,1,1,1,1,1,1,1]}}"), "at most 8 dimensions" },
        { "inference.models", Model("\"outputs\":{\"y\":{\"type\":\"float32\",\"shape\":[1],\"allowNonFinite\":1}}"), "inference.models[0].outputs.y.allowNonFinite must be true or false" },
        { "inference.models", Model("\"outputs\":{\"y\":{\"type\":\"float32\",\"shape\":[1],\"unit\":\"m\"}}"), "inference.models[0].outputs.y.unit is not a pool config field" },
        { "inference.oracles", "[\"0x70997970c51812dc3a010c7d01b50e0d17dc79c8\",\"0x70997970C51812dc3A010C7d01b50e0d17dc79C8\"]", "inference.oracles[1] 0x70997970c51812dc3a010c7d01b50e0d17dc79c8 is listed twice" },
    };

    private static string Model(string io) => "[{\"id\":\"m\",\"sha256\":\"0x" + new string('0', 64) + "\",\"price\":\"1\"," + io + "}]";

    [Fact]
    public void DeclaredModelIo_ParsedAndRoundTripped()
    {
        var json = "{\"name\":\"d\",\"inference\":{\"models\":" + Model("\"inputs\":{\"pixels\":{\"type\":\"float32\",\"shape\":[-1,64]}},"
            + "\"outputs\":{\"label\":{\"type\":\"int64\",\"shape\":[1]},\"scores\":{\"type\":\"float16\",\"shape\":[1,10],\"allowNonFinite\":true}}") + "}}";
        Assert.True(PoolConfigParser.TryParse(json, null, out var config, out var error), error?.Message);
        var model = Assert.Single(config.Inference!.Models);
        Assert.Equal("pixels float32 [?,64]", Assert.Single(model.Inputs!).ToString());
        Assert.Equal(["label int64 [1]", "scores float16 [1,10]"], model.Outputs!.Select(o => o.ToString()));
        Assert.Equal([false, true], model.Outputs!.Select(o => o.AllowNonFinite));
        Assert.True(PoolConfigParser.TryParse(PoolConfigParser.ToJson(config), null, out var again, out _));
        Assert.Equal(PoolConfigParser.ToJson(config), PoolConfigParser.ToJson(again));
        Assert.Equal(model.Outputs!.Select(o => o.ToString() + o.AllowNonFinite), again.Inference!.Models[0].Outputs!.Select(o => o.ToString() + o.AllowNonFinite));
    }

    [Theory]
    [MemberData(nameof(Mutations))]
    public void Mutation_RefusedNamingTheField(string path, string json, string expected)
    {
        var document = JsonNode.Parse(Full)!;
        var parts = path.Split('.');
        var parent = parts[0] == "$" ? document : document[parts[0]]!;
        parent[parts[1]] = JsonNode.Parse(json);
        Assert.False(PoolConfigParser.TryParse(document.ToJsonString(), null, out var config, out var error));
        Assert.Null(config);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.False(error.IsTooLarge);
    }

    [Theory]
    [InlineData("", "The pool config is empty.")]
    [InlineData("{\"name\":\"x\"}", "at least one of contribution, staking and inference")]
    [InlineData("[1]", "$ must be a JSON object")]
    [InlineData("{\"name\":", "not valid JSON")]
    public void Document_Refused(string json, string expected)
    {
        Assert.False(PoolConfigParser.TryParse(json, null, out _, out var error));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.Equal("$", error.Field);
    }

    [Fact]
    public void TooLarge_FlaggedForPayloadTooLarge()
    {
        Assert.False(PoolConfigParser.TryParse(Full, new PoolConfigLimits { MaxConfigBytes = 100 }, out _, out var error));
        Assert.True(error.IsTooLarge);
        Assert.Contains("at most 100 are allowed", error.Message, StringComparison.Ordinal);
    }
}
