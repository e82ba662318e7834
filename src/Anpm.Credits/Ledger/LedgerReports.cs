using Anpm.Abstractions;

namespace Anpm.Credits;

/// <summary>The result of the zero-sum check over the whole ledger.</summary>
/// <param name="Assets">The sums per asset.</param>
/// <param name="Problems">Each violation in words; empty when the ledger is sound.</param>
public sealed record LedgerInvariantReport(IReadOnlyList<AssetTotals> Assets, IReadOnlyList<string> Problems)
{
    /// <summary>
    /// <see langword="true"/> when, per asset, posted debits equal posted credits, pending debits equal pending credits,
    /// and no account that must not go negative is negative.
    /// </summary>
    public bool IsSound => Problems.Count == 0;
}

/// <summary>The outcome of reading an account's history.</summary>
public enum AccountHistoryStatus
{
    /// <summary>The page was read.</summary>
    Ok = 1,

    /// <summary>The account does not exist.</summary>
    AccountNotFound = 2,

    /// <summary>The cursor is not one this ledger returned.</summary>
    CursorIsInvalid = 3,

    /// <summary>The limit is below 1 or above the configured maximum page size.</summary>
    LimitIsOutOfRange = 4,
}

/// <summary>A page of an account's history, newest first.</summary>
/// <param name="Status">Whether the page was read; when not, <paramref name="Entries"/> is empty.</param>
/// <param name="Entries">The transfers, newest first.</param>
/// <param name="NextCursor">Pass it to read the next (older) page; <see langword="null"/> on the last page.</param>
public sealed record AccountHistoryPage(AccountHistoryStatus Status, IReadOnlyList<LedgerEntry> Entries, string? NextCursor);
