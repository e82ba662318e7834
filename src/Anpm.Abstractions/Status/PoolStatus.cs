namespace Anpm.Abstractions;

/// <summary>The status of a pool. The numbers appear on the wire (statusNumber) and never change.</summary>
public enum PoolStatus
{
    /// <summary>Open: accepts contributions, stakes, credits and tasks.</summary>
    Active = 1,

    /// <summary>Results came back and are being paid out by the prize calculator.</summary>
    Distributing = 2,

    /// <summary>Campaign closed; collected funds were sent to the destination.</summary>
    Funding = 3,

    /// <summary>Temporarily stopped by an admin or the owner; resumes to the status it came from.</summary>
    Paused = 4,

    /// <summary>Stopped for good; every paid contribution is refundable.</summary>
    Canceled = 5,

    /// <summary>All payouts or refunds are done; leftover dust went to the treasury.</summary>
    Closed = 7,
}

/// <summary>The status of a contribution to a pool. The numbers appear on the wire (statusNumber) and never change.</summary>
public enum ContributionStatus
{
    /// <summary>Created; waiting for the token payment with its id and exact amount.</summary>
    PendingPayment = 1,

    /// <summary>The payment arrived.</summary>
    Paid = 2,

    /// <summary>Canceled before payment (timeout or owner).</summary>
    Canceled = 3,

    /// <summary>The pool is distributing; the owner's prize may be claimed.</summary>
    AvailablePayout = 4,

    /// <summary>The prize transfer was sent and awaits confirmation.</summary>
    PendingPayout = 5,

    /// <summary>The prize was paid.</summary>
    RewardPaidout = 6,

    /// <summary>The pool was canceled; the contribution may be refunded.</summary>
    AvailableRefund = 7,

    /// <summary>The refund was paid.</summary>
    RefundPaidout = 8,
}

/// <summary>The status of an inference task.</summary>
public enum InferenceTaskStatus
{
    /// <summary>Waiting for an oracle to claim it.</summary>
    Pending = 1,

    /// <summary>Leased to one or more oracles.</summary>
    Processing = 2,

    /// <summary>A result was accepted and the credits were charged.</summary>
    Done = 3,

    /// <summary>Failed after its attempts ran out; the credit hold was voided.</summary>
    Failed = 4,
}
