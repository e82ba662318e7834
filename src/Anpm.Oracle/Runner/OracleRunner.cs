using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Text.Json;
using Anpm.Signing;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Anpm.Oracle;

/// <summary>A task leased to this node.</summary>
/// <param name="TaskId">The task.</param>
/// <param name="LeaseId">The lease the attestation must name.</param>
/// <param name="LeaseExpiresAt">When the lease ends unless a result or failure arrives.</param>
/// <param name="Model">The model id.</param>
/// <param name="ModelHash">The model's SHA-256 the attestation names.</param>
/// <param name="Input">The input text.</param>
public sealed record OracleTask(string TaskId, string LeaseId, DateTimeOffset LeaseExpiresAt, string Model, string ModelHash, string Input);

/// <summary>
/// Where a node gets tasks and returns results: the host's oracle routes over HTTP, or the pool service in-process. A
/// source throws on transient trouble (the runner retries with backoff) and answers null when no task waits.
/// </summary>
public interface IOracleTaskSource
{
    /// <summary>Claims the next task for this node (ClaimTask).</summary>
    /// <returns>The leased task, or <see langword="null"/> when none waits.</returns>
    ValueTask<OracleTask?> ClaimAsync(CancellationToken cancellationToken);

    /// <summary>Returns a result with its signed TaskResult attestation.</summary>
    ValueTask SubmitResultAsync(OracleTask task, InferenceResult result, string signature, CancellationToken cancellationToken);

    /// <summary>Reports a failure with its signed TaskFailure.</summary>
    ValueTask SubmitFailureAsync(OracleTask task, string reason, string signature, CancellationToken cancellationToken);

    /// <summary>
    /// Extends the task's lease for long work. The default does not renew (the wire contract's HTTP routes have no renewal): the
    /// runner then relies on the lease time the pool grants.
    /// </summary>
    /// <returns>The new expiry, or <see langword="null"/> when the lease was not renewed.</returns>
    ValueTask<DateTimeOffset?> RenewAsync(OracleTask task, CancellationToken cancellationToken) => new((DateTimeOffset?)null);
}

/// <summary>
/// Signs the node's ClaimTask, TaskResult and TaskFailure messages (the wire contract's EIP-712 types) in the host's domain, with the
/// node's <see cref="IEthereumSigner"/>: a key file by default, or a Nethereum key or an external signer (KMS/HSM).
/// </summary>
public sealed class AttestationSigner
{
    private readonly IEthereumSigner _signer;
    private readonly SignedRequestVerifier _domain;

    /// <summary>Creates the signer.</summary>
    /// <param name="signer">The node's key (an <see cref="EthereumKey"/> or any <see cref="IEthereumSigner"/>); its address is the oracle address the pool allows.</param>
    /// <param name="domain">The EIP-712 domain of the host (chain id, manager address).</param>
    public AttestationSigner(IEthereumSigner signer, SignedRequestVerifier domain)
    {
        ArgumentNullException.ThrowIfNull(signer);
        ArgumentNullException.ThrowIfNull(domain);
        _signer = signer;
        _domain = domain;
    }

    /// <summary>The node's oracle address.</summary>
    public Abstractions.Address Oracle => _signer.Address;

    /// <summary>Signs <c>TaskResult(oracle, taskId, leaseId, modelHash, outputHash)</c>.</summary>
    public ValueTask<string> SignResultAsync(OracleTask task, string outputHash, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(task);
        return SignAsync("TaskResult", new Dictionary<string, string>
        {
            ["oracle"] = Oracle.ToString(), ["taskId"] = task.TaskId, ["leaseId"] = task.LeaseId, ["modelHash"] = task.ModelHash, ["outputHash"] = outputHash,
        }, cancellationToken);
    }

