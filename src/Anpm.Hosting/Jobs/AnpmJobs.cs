using System.Collections.Concurrent;
using System.Diagnostics;
using Anpm.Abstractions;
using Anpm.Credits;
using Anpm.Pools;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Anpm.Hosting;

/// <summary>One background job: its name, how often it runs and what it does (returns how many items it handled).</summary>
/// <param name="Name">The job's name (metrics, logs, its job lease <c>anpm-job:{name}</c>).</param>
/// <param name="Interval">How long it waits between runs.</param>
/// <param name="Run">One run; null when the service it needs is not registered (the job does not run).</param>
internal sealed record AnpmJob(string Name, TimeSpan Interval, Func<CancellationToken, ValueTask<int>>? Run);

/// <summary>What each job last did, for the health check.</summary>
public sealed class AnpmJobMonitor
{
    private readonly ConcurrentDictionary<string, AnpmJobState> _jobs = new(StringComparer.Ordinal);

    /// <summary>Every job this instance runs, by name.</summary>
    public IReadOnlyDictionary<string, AnpmJobState> Jobs => _jobs;

    internal void Started(string name, TimeSpan interval, DateTimeOffset now) => _jobs[name] = new AnpmJobState(interval, now, null, null, 0, null, Stopped: false);

    internal void Ran(string name, DateTimeOffset now, bool succeeded, string? error) =>
        _jobs.AddOrUpdate(name, static (_, _) => throw new InvalidOperationException("The job was not started."), static (_, state, update) => state with
        {
            LastRun = update.now,
            LastSuccess = update.succeeded ? update.now : state.LastSuccess,
            ConsecutiveFailures = update.succeeded ? 0 : state.ConsecutiveFailures + 1,
            LastError = update.succeeded ? state.LastError : update.error,
        }, (now, succeeded, error));

    internal void Stopped(string name) => _jobs.AddOrUpdate(name, static (_, _) => throw new InvalidOperationException("The job was not started."), static (_, state, _) => state with { Stopped = true }, 0);
}

/// <summary>A job's last activity.</summary>
/// <param name="Interval">How often it runs.</param>
/// <param name="StartedAt">When its loop started.</param>
/// <param name="LastRun">When it last ran, or found another instance running it; null before the first run.</param>
/// <param name="LastSuccess">When it last ran without an error.</param>
/// <param name="ConsecutiveFailures">Runs that failed since the last success.</param>
/// <param name="LastError">The last failure in words.</param>
/// <param name="Stopped">Whether its loop ended (the host is stopping).</param>
public sealed record AnpmJobState(TimeSpan Interval, DateTimeOffset StartedAt, DateTimeOffset? LastRun, DateTimeOffset? LastSuccess, int ConsecutiveFailures, string? LastError, bool Stopped);

