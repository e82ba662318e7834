using System.Text.Json;
using Anpm.Abstractions;

namespace Anpm.Abstractions.Tests;

public sealed class AddressTests
{
    // The EIP-55 examples, plus ethers' getAddress for the last two.
    [Theory]
    [InlineData("0x52908400098527886E0F7030069857D2E4169EE7")]
    [InlineData("0x8617E340B3D01FA5F11F306F4090FD50E238070D")]
    [InlineData("0xde709f2102306220921060314715629080e2fb77")]
    [InlineData("0x27b1fdb04752bbc536007a920d24acb045561c26")]
    [InlineData("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed")]
    [InlineData("0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359")]
    [InlineData("0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB")]
    [InlineData("0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb")]
    public void ToChecksumString_Eip55Vectors_RoundTrip(string checksummed)
    {
        var address = Address.Parse(checksummed.ToLowerInvariant());
        Assert.Equal(checksummed, address.ToChecksumString());
        Assert.Equal(address, Address.Parse(checksummed));
        Assert.Equal(checksummed.ToLowerInvariant(), address.ToString());
    }

    [Fact]
    public void Parse_AllUppercaseDigits_AcceptedWithoutChecksum() =>
        Assert.Equal("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed", Address.Parse("0x5AAEB6053F3E94C9B9A09F33669435E7EF1BEAED").ToString());

    [Theory]
    [InlineData("", "empty")]
    [InlineData("5aaeb6053f3e94c9b9a09f33669435e7ef1beaed", "must start with 0x")]
    [InlineData("0x5aaeb6053f3e94c9b9a09f33669435e7ef1bea", "has 38 hex digits")]
    [InlineData("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaedaa", "has 42 hex digits")]
    [InlineData("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaeg", "'g' at position 41")]
    [InlineData("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD", "checksum is wrong")]
    public void TryParse_Malformed_NamesTheProblem(string text, string expected)
    {
        Assert.False(Address.TryParse(text, out var address, out var error));
        Assert.Equal(Address.Zero, address);
        Assert.Contains(expected, error, StringComparison.Ordinal);
        Assert.Throws<FormatException>(() => Address.Parse(text));
    }

    [Fact]
    public void FromBytes_RoundTripsAndComparesByValue()
    {
        var bytes = Convert.FromHexString("5aaeb6053f3e94c9b9a09f33669435e7ef1beaed");
        var a = Address.FromBytes(bytes);
        var b = Address.Parse("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed");
        Assert.Equal(a, b);
        Assert.Equal(a.GetHashCode(), b.GetHashCode());
        Assert.Equal(bytes, a.ToArray());
        Assert.True(Address.Zero.IsZero);
        Assert.False(a.IsZero);
        Assert.Throws<ArgumentException>(() => Address.FromBytes(new byte[19]));
    }

    [Fact]
    public void FromPublicKey_KnownKey_GivesItsAddress()
    {
        // Private key 1: its public key is the generator point G; its address is well known.
        var g = Convert.FromHexString(
            "79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798" +
            "483ada7726a3c4655da4fbfc0e1108a8fd17b448a68554199c47d08ffb10d4b8");
        Assert.Equal("0x7e5f4552091a69125d5dfcb7b8c2659029395bdf", Address.FromPublicKey(g).ToString());
    }

    [Fact]
    public void Json_WritesLowercaseAndVerifiesChecksum()
    {
        var address = Address.Parse("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed");
        Assert.Equal("\"0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed\"", JsonSerializer.Serialize(address));
        Assert.Equal(address, JsonSerializer.Deserialize<Address>("\"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed\""));
        var error = Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<Address>("\"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD\""));
        Assert.Contains("checksum", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TypeConverter_BindsFromConfigurationText_NullableToo()
    {
        var text = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed";
        Assert.Equal(Address.Parse(text), System.ComponentModel.TypeDescriptor.GetConverter(typeof(Address)).ConvertFromInvariantString(text));
        Assert.Equal((Address?)Address.Parse(text), System.ComponentModel.TypeDescriptor.GetConverter(typeof(Address?)).ConvertFromInvariantString(" " + text + " "));
        Assert.Equal("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed", System.ComponentModel.TypeDescriptor.GetConverter(typeof(Address)).ConvertToInvariantString(Address.Parse(text)));
        var bad = Assert.Throws<FormatException>(() => System.ComponentModel.TypeDescriptor.GetConverter(typeof(Address)).ConvertFromInvariantString("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD"));
        Assert.Contains("checksum", bad.Message, StringComparison.OrdinalIgnoreCase);
    }
}
