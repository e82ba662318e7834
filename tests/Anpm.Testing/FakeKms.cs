using Nethereum.Model;
using Nethereum.Signer;
using Nethereum.Signer.Crypto;
using BouncyInteger = Org.BouncyCastle.Math.BigInteger;

namespace Anpm.Testing;

/// <summary>
/// A stand-in for a cloud KMS or an HSM behind Nethereum's <see cref="EthExternalSignerBase"/>, written as such adapters
/// are: the key never leaves it, it signs the hashes it is given and answers the raw ECDSA (r, s) — every second one with
/// the high s a KMS returns half of the time — and leaves v to Nethereum. It can be taken down, or made to sign with
/// another key, to test what a client does with a signer that fails or lies.
/// </summary>
public sealed class FakeKms : EthExternalSignerBase
{
    private static readonly BouncyInteger N = new("FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141", 16);
    private readonly EthECKey _key;
    private int _signatures;
    private int _highS;

    /// <summary>A KMS holding <paramref name="privateKeyHex"/>.</summary>
    public FakeKms(string privateKeyHex) => _key = new EthECKey(privateKeyHex);

    /// <summary>Signatures made so far.</summary>
    public int Signatures => Volatile.Read(ref _signatures);

    /// <summary>Of those, answered with a high s.</summary>
    public int HighS => Volatile.Read(ref _highS);

    /// <summary>While true, every request fails as an unreachable KMS does.</summary>
    public bool Down { get; set; }

    /// <summary>
    /// When set, signs with this key while still claiming its own address, and says v itself (so Nethereum passes the
    /// signature on unchecked): a misconfigured or hostile signer.
    /// </summary>
    public string? ImpostorKeyHex
    {
        get;
        set
        {
            field = value;
            CalculatesV = value is not null;
        }
    }

    public override bool Supported1559 => false;

    public override ExternalSignerTransactionFormat ExternalSignerTransactionFormat { get; protected set; } = ExternalSignerTransactionFormat.Hash;

    public override bool CalculatesV { get; protected set; }

    public override Task SignAsync(LegacyTransactionChainId transaction) => throw new NotSupportedException("This KMS signs hashes only.");

    public override Task SignAsync(LegacyTransaction transaction) => throw new NotSupportedException("This KMS signs hashes only.");

    public override Task SignAsync(Transaction1559 transaction) => throw new NotSupportedException("This KMS signs hashes only.");

    public override Task SignAsync(Transaction7702 transaction) => throw new NotSupportedException("This KMS signs hashes only.");

    protected override Task<byte[]> GetPublicKeyAsync() => Down ? throw new HttpRequestException("KMS unreachable") : Task.FromResult(_key.GetPubKey());

    protected override async Task<ECDSASignature> SignExternallyAsync(byte[] bytes)
    {
        await Task.Yield(); // a remote call
        if (Down)
        {
            throw new HttpRequestException("KMS unreachable");
        }

        var signature = (ImpostorKeyHex is { } other ? new EthECKey(other) : _key).Sign(bytes);
        var (r, s) = (new BouncyInteger(1, signature.R), new BouncyInteger(1, signature.S));
        if (Interlocked.Increment(ref _signatures) % 2 == 0)
        {
            Interlocked.Increment(ref _highS);
            s = N.Subtract(s);
        }

        return new ECDSASignature(r, s) { V = CalculatesV ? [27] : null! };
    }
}
