namespace Anpm.Signing;

/// <summary>Declares a C# class or record as an EIP-712 struct type; its fields are the properties marked <see cref="Eip712FieldAttribute"/>.</summary>
/// <param name="name">The EIP-712 type name, e.g. <c>Mail</c>.</param>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Struct, Inherited = false)]
public sealed class Eip712TypeAttribute(string name) : Attribute
{
    /// <summary>The EIP-712 type name.</summary>
    public string Name { get; } = name;
}

/// <summary>Declares a property as a field of an EIP-712 struct type.</summary>
/// <param name="order">The field's position in the type (fields are encoded in this order).</param>
/// <param name="name">The field name, e.g. <c>from</c>.</param>
/// <param name="type">The Solidity type, e.g. <c>address</c>, <c>uint256</c>, <c>bytes32</c>, <c>Person[]</c>.</param>
[AttributeUsage(AttributeTargets.Property, Inherited = false)]
public sealed class Eip712FieldAttribute(int order, string name, string type) : Attribute
{
    /// <summary>The field's position in the type.</summary>
    public int Order { get; } = order;

    /// <summary>The field name.</summary>
    public string Name { get; } = name;

    /// <summary>The Solidity type.</summary>
    public string Type { get; } = type;
}

/// <summary>The standard EIP-712 domain: name, version, chain id and verifying contract.</summary>
/// <param name="Name">The signing domain's name.</param>
/// <param name="Version">The signing domain's version.</param>
/// <param name="ChainId">The chain id.</param>
/// <param name="VerifyingContract">The contract that verifies the signatures.</param>
[Eip712Type("EIP712Domain")]
public sealed record Eip712Domain(
    [property: Eip712Field(0, "name", "string")] string Name,
    [property: Eip712Field(1, "version", "string")] string Version,
    [property: Eip712Field(2, "chainId", "uint256")] ulong ChainId,
    [property: Eip712Field(3, "verifyingContract", "address")] Anpm.Abstractions.Address VerifyingContract);
