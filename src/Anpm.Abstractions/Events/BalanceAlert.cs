namespace Anpm.Abstractions;

/// <summary>
/// A low-balance alert: when an account's available credits in a pool fall to or below <see cref="Threshold"/> a
/// <c>balance.low</c> event is written — once per crossing: the alert is then disarmed until the credits rise above the
/// threshold again.
/// </summary>
public sealed record BalanceAlert
{
    /// <summary>The account.</summary>
    public required Address Account { get; init; }

    /// <summary>The pool whose credits are watched.</summary>
    public required PoolId PoolId { get; init; }

    /// <summary>The level at or below which the alert fires.</summary>
    public required TokenAmount Threshold { get; init; }

    /// <summary>Whether the credits are above the threshold (the next fall fires); false after it fired, until they rise.</summary>
    public required bool Armed { get; init; }

    /// <summary>When the threshold was set or the alert last fired or re-armed.</summary>
    public required DateTimeOffset ChangedAt { get; init; }

    /// <summary>The store's version of the record, for optimistic updates.</summary>
    public long Version { get; init; }
}

/// <summary>Storage of low-balance alerts inside a unit of work.</summary>
public interface IBalanceAlertStore
{
    /// <summary>Reads the alert of an account in a pool.</summary>
    ValueTask<BalanceAlert?> GetAlertAsync(Address account, PoolId pool, CancellationToken cancellationToken = default);

    /// <summary>An account's alerts, in pool order.</summary>
    ValueTask<IReadOnlyList<BalanceAlert>> ListAlertsAsync(Address account, CancellationToken cancellationToken = default);

    /// <summary>Inserts an alert (at version 0) unless the account has one in that pool.</summary>
    /// <returns><see langword="false"/> when it exists; nothing changed.</returns>
    ValueTask<bool> TryInsertAlertAsync(BalanceAlert alert, CancellationToken cancellationToken = default);

    /// <summary>Replaces an alert's threshold, armed flag and time if its version is still <paramref name="expectedVersion"/> (then + 1). May be pipelined.</summary>
    /// <exception cref="AnpmConcurrencyException">The alert changed meanwhile.</exception>
    ValueTask UpdateAlertAsync(BalanceAlert updated, long expectedVersion, CancellationToken cancellationToken = default);

    /// <summary>Removes an alert.</summary>
    /// <returns><see langword="false"/> when there was none.</returns>
    ValueTask<bool> DeleteAlertAsync(Address account, PoolId pool, CancellationToken cancellationToken = default);
}
