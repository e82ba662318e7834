namespace Anpm.Signing;

/// <summary>Chooses the secp256k1 implementation: libsecp256k1 when the system has it, otherwise the managed one.</summary>
public static class Secp256k1Backends
{
    private static readonly Lazy<ISecp256k1> Detected = new(() =>
        NativeSecp256k1.TryLoad(out var native, out _) ? native! : ManagedSecp256k1.Instance);

    /// <summary>The fastest implementation available here, detected once per process.</summary>
    public static ISecp256k1 Default => Detected.Value;
}
