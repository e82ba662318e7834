using Anpm.Abstractions;

namespace Anpm.Credits;

/// <summary>
/// The accounts one unit of work of the ledger touches, locked in ordinal order of their ids and changed in memory; the
/// changes reach the store only in <see cref="SaveAsync"/>, and a failed linked chain is undone with <see cref="RollbackTo"/>.
/// Accounts are addressed by their index in the set, and kept in one array of structs (one allocation per command).
/// </summary>
internal sealed class AccountWorkingSet
{
    private static readonly Comparison<AccountId> ByOrdinalId = static (a, b) => string.CompareOrdinal(a.Value, b.Value);

    private Entry[] _entries = [];
    private int _count;
    private List<(int Index, AccountTotals Previous)>? _undo;

    /// <summary>Whether <see cref="Set"/> keeps what it replaces, so a linked chain can be undone.</summary>
    public bool RecordsUndo { get; set; }

    public int UndoMark => _undo?.Count ?? 0;

    /// <summary>
    /// Locks and loads the accounts named in <paramref name="ids"/> (which it sorts), in ordinal order of their ids, so
    /// that stores with row locks never deadlock. Ids of accounts that do not exist are skipped.
    /// </summary>
    public ValueTask LoadAsync(ILedgerStore store, AccountId[] ids, CancellationToken cancellationToken)
    {
        Array.Sort(ids, ByOrdinalId);
        var distinct = 0;
        for (var i = 0; i < ids.Length; i++)
        {
            if (i == 0 || ids[i] != ids[distinct - 1])
            {
                ids[distinct++] = ids[i];
            }
        }

        // Stores that answer synchronously (the in-memory one) never pay for an async state machine here.
        if (distinct < ids.Length)
        {
            Array.Resize(ref ids, distinct);
        }

        var read = store.GetAccountsForUpdateAsync(ids, cancellationToken);
        if (!read.IsCompletedSuccessfully)
        {
            return LoadSlowAsync(read);
        }

        Add(read.Result);
        return ValueTask.CompletedTask;
    }

    /// <summary>The index of a loaded account, or -1 when it does not exist.</summary>
    public int Find(AccountId id)
    {
        for (var i = 0; i < _count; i++)
        {
            if (_entries[i].Account.Id == id)
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>The index of a loaded account the store guarantees exists (it is named by a stored transfer).</summary>
    public int Get(AccountId id)
    {
        var index = Find(id);
        return index >= 0 ? index : throw new AnpmException($"Account '{id}' is named by a stored transfer but does not exist; the store is inconsistent.");
    }

    public LedgerAccount Account(int index) => _entries[index].Account;

    public AccountTotals Totals(int index) => _entries[index].Totals;

    public bool MustNotGoNegative(int index) => (_entries[index].Account.Flags & AccountFlags.DebitsMustNotExceedCredits) != 0;

    public void Set(int index, AccountTotals totals)
    {
        ref var entry = ref _entries[index];
        if (RecordsUndo)
        {
            (_undo ??= []).Add((index, entry.Totals));
        }

        entry = entry with { Totals = totals, IsChanged = true };
    }

    public void RollbackTo(int mark)
    {
        if (_undo is null)
        {
            return;
        }

        // An account rolled back to its loaded totals is still written; the write is then a no-op.
        for (var i = _undo.Count - 1; i >= mark; i--)
        {
            _entries[_undo[i].Index].Totals = _undo[i].Previous;
        }

        _undo.RemoveRange(mark, _undo.Count - mark);
    }

    /// <summary>Writes the totals of every changed account.</summary>
    public ValueTask SaveAsync(ILedgerStore store, CancellationToken cancellationToken)
    {
        for (var i = 0; i < _count; i++)
        {
            if (!_entries[i].IsChanged)
            {
                continue;
            }

            var write = store.UpdateAccountTotalsAsync(_entries[i].Account.Id, _entries[i].Account.Version, _entries[i].Totals, cancellationToken);
            if (!write.IsCompletedSuccessfully)
            {
                return SaveRestAsync(store, i, write, cancellationToken);
            }

            write.GetAwaiter().GetResult();
        }

        return ValueTask.CompletedTask;
    }

    private async ValueTask LoadSlowAsync(ValueTask<IReadOnlyList<LedgerAccount>> read) => Add(await read.ConfigureAwait(false));

    private async ValueTask SaveRestAsync(ILedgerStore store, int index, ValueTask write, CancellationToken cancellationToken)
    {
        await write.ConfigureAwait(false);
        for (var i = index + 1; i < _count; i++)
        {
            if (_entries[i].IsChanged)
            {
                await store.UpdateAccountTotalsAsync(_entries[i].Account.Id, _entries[i].Account.Version, _entries[i].Totals, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private void Add(IReadOnlyList<LedgerAccount> accounts)
    {
        _entries = new Entry[accounts.Count];
        for (var i = 0; i < accounts.Count; i++)
        {
            _entries[_count++] = new Entry(accounts[i], accounts[i].Totals, IsChanged: false);
        }
    }

    /// <summary>One account: as loaded, and its totals as changed so far.</summary>
    private record struct Entry(LedgerAccount Account, AccountTotals Totals, bool IsChanged);
}
