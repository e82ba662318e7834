using System.Diagnostics.CodeAnalysis;
using Anpm.Abstractions;

namespace Anpm.Storage.InMemory;

/// <summary>
/// A thread-safe store that keeps everything in memory, for tests and for embedding where nothing must outlive the
/// process. Units of work run one at a time (serializable by construction); a unit of work writes through and keeps an
/// undo log, so rolling back restores exactly the state it found.
/// </summary>
public sealed partial class InMemoryAnpmStore : IAnpmStore, IJobLockProvider, IStoreSchema
{
    private readonly AsyncExclusiveLock _gate = new();
    private readonly InProcessJobLockProvider _jobLocks = new();
    // Keyed by the id text: string keys take the runtime's fastest dictionary path (measured about twice as fast as the
    // struct ids themselves), and the store's maps are on every transfer's path.
    private readonly Dictionary<string, AccountRecord> _accounts = new(StringComparer.Ordinal);
    // Transfers live in one append-only log (sequence = index + 1); the id index and each account's history hold sequence
    // numbers, not references, so the garbage collector has far fewer old-to-young references to trace.
    private readonly List<Transfer> _log = [];
    private readonly Dictionary<string, long> _sequences = new(StringComparer.Ordinal);
    private readonly SortedDictionary<string, PoolRecord> _pools = new(StringComparer.Ordinal);
    private readonly Dictionary<string, OutgoingTransfer> _outbox = new(StringComparer.Ordinal);
    private readonly SortedDictionary<string, ContributionRecord> _contributions = new(StringComparer.Ordinal);
    private readonly Dictionary<string, TokenNotice> _notices = new(StringComparer.Ordinal);
    private readonly SortedSet<Transfer> _pendingByExpiry = new(PendingExpiryComparer.Instance);
    private readonly List<UndoEntry> _undo = [];

