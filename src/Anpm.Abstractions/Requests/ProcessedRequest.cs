namespace Anpm.Abstractions;

/// <summary>
/// A signed request the host processed, kept so that the same (signer, nonce) with the same message replays the original
/// response, and with another message is a conflict.
/// </summary>
public sealed record ProcessedRequest
{
    /// <summary>The longest nonce accepted, in decimal digits (a uint256 has at most 78).</summary>
    public const int MaxNonceLength = 78;

    /// <summary>Who signed it.</summary>
    public required Address Signer { get; init; }

    /// <summary>The message's nonce, as decimal digits.</summary>
    public required string Nonce { get; init; }

    /// <summary>The EIP-712 digest of the message (<c>0x</c> + 64 hex digits): the same digest is the same message.</summary>
    public required string Digest { get; init; }

    /// <summary>The HTTP status of the original response.</summary>
    public required int Status { get; init; }

    /// <summary>The original response body (JSON text).</summary>
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

    /// <summary>Records a processed request unless its (signer, nonce) exists (an atomic insert).</summary>
    /// <returns><see langword="false"/> when that (signer, nonce) exists; nothing changed.</returns>
    ValueTask<bool> TryInsertRequestAsync(ProcessedRequest request, CancellationToken cancellationToken = default);
}
