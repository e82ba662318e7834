using System.Numerics;
using Nethereum.Hex.HexTypes;
using Nethereum.JsonRpc.Client;
using Nethereum.RPC.Eth.DTOs;
using Nethereum.Web3;

namespace Anpm.Gateway.Evm;

/// <summary><see cref="IEvmChainClient"/> on Nethereum's JSON-RPC client (one node URL, or any <see cref="IWeb3"/>).</summary>
public sealed class NethereumChainClient : IEvmChainClient
{
    private readonly IWeb3 _web3;

    /// <summary>A client of the node at <paramref name="url"/>.</summary>
    public NethereumChainClient(string url)
        : this(new Web3(url))
    {
    }

    /// <summary>A client over a Nethereum <see cref="IWeb3"/> (its own transport, retries or authentication).</summary>
    public NethereumChainClient(IWeb3 web3)
    {
        ArgumentNullException.ThrowIfNull(web3);
        _web3 = web3;
    }

    /// <inheritdoc />
    public Task<ulong> GetChainIdAsync(CancellationToken cancellationToken) =>
        CallAsync(async () => (ulong)(await _web3.Eth.ChainId.SendRequestAsync().ConfigureAwait(false)).Value);

    /// <inheritdoc />
    public Task<long> GetHeadAsync(CancellationToken cancellationToken) =>
        CallAsync(async () => (long)(await _web3.Eth.Blocks.GetBlockNumber.SendRequestAsync().ConfigureAwait(false)).Value);

    /// <inheritdoc />
    public Task<long?> GetFinalizedAsync(CancellationToken cancellationToken) =>
        CallAsync(async () =>
        {
            var finalized = new BlockParameter();
            finalized.SetValue(BlockParameter.BlockParameterType.finalized);
            var block = await _web3.Eth.Blocks.GetBlockWithTransactionsHashesByNumber.SendRequestAsync(finalized).ConfigureAwait(false);
            return block is null ? (long?)null : (long)block.Number.Value;
        });

    /// <inheritdoc />
    public Task<EvmBlockHeader?> GetBlockAsync(long number, CancellationToken cancellationToken) =>
        CallAsync(async () =>
        {
            var block = await _web3.Eth.Blocks.GetBlockWithTransactionsHashesByNumber
                .SendRequestAsync(new HexBigInteger(number)).ConfigureAwait(false);
            return block is null
                ? null
                : new EvmBlockHeader((long)block.Number.Value, Lower(block.BlockHash), Lower(block.ParentHash), DateTimeOffset.FromUnixTimeSeconds((long)block.Timestamp.Value));
        });

    /// <inheritdoc />
    public Task<IReadOnlyList<EvmLog>> GetLogsAsync(long from, long to, string address, string topic0, string? topic2, CancellationToken cancellationToken) =>
        CallAsync(async () =>
        {
            var filter = new NewFilterInput
            {
                FromBlock = new BlockParameter(new HexBigInteger(from)),
                ToBlock = new BlockParameter(new HexBigInteger(to)),
                Address = [address],
                Topics = topic2 is null ? [topic0] : [topic0, null, topic2],
            };
            var logs = await _web3.Eth.Filters.GetLogs.SendRequestAsync(filter).ConfigureAwait(false);
            return (IReadOnlyList<EvmLog>)[.. (logs ?? []).Select(Log)];
        });

    /// <inheritdoc />
    public Task<EvmReceipt?> GetReceiptAsync(string transactionHash, CancellationToken cancellationToken) =>
        CallAsync(async () =>
        {
            var receipt = await _web3.Eth.Transactions.GetTransactionReceipt.SendRequestAsync(transactionHash).ConfigureAwait(false);
            return receipt is null
                ? null
                : new EvmReceipt(Lower(receipt.TransactionHash), (long)receipt.BlockNumber.Value, Lower(receipt.BlockHash), receipt.Status?.Value == BigInteger.One,
                    [.. (receipt.Logs ?? []).Select(Log)]);
        });

    /// <inheritdoc />
    public Task<bool> HasCodeAsync(string address, CancellationToken cancellationToken) =>
        CallAsync(async () => (await _web3.Eth.GetCode.SendRequestAsync(address).ConfigureAwait(false)) is { Length: > 2 });

