namespace Anpm.Abstractions;

/// <summary>
/// The one retry loop of Anpm's commands: an attempt that lost a race (<see cref="AnpmConcurrencyException"/>: nothing of it
/// was kept) runs again from the start after a randomized backoff of 5 ms doubling to 160 ms, at most
/// <see cref="MaxAttempts"/> times in all. Compiled into the packages that run commands (internal shared source).
/// </summary>
internal static class LostRaceRetry
{
    /// <summary>How many times a command runs at most when it keeps losing races.</summary>
    public const int MaxAttempts = 6;

    public static async ValueTask<TResult> RunAsync<TState, TResult>(TState state, Func<TState, CancellationToken, ValueTask<TResult>> attempt, CancellationToken cancellationToken)
    {
        for (var tries = 1; ; tries++)
        {
            try
            {
                return await attempt(state, cancellationToken).ConfigureAwait(false);
            }
            catch (AnpmConcurrencyException) when (tries < MaxAttempts)
            {
                // Real time, not the application's clock: the wait is for another transaction to finish. The jitter keeps
                // racing commands from meeting again; it decides nothing about money.
                var backoffMs = 5 << (tries - 1);
#pragma warning disable RS0030 // Random.Shared: retry jitter only
                var jitter = Random.Shared.Next(backoffMs);
#pragma warning restore RS0030
                await Task.Delay(TimeSpan.FromMilliseconds(backoffMs / 2 + jitter), TimeProvider.System, cancellationToken).ConfigureAwait(false);
            }
        }
    }
}
