using System.Globalization;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Anpm.Gateway.Evm;

/// <summary>
/// The deposit listener's health for <c>/healthz</c>: Unhealthy while a reorg below the credited height halts crediting
/// (an operator must act); Degraded before the first poll or when more than <paramref name="maxLagBlocks"/> final blocks
/// are not yet credited; Healthy otherwise. Its data: head, final, cursor, lag and pending deposits. Register it with
/// <c>services.AddHealthChecks().AddCheck&lt;EvmDepositHealthCheck&gt;("evm-deposits")</c>.
/// </summary>
public sealed class EvmDepositHealthCheck(EvmDepositListener listener, int maxLagBlocks = 100) : IHealthCheck
{
    /// <inheritdoc />
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(listener);
        ArgumentOutOfRangeException.ThrowIfNegative(maxLagBlocks);
        if (listener.LastPoll is not { } poll)
        {
            return Task.FromResult(HealthCheckResult.Degraded("The deposit listener has not completed a poll yet."));
        }

        var lag = Math.Max(0, poll.LastFinal - poll.Cursor);
        var data = new Dictionary<string, object>
        {
            ["head"] = poll.Head,
            ["final"] = poll.LastFinal,
            ["cursor"] = poll.Cursor,
            ["lag"] = lag,
            ["pending"] = poll.Pending.Count,
        };
        var result = poll.HaltReason is { } halt ? HealthCheckResult.Unhealthy(halt, data: data)
            : lag > maxLagBlocks ? HealthCheckResult.Degraded(string.Create(CultureInfo.InvariantCulture, $"{lag} final blocks are not credited yet (more than {maxLagBlocks})."), data: data)
            : HealthCheckResult.Healthy(string.Create(CultureInfo.InvariantCulture, $"Credited up to block {poll.Cursor}; {poll.Pending.Count} deposits pending."), data);
        return Task.FromResult(result);
    }
}
