namespace Anpm.Abstractions;

/// <summary>
/// The system-wide switches, as stored: one row. While <see cref="Paused"/>, money-moving commands are refused and the
/// outbox sends nothing (an operator's emergency stop).
/// </summary>
public sealed record SystemState
{
    /// <summary>The state of a store nobody has changed yet: running, version 0.</summary>
    public static SystemState Initial { get; } = new() { Paused = false, ChangedAt = DateTimeOffset.UnixEpoch };

    /// <summary>The system is paused.</summary>
    public required bool Paused { get; init; }

    /// <summary>When it was last changed (the Unix epoch while never changed).</summary>
    public required DateTimeOffset ChangedAt { get; init; }

    /// <summary>Who changed it last; null while never changed.</summary>
    public Address? ChangedBy { get; init; }

    /// <summary>Why it was changed last (free text, at most 256 characters).</summary>
    public string Reason { get; init; } = string.Empty;

    /// <summary>The optimistic version: 0 until first changed, one more after each update.</summary>
    public long Version { get; init; }
}

/// <summary>Storage of the <see cref="SystemState"/> inside a unit of work.</summary>
public interface ISystemStateStore
{
    /// <summary>Reads the system state (<see cref="SystemState.Initial"/> when it was never changed).</summary>
    ValueTask<SystemState> GetSystemStateAsync(CancellationToken cancellationToken = default);

    /// <summary>Replaces the system state if its version is still <paramref name="expectedVersion"/>; the version then grows by one.</summary>
    /// <param name="updated">The new state (its version is ignored).</param>
    /// <param name="expectedVersion">The <see cref="SystemState.Version"/> the caller read.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <exception cref="AnpmConcurrencyException">It changed meanwhile; retrying the command is safe.</exception>
    ValueTask UpdateSystemStateAsync(SystemState updated, long expectedVersion, CancellationToken cancellationToken = default);

    /// <summary>Whether the system is paused, as this unit of work sees it (commands check it inside their own).</summary>
    /// <param name="cancellationToken">Cancels the read.</param>
    async ValueTask<bool> IsPausedAsync(CancellationToken cancellationToken = default) => (await GetSystemStateAsync(cancellationToken).ConfigureAwait(false)).Paused;
}
