using Anpm.Abstractions;

namespace Anpm.Pools;

/// <summary>The ledger accounts a pool owns.</summary>
public static class PoolAccounts
{
    /// <summary>The tokens a pool's campaign collected from paid contributions (never negative).</summary>
    public static AccountId Contributions(PoolId pool) => AccountId.Parse($"pool:{pool}:contributions");

    /// <summary>The tokens a funded campaign received back to distribute (Distribute notices), until set aside as prizes.</summary>
    public static AccountId Distribution(PoolId pool) => AccountId.Parse($"pool:{pool}:distribution");

    /// <summary>
    /// The pot a distributing pool splits into prizes: filled from its distribution account when it starts distributing,
    /// emptied into the contributions' prize accounts (and the dust into its rounding account) as they are settled.
    /// </summary>
    public static AccountId PrizePot(PoolId pool) => AccountId.Parse($"pool:{pool}:prize-pot");

    /// <summary>The prize calculator's dust (the pot minus the sum of the prizes), until the pool closes and it goes to the treasury.</summary>
    public static AccountId Rounding(PoolId pool) => AccountId.Parse($"pool:{pool}:rounding");

    /// <summary>A contribution's prize, set aside when its pool starts distributing, until it is claimed.</summary>
    public static AccountId Prize(ContributionId contribution) => AccountId.Parse($"contribution:{contribution}:prize");

    /// <summary>The tokens staked in a pool (never negative).</summary>
    public static AccountId Stakes(PoolId pool) => AccountId.Parse($"pool:{pool}:stakes");

    /// <summary>A pool's reward reserve, filled by the treasury's Fund-Rewards notices; each epoch draws its budget from it.</summary>
    public static AccountId RewardReserve(PoolId pool) => AccountId.Parse($"pool:{pool}:reward-reserve");

    /// <summary>The rewards a pool's epochs paid and its stakers have not claimed yet (their floor-rounding dust stays here).</summary>
    public static AccountId RewardPot(PoolId pool) => AccountId.Parse($"pool:{pool}:reward-pot");
}
