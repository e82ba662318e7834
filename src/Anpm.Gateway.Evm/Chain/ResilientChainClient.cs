using System.Numerics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Anpm.Gateway.Evm;

/// <summary>Options of the <see cref="ResilientChainClient"/>.</summary>
public sealed class ChainClientResilienceOptions
{
    /// <summary>How long one call to one provider may take. Default 10 s.</summary>
    public TimeSpan CallTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How many times one call is tried, across providers, before its last failure is thrown. Default 6.</summary>
    public int MaxAttempts { get; set; } = 6;

    /// <summary>The first retry's delay; each next one doubles, up to <see cref="MaxDelay"/>, each with jitter (×0.5 to ×1). Default 200 ms.</summary>
    public TimeSpan BaseDelay { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>The longest delay between tries (a provider's Retry-After may ask for more). Default 5 s.</summary>
    public TimeSpan MaxDelay { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Consecutive failures after which a provider is passed over for <see cref="PauseDuration"/>. Default 3.</summary>
    public int FailuresBeforePause { get; set; } = 3;

    /// <summary>How long a failing provider is passed over. Default 30 s.</summary>
    public TimeSpan PauseDuration { get; set; } = TimeSpan.FromSeconds(30);
}

/// <summary>
/// Validates <see cref="ChainClientResilienceOptions"/>: a positive call timeout, at least one attempt and one failure
/// before a pause, delays not negative with the base delay at most the longest one, and a pause not negative.
/// </summary>
public sealed class ChainClientResilienceOptionsValidator : IValidateOptions<ChainClientResilienceOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, ChainClientResilienceOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        if (options.CallTimeout <= TimeSpan.Zero)
        {
            failures.Add($"ChainClientResilienceOptions.CallTimeout is {options.CallTimeout}; it must be positive.");
        }

        if (options.MaxAttempts < 1)
        {
            failures.Add($"ChainClientResilienceOptions.MaxAttempts is {options.MaxAttempts}; it must be at least 1.");
        }

        if (options.FailuresBeforePause < 1)
        {
            failures.Add($"ChainClientResilienceOptions.FailuresBeforePause is {options.FailuresBeforePause}; it must be at least 1.");
        }

        if (options.BaseDelay < TimeSpan.Zero || options.MaxDelay < options.BaseDelay)
        {
            failures.Add($"ChainClientResilienceOptions.BaseDelay ({options.BaseDelay}) must not be negative nor above MaxDelay ({options.MaxDelay}).");
        }

        if (options.PauseDuration < TimeSpan.Zero)
        {
            failures.Add($"ChainClientResilienceOptions.PauseDuration is {options.PauseDuration}; it must not be negative.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

/// <summary>
/// One <see cref="IEvmChainClient"/> over several providers: each call has a timeout; a transient failure (a transport
/// error, a timeout, HTTP 429 or a JSON-RPC rate limit) is retried with exponential backoff and jitter, honouring the
/// provider's Retry-After, on the next provider in order; a provider that keeps failing is passed over for a while.
/// A JSON-RPC error that is an answer (a range refusal, a revert, an unknown method) is returned to the caller at once.
/// </summary>
public sealed partial class ResilientChainClient : IEvmChainClient, IEvmProviderSet
{
    private readonly IReadOnlyList<IEvmChainClient> _providers;
    private readonly EvmGatewayMetrics _metrics;
    private readonly ChainClientResilienceOptions _options;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly ProviderState[] _states;
    private readonly Random _jitter = new();

    /// <summary>Creates the client over the providers, in order of preference.</summary>
    /// <exception cref="ArgumentException">No provider, or a null one.</exception>
    /// <exception cref="Microsoft.Extensions.Options.OptionsValidationException">An option is out of range (<see cref="ChainClientResilienceOptionsValidator"/>).</exception>
    /// <param name="providers">The providers, in order of preference.</param>
    /// <param name="options">Timeouts, attempts and pauses.</param>
    /// <param name="timeProvider">The clock of timeouts and pauses; the system clock when none is given.</param>
    /// <param name="metrics">Where failed calls are counted (<c>anpm.evm.rpc.errors</c>); instruments of its own when none is given.</param>
    /// <param name="logger">Where a provider passed over for failing is logged; nowhere when none is given.</param>
    public ResilientChainClient(IReadOnlyList<IEvmChainClient> providers, ChainClientResilienceOptions? options = null, TimeProvider? timeProvider = null, EvmGatewayMetrics? metrics = null,
        ILogger<ResilientChainClient>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(providers);
        if (providers.Count == 0 || providers.Any(p => p is null))
        {
            throw new ArgumentException("At least one provider, none null.", nameof(providers));
        }

        _options = ValidatedOptions.Value(options ?? new ChainClientResilienceOptions(), new ChainClientResilienceOptionsValidator());
        _providers = providers;
        _timeProvider = timeProvider ?? TimeProvider.System;
        _metrics = metrics ?? EvmGatewayMetrics.Standalone();
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _states = [.. providers.Select(_ => new ProviderState())];
    }

    /// <summary>How many calls failed transiently, per provider (in the constructor's order).</summary>
    public IReadOnlyList<long> Failures => [.. _states.Select(s => Interlocked.Read(ref s.Failures))];

    /// <inheritdoc />
    public Task<ulong> GetChainIdAsync(CancellationToken cancellationToken) => CallAsync((p, ct) => p.GetChainIdAsync(ct), cancellationToken);

    /// <inheritdoc />
    public Task<long> GetHeadAsync(CancellationToken cancellationToken) => CallAsync((p, ct) => p.GetHeadAsync(ct), cancellationToken);

    /// <inheritdoc />
    public Task<long?> GetFinalizedAsync(CancellationToken cancellationToken) => CallAsync((p, ct) => p.GetFinalizedAsync(ct), cancellationToken);

    /// <inheritdoc />
    public Task<EvmBlockHeader?> GetBlockAsync(long number, CancellationToken cancellationToken) => CallAsync((p, ct) => p.GetBlockAsync(number, ct), cancellationToken);

    /// <inheritdoc />
    /// <remarks>
    /// An empty answer counts only from a provider whose head has reached <paramref name="to"/>: a provider behind the
    /// range knows nothing of its last blocks, so its "no logs" is retried on the next provider (a lagging node never
    /// makes a deposit be skipped).
    /// </remarks>
    public Task<IReadOnlyList<EvmLog>> GetLogsAsync(long from, long to, string address, string topic0, string? topic2, CancellationToken cancellationToken) =>
        CallAsync(async (p, ct) =>
        {
            var logs = await p.GetLogsAsync(from, to, address, topic0, topic2, ct).ConfigureAwait(false);
            if (logs.Count == 0 && await p.GetHeadAsync(ct).ConfigureAwait(false) is var head && head < to)
            {
                throw new EvmProviderBehindException(head, to);
            }

            return logs;
        }, cancellationToken);

    /// <inheritdoc />
    public Task<EvmReceipt?> GetReceiptAsync(string transactionHash, CancellationToken cancellationToken) =>
        CallAsync((p, ct) => p.GetReceiptAsync(transactionHash, ct), cancellationToken);

    /// <inheritdoc />
    public Task<bool> HasCodeAsync(string address, CancellationToken cancellationToken) => CallAsync((p, ct) => p.HasCodeAsync(address, ct), cancellationToken);

    /// <inheritdoc />
    public Task<BigInteger> GetTokenBalanceAsync(string token, string owner, long? block, CancellationToken cancellationToken) =>
        CallAsync((p, ct) => p.GetTokenBalanceAsync(token, owner, block, ct), cancellationToken);

    /// <inheritdoc />
    public int ProviderCount => _providers.Count;

    /// <inheritdoc />
    public async Task<IReadOnlyList<EvmBlockHeader?>> GetBlockFromEachAsync(long number, CancellationToken cancellationToken)
    {
        var answers = new EvmBlockHeader?[_providers.Count];
        for (var i = 0; i < _providers.Count; i++)
        {
            using var timeout = new CancellationTokenSource(_options.CallTimeout, _timeProvider);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
            try
            {
                answers[i] = await _providers[i].GetBlockAsync(number, linked.Token).WaitAsync(_options.CallTimeout, _timeProvider, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception exception) when (!cancellationToken.IsCancellationRequested && (exception is EvmRpcException or OperationCanceledException || IsTransient(exception)))
            {
                answers[i] = null; // no answer from this one
            }
        }

        return answers;
    }

    /// <summary>Whether a failure is worth another try: transport errors, timeouts, HTTP 429 and JSON-RPC rate limits.</summary>
    public static bool IsTransient(Exception exception) => exception switch
    {
        HttpRequestException or TimeoutException or EvmProviderBehindException => true,
        EvmRpcException rpc => rpc.Code == 429 || rpc.RpcMessage.Contains("rate limit", StringComparison.OrdinalIgnoreCase)
            || rpc.RpcMessage.Contains("too many requests", StringComparison.OrdinalIgnoreCase),
        _ => false,
    };

    /// <inheritdoc />
    public Task<long> GetTransactionCountAsync(string address, long? block, CancellationToken cancellationToken) =>
        CallAsync((p, ct) => p.GetTransactionCountAsync(address, block, ct), cancellationToken);

    /// <inheritdoc />
    public Task<BigInteger> GetBalanceAsync(string address, CancellationToken cancellationToken) => CallAsync((p, ct) => p.GetBalanceAsync(address, ct), cancellationToken);

    /// <inheritdoc />
    public Task<EvmFeeMarket> GetFeeMarketAsync(CancellationToken cancellationToken) => CallAsync((p, ct) => p.GetFeeMarketAsync(ct), cancellationToken);

    /// <inheritdoc />
    public Task<BigInteger> EstimateGasAsync(string from, string to, string data, CancellationToken cancellationToken) =>
        CallAsync((p, ct) => p.EstimateGasAsync(from, to, data, ct), cancellationToken);

    /// <inheritdoc />
    /// <remarks>Broadcasting the same bytes again is harmless (a node answers "already known" or the same hash), so it is retried like a read.</remarks>
    public Task<string> SendRawTransactionAsync(string rawTransaction, CancellationToken cancellationToken) =>
        CallAsync((p, ct) => p.SendRawTransactionAsync(rawTransaction, ct), cancellationToken);

    /// <inheritdoc />
    public Task<bool> IsTransactionKnownAsync(string transactionHash, CancellationToken cancellationToken) =>
        CallAsync((p, ct) => p.IsTransactionKnownAsync(transactionHash, ct), cancellationToken);

    private async Task<T> CallAsync<T>(Func<IEvmChainClient, CancellationToken, Task<T>> call, CancellationToken cancellationToken)
    {
        var start = 0;
        for (var attempt = 1; ; attempt++)
        {
            var index = Choose(start);
            var state = _states[index];
            using var timeout = new CancellationTokenSource(_options.CallTimeout, _timeProvider);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
            try
            {
                // A provider that ignores the token still times out (WaitAsync), on the same clock.
                var result = await call(_providers[index], linked.Token).WaitAsync(_options.CallTimeout, _timeProvider, cancellationToken).ConfigureAwait(false);
                Volatile.Write(ref state.ConsecutiveFailures, 0);
                return result;
            }
            catch (EvmRpcException answer) when (!IsTransient(answer))
            {
                _metrics.RpcErrors.Add(1, new KeyValuePair<string, object?>("provider", index), new KeyValuePair<string, object?>("error", answer.Code.ToString(System.Globalization.CultureInfo.InvariantCulture)));
                throw;
            }
            catch (Exception exception) when (!cancellationToken.IsCancellationRequested && (IsTransient(exception) || exception is OperationCanceledException))
            {
                _metrics.RpcErrors.Add(1, new KeyValuePair<string, object?>("provider", index), new KeyValuePair<string, object?>("error", ErrorKind(exception)));
                Interlocked.Increment(ref state.Failures);
                var failures = Interlocked.Increment(ref state.ConsecutiveFailures);
                if (failures >= _options.FailuresBeforePause)
                {
                    Interlocked.Exchange(ref state.PausedUntilTicks, (_timeProvider.GetUtcNow() + _options.PauseDuration).UtcTicks);
                    if (failures == _options.FailuresBeforePause)
                    {
                        LogProviderPaused(_logger, index, failures, $"{exception.GetType().Name}: {exception.Message}", _options.PauseDuration);
                    }
                }

                if (attempt >= _options.MaxAttempts)
                {
                    throw exception is OperationCanceledException
                        ? new TimeoutException($"The chain call timed out after {_options.CallTimeout} on every try.", exception)
                        : exception;
                }

                var delay = Delay(attempt, (exception as EvmRpcException)?.RetryAfter);
                start = index + 1; // the next try goes to the next provider
                await Task.Delay(delay, _timeProvider, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    // The failure's message, not its stack: a provider that is down is an operational fact, not a crash.
    [LoggerMessage(EventId = 505, Level = LogLevel.Warning, Message = "Chain provider {Provider} failed {Failures} times in a row ({Reason}); it is passed over for {Pause}.")]
    private static partial void LogProviderPaused(ILogger logger, int provider, long failures, string reason, TimeSpan pause);

    // The counter's error tag: the JSON-RPC code (429 for HTTP 429), or what went wrong on the way.
    private static string ErrorKind(Exception exception) => exception switch
    {
        EvmRpcException rpc => rpc.Code.ToString(System.Globalization.CultureInfo.InvariantCulture),
        EvmProviderBehindException => "behind",
        HttpRequestException => "transport",
        _ => "timeout",
    };

    // The first provider from `start` (wrapping) that is not paused; all paused: the one whose pause ends first.
    private int Choose(int start)
    {
        var now = _timeProvider.GetUtcNow().UtcTicks;
        for (var i = 0; i < _states.Length; i++)
        {
            var index = (start + i) % _states.Length;
            if (Interlocked.Read(ref _states[index].PausedUntilTicks) <= now)
            {
                return index;
            }
        }

        var soonest = 0;
        for (var i = 1; i < _states.Length; i++)
        {
            if (Interlocked.Read(ref _states[i].PausedUntilTicks) < Interlocked.Read(ref _states[soonest].PausedUntilTicks))
            {
                soonest = i;
            }
        }

        return soonest;
    }

    private TimeSpan Delay(int attempt, TimeSpan? retryAfter)
    {
        var exponential = Math.Min(_options.MaxDelay.TotalMilliseconds, _options.BaseDelay.TotalMilliseconds * Math.Pow(2, attempt - 1));
        double factor;
        lock (_jitter)
        {
            factor = 0.5 + (_jitter.NextDouble() / 2);
        }

        var delay = TimeSpan.FromMilliseconds(exponential * factor);
        return retryAfter is { } asked && asked > delay ? asked : delay;
    }

    private sealed class ProviderState
    {
        public long Failures;
        public long ConsecutiveFailures;
        public long PausedUntilTicks;
    }
}

/// <summary>A provider answered a range it has not reached (its head is below the range's end): its answer cannot be trusted, so the call is tried elsewhere.</summary>
public sealed class EvmProviderBehindException(long head, long needed)
    : Exception($"The provider's head {head} is below block {needed}; its answer for that range is incomplete.")
{
    /// <summary>The provider's head.</summary>
    public long Head { get; } = head;

    /// <summary>The block the call needed.</summary>
    public long Needed { get; } = needed;
}

/// <summary>
/// A chain client over several providers that can ask each of them the same question — so that what one provider says
/// (e.g. that a credited block was replaced) is confirmed by another before anything is done about it.
/// </summary>
public interface IEvmProviderSet
{
    /// <summary>How many providers there are.</summary>
    int ProviderCount { get; }

    /// <summary>The block at a number as each provider sees it, in the providers' order; <see langword="null"/> where one has none or did not answer.</summary>
    Task<IReadOnlyList<EvmBlockHeader?>> GetBlockFromEachAsync(long number, CancellationToken cancellationToken);
}
