using System.Numerics;
using Anpm.Abstractions;

namespace Anpm.Storage;

/// <summary>Computes <see cref="AssetTotals"/> from accounts, for stores that cannot sum 128-bit amounts exactly in the database.</summary>
internal static class AssetTotalsBuilder
{
    /// <summary>Sums the accounts per asset, ordered by asset code (ordinal).</summary>
    public static IReadOnlyList<AssetTotals> Sum(IEnumerable<LedgerAccount> accounts)
    {
        ArgumentNullException.ThrowIfNull(accounts);
        var sums = new SortedDictionary<string, Sums>(StringComparer.Ordinal);
        foreach (var account in accounts)
        {
            var key = account.Asset.Value ?? string.Empty;
            if (!sums.TryGetValue(key, out var sum))
            {
                sums[key] = sum = new Sums(account.Asset);
            }

            sum.Add(account);
        }

        return sums.Values.Select(s => s.ToTotals()).ToList();
    }

    private sealed class Sums(AssetCode asset)
    {
        private long _count;
        private long _negative;
        private BigInteger _debitsPosted;
        private BigInteger _creditsPosted;
        private BigInteger _debitsPending;
        private BigInteger _creditsPending;

        public void Add(LedgerAccount account)
        {
            _count++;
            _debitsPosted += account.DebitsPosted.BaseUnits;
            _creditsPosted += account.CreditsPosted.BaseUnits;
            _debitsPending += account.DebitsPending.BaseUnits;
            _creditsPending += account.CreditsPending.BaseUnits;
            if ((account.Flags & AccountFlags.DebitsMustNotExceedCredits) != 0
                && (BigInteger)account.DebitsPosted.BaseUnits + account.DebitsPending.BaseUnits > account.CreditsPosted.BaseUnits)
            {
                _negative++;
            }
        }

        public AssetTotals ToTotals() => new(asset, _count, _debitsPosted, _creditsPosted, _debitsPending, _creditsPending, _negative);
    }
}
