namespace Anpm.Signing.Tests;

public sealed class EthereumSignatureTests
{
    private const string Valid =
        "0xba2156580b4de00b02dab0bd2f0430071e39d227e19ef1563dd34eaa373a973001647636f6d427b14cde4e3b61ffc4ddede5146d02c4fea17310fde41cb37cdf1b";

    [Fact]
    public void Parse_VAs27Or0_SameSignature()
    {
        var v27 = EthereumSignature.Parse(Valid);
        var v0 = EthereumSignature.Parse(Valid[..^2] + "00");
        Assert.Equal(v27, v0);
        Assert.Equal((byte)27, v0.V);
        Assert.Equal(Valid, v0.ToString());
        Assert.Equal((byte)1, EthereumSignature.Parse(Valid[..^2] + "1c").RecoveryId);
        Assert.Equal((byte)1, EthereumSignature.Parse(Valid[..^2].ToUpperInvariant().Replace("0X", "0x", StringComparison.Ordinal) + "01").RecoveryId);
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("ba21", "must start with 0x")]
    [InlineData("0x1234", "has 4 hex digits; it must have 130")]
    [InlineData("0xzz2156580b4de00b02dab0bd2f0430071e39d227e19ef1563dd34eaa373a973001647636f6d427b14cde4e3b61ffc4ddede5146d02c4fea17310fde41cb37cdf1b", "not a hex digit at position 2")]
    [InlineData("0xba2156580b4de00b02dab0bd2f0430071e39d227e19ef1563dd34eaa373a973001647636f6d427b14cde4e3b61ffc4ddede5146d02c4fea17310fde41cb37cdf1d", "v = 29")]
    [InlineData("0x000000000000000000000000000000000000000000000000000000000000000001647636f6d427b14cde4e3b61ffc4ddede5146d02c4fea17310fde41cb37cdf1b", "r is zero")]
    [InlineData("0xba2156580b4de00b02dab0bd2f0430071e39d227e19ef1563dd34eaa373a973000000000000000000000000000000000000000000000000000000000000000001b", "s is zero")]
    [InlineData("0xba2156580b4de00b02dab0bd2f0430071e39d227e19ef1563dd34eaa373a9730fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd03641411b", "s is zero or not below the curve order")]
    [InlineData("0xba2156580b4de00b02dab0bd2f0430071e39d227e19ef1563dd34eaa373a9730ff9b89c9092bd84eb321b1c49e003b21ecc9c8794b83a1a4acc0c048b382c4621b", "EIP-2 requires low s")]
    public void TryParse_Malformed_NamesTheProblem(string text, string expected)
    {
        Assert.False(EthereumSignature.TryParse(text, out var signature, out var error));
        Assert.Null(signature);
        Assert.Contains(expected, error, StringComparison.Ordinal);
        Assert.Throws<FormatException>(() => EthereumSignature.Parse(text));
    }

    [Fact]
    public void Fuzz_RandomText_NeverThrowsAndRecoveryNeverThrows()
    {
        var random = new Random(99);
        var hash = new byte[32];
        for (var i = 0; i < 2000; i++)
        {
            var bytes = new byte[random.Next(0, 70)];
            random.NextBytes(bytes);
            if (bytes.Length == 65)
            {
                bytes[64] = (byte)random.Next(0, 30);
            }

            var text = (random.Next(4) == 0 ? "" : "0x") + Convert.ToHexString(bytes);
            if (EthereumSignature.TryParse(text, out var signature, out var error))
            {
                random.NextBytes(hash);
                foreach (var backend in new[] { Backends.Native, Backends.Managed })
                {
                    SignatureRecovery.TryRecoverAddress(hash, signature, out _, out _, backend);
                }
            }
            else
            {
                Assert.False(string.IsNullOrEmpty(error));
            }
        }
    }
}
