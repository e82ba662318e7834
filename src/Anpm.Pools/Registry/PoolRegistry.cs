using Anpm.Abstractions;

namespace Anpm.Pools;

/// <summary>The outcome of creating a pool; everything but <see cref="Created"/> and <see cref="Exists"/> changed nothing.</summary>
public enum CreatePoolResult
{
    /// <summary>The pool was created, Active.</summary>
    Created = 1,

    /// <summary>The same pool (same id, owner and config) already existed: an idempotent replay.</summary>
    Exists = 2,

    /// <summary>The id belongs to another pool; pool ids are never overwritten or reused.</summary>
    IdTaken = 3,

    /// <summary>The pool id is the default (empty) value.</summary>
    IdMustNotBeDefault = 4,

    /// <summary>The config is invalid; <see cref="CreatePoolOutcome.Error"/> names the field.</summary>
    InvalidConfig = 5,

    /// <summary>The config is larger than <see cref="PoolConfigLimits.MaxConfigBytes"/>.</summary>
    ConfigTooLarge = 6,
}

/// <summary>The result of <see cref="PoolRegistry.CreateAsync"/>.</summary>
/// <param name="Result">What happened.</param>
/// <param name="Pool">The pool when created or existing; <see langword="null"/> otherwise.</param>
/// <param name="Error">The config problem when <paramref name="Result"/> is InvalidConfig or ConfigTooLarge.</param>
public sealed record CreatePoolOutcome(CreatePoolResult Result, PoolRecord? Pool, PoolConfigError? Error);

/// <summary>The outcome of a status change; everything but <see cref="Changed"/> changed nothing.</summary>
public enum PoolStatusChangeResult
{
    /// <summary>The pool moved to its new status.</summary>
    Changed = 1,

    /// <summary>There is no pool with that id.</summary>
    PoolNotFound = 2,

    /// <summary>The trigger is not allowed in the pool's current status; the message names it.</summary>
    InvalidTransition = 3,
}

/// <summary>The result of <see cref="PoolRegistry.FireAsync"/>.</summary>
/// <param name="Result">What happened.</param>
/// <param name="Pool">The pool after the change, or as it is when refused; <see langword="null"/> when not found.</param>
/// <param name="Error">Why it was refused, naming the current status; <see langword="null"/> when changed.</param>
public sealed record PoolStatusChange(PoolStatusChangeResult Result, PoolRecord? Pool, string? Error);

/// <summary>
/// Creates pools (a validated config; an id is never overwritten) and moves them through the pool status machine with
/// optimistic versions. Who may do what (admins, owners) is decided by the caller.
/// </summary>
public sealed class PoolRegistry
{
    private readonly IAnpmStore _store;
    private readonly TimeProvider _timeProvider;
    private readonly PoolConfigLimits _limits;

    /// <summary>Creates a registry over a store.</summary>
    /// <param name="store">Where pools are kept.</param>
    /// <param name="timeProvider">The clock that stamps creation.</param>
    /// <param name="limits">The config limits; defaults when null.</param>
    public PoolRegistry(IAnpmStore store, TimeProvider timeProvider, PoolConfigLimits? limits = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(timeProvider);
        _store = store;
        _timeProvider = timeProvider;
        _limits = limits ?? new PoolConfigLimits();
    }

