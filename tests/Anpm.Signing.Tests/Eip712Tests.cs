using System.Text;
using System.Text.Json;
using Anpm.Abstractions;

namespace Anpm.Signing.Tests;

/// <summary>EIP-712: the specification's "Mail" example and a document using every kind of type, both hashed by ethers 6.</summary>
public sealed class Eip712Tests
{
    private const string Mail = """
        {"types": {"EIP712Domain": [{"name": "name", "type": "string"}, {"name": "version", "type": "string"}, {"name": "chainId", "type": "uint256"}, {"name": "verifyingContract", "type": "address"}], "Person": [{"name": "name", "type": "string"}, {"name": "wallet", "type": "address"}], "Mail": [{"name": "from", "type": "Person"}, {"name": "to", "type": "Person"}, {"name": "contents", "type": "string"}]}, "primaryType": "Mail", "domain": {"name": "Ether Mail", "version": "1", "chainId": 1, "verifyingContract": "0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC"}, "message": {"from": {"name": "Cow", "wallet": "0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826"}, "to": {"name": "Bob", "wallet": "0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB"}, "contents": "Hello, Bob!"}}
        """;

    private const string Everything = """
        {"types": {"EIP712Domain": [{"name": "name", "type": "string"}, {"name": "chainId", "type": "uint256"}], "Leaf": [{"name": "flag", "type": "bool"}, {"name": "tag", "type": "bytes4"}, {"name": "data", "type": "bytes"}], "Node": [{"name": "id", "type": "uint8"}, {"name": "delta", "type": "int256"}, {"name": "small", "type": "int8"}, {"name": "leaves", "type": "Leaf[]"}, {"name": "grid", "type": "uint16[2][]"}, {"name": "names", "type": "string[]"}, {"name": "owner", "type": "address"}, {"name": "pair", "type": "bytes32[2]"}, {"name": "children", "type": "Child[]"}], "Child": [{"name": "n", "type": "uint256"}, {"name": "z", "type": "Leaf"}]}, "primaryType": "Node", "domain": {"name": "ANPM", "chainId": "31337"}, "message": {"id": 255, "delta": "-57896044618658097711785492504343953926634992332820282019728792003956564819968", "small": -128, "leaves": [{"flag": true, "tag": "0xdeadbeef", "data": "0x"}, {"flag": false, "tag": "0x00000000", "data": "0x0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f2021"}], "grid": [[1, 2], [65535, 0]], "names": ["", "ünïcødé", "a,b(c)"], "owner": "0x0000000000000000000000000000000000000000", "pair": ["0x1111111111111111111111111111111111111111111111111111111111111111", "0xffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"], "children": []}}
        """;

    [Fact]
    public void Mail_EncodeTypeDigestAndSignature_MatchTheSpecificationAndEthers()
    {
        using var document = JsonDocument.Parse(Mail);
        Assert.True(Eip712TypedData.TryCreate(document.RootElement.GetProperty("types"), out var typedData, out _));
        Assert.Equal("Mail(Person from,Person to,string contents)Person(string name,address wallet)", typedData.EncodeType("Mail"));
        Assert.Equal(
            "a0cedeb2dc280ba39b857546d74f5549c3a1d7bdc2dd96bf881f76108e23dac2",
            Convert.ToHexStringLower(typedData.TypeHash("Mail")));
        Assert.True(Eip712TypedData.TryHashDocument(Mail, out var digest, out var error), error);
        Assert.Equal("0xbe609aee343fb3c4b28e1df9e632fca64fcfaede20f02e86244efddf30957bd2", "0x" + Convert.ToHexStringLower(digest));

        foreach (var backend in new[] { Backends.Native, Backends.Managed })
        {
            using var key = EthereumKey.FromHex("0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80", backend);
            Assert.Equal("0x6ea8bb309a3401225701f3565e32519f94a0ea91a5910ce9229fe488e773584c0390416a2190d9560219dab757ecca2029e63fa9d1c2aebf676cc25b9f03126a1b", key.SignHash(digest).ToString());
        }
    }

    [Fact]
    public void EveryKindOfType_DigestMatchesEthers()
    {
        using var document = JsonDocument.Parse(Everything);
        Assert.True(Eip712TypedData.TryCreate(document.RootElement.GetProperty("types"), out var typedData, out _));
        Assert.Equal("Node(uint8 id,int256 delta,int8 small,Leaf[] leaves,uint16[2][] grid,string[] names,address owner,bytes32[2] pair,Child[] children)Child(uint256 n,Leaf z)Leaf(bool flag,bytes4 tag,bytes data)", typedData.EncodeType("Node"));
        Assert.True(Eip712TypedData.TryHashDocument(Everything, out var digest, out var error), error);
        Assert.Equal("0xa0bed6128089dfc839ec3afba6467bde7e381eb6879cdc44af8018410e25ac89", "0x" + Convert.ToHexStringLower(digest));
    }

