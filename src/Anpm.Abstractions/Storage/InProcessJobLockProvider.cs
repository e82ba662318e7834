namespace Anpm.Abstractions;

/// <summary>
/// Job locks held within this process: the in-memory store's, and the SQLite store's (one host process owns a SQLite
/// file). Not suitable across processes; PostgreSQL's advisory locks are.
/// </summary>
public sealed class InProcessJobLockProvider : IJobLockProvider
{
    private readonly HashSet<string> _held = new(StringComparer.Ordinal);

    /// <inheritdoc />
    public ValueTask<IAsyncDisposable?> TryAcquireAsync(string key, CancellationToken cancellationToken = default)
    {
        ValidateKey(key);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_held)
        {
            return new ValueTask<IAsyncDisposable?>(_held.Add(key) ? new Holder(this, key) : null);
        }
    }

    /// <summary>Checks a job lock key: 1 to <see cref="IJobLockProvider.MaxKeyLength"/> characters.</summary>
    /// <exception cref="ArgumentException">The key is empty or too long.</exception>
    public static void ValidateKey(string key)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        if (key.Length > IJobLockProvider.MaxKeyLength)
        {
            throw new ArgumentException($"A job lock key has at most {IJobLockProvider.MaxKeyLength} characters, not {key.Length}.", nameof(key));
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