    // Handed out by GetAccountsForUpdateAsync for the common pair of accounts (a transfer's two), again on each call:
    // units of work run one at a time, and the contract gives the caller the array only until its next such call.
    private readonly LockedAccount[] _lockedPair = new LockedAccount[2];
    private SystemState _systemState = SystemState.Initial;
    private readonly SortedList<DateTimeOffset, ExchangeRate> _rates = [];
    private readonly Dictionary<string, Checkpoint> _checkpoints = new(StringComparer.Ordinal);
    private readonly Dictionary<string, PoolStakingState> _poolStaking = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Pool, int Day), TokenAmount> _schedule = [];
    private readonly Dictionary<(string Pool, int Day), StakeEpoch> _epochs = [];
    private readonly Dictionary<(string Pool, Address Staker), List<StakeLot>> _lots = [];
    private readonly Dictionary<(string Pool, Address Staker), StakerState> _stakers = [];
    private readonly Dictionary<string, InferenceTask> _tasks = new(StringComparer.Ordinal);
    private readonly Dictionary<string, TaskLease> _leases = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<string>> _taskLeases = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Pool, Address Oracle), PoolOracle> _oracles = [];
    private readonly Dictionary<(Address Signer, string Nonce), ProcessedRequest> _requests = [];

    /// <summary>The in-memory store has no stored schema: it is always at its code's version (1).</summary>
    public ValueTask<StoreSchemaVersion> GetSchemaVersionAsync(CancellationToken cancellationToken = default) => new(new StoreSchemaVersion(1, 1));

    /// <inheritdoc />
    public ValueTask<IAnpmUnitOfWork> BeginAsync(CancellationToken cancellationToken = default)
    {
        var wait = _gate.EnterAsync(cancellationToken);
        return wait.IsCompletedSuccessfully
            ? new ValueTask<IAnpmUnitOfWork>(new UnitOfWork(this))
            : BeginSlowAsync(wait);
    }

    /// <inheritdoc />
    /// <remarks>
    /// Units of work write through to the shared maps, so a reader takes the same turn as a writer (one at a time); it
    /// refuses writes. The in-memory store does not serve readers beside a running writer.
    /// </remarks>
    public async ValueTask<IAnpmUnitOfWork> BeginReadAsync(CancellationToken cancellationToken = default)
    {
        await _gate.EnterAsync(cancellationToken).ConfigureAwait(false);
        return new UnitOfWork(this) { ReadOnly = true };
    }

    /// <inheritdoc />
    public ValueTask<IAsyncDisposable?> TryAcquireAsync(string key, CancellationToken cancellationToken = default) =>
        _jobLocks.TryAcquireAsync(key, cancellationToken);

    private async ValueTask<IAnpmUnitOfWork> BeginSlowAsync(ValueTask wait)
    {
        await wait.ConfigureAwait(false);
        return new UnitOfWork(this);
    }

    private void Rollback()
    {
        for (var i = _undo.Count - 1; i >= 0; i--)
        {
            var entry = _undo[i];
            switch (entry.Kind)
            {
                case UndoKind.AccountInserted:
                    _accounts.Remove(Key(entry.Account!.Id));
                    break;
                case UndoKind.AccountTotalsUpdated:
                    entry.Account!.Totals = entry.PreviousTotals;
                    entry.Account.Version--;
                    break;
                case UndoKind.TransferInserted:
                    var inserted = entry.Transfer;
                    Unindex(inserted);
                    _sequences.Remove(Key(inserted.Id));
                    _log.RemoveAt(_log.Count - 1);
                    RemoveLast(_accounts[Key(inserted.DebitAccountId)].History);
                    RemoveLast(_accounts[Key(inserted.CreditAccountId)].History);
                    break;
                case UndoKind.NoticeInserted:
                    _notices.Remove(entry.Notice.MessageId);
                    break;
                case UndoKind.ContributionInserted:
                    _contributions.Remove(entry.Contribution.Id.Value!);
                    break;
                case UndoKind.ContributionUpdated:
                    _contributions[entry.Contribution.Id.Value!] = entry.Contribution;
                    break;
                case UndoKind.OutgoingInserted:
                    _outbox.Remove(entry.Outgoing.Id.Value!);
                    break;
                case UndoKind.OutgoingUpdated:
                    _outbox[entry.Outgoing.Id.Value!] = entry.Outgoing;
                    break;
                case UndoKind.PoolInserted:
                    _pools.Remove(entry.Pool.Id.Value!);
                    break;
                case UndoKind.Custom:
                    entry.Undo();
                    break;
                case UndoKind.RateInserted:
                    _rates.Remove(entry.Rate.EffectiveAt);
                    break;
                case UndoKind.CheckpointInserted:
                    _checkpoints.Remove(entry.Checkpoint.Name);
                    break;
                case UndoKind.CheckpointUpdated:
                    _checkpoints[entry.Checkpoint.Name] = entry.Checkpoint;
                    break;
                case UndoKind.SystemStateUpdated:
                    _systemState = entry.SystemState;
                    break;
                case UndoKind.PoolUpdated:
                    _pools[entry.Pool.Id.Value!] = entry.Pool;
                    break;
                case UndoKind.PendingStateUpdated:
                    var index = (int)_sequences[Key(entry.Transfer.Id)] - 1;
                    Unindex(_log[index]);
                    _log[index] = entry.Transfer;
                    Index(entry.Transfer);
                    break;
            }
        }

        _undo.Clear();
    }

    // The default id has no text; it is never stored, so looking it up finds nothing.
    private static string Key<T>(T id)
        where T : struct, IIdentifier<T> => id.Value ?? string.Empty;

    private static string RequiredKey<T>(T id)
        where T : struct, IIdentifier<T> =>
        id.Value ?? throw new ArgumentException($"The default {typeof(T).Name} cannot be stored.", nameof(id));

    private static void RemoveLast(List<long> history) => history.RemoveAt(history.Count - 1);

    private Transfer? FindTransfer(TransferId id) => _sequences.TryGetValue(Key(id), out var sequence) ? _log[(int)sequence - 1] : null;

    private void Index(Transfer transfer)
    {
        if (transfer.State == PendingTransferState.Pending && transfer.ExpiresAt is not null)
        {
            _pendingByExpiry.Add(transfer);
        }
    }

    private void Unindex(Transfer transfer)
    {
        if (transfer.State == PendingTransferState.Pending && transfer.ExpiresAt is not null)
        {
            _pendingByExpiry.Remove(transfer);
        }
    }

    private enum UndoKind
    {
        AccountInserted,
        AccountTotalsUpdated,
        TransferInserted,
        PendingStateUpdated,
        PoolInserted,
        PoolUpdated,
        OutgoingInserted,
        OutgoingUpdated,
        ContributionInserted,
        ContributionUpdated,
        NoticeInserted,
        SystemStateUpdated,
        RateInserted,
        CheckpointInserted,
        CheckpointUpdated,
        Custom,
    }

    // One change to undo: an account and its previous totals, or the previous (or inserted) record of the kind's type.
    // Kept small: every write of a unit of work appends one, and a transfer writes three.
    private readonly record struct UndoEntry(UndoKind Kind, AccountRecord? Account, AccountTotals PreviousTotals, object? Previous = null)
    {
        public Transfer Transfer => (Transfer)Previous!;

        public PoolRecord Pool => (PoolRecord)Previous!;

        public OutgoingTransfer Outgoing => (OutgoingTransfer)Previous!;

        public ContributionRecord Contribution => (ContributionRecord)Previous!;

        public TokenNotice Notice => (TokenNotice)Previous!;

        public SystemState SystemState => (SystemState)Previous!;

        public ExchangeRate Rate => (ExchangeRate)Previous!;

        public Checkpoint Checkpoint => (Checkpoint)Previous!;

        public Action Undo => (Action)Previous!;
    }

    // The stored account and its history (sequence order, oldest first), kept together so a transfer updates both with one
    // lookup. Totals are updated in place: replacing a long-lived record on every transfer would make the GC work far harder
    // than handing out a short-lived snapshot on each read.
    private sealed class AccountRecord(LedgerAccount account)
    {
        private readonly LedgerAccount _created = account;

        public AccountId Id => _created.Id;

        public AccountTotals Totals { get; set; } = account.Totals;

        public long Version { get; set; } = account.Version;

        /// <summary>Sequence numbers of the account's transfers, oldest first.</summary>
        public List<long> History { get; } = [];

        public LockedAccount Locked() => new(_created.Id, _created.Asset, _created.Flags, Version, Totals);

        public LedgerAccount Snapshot() => _created with
        {
            Version = Version,
            DebitsPosted = Totals.DebitsPosted,
            CreditsPosted = Totals.CreditsPosted,
            DebitsPending = Totals.DebitsPending,
            CreditsPending = Totals.CreditsPending,
        };
    }

    private sealed class PendingExpiryComparer : IComparer<Transfer>
    {
        public static readonly PendingExpiryComparer Instance = new();

        public int Compare(Transfer? x, Transfer? y)
        {
            var byTime = Nullable.Compare(x!.ExpiresAt, y!.ExpiresAt);
            return byTime != 0 ? byTime : string.CompareOrdinal(x.Id.Value, y.Id.Value);
        }
    }

    private sealed partial class UnitOfWork(InMemoryAnpmStore store) : IAnpmUnitOfWork, ILedgerStore, IPoolStore, IOutboxStore, IContributionStore, INoticeStore, ISystemStateStore, IExchangeRateStore, ICheckpointStore, IStakingStore, IInferenceStore, IRequestStore
    {
        private InMemoryAnpmStore? _store = store;
        private bool _committed;

        // The last two accounts this unit of work locked, with the key they were asked by: a transfer then updates and
        // appends to them by reference instead of hashing their ids again.
        private (string? Key, AccountRecord? Record) _locked0, _locked1;

        public ILedgerStore Ledger => this;

        public IPoolStore Pools => this;

        public IOutboxStore Outbox => this;

        public IContributionStore Contributions => this;

        public INoticeStore Notices => this;

        public ISystemStateStore System => this;

        public IExchangeRateStore ExchangeRates => this;

        public ICheckpointStore Checkpoints => this;

        public IStakingStore Staking => this;

        public IInferenceStore Inference => this;

        public IRequestStore Requests => this;

        public IChainStore Chain => this;

        public ValueTask<ProcessedRequest?> GetRequestAsync(Address signer, string nonce, CancellationToken cancellationToken = default) =>
            new(nonce is null ? null : Store._requests.GetValueOrDefault((signer, nonce)));

        public ValueTask<bool> TryInsertRequestAsync(ProcessedRequest request, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(request);
            ArgumentException.ThrowIfNullOrEmpty(request.Nonce);
            var store = Writable;
            var key = (request.Signer, request.Nonce);
            if (!store._requests.TryAdd(key, request))
            {
                return new(false);
            }

            Undo(store, () => store._requests.Remove(key));
            return new(true);
        }

        public ValueTask<bool> CompleteRequestAsync(Address signer, string nonce, string digest, int status, string response, CancellationToken cancellationToken = default)
        {
            ArgumentException.ThrowIfNullOrEmpty(nonce);
            ArgumentNullException.ThrowIfNull(digest);
            ArgumentNullException.ThrowIfNull(response);
            ArgumentOutOfRangeException.ThrowIfEqual(status, ProcessedRequest.ClaimedStatus);
            var store = Writable;
            var key = (signer, nonce);
            if (!store._requests.TryGetValue(key, out var claimed) || !claimed.IsClaimed || claimed.Digest != digest)
            {
                return new(false);
            }

            store._requests[key] = claimed with { Status = status, Response = response };
            Undo(store, () => store._requests[key] = claimed);
            return new(true);
        }

        public ValueTask<bool> ReleaseRequestAsync(Address signer, string nonce, string digest, CancellationToken cancellationToken = default)
        {
            ArgumentException.ThrowIfNullOrEmpty(nonce);
            ArgumentNullException.ThrowIfNull(digest);
            var store = Writable;
            var key = (signer, nonce);
            if (!store._requests.TryGetValue(key, out var claimed) || !claimed.IsClaimed || claimed.Digest != digest)
            {
                return new(false);
            }

            store._requests.Remove(key);
            Undo(store, () => store._requests[key] = claimed);
            return new(true);
        }

        public ValueTask<bool> TryInsertTaskAsync(InferenceTask task, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(task);
            ArgumentException.ThrowIfNullOrEmpty(task.Id);
            var store = Writable;
            if (!store._tasks.TryAdd(task.Id, task with { Version = 0 }))
            {
                return new(false);
            }

            Undo(store, () => store._tasks.Remove(task.Id));
            return new(true);
        }

        public ValueTask<InferenceTask?> GetTaskAsync(string id, CancellationToken cancellationToken = default) =>
            new(id is null ? null : Store._tasks.GetValueOrDefault(id));

        public ValueTask UpdateTaskAsync(InferenceTask updated, long expectedVersion, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(updated);
            var store = Writable;
            var current = updated.Id is null ? null : store._tasks.GetValueOrDefault(updated.Id);
            if (current is null || current.Version != expectedVersion)
            {
                throw StoreErrors.UpdateRefused("Task", updated.Id ?? string.Empty, expectedVersion, current?.Version);
            }

            store._tasks[current.Id] = current with
            {
                Status = updated.Status,
                OpenSlots = updated.OpenSlots,
                FailedAttempts = updated.FailedAttempts,
                CompletedAt = updated.CompletedAt,
                Output = updated.Output,
                OutputHash = updated.OutputHash,
                FailureReason = updated.FailureReason,
                Version = expectedVersion + 1,
            };
            Undo(store, () => store._tasks[current.Id] = current);
            return ValueTask.CompletedTask;
        }

        public ValueTask<InferenceTask?> ClaimNextTaskAsync(PoolId pool, Address oracle, CancellationToken cancellationToken = default)
        {
            var store = Store;
            var found = store._tasks.Values
                .Where(t => t.PoolId == pool && t.Status == InferenceTaskStatus.Pending
                    && !(store._taskLeases.GetValueOrDefault(t.Id) ?? []).Any(id => store._leases[id].Oracle == oracle))
                .OrderBy(t => t.CreatedAt)
                .ThenBy(t => t.Id, StringComparer.Ordinal)
                .FirstOrDefault();
            return new(found);
        }

        public ValueTask<IReadOnlyList<InferenceTask>> GetOverdueTasksAsync(DateTimeOffset idleSince, int limit, CancellationToken cancellationToken = default)
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
            var store = Store;
            IReadOnlyList<InferenceTask> tasks = store._tasks.Values
                .Where(t => t.Status == InferenceTaskStatus.Pending && t.CreatedAt <= idleSince
                    && !(store._taskLeases.GetValueOrDefault(t.Id) ?? []).Select(id => store._leases[id])
                        .Any(l => l.State == TaskLeaseState.Active || l.LeasedAt > idleSince || l.EndedAt > idleSince))
                .OrderBy(t => t.CreatedAt).ThenBy(t => t.Id, StringComparer.Ordinal)
                .Take(limit)
                .ToList();
            return new(tasks);
        }

        public ValueTask<IReadOnlyDictionary<InferenceTaskStatus, int>> CountTasksAsync(PoolId pool, CancellationToken cancellationToken = default)
        {
            IReadOnlyDictionary<InferenceTaskStatus, int> counts = Store._tasks.Values.Where(t => t.PoolId == pool).GroupBy(t => t.Status).ToDictionary(g => g.Key, g => g.Count());
            return new(counts);
        }

        public ValueTask<IReadOnlyList<TimeSpan>> GetRecentLatenciesAsync(PoolId pool, int limit, CancellationToken cancellationToken = default)
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
            IReadOnlyList<TimeSpan> latencies = Store._tasks.Values
                .Where(t => t.PoolId == pool && t.Status == InferenceTaskStatus.Done)
                .OrderByDescending(t => t.CompletedAt)
                .Take(limit)
                .Select(t => t.CompletedAt!.Value - t.CreatedAt)
                .ToList();
            return new(latencies);
        }

        public ValueTask<IReadOnlyList<InferenceTask>> ListTasksAsync(PoolId pool, Address? account, DateTimeOffset? before, int limit, CancellationToken cancellationToken = default)
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
            IReadOnlyList<InferenceTask> tasks = Store._tasks.Values
                .Where(t => t.PoolId == pool && (account is null || t.Account == account) && (before is null || t.CreatedAt < before))
                .OrderByDescending(t => t.CreatedAt)
                .ThenByDescending(t => t.Id, StringComparer.Ordinal)
                .Take(limit)
                .ToList();
            return new(tasks);
        }

        public ValueTask<bool> TryInsertLeaseAsync(TaskLease lease, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(lease);
            ArgumentException.ThrowIfNullOrEmpty(lease.Id);
            var store = Writable;
            if (!store._tasks.ContainsKey(lease.TaskId))
            {
                throw new AnpmException($"Lease '{lease.Id}' names task '{lease.TaskId}', which does not exist.");
            }

            if (!store._leases.TryAdd(lease.Id, lease with { Version = 0 }))
            {
                return new(false);
            }

            if (!store._taskLeases.TryGetValue(lease.TaskId, out var ids))
            {
                ids = [];
                store._taskLeases[lease.TaskId] = ids;
            }

            ids.Add(lease.Id);
            Undo(store, () =>
            {
                store._leases.Remove(lease.Id);
                ids.Remove(lease.Id);
            });
            return new(true);
        }

        public ValueTask<TaskLease?> GetLeaseAsync(string id, CancellationToken cancellationToken = default) =>
            new(id is null ? null : Store._leases.GetValueOrDefault(id));

        public ValueTask UpdateLeaseAsync(TaskLease updated, long expectedVersion, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(updated);
            var store = Writable;
            var current = updated.Id is null ? null : store._leases.GetValueOrDefault(updated.Id);
            if (current is null || current.Version != expectedVersion)
            {
                throw StoreErrors.UpdateRefused("Lease", updated.Id ?? string.Empty, expectedVersion, current?.Version);
            }

            store._leases[current.Id] = current with
            {
                State = updated.State,
                EndedAt = updated.EndedAt,
                OutputHash = updated.OutputHash,
                Output = updated.Output,
                Signature = updated.Signature,
                Reason = updated.Reason,
                Dissent = updated.Dissent,
                ExpiresAt = updated.ExpiresAt,
                Version = expectedVersion + 1,
            };
            Undo(store, () => store._leases[current.Id] = current);
            return ValueTask.CompletedTask;
        }

        public ValueTask<IReadOnlyList<TaskLease>> ListTaskLeasesAsync(string taskId, CancellationToken cancellationToken = default)
        {
            IReadOnlyList<TaskLease> leases = (taskId is null ? null : Store._taskLeases.GetValueOrDefault(taskId))?.Select(id => Store._leases[id])
                .OrderBy(l => l.LeasedAt).ThenBy(l => l.Id, StringComparer.Ordinal).ToList() ?? [];
            return new(leases);
        }

        public ValueTask<IReadOnlyList<TaskLease>> GetExpiredLeasesAsync(DateTimeOffset now, int limit, CancellationToken cancellationToken = default)
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
            IReadOnlyList<TaskLease> expired = Store._leases.Values
                .Where(l => l.State == TaskLeaseState.Active && l.ExpiresAt <= now)
                .OrderBy(l => l.ExpiresAt).ThenBy(l => l.Id, StringComparer.Ordinal)
                .Take(limit)
                .ToList();
            return new(expired);
        }

        public ValueTask<IReadOnlyList<OracleTaskCounts>> CountOracleLeasesAsync(PoolId pool, CancellationToken cancellationToken = default)
        {
            IReadOnlyList<OracleTaskCounts> counts = Store._leases.Values
                .Where(l => l.PoolId == pool)
                .GroupBy(l => l.Oracle)
                .Select(g => new OracleTaskCounts(g.Key, g.Count(), g.Count(l => l.State == TaskLeaseState.Resulted),
                    g.Count(l => l.State is TaskLeaseState.Failed or TaskLeaseState.Expired), g.Count(l => l.Dissent)))
                .OrderBy(c => c.Oracle.ToString(), StringComparer.Ordinal)
                .ToList();
            return new(counts);
        }

        public ValueTask SetOracleAsync(PoolOracle oracle, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(oracle);
            var store = Writable;
            var key = (RequiredKey(oracle.PoolId), oracle.Oracle);
            var had = store._oracles.TryGetValue(key, out var previous);
            store._oracles[key] = oracle;
            Undo(store, () =>
            {
                if (had)
                {
                    store._oracles[key] = previous!;
                }
                else
                {
                    store._oracles.Remove(key);
                }
            });
            return ValueTask.CompletedTask;
        }

        public ValueTask<PoolOracle?> GetOracleAsync(PoolId pool, Address oracle, CancellationToken cancellationToken = default) =>
            new(Store._oracles.GetValueOrDefault((Key(pool), oracle)));

        public ValueTask<IReadOnlyList<PoolOracle>> ListOraclesAsync(PoolId pool, CancellationToken cancellationToken = default)
        {
            IReadOnlyList<PoolOracle> oracles = Store._oracles.Values.Where(o => o.PoolId == pool).OrderBy(o => o.Oracle.ToString(), StringComparer.Ordinal).ToList();
            return new(oracles);
        }

        public ValueTask<PoolStakingState?> GetPoolStakingAsync(PoolId pool, CancellationToken cancellationToken = default) =>
            new(Store._poolStaking.GetValueOrDefault(Key(pool)));

        public ValueTask<bool> TryInsertPoolStakingAsync(PoolStakingState state, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(state);
            var store = Writable;
            var key = RequiredKey(state.PoolId);
            if (!store._pools.ContainsKey(key))
            {
                throw new AnpmException($"Staking state names pool '{state.PoolId}', which does not exist.");
            }

            if (!store._poolStaking.TryAdd(key, state with { Version = 0 }))
            {
                return new(false);
            }

            Undo(store, () => store._poolStaking.Remove(key));
            return new(true);
        }

        public ValueTask UpdatePoolStakingAsync(PoolStakingState updated, long expectedVersion, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(updated);
            var store = Writable;
            var key = Key(updated.PoolId);
            var current = store._poolStaking.GetValueOrDefault(key);
            if (current is null || current.Version != expectedVersion)
            {
                throw StoreErrors.UpdateRefused("Staking state of pool", updated.PoolId, expectedVersion, current?.Version);
            }

            store._poolStaking[key] = updated with { Version = expectedVersion + 1 };
            Undo(store, () => store._poolStaking[key] = current);
            return ValueTask.CompletedTask;
        }

        public ValueTask<TokenAmount> GetScheduledEligibilityAsync(PoolId pool, int day, CancellationToken cancellationToken = default) =>
            new(Store._schedule.GetValueOrDefault((Key(pool), day)));

        public ValueTask SetScheduledEligibilityAsync(PoolId pool, int day, TokenAmount amount, CancellationToken cancellationToken = default)
        {
            var store = Writable;
            var key = (RequiredKey(pool), day);
            var had = store._schedule.TryGetValue(key, out var previous);
            if (amount.IsZero)
            {
                store._schedule.Remove(key);
            }
            else
            {
                store._schedule[key] = amount;
            }

            Undo(store, () =>
            {
                if (had)
                {
                    store._schedule[key] = previous;
                }
                else
                {
                    store._schedule.Remove(key);
                }
            });
            return ValueTask.CompletedTask;
        }

        public ValueTask<bool> TryInsertEpochAsync(StakeEpoch epoch, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(epoch);
            var store = Writable;
            var key = (RequiredKey(epoch.PoolId), epoch.Day);
            if (!store._epochs.TryAdd(key, epoch))
            {
                return new(false);
            }

            Undo(store, () => store._epochs.Remove(key));
            return new(true);
        }

        public ValueTask<StakeEpoch?> GetEpochAsync(PoolId pool, int day, CancellationToken cancellationToken = default) =>
            new(Store._epochs.GetValueOrDefault((Key(pool), day)));

        public ValueTask<IReadOnlyList<StakeEpoch>> ListEpochsAsync(PoolId pool, int? beforeDay, int limit, CancellationToken cancellationToken = default)
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
            IReadOnlyList<StakeEpoch> page = Store._epochs.Values
                .Where(e => e.PoolId == pool && (beforeDay is null || e.Day < beforeDay))
                .OrderByDescending(e => e.Day)
                .Take(limit)
                .ToList();
            return new(page);
        }

        public ValueTask<bool> TryInsertLotAsync(StakeLot lot, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(lot);
            ArgumentException.ThrowIfNullOrEmpty(lot.Id);
            var store = Writable;
            var key = (RequiredKey(lot.PoolId), lot.Staker);
            if (!store._lots.TryGetValue(key, out var lots))
            {
                lots = [];
                store._lots[key] = lots;
            }

            if (lots.Any(l => l.Id == lot.Id))
            {
                return new(false);
            }

            var stored = lot with { Version = 0 };
            lots.Add(stored);
            Undo(store, () => lots.Remove(stored));
            return new(true);
        }

        public ValueTask UpdateLotAmountAsync(StakeLot lot, TokenAmount amount, long expectedVersion, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(lot);
            var store = Writable;
            var lots = store._lots.GetValueOrDefault((Key(lot.PoolId), lot.Staker));
            var index = lots?.FindIndex(l => l.Id == lot.Id) ?? -1;
            var current = index < 0 ? null : lots![index];
            if (current is null || current.Version != expectedVersion)
            {
                throw StoreErrors.UpdateRefused("Stake lot", lot.Id, expectedVersion, current?.Version);
            }

            if (amount.IsZero)
            {
                lots!.RemoveAt(index);
                Undo(store, () => lots.Insert(index, current));
            }
            else
            {
                lots![index] = current with { Amount = amount, Version = expectedVersion + 1 };
                Undo(store, () => lots[index] = current);
            }

            return ValueTask.CompletedTask;
        }

        public ValueTask<IReadOnlyList<StakeLot>> ListLotsAsync(PoolId pool, Address staker, CancellationToken cancellationToken = default)
        {
            IReadOnlyList<StakeLot> lots = (Store._lots.GetValueOrDefault((Key(pool), staker)) ?? [])
                .OrderBy(l => l.StakedAt)
                .ThenBy(l => l.Id, StringComparer.Ordinal)
                .ToList();
            return new(lots);
        }

        public ValueTask<StakerState?> GetStakerAsync(PoolId pool, Address staker, CancellationToken cancellationToken = default) =>
            new(Store._stakers.GetValueOrDefault((Key(pool), staker)));

        public ValueTask<bool> TryInsertStakerAsync(StakerState staker, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(staker);
            var store = Writable;
            var key = (RequiredKey(staker.PoolId), staker.Staker);
            if (!store._stakers.TryAdd(key, staker with { Version = 0 }))
            {
                return new(false);
            }

            Undo(store, () => store._stakers.Remove(key));
            return new(true);
        }

        public ValueTask UpdateStakerAsync(StakerState updated, long expectedVersion, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(updated);
            var store = Writable;
            var key = (Key(updated.PoolId), updated.Staker);
            var current = store._stakers.GetValueOrDefault(key);
            if (current is null || current.Version != expectedVersion)
            {
                throw StoreErrors.UpdateRefused("Staker", $"{updated.PoolId}/{updated.Staker}", expectedVersion, current?.Version);
            }

            store._stakers[key] = updated with { Version = expectedVersion + 1 };
            Undo(store, () => store._stakers[key] = current);
            return ValueTask.CompletedTask;
        }

        private static void Undo(InMemoryAnpmStore store, Action undo) =>
            store._undo.Add(new UndoEntry(UndoKind.Custom, null, default, undo));

        public ValueTask<bool> TryInsertRateAsync(ExchangeRate rate, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(rate);
            var store = Writable;
            var key = rate.EffectiveAt.ToUniversalTime();
            if (!store._rates.TryAdd(key, rate))
            {
                return new(false);
            }

            store._undo.Add(new UndoEntry(UndoKind.RateInserted, null, default, rate with { EffectiveAt = key }));
            return new(true);
        }

        public ValueTask<ExchangeRate?> GetRateInForceAsync(DateTimeOffset at, CancellationToken cancellationToken = default)
        {
            var rates = Store._rates;
            ExchangeRate? found = null;
            var (low, high) = (0, rates.Count - 1);
            while (low <= high)
            {
                var middle = (low + high) / 2;
                if (rates.Keys[middle] <= at)
                {
                    found = rates.Values[middle];
                    low = middle + 1;
                }
                else
                {
                    high = middle - 1;
                }
            }

            return new(found);
        }

        public ValueTask<IReadOnlyList<ExchangeRate>> ListRatesAsync(DateTimeOffset? before, int limit, CancellationToken cancellationToken = default)
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
            IReadOnlyList<ExchangeRate> page = Store._rates.Values.Reverse().Where(r => before is null || r.EffectiveAt < before).Take(limit).ToList();
            return new(page);
        }

        public ValueTask<Checkpoint?> GetCheckpointAsync(string name, bool lockShared = false, CancellationToken cancellationToken = default) =>
            new(name is null ? null : Store._checkpoints.GetValueOrDefault(name));

        public ValueTask<bool> TryInsertCheckpointAsync(string name, long value, CancellationToken cancellationToken = default)
        {
            StoreErrors.CheckCheckpointName(name);
            var store = Writable;
            var checkpoint = new Checkpoint(name, value, 0);
            if (!store._checkpoints.TryAdd(name, checkpoint))
            {
                return new(false);
            }

            store._undo.Add(new UndoEntry(UndoKind.CheckpointInserted, null, default, checkpoint));
            return new(true);
        }

        public ValueTask UpdateCheckpointAsync(string name, long value, long expectedVersion, CancellationToken cancellationToken = default)
        {
            var store = Writable;
            var current = name is null ? null : store._checkpoints.GetValueOrDefault(name);
            if (current is null || current.Version != expectedVersion)
            {
                throw StoreErrors.UpdateRefused("Checkpoint", name ?? string.Empty, expectedVersion, current?.Version);
            }

            store._undo.Add(new UndoEntry(UndoKind.CheckpointUpdated, null, default, current));
            store._checkpoints[current.Name] = current with { Value = value, Version = expectedVersion + 1 };
            return ValueTask.CompletedTask;
        }

        public ValueTask<SystemState> GetSystemStateAsync(CancellationToken cancellationToken = default) => new(Store._systemState);

        public ValueTask UpdateSystemStateAsync(SystemState updated, long expectedVersion, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(updated);
            var store = Writable;
            if (store._systemState.Version != expectedVersion)
            {
                throw StoreErrors.UpdateRefused("System state", "system", expectedVersion, store._systemState.Version);
            }

            store._undo.Add(new UndoEntry(UndoKind.SystemStateUpdated, null, default, store._systemState));
            store._systemState = updated with { Version = expectedVersion + 1 };
            return ValueTask.CompletedTask;
        }

        public ValueTask<IReadOnlyDictionary<ContributionStatus, int>> CountPoolContributionsAsync(PoolId poolId, CancellationToken cancellationToken = default)
        {
            IReadOnlyDictionary<ContributionStatus, int> counts = Store._contributions.Values
                .Where(c => c.PoolId == poolId)
                .GroupBy(c => c.Status)
                .ToDictionary(g => g.Key, g => g.Count());
            return new(counts);
        }

        public ValueTask<bool> TryInsertNoticeAsync(TokenNotice notice, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(notice);
            ArgumentException.ThrowIfNullOrEmpty(notice.MessageId);
            var store = Writable;
            if (!store._notices.TryAdd(notice.MessageId, notice))
            {
                return new ValueTask<bool>(false);
            }

            store._undo.Add(new UndoEntry(UndoKind.NoticeInserted, null, default, notice));
            return new ValueTask<bool>(true);
        }

        public ValueTask<TokenNotice?> GetNoticeAsync(string messageId, CancellationToken cancellationToken = default) =>
            new(messageId is null ? null : Store._notices.GetValueOrDefault(messageId));

        public ValueTask<bool> TryInsertContributionAsync(ContributionRecord contribution, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(contribution);
            var store = Writable;
            if (!store._pools.ContainsKey(Key(contribution.PoolId)))
            {
                throw new AnpmException($"Contribution '{contribution.Id}' names pool '{contribution.PoolId}', which does not exist.");
            }

            if (!store._contributions.TryAdd(RequiredKey(contribution.Id), contribution))
            {
                return new ValueTask<bool>(false);
            }

            store._undo.Add(new UndoEntry(UndoKind.ContributionInserted, null, default, contribution));
            return new ValueTask<bool>(true);
        }

        public ValueTask<ContributionRecord?> GetContributionAsync(ContributionId id, CancellationToken cancellationToken = default) =>
            new(Store._contributions.GetValueOrDefault(Key(id)));

        public ValueTask UpdateContributionAsync(ContributionRecord updated, long expectedVersion, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(updated);
            var store = Writable;
            if (!store._contributions.TryGetValue(Key(updated.Id), out var current))
            {
                throw StoreErrors.UpdateRefused("Contribution", updated.Id, expectedVersion, null);
            }

            if (current.Version != expectedVersion)
            {
                throw StoreErrors.UpdateRefused("Contribution", updated.Id, expectedVersion, current.Version);
            }

            store._undo.Add(new UndoEntry(UndoKind.ContributionUpdated, null, default, current));
            store._contributions[updated.Id.Value!] = current with
            {
                Status = updated.Status,
                PayBefore = updated.PayBefore,
                Paidout = updated.Paidout,
                Version = current.Version + 1,
            };
            return ValueTask.CompletedTask;
        }

        public ValueTask<IReadOnlyList<ContributionRecord>> ListPoolContributionsAsync(PoolId poolId, ContributionId? after, int limit, CancellationToken cancellationToken = default) =>
            new(ContributionsWhere(c => c.PoolId == poolId, after, limit));

        public ValueTask<IReadOnlyList<ContributionRecord>> ListOwnerContributionsAsync(Address owner, ContributionId? after, int limit, CancellationToken cancellationToken = default) =>
            new(ContributionsWhere(c => c.Owner == owner, after, limit));

        // Contributions are kept in ordinal id order; a page starts after `after`.
        private List<ContributionRecord> ContributionsWhere(Func<ContributionRecord, bool> match, ContributionId? after, int limit)
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
            var start = after?.Value;
            return [.. Store._contributions
                .Where(pair => match(pair.Value) && (start is null || string.CompareOrdinal(pair.Key, start) > 0))
                .Take(limit)
                .Select(pair => pair.Value)];
        }

        public ValueTask<IReadOnlyList<ContributionRecord>> GetOverdueContributionsAsync(DateTimeOffset now, int limit, CancellationToken cancellationToken = default)
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
            IReadOnlyList<ContributionRecord> overdue = Store._contributions.Values
                .Where(c => c.Status == ContributionStatus.PendingPayment && c.PayBefore <= now)
                .OrderBy(c => c.PayBefore)
                .ThenBy(c => c.Id.Value, StringComparer.Ordinal)
                .Take(limit)
                .ToList();
            return new(overdue);
        }

        public ValueTask<bool> TryInsertOutgoingAsync(OutgoingTransfer transfer, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(transfer);
            var store = Writable;
            if (!store._outbox.TryAdd(RequiredKey(transfer.Id), transfer))
            {
                return new ValueTask<bool>(false);
            }

            store._undo.Add(new UndoEntry(UndoKind.OutgoingInserted, null, default, transfer));
            return new ValueTask<bool>(true);
        }

        public ValueTask<OutgoingTransfer?> GetOutgoingAsync(TransferId id, CancellationToken cancellationToken = default) =>
            new(Store._outbox.GetValueOrDefault(Key(id)));

        public ValueTask<IReadOnlyList<OutgoingTransfer>> GetOutgoingInStateAsync(OutgoingTransferState state, TransferId? after, int limit, CancellationToken cancellationToken = default)
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
            var from = after?.Value;
            IReadOnlyList<OutgoingTransfer> found = Store._outbox.Values
                .Where(t => t.State == state && (from is null || string.CompareOrdinal(t.Id.Value, from) > 0))
                .OrderBy(t => t.Id.Value, StringComparer.Ordinal)
                .Take(limit)
                .ToList();
            return new(found);
        }

        public ValueTask<IReadOnlyList<OutgoingTransfer>> GetDueOutgoingAsync(DateTimeOffset now, int limit, CancellationToken cancellationToken = default)
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
            IReadOnlyList<OutgoingTransfer> due = Store._outbox.Values
                .Where(t => t.State is OutgoingTransferState.Pending or OutgoingTransferState.Dispatched && t.NextAttemptAt <= now)
                .OrderBy(t => t.NextAttemptAt)
                .ThenBy(t => t.Id.Value, StringComparer.Ordinal)
                .Take(limit)
                .ToList();
            return new(due);
        }

        public ValueTask UpdateOutgoingAsync(OutgoingTransfer updated, long expectedVersion, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(updated);
            var store = Writable;
            if (!store._outbox.TryGetValue(Key(updated.Id), out var current))
            {
                throw StoreErrors.UpdateRefused("Outgoing transfer", updated.Id, expectedVersion, null);
            }

            if (current.Version != expectedVersion)
            {
                throw StoreErrors.UpdateRefused("Outgoing transfer", updated.Id, expectedVersion, current.Version);
            }

            store._undo.Add(new UndoEntry(UndoKind.OutgoingUpdated, null, default, current));
            store._outbox[updated.Id.Value!] = current with
            {
                State = updated.State,
                Attempts = updated.Attempts,
                NextAttemptAt = updated.NextAttemptAt,
                ExternalReference = updated.ExternalReference,
                Version = current.Version + 1,
            };
            return ValueTask.CompletedTask;
        }

        public ValueTask<bool> TryInsertPoolAsync(PoolRecord pool, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(pool);
            var store = Writable;
            if (!store._pools.TryAdd(RequiredKey(pool.Id), pool))
            {
                return new ValueTask<bool>(false);
            }

            store._undo.Add(new UndoEntry(UndoKind.PoolInserted, null, default, pool));
            return new ValueTask<bool>(true);
        }

        public ValueTask<PoolRecord?> GetPoolAsync(PoolId id, CancellationToken cancellationToken = default) =>
            new(Store._pools.GetValueOrDefault(Key(id)));

        public ValueTask UpdatePoolStatusAsync(PoolId id, long expectedVersion, PoolStatus status, DateTimeOffset changedAt, CancellationToken cancellationToken = default)
        {
            var store = Writable;
            if (!store._pools.TryGetValue(Key(id), out var pool))
            {
                throw StoreErrors.UpdateRefused("Pool", id, expectedVersion, null);
            }

            if (pool.Version != expectedVersion)
            {
                throw StoreErrors.UpdateRefused("Pool", id, expectedVersion, pool.Version);
            }

            store._undo.Add(new UndoEntry(UndoKind.PoolUpdated, null, default, pool));
            store._pools[id.Value!] = pool with { Status = status, StatusChangedAt = changedAt, Version = pool.Version + 1 };
            return ValueTask.CompletedTask;
        }

        public ValueTask<IReadOnlyList<PoolRecord>> ListPoolsAsync(PoolId? after, int limit, CancellationToken cancellationToken = default)
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
            var start = after?.Value;
            IReadOnlyList<PoolRecord> pools = Store._pools
                .Where(pair => start is null || string.CompareOrdinal(pair.Key, start) > 0)
                .Take(limit)
                .Select(pair => pair.Value)
                .ToList();
            return new(pools);
        }

        private InMemoryAnpmStore Store => _store ?? throw new ObjectDisposedException(nameof(IAnpmUnitOfWork));

        private InMemoryAnpmStore Writable =>
            _committed ? throw new InvalidOperationException("The unit of work was committed; begin a new one.")
            : ReadOnly ? throw new InvalidOperationException("This unit of work is read-only (BeginReadAsync); begin a writing one to change anything.")
            : Store;

        /// <summary>Whether writes are refused (a read-only unit of work).</summary>
        public bool ReadOnly { get; init; }

        public ValueTask CommitAsync(CancellationToken cancellationToken = default)
        {
            var store = Store;
            if (_committed)
            {
                throw new InvalidOperationException("The unit of work was committed; begin a new one.");
            }

            cancellationToken.ThrowIfCancellationRequested();
            store._undo.Clear();
            _committed = true;
            return ValueTask.CompletedTask;
        }

        public ValueTask DisposeAsync()
        {
            var store = _store;
            if (store is null)
            {
                return ValueTask.CompletedTask;
            }

            _store = null;
            if (!_committed)
            {
                store.Rollback();
            }

            store._gate.Exit();
            return ValueTask.CompletedTask;
        }

        public ValueTask<LedgerAccount?> GetAccountAsync(AccountId id, CancellationToken cancellationToken = default) =>
            new(Store._accounts.TryGetValue(Key(id), out var record) ? record.Snapshot() : null);

        // Units of work run one at a time, so reading is already locking.
        public ValueTask<LockedAccount[]> GetAccountsForUpdateAsync(IReadOnlyList<AccountId> ids, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(ids);
            var store = Store;
            var accounts = ids.Count == 2 ? store._lockedPair : new LockedAccount[ids.Count];
            var found = 0;
            for (var i = 0; i < ids.Count; i++)
            {
                var key = Key(ids[i]);
                if (store._accounts.TryGetValue(key, out var record))
                {
                    accounts[found++] = record.Locked();
                    (_locked0, _locked1) = (_locked1, (key, record));
                }
            }

            if (found < accounts.Length)
            {
                Array.Resize(ref accounts, found);
            }

            return new(accounts);
        }

        public ValueTask<bool> TryInsertAccountAsync(LedgerAccount account, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(account);
            var store = Writable;
            var record = new AccountRecord(account);
            if (!store._accounts.TryAdd(RequiredKey(account.Id), record))
            {
                return new ValueTask<bool>(false);
            }

            store._undo.Add(new UndoEntry(UndoKind.AccountInserted, record, default, null));
            return new ValueTask<bool>(true);
        }

        public ValueTask UpdateAccountTotalsAsync(AccountId id, long expectedVersion, AccountTotals totals, CancellationToken cancellationToken = default)
        {
            var store = Writable;
            if (!TryGetAccount(store, Key(id), out var record))
            {
                throw StoreErrors.UpdateRefused("Account", id, expectedVersion, null);
            }

            if (record.Version != expectedVersion)
            {
                throw StoreErrors.UpdateRefused("Account", id, expectedVersion, record.Version);
            }

            store._undo.Add(new UndoEntry(UndoKind.AccountTotalsUpdated, record, record.Totals, null));
            record.Totals = totals;
            record.Version++;
            return ValueTask.CompletedTask;
        }

        public ValueTask<Transfer?> GetTransferAsync(TransferId id, CancellationToken cancellationToken = default) =>
            new(Store.FindTransfer(id));

        // An account by key: one of the two last locked when the key is the same string (by reference), else the map.
        private bool TryGetAccount(InMemoryAnpmStore store, string key, [NotNullWhen(true)] out AccountRecord? record)
        {
            record = IsKeyOf(_locked1, key) ? _locked1.Record : IsKeyOf(_locked0, key) ? _locked0.Record : null;
            return record is not null || store._accounts.TryGetValue(key, out record);

            static bool IsKeyOf((string? Key, AccountRecord? Record) locked, string key) =>
                locked.Record is not null && (ReferenceEquals(locked.Key, key) || ReferenceEquals(locked.Record.Id.Value, key));
        }

        public ValueTask<bool> TryInsertTransferAsync(Transfer transfer, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(transfer);
            var store = Writable;
            if (!TryGetAccount(store, Key(transfer.DebitAccountId), out var debit)
                || !TryGetAccount(store, Key(transfer.CreditAccountId), out var credit))
            {
                throw new AnpmException($"Transfer '{transfer.Id}' names an account that does not exist.");
            }

            var sequence = (long)store._log.Count + 1;
            if (!store._sequences.TryAdd(RequiredKey(transfer.Id), sequence))
            {
                return new ValueTask<bool>(false);
            }

            store._log.Add(transfer);
            debit.History.Add(sequence);
            credit.History.Add(sequence);
            store.Index(transfer);
            store._undo.Add(new UndoEntry(UndoKind.TransferInserted, null, default, transfer));
            return new ValueTask<bool>(true);
        }

        public ValueTask UpdatePendingStateAsync(TransferId id, PendingTransferState state, CancellationToken cancellationToken = default)
        {
            var store = Writable;
            if (!store._sequences.TryGetValue(Key(id), out var sequence))
            {
                throw new AnpmException($"Transfer '{id}' does not exist, so its pending state cannot be updated.");
            }

            var previous = store._log[(int)sequence - 1];
            store._undo.Add(new UndoEntry(UndoKind.PendingStateUpdated, null, default, previous));
            store.Unindex(previous);
            var updated = previous with { State = state };
            store._log[(int)sequence - 1] = updated;
            store.Index(updated);
            return ValueTask.CompletedTask;
        }

        public ValueTask<IReadOnlyList<Transfer>> GetExpiredPendingTransfersAsync(DateTimeOffset now, int limit, CancellationToken cancellationToken = default)
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
            var expired = new List<Transfer>();
            foreach (var transfer in Store._pendingByExpiry)
            {
                if (transfer.ExpiresAt > now || expired.Count == limit)
                {
                    break;
                }

                expired.Add(transfer);
            }

            return new ValueTask<IReadOnlyList<Transfer>>(expired);
        }

        public ValueTask<IReadOnlyList<LedgerEntry>> GetAccountHistoryAsync(AccountId id, long? beforeSequence, int limit, CancellationToken cancellationToken = default)
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
            if (!Store._accounts.TryGetValue(Key(id), out var record))
            {
                return new ValueTask<IReadOnlyList<LedgerEntry>>(Array.Empty<LedgerEntry>());
            }

            var history = record.History;
            var end = beforeSequence is { } before ? LowerBound(history, before) : history.Count;
            var page = new List<LedgerEntry>(Math.Min(limit, end));
            for (var i = end - 1; i >= 0 && page.Count < limit; i--)
            {
                var sequence = history[i];
                page.Add(new LedgerEntry(sequence, Store._log[(int)sequence - 1]));
            }

            return new ValueTask<IReadOnlyList<LedgerEntry>>(page);
        }

        // The index of the first sequence number at or after 'sequence' in an ascending list.
        private static int LowerBound(List<long> history, long sequence)
        {
            int low = 0, high = history.Count;
            while (low < high)
            {
                var middle = (low + high) >>> 1;
                if (history[middle] < sequence)
                {
                    low = middle + 1;
                }
                else
                {
                    high = middle;
                }
            }

            return low;
        }

        public ValueTask<IReadOnlyList<AssetTotals>> GetAssetTotalsAsync(CancellationToken cancellationToken = default) =>
            new(AssetTotalsBuilder.Sum(Store._accounts.Values.Select(static record => record.Snapshot())));
    }
}
