using System.Globalization;
using System.Numerics;

namespace Anpm.Abstractions;

/// <summary>Where a hot wallet's reserved nonce stands.</summary>
public enum ChainNonceState
{
    /// <summary>Signed (and perhaps broadcast); none of its transactions is final yet.</summary>
    Open = 1,

    /// <summary>One of its payment transactions succeeded at finality; the outgoing transfer is paid.</summary>
    Confirmed = 2,

    /// <summary>One of its payment transactions was mined at finality and reverted; the outgoing transfer failed on chain.</summary>
    Failed = 3,

    /// <summary>
    /// The nonce was used at finality by another transaction (its cancellation, or one sent from the wallet elsewhere):
    /// the outgoing transfer was not paid by it and may take a new nonce.
    /// </summary>
    Released = 4,
}

/// <summary>What a signed transaction of a reserved nonce does.</summary>
public enum ChainTransactionKind
{
    /// <summary>Pays the outgoing transfer the nonce was reserved for.</summary>
    Payment = 1,

    /// <summary>Uses the nonce for nothing (a zero-value transfer to the wallet itself), so a stuck payment can never be mined.</summary>
    Cancellation = 2,
}

/// <summary>
/// A nonce of a hot wallet reserved for one outgoing transfer before anything is broadcast. Every transaction signed for
/// it (the first one, fee bumps, a cancellation) is a <see cref="ChainTransaction"/> at that nonce, so a transfer is paid
/// by at most one of them; a transfer takes a new nonce (its next <see cref="Round"/>) only once its nonce is
/// <see cref="ChainNonceState.Released"/>.
/// </summary>
public sealed record ChainNonce
{
    /// <summary>The chain's id.</summary>
    public required ulong ChainId { get; init; }

    /// <summary>The hot wallet that signs.</summary>
    public required Address Wallet { get; init; }

    /// <summary>The nonce (the wallet's transaction count when it is mined).</summary>
    public required long Nonce { get; init; }

    /// <summary>The outgoing transfer it pays.</summary>
    public required TransferId TransferId { get; init; }

    /// <summary>How many nonces the transfer had before this one (0 for its first).</summary>
    public required int Round { get; init; }

    /// <summary>Where it stands.</summary>
    public required ChainNonceState State { get; init; }

    /// <summary>The hash of the transaction that used the nonce at finality; empty while open.</summary>
    public string FinalHash { get; init; } = string.Empty;

    /// <summary>When it was reserved.</summary>
    public required DateTimeOffset ReservedAt { get; init; }

    /// <summary>The optimistic version: 0 when written, one more after each update.</summary>
    public long Version { get; init; }
}

/// <summary>
/// A transaction signed for a reserved nonce, stored before it is broadcast so a restart broadcasts the same bytes and
/// a confirmation may come through any of a nonce's transactions.
/// </summary>
public sealed record ChainTransaction
{
    /// <summary>The chain's id.</summary>
    public required ulong ChainId { get; init; }

    /// <summary>The hot wallet that signed it.</summary>
    public required Address Wallet { get; init; }

    /// <summary>Its nonce.</summary>
    public required long Nonce { get; init; }

    /// <summary>Its place among the nonce's transactions: 0 for the first, one more per replacement.</summary>
    public required int Attempt { get; init; }

    /// <summary>What it does.</summary>
    public required ChainTransactionKind Kind { get; init; }

    /// <summary>Its hash, 0x and 64 lower-case hex digits.</summary>
    public required string Hash { get; init; }

    /// <summary>The signed transaction, 0x and lower-case hex, exactly as broadcast.</summary>
    public required string RawTransaction { get; init; }

    /// <summary>Its EIP-1559 fee cap in wei.</summary>
    public required BigInteger MaxFeePerGas { get; init; }

    /// <summary>Its EIP-1559 priority fee (tip) in wei.</summary>
    public required BigInteger MaxPriorityFeePerGas { get; init; }

    /// <summary>When it was signed.</summary>
    public required DateTimeOffset SignedAt { get; init; }

    /// <inheritdoc />
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Kind} {Hash} (nonce {Nonce}, attempt {Attempt}) of {Wallet} on chain {ChainId}");
}
