using System.Globalization;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Anpm.Gateway.Evm;

/// <summary>
/// The payout sender's health for <c>/healthz</c>: Degraded while payouts are held for a reason an operator must fix
/// (fees above the cap, no ether for gas, not enough tokens in the hot wallet, a transfer over the limits) or while a payment has waited longer than
/// <paramref name="maxOpenAge"/> (default one hour) without being final; Healthy otherwise. Its data: the hold reason,
/// the open nonces and the oldest one's age.
/// </summary>
public sealed class EvmPayoutHealthCheck(EvmPayoutSender sender, TimeProvider timeProvider, TimeSpan? maxOpenAge = null) : IHealthCheck
{
    /// <inheritdoc />
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(sender);
        ArgumentNullException.ThrowIfNull(timeProvider);
        var limit = maxOpenAge ?? TimeSpan.FromHours(1);
        var last = sender.LastReconcile;
        var age = last?.OldestOpenSince is { } since ? timeProvider.GetUtcNow() - since : TimeSpan.Zero;
        var data = new Dictionary<string, object>
        {
            ["hold"] = sender.LastHold.ToString(),
            ["open"] = last?.Open ?? 0,
            ["oldestOpenSeconds"] = (long)age.TotalSeconds,
        };
        var operatorHolds = sender.HeldTransfers.Values
            .Where(reason => reason is EvmPayoutHold.FeeCapReached or EvmPayoutHold.InsufficientGasFunds or EvmPayoutHold.InsufficientTokens
                or EvmPayoutHold.AboveTransferLimit or EvmPayoutHold.DailyLimitReached)
            .GroupBy(reason => reason)
            .ToDictionary(g => g.Key.ToString(), g => g.Count());
        data["held"] = operatorHolds.Values.Sum();
        var result = operatorHolds.Count > 0
            ? HealthCheckResult.Degraded(
                $"Payouts are held: {string.Join(", ", operatorHolds.Select(h => $"{h.Value} for {h.Key}"))} (wallet {sender.Wallet}).", data: data)
            : age > limit
                ? HealthCheckResult.Degraded(string.Create(CultureInfo.InvariantCulture, $"A payout has waited {age.TotalMinutes:0} minutes without being final."), data: data)
                : HealthCheckResult.Healthy("Payouts are flowing.", data);
        return Task.FromResult(result);
    }
}
