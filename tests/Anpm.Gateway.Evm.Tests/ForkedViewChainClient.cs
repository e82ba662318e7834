using System.Numerics;

namespace Anpm.Gateway.Evm.Tests;

/// <summary>A provider whose view of one block differs from the chain's (a forked or broken node): another hash at that height.</summary>
internal sealed class ForkedViewChainClient(IEvmChainClient inner, long forkedBlock) : IEvmChainClient
{
    public async Task<EvmBlockHeader?> GetBlockAsync(long number, CancellationToken cancellationToken) =>
        number == forkedBlock && await inner.GetBlockAsync(number, cancellationToken) is { } header
            ? header with { Hash = "0x" + new string('f', 64) }
            : await inner.GetBlockAsync(number, cancellationToken);

    public Task<ulong> GetChainIdAsync(CancellationToken cancellationToken) => inner.GetChainIdAsync(cancellationToken);

    public Task<long> GetHeadAsync(CancellationToken cancellationToken) => inner.GetHeadAsync(cancellationToken);

    public Task<long?> GetFinalizedAsync(CancellationToken cancellationToken) => inner.GetFinalizedAsync(cancellationToken);

    public Task<IReadOnlyList<EvmLog>> GetLogsAsync(long from, long to, string address, string topic0, string? topic2, CancellationToken cancellationToken) =>
        inner.GetLogsAsync(from, to, address, topic0, topic2, cancellationToken);

    public Task<EvmReceipt?> GetReceiptAsync(string transactionHash, CancellationToken cancellationToken) => inner.GetReceiptAsync(transactionHash, cancellationToken);

    public Task<bool> HasCodeAsync(string address, CancellationToken cancellationToken) => inner.HasCodeAsync(address, cancellationToken);

    public Task<BigInteger> GetTokenBalanceAsync(string token, string owner, long? block, CancellationToken cancellationToken) => inner.GetTokenBalanceAsync(token, owner, block, cancellationToken);

    public Task<long> GetTransactionCountAsync(string address, long? block, CancellationToken cancellationToken) => inner.GetTransactionCountAsync(address, block, cancellationToken);

    public Task<BigInteger> GetBalanceAsync(string address, CancellationToken cancellationToken) => inner.GetBalanceAsync(address, cancellationToken);

    public Task<EvmFeeMarket> GetFeeMarketAsync(CancellationToken cancellationToken) => inner.GetFeeMarketAsync(cancellationToken);

    public Task<BigInteger> EstimateGasAsync(string from, string to, string data, CancellationToken cancellationToken) => inner.EstimateGasAsync(from, to, data, cancellationToken);

    public Task<string> SendRawTransactionAsync(string rawTransaction, CancellationToken cancellationToken) => inner.SendRawTransactionAsync(rawTransaction, cancellationToken);

    public Task<bool> IsTransactionKnownAsync(string transactionHash, CancellationToken cancellationToken) => inner.IsTransactionKnownAsync(transactionHash, cancellationToken);
}
