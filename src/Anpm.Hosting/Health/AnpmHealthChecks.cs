using Anpm.Abstractions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Anpm.Hosting;

/// <summary>The tags of Anpm's health checks.</summary>
public static class AnpmHealthCheckTags
{
    /// <summary>Every Anpm check carries it (store, schema, jobs, oracle backlog, the EVM gateway's): filter a health endpoint with it.</summary>
    public const string Anpm = "anpm";
}

/// <summary>The store answers a read.</summary>
internal sealed class StoreHealthCheck(IAnpmStore store) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            var state = await store.RunReadAsync(0, static (u, _, ct) => u.System.GetSystemStateAsync(ct), cancellationToken).ConfigureAwait(false);
            return HealthCheckResult.Healthy(state.Paused ? "reachable; the system is paused" : "reachable", new Dictionary<string, object> { ["paused"] = state.Paused });
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            return HealthCheckResult.Unhealthy("The store did not answer: " + exception.Message, exception);
        }
    }
}

/// <summary>The database is at this code's schema version (degraded when a newer instance migrated it further).</summary>
internal sealed class SchemaHealthCheck(IStoreSchema schema) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            var version = await schema.GetSchemaVersionAsync(cancellationToken).ConfigureAwait(false);
            var data = new Dictionary<string, object> { ["code"] = version.Code, ["database"] = version.Database };
            return version.IsCurrent ? HealthCheckResult.Healthy($"schema version {version.Code}", data)
                : version.Database > version.Code ? HealthCheckResult.Degraded($"The database is at schema version {version.Database}, newer than this code's {version.Code}: upgrade this instance.", data: data)
                : HealthCheckResult.Unhealthy($"The database is at schema version {version.Database}, older than this code's {version.Code}.", data: data);
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            return HealthCheckResult.Unhealthy("The schema version could not be read: " + exception.Message, exception);
        }
    }
}

/// <summary>
/// Every job's loop is running and ran within three intervals (plus 30 s of slack); degraded when a job failed three
/// times in a row, unhealthy when one stopped or is stale.
/// </summary>
internal sealed class JobsHealthCheck(AnpmJobMonitor monitor, TimeProvider timeProvider, IOptions<AnpmJobsOptions> options) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (!options.Value.Enabled)
        {
            return Task.FromResult(HealthCheckResult.Healthy("jobs are off on this instance"));
        }

        var now = timeProvider.GetUtcNow();
        var data = new Dictionary<string, object>();
        var (stale, failing) = (new List<string>(), new List<string>());
        foreach (var (name, state) in monitor.Jobs)
        {
            data[name] = new { lastRun = state.LastRun, lastSuccess = state.LastSuccess, state.ConsecutiveFailures, state.LastError };
            var since = state.LastRun ?? state.StartedAt;
            if (state.Stopped || now - since > (3 * state.Interval) + TimeSpan.FromSeconds(30))
            {
                stale.Add(name);
            }
            else if (state.ConsecutiveFailures >= 3)
            {
                failing.Add($"{name} ({state.LastError})");
            }
        }

        return Task.FromResult(
            monitor.Jobs.Count == 0 ? HealthCheckResult.Unhealthy("No job has started.")
            : stale.Count > 0 ? HealthCheckResult.Unhealthy("Not running or stale: " + string.Join(", ", stale) + ".", data: data)
            : failing.Count > 0 ? HealthCheckResult.Degraded("Failing: " + string.Join(", ", failing) + ".", data: data)
            : HealthCheckResult.Healthy($"{monitor.Jobs.Count} jobs running", data));
    }
}