    /// <summary>Signs <c>ClaimTask(oracle, poolId, nonce, deadline)</c>; returns the message with the signature.</summary>
    public async ValueTask<(Dictionary<string, string> Message, string Signature)> SignClaimAsync(string poolId, ulong nonce, long deadline, CancellationToken cancellationToken = default)
    {
        var message = new Dictionary<string, string>
        {
            ["oracle"] = Oracle.ToString(),
            ["poolId"] = poolId ?? throw new ArgumentNullException(nameof(poolId)),
            ["nonce"] = nonce.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["deadline"] = deadline.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        return (message, await SignAsync("ClaimTask", message, cancellationToken).ConfigureAwait(false));
    }

    /// <summary>Signs <c>TaskFailure(oracle, taskId, leaseId, reason)</c>.</summary>
    public ValueTask<string> SignFailureAsync(OracleTask task, string reason, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(task);
        return SignAsync("TaskFailure", new Dictionary<string, string>
        {
            ["oracle"] = Oracle.ToString(), ["taskId"] = task.TaskId, ["leaseId"] = task.LeaseId, ["reason"] = reason,
        }, cancellationToken);
    }

    private async ValueTask<string> SignAsync(string type, Dictionary<string, string> message, CancellationToken cancellationToken) =>
        (await _signer.SignHashAsync(_domain.Digest(type, JsonSerializer.SerializeToElement(message)), cancellationToken).ConfigureAwait(false)).ToString();
}

/// <summary>Options of the <see cref="OracleRunner"/>.</summary>
public sealed class OracleRunnerOptions
{
    /// <summary>Tasks run at the same time (1 to 256). Default 2.</summary>
    public int MaxConcurrency { get; set; } = 2;

    /// <summary>How long to wait before claiming again when no task waits, in milliseconds (10 to 60 000). Default 500.</summary>
    public int IdlePollMilliseconds { get; set; } = 500;

    /// <summary>The longest wait between retries after the source failed, in milliseconds. Default 30 000.</summary>
    public int MaxRetryMilliseconds { get; set; } = 30_000;

    /// <summary>On shutdown, how long in-flight tasks may finish before they are cancelled and reported as failures, in milliseconds. Default 10 000.</summary>
    public int ShutdownGraceMilliseconds { get; set; } = 10_000;

    /// <summary>
    /// Dynamic batching: up to this many queued tasks for the same model run as one batch (1 to 1024; 1 = off). Default 1.
    /// Enable it only for models whose outputs do not depend on the batch.
    /// </summary>
    public int MaxBatchSize { get; set; } = 1;

    /// <summary>How long a batch waits for more tasks after its first, in milliseconds (0 to 1000). Default 5.</summary>
    public int BatchWaitMilliseconds { get; set; } = 5;
}

/// <summary>
/// The oracle node's loop, as a hosted service: claim (up to <see cref="OracleRunnerOptions.MaxConcurrency"/> at once) →
/// run on the backend → hash the canonical output → sign → submit. An inference that fails is reported as a signed
/// TaskFailure, so the task is requeued at once instead of waiting for its lease; a source that fails is retried with
/// exponential backoff; on shutdown it stops claiming and lets in-flight work finish or reports it failed.
/// </summary>
public sealed partial class OracleRunner : BackgroundService
{
    /// <summary>The name of the runner's <see cref="Meter"/>: counters <c>anpm.oracle.tasks.completed</c>, <c>.failed</c>,
    /// <c>anpm.oracle.source.errors</c> and the histogram <c>anpm.oracle.task.duration</c> (ms).</summary>
    public const string MeterName = "Anpm.Oracle";

    private readonly Counter<long> _completedCounter;
    private readonly Counter<long> _failedCounter;
    private readonly Counter<long> _sourceErrors;
    private readonly Histogram<double> _duration;
    private readonly Histogram<int> _batchSizes;

    private readonly IOracleTaskSource _source;
    private readonly IInferenceBackend _backend;
    private readonly AttestationSigner _signer;
    private readonly OracleRunnerOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _timeProvider;
    private long _completed;
    private long _failed;
    private long _lastContactTicks;
    private volatile string? _lastSourceError;

    /// <summary>Creates the runner.</summary>
    /// <param name="source">Where tasks come from and results go.</param>
    /// <param name="backend">Runs the models.</param>
    /// <param name="signer">Signs the attestations.</param>
    /// <param name="options">Polling, batching and retries.</param>
    /// <param name="timeProvider">The clock of waits and leases; the system clock when none is given.</param>
    /// <param name="logger">Where failures are logged; nowhere when none is given.</param>
    /// <param name="meterFactory">The application's meters (the runner's instruments are on <see cref="MeterName"/>); a meter of its own when none is given.</param>
    public OracleRunner(
        IOracleTaskSource source, IInferenceBackend backend, AttestationSigner signer, IOptions<OracleRunnerOptions> options, TimeProvider? timeProvider = null, ILogger<OracleRunner>? logger = null,
        IMeterFactory? meterFactory = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(backend);
        ArgumentNullException.ThrowIfNull(signer);
        ArgumentNullException.ThrowIfNull(options);
        _source = source;
        _backend = backend;
        _signer = signer;
        _options = ValidatedOptions.Value(options, new OracleRunnerOptionsValidator());
        _timeProvider = timeProvider ?? TimeProvider.System;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        var meter = meterFactory?.Create(MeterName) ?? new Meter(MeterName);
        _completedCounter = meter.CreateCounter<long>("anpm.oracle.tasks.completed", description: "Tasks whose signed result was submitted.");
        _failedCounter = meter.CreateCounter<long>("anpm.oracle.tasks.failed", description: "Tasks reported as failures.");
        _sourceErrors = meter.CreateCounter<long>("anpm.oracle.source.errors", description: "Claims or submissions the task source failed.");
        _duration = meter.CreateHistogram<double>("anpm.oracle.task.duration", "ms", "From claim to submission.");
        _batchSizes = meter.CreateHistogram<int>("anpm.oracle.batch.size", description: "Tasks run together in one batch.");
    }

