using System.Diagnostics.CodeAnalysis;
using Anpm.Abstractions;
using Anpm.Credits;

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

/// <summary>The result of <see cref="PoolRegistry.CreateAsync(PoolId, Address, string, CancellationToken)"/>.</summary>
/// <param name="Result">What happened.</param>
/// <param name="Pool">The pool when created or existing; <see langword="null"/> otherwise.</param>
/// <param name="Error">The config problem when <paramref name="Result"/> is InvalidConfig or ConfigTooLarge.</param>
public sealed record CreatePoolOutcome(CreatePoolResult Result, PoolRecord? Pool, PoolConfigError? Error)
{
    /// <summary>Whether the pool was created now or before by the same request: then <see cref="Pool"/> is it.</summary>
    [MemberNotNullWhen(true, nameof(Pool))]
    public bool IsCreated => Result is CreatePoolResult.Created or CreatePoolResult.Exists;
}

/// <summary>The outcome of a status change; everything but <see cref="Changed"/> changed nothing.</summary>
public enum PoolStatusChangeResult
{
    /// <summary>The pool moved to its new status.</summary>
    Changed = 1,

    /// <summary>There is no pool with that id.</summary>
    PoolNotFound = 2,

    /// <summary>The trigger is not allowed in the pool's current status; the message names it.</summary>
    InvalidTransition = 3,

    /// <summary>The system is paused; money-moving commands wait until it resumes.</summary>
    SystemPaused = 4,

    /// <summary>
    /// The change is under way: its first page is done and the rest runs a page per unit of work
    /// (<see cref="ContributionService.SettlePoolAsync"/>); the pool reaches its new status when the last page is done.
    /// </summary>
    Accepted = 5,
}

/// <summary>The result of a pool status command (<see cref="PoolRegistry.PauseAsync(PoolId, CancellationToken)"/>, <see cref="ContributionService.StartFundingAsync(PoolId, bool, CancellationToken)"/>, …).</summary>
/// <param name="Result">What happened.</param>
/// <param name="Pool">The pool after the change, or as it is when refused; <see langword="null"/> when not found.</param>
/// <param name="Error">Why it was refused, naming the current status; <see langword="null"/> when changed.</param>
public sealed record PoolStatusChange(PoolStatusChangeResult Result, PoolRecord? Pool, string? Error)
{
    /// <summary>Whether the change was refused; then <see cref="Error"/> says why, and nothing changed.</summary>
    [MemberNotNullWhen(true, nameof(Error))]
    [MemberNotNullWhen(false, nameof(Pool))]
    public bool IsRefused => Result is not (PoolStatusChangeResult.Changed or PoolStatusChangeResult.Accepted);
}

/// <summary>A pool's campaign totals, in token base units.</summary>
/// <param name="Contributions">How many contributions are in each status (statuses with none left out).</param>
/// <param name="Collected">Every token paid into the campaign (paid contributions, over its whole life).</param>
/// <param name="Held">What the campaign's contributions account holds now (before funding, or refunds still owed).</param>
/// <param name="ReceivedBack">Every token the destination sent back to distribute.</param>
/// <param name="Undistributed">What was received back and not distributed, until the pool closes.</param>
/// <param name="Dust">The prize calculator's dust (pot minus the sum of the prizes), until the pool closes.</param>
public sealed record PoolTotals(
    IReadOnlyDictionary<ContributionStatus, int> Contributions, TokenAmount Collected, TokenAmount Held, TokenAmount ReceivedBack, TokenAmount Undistributed,
    TokenAmount Dust);

