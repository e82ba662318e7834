using System.Globalization;
using Anpm.Abstractions;

namespace Anpm.Credits;

/// <summary>The ledger accounts of credits and of the token revenue from selling them.</summary>
public static class CreditAccounts
{
    /// <summary>An account's own credits (bought, or withdrawn from pools); never negative.</summary>
    public static AccountId Of(Address account) => AccountId.Parse($"credits:{account}");

    /// <summary>An account's credits moved into a pool, spendable there; never negative.</summary>
    public static AccountId InPool(PoolId pool, Address account) => AccountId.Parse($"pool:{pool}:credits:{account}");

    /// <summary>The token revenue of one UTC day's credit sales, until the daily job sends it to the treasury.</summary>
    public static AccountId Revenue(AssetCode asset, DateOnly day) =>
        AccountId.Parse($"revenue:{asset}:{day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)}");
}
