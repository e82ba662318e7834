namespace Anpm.Abstractions;

/// <summary>A contribution to a pool's campaign, as stored.</summary>
public sealed record ContributionRecord
{
    /// <summary>The contribution id.</summary>
    public required ContributionId Id { get; init; }

    /// <summary>The pool contributed to.</summary>
    public required PoolId PoolId { get; init; }

    /// <summary>Who contributed; payouts and refunds always go to this address.</summary>
    public required Address Owner { get; init; }

    /// <summary>The amount, in token base units.</summary>
    public required TokenAmount Amount { get; init; }

    /// <summary>The contribution's status.</summary>
    public required ContributionStatus Status { get; init; }

    /// <summary>When it was created.</summary>
    public required DateTimeOffset CreatedAt { get; init; }

    /// <summary>While PendingPayment: when it is canceled if unpaid.</summary>
    public DateTimeOffset? PayBefore { get; init; }

    /// <summary>What was paid out to the owner (prize or refund), in base units.</summary>
    public TokenAmount Paidout { get; init; }

    /// <summary>The optimistic version: 0 when created, one more after each update.</summary>
    public long Version { get; init; }
}

/// <summary>Storage of contributions inside a unit of work.</summary>
public interface IContributionStore
{
    /// <summary>Inserts a contribution unless one with its id exists (an atomic insert).</summary>
    /// <returns><see langword="false"/> when one with that id exists; nothing changed.</returns>
    ValueTask<bool> TryInsertContributionAsync(ContributionRecord contribution, CancellationToken cancellationToken = default);

    /// <summary>Reads a contribution.</summary>
    /// <returns>The contribution, or <see langword="null"/> when there is none with that id.</returns>
    ValueTask<ContributionRecord?> GetContributionAsync(ContributionId id, CancellationToken cancellationToken = default);

    /// <summary>Replaces status, pay-before and paid-out if the version is still <paramref name="expectedVersion"/>.</summary>
    /// <param name="updated">The contribution with its new fields; its id names the row.</param>
    /// <param name="expectedVersion">The version the caller read.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <exception cref="AnpmConcurrencyException">It changed meanwhile; retrying the command is safe.</exception>
    /// <exception cref="AnpmException">It does not exist.</exception>
    ValueTask UpdateContributionAsync(ContributionRecord updated, long expectedVersion, CancellationToken cancellationToken = default);

    /// <summary>A pool's contributions in ordinal order of their ids.</summary>
    /// <param name="poolId">The pool.</param>
    /// <param name="after">Only contributions whose id sorts after this one; <see langword="null"/> from the first.</param>
    /// <param name="limit">The most contributions to return.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    ValueTask<IReadOnlyList<ContributionRecord>> ListPoolContributionsAsync(PoolId poolId, ContributionId? after, int limit, CancellationToken cancellationToken = default);

    /// <summary>An owner's contributions, in every pool, in ordinal order of their ids.</summary>
    /// <param name="owner">The owner.</param>
    /// <param name="after">Only contributions whose id sorts after this one; <see langword="null"/> from the first.</param>
    /// <param name="limit">The most contributions to return.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    ValueTask<IReadOnlyList<ContributionRecord>> ListOwnerContributionsAsync(Address owner, ContributionId? after, int limit, CancellationToken cancellationToken = default);

    /// <summary>How many contributions a pool has in each status (statuses with none are left out).</summary>
    /// <param name="poolId">The pool.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    ValueTask<IReadOnlyDictionary<ContributionStatus, int>> CountPoolContributionsAsync(PoolId poolId, CancellationToken cancellationToken = default);

    /// <summary>PendingPayment contributions whose pay-before time is at or before <paramref name="now"/>, earliest first.</summary>
    ValueTask<IReadOnlyList<ContributionRecord>> GetOverdueContributionsAsync(DateTimeOffset now, int limit, CancellationToken cancellationToken = default);
}
