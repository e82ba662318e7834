namespace Anpm.Abstractions;

/// <summary>A pool as stored: its id, owner, config (JSON text), status and optimistic version.</summary>
public sealed record PoolRecord
{
    /// <summary>The pool id; never reused.</summary>
    public required PoolId Id { get; init; }

    /// <summary>The pool's owner.</summary>
    public required Address Owner { get; init; }

    /// <summary>The pool config as canonical JSON text (the wire contract's pool config).</summary>
    public required string ConfigJson { get; init; }

    /// <summary>The pool's status.</summary>
    public required PoolStatus Status { get; init; }

    /// <summary>When the pool was created.</summary>
    public required DateTimeOffset CreatedAt { get; init; }

    /// <summary>When the pool entered its current status (its creation time until the first change); claim windows count from it.</summary>
    public required DateTimeOffset StatusChangedAt { get; init; }

    /// <summary>The optimistic version: 0 when created, one more after each update.</summary>
    public long Version { get; init; }
}

/// <summary>Storage of pools inside a unit of work. A pool id is inserted once and never overwritten.</summary>
public interface IPoolStore
{
    /// <summary>Inserts a pool unless one with its id exists (an atomic insert).</summary>
    /// <returns><see langword="false"/> when a pool with that id exists; nothing changed.</returns>
    ValueTask<bool> TryInsertPoolAsync(PoolRecord pool, CancellationToken cancellationToken = default);

    /// <summary>Reads a pool.</summary>
    /// <returns>The pool, or <see langword="null"/> when there is none with that id.</returns>
    ValueTask<PoolRecord?> GetPoolAsync(PoolId id, CancellationToken cancellationToken = default);

    /// <summary>Sets a pool's status if its version is still <paramref name="expectedVersion"/>; the version then grows by one.</summary>
    /// <param name="id">The pool.</param>
    /// <param name="expectedVersion">The <see cref="PoolRecord.Version"/> the caller read.</param>
    /// <param name="status">The new status.</param>
    /// <param name="changedAt">When the status changed (becomes <see cref="PoolRecord.StatusChangedAt"/>).</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <exception cref="AnpmConcurrencyException">The pool changed meanwhile; retrying the command is safe.</exception>
    /// <exception cref="AnpmException">The pool does not exist.</exception>
    ValueTask UpdatePoolStatusAsync(PoolId id, long expectedVersion, PoolStatus status, DateTimeOffset changedAt, CancellationToken cancellationToken = default);

    /// <summary>Pools in ordinal order of their ids.</summary>
    /// <param name="after">Only pools whose id sorts after this one; <see langword="null"/> from the first.</param>
    /// <param name="limit">The most pools to return.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    ValueTask<IReadOnlyList<PoolRecord>> ListPoolsAsync(PoolId? after, int limit, CancellationToken cancellationToken = default);
}
