using System.Runtime.InteropServices;
using Anpm.Abstractions;

namespace Anpm.Signing;

/// <summary>
/// A secp256k1 private key and its address. The key bytes live in a pinned array that is zeroed on dispose; they never
/// appear in <see cref="ToString"/> or in exception text.
/// </summary>
public sealed class EthereumKey : IEthereumSigner, IDisposable
{
    private readonly byte[] _privateKey;
    private readonly GCHandle _pin;
    private readonly ISecp256k1 _curve;
    private bool _disposed;

    private EthereumKey(byte[] privateKey, ISecp256k1 curve)
    {
        _privateKey = privateKey;
        _pin = GCHandle.Alloc(_privateKey, GCHandleType.Pinned);
        _curve = curve;
        Span<byte> publicKey = stackalloc byte[64];
        if (!curve.TryCreatePublicKey(_privateKey, publicKey))
        {
            Dispose();
            throw new FormatException("The private key is not in the range 1 to n − 1 of secp256k1.");
        }

        PublicKey = publicKey.ToArray();
        Address = Address.FromPublicKey(publicKey);
    }

    /// <summary>The key's Ethereum address.</summary>
    public Address Address { get; }

    /// <summary>The 64-byte uncompressed public key X‖Y.</summary>
    public ReadOnlyMemory<byte> PublicKey { get; }

    /// <summary>Creates a key from <c>0x</c> + 64 hex digits (the <c>0x</c> is optional).</summary>
    /// <param name="hex">The private key.</param>
    /// <param name="curve">The secp256k1 implementation; <see cref="Secp256k1Backends.Default"/> when null.</param>
    /// <exception cref="FormatException">The text is not a private key; the message says why, without the key.</exception>
    public static EthereumKey FromHex(string hex, ISecp256k1? curve = null)
    {
        ArgumentNullException.ThrowIfNull(hex);
        var text = hex.Trim();
        if (!text.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
        {
            text = "0x" + text;
        }

        return HexText.TryDecode(text, 32, "Private key", out var bytes, out var error)
            ? new EthereumKey(bytes, curve ?? Secp256k1Backends.Default)
            : throw new FormatException(error);
    }

    /// <summary>Reads a key file holding the private key as hex (surrounding whitespace ignored).</summary>
    /// <exception cref="FormatException">The file does not hold a private key.</exception>
    /// <exception cref="IOException">The file cannot be read.</exception>
    public static EthereumKey FromFile(string path, ISecp256k1? curve = null) => FromHex(File.ReadAllText(path), curve);

    /// <summary>A new random key from the system's cryptographic random number generator.</summary>
    public static EthereumKey Generate(ISecp256k1? curve = null)
    {
        var backend = curve ?? Secp256k1Backends.Default;
        Span<byte> publicKey = stackalloc byte[64];
        while (true)
        {
            var bytes = System.Security.Cryptography.RandomNumberGenerator.GetBytes(32);
            if (backend.TryCreatePublicKey(bytes, publicKey))
            {
                return new EthereumKey(bytes, backend);
            }
        }
    }

    /// <summary>Signs a 32-byte hash (RFC 6979, low s).</summary>
    /// <exception cref="ArgumentException"><paramref name="hash"/> is not 32 bytes.</exception>
    public EthereumSignature SignHash(ReadOnlySpan<byte> hash)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (hash.Length != Keccak256.HashSizeBytes)
        {
            throw new ArgumentException($"A hash to sign is 32 bytes, not {hash.Length}.", nameof(hash));
        }

        Span<byte> rs = stackalloc byte[64];
        if (!_curve.TrySign(hash, _privateKey, rs, out var recoveryId))
        {
            throw new InvalidOperationException("Signing failed for a valid key; the secp256k1 backend is broken.");
        }

        return EthereumSignature.FromParts(rs, recoveryId);
    }

    /// <inheritdoc />
    public ValueTask<EthereumSignature> SignHashAsync(ReadOnlyMemory<byte> hash, CancellationToken cancellationToken = default) => new(SignHash(hash.Span));

    /// <summary>Signs a personal message (EIP-191 version 0x45, <c>personal_sign</c>).</summary>
    public EthereumSignature SignPersonalMessage(ReadOnlySpan<byte> message) => SignHash(PersonalMessage.Hash(message));

    /// <summary>The key's address, never the key.</summary>
    public override string ToString() => $"EthereumKey({Address})";

    /// <summary>Zeroes the private key.</summary>
    public void Dispose()
    {
        Release();
        GC.SuppressFinalize(this);
    }

    /// <summary>Zeroes and unpins a key that was never disposed, when it is collected.</summary>
    ~EthereumKey() => Release();

    private void Release()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        CryptographicZero(_privateKey);
        _pin.Free();
    }

    private static void CryptographicZero(byte[] bytes) => System.Security.Cryptography.CryptographicOperations.ZeroMemory(bytes);
}