    /// <summary>Creates an Active pool, or reports why not. Replaying the same creation answers <see cref="CreatePoolResult.Exists"/>.</summary>
    /// <param name="id">The new pool's id.</param>
    /// <param name="owner">The pool's owner.</param>
    /// <param name="configJson">The config (API.md "Pool config").</param>
    /// <param name="cancellationToken">Cancels the command.</param>
    public async ValueTask<CreatePoolOutcome> CreateAsync(PoolId id, Address owner, string configJson, CancellationToken cancellationToken = default)
    {
        if (id.Value is null)
        {
            return new CreatePoolOutcome(CreatePoolResult.IdMustNotBeDefault, null, null);
        }

        if (!PoolConfigParser.TryParse(configJson, _limits, out var config, out var error))
        {
            return new CreatePoolOutcome(error.IsTooLarge ? CreatePoolResult.ConfigTooLarge : CreatePoolResult.InvalidConfig, null, error);
        }

        var pool = new PoolRecord
        {
            Id = id,
            Owner = owner,
            ConfigJson = PoolConfigParser.ToJson(config),
            Status = PoolStateMachine.Definition.Initial,
            CreatedAt = _timeProvider.GetUtcNow(),
        };
        return await _store.RunAsync(pool, static async (unitOfWork, pool, ct) =>
        {
            if (await unitOfWork.Pools.TryInsertPoolAsync(pool, ct).ConfigureAwait(false))
            {
                return new CreatePoolOutcome(CreatePoolResult.Created, pool, null);
            }

            var existing = await unitOfWork.Pools.GetPoolAsync(pool.Id, ct).ConfigureAwait(false)
                ?? throw new AnpmConcurrencyException($"Pool '{pool.Id}' was refused as a duplicate but cannot be read; retry.");
            var same = existing.Owner == pool.Owner && string.Equals(existing.ConfigJson, pool.ConfigJson, StringComparison.Ordinal);
            return new CreatePoolOutcome(same ? CreatePoolResult.Exists : CreatePoolResult.IdTaken, same ? existing : null, null);
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Fires a trigger of the pool status machine; Pause remembers the status to resume to.</summary>
    /// <param name="id">The pool.</param>
    /// <param name="trigger">What happened.</param>
    /// <param name="cancellationToken">Cancels the command.</param>
    public ValueTask<PoolStatusChange> FireAsync(PoolId id, PoolTrigger trigger, CancellationToken cancellationToken = default) =>
        _store.RunAsync((Id: id, Trigger: trigger), static async (unitOfWork, request, ct) =>
        {
            var pool = await unitOfWork.Pools.GetPoolAsync(request.Id, ct).ConfigureAwait(false);
            if (pool is null)
            {
                return new PoolStatusChange(PoolStatusChangeResult.PoolNotFound, null, $"There is no pool '{request.Id}'.");
            }

            var transition = PoolStateMachine.Definition.Fire(pool.Status, request.Trigger);
            if (!transition.IsAllowed)
            {
                return new PoolStatusChange(PoolStatusChangeResult.InvalidTransition, pool, transition.Error);
            }

            var status = request.Trigger == PoolTrigger.Resume && pool.PausedFrom is { } pausedFrom ? pausedFrom : transition.Status;
            var remembered = status == PoolStatus.Paused ? pool.Status : (PoolStatus?)null;
            await unitOfWork.Pools.UpdatePoolStatusAsync(pool.Id, pool.Version, status, remembered, ct).ConfigureAwait(false);
            return new PoolStatusChange(
                PoolStatusChangeResult.Changed,
                pool with { Status = status, PausedFrom = remembered, Version = pool.Version + 1 },
                null);
        }, cancellationToken);

    /// <summary>Reads a pool.</summary>
    /// <returns>The pool, or <see langword="null"/> when there is none with that id.</returns>
    public ValueTask<PoolRecord?> GetAsync(PoolId id, CancellationToken cancellationToken = default) =>
        _store.RunAsync(id, static (unitOfWork, id, ct) => unitOfWork.Pools.GetPoolAsync(id, ct), cancellationToken);

    /// <summary>A page of pools in ordinal order of their ids.</summary>
    /// <param name="after">Pools after this id; <see langword="null"/> from the first.</param>
    /// <param name="limit">The most pools, 1 to 500.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="limit"/> is out of range.</exception>
    public ValueTask<IReadOnlyList<PoolRecord>> ListAsync(PoolId? after, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(limit, 500);
        return _store.RunAsync((After: after, Limit: limit), static (unitOfWork, page, ct) => unitOfWork.Pools.ListPoolsAsync(page.After, page.Limit, ct), cancellationToken);
    }

    /// <summary>The parsed config of a stored pool.</summary>
    /// <exception cref="AnpmException">The stored config no longer parses: the store is corrupt.</exception>
    public PoolConfig ConfigOf(PoolRecord pool)
    {
        ArgumentNullException.ThrowIfNull(pool);
        return PoolConfigParser.TryParse(pool.ConfigJson, null, out var config, out var error)
            ? config
            : throw new AnpmException($"The stored config of pool '{pool.Id}' does not parse: {error.Message}");
    }
}