    /// <summary>Tasks whose result was submitted.</summary>
    public long Completed => Interlocked.Read(ref _completed);

    /// <summary>Tasks reported as failures.</summary>
    public long Failed => Interlocked.Read(ref _failed);

    /// <summary>Whether the claim loop is running (started and not stopped).</summary>
    public bool IsRunning => ExecuteTask is { IsCompleted: false };

    /// <summary>When the task source last answered a claim (with a task or with none); null before the first answer.</summary>
    public DateTimeOffset? LastSourceContact => Interlocked.Read(ref _lastContactTicks) is var ticks and > 0 ? new DateTimeOffset(ticks, TimeSpan.Zero) : null;

    /// <summary>Why the task source last failed a claim; null once it answers again.</summary>
    public string? LastSourceError => _lastSourceError;

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var slots = new SemaphoreSlim(_options.MaxConcurrency);
        using var work = new CancellationTokenSource(); // cancels in-flight inference once the grace period is over
        var running = new List<Task>();
        var retryDelay = _options.IdlePollMilliseconds;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                await slots.WaitAsync(stoppingToken).ConfigureAwait(false);
                OracleTask? task;
                try
                {
                    task = await _source.ClaimAsync(stoppingToken).ConfigureAwait(false);
                    retryDelay = _options.IdlePollMilliseconds;
                    Interlocked.Exchange(ref _lastContactTicks, _timeProvider.GetUtcNow().UtcTicks);
                    _lastSourceError = null;
                }
                catch (Exception exception) when (exception is not OperationCanceledException)
                {
                    slots.Release();
                    _sourceErrors.Add(1);
                    _lastSourceError = exception.Message;
                    if (exception is HttpRequestException)
                    {
                        // The host refused or could not be reached: its words say it all, a stack trace would not.
                        LogClaimRefused(_logger, retryDelay, exception.Message);
                    }
                    else
                    {
                        LogClaimFailed(_logger, exception, retryDelay);
                    }

                    await Task.Delay(TimeSpan.FromMilliseconds(retryDelay), _timeProvider, stoppingToken).ConfigureAwait(false);
                    retryDelay = Math.Min(retryDelay * 2, _options.MaxRetryMilliseconds);
                    continue;
                }

                if (task is null)
                {
                    slots.Release();
                    await Task.Delay(TimeSpan.FromMilliseconds(_options.IdlePollMilliseconds), _timeProvider, stoppingToken).ConfigureAwait(false);
                    continue;
                }

                var batch = await GatherAsync(task, stoppingToken).ConfigureAwait(false);
                running.RemoveAll(t => t.IsCompleted);
                running.Add(Task.Run(async () =>
                {
                    try
                    {
                        foreach (var group in batch.GroupBy(t => (t.Model, t.ModelHash)))
                        {
                            await ProcessBatchAsync([.. group], work.Token).ConfigureAwait(false);
                        }
                    }
                    catch (Exception exception)
                    {
                        // The source kept failing: the lease will expire and the pool requeues the task.
                        LogSubmitGaveUp(_logger, exception, task.TaskId);
                    }
                    finally
                    {
                        slots.Release();
                    }
                }, CancellationToken.None));
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping: no more claims.
        }

