using Anpm.Abstractions;
using HealthChecks.UI.Client;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Anpm.AspNetCore;

/// <summary>Anpm's health checks in ASP.NET Core (tag <see cref="Tag"/>): the report's JSON writer; the oracle backlog check (the store, schema and jobs checks come with <c>AddAnpmJobs</c>).</summary>
public static class AnpmHealthChecks
{
    /// <summary>The tag of Anpm's checks (<see cref="Anpm.Hosting.AnpmHealthCheckTags.Anpm"/>).</summary>
    public const string Tag = Anpm.Hosting.AnpmHealthCheckTags.Anpm;

    /// <summary>Writes the report as JSON (the HealthChecks.UI format: status, total duration and each check's status, description and data).</summary>
    public static Task WriteJsonAsync(HttpContext context, HealthReport report) => UIResponseWriter.WriteHealthCheckUIResponse(context, report);
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
