namespace Anpm.Abstractions;

/// <summary>
/// Named locks that let only one instance run a job for a key at a time ("only one host runs today's incentives"), even
/// when many host instances share one database. The in-memory and SQLite stores lock within the process; PostgreSQL
/// uses session advisory locks, which the server releases if the holder's connection dies.
/// </summary>
public interface IJobLockProvider
{
    /// <summary>The most characters a job lock key may have.</summary>
    const int MaxKeyLength = 200;

    /// <summary>Takes the lock named <paramref name="key"/> unless someone holds it; never waits.</summary>
    /// <param name="key">The job and its key, e.g. <c>daily-incentives:2026-11-21</c>; 1 to 200 characters.</param>
    /// <param name="cancellationToken">Cancels the attempt.</param>
    /// <returns>The held lock (dispose it to release), or <see langword="null"/> when another holder has it.</returns>
    /// <exception cref="ArgumentException"><paramref name="key"/> is empty or longer than 200 characters.</exception>
    ValueTask<IAsyncDisposable?> TryAcquireAsync(string key, CancellationToken cancellationToken = default);
}
