using Anpm.Abstractions;

namespace Anpm.Pools;

/// <summary>What moves a contribution from one status to another.</summary>
public enum ContributionTrigger
{
    /// <summary>A token notice with the contribution's id and its exact amount arrived.</summary>
    Pay = 1,

    /// <summary>The payment did not arrive in time, the owner withdrew it, or the pool was canceled before payment.</summary>
    Cancel = 2,

    /// <summary>The pool started distributing: the owner's prize may be claimed.</summary>
    MakePayoutAvailable = 3,

    /// <summary>The pool was canceled: the contribution may be refunded.</summary>
    MakeRefundAvailable = 4,

    /// <summary>Anyone claimed the payout or refund; the outgoing token transfer to the owner was submitted.</summary>
    Claim = 5,

    /// <summary>The outgoing transfer of a prize was confirmed.</summary>
    ConfirmReward = 6,

    /// <summary>The outgoing transfer of a refund was confirmed.</summary>
    ConfirmRefund = 7,
}

/// <summary>The contribution status machine, with the status numbers of the wire contract.</summary>
public static class ContributionStateMachine
{
    /// <summary>The machine.</summary>
    public static StateMachine<ContributionStatus, ContributionTrigger> Definition { get; } = new("Contribution", ContributionStatus.PendingPayment,
    [
        new(ContributionStatus.PendingPayment, ContributionTrigger.Pay, ContributionStatus.Paid, "a notice with the contribution's id and exact amount"),
        new(ContributionStatus.PendingPayment, ContributionTrigger.Cancel, ContributionStatus.Canceled, "payment timeout, the owner, or the pool canceled"),
        new(ContributionStatus.Paid, ContributionTrigger.MakePayoutAvailable, ContributionStatus.AvailablePayout, "the pool is distributing"),
        new(ContributionStatus.Paid, ContributionTrigger.MakeRefundAvailable, ContributionStatus.AvailableRefund, "the pool was canceled"),
        new(ContributionStatus.AvailablePayout, ContributionTrigger.Claim, ContributionStatus.PendingPayout, "anyone; the prize goes to the owner"),
        new(ContributionStatus.AvailableRefund, ContributionTrigger.Claim, ContributionStatus.PendingPayout, "anyone; the refund goes to the owner"),
        new(ContributionStatus.PendingPayout, ContributionTrigger.ConfirmReward, ContributionStatus.RewardPaidout, "the prize transfer was confirmed"),
        new(ContributionStatus.PendingPayout, ContributionTrigger.ConfirmRefund, ContributionStatus.RefundPaidout, "the refund transfer was confirmed"),
    ]);
}
