namespace Anpm.Abstractions;

/// <summary>
/// A signed request's (signer, nonce), kept so that the same (signer, nonce) with the same message replays the original
/// response, and with another message is a conflict. It is claimed (<see cref="Status"/> <see cref="ClaimedStatus"/>) in
/// the unit of work that applies the command, and completed with the answer once the command returned.
/// </summary>
public sealed record ProcessedRequest
{
    /// <summary>The longest nonce accepted, in decimal digits (a uint256 has at most 78).</summary>
    public const int MaxNonceLength = 78;

    /// <summary>The <see cref="Status"/> of a claimed request whose answer is not recorded yet.</summary>
    public const int ClaimedStatus = 0;

    /// <summary>Who signed it.</summary>
    public required Address Signer { get; init; }

    /// <summary>The message's nonce, as decimal digits.</summary>
    public required string Nonce { get; init; }

    /// <summary>The EIP-712 digest of the message (<c>0x</c> + 64 hex digits): the same digest is the same message.</summary>
    public required string Digest { get; init; }

    /// <summary>The HTTP status of the original response, or <see cref="ClaimedStatus"/> while the command runs.</summary>
    public required int Status { get; init; }

    /// <summary>Whether the request is claimed and its answer not recorded yet.</summary>
    public bool IsClaimed => Status == ClaimedStatus;

    /// <summary>The original response body (JSON text; empty while claimed).</summary>
    public required string Response { get; init; }

    /// <summary>When it was processed.</summary>
    public required DateTimeOffset ProcessedAt { get; init; }
}

/// <summary>Storage of processed signed requests inside a unit of work.</summary>
public interface IRequestStore
{
    /// <summary>Reads the request a signer made with a nonce.</summary>
    /// <returns>It, or <see langword="null"/> when that (signer, nonce) was never processed.</returns>
    ValueTask<ProcessedRequest?> GetRequestAsync(Address signer, string nonce, CancellationToken cancellationToken = default);

    /// <summary>Records a processed (or claimed) request unless its (signer, nonce) exists (an atomic insert).</summary>
    /// <returns><see langword="false"/> when that (signer, nonce) exists; nothing changed.</returns>
    ValueTask<bool> TryInsertRequestAsync(ProcessedRequest request, CancellationToken cancellationToken = default);

    /// <summary>Records the answer of a claimed request, if it is still claimed for the message <paramref name="digest"/>.</summary>
    /// <returns><see langword="false"/> when there is no such claimed request (already completed, released, or another message); nothing changed.</returns>
    ValueTask<bool> CompleteRequestAsync(Address signer, string nonce, string digest, int status, string response, CancellationToken cancellationToken = default);

    /// <summary>Removes a claimed request for the message <paramref name="digest"/>: its command changed nothing, and the same message may come again.</summary>
    /// <returns><see langword="false"/> when there is no such claimed request; nothing changed.</returns>
    ValueTask<bool> ReleaseRequestAsync(Address signer, string nonce, string digest, CancellationToken cancellationToken = default);
}
