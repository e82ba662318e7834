namespace Anpm.Benchmarks;

/// <summary>
/// The baseline: the least a ledger can do — a Dictionary under one lock with the same checks as the in-memory ledger
/// (duplicate id, both accounts exist, same asset, no overdraft of user accounts, no overflow, pending reservations) —
/// and none of its abstractions (units of work, results per event, history, expiry index).
/// </summary>
internal sealed class DictionaryLedger
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, Account> _accounts = [];
    private readonly Dictionary<string, Record> _transfers = [];

    public void AddAccount(string id, string asset, bool mustNotGoNegative) => _accounts.Add(id, new Account(asset, mustNotGoNegative));

    public bool Transfer(string id, string debit, string credit, string asset, UInt128 amount)
    {
        lock (_lock)
        {
            return TransferLocked(id, debit, credit, asset, amount, pending: false);
        }
    }

    public bool Pending(string id, string debit, string credit, string asset, UInt128 amount)
    {
        lock (_lock)
        {
            return TransferLocked(id, debit, credit, asset, amount, pending: true);
        }
    }

    public bool Post(string id, string pendingId)
    {
        lock (_lock)
        {
            if (_transfers.ContainsKey(id) || !_transfers.TryGetValue(pendingId, out var pending) || !pending.IsPending)
            {
                return false;
            }

            var debit = _accounts[pending.Debit];
            var credit = _accounts[pending.Credit];
            debit.DebitsPending -= pending.Amount;
            credit.CreditsPending -= pending.Amount;
            debit.DebitsPosted = checked(debit.DebitsPosted + pending.Amount);
            credit.CreditsPosted = checked(credit.CreditsPosted + pending.Amount);
            pending.IsPending = false;
            _transfers.Add(id, new Record(pending.Debit, pending.Credit, pending.Amount, IsPending: false));
            return true;
        }
    }

    /// <summary>All or nothing: every transfer is checked against the running totals before any is applied.</summary>
    public bool Batch(IReadOnlyList<(string Id, string Debit, string Credit, UInt128 Amount)> transfers, string asset)
    {
        lock (_lock)
        {
            var debits = new Dictionary<string, UInt128>();
            foreach (var (id, debit, credit, amount) in transfers)
            {
                if (_transfers.ContainsKey(id) || !_accounts.TryGetValue(debit, out var d) || !_accounts.TryGetValue(credit, out var c)
                    || d.Asset != asset || c.Asset != asset)
                {
                    return false;
                }

                var total = debits.GetValueOrDefault(debit) + amount;
                debits[debit] = total;
                if (d.MustNotGoNegative && d.DebitsPosted + d.DebitsPending + total > d.CreditsPosted)
                {
                    return false;
                }
            }

            foreach (var (id, debit, credit, amount) in transfers)
            {
                TransferLocked(id, debit, credit, asset, amount, pending: false);
            }

            return true;
        }
    }

    private bool TransferLocked(string id, string debitId, string creditId, string asset, UInt128 amount, bool pending)
    {
        if (amount == UInt128.Zero || _transfers.ContainsKey(id)
            || !_accounts.TryGetValue(debitId, out var debit) || !_accounts.TryGetValue(creditId, out var credit)
            || debit.Asset != asset || credit.Asset != asset)
        {
            return false;
        }

        var debitTotal = checked(debit.DebitsPosted + debit.DebitsPending + amount);
        if (debit.MustNotGoNegative && debitTotal > debit.CreditsPosted)
        {
            return false;
        }

        if (pending)
        {
            debit.DebitsPending += amount;
            credit.CreditsPending = checked(credit.CreditsPending + amount);
        }
        else
        {
            debit.DebitsPosted += amount;
            credit.CreditsPosted = checked(credit.CreditsPosted + amount);
        }

        _transfers.Add(id, new Record(debitId, creditId, amount, pending));
        return true;
    }

    private sealed class Account(string asset, bool mustNotGoNegative)
    {
        public string Asset { get; } = asset;

        public bool MustNotGoNegative { get; } = mustNotGoNegative;

        public UInt128 DebitsPosted { get; set; }

        public UInt128 CreditsPosted { get; set; }

        public UInt128 DebitsPending { get; set; }

        public UInt128 CreditsPending { get; set; }
    }

    private sealed record Record(string Debit, string Credit, UInt128 Amount, bool IsPending)
    {
        public bool IsPending { get; set; } = IsPending;
    }
}
