namespace Anpm.Signing;

/// <summary>
/// EIP-712 message type declarations in the notation <c>Name(type field,…)</c>: checked and turned into the <c>types</c>
/// object of an <c>eth_signTypedData_v4</c> document. Signing knows no message of its own; the packages that define
/// messages declare them (<c>AnpmOracleMessages</c> in Anpm.Abstractions, <c>AnpmWireMessages</c> in Anpm.AspNetCore) and
/// add them to <see cref="SignedRequestOptions.MessageTypes"/>.
/// </summary>
public static class Eip712Messages
{
    /// <summary>The domain type every request is signed under.</summary>
    public const string Domain = "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)";

    /// <summary>
    /// The types document (domain included) of <paramref name="declarations"/>: each well formed; a name declared twice
    /// the same way counts once, two different declarations of one name are refused; a message (a type no other
    /// declaration uses as a field) starts with its actor, an address.
    /// </summary>
    /// <returns><see langword="false"/> with the problem in words when a declaration is not acceptable.</returns>
    public static bool TryCreate(IEnumerable<string> declarations, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out string? typesJson, [System.Diagnostics.CodeAnalysis.NotNullWhen(false)] out string? error)
    {
        ArgumentNullException.ThrowIfNull(declarations);
        (typesJson, error) = (null, null);
        var names = new Dictionary<string, string>(StringComparer.Ordinal) { ["EIP712Domain"] = Domain };
        var accepted = new List<string>();
        var list = declarations.ToList();

        // Types other declarations use as fields are structs: only the others are messages, which start with their actor.
        var structs = list.Where(static d => d is not null && d.Contains('(', StringComparison.Ordinal) && d.EndsWith(')'))
            .SelectMany(static d => d[(d.IndexOf('(', StringComparison.Ordinal) + 1)..^1].Split(','))
            .Select(static field => field.Split(' ')[0].Split('[')[0])
            .ToHashSet(StringComparer.Ordinal);
        foreach (var declaration in list)
        {
            var open = declaration?.IndexOf('(', StringComparison.Ordinal) ?? -1;
            if (declaration is null || open < 1 || !declaration.EndsWith(')')
                || declaration[(open + 1)..^1].Split(',').Any(static field => field.Split(' ') is not [{ Length: > 0 }, { Length: > 0 }]))
            {
                error = $"'{declaration}' is not a declaration like Name(type field,…).";
                return false;
            }

            if (names.TryGetValue(NameOf(declaration), out var known))
            {
                if (known == declaration)
                {
                    continue; // the same declaration from two packages
                }

                error = $"'{NameOf(declaration)}' is already a message type, declared as {known}.";
                return false;
            }

            names.Add(NameOf(declaration), declaration);

            if (!structs.Contains(NameOf(declaration)) && !declaration[(open + 1)..].StartsWith("address ", StringComparison.Ordinal))
            {
                error = $"'{NameOf(declaration)}' must start with its actor, an address field.";
                return false;
            }

            accepted.Add(declaration);
        }

        var json = ToTypesJson([Domain, .. accepted]);
        using var document = System.Text.Json.JsonDocument.Parse(json);
        if (!Eip712TypedData.TryCreate(document.RootElement, out _, out var typesError))
        {
            error = typesError;
            return false;
        }

        typesJson = json;
        return true;
    }

    private static string NameOf(string declaration) => declaration[..declaration.IndexOf('(', StringComparison.Ordinal)];

    /// <summary>Turns <c>Name(type name,…)</c> declarations into a <c>types</c> JSON object.</summary>
    public static string ToTypesJson(IEnumerable<string> declarations)
    {
        ArgumentNullException.ThrowIfNull(declarations);
        var types = new System.Text.Json.Nodes.JsonObject();
        foreach (var declaration in declarations)
        {
            var open = declaration.IndexOf('(', StringComparison.Ordinal);
            var fields = new System.Text.Json.Nodes.JsonArray();
            foreach (var field in declaration[(open + 1)..^1].Split(',', StringSplitOptions.RemoveEmptyEntries))
            {
                var parts = field.Split(' ');
                fields.Add(new System.Text.Json.Nodes.JsonObject { ["name"] = parts[1], ["type"] = parts[0] });
            }

            types[declaration[..open]] = fields;
        }

        return types.ToJsonString();
    }
}
