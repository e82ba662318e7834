using System.Numerics;
using Microsoft.Extensions.Time.Testing;

namespace Anpm.Gateway.Evm.Tests;

/// <summary>
/// Several providers behind one client: a failing provider is passed over (and paused), answers are not retried,
/// rate limits wait for the provider's Retry-After, hanging calls time out, and when every try fails the last failure
/// is thrown.
/// </summary>
public sealed class ResilientChainClientTests
{
    private static readonly ChainClientResilienceOptions Fast = new()
    {
        BaseDelay = TimeSpan.FromMilliseconds(1),
        MaxDelay = TimeSpan.FromMilliseconds(5),
        CallTimeout = TimeSpan.FromSeconds(5),
        FailuresBeforePause = 2,
        PauseDuration = TimeSpan.FromMinutes(5),
    };

    [Fact]
    public async Task AFailingProvider_IsPassedOver_ThenPaused()
    {
        var down = new FakeProvider((_, _) => throw new HttpRequestException("connection refused"));
        var up = new FakeProvider((_, _) => Task.FromResult(42L));
        var client = new ResilientChainClient([down, up], Fast);

        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(42, await client.GetHeadAsync(default));
        }

        Assert.Equal(2, down.Calls); // paused after two failures: the later calls go straight to the next provider
        Assert.Equal(5, up.Calls);
        Assert.Equal([2L, 0L], client.Failures);
    }

    [Fact]
    public void OptionsOutOfRange_AreRefusedNamingEachOne()
    {
        var up = new FakeProvider((_, _) => Task.FromResult(42L));
        var error = Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(() => new ResilientChainClient([up], new ChainClientResilienceOptions
        {
            CallTimeout = TimeSpan.Zero, MaxAttempts = 0, FailuresBeforePause = 0, BaseDelay = TimeSpan.FromSeconds(10), MaxDelay = TimeSpan.FromSeconds(1),
        }));
        Assert.Equal(4, error.Failures.Count());
        Assert.Contains("CallTimeout is 00:00:00", error.Message, StringComparison.Ordinal);
        Assert.Contains("MaxAttempts is 0", error.Message, StringComparison.Ordinal);
        Assert.Contains("FailuresBeforePause is 0", error.Message, StringComparison.Ordinal);
        Assert.Contains("BaseDelay (00:00:10) must not be negative nor above MaxDelay", error.Message, StringComparison.Ordinal);

        var gateway = new EvmGatewayOptions { ChainId = 1, Token = "0x5fbdb2315678afecb367f032d93f642f64180aa3", RpcUrls = { "http://127.0.0.1:1" } };
        gateway.Resilience.MaxAttempts = 0;
        Assert.Contains(new EvmGatewayOptionsValidator().Validate(null, gateway).Failures!, f => f.Contains("MaxAttempts is 0", StringComparison.Ordinal));
    }

    [Fact]
    public async Task NoLogsFromAProviderBehindTheRange_AreNotTrusted_TheNextProviderAnswers()
    {
        var log = new EvmLog("0x" + new string('1', 40), [EvmDepositListener.TransferTopic], "0x01", 100, "0x" + new string('b', 64), "0x" + new string('c', 64), 0, false);
        var behind = new FakeProvider((_, _) => Task.FromResult(97L), logs: []);
        var current = new FakeProvider((_, _) => Task.FromResult(103L), logs: [log]);
        using var errors = new MeasurementRecorder("anpm.evm.rpc.errors");

        var client = new ResilientChainClient([behind, current], Fast);
        Assert.Equal([log], await client.GetLogsAsync(90, 100, log.Address, EvmDepositListener.TransferTopic, null, default));
        Assert.Equal((1, 1), (behind.LogCalls, current.LogCalls));
        Assert.Contains("behind", errors.TagValues("error"));

        // A provider that has reached the range may answer "no logs".
        var caughtUp = new FakeProvider((_, _) => Task.FromResult(100L), logs: []);
        Assert.Empty(await new ResilientChainClient([caughtUp, current], Fast).GetLogsAsync(90, 100, log.Address, EvmDepositListener.TransferTopic, null, default));
        Assert.Equal(1, caughtUp.LogCalls);
    }

    [Fact]
    public async Task AnAnswerIsNotRetried()
    {
        var refusing = new FakeProvider((_, _) => throw new EvmRpcException(-32005, "query returned more than 10000 results"));
        var other = new FakeProvider((_, _) => Task.FromResult(1L));
        var client = new ResilientChainClient([refusing, other], Fast);
        var error = await Assert.ThrowsAsync<EvmRpcException>(() => client.GetHeadAsync(default));
        Assert.Equal((-32005, 1, 0), (error.Code, refusing.Calls, other.Calls));
    }

    [Fact]
    public async Task ARateLimit_WaitsForTheProvidersRetryAfter()
    {
        var time = new FakeTimeProvider();
        var limited = new FakeProvider((call, _) => call == 1
            ? throw new EvmRpcException(429, "Too Many Requests", retryAfter: TimeSpan.FromSeconds(2))
            : Task.FromResult(7L));
        var client = new ResilientChainClient([limited], Fast, time);

        var head = client.GetHeadAsync(default);
        await Task.Delay(50);
        time.Advance(TimeSpan.FromSeconds(1.9));
        await Task.Delay(50);
        Assert.False(head.IsCompleted);
        time.Advance(TimeSpan.FromSeconds(0.1));
        Assert.Equal(7, await head.WaitAsync(TimeSpan.FromSeconds(60)));
        Assert.Equal(2, limited.Calls);
    }

    [Fact]
    public async Task HangingCalls_TimeOut_AndWhenEveryTryFails_TheLastFailureIsThrown()
    {
        var hanging = new FakeProvider(async (_, ct) =>
        {
            await Task.Delay(Timeout.Infinite, ct);
            return 0L;
        });
        var client = new ResilientChainClient([hanging], new ChainClientResilienceOptions { CallTimeout = TimeSpan.FromMilliseconds(50), MaxAttempts = 3, BaseDelay = TimeSpan.FromMilliseconds(1), MaxDelay = TimeSpan.FromMilliseconds(2) });
        await Assert.ThrowsAsync<TimeoutException>(() => client.GetHeadAsync(default));
        Assert.Equal(3, hanging.Calls);

        var flaky = new FakeProvider((_, _) => throw new HttpRequestException("reset"));
        var giveUp = new ResilientChainClient([flaky], Fast);
        Assert.Equal("reset", (await Assert.ThrowsAsync<HttpRequestException>(() => giveUp.GetHeadAsync(default))).Message);
        Assert.Equal(Fast.MaxAttempts, flaky.Calls);
    }

    [Theory]
    [InlineData(429, "Too Many Requests", true)]
    [InlineData(-32005, "daily request count exceeded, request rate limited", true)]
    [InlineData(-32005, "query returned more than 10000 results", false)]
    [InlineData(3, "execution reverted", false)]
    public void Transient_OnlyRateLimitsAmongJsonRpcErrors(int code, string message, bool transient) =>
        Assert.Equal(transient, ResilientChainClient.IsTransient(new EvmRpcException(code, message)));

    // A provider whose head is given by a function of the call number (from 1) and the call's token; every other read is unused here.
    private sealed class FakeProvider(Func<int, CancellationToken, Task<long>> head, IReadOnlyList<EvmLog>? logs = null) : IEvmChainClient
    {
        public int LogCalls { get; private set; }

        private int _calls;

        public int Calls => _calls;

        public Task<long> GetHeadAsync(CancellationToken cancellationToken) => head(Interlocked.Increment(ref _calls), cancellationToken);

        public Task<ulong> GetChainIdAsync(CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<long?> GetFinalizedAsync(CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<EvmBlockHeader?> GetBlockAsync(long number, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<IReadOnlyList<EvmLog>> GetLogsAsync(long from, long to, string address, string topic0, string? topic2, CancellationToken cancellationToken)
        {
            LogCalls++;
            return logs is null ? throw new NotSupportedException() : Task.FromResult(logs);
        }

        public Task<EvmReceipt?> GetReceiptAsync(string transactionHash, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<bool> HasCodeAsync(string address, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<BigInteger> GetTokenBalanceAsync(string token, string owner, long? block, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<long> GetTransactionCountAsync(string address, long? block, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<BigInteger> GetBalanceAsync(string address, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<EvmFeeMarket> GetFeeMarketAsync(CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<BigInteger> EstimateGasAsync(string from, string to, string data, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<string> SendRawTransactionAsync(string rawTransaction, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<bool> IsTransactionKnownAsync(string transactionHash, CancellationToken cancellationToken) => throw new NotSupportedException();
    }
}
