using System.Runtime.InteropServices;

namespace Anpm.Signing;

/// <summary>
/// secp256k1 through the system's libsecp256k1 (Debian package <c>libsecp256k1-1</c>, with its recovery module), about
/// five times faster than the managed backend. Load it with <see cref="TryLoad"/>; it is found at run time, never shipped.
/// </summary>
public sealed unsafe class NativeSecp256k1 : ISecp256k1, IDisposable
{
    private const string Library = "libsecp256k1.so.1";
    private const uint ContextNone = 1;
    private const uint Uncompressed = 2;

    private nint _context;

    private NativeSecp256k1(nint context) => _context = context;

    /// <inheritdoc />
    public string Name => "libsecp256k1";

    /// <summary>Loads libsecp256k1 and creates a context.</summary>
    /// <param name="backend">The backend, or <see langword="null"/>.</param>
    /// <param name="error">Why it could not be loaded, or <see langword="null"/>.</param>
    /// <returns><see langword="false"/> when the library or its recovery module is missing.</returns>
    public static bool TryLoad(out NativeSecp256k1? backend, out string? error)
    {
        backend = null;
        try
        {
            var context = secp256k1_context_create(ContextNone);
            if (context == 0)
            {
                error = "libsecp256k1 could not create a context.";
                return false;
            }

            backend = new NativeSecp256k1(context);
            error = null;
            return true;
        }
        catch (Exception exception) when (exception is DllNotFoundException or EntryPointNotFoundException)
        {
            error = $"libsecp256k1 with its recovery module is not available ({exception.Message}); install the Debian package libsecp256k1-1.";
            return false;
        }
    }

    /// <inheritdoc />
    public bool TryCreatePublicKey(ReadOnlySpan<byte> privateKey, Span<byte> publicKey)
    {
        if (privateKey.Length != 32 || publicKey.Length != 64)
        {
            return false;
        }

        var native = stackalloc byte[64];
        fixed (byte* key = privateKey)
        {
            return secp256k1_ec_pubkey_create(Context, native, key) == 1 && Serialize(native, publicKey);
        }
    }

    /// <inheritdoc />
    public bool TrySign(ReadOnlySpan<byte> hash, ReadOnlySpan<byte> privateKey, Span<byte> signature, out byte recoveryId)
    {
        recoveryId = 0;
        if (hash.Length != 32 || privateKey.Length != 32 || signature.Length != 64)
        {
            return false;
        }

        var recoverable = stackalloc byte[65];
        int id;
        fixed (byte* message = hash)
        fixed (byte* key = privateKey)
        fixed (byte* output = signature)
        {
            // A null nonce function selects RFC 6979; libsecp256k1 always produces low-s signatures.
            if (secp256k1_ecdsa_sign_recoverable(Context, recoverable, message, key, 0, 0) != 1
                || secp256k1_ecdsa_recoverable_signature_serialize_compact(Context, output, &id, recoverable) != 1)
            {
                return false;
            }
        }

        recoveryId = (byte)id;
        return true;
    }

    /// <inheritdoc />
    public bool TryRecover(ReadOnlySpan<byte> hash, ReadOnlySpan<byte> signature, byte recoveryId, Span<byte> publicKey)
    {
        if (hash.Length != 32 || signature.Length != 64 || publicKey.Length != 64 || recoveryId > 3)
        {
            return false;
        }

        var recoverable = stackalloc byte[65];
        var native = stackalloc byte[64];
        fixed (byte* message = hash)
        fixed (byte* input = signature)
        {
            return secp256k1_ecdsa_recoverable_signature_parse_compact(Context, recoverable, input, recoveryId) == 1
                && secp256k1_ecdsa_recover(Context, native, recoverable, message) == 1
                && Serialize(native, publicKey);
        }
    }

    /// <summary>Destroys the context.</summary>
    public void Dispose()
    {
        var context = Interlocked.Exchange(ref _context, 0);
        if (context != 0)
        {
            secp256k1_context_destroy(context);
        }
    }

    private nint Context => _context != 0 ? _context : throw new ObjectDisposedException(nameof(NativeSecp256k1));

    private bool Serialize(byte* native, Span<byte> publicKey)
    {
        var serialized = stackalloc byte[65];
        nuint length = 65;
        if (secp256k1_ec_pubkey_serialize(Context, serialized, &length, native, Uncompressed) != 1 || length != 65)
        {
            return false;
        }

        new ReadOnlySpan<byte>(serialized + 1, 64).CopyTo(publicKey);
        return true;
    }

#pragma warning disable SA1300, CA5392 // The names are libsecp256k1's; the library is a system library found by the loader.
    [DllImport(Library)]
    private static extern nint secp256k1_context_create(uint flags);

    [DllImport(Library)]
    private static extern void secp256k1_context_destroy(nint context);

    [DllImport(Library)]
    private static extern int secp256k1_ec_pubkey_create(nint context, byte* publicKey, byte* privateKey);

    [DllImport(Library)]
    private static extern int secp256k1_ec_pubkey_serialize(nint context, byte* output, nuint* outputLength, byte* publicKey, uint flags);

    [DllImport(Library)]
    private static extern int secp256k1_ecdsa_sign_recoverable(nint context, byte* signature, byte* hash, byte* privateKey, nint nonceFunction, nint nonceData);

    [DllImport(Library)]
    private static extern int secp256k1_ecdsa_recoverable_signature_serialize_compact(nint context, byte* output, int* recoveryId, byte* signature);

    [DllImport(Library)]
    private static extern int secp256k1_ecdsa_recoverable_signature_parse_compact(nint context, byte* signature, byte* input, int recoveryId);

    [DllImport(Library)]
    private static extern int secp256k1_ecdsa_recover(nint context, byte* publicKey, byte* signature, byte* hash);
#pragma warning restore SA1300, CA5392
}
