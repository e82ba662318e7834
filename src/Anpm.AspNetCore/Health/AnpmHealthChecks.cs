using Anpm.Abstractions;
using HealthChecks.UI.Client;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Anpm.AspNetCore;

/// <summary>Anpm's health checks (tag <see cref="Tag"/>): the store, its schema, the jobs and the oracle backlog.</summary>
public static class AnpmHealthChecks
{
    /// <summary>The tag of Anpm's checks.</summary>
    public const string Tag = "anpm";

    /// <summary>Writes the report as JSON (the HealthChecks.UI format: status, total duration and each check's status, description and data).</summary>
    public static Task WriteJsonAsync(HttpContext context, HealthReport report) => UIResponseWriter.WriteHealthCheckUIResponse(context, report);
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
internal sealed class JobsHealthCheck(AnpmJobMonitor monitor, TimeProvider timeProvider, IOptions<AnpmApiOptions> options) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (!options.Value.Jobs.Enabled)
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

/// <summary>Tasks waiting with nobody working on them for longer than <see cref="AnpmApiOptions.OracleBacklogAge"/>: degraded at <see cref="AnpmApiOptions.OracleBacklogThreshold"/>.</summary>
internal sealed class OracleBacklogHealthCheck(IAnpmStore store, TimeProvider timeProvider, IOptions<AnpmApiOptions> options) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var o = options.Value;
        var idleSince = timeProvider.GetUtcNow() - o.OracleBacklogAge;
        var waiting = await store.RunReadAsync((IdleSince: idleSince, Limit: o.OracleBacklogThreshold), static async (u, q, ct) =>
            (await u.Inference.GetOverdueTasksAsync(q.IdleSince, q.Limit, ct).ConfigureAwait(false)).Count, cancellationToken).ConfigureAwait(false);
        var data = new Dictionary<string, object> { ["waiting"] = waiting, ["threshold"] = o.OracleBacklogThreshold };
        return waiting >= o.OracleBacklogThreshold
            ? HealthCheckResult.Degraded($"At least {waiting} tasks have waited over {o.OracleBacklogAge} with no oracle working on them.", data: data)
            : HealthCheckResult.Healthy($"{waiting} tasks waiting over {o.OracleBacklogAge}", data);
    }
}