    /// <inheritdoc />
    public Task<BigInteger> GetTokenBalanceAsync(string token, string owner, long? block, CancellationToken cancellationToken) =>
        CallAsync(() => _web3.Eth.ERC20.GetContractService(token).BalanceOfQueryAsync(
            owner, block is { } number ? new BlockParameter(new HexBigInteger(number)) : BlockParameter.CreateLatest()));

    /// <inheritdoc />
    public Task<long> GetTransactionCountAsync(string address, long? block, CancellationToken cancellationToken) =>
        CallAsync(async () => (long)(await _web3.Eth.Transactions.GetTransactionCount.SendRequestAsync(
            address, block is { } number ? new BlockParameter(new HexBigInteger(number)) : BlockParameter.CreateLatest()).ConfigureAwait(false)).Value);

    /// <inheritdoc />
    public Task<BigInteger> GetBalanceAsync(string address, CancellationToken cancellationToken) =>
        CallAsync(async () => (await _web3.Eth.GetBalance.SendRequestAsync(address).ConfigureAwait(false)).Value);

    /// <inheritdoc />
    public Task<EvmFeeMarket> GetFeeMarketAsync(CancellationToken cancellationToken) =>
        CallAsync(async () =>
        {
            var history = await _web3.Eth.FeeHistory.SendRequestAsync(new HexBigInteger(1), BlockParameter.CreateLatest(), []).ConfigureAwait(false);
            var nextBaseFee = history?.BaseFeePerGas is { Length: > 0 } fees ? fees[^1].Value : BigInteger.Zero;
            var tip = (await new Nethereum.RPC.Eth.EthMaxPriorityFeePerGas(_web3.Client).SendRequestAsync().ConfigureAwait(false)).Value;
            return new EvmFeeMarket(nextBaseFee, tip);
        });

    /// <inheritdoc />
    public Task<BigInteger> EstimateGasAsync(string from, string to, string data, CancellationToken cancellationToken) =>
        CallAsync(async () => (await _web3.Eth.Transactions.EstimateGas.SendRequestAsync(new CallInput(data, to) { From = from }).ConfigureAwait(false)).Value);

    /// <inheritdoc />
    public Task<string> SendRawTransactionAsync(string rawTransaction, CancellationToken cancellationToken) =>
        CallAsync(async () => Lower(await _web3.Eth.Transactions.SendRawTransaction.SendRequestAsync(rawTransaction).ConfigureAwait(false)));

    /// <inheritdoc />
    public Task<bool> IsTransactionKnownAsync(string transactionHash, CancellationToken cancellationToken) =>
        CallAsync(async () => await _web3.Eth.Transactions.GetTransactionByHash.SendRequestAsync(transactionHash).ConfigureAwait(false) is not null);

    private static EvmLog Log(FilterLog log) => new(
        Lower(log.Address),
        [.. (log.Topics ?? []).Select(t => Lower(t?.ToString() ?? string.Empty))],
        Lower(log.Data ?? "0x"),
        (long)log.BlockNumber.Value,
        Lower(log.BlockHash),
        Lower(log.TransactionHash),
        (long)log.LogIndex.Value,
        log.Removed);

    private static string Lower(string? hex) => (hex ?? string.Empty).ToLowerInvariant();

    // A node's JSON-RPC error becomes an EvmRpcException with its code (HTTP 429 as code 429); Nethereum's wrapped transport
    // errors become the HttpRequestException or TimeoutException they are.
    private static async Task<T> CallAsync<T>(Func<Task<T>> call)
    {
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (RpcResponseException exception) when (exception.RpcError is { } error)
        {
            throw new EvmRpcException(error.Code, error.Message ?? string.Empty, exception);
        }
        catch (RpcClientUnknownException exception) when (exception.InnerException is HttpRequestException { StatusCode: System.Net.HttpStatusCode.TooManyRequests } http)
        {
            throw new EvmRpcException(429, "Too Many Requests", http);
        }
        catch (RpcClientUnknownException exception) when (exception.InnerException is HttpRequestException http)
        {
            throw new HttpRequestException(http.Message, exception, http.StatusCode);
        }
        catch (RpcClientTimeoutException exception)
        {
            throw new TimeoutException(exception.Message, exception);
        }
    }
}
