using Anpm.Abstractions;

namespace Anpm.Credits;

/// <summary>
/// The accounts one unit of work of the ledger touches, locked in ordinal order of their ids and changed in memory; the
/// changes reach the store only in <see cref="SaveAsync"/>, and a failed linked chain is undone with <see cref="RollbackTo"/>.
/// </summary>
internal sealed class AccountWorkingSet
{
    private readonly List<AccountState> _accounts = [];
    private List<(AccountState State, Totals Previous)>? _undo;

    /// <summary>Whether <see cref="Set"/> keeps what it replaces, so a linked chain can be undone.</summary>
    public bool RecordsUndo { get; set; }

    public int UndoMark => _undo?.Count ?? 0;

    /// <summary>Locks and loads the accounts, in ordinal order of their ids (no deadlocks between stores' row locks).</summary>
    public async ValueTask LoadAsync(ILedgerStore store, List<AccountId> ids, CancellationToken cancellationToken)
    {
        ids.Sort(static (a, b) => string.CompareOrdinal(a.Value, b.Value));
        AccountId previous = default;
        foreach (var id in ids)
        {
            if (id == previous)
            {
                continue;
            }

            previous = id;
            var account = await store.GetAccountForUpdateAsync(id, cancellationToken).ConfigureAwait(false);
            if (account is not null)
            {
                _accounts.Add(new AccountState(account));
            }
        }
    }

    public AccountState? Find(AccountId id)
    {
        foreach (var state in _accounts)
        {
            if (state.Account.Id == id)
            {
                return state;
            }
        }

        return null;
    }

    /// <summary>Gets a loaded account the store guarantees exists (it is named by a stored transfer).</summary>
    public AccountState Get(AccountId id) =>
        Find(id) ?? throw new AnpmException($"Account '{id}' is named by a stored transfer but does not exist; the store is inconsistent.");

    public void Set(AccountState state, Totals totals)
    {
        if (RecordsUndo)
        {
            (_undo ??= []).Add((state, state.Totals));
        }

        state.Totals = totals;
        state.IsChanged = true;
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
            _undo[i].State.Totals = _undo[i].Previous;
        }

        _undo.RemoveRange(mark, _undo.Count - mark);
    }

    public async ValueTask SaveAsync(ILedgerStore store, CancellationToken cancellationToken)
    {
        foreach (var state in _accounts)
        {
            if (state.IsChanged)
            {
                await store.UpdateAccountTotalsAsync(state.ToAccount(), cancellationToken).ConfigureAwait(false);
            }
        }
    }
}

/// <summary>The four running totals of an account.</summary>
internal readonly record struct Totals(TokenAmount DebitsPosted, TokenAmount CreditsPosted, TokenAmount DebitsPending, TokenAmount CreditsPending);

/// <summary>One account of a working set: as loaded, and its totals as changed so far.</summary>
internal sealed class AccountState(LedgerAccount account)
{
    public LedgerAccount Account { get; } = account;

    public bool IsChanged { get; set; }

    public Totals Totals { get; set; } = new(account.DebitsPosted, account.CreditsPosted, account.DebitsPending, account.CreditsPending);

    public bool MustNotGoNegative => (Account.Flags & AccountFlags.DebitsMustNotExceedCredits) != 0;

    public LedgerAccount ToAccount() => Account with
    {
        DebitsPosted = Totals.DebitsPosted,
        CreditsPosted = Totals.CreditsPosted,
        DebitsPending = Totals.DebitsPending,
        CreditsPending = Totals.CreditsPending,
    };
}
