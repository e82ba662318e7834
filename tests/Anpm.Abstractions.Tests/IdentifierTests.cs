using System.Text.Json;
using Anpm.Abstractions;

namespace Anpm.Abstractions.Tests;

public sealed class IdentifierTests
{
    [Fact]
    public void TransferIdDerive_FitsAlways_LiteralWhenShort_HashedWhenLongOrMarked()
    {
        Assert.Equal("refund:c1", TransferId.Derive("refund:", "c1").Value);
        var longest = new string('x', TransferId.MaxLength);
        var hashed = TransferId.Derive("confirmed:", longest);
        Assert.Equal("confirmed:keccak:" + Convert.ToHexStringLower(Keccak256.Hash(System.Text.Encoding.UTF8.GetBytes(longest))), hashed.Value);
        Assert.True(hashed.Value!.Length <= TransferId.MaxLength);
        Assert.Equal(hashed, TransferId.Derive("confirmed:", longest)); // deterministic
        Assert.NotEqual(hashed, TransferId.Derive("confirmed:", longest[1..] + "y"));

        // A source that spells a hashed id is hashed too, so it cannot take the id of the long source it names.
        var impostor = "keccak:" + hashed.Value["confirmed:keccak:".Length..];
        Assert.NotEqual(hashed, TransferId.Derive("confirmed:", impostor));
        Assert.StartsWith("confirmed:keccak:", TransferId.Derive("confirmed:", impostor).Value, StringComparison.Ordinal);

        // Characters an id does not allow are hashed away; a prefix must be a valid, short id start.
        Assert.StartsWith("memo:keccak:", TransferId.Derive("memo:", "a b").Value, StringComparison.Ordinal);
        Assert.Throws<FormatException>(() => TransferId.Derive(new string('p', 58), "x"));
        Assert.Throws<FormatException>(() => TransferId.Derive("bad prefix ", "x"));
    }

    [Fact]
    public void PoolId_Valid_RoundTrips()
    {
        var id = PoolId.Parse("demo_pool-1");
        Assert.Equal("demo_pool-1", id.ToString());
        Assert.Equal(id, PoolId.Parse("demo_pool-1"));
        Assert.NotEqual(id, PoolId.Parse("Demo_pool-1"));
    }

    [Theory]
    [InlineData("", "Pool id is empty.")]
    [InlineData("a b", "Pool id 'a b' has ' ' at position 1; allowed are letters, digits and _ -.")]
    [InlineData("a:b", "Pool id 'a:b' has ':' at position 1")]
    [InlineData("é", "has 'é' at position 0")]
    [InlineData("a\u0007", "Pool id 'a\\u0007' has '\\u0007' at position 1")]
    public void PoolId_Invalid_NamesTheProblem(string text, string expected)
    {
        Assert.False(PoolId.TryParse(text, out var id, out var error));
        Assert.Equal(default, id);
        Assert.Contains(expected, error, StringComparison.Ordinal);
    }

    [Fact]
    public void Ids_LengthLimits_Enforced()
    {
        Assert.True(PoolId.TryParse(new string('p', PoolId.MaxLength), out _));
        Assert.False(PoolId.TryParse(new string('p', PoolId.MaxLength + 1), out _, out var error));
        Assert.Equal("Pool id is 65 characters long; at most 64 are allowed.", error);
        Assert.True(AccountId.TryParse(new string('a', AccountId.MaxLength), out _));
        Assert.False(AccountId.TryParse(new string('a', AccountId.MaxLength + 1), out _));
        Assert.True(TransferId.TryParse(new string('t', TransferId.MaxLength), out _));
        Assert.False(TransferId.TryParse(new string('t', TransferId.MaxLength + 1), out _));
        Assert.False(TransferKind.TryParse(new string('k', TransferKind.MaxLength + 1), out _));
        Assert.False(AssetCode.TryParse(new string('A', AssetCode.MaxLength + 1), out _));
    }

    [Theory]
    [InlineData("APUS", true)]
    [InlineData("CREDIT2", true)]
    [InlineData("apus", false)]
    [InlineData("2APUS", false)]
    [InlineData("AP-US", false)]
    public void AssetCode_UppercaseStartingWithLetter(string text, bool valid) =>
        Assert.Equal(valid, AssetCode.TryParse(text, out _));

    [Theory]
    [InlineData("consume", true)]
    [InlineData("buy-credits", true)]
    [InlineData("Consume", false)]
    [InlineData("-x", false)]
    public void TransferKind_LowercaseStartingWithLetter(string text, bool valid) =>
        Assert.Equal(valid, TransferKind.TryParse(text, out _));

    [Fact]
    public void AccountAndTransferIds_AllowSeparators()
    {
        Assert.True(AccountId.TryParse("user:0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed:credit", out _));
        Assert.True(TransferId.TryParse("notice.42_a-b:c", out _));
        Assert.False(TransferId.TryParse("notice/42", out _));
    }

    [Fact]
    public void Json_ValidatesOnRead()
    {
        Assert.Equal("\"demo\"", JsonSerializer.Serialize(PoolId.Parse("demo")));
        Assert.Equal(PoolId.Parse("demo"), JsonSerializer.Deserialize<PoolId>("\"demo\""));
        var error = Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<PoolId>("\"de mo\""));
        Assert.Contains("position 2", error.Message, StringComparison.Ordinal);
        Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<PoolId>("12"));
        Assert.Throws<JsonException>(() => JsonSerializer.Serialize(default(PoolId)));
    }

    [Fact]
    public void Default_HasNoValue() => Assert.Null(default(TransferId).Value);
}
