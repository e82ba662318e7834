using System.Numerics;

namespace Anpm.Abstractions;

/// <summary>
/// A thread-safe store that keeps everything in memory, for tests and for embedding where nothing must outlive the
/// process. Units of work run one at a time (serializable by construction); a unit of work writes through and keeps an
/// undo log, so rolling back restores exactly the state it found.
/// </summary>
public sealed class InMemoryAnpmStore : IAnpmStore, IDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly Dictionary<AccountId, AccountRecord> _accounts = [];
    private readonly Dictionary<TransferId, Transfer> _transfers = [];
    private readonly SortedSet<Transfer> _pendingByExpiry = new(PendingExpiryComparer.Instance);
    private readonly List<UndoEntry> _undo = [];
    private long _lastSequence;

    /// <inheritdoc />
    public ValueTask<IAnpmUnitOfWork> BeginAsync(CancellationToken cancellationToken = default)
    {
        var wait = _gate.WaitAsync(cancellationToken);
        return wait.IsCompletedSuccessfully
            ? new ValueTask<IAnpmUnitOfWork>(new UnitOfWork(this))
            : BeginSlowAsync(wait);
    }

    /// <summary>Releases the store's lock.</summary>
    public void Dispose() => _gate.Dispose();

    private async ValueTask<IAnpmUnitOfWork> BeginSlowAsync(Task wait)
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
                    _accounts.Remove(entry.Account!.Account.Id);
                    break;
                case UndoKind.AccountTotalsUpdated:
                    entry.Account!.Account = entry.PreviousAccount!;
                    break;
                case UndoKind.TransferInserted:
                    Unindex(entry.Transfer!);
                    _transfers.Remove(entry.Transfer!.Id);
                    _accounts[entry.Transfer!.DebitAccountId].History.RemoveAt(_accounts[entry.Transfer.DebitAccountId].History.Count - 1);
                    _accounts[entry.Transfer.CreditAccountId].History.RemoveAt(_accounts[entry.Transfer.CreditAccountId].History.Count - 1);
                    _lastSequence--;
                    break;
                case UndoKind.PendingStateUpdated:
                    Unindex(_transfers[entry.Transfer!.Id]);
                    _transfers[entry.Transfer.Id] = entry.Transfer;
                    Index(entry.Transfer);
                    break;
            }
        }

        _undo.Clear();
    }

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
    }

    private readonly record struct UndoEntry(UndoKind Kind, AccountRecord? Account, LedgerAccount? PreviousAccount, Transfer? Transfer);

    // The stored account and its history (sequence order, oldest first), kept together so a transfer updates both with one lookup.
    private sealed class AccountRecord(LedgerAccount account)
    {
        public LedgerAccount Account { get; set; } = account;

        public List<LedgerEntry> History { get; } = [];
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

    private sealed class UnitOfWork(InMemoryAnpmStore store) : IAnpmUnitOfWork, ILedgerStore
    {
        private InMemoryAnpmStore? _store = store;
        private bool _committed;

        public ILedgerStore Ledger => this;

        private InMemoryAnpmStore Store => _store ?? throw new ObjectDisposedException(nameof(IAnpmUnitOfWork));

        private InMemoryAnpmStore Writable =>
            _committed ? throw new InvalidOperationException("The unit of work was committed; begin a new one.") : Store;

        public ValueTask CommitAsync(CancellationToken cancellationToken = default)
        {
            var store = Writable;
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

            store._gate.Release();
            return ValueTask.CompletedTask;
        }

        public ValueTask<LedgerAccount?> GetAccountAsync(AccountId id, CancellationToken cancellationToken = default) =>
            new(Store._accounts.TryGetValue(id, out var record) ? record.Account : null);

        public ValueTask<LedgerAccount?> GetAccountForUpdateAsync(AccountId id, CancellationToken cancellationToken = default) =>
            GetAccountAsync(id, cancellationToken);

        public ValueTask<bool> TryInsertAccountAsync(LedgerAccount account, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(account);
            var store = Writable;
            var record = new AccountRecord(account);
            if (!store._accounts.TryAdd(account.Id, record))
            {
                return new ValueTask<bool>(false);
            }

            store._undo.Add(new UndoEntry(UndoKind.AccountInserted, record, null, null));
            return new ValueTask<bool>(true);
        }

        public ValueTask UpdateAccountTotalsAsync(LedgerAccount account, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(account);
            var store = Writable;
            if (!store._accounts.TryGetValue(account.Id, out var record))
            {
                throw new AnpmException($"Account '{account.Id}' does not exist, so its totals cannot be updated.");
            }

            store._undo.Add(new UndoEntry(UndoKind.AccountTotalsUpdated, record, record.Account, null));
            record.Account = record.Account with
            {
                DebitsPosted = account.DebitsPosted,
                CreditsPosted = account.CreditsPosted,
                DebitsPending = account.DebitsPending,
                CreditsPending = account.CreditsPending,
            };
            return ValueTask.CompletedTask;
        }

        public ValueTask<Transfer?> GetTransferAsync(TransferId id, CancellationToken cancellationToken = default) =>
            new(Store._transfers.GetValueOrDefault(id));

        public ValueTask<bool> TryInsertTransferAsync(Transfer transfer, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(transfer);
            var store = Writable;
            if (!store._accounts.TryGetValue(transfer.DebitAccountId, out var debit)
                || !store._accounts.TryGetValue(transfer.CreditAccountId, out var credit))
            {
                throw new AnpmException($"Transfer '{transfer.Id}' names an account that does not exist.");
            }

            if (!store._transfers.TryAdd(transfer.Id, transfer))
            {
                return new ValueTask<bool>(false);
            }

            var entry = new LedgerEntry(++store._lastSequence, transfer);
            debit.History.Add(entry);
            credit.History.Add(entry);
            store.Index(transfer);
            store._undo.Add(new UndoEntry(UndoKind.TransferInserted, null, null, transfer));
            return new ValueTask<bool>(true);
        }

        public ValueTask UpdatePendingStateAsync(TransferId id, PendingTransferState state, CancellationToken cancellationToken = default)
        {
            var store = Writable;
            if (!store._transfers.TryGetValue(id, out var previous))
            {
                throw new AnpmException($"Transfer '{id}' does not exist, so its pending state cannot be updated.");
            }

            store._undo.Add(new UndoEntry(UndoKind.PendingStateUpdated, null, null, previous));
            store.Unindex(previous);
            var updated = previous with { State = state };
            store._transfers[id] = updated;
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
            if (!Store._accounts.TryGetValue(id, out var record))
            {
                return new ValueTask<IReadOnlyList<LedgerEntry>>(Array.Empty<LedgerEntry>());
            }

            var history = record.History;
            var end = history.Count;
            if (beforeSequence is { } before)
            {
                // History is in sequence order: find the first entry at or after 'before'.
                int low = 0, high = history.Count;
                while (low < high)
                {
                    var middle = (low + high) >>> 1;
                    if (history[middle].Sequence < before)
                    {
                        low = middle + 1;
                    }
                    else
                    {
                        high = middle;
                    }
                }

                end = low;
            }

            var page = new List<LedgerEntry>(Math.Min(limit, end));
            for (var i = end - 1; i >= 0 && page.Count < limit; i--)
            {
                page.Add(history[i]);
            }

            return new ValueTask<IReadOnlyList<LedgerEntry>>(page);
        }

        public ValueTask<IReadOnlyList<AssetTotals>> GetAssetTotalsAsync(CancellationToken cancellationToken = default)
        {
            var totals = new SortedDictionary<string, (long Count, BigInteger Dp, BigInteger Cp, BigInteger Dpe, BigInteger Cpe, long Negative, AssetCode Asset)>(StringComparer.Ordinal);
            foreach (var record in Store._accounts.Values)
            {
                var a = record.Account;
                totals.TryGetValue(a.Asset.Value!, out var t);
                var negative = a.Flags.HasFlag(AccountFlags.DebitsMustNotExceedCredits)
                    && (BigInteger)a.DebitsPosted.BaseUnits + a.DebitsPending.BaseUnits > a.CreditsPosted.BaseUnits;
                totals[a.Asset.Value!] = (t.Count + 1, t.Dp + a.DebitsPosted.BaseUnits, t.Cp + a.CreditsPosted.BaseUnits,
                    t.Dpe + a.DebitsPending.BaseUnits, t.Cpe + a.CreditsPending.BaseUnits, t.Negative + (negative ? 1 : 0), a.Asset);
            }

            IReadOnlyList<AssetTotals> result = totals.Values
                .Select(t => new AssetTotals(t.Asset, t.Count, t.Dp, t.Cp, t.Dpe, t.Cpe, t.Negative))
                .ToList();
            return new ValueTask<IReadOnlyList<AssetTotals>>(result);
        }
    }
}
