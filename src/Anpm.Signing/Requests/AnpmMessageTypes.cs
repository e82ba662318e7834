namespace Anpm.Signing;

/// <summary>The EIP-712 message types of Anpm's wire contract (docs/reference/wire-contract.md, "Signed requests"); the actor is each type's first field.</summary>
public static class AnpmMessageTypes
{
    /// <summary>The domain type every request is signed under.</summary>
    public const string Domain = "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)";

    /// <summary>
    /// Every message type, in EIP-712 notation: users', admins', oracles', the token gateway's (pull due outgoing
    /// transfers, confirm one), a wallet's grant and revocation of a session key, an admin's webhook endpoints, and the
    /// short-lived read token of an operator's reads (<c>ReadAccess</c>: no nonce, reusable until its deadline).
    /// </summary>
    public static IReadOnlyList<string> All { get; } =
    [
        "TokenTransfer(address from,address to,uint256 quantity,string action,string poolId,string reference,uint256 nonce,uint256 deadline)",
        "CreditNotice(address gateway,string messageId,address sender,uint256 quantity,string action,string poolId,string reference)",
        "TransferCredits(address account,string poolId,uint256 amount,uint256 nonce,uint256 deadline)",
        "WithdrawCredits(address account,string poolId,uint256 amount,uint256 nonce,uint256 deadline)",
        "AddTask(address account,string poolId,string model,bytes32 inputHash,uint256 maxCredits,uint256 nonce,uint256 deadline)",
        "Unstake(address account,string poolId,uint256 amount,uint256 nonce,uint256 deadline)",
        "ClaimRewards(address account,string poolId,uint256 nonce,uint256 deadline)",
        "CreateContribution(address account,string poolId,uint256 amount,uint256 nonce,uint256 deadline)",
        "ClaimContribution(address account,string contributionId,uint256 nonce,uint256 deadline)",
        "CreatePool(address owner,string poolId,bytes32 configHash,uint256 nonce,uint256 deadline)",
        "SetPoolStatus(address admin,string poolId,uint8 status,string reason,uint256 nonce,uint256 deadline)",
        "SetAmountDistributing(address admin,string poolId,uint256 amount,uint256 nonce,uint256 deadline)",
        "SetExchangeRate(address feeder,uint256 credits,uint256 tokenUnits,uint256 effectiveAt,uint256 nonce,uint256 deadline)",
        "SetOracle(address owner,string poolId,address oracle,bool active,uint256 nonce,uint256 deadline)",
        "Pause(address admin,bool paused,uint256 nonce,uint256 deadline)",
        "ClaimTask(address oracle,string poolId,uint256 nonce,uint256 deadline)",
        "TaskResult(address oracle,string taskId,string leaseId,bytes32 modelHash,bytes32 outputHash)",
        "TaskFailure(address oracle,string taskId,string leaseId,string reason)",
        "OutboxPull(address gateway,uint256 limit,uint256 nonce,uint256 deadline)",
        "OutboxConfirm(address gateway,string transferId,string externalReference,uint256 nonce,uint256 deadline)",
        "Delegate(address account,address delegate,string poolId,string actions,uint256 spendCap,uint256 expiresAt,uint256 nonce,uint256 deadline)",
        "RevokeDelegate(address account,address delegate,uint256 nonce,uint256 deadline)",
        "RegisterWebhook(address admin,string url,bytes32 secretHash,string eventTypes,uint256 nonce,uint256 deadline)",
        "DisableWebhook(address admin,string endpointId,uint256 nonce,uint256 deadline)",
        "SetBalanceAlert(address account,string poolId,uint256 threshold,uint256 nonce,uint256 deadline)",
        "GrantCredits(address admin,address account,uint256 amount,string category,uint256 expiresAt,uint8 priority,uint256 nonce,uint256 deadline)",
        "RetryPayout(address admin,string transferId,string reason,uint256 nonce,uint256 deadline)",
        "ReturnPayout(address admin,string transferId,string reason,uint256 nonce,uint256 deadline)",
        "ReadAccess(address reader,uint256 deadline)",
    ];

    /// <summary>The types as the <c>types</c> object of an <c>eth_signTypedData_v4</c> document (domain included).</summary>
    public static string TypesJson { get; } = ToTypesJson([Domain, .. All]);

    /// <summary>
    /// The types document of Anpm's types and <paramref name="additional"/> ones (see
    /// <see cref="SignedRequestOptions.AdditionalTypes"/>): each well formed, named once, and starting with an address.
    /// </summary>
    /// <returns><see langword="false"/> with the problem in words when a declaration is not acceptable.</returns>
    public static bool TryCreate(IEnumerable<string> additional, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out string? typesJson, [System.Diagnostics.CodeAnalysis.NotNullWhen(false)] out string? error)
    {
        ArgumentNullException.ThrowIfNull(additional);
        (typesJson, error) = (null, null);
        var names = new HashSet<string>(All.Select(NameOf).Append("EIP712Domain"), StringComparer.Ordinal);
        var declarations = new List<string>();
        var list = additional.ToList();

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

            if (!names.Add(NameOf(declaration)))
            {
                error = $"'{NameOf(declaration)}' is already a message type.";
                return false;
            }

            if (!structs.Contains(NameOf(declaration)) && !declaration[(open + 1)..].StartsWith("address ", StringComparison.Ordinal))
            {
                error = $"'{NameOf(declaration)}' must start with its actor, an address field.";
                return false;
            }

            declarations.Add(declaration);
        }

        var json = ToTypesJson([Domain, .. All, .. declarations]);
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
