namespace Anpm.Abstractions;

/// <summary>The assets every Anpm ledger holds.</summary>
public static class WellKnownAssets
{
    /// <summary>The APUS token (12 decimals by default), bought with and paid out through the token gateway.</summary>
    public static AssetCode Apus { get; } = AssetCode.Parse("APUS");

    /// <summary>Credits, bought with the token and spent on inference (0 decimals by default).</summary>
    public static AssetCode Credit { get; } = AssetCode.Parse("CREDIT");
}
