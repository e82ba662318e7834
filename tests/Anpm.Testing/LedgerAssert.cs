using Anpm.Credits;

namespace Anpm.Testing;

/// <summary>Assertions every test that moves money makes.</summary>
public static class LedgerAssert
{
    /// <summary>Fails, listing every violation, unless the ledger's zero-sum invariant holds.</summary>
    public static async Task InvariantHoldsAsync(Ledger ledger)
    {
        ArgumentNullException.ThrowIfNull(ledger);
        var report = await ledger.CheckInvariantAsync();
        Assert.True(report.IsSound, "Ledger invariant violated: " + string.Join(" ", report.Problems));
    }
}
