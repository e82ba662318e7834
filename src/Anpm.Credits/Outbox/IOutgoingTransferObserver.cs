using Anpm.Abstractions;

namespace Anpm.Credits;

/// <summary>
/// Told by the <see cref="Outbox"/> when an outgoing transfer is confirmed, inside the unit of work that records the
/// confirmation: what the observer writes commits with it, and an exception rolls the confirmation back.
/// </summary>
public interface IOutgoingTransferObserver
{
    /// <summary>The transfer was confirmed (called once per transfer; replays are not reported).</summary>
    /// <param name="unitOfWork">The confirmation's unit of work.</param>
    /// <param name="transfer">The transfer as it was before the confirmation.</param>
    /// <param name="outbox">The confirming outbox, to enqueue follow-up transfers in the same unit of work.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    ValueTask OnConfirmedAsync(IAnpmUnitOfWork unitOfWork, OutgoingTransfer transfer, Outbox outbox, CancellationToken cancellationToken);
}