/// <summary>
/// Creates pools (a validated config; an id is never overwritten) and moves them through the pool status machine with
/// optimistic versions. Who may do what (admins, owners) is decided by the caller.
/// </summary>
public sealed class PoolRegistry : IPoolCreditGate
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

    /// <summary>
    /// The pools' gate for credits (<see cref="IPoolCreditGate"/>): credits move into a pool while it is Active, and back
    /// out of any pool that exists, whatever its status.
    /// </summary>
    /// <param name="unitOfWork">The move's unit of work.</param>
    /// <param name="pool">The pool.</param>
    /// <param name="intoPool">Whether the credits move in.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>Open, NotFound, or Closed with the pool's status in the reason.</returns>
    public async ValueTask<PoolCreditCheck> CheckAsync(IAnpmUnitOfWork unitOfWork, PoolId pool, bool intoPool, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(unitOfWork);
        var record = await unitOfWork.Pools.GetPoolAsync(pool, cancellationToken).ConfigureAwait(false);
        return record is null ? new(PoolCreditAdmission.NotFound, $"There is no pool '{pool}'.")
            : intoPool && record.Status != PoolStatus.Active ? new(PoolCreditAdmission.Closed, $"Pool '{record.Id}' is {record.Status}; credits move in while it is Active.")
            : new(PoolCreditAdmission.Open, null);
    }

    /// <summary>Creates an Active pool, or reports why not. Replaying the same creation answers <see cref="CreatePoolResult.Exists"/>.</summary>
    /// <param name="id">The new pool's id.</param>
    /// <param name="owner">The pool's owner.</param>
    /// <param name="configJson">The config (the wire contract's pool config).</param>
    /// <param name="cancellationToken">Cancels the command.</param>
    public ValueTask<CreatePoolOutcome> CreateAsync(PoolId id, Address owner, string configJson, CancellationToken cancellationToken = default) =>
        _store.RunAsync((Registry: this, Id: id, Owner: owner, Config: configJson), static (unitOfWork, request, ct) =>
            request.Registry.CreateAsync(unitOfWork, request.Id, request.Owner, request.Config, ct), cancellationToken);

    /// <summary>Creates a pool like the overload without a unit of work, inside the caller's unit of work, which the caller commits.</summary>
    /// <param name="unitOfWork">The caller's unit of work.</param>
    /// <param name="id">The new pool's id.</param>
    /// <param name="owner">The pool's owner.</param>
    /// <param name="configJson">The config (the wire contract's pool config).</param>
    /// <param name="cancellationToken">Cancels the command.</param>
    /// <exception cref="AnpmConcurrencyException">The pool was inserted meanwhile and cannot be read yet; run the command again.</exception>
    public async ValueTask<CreatePoolOutcome> CreateAsync(IAnpmUnitOfWork unitOfWork, PoolId id, Address owner, string configJson, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(unitOfWork);
        if (id.Value is null)
        {
            return new CreatePoolOutcome(CreatePoolResult.IdMustNotBeDefault, null, null);
        }

        if (!PoolConfigParser.TryParse(configJson, _limits, out var config, out var error))
        {
            return new CreatePoolOutcome(error.IsTooLarge ? CreatePoolResult.ConfigTooLarge : CreatePoolResult.InvalidConfig, null, error);
        }

        var now = _timeProvider.GetUtcNow();
        var pool = new PoolRecord
        {
            Id = id,
            Owner = owner,
            ConfigJson = PoolConfigParser.ToJson(config),
            Status = PoolStateMachine.Definition.Initial,
            CreatedAt = now,
            StatusChangedAt = now,
        };
        if (await unitOfWork.Pools.TryInsertPoolAsync(pool, cancellationToken).ConfigureAwait(false))
        {
            return new CreatePoolOutcome(CreatePoolResult.Created, pool, null);
        }

        var existing = await unitOfWork.Pools.GetPoolAsync(pool.Id, cancellationToken).ConfigureAwait(false)
            ?? throw new AnpmConcurrencyException($"Pool '{pool.Id}' was refused as a duplicate but cannot be read; retry.");
        var same = existing.Owner == pool.Owner && string.Equals(existing.ConfigJson, pool.ConfigJson, StringComparison.Ordinal);
        return new CreatePoolOutcome(same ? CreatePoolResult.Exists : CreatePoolResult.IdTaken, same ? existing : null, null);
    }

    /// <summary>
    /// Pauses a pool (an admin's or the owner's decision): Active → Paused. A paused
    /// pool takes no contributions. The transitions that move money (funding, distributing, cancel, close) are commands of
    /// <see cref="ContributionService"/>, which move the money and the status together.
    /// </summary>
    /// <param name="id">The pool.</param>
    /// <param name="cancellationToken">Cancels the command.</param>
    public ValueTask<PoolStatusChange> PauseAsync(PoolId id, CancellationToken cancellationToken = default) => FireAsync(id, PoolTrigger.Pause, cancellationToken);

    /// <summary>Resumes a paused pool: Paused → Active (only Active pools pause).</summary>
    /// <param name="id">The pool.</param>
    /// <param name="cancellationToken">Cancels the command.</param>
    public ValueTask<PoolStatusChange> ResumeAsync(PoolId id, CancellationToken cancellationToken = default) => FireAsync(id, PoolTrigger.Resume, cancellationToken);

    /// <summary>Pauses a pool inside the caller's unit of work, which the caller commits.</summary>
    /// <param name="unitOfWork">The caller's unit of work.</param>
    /// <param name="id">The pool.</param>
    /// <param name="cancellationToken">Cancels the command.</param>
    public ValueTask<PoolStatusChange> PauseAsync(IAnpmUnitOfWork unitOfWork, PoolId id, CancellationToken cancellationToken = default) =>
        FireAsync(unitOfWork, id, PoolTrigger.Pause, _timeProvider.GetUtcNow(), cancellationToken);

    /// <summary>Resumes a paused pool inside the caller's unit of work, which the caller commits.</summary>
    /// <param name="unitOfWork">The caller's unit of work.</param>
    /// <param name="id">The pool.</param>
    /// <param name="cancellationToken">Cancels the command.</param>
    public ValueTask<PoolStatusChange> ResumeAsync(IAnpmUnitOfWork unitOfWork, PoolId id, CancellationToken cancellationToken = default) =>
        FireAsync(unitOfWork, id, PoolTrigger.Resume, _timeProvider.GetUtcNow(), cancellationToken);

    private ValueTask<PoolStatusChange> FireAsync(PoolId id, PoolTrigger trigger, CancellationToken cancellationToken) =>
        _store.RunAsync((Id: id, Trigger: trigger, Now: _timeProvider.GetUtcNow()), static (unitOfWork, request, ct) =>
            FireAsync(unitOfWork, request.Id, request.Trigger, request.Now, ct), cancellationToken);

    private static async ValueTask<PoolStatusChange> FireAsync(IAnpmUnitOfWork unitOfWork, PoolId id, PoolTrigger trigger, DateTimeOffset now, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(unitOfWork);
        var pool = await unitOfWork.Pools.GetPoolAsync(id, ct).ConfigureAwait(false);
        if (pool is null)
        {
            return new PoolStatusChange(PoolStatusChangeResult.PoolNotFound, null, $"There is no pool '{id}'.");
        }

        var transition = PoolStateMachine.Definition.Fire(pool.Status, trigger);
        if (!transition.IsAllowed)
        {
            return new PoolStatusChange(PoolStatusChangeResult.InvalidTransition, pool, transition.Error);
        }

        var status = transition.Status;
        await PoolStatusUpdate.ApplyAsync(unitOfWork, pool, status, now, ct).ConfigureAwait(false);
        return new PoolStatusChange(
            PoolStatusChangeResult.Changed,
            pool with { Status = status, StatusChangedAt = now, Version = pool.Version + 1 },
            null);
    }

    /// <summary>Reads a pool.</summary>
    /// <returns>The pool, or <see langword="null"/> when there is none with that id.</returns>
    public ValueTask<PoolRecord?> GetAsync(PoolId id, CancellationToken cancellationToken = default) =>
        _store.RunReadAsync(id, static (unitOfWork, id, ct) => unitOfWork.Pools.GetPoolAsync(id, ct), cancellationToken);

    /// <summary>A pool's campaign totals: contributions by status and the tokens its accounts collected and hold.</summary>
    /// <returns>The totals, or <see langword="null"/> when there is no such pool.</returns>
    public ValueTask<PoolTotals?> GetTotalsAsync(PoolId id, CancellationToken cancellationToken = default) =>
        _store.RunReadAsync(id, static (unitOfWork, id, ct) => GetTotalsAsync(unitOfWork, id, ct), cancellationToken);

    /// <summary>A pool's campaign totals read in the caller's unit of work (so they include its uncommitted changes).</summary>
    /// <returns>The totals, or <see langword="null"/> when there is no such pool.</returns>
    public static async ValueTask<PoolTotals?> GetTotalsAsync(IAnpmUnitOfWork unitOfWork, PoolId id, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(unitOfWork);
        if (await unitOfWork.Pools.GetPoolAsync(id, cancellationToken).ConfigureAwait(false) is null)
        {
            return null;
        }

        var counts = await unitOfWork.Contributions.CountPoolContributionsAsync(id, cancellationToken).ConfigureAwait(false);
        var collected = await unitOfWork.Ledger.GetAccountAsync(PoolAccounts.Contributions(id), cancellationToken).ConfigureAwait(false);
        var distribution = await unitOfWork.Ledger.GetAccountAsync(PoolAccounts.Distribution(id), cancellationToken).ConfigureAwait(false);
        var rounding = await unitOfWork.Ledger.GetAccountAsync(PoolAccounts.Rounding(id), cancellationToken).ConfigureAwait(false);
        return new PoolTotals(
            counts,
            collected?.CreditsPosted ?? TokenAmount.Zero,
            collected?.AvailableBalance ?? TokenAmount.Zero,
            distribution?.CreditsPosted ?? TokenAmount.Zero,
            distribution?.AvailableBalance ?? TokenAmount.Zero,
            rounding?.AvailableBalance ?? TokenAmount.Zero);
    }

    /// <summary>A page of pools in ordinal order of their ids.</summary>
    /// <param name="after">Pools after this id; <see langword="null"/> from the first.</param>
    /// <param name="limit">The most pools, 1 to 500.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="limit"/> is out of range.</exception>
    public ValueTask<IReadOnlyList<PoolRecord>> ListAsync(PoolId? after, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(limit, 500);
        return _store.RunReadAsync((After: after, Limit: limit), static (unitOfWork, page, ct) => unitOfWork.Pools.ListPoolsAsync(page.After, page.Limit, ct), cancellationToken);
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
