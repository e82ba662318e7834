namespace Anpm.Storage;

/// <summary>
/// A mutual-exclusion lock that may be held across awaits. Entering when free is one compare-and-swap and leaving with
/// nobody waiting is one exchange (SemaphoreSlim takes a monitor on both, which measured at about four times the cost);
/// waiters queue in order under a monitor and are handed the lock directly.
/// </summary>
internal sealed class AsyncExclusiveLock
{
    private readonly Queue<TaskCompletionSource> _waiters = new();
    private int _held;

    // Incremented before a waiter tries the lock and decremented when it gets it or leaves the queue, so Exit can tell
    // whether anyone might be queued without taking the monitor.
    private int _contenders;

    /// <summary>Takes the lock, waiting (in order of arrival) while someone holds it.</summary>
    /// <param name="cancellationToken">Stops waiting; the lock is then not taken.</param>
    /// <returns>Completes when the caller holds the lock; call <see cref="Exit"/> exactly once to release it.</returns>
    public ValueTask EnterAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.CompareExchange(ref _held, 1, 0) == 0)
        {
            return ValueTask.CompletedTask;
        }

        return EnterSlowAsync(cancellationToken);
    }

    /// <summary>Releases the lock, handing it to the longest waiter if there is one.</summary>
    public void Exit()
    {
        Interlocked.Exchange(ref _held, 0);

        // Both sides fence before reading the other's flag (Dekker): either a contender sees the lock free and takes it,
        // or this thread sees the contender and hands the lock over.
        if (Volatile.Read(ref _contenders) == 0 || Interlocked.CompareExchange(ref _held, 1, 0) != 0)
        {
            return;
        }

        lock (_waiters)
        {
            while (_waiters.TryDequeue(out var waiter))
            {
                Interlocked.Decrement(ref _contenders);
                if (waiter.TrySetResult())
                {
                    return;
                }
            }

            Interlocked.Exchange(ref _held, 0);
        }
    }

    /// <summary>
    /// Hands the held lock to the longest live waiter, if there is one (<see langword="true"/>: the caller no longer holds
    /// it); otherwise the caller still holds it and must <see cref="Exit"/>.
    /// </summary>
    public bool TryHandOff()
    {
        if (Volatile.Read(ref _contenders) == 0)
        {
            return false;
        }

        lock (_waiters)
        {
            while (_waiters.TryDequeue(out var waiter))
            {
                Interlocked.Decrement(ref _contenders);
                if (waiter.TrySetResult())
                {
                    return true;
                }
            }
        }

        return false;
    }

    private ValueTask EnterSlowAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        TaskCompletionSource waiter;
        lock (_waiters)
        {
            Interlocked.Increment(ref _contenders);
            if (Interlocked.CompareExchange(ref _held, 1, 0) == 0)
            {
                Interlocked.Decrement(ref _contenders);
                return ValueTask.CompletedTask;
            }

            // Continuations run asynchronously so that Exit never runs a waiter's code while holding the monitor.
            waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Enqueue(waiter);
        }

        if (cancellationToken.CanBeCanceled)
        {
            // A canceled waiter stays queued until Exit skips it; it never receives the lock.
            var registration = cancellationToken.UnsafeRegister(static (state, token) => ((TaskCompletionSource)state!).TrySetCanceled(token), waiter);
            _ = waiter.Task.ContinueWith(static (_, state) => ((CancellationTokenRegistration)state!).Dispose(), registration, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }

        return new ValueTask(waiter.Task);
    }
}
