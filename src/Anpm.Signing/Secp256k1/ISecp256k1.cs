namespace Anpm.Signing;

/// <summary>
/// The secp256k1 operations Ethereum signing needs. Implementations give identical results: deterministic RFC 6979
/// nonces, low-s signatures (EIP-2), 64-byte uncompressed public keys (X‖Y without the 0x04 prefix).
/// </summary>
public interface ISecp256k1
{
    /// <summary>The implementation's name, for diagnostics: <c>libsecp256k1</c> or <c>BouncyCastle</c>.</summary>
    string Name { get; }

    /// <summary>Derives the public key of a private key.</summary>
    /// <param name="privateKey">32 bytes, big-endian, 1 to n − 1.</param>
    /// <param name="publicKey">Receives the 64-byte public key X‖Y.</param>
    /// <returns><see langword="false"/> when the private key is out of range or a span has the wrong length.</returns>
    bool TryCreatePublicKey(ReadOnlySpan<byte> privateKey, Span<byte> publicKey);

    /// <summary>Signs a 32-byte hash with a deterministic (RFC 6979) nonce; the signature is low-s.</summary>
    /// <param name="hash">The 32-byte message hash.</param>
    /// <param name="privateKey">32 bytes, big-endian, 1 to n − 1.</param>
    /// <param name="signature">Receives r‖s, 64 bytes.</param>
    /// <param name="recoveryId">Receives 0 or 1: which of the candidate public keys signed.</param>
    /// <returns><see langword="false"/> when the private key is out of range or a span has the wrong length.</returns>
    bool TrySign(ReadOnlySpan<byte> hash, ReadOnlySpan<byte> privateKey, Span<byte> signature, out byte recoveryId);

    /// <summary>Recovers the public key that made a signature over a hash.</summary>
    /// <param name="hash">The 32-byte message hash.</param>
    /// <param name="signature">r‖s, 64 bytes; r and s in 1 to n − 1.</param>
    /// <param name="recoveryId">0 to 3.</param>
    /// <param name="publicKey">Receives the 64-byte public key X‖Y.</param>
    /// <returns><see langword="false"/> when no public key matches (invalid r, s or recovery id).</returns>
    bool TryRecover(ReadOnlySpan<byte> hash, ReadOnlySpan<byte> signature, byte recoveryId, Span<byte> publicKey);
}