    public static TheoryData<string, string, string> BadMessages => new()
    {
        { "id", "256", "message.id (uint8) is out of range: 256" },
        { "id", "-1", "message.id (uint8) is out of range: -1" },
        { "small", "-129", "message.small (int8) is out of range: -129" },
        { "id", "1.5", "message.id (uint8) must be an integer" },
        { "id", "true", "message.id (uint8) must be an integer" },
        { "owner", "\"0x123\"", "message.owner (address): Address '0x123' has 3 hex digits" },
        { "owner", "7", "message.owner (address) must be a string" },
        { "pair", "[\"0x11\"]", "message.pair has 1 elements; bytes32[2] has 2" },
        { "grid", "[[1]]", "message.grid[0] has 1 elements; uint16[2] has 2" },
        { "leaves", "[{\"flag\":1,\"tag\":\"0x00000000\",\"data\":\"0x\"}]", "message.leaves[0].flag (bool) must be true or false" },
        { "leaves", "[{\"flag\":true,\"tag\":\"0x0000\",\"data\":\"0x\"}]", "message.leaves[0].tag (bytes4) has 2 bytes; it must have 4" },
        { "leaves", "[{\"flag\":true,\"tag\":\"0x00000000\",\"data\":\"0x1\"}]", "message.leaves[0].data (bytes) must be 0x-prefixed hex" },
        { "leaves", "[{\"flag\":true,\"tag\":\"0x00000000\"}]", "message.leaves[0].data (bytes) is missing" },
        { "names", "\"x\"", "message.names must be an array (string[])" },
        { "extra", "1", "message has 'extra', which type Node does not declare" },
    };

    [Theory]
    [MemberData(nameof(BadMessages))]
    public void BadValue_ErrorNamesTheField(string field, string json, string expected)
    {
        var document = JsonNode(Everything);
        document["message"]![field] = System.Text.Json.Nodes.JsonNode.Parse(json);
        Assert.False(Eip712TypedData.TryHashDocument(document.ToJsonString(), out var digest, out var error));
        Assert.Null(digest);
        Assert.Contains(expected, error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{}", "Typed data has no 'types'")]
    [InlineData("[]", "must be a JSON object")]
    [InlineData("{\"types\":{\"A\":[{\"name\":\"x\",\"type\":\"uint7\"}]},\"primaryType\":\"A\",\"domain\":{},\"message\":{}}", "Field 'A.x' has unknown type 'uint7'")]
    [InlineData("{\"types\":{\"A\":[{\"name\":\"x\",\"type\":\"bytes33\"}]},\"primaryType\":\"A\",\"domain\":{},\"message\":{}}", "unknown type 'bytes33'")]
    [InlineData("{\"types\":{\"A\":[{\"name\":\"x\",\"type\":\"B\"}]},\"primaryType\":\"A\",\"domain\":{},\"message\":{}}", "unknown type 'B'")]
    [InlineData("{\"types\":{\"A\":[{\"name\":\"x\",\"type\":\"uint8\"},{\"name\":\"x\",\"type\":\"uint8\"}]}}", "repeated field name 'x'")]
    [InlineData("{\"types\":{\"EIP712Domain\":[]},\"primaryType\":\"Nope\",\"domain\":{},\"message\":{}}", "Type 'Nope' is not defined")]
    [InlineData("{\"types\":", "not valid JSON")]
    public void MalformedDocument_ErrorNamesTheProblem(string json, string expected)
    {
        Assert.False(Eip712TypedData.TryHashDocument(json, out _, out var error));
        Assert.Contains(expected, error, StringComparison.Ordinal);
    }

    [Fact]
    public void Fuzz_RandomMutationsOfValidDocuments_NeverThrow()
    {
        var random = new Random(712);
        var source = Encoding.UTF8.GetBytes(Everything);
        for (var i = 0; i < 3000; i++)
        {
            var bytes = (byte[])source.Clone();
            for (var j = random.Next(1, 4); j > 0; j--)
            {
                bytes[random.Next(bytes.Length)] = (byte)random.Next(32, 127);
            }

            if (Eip712TypedData.TryHashDocument(Encoding.UTF8.GetString(bytes), out var digest, out var error))
            {
                Assert.Equal(32, digest.Length);
            }
            else
            {
                Assert.False(string.IsNullOrEmpty(error));
            }
        }
    }

    [Fact]
    public void Digest_WrongLengths_Throw() =>
        Assert.Throws<ArgumentException>(() => Eip712TypedData.Digest(new byte[31], new byte[32]));

    private static System.Text.Json.Nodes.JsonNode JsonNode(string json) => System.Text.Json.Nodes.JsonNode.Parse(json)!;
}
