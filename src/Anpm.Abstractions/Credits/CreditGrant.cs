namespace Anpm.Abstractions;

/// <summary>What kind of credits a grant holds: promotional ones are spent first.</summary>
public enum CreditCategory
{
    /// <summary>Paid for (purchased credits are a paid grant without expiry).</summary>
    Paid = 1,

    /// <summary>Given (a promotion, a refund of goodwill, a trial); spent before paid credits.</summary>
    Promotional = 2,
}

/// <summary>
/// Credits granted to an account, with a category, an expiry and a priority. Tasks' holds burn grants in order —
/// promotional before paid, then the soonest to expire (none: last), then the lower priority number, then the oldest —
/// and what is left of a grant at its expiry leaves the account through the ledger to the expired-credits account.
/// Grants track an account's credits wherever they are (its own account or its pools): moving credits between them
/// changes no grant.
/// </summary>
public sealed record CreditGrant
{
    /// <summary>The longest grant id.</summary>
    public const int MaxIdLength = 80;

    /// <summary>Its id.</summary>
    public required string Id { get; init; }

    /// <summary>The account granted.</summary>
    public required Address Account { get; init; }

    /// <summary>Paid or promotional.</summary>
    public required CreditCategory Category { get; init; }

    /// <summary>The credits granted in all.</summary>
    public required TokenAmount Amount { get; init; }

    /// <summary>What is left to spend.</summary>
    public required TokenAmount Remaining { get; init; }

    /// <summary>What tasks' holds reserved of it (spent when the task is done, back in <see cref="Remaining"/> when it fails).</summary>
    public required TokenAmount Held { get; init; }

    /// <summary>What expired (left through the ledger).</summary>
    public required TokenAmount Expired { get; init; }

    /// <summary>When what is left expires; <see langword="null"/> for never.</summary>
    public DateTimeOffset? ExpiresAt { get; init; }

    /// <summary>The tie-breaker of grants of one category and expiry: 0 (first) to 100 (last).</summary>
    public required int Priority { get; init; }

    /// <summary>When it was granted.</summary>
    public required DateTimeOffset CreatedAt { get; init; }

    /// <summary>The store's version of the record, for optimistic updates.</summary>
    public long Version { get; init; }

    /// <summary>Whether it has expired at <paramref name="now"/>.</summary>
    public bool IsExpiredAt(DateTimeOffset now) => ExpiresAt is { } at && at <= now;
}

/// <summary>What a hold (a task) took from one grant.</summary>
/// <param name="Reference">The hold's reference (a task id).</param>
/// <param name="GrantId">The grant.</param>
/// <param name="Amount">The credits taken from it.</param>
public sealed record CreditGrantHold(string Reference, string GrantId, TokenAmount Amount);

/// <summary>Storage of credit grants and what holds took from them, inside a unit of work.</summary>
public interface ICreditGrantStore
{
    /// <summary>Inserts a grant (at version 0) unless one with its id exists.</summary>
    /// <returns><see langword="false"/> when the id is taken; nothing changed.</returns>
    ValueTask<bool> TryInsertGrantAsync(CreditGrant grant, CancellationToken cancellationToken = default);

    /// <summary>Reads a grant.</summary>
    ValueTask<CreditGrant?> GetGrantAsync(string id, CancellationToken cancellationToken = default);

    /// <summary>An account's grants, oldest first.</summary>
    ValueTask<IReadOnlyList<CreditGrant>> ListGrantsAsync(Address account, CancellationToken cancellationToken = default);

    /// <summary>Replaces a grant's amounts if its version is still <paramref name="expectedVersion"/> (then + 1). May be pipelined.</summary>
    /// <exception cref="AnpmConcurrencyException">The grant changed meanwhile.</exception>
    ValueTask UpdateGrantAsync(CreditGrant updated, long expectedVersion, CancellationToken cancellationToken = default);

    /// <summary>Grants expired at <paramref name="now"/> with something left, soonest expiry first.</summary>
    /// <param name="now">The current time.</param>
    /// <param name="limit">The most grants (1 to 10 000).</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    ValueTask<IReadOnlyList<CreditGrant>> GetExpiredGrantsAsync(DateTimeOffset now, int limit, CancellationToken cancellationToken = default);

    /// <summary>Records what a hold took from a grant unless that (reference, grant) is recorded.</summary>
    /// <returns><see langword="false"/> when it is; nothing changed.</returns>
    ValueTask<bool> TryInsertHoldAsync(CreditGrantHold hold, CancellationToken cancellationToken = default);

    /// <summary>What a hold took, grant by grant.</summary>
    ValueTask<IReadOnlyList<CreditGrantHold>> ListHoldsAsync(string reference, CancellationToken cancellationToken = default);

    /// <summary>Forgets what a hold took (it was posted or voided).</summary>
    /// <returns>How many records were removed.</returns>
    ValueTask<int> DeleteHoldsAsync(string reference, CancellationToken cancellationToken = default);
}