/// <summary>
/// Runs Anpm's background jobs, each in its own loop: payment timeout, pool settlement, inference sweep (lease expiry and pending timeout),
/// outbox dispatch (with <see cref="AnpmJobsOptions.DispatchOutbox"/>), pending-transfer expiry, daily incentives, daily
/// revenue, credit grant expiry and webhook delivery. Each run takes the job's lease (<see cref="IJobLockProvider"/>), so on several instances a job runs on one at
/// a time; waits on the application's <see cref="TimeProvider"/>; logs every failure it swallows and records metrics and a
/// span. A failing job never stops another, and runs again at its next interval.
/// </summary>
internal sealed partial class AnpmJobScheduler(
    IServiceProvider services, IJobLockProvider locks, AnpmJobMonitor monitor, AnpmJobTelemetry telemetry, TimeProvider timeProvider,
    IOptions<AnpmJobsOptions> options, ILogger<AnpmJobScheduler> logger) : BackgroundService
{
    public override Task StartAsync(CancellationToken cancellationToken)
    {
        if (options.Value.Enabled && options.Value.DispatchOutbox && services.GetService<Outbox>() is not null && services.GetService<ITokenGateway>() is null)
        {
            throw new InvalidOperationException("AnpmJobsOptions.DispatchOutbox is on, but no ITokenGateway is registered to send outgoing transfers through.");
        }

        return base.StartAsync(cancellationToken);
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Value.Enabled)
        {
            LogJobsDisabled(logger);
            return Task.CompletedTask;
        }

        return Task.WhenAll(Jobs().Where(static job => job.Run is not null).Select(job => Task.Run(() => LoopAsync(job, stoppingToken), CancellationToken.None)));
    }

    private IEnumerable<AnpmJob> Jobs()
    {
        var jobs = options.Value;
        T? Get<T>() where T : class => services.GetService<T>();
        var contributions = Get<ContributionService>();
        var inference = Get<InferenceService>();
        var outbox = jobs.DispatchOutbox ? Get<Outbox>() : null;
        var ledger = Get<Ledger>();
        var staking = Get<StakingService>();
        var credits = Get<CreditService>();
        yield return new AnpmJob("payment-timeout", jobs.PaymentTimeout, contributions is null ? null : contributions.CancelOverdueAsync);
        yield return new AnpmJob("pool-settlement", jobs.PoolSettlement, contributions is null ? null : contributions.SettlePoolsAsync);
        yield return new AnpmJob("inference-sweep", jobs.InferenceSweep, inference is null ? null : inference.SweepAsync);
        yield return new AnpmJob("outbox-dispatch", jobs.OutboxDispatch, outbox is null ? null : ct => outbox.DispatchDueAsync(ct));
        yield return new AnpmJob("pending-expiry", jobs.PendingExpiry, ledger is null ? null : ledger.ExpirePendingTransfersAsync);
        yield return new AnpmJob("daily-incentives", jobs.DailyIncentives, staking is null ? null : async ct =>
        {
            var report = await staking.ProcessEpochsAsync(ct).ConfigureAwait(false);
            return report.Failures.Count == 0 ? report.EpochsProcessed
                : throw new AnpmException($"{report.Failures.Count} pool(s) failed: " + string.Join("; ", report.Failures.Select(f => $"{f.Pool}: {f.Error}")));
        });
        yield return new AnpmJob("daily-revenue", jobs.DailyRevenue, credits is null ? null : credits.SendDailyRevenueAsync);
        var grants = Get<CreditGrantService>();
        yield return new AnpmJob("credit-expiry", jobs.CreditExpiry, grants is null ? null : grants.ExpireDueAsync);
        var webhooks = Get<WebhookDispatcher>();
        yield return new AnpmJob("webhooks", jobs.Webhooks, webhooks is null ? null : webhooks.RunAsync);
    }

    private async Task LoopAsync(AnpmJob job, CancellationToken stoppingToken)
    {
        monitor.Started(job.Name, job.Interval, timeProvider.GetUtcNow());
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                await RunOnceAsync(job, stoppingToken).ConfigureAwait(false);
                await Task.Delay(job.Interval, timeProvider, stoppingToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // The host is stopping.
        }
        finally
        {
            monitor.Stopped(job.Name);
        }
    }

    private async Task RunOnceAsync(AnpmJob job, CancellationToken stoppingToken)
    {
        var started = Stopwatch.GetTimestamp();
        var outcome = "ok";
        using var activity = AnpmJobTelemetry.Source.StartActivity("anpm.job " + job.Name);
        activity?.SetTag("anpm.job", job.Name);
        try
        {
            await using var lease = await locks.TryAcquireAsync("anpm-job:" + job.Name, stoppingToken).ConfigureAwait(false);
            if (lease is null)
            {
                outcome = "skipped"; // another instance runs it now
                monitor.Ran(job.Name, timeProvider.GetUtcNow(), succeeded: true, null);
            }
            else
            {
                var items = await job.Run!(stoppingToken).ConfigureAwait(false);
                telemetry.JobItems.Add(items, new KeyValuePair<string, object?>("job", job.Name));
                activity?.SetTag("anpm.job.items", items);
                monitor.Ran(job.Name, timeProvider.GetUtcNow(), succeeded: true, null);
            }
        }
        catch (Exception exception) when (!stoppingToken.IsCancellationRequested)
        {
            outcome = "failed";
            activity?.SetStatus(ActivityStatusCode.Error, exception.Message);
            monitor.Ran(job.Name, timeProvider.GetUtcNow(), succeeded: false, exception.Message);
            LogJobFailed(logger, exception, job.Name, job.Interval);
        }

        telemetry.JobRuns.Add(1, new KeyValuePair<string, object?>("job", job.Name), new KeyValuePair<string, object?>("outcome", outcome));
        telemetry.JobDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, new KeyValuePair<string, object?>("job", job.Name));
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Error, Message = "Job {Job} failed; it runs again in {Interval}.")]
    private static partial void LogJobFailed(ILogger logger, Exception exception, string job, TimeSpan interval);

    [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "Anpm's background jobs are off on this instance (AnpmJobsOptions.Enabled).")]
    private static partial void LogJobsDisabled(ILogger logger);
}
