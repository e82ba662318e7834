namespace Anpm.Abstractions;

/// <summary>What a session key may sign for its account (the EIP-712 message types a delegate may sign).</summary>
[Flags]
public enum SessionKeyActions
{
    /// <summary>Nothing.</summary>
    None = 0,

    /// <summary><c>AddTask</c>: run inference; each task's price counts against the spend cap.</summary>
    AddTask = 1,

    /// <summary><c>TransferCredits</c>: move the account's credits into a pool (they stay the account's).</summary>
    TransferCredits = 2,

    /// <summary><c>WithdrawCredits</c>: move the account's credits out of a pool back to the account.</summary>
    WithdrawCredits = 4,
}

/// <summary>
/// A session key: a delegate address that an account's wallet allowed (a signed <c>Delegate</c> grant) to sign some
/// requests on the account's behalf, in one pool or all, until it expires or the wallet revokes it, spending at most
/// <see cref="SpendCap"/> credits on tasks. An account has at most one unrevoked session key per delegate: a new grant
/// revokes the previous one.
/// </summary>
public sealed record SessionKey
{
    /// <summary>The longest id a session key may have.</summary>
    public const int MaxIdLength = 64;

    /// <summary>Its id (from the grant request).</summary>
    public required string Id { get; init; }

    /// <summary>The account whose credits the delegate spends: the wallet that signed the grant.</summary>
    public required Address Account { get; init; }

    /// <summary>The session key's address: the delegate that signs requests for <see cref="Account"/>.</summary>
    public required Address Delegate { get; init; }

    /// <summary>The one pool the delegate may act in, or <see langword="null"/> for every pool.</summary>
    public PoolId? PoolId { get; init; }

    /// <summary>What the delegate may sign.</summary>
    public required SessionKeyActions Actions { get; init; }

    /// <summary>The most credits the delegate's tasks may take, held or charged, over the key's life.</summary>
    public required TokenAmount SpendCap { get; init; }

    /// <summary>What the delegate's tasks hold or were charged now (a voided hold gives its amount back).</summary>
    public required TokenAmount Spent { get; init; }

    /// <summary>When the key stops being accepted.</summary>
    public required DateTimeOffset ExpiresAt { get; init; }

    /// <summary>When it was granted.</summary>
    public required DateTimeOffset CreatedAt { get; init; }

    /// <summary>When the wallet revoked it (or a new grant for the same delegate replaced it); <see langword="null"/> while not revoked.</summary>
    public DateTimeOffset? RevokedAt { get; init; }

    /// <summary>The store's version of the record, for optimistic updates.</summary>
    public long Version { get; init; }

    /// <summary>The credits the delegate may still spend.</summary>
    public TokenAmount Remaining => Spent >= SpendCap ? TokenAmount.Zero : SpendCap - Spent;

    /// <summary>Whether the key is accepted at <paramref name="now"/>: not revoked and not expired.</summary>
    public bool IsActiveAt(DateTimeOffset now) => RevokedAt is null && now < ExpiresAt;
}

/// <summary>Storage of session keys inside a unit of work.</summary>
/// <remarks>
/// A charge reads its key locked (<c>forUpdate</c>), after the ledger's hold, so that concurrent charges of one key
/// queue on it and none sees a stale <see cref="SessionKey.Spent"/>; what a key charged is the price of the tasks that
/// name it (<see cref="InferenceTask.SessionKeyId"/>) and have not failed.
/// </remarks>
public interface ISessionKeyStore
{
    /// <summary>
    /// Inserts a session key (at version 0) unless one with its id exists or the account already has an unrevoked key for
    /// the same delegate (an atomic insert).
    /// </summary>
    /// <returns><see langword="false"/> when the id is taken or an unrevoked key of that account and delegate exists; nothing changed.</returns>
    ValueTask<bool> TryInsertSessionKeyAsync(SessionKey key, CancellationToken cancellationToken = default);

    /// <summary>Reads a session key, locking it until the unit of work ends when <paramref name="forUpdate"/> (PostgreSQL: <c>FOR UPDATE</c>).</summary>
    /// <returns>The key, or <see langword="null"/> when there is none with that id.</returns>
    ValueTask<SessionKey?> GetSessionKeyAsync(string id, bool forUpdate = false, CancellationToken cancellationToken = default);

    /// <summary>
    /// The account's unrevoked session key for <paramref name="delegate"/> (expired or not), locking it until the unit of
    /// work ends when <paramref name="forUpdate"/>.
    /// </summary>
    /// <returns>The key, or <see langword="null"/> when the account has no unrevoked key for that delegate.</returns>
    ValueTask<SessionKey?> GetActiveSessionKeyAsync(Address account, Address @delegate, bool forUpdate = false, CancellationToken cancellationToken = default);

    /// <summary>An account's session keys (of one delegate, when given): the unrevoked ones first, then newest first.</summary>
    /// <param name="account">The account.</param>
    /// <param name="delegate">Only this delegate's keys; <see langword="null"/> for all.</param>
    /// <param name="limit">The most keys to return (1 to 1000).</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    ValueTask<IReadOnlyList<SessionKey>> ListSessionKeysAsync(Address account, Address? @delegate, int limit, CancellationToken cancellationToken = default);

    /// <summary>
    /// Replaces a session key's <see cref="SessionKey.Spent"/> and <see cref="SessionKey.RevokedAt"/> if its version is
    /// still <paramref name="expectedVersion"/>; the version then becomes <paramref name="expectedVersion"/> + 1. May be
    /// pipelined (see <see cref="ILedgerStore"/>).
    /// </summary>
    /// <exception cref="AnpmConcurrencyException">The key is missing or its version changed.</exception>
    ValueTask UpdateSessionKeyAsync(SessionKey updated, long expectedVersion, CancellationToken cancellationToken = default);
}
