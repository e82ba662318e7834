using Anpm.Abstractions;

namespace Anpm.Pools;

/// <summary>What moves a pool from one status to another.</summary>
public enum PoolTrigger
{
    /// <summary>An admin or the pool owner pauses the pool.</summary>
    Pause = 1,

    /// <summary>An admin or the pool owner resumes a paused pool.</summary>
    Resume = 2,

    /// <summary>The contribution window ended, the limit was reached, or an admin closed contributing.</summary>
    StartFunding = 3,

    /// <summary>An admin set the amount to distribute, backed by tokens received back.</summary>
    StartDistributing = 4,

    /// <summary>An admin canceled the pool; every paid contribution becomes refundable.</summary>
    Cancel = 5,

    /// <summary>Every payout or refund is done, or an admin closed it after the claim window.</summary>
    Close = 6,
}

/// <summary>The pool status machine, with the status numbers of the wire contract.</summary>
public static class PoolStateMachine
{
    /// <summary>The machine.</summary>
    public static StateMachine<PoolStatus, PoolTrigger> Definition { get; } = new("Pool", PoolStatus.Active,
    [
        new(PoolStatus.Active, PoolTrigger.Pause, PoolStatus.Paused, "admin or pool owner"),
        new(PoolStatus.Paused, PoolTrigger.Resume, PoolStatus.Active, "admin or pool owner"),
        new(PoolStatus.Active, PoolTrigger.StartFunding, PoolStatus.Funding, "window ended, limit reached, or admin; collected funds go to the destination"),
        new(PoolStatus.Funding, PoolTrigger.StartDistributing, PoolStatus.Distributing, "admin sets the amount to distribute, backed by tokens received back"),
        new(PoolStatus.Active, PoolTrigger.Cancel, PoolStatus.Canceled, "admin; every paid contribution becomes refundable"),
        new(PoolStatus.Funding, PoolTrigger.Cancel, PoolStatus.Canceled, "admin; every paid contribution becomes refundable"),
        new(PoolStatus.Paused, PoolTrigger.Cancel, PoolStatus.Canceled, "admin; every paid contribution becomes refundable"),
        new(PoolStatus.Distributing, PoolTrigger.Close, PoolStatus.Closed, "all payouts done, or admin after the claim window; dust to the treasury"),
        new(PoolStatus.Canceled, PoolTrigger.Close, PoolStatus.Closed, "all refunds done, or admin after the claim window; dust to the treasury"),
    ]);
}
