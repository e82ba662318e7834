using System.Numerics;

namespace Anpm.Gateway.Evm;

/// <summary>A block's header as the chain reports it: number, hash, parent hash (0x, lower case) and time.</summary>
public sealed record EvmBlockHeader(long Number, string Hash, string ParentHash, DateTimeOffset Timestamp);

/// <summary>An event log as the chain reports it; <see cref="LogIndex"/> is its index in the block.</summary>
public sealed record EvmLog(string Address, IReadOnlyList<string> Topics, string Data, long BlockNumber, string BlockHash, string TransactionHash, long LogIndex, bool Removed);

/// <summary>A transaction's receipt: where it was mined, whether it succeeded, and its logs in order.</summary>
public sealed record EvmReceipt(string TransactionHash, long BlockNumber, string BlockHash, bool Succeeded, IReadOnlyList<EvmLog> Logs);

/// <summary>The fee market for the next block: its base fee per gas (0 on a chain without EIP-1559) and the suggested tip.</summary>
public sealed record EvmFeeMarket(BigInteger NextBaseFee, BigInteger SuggestedTip);

/// <summary>A JSON-RPC error answer of a chain node (or HTTP 429 as code 429): its code, message and Retry-After.</summary>
public sealed class EvmRpcException(int code, string message, Exception? innerException = null, TimeSpan? retryAfter = null)
    : Exception($"JSON-RPC error {code}: {message}", innerException)
{
    /// <summary>The JSON-RPC error code, or 429 for an HTTP "Too Many Requests".</summary>
    public int Code { get; } = code;

    /// <summary>The node's message.</summary>
    public string RpcMessage { get; } = message;

    /// <summary>How long the provider asked to wait before the next request, when it said.</summary>
    public TimeSpan? RetryAfter { get; } = retryAfter;
}

/// <summary>
/// What the gateway reads from an EVM chain over JSON-RPC. <see cref="NethereumChainClient"/> is the implementation;
/// tests put fault injection in front of it. A node's error answer is an <see cref="EvmRpcException"/>.
/// </summary>
public interface IEvmChainClient
{
    /// <summary><c>eth_chainId</c>.</summary>
    Task<ulong> GetChainIdAsync(CancellationToken cancellationToken);

    /// <summary>The newest block's number (<c>eth_blockNumber</c>).</summary>
    Task<long> GetHeadAsync(CancellationToken cancellationToken);

    /// <summary>The number of the chain's <c>finalized</c> block, or <see langword="null"/> when the chain reports none.</summary>
    Task<long?> GetFinalizedAsync(CancellationToken cancellationToken);

    /// <summary>The canonical block at a number, or <see langword="null"/> above the head.</summary>
    Task<EvmBlockHeader?> GetBlockAsync(long number, CancellationToken cancellationToken);

    /// <summary>
    /// <c>eth_getLogs</c> over blocks <paramref name="from"/> to <paramref name="to"/> of one contract, by the first topic and
    /// optionally the third (e.g. an ERC-20 <c>Transfer</c>'s recipient).
    /// </summary>
    Task<IReadOnlyList<EvmLog>> GetLogsAsync(long from, long to, string address, string topic0, string? topic2, CancellationToken cancellationToken);

    /// <summary>A transaction's receipt, or <see langword="null"/> when the node has none (not mined, or reorganised away).</summary>
    Task<EvmReceipt?> GetReceiptAsync(string transactionHash, CancellationToken cancellationToken);

    /// <summary>Whether an address holds contract code (<c>eth_getCode</c> at the head).</summary>
    Task<bool> HasCodeAsync(string address, CancellationToken cancellationToken);

    /// <summary>An ERC-20 balance (<c>balanceOf</c> by <c>eth_call</c>) at a block, or at the head when <paramref name="block"/> is <see langword="null"/>.</summary>
    Task<BigInteger> GetTokenBalanceAsync(string token, string owner, long? block, CancellationToken cancellationToken);

    /// <summary>An address's transaction count (its next nonce) at a block, or at the head when <paramref name="block"/> is <see langword="null"/>.</summary>
    Task<long> GetTransactionCountAsync(string address, long? block, CancellationToken cancellationToken);

    /// <summary>An address's ether balance in wei at the head.</summary>
    Task<BigInteger> GetBalanceAsync(string address, CancellationToken cancellationToken);

    /// <summary>The next block's base fee (<c>eth_feeHistory</c>) and the node's suggested tip (<c>eth_maxPriorityFeePerGas</c>).</summary>
    Task<EvmFeeMarket> GetFeeMarketAsync(CancellationToken cancellationToken);

    /// <summary>The gas a call would use (<c>eth_estimateGas</c>); a revert is an <see cref="EvmRpcException"/>.</summary>
    Task<BigInteger> EstimateGasAsync(string from, string to, string data, CancellationToken cancellationToken);

    /// <summary>Broadcasts a signed transaction (<c>eth_sendRawTransaction</c>); returns its hash.</summary>
    Task<string> SendRawTransactionAsync(string rawTransaction, CancellationToken cancellationToken);

    /// <summary>Whether the node knows a transaction (mined or waiting in its pool; <c>eth_getTransactionByHash</c>).</summary>
    Task<bool> IsTransactionKnownAsync(string transactionHash, CancellationToken cancellationToken);
}
