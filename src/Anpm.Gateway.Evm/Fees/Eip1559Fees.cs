using System.Numerics;

namespace Anpm.Gateway.Evm;

/// <summary>
/// The two fee fields of an EIP-1559 transaction, in wei per gas: the most it pays per gas (<see cref="MaxFeePerGas"/>,
/// base fee included) and the tip to the block's proposer (<see cref="MaxPriorityFeePerGas"/>, never above the former).
/// </summary>
public readonly record struct Eip1559Fees
{
    /// <summary>Fees with the tip at most the maximum.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A fee is negative, or the tip is above the maximum.</exception>
    public Eip1559Fees(BigInteger maxFeePerGas, BigInteger maxPriorityFeePerGas)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxPriorityFeePerGas);
        if (maxFeePerGas < maxPriorityFeePerGas)
        {
            throw new ArgumentOutOfRangeException(nameof(maxFeePerGas), maxFeePerGas, $"The max fee per gas is below the tip ({maxPriorityFeePerGas}).");
        }

        MaxFeePerGas = maxFeePerGas;
        MaxPriorityFeePerGas = maxPriorityFeePerGas;
    }

    /// <summary>The most the transaction pays per gas, base fee and tip together.</summary>
    public BigInteger MaxFeePerGas { get; }

    /// <summary>The tip per gas to the block's proposer.</summary>
    public BigInteger MaxPriorityFeePerGas { get; }

    /// <summary>
    /// Fees for the next block: the tip is the market's or the floor, whichever is higher; the maximum is twice the next
    /// base fee plus the tip (room for six full blocks of base-fee rises), but never above <paramref name="cap"/>.
    /// </summary>
    /// <param name="nextBaseFee">The next block's base fee per gas.</param>
    /// <param name="marketTip">The tip the chain suggests (<c>eth_maxPriorityFeePerGas</c> or a fee-history percentile).</param>
    /// <param name="tipFloor">The least tip to pay.</param>
    /// <param name="cap">The operator's absolute cap on the max fee per gas.</param>
    /// <returns>The fees, or <see langword="null"/> when the cap is below the next base fee plus the tip: no transaction
    /// within the cap could be included now, so none is signed.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A value is negative.</exception>
    public static Eip1559Fees? ForNextBlock(BigInteger nextBaseFee, BigInteger marketTip, BigInteger tipFloor, BigInteger cap)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(nextBaseFee);
        ArgumentOutOfRangeException.ThrowIfNegative(marketTip);
        ArgumentOutOfRangeException.ThrowIfNegative(tipFloor);
        ArgumentOutOfRangeException.ThrowIfNegative(cap);
        var tip = BigInteger.Max(marketTip, tipFloor);
        if (nextBaseFee + tip > cap)
        {
            return null;
        }

        return new Eip1559Fees(BigInteger.Min((2 * nextBaseFee) + tip, cap), tip);
    }

    /// <summary>
    /// The fees of a replacement at the same nonce: each field at least the market's, at least 12.5 % above this one's
    /// (rounded up) and at least 1 wei above it — more than the 10 % on both fields that geth and most node pools demand
    /// before they accept a replacement.
    /// </summary>
    /// <param name="market">What a new transaction would pay now (see <see cref="ForNextBlock"/>).</param>
    /// <param name="cap">The operator's absolute cap on the max fee per gas.</param>
    /// <returns>The bumped fees, or <see langword="null"/> when they would exceed <paramref name="cap"/>.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The cap is negative.</exception>
    public Eip1559Fees? BumpedFor(Eip1559Fees market, BigInteger cap)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(cap);
        var tip = BigInteger.Max(market.MaxPriorityFeePerGas, Bump(MaxPriorityFeePerGas));
        var max = BigInteger.Max(BigInteger.Max(market.MaxFeePerGas, Bump(MaxFeePerGas)), tip);
        return max > cap ? null : new Eip1559Fees(max, tip);
    }

    // x + ceil(x / 8), and at least x + 1.
    private static BigInteger Bump(BigInteger fee) => fee + BigInteger.Max(BigInteger.One, (fee + 7) / 8);
}
