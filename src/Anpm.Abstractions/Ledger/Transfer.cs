namespace Anpm.Abstractions;

/// <summary>What kind of ledger event a transfer is, and whether it is linked to the next one in its batch.</summary>
[Flags]
public enum TransferFlags
{
    /// <summary>A plain transfer, posted at once.</summary>
    None = 0,

    /// <summary>
    /// This transfer and the next one in the batch succeed or fail together. A chain is consecutive linked transfers
    /// ending with one that is not linked.
    /// </summary>
    Linked = 1,

    /// <summary>The first phase of a two-phase transfer: reserves the amount without moving it.</summary>
    Pending = 2,

    /// <summary>Posts (all or part of) the pending transfer named by <see cref="TransferRequest.PendingId"/>.</summary>
    PostPending = 4,

    /// <summary>Voids the pending transfer named by <see cref="TransferRequest.PendingId"/>, releasing its reservation.</summary>
    VoidPending = 8,
}

/// <summary>Where a pending (two-phase) transfer stands.</summary>
public enum PendingTransferState
{
    /// <summary>Not a pending transfer.</summary>
    None = 0,

    /// <summary>Reserved; waiting to be posted, voided or to expire.</summary>
    Pending = 1,

    /// <summary>Posted, fully or in part, by a later transfer.</summary>
    Posted = 2,

    /// <summary>Voided by a later transfer; the reservation was released.</summary>
    Voided = 3,

    /// <summary>Its timeout passed before it was posted or voided; the reservation was released.</summary>
    Expired = 4,
}

/// <summary>
/// A transfer to create. For plain and pending transfers, set the accounts, asset, amount and kind. For
/// <see cref="TransferFlags.PostPending"/> and <see cref="TransferFlags.VoidPending"/>, set <see cref="PendingId"/>;
/// the accounts and asset may be left default (they are taken from the pending transfer) or must match it.
/// </summary>
public sealed record TransferRequest
{
    /// <summary>The most characters <see cref="Reference"/> may have.</summary>
    public const int MaxReferenceLength = 256;

    /// <summary>The transfer id, chosen by the caller; replaying the same request with it returns <c>Exists</c>.</summary>
    public required TransferId Id { get; init; }

    /// <summary>The account debited (money leaves it).</summary>
    public AccountId DebitAccountId { get; init; }

    /// <summary>The account credited (money arrives in it).</summary>
    public AccountId CreditAccountId { get; init; }

    /// <summary>The asset moved; both accounts must hold it.</summary>
    public AssetCode Asset { get; init; }

    /// <summary>
    /// The amount in base units; never zero. For <see cref="TransferFlags.PostPending"/>, <see langword="null"/> posts the
    /// full pending amount and a smaller amount posts part of it (the rest is released); for
    /// <see cref="TransferFlags.VoidPending"/> it must be <see langword="null"/> or the pending amount.
    /// </summary>
    public TokenAmount? Amount { get; init; }

    /// <summary>What the transfer is for (purchase, transfer, hold, consume, refund, ...).</summary>
    public TransferKind Kind { get; init; }

    /// <summary>Free text linking the transfer to its cause (a notice id, a task id); at most 256 characters, no control characters.</summary>
    public string Reference { get; init; } = string.Empty;

    /// <summary>The kind of event and whether it is linked to the next one.</summary>
    public TransferFlags Flags { get; init; }

    /// <summary>For post and void: the id of the pending transfer.</summary>
    public TransferId PendingId { get; init; }

    /// <summary>For pending transfers: seconds until it expires if neither posted nor voided; 0 never expires.</summary>
    public uint TimeoutSeconds { get; init; }

