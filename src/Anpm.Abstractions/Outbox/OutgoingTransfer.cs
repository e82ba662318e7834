namespace Anpm.Abstractions;

/// <summary>Where an outgoing token transfer stands.</summary>
public enum OutgoingTransferState
{
    /// <summary>Written with the postings that owe it; not yet handed to the gateway.</summary>
    Pending = 1,

    /// <summary>Handed to the gateway under its id; waiting for confirmation (dispatched again if none arrives).</summary>
    Dispatched = 2,

    /// <summary>The gateway confirmed it; final.</summary>
    Confirmed = 3,

    /// <summary>
    /// The chain refused it (e.g. the token reverted the payment): its tokens stay in the in-flight account, it is never
    /// sent again by itself, and an operator retries it (back to <see cref="Pending"/>) or returns its tokens
    /// (<see cref="Returned"/>).
    /// </summary>
    FailedOnChain = 4,

    /// <summary>An operator returned a failed transfer's tokens to the account they came from; final.</summary>
    Returned = 5,
}

/// <summary>
/// A token transfer from the system to an address (a payout, refund, unstake, treasury sweep), written to the outbox in the
/// same unit of work as the ledger postings that owe it, and dispatched to the token gateway under its id, so a retry is
/// never paid twice.
/// </summary>
public sealed record OutgoingTransfer
{
    /// <summary>The transfer's id; the gateway's idempotency key.</summary>
    public required TransferId Id { get; init; }

    /// <summary>Who is paid.</summary>
    public required Address To { get; init; }

    /// <summary>The asset paid (the token).</summary>
    public required AssetCode Asset { get; init; }

    /// <summary>The amount in base units; never zero.</summary>
    public required TokenAmount Amount { get; init; }

    /// <summary>What it pays (payout, refund, unstake, treasury, …).</summary>
    public required TransferKind Kind { get; init; }

    /// <summary>What it is for (a contribution id, a pool id); at most 256 characters.</summary>
    public required string Reference { get; init; }

    /// <summary>Where it stands.</summary>
    public required OutgoingTransferState State { get; init; }

    /// <summary>How many times it was handed to the gateway.</summary>
    public int Attempts { get; init; }

    /// <summary>When it was written.</summary>
    public required DateTimeOffset CreatedAt { get; init; }

    /// <summary>When the dispatcher should next hand it to the gateway (if not confirmed by then).</summary>
    public required DateTimeOffset NextAttemptAt { get; init; }

    /// <summary>The gateway's reference once known (e.g. a transaction id); empty until then.</summary>
    public string ExternalReference { get; init; } = string.Empty;

    /// <summary>The optimistic version: 0 when written, one more after each update.</summary>
    public long Version { get; init; }
}

/// <summary>Storage of outgoing token transfers inside a unit of work.</summary>
public interface IOutboxStore
{
    /// <summary>Writes an outgoing transfer unless one with its id exists (an atomic insert).</summary>
    /// <returns><see langword="false"/> when one with that id exists; nothing changed.</returns>
    ValueTask<bool> TryInsertOutgoingAsync(OutgoingTransfer transfer, CancellationToken cancellationToken = default);

    /// <summary>Reads an outgoing transfer.</summary>
    /// <returns>The transfer, or <see langword="null"/> when there is none with that id.</returns>
    ValueTask<OutgoingTransfer?> GetOutgoingAsync(TransferId id, CancellationToken cancellationToken = default);

    /// <summary>Transfers in a state (e.g. the failed ones an operator must look at), by id, after <paramref name="after"/>.</summary>
    /// <param name="state">The state.</param>
    /// <param name="after">Only ids ordinally after this one; <see langword="null"/> from the first.</param>
    /// <param name="limit">The most transfers to return.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    ValueTask<IReadOnlyList<OutgoingTransfer>> GetOutgoingInStateAsync(OutgoingTransferState state, TransferId? after, int limit, CancellationToken cancellationToken = default);

    /// <summary>Pending or dispatched transfers whose next attempt is at or before <paramref name="now"/>, earliest first.</summary>
    /// <param name="now">The current time.</param>
    /// <param name="limit">The most transfers to return.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    ValueTask<IReadOnlyList<OutgoingTransfer>> GetDueOutgoingAsync(DateTimeOffset now, int limit, CancellationToken cancellationToken = default);

    /// <summary>Replaces the state, attempts, next attempt and external reference if the version is still <paramref name="expectedVersion"/>.</summary>
    /// <param name="updated">The transfer with its new state fields; its id names the row.</param>
    /// <param name="expectedVersion">The version the caller read.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <exception cref="AnpmConcurrencyException">It changed meanwhile; retrying the command is safe.</exception>
    /// <exception cref="AnpmException">It does not exist.</exception>
    ValueTask UpdateOutgoingAsync(OutgoingTransfer updated, long expectedVersion, CancellationToken cancellationToken = default);
}
