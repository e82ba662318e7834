using System.Reflection;
using System.Text.Json;
using System.Text.RegularExpressions;
using Anpm.AspNetCore;
using Anpm.Signing;

namespace Anpm.ReferenceHost.Tests;

/// <summary>
/// The repository's reference docs and the running host agree: every route of docs/reference/wire-contract.md is in the
/// OpenAPI document and the other way round, each signed route with the message type the docs name; the message types
/// listed are the verifier's; and every configuration key of the host is documented in docs/reference/configuration.md.
/// </summary>
public sealed partial class DocsAgreementTests
{
    private static string Doc(string name) => File.ReadAllText(Path.Combine(TestHost.RepositoryRoot(), "docs", "reference", name));

    private static string Block(string text, string name)
    {
        var match = Regex.Match(text, $"<!-- BEGIN {name} -->(.*?)<!-- END {name} -->", RegexOptions.Singleline);
        Assert.True(match.Success, $"The docs have no {name} block.");
        return match.Groups[1].Value;
    }

    [GeneratedRegex(@"^\| (GET|POST) \| `([^`]+)` \|\s*([^|]*?)\s*\|", RegexOptions.Multiline)]
    private static partial Regex RouteRow();

    [Fact]
    public async Task WireContract_RoutesAndMessageTypes_AreTheOpenApiDocuments()
    {
        var documented = RouteRow().Matches(Block(Doc("wire-contract.md"), "ROUTES"))
            .Select(m => (Method: m.Groups[1].Value.ToLowerInvariant(), Path: m.Groups[2].Value, Message: m.Groups[3].Value))
            .ToList();
        Assert.True(documented.Count > 30, $"Only {documented.Count} routes were read from the docs.");

        await using var host = TestHost.Start();
        using var openApi = JsonDocument.Parse(await host.Http.GetStringAsync("/openapi/v1.json"));
        var served = openApi.RootElement.GetProperty("paths").EnumerateObject()
            .Where(p => p.Name.StartsWith("/api/v1/", StringComparison.Ordinal))
            .SelectMany(p => p.Value.EnumerateObject().Select(o => (Method: o.Name, Path: p.Name, Operation: o.Value)))
            .ToList();
        Assert.Equal(served.Select(r => $"{r.Method} {r.Path}").Order(StringComparer.Ordinal), documented.Select(r => $"{r.Method} {r.Path}").Order(StringComparer.Ordinal));

        // A signed route's docs name its EIP-712 type; the OpenAPI description declares the same one.
        foreach (var (method, path, message) in documented.Where(r => Regex.IsMatch(r.Message, "^`[A-Z][A-Za-z]+`")))
        {
            var type = Regex.Match(message, "^`([A-Za-z]+)`").Groups[1].Value;
            var description = served.Single(r => r.Method == method && r.Path == path).Operation.GetProperty("description").GetString();
            Assert.Contains($"`{type}(", description, StringComparison.Ordinal);
        }

        var types = Block(Doc("wire-contract.md"), "TYPES").Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Where(l => !l.StartsWith("```", StringComparison.Ordinal));
        Assert.Equal(AnpmWireMessages.All, types);
    }

    [Fact]
    public void Configuration_EveryKeyOfTheHost_IsDocumented()
    {
        var doc = Doc("configuration.md");
        var keys = Keys(typeof(AnpmHostOptions), "Anpm").ToList();
        Assert.Contains("Anpm:Storage:Provider", keys);
        Assert.All(keys, key => Assert.True(doc.Contains($"`{key}", StringComparison.Ordinal), $"{key} is not in docs/reference/configuration.md."));
    }

    // The configuration keys of an options class: its public properties, nested settings classes as sections.
    private static IEnumerable<string> Keys(Type type, string prefix)
    {
        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            var key = $"{prefix}:{property.Name}";
            if (property.PropertyType.IsClass && property.PropertyType != typeof(string) && property.PropertyType.Namespace == type.Namespace)
            {
                foreach (var nested in Keys(property.PropertyType, key))
                {
                    yield return nested;
                }
            }
            else
            {
                yield return key;
            }
        }
    }
}
