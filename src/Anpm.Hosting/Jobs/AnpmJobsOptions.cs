using Microsoft.Extensions.Options;

namespace Anpm.Hosting;

/// <summary>The background jobs' intervals: each runs on one instance at a time (a job lease), every interval.</summary>
public sealed class AnpmJobsOptions
{
    /// <summary>Whether this instance runs the jobs. Default true.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Contributions not paid in time are canceled. Default 2 s.</summary>
    public TimeSpan PaymentTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Expired oracle leases free their slots; tasks nobody works on time out. Default 2 s.</summary>
    public TimeSpan InferenceSweep { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Whether this instance sends due outgoing transfers through the registered <see cref="Anpm.Credits.ITokenGateway"/>
    /// (the <c>outbox-dispatch</c> job). Default true; <c>AddAnpmApi</c> turns it off unless
    /// <c>AnpmApiOptions.OutboxDelivery</c> is <c>Dispatch</c> (a gateway that pulls over HTTP sends them itself).
    /// </summary>
    public bool DispatchOutbox { get; set; } = true;

    /// <summary>Due outgoing transfers are sent through the token gateway (with <see cref="DispatchOutbox"/>). Default 2 s.</summary>
    public TimeSpan OutboxDispatch { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Pending ledger transfers whose timeout passed are released. Default 2 s.</summary>
    public TimeSpan PendingExpiry { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Staking pools' finished epochs are paid. Default 1 min.</summary>
    public TimeSpan DailyIncentives { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Finished days' token revenue from credit sales goes to the treasury. Default 1 min.</summary>
    public TimeSpan DailyRevenue { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// Pools that started distributing, were canceled or were closed after their claim window with more contributions
    /// than one page settle the rest, a page per unit of work (<see cref="Anpm.Pools.ContributionService.SettlePoolAsync"/>). Default 2 s.
    /// </summary>
    public TimeSpan PoolSettlement { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>What is left of expired credit grants leaves through the ledger to the expired-credits account. Default 1 min.</summary>
    public TimeSpan CreditExpiry { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>New events are fanned out to webhook endpoints and due deliveries sent (with <c>AddWebhooks</c>). Default 1 s.</summary>
    public TimeSpan Webhooks { get; set; } = TimeSpan.FromSeconds(1);
}

/// <summary>Validates <see cref="AnpmJobsOptions"/>: every interval 100 ms to 1 day; each failure names the option.</summary>
public sealed class AnpmJobsOptionsValidator : IValidateOptions<AnpmJobsOptions>
{
    private static readonly TimeSpan ShortestInterval = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan LongestInterval = TimeSpan.FromDays(1);

    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, AnpmJobsOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        foreach (var (job, interval) in new[]
        {
            (nameof(AnpmJobsOptions.PaymentTimeout), options.PaymentTimeout), (nameof(AnpmJobsOptions.InferenceSweep), options.InferenceSweep),
            (nameof(AnpmJobsOptions.OutboxDispatch), options.OutboxDispatch), (nameof(AnpmJobsOptions.PendingExpiry), options.PendingExpiry),
            (nameof(AnpmJobsOptions.DailyIncentives), options.DailyIncentives), (nameof(AnpmJobsOptions.DailyRevenue), options.DailyRevenue),
            (nameof(AnpmJobsOptions.PoolSettlement), options.PoolSettlement), (nameof(AnpmJobsOptions.CreditExpiry), options.CreditExpiry),
            (nameof(AnpmJobsOptions.Webhooks), options.Webhooks),
        })
        {
            if (interval < ShortestInterval || interval > LongestInterval)
            {
                failures.Add($"AnpmJobsOptions.{job} must be 100 ms to 1 day, not {interval}.");
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
