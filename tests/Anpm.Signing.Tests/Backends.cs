namespace Anpm.Signing.Tests;

/// <summary>Both secp256k1 backends; libsecp256k1 must load where CI installed it (eng/test.sh does).</summary>
public static class Backends
{
    private static readonly Lazy<NativeSecp256k1> LoadedNative = new(() =>
        NativeSecp256k1.TryLoad(out var native, out var error) ? native! : throw new InvalidOperationException(error));

    public static NativeSecp256k1 Native => LoadedNative.Value;

    public static ISecp256k1 Managed => ManagedSecp256k1.Instance;

    public static TheoryData<string> Names => new() { "native", "managed" };

    public static ISecp256k1 Get(string name) => name == "native" ? Native : Managed;
}
