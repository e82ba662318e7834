using System.Reflection;
using Anpm.Abstractions;

namespace Anpm.Signing.Tests;

public sealed class EthereumKeyTests
{
    private const string Key = "0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318";

    [Fact]
    public void FromHexOrFile_SameAddressAndNeverShowsTheKey()
    {
        using var key = EthereumKey.FromHex(Key);
        Assert.Equal(Address.Parse("0x2c7536E3605D9C16a7a3D7b1898e529396a65c23"), key.Address);
        Assert.Equal("EthereumKey(0x2c7536e3605d9c16a7a3d7b1898e529396a65c23)", key.ToString());
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllText(path, "  " + Key[2..] + "\n");
            using var fromFile = EthereumKey.FromFile(path);
            Assert.Equal(key.Address, fromFile.Address);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Theory]
    [InlineData("0x0000000000000000000000000000000000000000000000000000000000000000", "not in the range")]
    [InlineData("0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141", "not in the range")]
    [InlineData("0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f3623", "has 62 hex digits")]
    [InlineData("0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f36231g", "not a hex digit")]
    public void FromHex_Invalid_ErrorNamesTheProblemButNotTheKey(string hex, string expected)
    {
        var error = Assert.Throws<FormatException>(() => EthereumKey.FromHex(hex));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(hex[2..12], error.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Dispose_ZeroesTheKeyAndRefusesToSign()
    {
        var key = EthereumKey.FromHex(Key);
        var bytes = (byte[])typeof(EthereumKey).GetField("_privateKey", BindingFlags.NonPublic | BindingFlags.Instance)!.GetValue(key)!;
        Assert.Contains(bytes, b => b != 0);
        key.Dispose();
        Assert.All(bytes, b => Assert.Equal(0, b));
        Assert.Throws<ObjectDisposedException>(() => key.SignHash(new byte[32]));
    }

    [Fact]
    public void Generate_ManagedBackendOnly_SignsAndRecovers()
    {
        // A machine without libsecp256k1: everything works through the managed backend.
        using var key = EthereumKey.Generate(ManagedSecp256k1.Instance);
        var hash = Keccak256.Hash("anpm"u8);
        var signature = key.SignHash(hash);
        Assert.True(SignatureRecovery.TryRecoverAddress(hash, signature, out var signer, out _, ManagedSecp256k1.Instance));
        Assert.Equal(key.Address, signer);
        Assert.Throws<ArgumentException>(() => key.SignHash(new byte[31]));
    }

    [Fact]
    public void DefaultBackend_IsNativeWhereInstalled() =>
        Assert.Equal("libsecp256k1", Secp256k1Backends.Default.Name);
}
