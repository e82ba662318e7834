namespace Anpm.Abstractions;

/// <summary>
/// A durable (or in-memory) home for all of Anpm's state. Every command runs in one unit of work: all its ledger postings
/// and entity changes commit together or not at all.
/// </summary>
public interface IAnpmStore
{
    /// <summary>Begins a unit of work. Dispose it; what was not committed is rolled back.</summary>
    /// <param name="cancellationToken">Cancels waiting for the store.</param>
    /// <returns>The unit of work.</returns>
    ValueTask<IAnpmUnitOfWork> BeginAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Begins a read-only unit of work: a consistent view of committed state that does not wait for the writer where the
    /// store can serve readers beside it (SQLite readers on their own connections in WAL, PostgreSQL read-only
    /// transactions). Writes through it throw <see cref="InvalidOperationException"/>; dispose it (committing keeps
    /// nothing). A store that cannot serve readers apart answers with an ordinary unit of work.
    /// </summary>
    /// <param name="cancellationToken">Cancels waiting for the store.</param>
    /// <returns>The read-only unit of work.</returns>
    ValueTask<IAnpmUnitOfWork> BeginReadAsync(CancellationToken cancellationToken = default) => BeginAsync(cancellationToken);
}

/// <summary>
/// One atomic unit of work (one transaction): reads see its own writes, and <see cref="CommitAsync"/> keeps all of them
/// or, if disposed without committing, none.
/// </summary>
/// <remarks>
/// Each feature's storage is its own interface (<see cref="ILedgerStore"/>, <see cref="IPoolStore"/>, …), handed out by
/// <see cref="GetStore{TStore}"/>; the named properties are shortcuts to it. A store implements <see cref="GetStore{TStore}"/>
/// and <see cref="CommitAsync"/> (and may answer a hot property directly); a decorator forwards the two.
/// </remarks>
public interface IAnpmUnitOfWork : IAsyncDisposable
{
    /// <summary>The feature store <typeparamref name="TStore"/> (e.g. <see cref="ILedgerStore"/>) within this unit of work.</summary>
    /// <typeparam name="TStore">A feature store interface.</typeparam>
    /// <returns>The store; the same instance for the life of this unit of work.</returns>
    /// <exception cref="NotSupportedException">This store does not implement <typeparamref name="TStore"/>.</exception>
    TStore GetStore<TStore>()
        where TStore : class;

    /// <summary>The ledger's accounts and transfers within this unit of work.</summary>
    ILedgerStore Ledger => GetStore<ILedgerStore>();

    /// <summary>The pools within this unit of work.</summary>
    IPoolStore Pools => GetStore<IPoolStore>();

    /// <summary>The outbox of outgoing token transfers within this unit of work.</summary>
    IOutboxStore Outbox => GetStore<IOutboxStore>();

    /// <summary>The contributions within this unit of work.</summary>
    IContributionStore Contributions => GetStore<IContributionStore>();

    /// <summary>The processed token notices within this unit of work.</summary>
    INoticeStore Notices => GetStore<INoticeStore>();

    /// <summary>The system-wide state (pause) within this unit of work.</summary>
    ISystemStateStore System => GetStore<ISystemStateStore>();

    /// <summary>The exchange-rate schedule within this unit of work.</summary>
    IExchangeRateStore ExchangeRates => GetStore<IExchangeRateStore>();

    /// <summary>The background jobs' checkpoints within this unit of work.</summary>
    ICheckpointStore Checkpoints => GetStore<ICheckpointStore>();

    /// <summary>Staking (pool state, eligibility schedule, epochs, lots, stakers) within this unit of work.</summary>
    IStakingStore Staking => GetStore<IStakingStore>();

    /// <summary>Inference tasks, their leases and the pools' oracle allow-lists within this unit of work.</summary>
    IInferenceStore Inference => GetStore<IInferenceStore>();

    /// <summary>Processed signed requests (replays and conflicts by signer and nonce) within this unit of work.</summary>
    IRequestStore Requests => GetStore<IRequestStore>();

    /// <summary>The outside chains' processed blocks (gateways' cursors and reorg checks) within this unit of work.</summary>
    IChainStore Chain => GetStore<IChainStore>();

    /// <summary>Session keys (delegates allowed to sign for an account, with spend caps) and their charges within this unit of work.</summary>
    ISessionKeyStore SessionKeys => GetStore<ISessionKeyStore>();

    /// <summary>Events (a transactional outbox written with the changes that caused them) and their webhook endpoints and deliveries within this unit of work.</summary>
    IEventStore Events => GetStore<IEventStore>();

    /// <summary>Low-balance alerts (per account and pool) within this unit of work.</summary>
    IBalanceAlertStore BalanceAlerts => GetStore<IBalanceAlertStore>();

    /// <summary>Credit grants (category, expiry, priority) and what tasks' holds took from them within this unit of work.</summary>
    ICreditGrantStore CreditGrants => GetStore<ICreditGrantStore>();

    /// <summary>Commits every change of this unit of work. After it, only disposing is allowed.</summary>
    /// <param name="cancellationToken">Cancels the commit; then nothing was kept.</param>
    /// <exception cref="AnpmConcurrencyException">Another unit of work changed the same data first; retrying is safe.</exception>
    ValueTask CommitAsync(CancellationToken cancellationToken = default);
}

