using Anpm.Abstractions;

namespace Anpm.Pools;

/// <summary>The ledger accounts a pool owns.</summary>
public static class PoolAccounts
{
    /// <summary>The tokens a pool's campaign collected from paid contributions (never negative).</summary>
    public static AccountId Contributions(PoolId pool) => AccountId.Parse($"pool:{pool}:contributions");
}
