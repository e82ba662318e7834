using System.Numerics;

namespace Anpm.Gateway.Evm.Tests;

// A provider that refuses log ranges wider than maxRange (as many hosted nodes do) and fails a third of all calls,
// half of them after the call was made (the answer is lost).
internal sealed class FlakyChainClient(IEvmChainClient inner, Random random, int maxRange) : IEvmChainClient
{
    public IEvmChainClient Reliable => inner;

    public int NarrowedRanges { get; private set; }

    // The log ranges asked within maxRange (what a backfill costs in requests).
    public int LogRequests { get; private set; }

    // One call in FailureRate fails (0: never); half of those after the call was made.
    public int FailureRate { get; init; } = 3;

    public Task<ulong> GetChainIdAsync(CancellationToken cancellationToken) => FlakyAsync(() => inner.GetChainIdAsync(cancellationToken));

    public Task<long> GetHeadAsync(CancellationToken cancellationToken) => FlakyAsync(() => inner.GetHeadAsync(cancellationToken));

    public Task<long?> GetFinalizedAsync(CancellationToken cancellationToken) => FlakyAsync(() => inner.GetFinalizedAsync(cancellationToken));

    public Task<EvmBlockHeader?> GetBlockAsync(long number, CancellationToken cancellationToken) => FlakyAsync(() => inner.GetBlockAsync(number, cancellationToken));

    public Task<IReadOnlyList<EvmLog>> GetLogsAsync(long from, long to, string address, string topic0, string? topic2, CancellationToken cancellationToken)
    {
        if (to - from + 1 > maxRange)
        {
            NarrowedRanges++;
            throw new EvmRpcException(-32005, $"query exceeds max block range {maxRange}");
        }

        LogRequests++;
        return FlakyAsync(() => inner.GetLogsAsync(from, to, address, topic0, topic2, cancellationToken));
    }

    public Task<EvmReceipt?> GetReceiptAsync(string transactionHash, CancellationToken cancellationToken) => FlakyAsync(() => inner.GetReceiptAsync(transactionHash, cancellationToken));

    public Task<bool> HasCodeAsync(string address, CancellationToken cancellationToken) => FlakyAsync(() => inner.HasCodeAsync(address, cancellationToken));

    public Task<BigInteger> GetTokenBalanceAsync(string token, string owner, long? block, CancellationToken cancellationToken) => FlakyAsync(() => inner.GetTokenBalanceAsync(token, owner, block, cancellationToken));

    public Task<long> GetTransactionCountAsync(string address, long? block, CancellationToken cancellationToken) => FlakyAsync(() => inner.GetTransactionCountAsync(address, block, cancellationToken));

    public Task<BigInteger> GetBalanceAsync(string address, CancellationToken cancellationToken) => FlakyAsync(() => inner.GetBalanceAsync(address, cancellationToken));

    public Task<EvmFeeMarket> GetFeeMarketAsync(CancellationToken cancellationToken) => FlakyAsync(() => inner.GetFeeMarketAsync(cancellationToken));

    public Task<BigInteger> EstimateGasAsync(string from, string to, string data, CancellationToken cancellationToken) => FlakyAsync(() => inner.EstimateGasAsync(from, to, data, cancellationToken));

    public Task<string> SendRawTransactionAsync(string rawTransaction, CancellationToken cancellationToken) => FlakyAsync(() => inner.SendRawTransactionAsync(rawTransaction, cancellationToken));

    public Task<bool> IsTransactionKnownAsync(string transactionHash, CancellationToken cancellationToken) => FlakyAsync(() => inner.IsTransactionKnownAsync(transactionHash, cancellationToken));

    private async Task<T> FlakyAsync<T>(Func<Task<T>> call)
    {
        var roll = FailureRate == 0 ? 2 : random.Next(2 * FailureRate);
        if (roll == 0)
        {
            throw random.Next(2) == 0
                ? new EvmRpcException(429, "Too Many Requests")
                : new EvmRpcException(-32000, "upstream connect error or disconnect/reset before headers");
        }

        var result = await call();
        return roll == 1 ? throw new HttpRequestException("The response ended prematurely.") : result;
    }
}
