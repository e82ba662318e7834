using System.Globalization;
using System.Numerics;
using Anpm.Abstractions;
using Nethereum.Signer;

namespace Anpm.Signing;

/// <summary>
/// A Nethereum <see cref="EthECKey"/> as an <see cref="IEthereumSigner"/>: for keys an application already holds as
/// Nethereum keys. Signs with Nethereum, then makes the signature canonical and checks that it recovers to the key's
/// address with Anpm's strict verifier. Nethereum keys are not thread-safe: signing is serialised.
/// </summary>
public sealed class NethereumKeySigner : IEthereumSigner
{
    private readonly EthECKey _key;
    private readonly ISecp256k1 _curve;
    private readonly Lock _gate = new();

    /// <summary>Wraps <paramref name="key"/>.</summary>
    /// <param name="key">A key with its private part.</param>
    /// <param name="curve">The verifier the signatures are checked with; <see cref="Secp256k1Backends.Default"/> when null.</param>
    public NethereumKeySigner(EthECKey key, ISecp256k1? curve = null)
    {
        ArgumentNullException.ThrowIfNull(key);
        _key = key;
        _curve = curve ?? Secp256k1Backends.Default;
        Address = Address.Parse(key.GetPublicAddress());
    }

    /// <inheritdoc />
    public Address Address { get; }

    /// <inheritdoc />
    public ValueTask<EthereumSignature> SignHashAsync(ReadOnlyMemory<byte> hash, CancellationToken cancellationToken = default)
    {
        ExternalSignatures.CheckHash(hash);
        EthECDSASignature signature;
        lock (_gate)
        {
            signature = _key.SignAndCalculateV(hash.ToArray());
        }

        return new(ExternalSignatures.Canonical(hash.Span, signature.R, signature.S, Address, _curve, "Nethereum key"));
    }
}

/// <summary>
/// A KMS or HSM behind Nethereum's <see cref="IEthExternalSigner"/> (for example a subclass of
/// <see cref="EthExternalSignerBase"/>) as an <see cref="IEthereumSigner"/>: the hash is signed remotely; a high s, as
/// cloud KMSs return half of the time, is made canonical, and the recovery id is found by recovering the address with
/// Anpm's strict verifier — so a signer that does not compute v, or computes it for another s, still serves. A signature
/// that recovers to no other than the signer's address is refused.
/// </summary>
public sealed class NethereumExternalSigner : IEthereumSigner
{
    private readonly IEthExternalSigner _signer;
    private readonly ISecp256k1 _curve;

    private NethereumExternalSigner(IEthExternalSigner signer, Address address, ISecp256k1 curve)
    {
        _signer = signer;
        Address = address;
        _curve = curve;
    }

    /// <inheritdoc />
    public Address Address { get; }

    /// <summary>Asks <paramref name="signer"/> for its address and wraps it.</summary>
    /// <param name="signer">The external signer (hash format: it is given 32-byte hashes).</param>
    /// <param name="curve">The verifier the signatures are checked with; <see cref="Secp256k1Backends.Default"/> when null.</param>
    /// <param name="cancellationToken">Stops waiting for the signer's address.</param>
    /// <exception cref="AnpmException">The signer failed or gave no valid address.</exception>
    public static async Task<NethereumExternalSigner> CreateAsync(IEthExternalSigner signer, ISecp256k1? curve = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(signer);
        string address;
        try
        {
            address = await signer.GetAddressAsync().WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            throw new AnpmException("The external signer did not give its address: " + exception.Message, exception);
        }

        return Address.TryParse(address, out var parsed, out var error)
            ? new NethereumExternalSigner(signer, parsed, curve ?? Secp256k1Backends.Default)
            : throw new AnpmException($"The external signer's address is not an address: {error}");
    }

    /// <inheritdoc />
    public async ValueTask<EthereumSignature> SignHashAsync(ReadOnlyMemory<byte> hash, CancellationToken cancellationToken = default)
    {
        ExternalSignatures.CheckHash(hash);
        cancellationToken.ThrowIfCancellationRequested();
        EthECDSASignature signature;
        try
        {
            signature = await _signer.SignAsync(hash.ToArray()).WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            throw new AnpmException($"The external signer {Address} failed: {exception.Message}", exception);
        }

        return ExternalSignatures.Canonical(hash.Span, signature.R, signature.S, Address, _curve, $"external signer {Address}");
    }
}

/// <summary>Turns an (r, s) from elsewhere into Anpm's canonical, verified signature.</summary>
internal static class ExternalSignatures
{
    private static readonly BigInteger N = BigInteger.Parse("0FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141", NumberStyles.HexNumber, CultureInfo.InvariantCulture);

    public static void CheckHash(ReadOnlyMemory<byte> hash)
    {
        if (hash.Length != Keccak256.HashSizeBytes)
        {
            throw new ArgumentException($"A hash to sign is 32 bytes, not {hash.Length}.", nameof(hash));
        }
    }

    /// <summary>
    /// r and s (big-endian, any length) → low-s r‖s with the recovery id under which it recovers to <paramref name="signer"/>.
    /// </summary>
    /// <exception cref="AnpmException">r or s is out of range, or the signature recovers to another address.</exception>
    public static EthereumSignature Canonical(ReadOnlySpan<byte> hash, byte[]? r, byte[]? s, Address signer, ISecp256k1 curve, string source)
    {
        var rValue = r is null ? BigInteger.Zero : new BigInteger(r, isUnsigned: true, isBigEndian: true);
        var sValue = s is null ? BigInteger.Zero : new BigInteger(s, isUnsigned: true, isBigEndian: true);
        if (rValue.IsZero || sValue.IsZero || rValue >= N || sValue >= N)
        {
            throw new AnpmException($"The {source} answered a signature whose r or s is out of range.");
        }

        if (sValue > N / 2)
        {
            sValue = N - sValue; // the same signature's low-s twin (EIP-2)
        }

        Span<byte> rs = stackalloc byte[64];
        rValue.TryWriteBytes(rs[..32][(32 - rValue.GetByteCount(isUnsigned: true))..], out _, isUnsigned: true, isBigEndian: true);
        sValue.TryWriteBytes(rs[32..][(32 - sValue.GetByteCount(isUnsigned: true))..], out _, isUnsigned: true, isBigEndian: true);
        Span<byte> publicKey = stackalloc byte[64];
        for (byte recoveryId = 0; recoveryId < 2; recoveryId++)
        {
            if (curve.TryRecover(hash, rs, recoveryId, publicKey) && Address.FromPublicKey(publicKey) == signer)
            {
                return EthereumSignature.FromParts(rs, recoveryId);
            }
        }

        throw new AnpmException($"The {source} answered a signature that does not recover to {signer}.");
    }
}
