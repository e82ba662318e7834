using System.Security.Cryptography;
using Anpm.Abstractions;
using Anpm.Testing;
using Nethereum.Signer;

namespace Anpm.Signing.Tests;

/// <summary>Signers other than a key file: a Nethereum key and an external signer (KMS/HSM) through Nethereum's base class.</summary>
public sealed class NethereumSignerTests
{
    [Fact]
    public async Task NethereumKey_SignsAsAnpmsOwnKeyDoes_ByteForByte()
    {
        for (var i = 0; i < 40; i++)
        {
            var hex = "0x" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));
            using var ours = EthereumKey.FromHex(hex);
            var theirs = new NethereumKeySigner(new EthECKey(hex));
            Assert.Equal(ours.Address, theirs.Address);
            var hash = RandomNumberGenerator.GetBytes(32);
            var signature = await theirs.SignHashAsync(hash);
            Assert.Equal(ours.SignHash(hash), signature); // both RFC 6979 with low s
            foreach (var backend in new ISecp256k1[] { Backends.Native, Backends.Managed })
            {
                Assert.True(SignatureRecovery.TryRecoverAddress(hash, signature, out var signer, out _, backend));
                Assert.Equal(ours.Address, signer);
            }
        }

        Assert.Throws<ArgumentException>(() => new NethereumKeySigner(new EthECKey("0x" + new string('2', 64))).SignHashAsync(new byte[31]).AsTask().GetAwaiter().GetResult());
    }

    [Fact]
    public async Task ExternalSigner_HighSMadeCanonical_RecoveryIdFound_AddressFromTheSigner()
    {
        var hex = "0x" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));
        using var key = EthereumKey.FromHex(hex);
        var kms = new FakeKms(hex);
        var signer = await NethereumExternalSigner.CreateAsync(kms);
        Assert.Equal(key.Address, signer.Address);
        for (var i = 0; i < 20; i++)
        {
            var hash = RandomNumberGenerator.GetBytes(32);
            var signature = await signer.SignHashAsync(hash);
            Assert.Equal(key.SignHash(hash), signature); // the KMS's high s comes back as the canonical twin
            Assert.True(SignatureRecovery.TryRecoverAddress(hash, signature, out var recovered, out _, Backends.Native));
            Assert.Equal(key.Address, recovered);
        }

        Assert.Equal((20, 10), (kms.Signatures, kms.HighS)); // half of them were high s, and none got through as such
    }

    [Fact]
    public async Task ExternalSigner_Failing_OrSigningWithAnotherKey_Refused()
    {
        var kms = new FakeKms("0x" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32)));
        var signer = await NethereumExternalSigner.CreateAsync(kms);
        var hash = RandomNumberGenerator.GetBytes(32);

        kms.ImpostorKeyHex = "0x" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));
        var lie = await Assert.ThrowsAsync<AnpmException>(async () => await signer.SignHashAsync(hash));
        Assert.Equal($"The external signer {signer.Address} answered a signature that does not recover to {signer.Address}.", lie.Message);

        kms.ImpostorKeyHex = null;
        kms.Down = true;
        var down = await Assert.ThrowsAsync<AnpmException>(async () => await signer.SignHashAsync(hash));
        Assert.Contains("KMS unreachable", down.Message, StringComparison.Ordinal);
        Assert.Contains("KMS unreachable", (await Assert.ThrowsAsync<AnpmException>(() => NethereumExternalSigner.CreateAsync(kms))).Message, StringComparison.Ordinal);

        kms.Down = false;
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await signer.SignHashAsync(hash, cancelled.Token));
        var again = await signer.SignHashAsync(hash); // up again: signs
        Assert.True(SignatureRecovery.TryRecoverAddress(hash, again, out var recovered, out _));
        Assert.Equal(signer.Address, recovered);
    }
}

/// <summary>What Anpm.Signing brings into an application besides itself.</summary>
public sealed class SigningDependencyTests
{
    [Fact]
    public void OneBouncyCastle_TheMaintainedOne()
    {
        // Both users of BouncyCastle loaded: Anpm's managed curve and Nethereum's key.
        Assert.True(ManagedSecp256k1.Instance.TryCreatePublicKey(Keccak256.Hash("key"u8), new byte[64]));
        Assert.NotNull(new Nethereum.Signer.EthECKey("0x" + new string('4', 64)).GetPublicAddress());
        var loaded = AppDomain.CurrentDomain.GetAssemblies().Select(a => a.GetName().Name!).Where(n => n.StartsWith("BouncyCastle", StringComparison.Ordinal)).Distinct().ToList();
        Assert.Equal(["BouncyCastle.Cryptography"], loaded);
        Assert.False(File.Exists(Path.Combine(AppContext.BaseDirectory, "BouncyCastle.Crypto.dll")), "Portable.BouncyCastle's assembly is in the output.");
    }

    [Fact]
    public void PublicApi_NamesNethereumTypesOnlyInTheNethereumAdapters()
    {
        var leaks = typeof(EthereumKey).Assembly.GetExportedTypes()
            .Where(type => type != typeof(NethereumKeySigner) && type != typeof(NethereumExternalSigner))
            .SelectMany(type => type.GetMembers(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.Static | System.Reflection.BindingFlags.DeclaredOnly)
                .SelectMany(member => member switch
                {
                    System.Reflection.MethodBase method => method.GetParameters().Select(p => p.ParameterType).Concat(method is System.Reflection.MethodInfo info ? [info.ReturnType] : []),
                    System.Reflection.PropertyInfo property => [property.PropertyType],
                    System.Reflection.FieldInfo field => [field.FieldType],
                    _ => [],
                })
                .Concat(type.GetInterfaces())
                .Where(t => (t.Namespace ?? string.Empty).StartsWith("Nethereum", StringComparison.Ordinal) || (t.Namespace ?? string.Empty).StartsWith("Org.BouncyCastle", StringComparison.Ordinal))
                .Select(t => $"{type.Name}: {t.FullName}"))
            .ToList();
        Assert.Empty(leaks);
        Assert.Contains(typeof(NethereumExternalSigner).GetMethod(nameof(NethereumExternalSigner.CreateAsync))!.GetParameters(), p => p.ParameterType == typeof(Nethereum.Signer.IEthExternalSigner));
    }
}
