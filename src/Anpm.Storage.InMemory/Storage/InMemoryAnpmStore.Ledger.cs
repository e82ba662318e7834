using System.Diagnostics.CodeAnalysis;
using Anpm.Abstractions;

namespace Anpm.Storage.InMemory;

public sealed partial class InMemoryAnpmStore
{
    // Keyed by the id text: string keys take the runtime's fastest dictionary path (measured about twice as fast as the
    // struct ids themselves), and the store's maps are on every transfer's path.
    private readonly Dictionary<string, AccountRecord> _accounts = new(StringComparer.Ordinal);
    // Transfers live in one append-only log (sequence = index + 1); the id index and each account's history hold sequence
    // numbers, not references, so the garbage collector has far fewer old-to-young references to trace.
    private readonly List<Transfer> _log = [];
    private readonly Dictionary<string, long> _sequences = new(StringComparer.Ordinal);
    private readonly SortedSet<Transfer> _pendingByExpiry = new(PendingExpiryComparer.Instance);
    // Handed out by GetAccountsForUpdateAsync for the common pair of accounts (a transfer's two), again on each call:
    // units of work run one at a time, and the contract gives the caller the array only until its next such call.
    private readonly LockedAccount[] _lockedPair = new LockedAccount[2];

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

    private static void UndoTotals(InMemoryAnpmStore store, UndoEntry entry)
    {
        var account = (AccountRecord)entry.Previous!;
        account.Totals = entry.PreviousTotals;
        account.Version--;
    }

    private static void UndoTransferInserted(InMemoryAnpmStore store, UndoEntry entry)
    {
        var inserted = (Transfer)entry.Previous!;
        store.Unindex(inserted);
        store._sequences.Remove(Key(inserted.Id));
        store._log.RemoveAt(store._log.Count - 1);
        RemoveLast(store._accounts[Key(inserted.DebitAccountId)].History);
        RemoveLast(store._accounts[Key(inserted.CreditAccountId)].History);
    }

    private static void UndoPendingState(InMemoryAnpmStore store, UndoEntry entry)
    {
        var previous = (Transfer)entry.Previous!;
        var index = (int)store._sequences[Key(previous.Id)] - 1;
        store.Unindex(store._log[index]);
        store._log[index] = previous;
        store.Index(previous);
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

    private sealed partial class UnitOfWork : ILedgerStore
    {
        // Every transfer asks for the ledger: answer it without GetStore's type test.
        public ILedgerStore Ledger => this;

        // The last two accounts this unit of work locked, with the key they were asked by: a transfer then updates and
        // appends to them by reference instead of hashing their ids again.
        private (string? Key, AccountRecord? Record) _locked0, _locked1;

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

            store.Record(static (s, entry) => s._accounts.Remove(Key(((AccountRecord)entry.Previous!).Id)), record);
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

            store.Record(UndoTotals, record, record.Totals);
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
            store.Record(UndoTransferInserted, transfer);
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
            store.Record(UndoPendingState, previous);
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
