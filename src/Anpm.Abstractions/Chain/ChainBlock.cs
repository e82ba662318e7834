using System.Globalization;

namespace Anpm.Abstractions;

/// <summary>
/// A block of an outside chain that a gateway has processed: its number, its hash and its parent's (0x + 64 lower-case
/// hex digits) and its time. Gateways compare the recorded hashes with the chain's to find reorgs; the newest recorded
/// block of a chain is its gateway's cursor.
/// </summary>
public sealed record ChainBlock
{
    private static readonly System.Buffers.SearchValues<char> HexDigits = System.Buffers.SearchValues.Create("0123456789abcdefABCDEF");

    /// <summary>The largest chain id a block may carry (EIP-2294 bounds chain ids to fit a signed 64-bit integer).</summary>
    public const ulong MaxChainId = long.MaxValue;

    /// <summary>A processed block.</summary>
    /// <exception cref="ArgumentException">The chain id is 0 or above <see cref="MaxChainId"/>, the number negative, or a hash not 0x and 64 hex digits.</exception>
    public ChainBlock(ulong chainId, long number, string hash, string parentHash, DateTimeOffset timestamp)
    {
        if (chainId is 0 or > MaxChainId)
        {
            throw new ArgumentOutOfRangeException(nameof(chainId), chainId, $"A chain id is 1 to {MaxChainId}.");
        }

        ArgumentOutOfRangeException.ThrowIfNegative(number);
        ChainId = chainId;
        Number = number;
        Hash = BlockHash(hash, nameof(hash));
        ParentHash = BlockHash(parentHash, nameof(parentHash));
        Timestamp = timestamp;
    }

    /// <summary>The chain's id (<c>eth_chainId</c>).</summary>
    public ulong ChainId { get; }

    /// <summary>The block's number (height).</summary>
    public long Number { get; }

    /// <summary>The block's hash, 0x and 64 lower-case hex digits.</summary>
    public string Hash { get; }

    /// <summary>The parent block's hash, 0x and 64 lower-case hex digits.</summary>
    public string ParentHash { get; }

    /// <summary>The block's time, as the chain stamped it.</summary>
    public DateTimeOffset Timestamp { get; }

    /// <inheritdoc />
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"block {Number} {Hash} of chain {ChainId}");

    private static string BlockHash(string value, string name)
    {
        ArgumentNullException.ThrowIfNull(value, name);
        if (value.Length != 66 || !value.StartsWith("0x", StringComparison.OrdinalIgnoreCase) || value.AsSpan(2).ContainsAnyExcept(HexDigits))
        {
            throw new ArgumentException($"A block hash is 0x and 64 hex digits, not '{value}'.", name);
        }

        return "0x" + value[2..].ToLowerInvariant();
    }
}

/// <summary>
/// The outside chains' processed blocks inside a unit of work: recorded with the credits they led to, in the same
/// commit, so a gateway's cursor never runs ahead of, or behind, what it credited.
/// </summary>
public interface IChainStore
{
    /// <summary>Records a processed block unless the chain has one at that number (an atomic insert).</summary>
    /// <returns><see langword="false"/> when a block of that chain and number is recorded; nothing changed.</returns>
    ValueTask<bool> TryInsertBlockAsync(ChainBlock block, CancellationToken cancellationToken = default);

    /// <summary>The recorded block of a chain at a number, or <see langword="null"/>.</summary>
    ValueTask<ChainBlock?> GetBlockAsync(ulong chainId, long number, CancellationToken cancellationToken = default);

    /// <summary>The chain's recorded block with the highest number (the gateway's cursor), or <see langword="null"/> before the first.</summary>
    ValueTask<ChainBlock?> GetLatestBlockAsync(ulong chainId, CancellationToken cancellationToken = default);

    /// <summary>
    /// Forgets the chain's recorded blocks above <paramref name="number"/>: an operator re-anchoring a gateway on the
    /// canonical chain after a reorg halted it (what those blocks credited stays in the ledger).
    /// </summary>
    /// <returns>How many blocks were forgotten.</returns>
    ValueTask<int> DeleteBlocksAboveAsync(ulong chainId, long number, CancellationToken cancellationToken = default);

    /// <summary>Forgets at most <paramref name="limit"/> (1 to 10,000) of the chain's recorded blocks below <paramref name="number"/>, lowest first.</summary>
    /// <returns>How many blocks were forgotten.</returns>
    ValueTask<int> PruneBlocksBelowAsync(ulong chainId, long number, int limit, CancellationToken cancellationToken = default);

    /// <summary>
    /// Reserves a nonce of a hot wallet for an outgoing transfer (an atomic insert): refused when the wallet's nonce is
    /// reserved, or the transfer has a nonce of that round, so two senders never sign one nonce for two transfers, nor
    /// two nonces for one transfer.
    /// </summary>
    /// <returns><see langword="false"/> when either is taken; nothing changed.</returns>
    ValueTask<bool> TryReserveNonceAsync(ChainNonce nonce, CancellationToken cancellationToken = default);

    /// <summary>A wallet's reserved nonce, or <see langword="null"/>.</summary>
    ValueTask<ChainNonce?> GetNonceAsync(ulong chainId, Address wallet, long nonce, CancellationToken cancellationToken = default);

    /// <summary>The nonce of the transfer's latest round on the chain, or <see langword="null"/> when it has none.</summary>
    ValueTask<ChainNonce?> GetLatestNonceOfTransferAsync(ulong chainId, TransferId transferId, CancellationToken cancellationToken = default);

    /// <summary>The highest nonce reserved for the wallet, or <see langword="null"/> before the first.</summary>
    ValueTask<long?> GetHighestNonceAsync(ulong chainId, Address wallet, CancellationToken cancellationToken = default);

    /// <summary>The wallet's open nonces, lowest first, at most <paramref name="limit"/> (1 to 10,000).</summary>
    ValueTask<IReadOnlyList<ChainNonce>> GetOpenNoncesAsync(ulong chainId, Address wallet, int limit, CancellationToken cancellationToken = default);

    /// <summary>Replaces a nonce's state and final hash if its version is still <paramref name="expectedVersion"/>.</summary>
    /// <exception cref="AnpmConcurrencyException">It changed meanwhile.</exception>
    /// <exception cref="AnpmException">It does not exist.</exception>
    ValueTask UpdateNonceAsync(ChainNonce updated, long expectedVersion, CancellationToken cancellationToken = default);

    /// <summary>Stores a signed transaction of a reserved nonce (an atomic insert), before it is broadcast.</summary>
    /// <returns><see langword="false"/> when the nonce has a transaction at that attempt, or one with that hash; nothing changed.</returns>
    ValueTask<bool> TryAddTransactionAsync(ChainTransaction transaction, CancellationToken cancellationToken = default);

    /// <summary>
    /// The amounts of the outgoing transfers the wallet reserved nonces for at or after <paramref name="since"/>, each
    /// transfer once (its first nonce in that time) — what the wallet has committed to pay in that time.
    /// </summary>
    ValueTask<IReadOnlyList<TokenAmount>> GetAmountsReservedSinceAsync(ulong chainId, Address wallet, DateTimeOffset since, CancellationToken cancellationToken = default);

    /// <summary>Every transaction signed for a wallet's nonce, by attempt.</summary>
    ValueTask<IReadOnlyList<ChainTransaction>> GetTransactionsAsync(ulong chainId, Address wallet, long nonce, CancellationToken cancellationToken = default);
}
