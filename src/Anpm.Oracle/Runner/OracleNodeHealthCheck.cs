using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Anpm.Oracle;

/// <summary>
/// The node's health for a <c>/healthz</c> endpoint: Unhealthy when the runner is not running or the task source has not
/// answered a claim for longer than <see cref="OracleRunnerOptions.MaxRetryMilliseconds"/> × 2 (at least a minute);
/// Degraded before the first answer; Healthy otherwise. Its data: completed and failed tasks, the last contact, the last
/// source error. Register it with <c>services.AddHealthChecks().AddCheck&lt;OracleNodeHealthCheck&gt;("oracle")</c>.
/// </summary>
public sealed class OracleNodeHealthCheck(OracleRunner runner, Microsoft.Extensions.Options.IOptions<OracleRunnerOptions> options, TimeProvider? timeProvider = null) : IHealthCheck
{
    private readonly TimeProvider _timeProvider = timeProvider ?? TimeProvider.System;

    /// <inheritdoc />
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(runner);
        ArgumentNullException.ThrowIfNull(options);
        var data = new Dictionary<string, object>
        {
            ["completed"] = runner.Completed,
            ["failed"] = runner.Failed,
            ["lastSourceContact"] = runner.LastSourceContact?.ToString("O", System.Globalization.CultureInfo.InvariantCulture) ?? "never",
        };
        if (runner.LastSourceError is { } error)
        {
            data["lastSourceError"] = error;
        }

        var patience = TimeSpan.FromMilliseconds(Math.Max(60_000, 2L * options.Value.MaxRetryMilliseconds));
        var result = !runner.IsRunning ? HealthCheckResult.Unhealthy("The oracle runner is not running.", data: data)
            : runner.LastSourceContact is not { } contact ? HealthCheckResult.Degraded("The task source has not answered a claim yet.", data: data)
            : _timeProvider.GetUtcNow() - contact > patience
                ? HealthCheckResult.Unhealthy($"The task source has not answered a claim since {contact:O}.", data: data)
                : HealthCheckResult.Healthy("Claiming and running tasks.", data);
        return Task.FromResult(result);
    }
}
