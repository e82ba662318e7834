using Anpm.Abstractions;

namespace Anpm.Storage;

/// <summary>
/// Job locks held within this process: the in-memory store's, and the SQLite store's (one host process owns a SQLite
/// file). Not suitable across processes; PostgreSQL's advisory locks are.
/// </summary>
internal sealed class InProcessJobLockProvider : IJobLockProvider
{
    private readonly HashSet<string> _held = new(StringComparer.Ordinal);

    /// <inheritdoc />
    public ValueTask<IAsyncDisposable?> TryAcquireAsync(string key, CancellationToken cancellationToken = default)
    {
        JobLockKeys.Validate(key);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_held)
        {
            return new ValueTask<IAsyncDisposable?>(_held.Add(key) ? new Holder(this, key) : null);
        }
    }

    private sealed class Holder(InProcessJobLockProvider owner, string key) : IAsyncDisposable
    {
        private int _released;

        public ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                lock (owner._held)
                {
                    owner._held.Remove(key);
                }
            }

            return ValueTask.CompletedTask;
        }
    }
}
