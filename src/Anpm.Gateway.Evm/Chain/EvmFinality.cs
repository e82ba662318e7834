namespace Anpm.Gateway.Evm;

/// <summary>
/// When a chain's block is final for Anpm: at the chain's <c>finalized</c> tag (<see cref="FinalizedTag"/>, for chains
/// with a finality gadget such as Ethereum's), or once <see cref="Depth"/> blocks stand on it counting its own
/// (<c>Depth(1)</c>: as soon as it is mined). Deposits below finality are shown as pending and post nothing.
/// </summary>
public readonly record struct EvmFinality
{
    private EvmFinality(int confirmations) => Confirmations = confirmations;

    /// <summary>Final at the chain's <c>finalized</c> block (<c>eth_getBlockByNumber("finalized")</c>).</summary>
    public static EvmFinality FinalizedTag => default;

    /// <summary>How many blocks must stand on a block, itself included; 0 for <see cref="FinalizedTag"/>.</summary>
    public int Confirmations { get; }

    /// <summary>Whether finality follows the chain's <c>finalized</c> tag.</summary>
    public bool UsesFinalizedTag => Confirmations == 0;

    /// <summary>Final once <paramref name="confirmations"/> blocks (1 to 10,000) stand on a block, itself included.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="confirmations"/> is outside 1 to 10,000.</exception>
    public static EvmFinality Depth(int confirmations)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(confirmations, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(confirmations, 10_000);
        return new EvmFinality(confirmations);
    }

    /// <summary>The highest final block number, or -1 when none is final yet.</summary>
    /// <param name="head">The newest block's number.</param>
    /// <param name="finalizedTag">The number of the chain's <c>finalized</c> block, when it reports one.</param>
    /// <exception cref="ArgumentOutOfRangeException">A number is negative, or the finalized block is above the head.</exception>
    public long LastFinalBlock(long head, long? finalizedTag)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(head);
        if (finalizedTag is { } tag)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(tag, nameof(finalizedTag));
            ArgumentOutOfRangeException.ThrowIfGreaterThan(tag, head, nameof(finalizedTag));
        }

        return UsesFinalizedTag ? finalizedTag ?? -1 : Math.Max(-1, head - Confirmations + 1);
    }

    /// <summary>
    /// Reads the chain's head (and, where finality follows it, its <c>finalized</c> block) and returns the head with the
    /// highest final block (-1 when none is final yet). A node that reports finality ahead of its own head is not
    /// believed past the head.
    /// </summary>
    /// <param name="chain">The chain.</param>
    /// <param name="cancellationToken">Cancels the reads.</param>
    public async Task<(long Head, long LastFinal)> ReadLastFinalAsync(IEvmChainClient chain, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(chain);
        var head = await chain.GetHeadAsync(cancellationToken).ConfigureAwait(false);
        var tag = UsesFinalizedTag && await chain.GetFinalizedAsync(cancellationToken).ConfigureAwait(false) is { } finalized ? Math.Min(head, finalized) : (long?)null;
        return (head, LastFinalBlock(head, tag));
    }

    /// <summary>How many blocks stand on <paramref name="block"/> (itself included) at <paramref name="head"/>; 0 above the head.</summary>
    public static long ConfirmationsOf(long block, long head) => block > head ? 0 : head - block + 1;

    /// <inheritdoc />
    public override string ToString() => UsesFinalizedTag ? "finalized tag" : $"depth {Confirmations}";
}
