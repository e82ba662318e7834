using Org.BouncyCastle.Asn1.X9;
using Org.BouncyCastle.Crypto.Digests;
using Org.BouncyCastle.Crypto.EC;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Crypto.Signers;
using Org.BouncyCastle.Math;
using Org.BouncyCastle.Math.EC;

namespace Anpm.Signing;

/// <summary>
/// secp256k1 in managed code on BouncyCastle's <c>CustomNamedCurves</c> (several times faster than <c>SecNamedCurves</c>):
/// the fallback where libsecp256k1 is not installed.
/// </summary>
public sealed class ManagedSecp256k1 : ISecp256k1
{
    private static readonly X9ECParameters Curve = CustomNamedCurves.GetByName("secp256k1");
    private static readonly ECDomainParameters Domain = new(Curve.Curve, Curve.G, Curve.N, Curve.H);
    private static readonly BigInteger HalfN = Curve.N.ShiftRight(1);

    /// <summary>The shared instance; it holds no state.</summary>
    public static ManagedSecp256k1 Instance { get; } = new();

    /// <inheritdoc />
    public string Name => "BouncyCastle";

    /// <inheritdoc />
    public bool TryCreatePublicKey(ReadOnlySpan<byte> privateKey, Span<byte> publicKey)
    {
        if (publicKey.Length != 64 || !TryScalar(privateKey, out var d))
        {
            return false;
        }

        WritePoint(Domain.G.Multiply(d).Normalize(), publicKey);
        return true;
    }

    /// <inheritdoc />
    public bool TrySign(ReadOnlySpan<byte> hash, ReadOnlySpan<byte> privateKey, Span<byte> signature, out byte recoveryId)
    {
        recoveryId = 0;
        if (hash.Length != 32 || signature.Length != 64 || !TryScalar(privateKey, out var d))
        {
            return false;
        }

        var signer = new ECDsaSigner(new HMacDsaKCalculator(new Sha256Digest()));
        signer.Init(true, new ECPrivateKeyParameters(d, Domain));
        var hashBytes = hash.ToArray();
        var rs = signer.GenerateSignature(hashBytes);
        var r = rs[0];
        var s = rs[1];
        if (s.CompareTo(HalfN) > 0)
        {
            s = Curve.N.Subtract(s);
        }

        WriteScalar(r, signature[..32]);
        WriteScalar(s, signature[32..]);

        // BouncyCastle does not expose the nonce point; the recovery id is the one that recovers our own public key.
        Span<byte> expected = stackalloc byte[64];
        Span<byte> candidate = stackalloc byte[64];
        WritePoint(Domain.G.Multiply(d).Normalize(), expected);
        for (byte id = 0; id < 2; id++)
        {
            if (TryRecover(hash, signature, id, candidate) && candidate.SequenceEqual(expected))
            {
                recoveryId = id;
                return true;
            }
        }

        throw new InvalidOperationException("A fresh signature did not recover to its own key; the curve arithmetic is broken.");
    }

    /// <inheritdoc />
    public bool TryRecover(ReadOnlySpan<byte> hash, ReadOnlySpan<byte> signature, byte recoveryId, Span<byte> publicKey)
    {
        if (hash.Length != 32 || signature.Length != 64 || publicKey.Length != 64 || recoveryId > 3
            || !TryScalar(signature[..32], out var r) || !TryScalar(signature[32..], out var s))
        {
            return false;
        }

        // SEC 1 v2, 4.1.6: R has x = r (+ n for ids 2 and 3) and the y parity of the id.
        var x = recoveryId >= 2 ? r.Add(Curve.N) : r;
        var p = Curve.Curve.Field.Characteristic;
        if (x.CompareTo(p) >= 0)
        {
            return false;
        }

        // The cofactor is 1, so every point on the curve has order n: decoding (which checks the curve) is enough.
        ECPoint point;
        try
        {
            var encoded = new byte[33];
            encoded[0] = (byte)(0x02 + (recoveryId & 1));
            var xBytes = x.ToByteArrayUnsigned();
            xBytes.CopyTo(encoded, 33 - xBytes.Length);
            point = Curve.Curve.DecodePoint(encoded);
        }
        catch (ArgumentException)
        {
            return false;
        }

        var e = new BigInteger(1, hash.ToArray());
        var rInverse = r.ModInverse(Curve.N);
        var q = ECAlgorithms.SumOfTwoMultiplies(
            Domain.G, Curve.N.Subtract(e).Multiply(rInverse).Mod(Curve.N),
            point, s.Multiply(rInverse).Mod(Curve.N)).Normalize();
        if (q.IsInfinity)
        {
            return false;
        }

        WritePoint(q, publicKey);
        return true;
    }

    private static bool TryScalar(ReadOnlySpan<byte> bytes, out BigInteger value)
    {
        value = BigInteger.Zero;
        if (bytes.Length != 32)
        {
            return false;
        }

        value = new BigInteger(1, bytes.ToArray());
        return value.SignValue > 0 && value.CompareTo(Curve.N) < 0;
    }

    private static void WriteScalar(BigInteger value, Span<byte> destination)
    {
        var bytes = value.ToByteArrayUnsigned();
        destination.Clear();
        bytes.CopyTo(destination[(32 - bytes.Length)..]);
    }

    private static void WritePoint(ECPoint point, Span<byte> destination)
    {
        WriteScalar(point.AffineXCoord.ToBigInteger(), destination[..32]);
        WriteScalar(point.AffineYCoord.ToBigInteger(), destination[32..]);
    }
}
