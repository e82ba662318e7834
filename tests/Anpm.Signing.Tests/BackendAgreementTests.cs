using System.Numerics;

namespace Anpm.Signing.Tests;

public sealed class BackendAgreementTests
{
    [Fact]
    public void RandomKeysAndHashes_BothBackendsSignAndRecoverIdentically()
    {
        var random = new Random(4242);
        for (var i = 0; i < 300; i++)
        {
            var privateKey = new byte[32];
            var hash = new byte[32];
            random.NextBytes(privateKey);
            random.NextBytes(hash);
            if (i % 50 == 0)
            {
                Array.Clear(hash);
            }

            Span<byte> nativePublic = new byte[64];
            Span<byte> managedPublic = new byte[64];
            var nativeOk = Backends.Native.TryCreatePublicKey(privateKey, nativePublic);
            Assert.Equal(nativeOk, Backends.Managed.TryCreatePublicKey(privateKey, managedPublic));
            if (!nativeOk)
            {
                continue;
            }

            Assert.True(nativePublic.SequenceEqual(managedPublic));
            Span<byte> nativeSignature = new byte[64];
            Span<byte> managedSignature = new byte[64];
            Assert.True(Backends.Native.TrySign(hash, privateKey, nativeSignature, out var nativeId));
            Assert.True(Backends.Managed.TrySign(hash, privateKey, managedSignature, out var managedId));
            Assert.True(nativeSignature.SequenceEqual(managedSignature), $"Case {i}: signatures differ.");
            Assert.Equal(nativeId, managedId);
            Assert.True(new BigInteger(nativeSignature[32..], isUnsigned: true, isBigEndian: true) <= Curve.HalfN, "High s.");

            foreach (var backend in new[] { Backends.Native, Backends.Managed })
            {
                Span<byte> recovered = new byte[64];
                Assert.True(backend.TryRecover(hash, nativeSignature, nativeId, recovered));
                Assert.True(recovered.SequenceEqual(nativePublic));
            }
        }
    }

    [Fact]
    public void RandomSignatureBytes_BothBackendsAgreeOnRecoveryOrRefusal()
    {
        var random = new Random(7);
        var hash = new byte[32];
        var signature = new byte[64];
        for (var i = 0; i < 300; i++)
        {
            random.NextBytes(hash);
            random.NextBytes(signature);
            if (i % 3 == 0)
            {
                signature.AsSpan(0, 16).Fill(0xff);
            }

            var recoveryId = (byte)random.Next(0, 4);
            Span<byte> native = new byte[64];
            Span<byte> managed = new byte[64];
            var nativeOk = Backends.Native.TryRecover(hash, signature, recoveryId, native);
            var managedOk = Backends.Managed.TryRecover(hash, signature, recoveryId, managed);
            Assert.Equal(nativeOk, managedOk);
            if (nativeOk)
            {
                Assert.True(native.SequenceEqual(managed), $"Case {i}: recovered keys differ.");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Backends.Names), MemberType = typeof(Backends))]
    public void OutOfRangeInputs_RefusedWithoutThrowing(string name)
    {
        var backend = Backends.Get(name);
        Span<byte> publicKey = stackalloc byte[64];
        Span<byte> signature = stackalloc byte[64];
        Assert.False(backend.TryCreatePublicKey(new byte[32], publicKey));
        Assert.False(backend.TryCreatePublicKey(Curve.NBytes, publicKey));
        Assert.False(backend.TryCreatePublicKey(new byte[31], publicKey));
        Assert.False(backend.TrySign(new byte[31], Curve.OneBytes, signature, out _));
        Assert.False(backend.TrySign(new byte[32], new byte[32], signature, out _));
        Assert.False(backend.TryRecover(new byte[32], new byte[64], 0, publicKey));
        Assert.False(backend.TryRecover(new byte[32], new byte[63], 0, publicKey));
        Assert.False(backend.TryRecover(new byte[32], new byte[64], 4, publicKey));
    }

    internal static class Curve
    {
        public static readonly BigInteger N = BigInteger.Parse("0FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141", System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture);
        public static readonly BigInteger HalfN = N / 2;
        public static readonly byte[] NBytes = N.ToByteArray(isUnsigned: true, isBigEndian: true);
        public static readonly byte[] OneBytes = [.. new byte[31], 1];
    }
}
