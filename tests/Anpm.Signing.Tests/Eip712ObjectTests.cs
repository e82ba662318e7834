using System.Text.Json;
using Anpm.AspNetCore;
using Anpm.Abstractions;
using Anpm.Testing;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Anpm.Signing.Tests;

[Eip712Type("Person")]
public sealed record Person(
    [property: Eip712Field(0, "name", "string")] string Name,
    [property: Eip712Field(1, "wallet", "address")] Address Wallet);

[Eip712Type("Mail")]
public sealed record Mail(
    [property: Eip712Field(0, "from", "Person")] Person From,
    [property: Eip712Field(1, "to", "Person")] Person To,
    [property: Eip712Field(2, "contents", "string")] string Contents);

[Eip712Type("Group")]
public sealed record Group(
    [property: Eip712Field(1, "members", "Person[]")] IReadOnlyList<Person> Members,
    [property: Eip712Field(0, "level", "uint8")] int Level,
    [property: Eip712Field(2, "tag", "bytes4")] byte[] Tag);

[Eip712Type("TokenTransfer")]
public sealed record TokenTransferMessage(
    [property: Eip712Field(0, "from", "address")] Address From,
    [property: Eip712Field(1, "to", "address")] Address To,
    [property: Eip712Field(2, "quantity", "uint256")] TokenAmount Quantity,
    [property: Eip712Field(3, "action", "string")] string Action,
    [property: Eip712Field(4, "poolId", "string")] string PoolId,
    [property: Eip712Field(5, "reference", "string")] string Reference,
    [property: Eip712Field(6, "nonce", "uint256")] ulong Nonce,
    [property: Eip712Field(7, "deadline", "uint256")] long Deadline);

public sealed record NotAType(string Name);

public sealed class Eip712ObjectTests
{
    private static readonly Eip712Domain MailDomain = new("Ether Mail", "1", 1, Address.Parse("0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC"));

    [Fact]
    public void MailRecords_SameTypesAndDigestAsTheSpecification()
    {
        var mail = new Mail(
            new Person("Cow", Address.Parse("0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826")),
            new Person("Bob", Address.Parse("0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB")),
            "Hello, Bob!");
        Assert.Equal("Mail(Person from,Person to,string contents)Person(string name,address wallet)", Eip712Object.TypesOf<Mail>().EncodeType("Mail"));
        Assert.Equal("be609aee343fb3c4b28e1df9e632fca64fcfaede20f02e86244efddf30957bd2", Convert.ToHexStringLower(Eip712Object.Digest(MailDomain, mail)));
    }

    [Fact]
    public void FieldsFollowTheirOrderNotTheirDeclaration()
    {
        Assert.Equal("Group(uint8 level,Person[] members,bytes4 tag)Person(string name,address wallet)", Eip712Object.TypesOf<Group>().EncodeType("Group"));
        var group = new Group([new Person("a", Address.Zero)], 7, [1, 2, 3, 4]);
        Assert.Equal(32, Eip712Object.HashStruct(group).Length);
    }

    [Fact]
    public void TokenTransferRecord_SignedFromCSharp_VerifiedAsARequest()
    {
        using var key = EthereumKey.FromHex("0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d");
        var manager = Address.Parse("0x5FbDB2315678afecb367f032d93F642f64180aa3");
        var message = new TokenTransferMessage(key.Address, manager, TokenAmount.Parse("1.5", 12), "Buy-Credits", "", "", 42, 1795219200);
        var signature = key.SignHash(Eip712Object.Digest(new Eip712Domain("ANPM", "1", 31337, manager), message));
        var verifier = new SignedRequestVerifier(
            Options.Create(new SignedRequestOptions { VerifyingContract = manager.ToString() }.AddMessageTypes(AnpmWireMessages.All)),
            new FakeTimeProvider(new DateTimeOffset(2026, 11, 20, 23, 30, 0, TimeSpan.Zero)));
        var result = verifier.Verify("TokenTransfer", Eip712Object.ToJson(message), signature.ToString());
        Assert.True(result.IsValid, result.Error);
        Assert.Equal(
            "0xcb19f6d0d7a559a7275d2339a17a10102e4d2b8ab59bb21f1f1ce2d572dd938a45d2b239650b9ff5c398f8ee9fcd7698bde69d281bdd9229c2e894509aa764241c",
            signature.ToString());
    }

    [Fact]
    public void ValueOutOfRange_FormatExceptionNamingTheField()
    {
        var error = Assert.Throws<FormatException>(() => Eip712Object.HashStruct(new Group([], 300, [1, 2, 3, 4])));
        Assert.Contains("Group.level (uint8) is out of range: 300", error.Message, StringComparison.Ordinal);
        var tag = Assert.Throws<FormatException>(() => Eip712Object.HashStruct(new Group([], 1, [1])));
        Assert.Contains("Group.tag (bytes4) has 1 bytes", tag.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TypeWithoutAttribute_ArgumentException()
    {
        var error = Assert.Throws<ArgumentException>(() => Eip712Object.TypesOf<NotAType>());
        Assert.Contains("NotAType has no [Eip712Type] attribute", error.Message, StringComparison.Ordinal);
    }
}
