using Anpm.Abstractions;

namespace Anpm.Credits;

/// <summary>
/// The accounts one unit of work of the ledger touches, locked in ordinal order of their ids and changed in memory; the
/// changes reach the store only in <see cref="SaveAsync"/>, and a failed linked chain is undone with <see cref="RollbackTo"/>.
/// Accounts are addressed by their index in the set, and kept in the array of structs the store returned.
/// </summary>
internal sealed class AccountWorkingSet
{
    private static readonly Comparison<AccountId> ByOrdinalId = static (a, b) => string.CompareOrdinal(a.Value, b.Value);

    private LockedAccount[] _accounts = [];
    // Which accounts were changed: a bit each for the first 64 (every batch of up to 32 transfers), an array beyond.
    private ulong _changedMask;
    private bool[]? _changedBeyond;
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

        _accounts = read.Result;
        return ValueTask.CompletedTask;
    }

    /// <summary>The index of a loaded account, or -1 when it does not exist.</summary>
    public int Find(AccountId id)
    {
        for (var i = 0; i < _accounts.Length; i++)
        {
            if (_accounts[i].Id == id)
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

    public AssetCode Asset(int index) => _accounts[index].Asset;

    public AccountTotals Totals(int index) => _accounts[index].Totals;

    public bool MustNotGoNegative(int index) => (_accounts[index].Flags & AccountFlags.DebitsMustNotExceedCredits) != 0;

    public void Set(int index, AccountTotals totals)
    {
        ref var account = ref _accounts[index];
        if (RecordsUndo)
        {
            (_undo ??= []).Add((index, account.Totals));
        }

        account = account with { Totals = totals };
        if (index < 64)
        {
            _changedMask |= 1UL << index;
        }
        else
        {
            (_changedBeyond ??= new bool[_accounts.Length])[index] = true;
        }
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
            _accounts[_undo[i].Index] = _accounts[_undo[i].Index] with { Totals = _undo[i].Previous };
        }

        _undo.RemoveRange(mark, _undo.Count - mark);
    }

    /// <summary>Writes the totals of every changed account.</summary>
    public ValueTask SaveAsync(ILedgerStore store, CancellationToken cancellationToken)
    {
        for (var i = 0; i < _accounts.Length; i++)
        {
            if (!IsChanged(i))
            {
                continue;
            }

            var write = store.UpdateAccountTotalsAsync(_accounts[i].Id, _accounts[i].Version, _accounts[i].Totals, cancellationToken);
            if (!write.IsCompletedSuccessfully)
            {
                return SaveRestAsync(store, i, write, cancellationToken);
            }

            write.GetAwaiter().GetResult();
        }

        return ValueTask.CompletedTask;
    }

    private bool IsChanged(int index) => index < 64 ? (_changedMask & (1UL << index)) != 0 : _changedBeyond?[index] == true;

    private async ValueTask LoadSlowAsync(ValueTask<LockedAccount[]> read) => _accounts = await read.ConfigureAwait(false);

    private async ValueTask SaveRestAsync(ILedgerStore store, int index, ValueTask write, CancellationToken cancellationToken)
    {
        await write.ConfigureAwait(false);
        for (var i = index + 1; i < _accounts.Length; i++)
        {
            if (IsChanged(i))
            {
                await store.UpdateAccountTotalsAsync(_accounts[i].Id, _accounts[i].Version, _accounts[i].Totals, cancellationToken).ConfigureAwait(false);
            }
        }
    }
}