        // Graceful shutdown: in-flight tasks may finish; after the grace period they are cancelled and reported.
        var all = Task.WhenAll(running);
        if (await Task.WhenAny(all, Task.Delay(TimeSpan.FromMilliseconds(_options.ShutdownGraceMilliseconds), _timeProvider, CancellationToken.None)).ConfigureAwait(false) != all)
        {
            await work.CancelAsync().ConfigureAwait(false);
            await all.ConfigureAwait(false);
        }
    }

    /// <summary>Runs one leased task to its submitted result or reported failure (never leaves it locked while the source answers).</summary>
    public Task ProcessAsync(OracleTask task, CancellationToken cancellationToken) => ProcessBatchAsync([task], cancellationToken);

    /// <summary>Runs leased tasks of one model (as one batch when there are several) and submits each result or failure.</summary>
    public async Task ProcessBatchAsync(IReadOnlyList<OracleTask> tasks, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(tasks);
        var started = Stopwatch.GetTimestamp();
        IReadOnlyList<BatchItemResult> outcomes;
        using var working = new CancellationTokenSource();
        var renewing = RenewWhileWorkingAsync(tasks, working.Token);
        try
        {
            outcomes = tasks.Count == 1
                ? [new BatchItemResult(await _backend.RunAsync(new InferenceRequest(tasks[0].Model, tasks[0].ModelHash, tasks[0].Input), cancellationToken).ConfigureAwait(false), null)]
                : await _backend.RunBatchAsync([.. tasks.Select(t => new InferenceRequest(t.Model, t.ModelHash, t.Input))], cancellationToken).ConfigureAwait(false);
        }
        catch (InferenceFailedException exception)
        {
            outcomes = [.. tasks.Select(_ => new BatchItemResult(null, exception.Message))];
        }
        catch (OperationCanceledException)
        {
            outcomes = [.. tasks.Select(_ => new BatchItemResult(null, "node shutting down"))];
        }
        catch (Exception exception)
        {
            outcomes = [.. tasks.Select(_ => new BatchItemResult(null, "backend error: " + exception.Message))]; // never let a throwing backend leave a task locked
        }

        // Cancelled in place: the renewal loop wakes on this thread and ends, without a hop to the thread pool per task.
        working.Cancel();
        await renewing.ConfigureAwait(false);
        if (tasks.Count > 1)
        {
            _batchSizes.Record(tasks.Count, new KeyValuePair<string, object?>("model", tasks[0].Model));
        }

        var errors = new List<Exception>();
        for (var i = 0; i < tasks.Count; i++)
        {
            try
            {
                await SubmitAsync(tasks[i], outcomes[i].Result, outcomes[i].Failure ?? "backend returned nothing", started).ConfigureAwait(false);
            }
            catch (Exception exception)
            {
                errors.Add(exception);
            }
        }

        if (errors.Count > 0)
        {
            throw new AggregateException(errors);
        }
    }

    // Long work keeps its leases: each is renewed when half of its remaining time has passed, while the work runs.
    private async Task RenewWhileWorkingAsync(IReadOnlyList<OracleTask> tasks, CancellationToken working)
    {
        var expiries = tasks.ToDictionary(t => t, t => t.LeaseExpiresAt);
        try
        {
            while (expiries.Count > 0)
            {
                var now = _timeProvider.GetUtcNow();
                var soonest = expiries.Values.Min();
                var half = soonest > now ? TimeSpan.FromTicks((soonest - now).Ticks / 2) : TimeSpan.Zero;
                // The usual end is the work finishing first: waking up cancelled without an exception keeps that cheap
                // (a thrown and caught cancellation costs more than a small model's whole inference).
                await Task.Delay(half < TimeSpan.FromMilliseconds(10) ? TimeSpan.FromMilliseconds(10) : half > TimeSpan.FromHours(1) ? TimeSpan.FromHours(1) : half,
                    _timeProvider, working).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                if (working.IsCancellationRequested)
                {
                    return;
                }

                foreach (var task in expiries.Where(e => e.Value - _timeProvider.GetUtcNow() <= (e.Value - now) / 2 + TimeSpan.FromMilliseconds(1)).Select(e => e.Key).ToList())
                {
                    DateTimeOffset? renewed;
                    try
                    {
                        renewed = await _source.RenewAsync(task, working).ConfigureAwait(false);
                    }
                    catch (Exception exception) when (exception is not OperationCanceledException)
                    {
                        _sourceErrors.Add(1);
                        renewed = null;
                    }

                    if (renewed is { } expiry && expiry > expiries[task])
                    {
                        expiries[task] = expiry;
                    }
                    else
                    {
                        expiries.Remove(task); // not renewable: the lease it has is what it gets
                    }
                }
            }
        }
        catch (OperationCanceledException) when (working.IsCancellationRequested)
        {
            // The work is done.
        }
        catch (Exception exception)
        {
            // Renewal is best effort: the work and its submission go on.
            LogRenewFailed(_logger, exception);
        }
    }

    // More tasks for one batch: claimed until the batch is full, the source has none, or the wait is over.
    private async Task<List<OracleTask>> GatherAsync(OracleTask first, CancellationToken cancellationToken)
    {
        var batch = new List<OracleTask> { first };
        if (_options.MaxBatchSize == 1)
        {
            return batch;
        }

        var until = _timeProvider.GetUtcNow().AddMilliseconds(_options.BatchWaitMilliseconds);
        while (batch.Count < _options.MaxBatchSize && _timeProvider.GetUtcNow() <= until && !cancellationToken.IsCancellationRequested)
        {
            OracleTask? next;
            try
            {
                next = await _source.ClaimAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                _sourceErrors.Add(1);
                break;
            }
            catch (OperationCanceledException)
            {
                break;
            }

            if (next is null)
            {
                break;
            }

            batch.Add(next);
        }

        return batch;
    }

    private async Task SubmitAsync(OracleTask task, InferenceResult? result, string failure, long started)
    {
        failure = failure.Length > 256 ? failure[..256] : failure;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                if (result is not null)
                {
                    var signature = await _signer.SignResultAsync(task, result.OutputHash).ConfigureAwait(false);
                    await _source.SubmitResultAsync(task, result, signature, CancellationToken.None).ConfigureAwait(false);
                    Interlocked.Increment(ref _completed);
                    _completedCounter.Add(1, new KeyValuePair<string, object?>("model", task.Model));
                }
                else
                {
                    var signature = await _signer.SignFailureAsync(task, failure).ConfigureAwait(false);
                    await _source.SubmitFailureAsync(task, failure, signature, CancellationToken.None).ConfigureAwait(false);
                    Interlocked.Increment(ref _failed);
                    _failedCounter.Add(1, new KeyValuePair<string, object?>("model", task.Model));
                    LogTaskFailed(_logger, task.TaskId, failure);
                }

                _duration.Record(Stopwatch.GetElapsedTime(started).TotalMilliseconds, new KeyValuePair<string, object?>("model", task.Model));
                return;
            }
            catch (Exception exception) when (attempt < 5 && _timeProvider.GetUtcNow() < task.LeaseExpiresAt)
            {
                // Transient trouble submitting: retry while the lease lasts (after it, the pool requeues the task).
                _sourceErrors.Add(1);
                LogSubmitRetry(_logger, exception, task.TaskId, attempt);
                await Task.Delay(TimeSpan.FromMilliseconds(100 << attempt), _timeProvider, CancellationToken.None).ConfigureAwait(false);
            }
        }
    }

    [LoggerMessage(EventId = 201, Level = LogLevel.Warning, Message = "Claiming failed; retrying in {Delay} ms: {Error}")]
    private static partial void LogClaimRefused(ILogger logger, int delay, string error);

    [LoggerMessage(EventId = 202, Level = LogLevel.Warning, Message = "Claiming failed; retrying in {Delay} ms.")]
    private static partial void LogClaimFailed(ILogger logger, Exception exception, int delay);

    [LoggerMessage(EventId = 203, Level = LogLevel.Error, Message = "Task {Task} could not be submitted; its lease will expire.")]
    private static partial void LogSubmitGaveUp(ILogger logger, Exception exception, string task);

    [LoggerMessage(EventId = 204, Level = LogLevel.Warning, Message = "Renewing leases failed.")]
    private static partial void LogRenewFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 205, Level = LogLevel.Warning, Message = "Task {Task} failed on this node: {Reason}")]
    private static partial void LogTaskFailed(ILogger logger, string task, string reason);

    [LoggerMessage(EventId = 206, Level = LogLevel.Warning, Message = "Submitting task {Task} failed (attempt {Attempt}); retrying.")]
    private static partial void LogSubmitRetry(ILogger logger, Exception exception, string task, int attempt);
}

/// <summary>Validates <see cref="OracleRunnerOptions"/> (concurrency, polling, retries, shutdown and batching); registered with the package and run at start.</summary>
public sealed class OracleRunnerOptionsValidator : IValidateOptions<OracleRunnerOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, OracleRunnerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.MaxConcurrency is < 1 or > 256 || options.IdlePollMilliseconds is < 10 or > 60_000 || options.MaxRetryMilliseconds < options.IdlePollMilliseconds || options.ShutdownGraceMilliseconds < 0 || options.MaxBatchSize is < 1 or > 1024 || options.BatchWaitMilliseconds is < 0 or > 1000
            ? ValidateOptionsResult.Fail("OracleRunnerOptions: MaxConcurrency must be 1 to 256; IdlePollMilliseconds 10 to 60000; MaxRetryMilliseconds at least IdlePollMilliseconds; ShutdownGraceMilliseconds at least 0; MaxBatchSize 1 to 1024; BatchWaitMilliseconds 0 to 1000.")
            : ValidateOptionsResult.Success;
    }
}
