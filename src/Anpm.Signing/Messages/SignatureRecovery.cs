using System.Diagnostics.CodeAnalysis;
using Anpm.Abstractions;

namespace Anpm.Signing;

/// <summary>Recovers the address that signed a hash.</summary>
public static class SignatureRecovery
{
    /// <summary>Recovers the signer's address of a 32-byte hash.</summary>
    /// <param name="hash">The signed hash.</param>
    /// <param name="signature">The signature (already checked for range and low s when parsed).</param>
    /// <param name="signer">The recovered address, or <see cref="Address.Zero"/>.</param>
    /// <param name="error">Why nothing could be recovered, or <see langword="null"/>.</param>
    /// <param name="curve">The secp256k1 implementation; <see cref="Secp256k1Backends.Default"/> when null.</param>
    /// <returns><see langword="false"/> with <paramref name="error"/> when no public key matches the signature.</returns>
    public static bool TryRecoverAddress(
        ReadOnlySpan<byte> hash,
        EthereumSignature signature,
        out Address signer,
        [NotNullWhen(false)] out string? error,
        ISecp256k1? curve = null)
    {
        ArgumentNullException.ThrowIfNull(signature);
        signer = Address.Zero;
        if (hash.Length != Keccak256.HashSizeBytes)
        {
            error = $"A signed hash is 32 bytes, not {hash.Length}.";
            return false;
        }

        Span<byte> publicKey = stackalloc byte[64];
        if (!(curve ?? Secp256k1Backends.Default).TryRecover(hash, signature.RS, signature.RecoveryId, publicKey))
        {
            error = "The signature matches no public key for this message.";
            return false;
        }

        signer = Address.FromPublicKey(publicKey);
        error = null;
        return true;
    }
}