/// <summary>
/// Storage of ledger accounts and transfers inside a unit of work. It stores what it is given and enforces unique ids;
/// the rules of money (balances, flags, two-phase states) live in the ledger above it.
/// </summary>
/// <remarks>
/// Callers lock all the accounts a command touches with one <see cref="GetAccountsForUpdateAsync"/>, which locks them in
/// ordinal order of their ids, so that stores with row locks never deadlock.
/// <para>
/// Updates that answer nothing (<see cref="UpdateAccountTotalsAsync"/>, <see cref="UpdatePendingStateAsync"/>, and every
/// versioned <c>Update…Async</c> of the other stores: contributions, pools, the outbox, checkpoints, the system state) may
/// be pipelined: a store that sends them with the unit of work's next statement (PostgreSQL, in one NpgsqlBatch) reports
/// a refused update — missing, or changed meanwhile — from that next call or from <see cref="IAnpmUnitOfWork.CommitAsync"/>
/// instead, always before anything commits, so the unit of work fails whole.
/// </para>
/// </remarks>
public interface ILedgerStore
{
    /// <summary>Reads an account without locking it.</summary>
    /// <returns>The account, or <see langword="null"/> when there is none with that id.</returns>
    ValueTask<LedgerAccount?> GetAccountAsync(AccountId id, CancellationToken cancellationToken = default);

    /// <summary>
    /// Reads accounts and locks them until the unit of work ends, so no other unit of work changes them meanwhile; one
    /// round trip, locking in ordinal order of the ids.
    /// </summary>
    /// <param name="ids">Distinct account ids in ordinal order.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>
    /// The accounts that exist, in ordinal order of their ids, in an array of exactly their number. The caller may change
    /// it; it is the caller's until its next call to this method in the unit of work, or the unit of work's end — a store
    /// may hand the same array out again then (the in-memory store reuses one for the common pair of accounts).
    /// </returns>
    ValueTask<LockedAccount[]> GetAccountsForUpdateAsync(IReadOnlyList<AccountId> ids, CancellationToken cancellationToken = default);

    /// <summary>Inserts an account unless one with its id exists (an atomic insert, never check-then-insert).</summary>
    /// <returns><see langword="false"/> when an account with that id exists; nothing changed.</returns>
    ValueTask<bool> TryInsertAccountAsync(LedgerAccount account, CancellationToken cancellationToken = default);

    /// <summary>
    /// Replaces the four totals of an existing account, which this unit of work has locked, if its version is still
    /// <paramref name="expectedVersion"/>; the version then becomes <paramref name="expectedVersion"/> + 1.
    /// </summary>
    /// <param name="id">The account.</param>
    /// <param name="expectedVersion">The <see cref="LedgerAccount.Version"/> the caller read.</param>
    /// <param name="totals">The new totals.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <exception cref="AnpmConcurrencyException">The account's version is no longer <paramref name="expectedVersion"/>.</exception>
    /// <exception cref="AnpmException">The account does not exist.</exception>
    ValueTask UpdateAccountTotalsAsync(AccountId id, long expectedVersion, AccountTotals totals, CancellationToken cancellationToken = default);

    /// <summary>Reads a transfer.</summary>
    /// <returns>The transfer, or <see langword="null"/> when there is none with that id.</returns>
    ValueTask<Transfer?> GetTransferAsync(TransferId id, CancellationToken cancellationToken = default);

    /// <summary>
    /// Inserts a transfer unless one with its id exists, assigns it the next sequence number and appends it to the history
    /// of both its accounts.
    /// </summary>
    /// <returns><see langword="false"/> when a transfer with that id exists; nothing changed.</returns>
    ValueTask<bool> TryInsertTransferAsync(Transfer transfer, CancellationToken cancellationToken = default);

    /// <summary>Sets the state of an existing pending transfer.</summary>
    /// <exception cref="AnpmException">The transfer does not exist.</exception>
    ValueTask UpdatePendingStateAsync(TransferId id, PendingTransferState state, CancellationToken cancellationToken = default);

    /// <summary>Pending transfers still in state <see cref="PendingTransferState.Pending"/> whose expiry is at or before <paramref name="now"/>, earliest first.</summary>
    /// <param name="now">The current time.</param>
    /// <param name="limit">The most transfers to return.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    ValueTask<IReadOnlyList<Transfer>> GetExpiredPendingTransfersAsync(DateTimeOffset now, int limit, CancellationToken cancellationToken = default);

    /// <summary>Transfers that debit or credit an account, newest first.</summary>
    /// <param name="id">The account.</param>
    /// <param name="beforeSequence">Only entries with a smaller sequence number; <see langword="null"/> starts at the newest.</param>
    /// <param name="limit">The most entries to return.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    ValueTask<IReadOnlyList<LedgerEntry>> GetAccountHistoryAsync(AccountId id, long? beforeSequence, int limit, CancellationToken cancellationToken = default);

    /// <summary>Per asset, the sums of every account's totals and how many non-negative accounts are negative.</summary>
    ValueTask<IReadOnlyList<AssetTotals>> GetAssetTotalsAsync(CancellationToken cancellationToken = default);
}
