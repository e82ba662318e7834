using System.Numerics;
using Anpm.Abstractions;
using Anpm.Credits;

namespace Anpm.Testing;

/// <summary>Recomputes accounts' totals from their transfers, to prove nothing was half-applied.</summary>
public static class LedgerAudit
{
    /// <summary>
    /// For each account, reads its whole history and checks that its stored totals equal the sums of its transfers:
    /// posted = plain transfers + posts; pending = pending transfers still in state Pending.
    /// </summary>
    public static async Task AssertTotalsMatchTransfersAsync(Ledger ledger, IEnumerable<string> accountIds)
    {
        ArgumentNullException.ThrowIfNull(ledger);
        ArgumentNullException.ThrowIfNull(accountIds);
        foreach (var name in accountIds)
        {
            var id = AccountId.Parse(name);
            var account = await ledger.GetAccountAsync(id) ?? throw new InvalidOperationException($"Account {name} is missing.");
            var sums = new BigInteger[4];
            string? cursor = null;
            do
            {
                var page = await ledger.GetAccountHistoryAsync(id, cursor, 500);
                Assert.Equal(AccountHistoryStatus.Ok, page.Status);
                foreach (var transfer in page.Entries.Select(e => e.Transfer))
                {
                    var amount = (BigInteger)transfer.Amount.BaseUnits;
                    var phase = transfer.Flags & (TransferFlags.Pending | TransferFlags.PostPending | TransferFlags.VoidPending);
                    var column = phase switch
                    {
                        TransferFlags.None or TransferFlags.PostPending => 0,
                        TransferFlags.Pending when transfer.State == PendingTransferState.Pending => 2,
                        _ => -1,
                    };
                    if (column >= 0)
                    {
                        sums[column + (transfer.DebitAccountId == id ? 0 : 1)] += amount;
                    }
                }

                cursor = page.NextCursor;
            }
            while (cursor is not null);

            BigInteger[] stored = [account.DebitsPosted.BaseUnits, account.CreditsPosted.BaseUnits, account.DebitsPending.BaseUnits, account.CreditsPending.BaseUnits];
            Assert.True(sums.SequenceEqual(stored), $"Account {name}: totals {string.Join("/", stored)} but its transfers sum to {string.Join("/", sums)}.");
        }
    }
}
