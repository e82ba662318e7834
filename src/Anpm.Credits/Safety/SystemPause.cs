using Anpm.Abstractions;

namespace Anpm.Credits;

/// <summary>The outcome of pausing or resuming the system.</summary>
public enum SetPauseResult
{
    /// <summary>The system is now in the requested state.</summary>
    Changed = 1,

    /// <summary>It already was; nothing changed.</summary>
    Unchanged = 2,
}

/// <summary>The result of <see cref="SystemPause.SetAsync(bool, Address, string, CancellationToken)"/>.</summary>
/// <param name="Result">Changed or unchanged.</param>
/// <param name="State">The system state after the command.</param>
public sealed record SetPauseOutcome(SetPauseResult Result, SystemState State);

/// <summary>
/// The global (system) pause, an operator's emergency stop: while paused, commands that move money out of their
/// current place (contributions, funding, distributing, claims, closing, credit purchases) are refused with a "paused"
/// result and the <see cref="Outbox"/> sends nothing; incoming notices are still recorded so no token is lost, and the
/// outbox's confirmations are still accepted (they report what already happened). Who may pause is the caller's check.
/// </summary>
public sealed class SystemPause
{
    /// <summary>The longest reason accepted, in characters.</summary>
    public const int MaxReasonLength = 256;

    private readonly IAnpmStore _store;
    private readonly TimeProvider _timeProvider;

    /// <summary>Creates the switch over a store.</summary>
    /// <param name="store">The store holding the system state.</param>
    /// <param name="timeProvider">The clock.</param>
    public SystemPause(IAnpmStore store, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(timeProvider);
        _store = store;
        _timeProvider = timeProvider;
    }

    /// <summary>Reads the system state.</summary>
    public ValueTask<SystemState> GetAsync(CancellationToken cancellationToken = default) =>
        _store.RunReadAsync(0, static (unitOfWork, _, ct) => unitOfWork.System.GetSystemStateAsync(ct), cancellationToken);

    /// <summary>Pauses or resumes the system.</summary>
    /// <param name="paused">Pause (true) or resume (false).</param>
    /// <param name="by">Who decided it (recorded).</param>
    /// <param name="reason">Why (recorded; at most <see cref="MaxReasonLength"/> characters, no control characters).</param>
    /// <param name="cancellationToken">Cancels the command.</param>
    /// <exception cref="ArgumentException">The reason is too long or holds control characters.</exception>
    public ValueTask<SetPauseOutcome> SetAsync(bool paused, Address by, string reason, CancellationToken cancellationToken = default) =>
        _store.RunAsync((Service: this, Paused: paused, By: by, Reason: reason), static (unitOfWork, r, ct) => r.Service.SetAsync(unitOfWork, r.Paused, r.By, r.Reason, ct), cancellationToken);

    /// <summary>The same command inside the caller's unit of work, which the caller commits (or ends uncommitted: then nothing of it is kept).</summary>
    public async ValueTask<SetPauseOutcome> SetAsync(IAnpmUnitOfWork unitOfWork, bool paused, Address by, string reason, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(unitOfWork);
        reason ??= string.Empty;
        if (reason.Length > MaxReasonLength || reason.Any(char.IsControl))
        {
            throw new ArgumentException($"A pause reason is at most {MaxReasonLength} characters without control characters.", nameof(reason));
        }

        var now = _timeProvider.GetUtcNow();
        var current = await unitOfWork.System.GetSystemStateAsync(cancellationToken).ConfigureAwait(false);
        if (current.Paused == paused)
        {
            return new SetPauseOutcome(SetPauseResult.Unchanged, current);
        }

        var updated = new SystemState { Paused = paused, ChangedAt = now, ChangedBy = by, Reason = reason };
        await unitOfWork.System.UpdateSystemStateAsync(updated, current.Version, cancellationToken).ConfigureAwait(false);
        return new SetPauseOutcome(SetPauseResult.Changed, updated with { Version = current.Version + 1 });
    }
}
