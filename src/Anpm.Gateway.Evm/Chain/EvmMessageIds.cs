using System.Globalization;
using Anpm.Abstractions;

namespace Anpm.Gateway.Evm;

/// <summary>
/// The idempotency keys of deposits: the <see cref="TokenNotice.MessageId"/> of the notice a deposit becomes. Both stay
/// the same when a reorg re-includes the deposit's transaction in another block (another block hash and block-level log
/// index), so a deposit is credited once whichever block finally holds it.
/// </summary>
public static class EvmMessageIds
{
    private static readonly System.Buffers.SearchValues<char> HexDigits = System.Buffers.SearchValues.Create("0123456789abcdefABCDEF");

    /// <summary>
    /// <c>evm:{chainId}:{token}:{transactionHash}:{ordinal}</c> for a plain ERC-20 <c>Transfer</c> to custody: the
    /// ordinal is the log's position among its transaction receipt's logs (from 0), not the block-level <c>logIndex</c>.
    /// </summary>
    /// <exception cref="ArgumentException">The token is not a 0x address, the hash not a 0x 32-byte hash, or the ordinal negative.</exception>
    public static string ForTransfer(ulong chainId, string token, string transactionHash, int ordinalInReceipt)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(ordinalInReceipt);
        return string.Create(CultureInfo.InvariantCulture, $"evm:{chainId}:{Hex(token, 20, nameof(token))}:{Hex(transactionHash, 32, nameof(transactionHash))}:{ordinalInReceipt}");
    }

    /// <summary>
    /// <c>evm:{chainId}:{router}:ref:{reference}</c> for a deposit through Anpm's deposit router, keyed on the reference
    /// the router accepts only once.
    /// </summary>
    /// <exception cref="ArgumentException">The router is not a 0x address or the reference not 32 bytes.</exception>
    public static string ForRouterDeposit(ulong chainId, string router, ReadOnlySpan<byte> reference)
    {
        if (reference.Length != 32)
        {
            throw new ArgumentException($"A router reference is 32 bytes, not {reference.Length}.", nameof(reference));
        }

        return string.Create(CultureInfo.InvariantCulture, $"evm:{chainId}:{Hex(router, 20, nameof(router))}:ref:0x{Convert.ToHexStringLower(reference)}");
    }

    /// <summary>The position of a log among its receipt's logs: its block-level index minus that of the receipt's first log.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The log's index is below the first log's, or either is negative.</exception>
    public static int OrdinalInReceipt(long logIndex, long firstLogIndexOfReceipt)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(firstLogIndexOfReceipt);
        ArgumentOutOfRangeException.ThrowIfLessThan(logIndex, firstLogIndexOfReceipt);
        return checked((int)(logIndex - firstLogIndexOfReceipt));
    }

    // 0x + 2×bytes hex digits, lower-cased (addresses arrive checksummed or not; the key must not depend on that).
    private static string Hex(string value, int bytes, string name)
    {
        ArgumentNullException.ThrowIfNull(value, name);
        if (value.Length != 2 + (2 * bytes) || !value.StartsWith("0x", StringComparison.OrdinalIgnoreCase) || value.AsSpan(2).ContainsAnyExcept(HexDigits))
        {
            throw new ArgumentException($"Expected 0x and {2 * bytes} hex digits, not '{value}'.", name);
        }

        return "0x" + value[2..].ToLowerInvariant();
    }
}
