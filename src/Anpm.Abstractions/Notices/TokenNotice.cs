namespace Anpm.Abstractions;

/// <summary>
/// A token notice (the gateway's credit notice) as recorded when processed: the gateway's message id is the idempotency key,
/// so a notice delivered twice is applied once, and a different notice under a used id is a conflict.
/// </summary>
public sealed record TokenNotice
{
    /// <summary>The most characters a message id, action or reference may have.</summary>
    public const int MaxTextLength = 256;

    /// <summary>Whether <paramref name="messageId"/> can be a notice's message id: 1 to <see cref="MaxTextLength"/> characters, none a control character.</summary>
    public static bool IsValidMessageId(string? messageId) =>
        !string.IsNullOrEmpty(messageId) && messageId.Length <= MaxTextLength && !messageId.Any(char.IsControl);

    /// <summary>The gateway's message id: 1 to 256 characters without control characters.</summary>
    public required string MessageId { get; init; }

    /// <summary>Who sent the tokens.</summary>
    public required Address Sender { get; init; }

    /// <summary>How many token base units arrived.</summary>
    public required TokenAmount Quantity { get; init; }

    /// <summary>What the sender asked for: Buy-Credits, Stake, Contribute, Fund-Rewards, Distribute, or anything else.</summary>
    public required string Action { get; init; }

    /// <summary>The pool named by the notice; empty when none.</summary>
    public required string PoolId { get; init; }

    /// <summary>The sender's reference (a contribution id when paying one); empty when none.</summary>
    public required string Reference { get; init; }

    /// <summary>When it was processed.</summary>
    public required DateTimeOffset ReceivedAt { get; init; }

    /// <summary>What processing did, in a short code (e.g. <c>contribution-paid</c>, <c>refunded:unknown-action</c>).</summary>
    public required string Outcome { get; init; }

    /// <summary>Whether two notices carry the same payload (the fields the gateway sent), ignoring when and how they were processed.</summary>
    public bool HasSamePayload(TokenNotice other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return MessageId == other.MessageId && Sender == other.Sender && Quantity == other.Quantity
            && Action == other.Action && PoolId == other.PoolId && Reference == other.Reference;
    }
}

/// <summary>Storage of processed token notices inside a unit of work.</summary>
public interface INoticeStore
{
    /// <summary>Records a notice unless one with its message id exists (an atomic insert).</summary>
    /// <returns><see langword="false"/> when one with that message id exists; nothing changed.</returns>
    ValueTask<bool> TryInsertNoticeAsync(TokenNotice notice, CancellationToken cancellationToken = default);

    /// <summary>Reads a recorded notice.</summary>
    /// <returns>The notice, or <see langword="null"/> when none has that message id.</returns>
    ValueTask<TokenNotice?> GetNoticeAsync(string messageId, CancellationToken cancellationToken = default);
}