    /// <summary>A request posting the pending transfer <paramref name="pendingId"/>, fully or in part.</summary>
    /// <param name="id">The id of the posting transfer.</param>
    /// <param name="pendingId">The pending transfer to post.</param>
    /// <param name="kind">What the posting is for.</param>
    /// <param name="amount">The part to post, or <see langword="null"/> for all of it.</param>
    public static TransferRequest PostPending(TransferId id, TransferId pendingId, TransferKind kind, TokenAmount? amount = null) =>
        new() { Id = id, PendingId = pendingId, Kind = kind, Amount = amount, Flags = TransferFlags.PostPending };

    /// <summary>A request voiding the pending transfer <paramref name="pendingId"/>.</summary>
    /// <param name="id">The id of the voiding transfer.</param>
    /// <param name="pendingId">The pending transfer to void.</param>
    /// <param name="kind">What the voiding is for.</param>
    public static TransferRequest VoidPending(TransferId id, TransferId pendingId, TransferKind kind) =>
        new() { Id = id, PendingId = pendingId, Kind = kind, Flags = TransferFlags.VoidPending };
}

/// <summary>A transfer as the ledger stored it. Immutable but for <see cref="State"/>, which a later post, void or expiry changes.</summary>
public sealed record Transfer
{
    /// <summary>The transfer id.</summary>
    public required TransferId Id { get; init; }

    /// <summary>The account debited.</summary>
    public required AccountId DebitAccountId { get; init; }

    /// <summary>The account credited.</summary>
    public required AccountId CreditAccountId { get; init; }

    /// <summary>The asset moved.</summary>
    public required AssetCode Asset { get; init; }

    /// <summary>The amount in base units: reserved (pending), moved (plain and post) or released (void).</summary>
    public required TokenAmount Amount { get; init; }

    /// <summary>What the transfer is for.</summary>
    public required TransferKind Kind { get; init; }

    /// <summary>Free text linking the transfer to its cause; empty when none.</summary>
    public required string Reference { get; init; }

    /// <summary>The kind of event; <see cref="TransferFlags.Linked"/> is not stored.</summary>
    public required TransferFlags Flags { get; init; }

    /// <summary>For post and void: the pending transfer; otherwise default.</summary>
    public TransferId PendingId { get; init; }

    /// <summary>For pending transfers: the timeout requested, in seconds; 0 never expires.</summary>
    public uint TimeoutSeconds { get; init; }

    /// <summary>When the ledger created the transfer.</summary>
    public required DateTimeOffset Timestamp { get; init; }

    /// <summary>For pending transfers with a timeout: when it expires.</summary>
    public DateTimeOffset? ExpiresAt { get; init; }

    /// <summary>For pending transfers: where it stands; <see cref="PendingTransferState.None"/> for others.</summary>
    public PendingTransferState State { get; init; }
}

/// <summary>One transfer in an account's history, with the store's sequence number that orders and pages it.</summary>
/// <param name="Sequence">Increases with each transfer stored; newer transfers have larger numbers.</param>
/// <param name="Transfer">The transfer.</param>
public readonly record struct LedgerEntry(long Sequence, Transfer Transfer);

/// <summary>The sums over every account of one asset, for the zero-sum invariant check.</summary>
/// <param name="Asset">The asset.</param>
/// <param name="AccountCount">How many accounts hold it.</param>
/// <param name="DebitsPosted">Sum of posted debits, in base units.</param>
/// <param name="CreditsPosted">Sum of posted credits, in base units.</param>
/// <param name="DebitsPending">Sum of pending debits, in base units.</param>
/// <param name="CreditsPending">Sum of pending credits, in base units.</param>
/// <param name="NegativeAccountCount">
/// Accounts with <see cref="AccountFlags.DebitsMustNotExceedCredits"/> whose debits (posted and pending) exceed their posted
/// credits; always 0 in a sound ledger.
/// </param>
public sealed record AssetTotals(
    AssetCode Asset,
    long AccountCount,
    System.Numerics.BigInteger DebitsPosted,
    System.Numerics.BigInteger CreditsPosted,
    System.Numerics.BigInteger DebitsPending,
    System.Numerics.BigInteger CreditsPending,
    long NegativeAccountCount);
