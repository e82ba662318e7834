namespace Anpm.Abstractions;

/// <summary>Runs commands in units of work, retrying those that lose a race.</summary>
public static class AnpmStoreExtensions
{
    /// <summary>How many times a command runs at most when it keeps losing races.</summary>
    public const int MaxAttempts = LostRaceRetry.MaxAttempts;

    /// <summary>
    /// Runs <paramref name="work"/> in a new unit of work and commits it. When the store reports a lost race
    /// (<see cref="AnpmConcurrencyException"/>: a serialization failure, a deadlock victim, a duplicate key inserted
    /// meanwhile, a changed version), nothing of the attempt was kept, and the whole command runs again after a short
    /// randomized backoff (5 ms doubling to 160 ms), at most <see cref="MaxAttempts"/> times in all.
    /// </summary>
    /// <typeparam name="TState">What the work needs, passed without a closure.</typeparam>
    /// <typeparam name="TResult">What the work returns.</typeparam>
    /// <param name="store">The store.</param>
    /// <param name="state">Passed to <paramref name="work"/>.</param>
    /// <param name="work">The command; it must not commit, and must be safe to run again from the start.</param>
    /// <param name="cancellationToken">Cancels the command and its retries.</param>
    /// <returns>What the successful attempt returned.</returns>
    /// <exception cref="AnpmConcurrencyException">Every attempt lost its race.</exception>
    public static async ValueTask<TResult> RunAsync<TState, TResult>(
        this IAnpmStore store,
        TState state,
        Func<IAnpmUnitOfWork, TState, CancellationToken, ValueTask<TResult>> work,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(work);
        return await LostRaceRetry.RunAsync((Store: store, State: state, Work: work), static async (run, ct) =>
        {
            var unitOfWork = await run.Store.BeginAsync(ct).ConfigureAwait(false);
            await using (unitOfWork.ConfigureAwait(false))
            {
                var result = await run.Work(unitOfWork, run.State, ct).ConfigureAwait(false);
                await unitOfWork.CommitAsync(ct).ConfigureAwait(false);
                return result;
            }
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Runs a read in a read-only unit of work (<see cref="IAnpmStore.BeginReadAsync"/>), which sees committed state and,
    /// on stores that serve readers apart, never waits for a writer. A lost race (a busy file) runs the read again like
    /// <see cref="RunAsync"/>.
    /// </summary>
    /// <typeparam name="TState">What the read needs, passed without a closure.</typeparam>
    /// <typeparam name="TResult">What the read returns.</typeparam>
    /// <param name="store">The store.</param>
    /// <param name="state">Passed to <paramref name="read"/>.</param>
    /// <param name="read">The read; it must not write.</param>
    /// <param name="cancellationToken">Cancels the read and its retries.</param>
    /// <returns>What the read returned.</returns>
    public static async ValueTask<TResult> RunReadAsync<TState, TResult>(
        this IAnpmStore store,
        TState state,
        Func<IAnpmUnitOfWork, TState, CancellationToken, ValueTask<TResult>> read,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(read);
        return await LostRaceRetry.RunAsync((Store: store, State: state, Read: read), static async (run, ct) =>
        {
            var unitOfWork = await run.Store.BeginReadAsync(ct).ConfigureAwait(false);
            await using (unitOfWork.ConfigureAwait(false))
            {
                return await run.Read(unitOfWork, run.State, ct).ConfigureAwait(false);
            }
        }, cancellationToken).ConfigureAwait(false);
    }
}
