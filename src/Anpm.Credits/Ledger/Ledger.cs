using System.Globalization;
using Anpm.Abstractions;
using Microsoft.Extensions.Options;

namespace Anpm.Credits;

/// <summary>
/// The double-entry ledger: every balance of every asset lives in its accounts, and every change is a transfer between
/// two accounts of one asset, so per asset the balances always sum to zero. Transfers are idempotent by id, may be linked
/// into all-or-nothing chains, and may be two-phase (pending, then posted or voided, or expired by the sweep).
/// </summary>
/// <remarks>
/// Expected outcomes (an insufficient balance, an unknown account, a replay) are results; only infrastructure failures
/// throw, as <see cref="AnpmException"/>. Every method either runs in its own unit of work or joins the caller's, so a
/// command's postings commit together with its other changes.
/// </remarks>
public sealed class Ledger
{
    private readonly IAnpmStore _store;
    private readonly TimeProvider _timeProvider;
    private readonly LedgerRules _rules;

    /// <summary>Creates a ledger over a store.</summary>
    /// <param name="store">Where accounts and transfers are kept.</param>
    /// <param name="options">The ledger's options.</param>
    /// <param name="timeProvider">The clock that stamps transfers and expires pending ones.</param>
    /// <exception cref="OptionsValidationException">The options are invalid; the failures name each option.</exception>
    public Ledger(IAnpmStore store, IOptions<LedgerOptions> options, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(timeProvider);
        _store = store;
        _timeProvider = timeProvider;
        _rules = new LedgerRules(options.Value);
    }

    /// <summary>The assets the ledger holds, with their decimals (for display and parsing).</summary>
    public IReadOnlyDictionary<AssetCode, int> Assets => _rules.Decimals;

    /// <summary>Creates one account in its own unit of work.</summary>
    /// <returns>
    /// <see cref="CreateAccountResult.Created"/>, <see cref="CreateAccountResult.Exists"/> for an identical replay, or
    /// the problem; nothing changes unless it is <see cref="CreateAccountResult.Created"/>.
    /// </returns>
    public async ValueTask<CreateAccountResult> CreateAccountAsync(NewAccount account, CancellationToken cancellationToken = default) =>
        (await CreateAccountsAsync([account], cancellationToken).ConfigureAwait(false))[0];

    /// <summary>Creates accounts in one unit of work; each succeeds or fails on its own.</summary>
    /// <param name="accounts">The accounts; at most <see cref="LedgerOptions.MaxBatchSize"/>.</param>
    /// <param name="cancellationToken">Cancels the call; then nothing was kept.</param>
    /// <returns>One result per account, in order.</returns>
    /// <exception cref="ArgumentException">The batch is larger than <see cref="LedgerOptions.MaxBatchSize"/>.</exception>
    public async ValueTask<IReadOnlyList<CreateAccountResult>> CreateAccountsAsync(IReadOnlyList<NewAccount> accounts, CancellationToken cancellationToken = default) =>
        await _store.RunAsync(
            (Ledger: this, Accounts: accounts),
            static (unitOfWork, state, ct) => state.Ledger.CreateAccountsAsync(unitOfWork, state.Accounts, ct),
            cancellationToken).ConfigureAwait(false);

    /// <summary>Creates accounts inside the caller's unit of work, which commits them with its other changes.</summary>
    /// <param name="unitOfWork">The caller's unit of work.</param>
    /// <param name="accounts">The accounts; at most <see cref="LedgerOptions.MaxBatchSize"/>.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>One result per account, in order.</returns>
    /// <exception cref="ArgumentException">The batch is larger than <see cref="LedgerOptions.MaxBatchSize"/>.</exception>
    public async ValueTask<IReadOnlyList<CreateAccountResult>> CreateAccountsAsync(IAnpmUnitOfWork unitOfWork, IReadOnlyList<NewAccount> accounts, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(unitOfWork);
        ArgumentNullException.ThrowIfNull(accounts);
        CheckBatchSize(accounts.Count, nameof(accounts));
        var now = _timeProvider.GetUtcNow();
        var results = new CreateAccountResult[accounts.Count];
        for (var i = 0; i < accounts.Count; i++)
        {
            var account = accounts[i];
            results[i] = ValidateAccount(account);
            if (results[i] != 0)
            {
                continue;
            }

            // Read first: most calls ensure accounts that exist (one statement instead of a refused insert and a read).
            var existing = await unitOfWork.Ledger.GetAccountAsync(account.Id, cancellationToken).ConfigureAwait(false);
            if (existing is null)
            {
                if (await unitOfWork.Ledger.TryInsertAccountAsync(LedgerAccount.Create(account, now), cancellationToken).ConfigureAwait(false))
                {
                    results[i] = CreateAccountResult.Created;
                    continue;
                }

                existing = await unitOfWork.Ledger.GetAccountAsync(account.Id, cancellationToken).ConfigureAwait(false)
                    ?? throw new AnpmConcurrencyException($"Account '{account.Id}' was refused as a duplicate but cannot be read; retry.");
            }

            results[i] = existing.Asset != account.Asset ? CreateAccountResult.ExistsWithDifferentAsset
                : existing.Flags != account.Flags ? CreateAccountResult.ExistsWithDifferentFlags
                : CreateAccountResult.Exists;
        }

        return results;
    }

    /// <summary>Creates one transfer in its own unit of work.</summary>
    /// <returns>
    /// <see cref="CreateTransferResult.Created"/>, <see cref="CreateTransferResult.Exists"/> for an identical replay, or
    /// the problem; nothing changes unless it is <see cref="CreateTransferResult.Created"/>.
    /// </returns>
    public async ValueTask<CreateTransferResult> CreateTransferAsync(TransferRequest transfer, CancellationToken cancellationToken = default) =>
        (await RunBatchAsync([transfer], cancellationToken).ConfigureAwait(false))[0];

    /// <summary>
    /// Creates transfers in one unit of work, in order; each sees the effects of those before it. Unlinked transfers
    /// succeed or fail on their own; a linked chain (<see cref="TransferFlags.Linked"/>) succeeds or fails as a whole.
    /// Within a chain an identical replay (<see cref="CreateTransferResult.Exists"/>) counts as success, so replaying a
    /// whole chain answers <see cref="CreateTransferResult.Exists"/> for each transfer (TigerBeetle fails the chain instead).
    /// </summary>
    /// <param name="transfers">The transfers; at most <see cref="LedgerOptions.MaxBatchSize"/>.</param>
    /// <param name="cancellationToken">Cancels the call; then nothing was kept.</param>
    /// <returns>One result per transfer, in order.</returns>
    /// <exception cref="ArgumentException">The batch is larger than <see cref="LedgerOptions.MaxBatchSize"/> or holds a null request.</exception>
    /// <exception cref="AnpmConcurrencyException">Every retry lost its race with other units of work (see <see cref="AnpmStoreExtensions.RunAsync"/>).</exception>
    public async ValueTask<IReadOnlyList<CreateTransferResult>> CreateTransfersAsync(IReadOnlyList<TransferRequest> transfers, CancellationToken cancellationToken = default) =>
        await RunBatchAsync(transfers, cancellationToken).ConfigureAwait(false);

    /// <summary>
    /// Creates transfers inside the caller's unit of work, which commits them with its other changes; see
    /// <see cref="CreateTransfersAsync(IReadOnlyList{TransferRequest}, CancellationToken)"/>.
    /// </summary>
    /// <param name="unitOfWork">The caller's unit of work.</param>
    /// <param name="transfers">The transfers; at most <see cref="LedgerOptions.MaxBatchSize"/>.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>One result per transfer, in order.</returns>
    /// <exception cref="ArgumentException">The batch is larger than <see cref="LedgerOptions.MaxBatchSize"/> or holds a null request.</exception>
    public async ValueTask<IReadOnlyList<CreateTransferResult>> CreateTransfersAsync(IAnpmUnitOfWork unitOfWork, IReadOnlyList<TransferRequest> transfers, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(unitOfWork);
        CheckTransfers(transfers);
        return await new TransferBatch(_rules, unitOfWork.Ledger, transfers, _timeProvider.GetUtcNow()).ExecuteAsync(cancellationToken).ConfigureAwait(false);
    }

    // Runs a batch in its own unit of work, again from the start if it loses a race (see AnpmStoreExtensions.RunAsync).
    private ValueTask<CreateTransferResult[]> RunBatchAsync(IReadOnlyList<TransferRequest> transfers, CancellationToken cancellationToken)
    {
        CheckTransfers(transfers);
        return _store.RunAsync(
            (Ledger: this, Transfers: transfers),
            static (unitOfWork, state, ct) => new TransferBatch(state.Ledger._rules, unitOfWork.Ledger, state.Transfers, state.Ledger._timeProvider.GetUtcNow()).ExecuteAsync(ct),
            cancellationToken);
    }

    /// <summary>Reads an account.</summary>
    /// <returns>The account, or <see langword="null"/> when there is none with that id.</returns>
    public async ValueTask<LedgerAccount?> GetAccountAsync(AccountId id, CancellationToken cancellationToken = default)
    {
        if (id.Value is null)
        {
            return null;
        }

        var unitOfWork = await _store.BeginReadAsync(cancellationToken).ConfigureAwait(false);
        await using (unitOfWork.ConfigureAwait(false))
        {
            return await unitOfWork.Ledger.GetAccountAsync(id, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Reads a transfer.</summary>
    /// <returns>The transfer, or <see langword="null"/> when there is none with that id.</returns>
    public async ValueTask<Transfer?> GetTransferAsync(TransferId id, CancellationToken cancellationToken = default)
    {
        if (id.Value is null)
        {
            return null;
        }

        var unitOfWork = await _store.BeginReadAsync(cancellationToken).ConfigureAwait(false);
        await using (unitOfWork.ConfigureAwait(false))
        {
            return await unitOfWork.Ledger.GetTransferAsync(id, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Reads a page of an account's transfers, newest first.</summary>
    /// <param name="id">The account.</param>
    /// <param name="cursor"><see langword="null"/> for the newest page, or the <see cref="AccountHistoryPage.NextCursor"/> of the previous page.</param>
    /// <param name="limit">The most entries, 1 to <see cref="LedgerOptions.MaxHistoryPageSize"/>.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The page, or a status naming why it could not be read.</returns>
    public async ValueTask<AccountHistoryPage> GetAccountHistoryAsync(AccountId id, string? cursor, int limit, CancellationToken cancellationToken = default)
    {
        if (limit < 1 || limit > _rules.MaxHistoryPageSize)
        {
            return new AccountHistoryPage(AccountHistoryStatus.LimitIsOutOfRange, [], null);
        }

        long? before = null;
        if (cursor is not null)
        {
            if (cursor.Length > 19 || !long.TryParse(cursor, NumberStyles.None, CultureInfo.InvariantCulture, out var sequence) || sequence <= 0)
            {
                return new AccountHistoryPage(AccountHistoryStatus.CursorIsInvalid, [], null);
            }

            before = sequence;
        }

        if (id.Value is null)
        {
            return new AccountHistoryPage(AccountHistoryStatus.AccountNotFound, [], null);
        }

        var unitOfWork = await _store.BeginReadAsync(cancellationToken).ConfigureAwait(false);
        await using (unitOfWork.ConfigureAwait(false))
        {
            if (await unitOfWork.Ledger.GetAccountAsync(id, cancellationToken).ConfigureAwait(false) is null)
            {
                return new AccountHistoryPage(AccountHistoryStatus.AccountNotFound, [], null);
            }

            // One entry more than asked tells whether another page follows.
            var entries = await unitOfWork.Ledger.GetAccountHistoryAsync(id, before, limit + 1, cancellationToken).ConfigureAwait(false);
            if (entries.Count <= limit)
            {
                return new AccountHistoryPage(AccountHistoryStatus.Ok, entries, null);
            }

            var page = entries.Take(limit).ToArray();
            return new AccountHistoryPage(AccountHistoryStatus.Ok, page, page[^1].Sequence.ToString(CultureInfo.InvariantCulture));
        }
    }

    /// <summary>
    /// Releases every pending transfer whose timeout has passed (state <see cref="PendingTransferState.Expired"/>), in units
    /// of work of <see cref="LedgerOptions.ExpirySweepBatchSize"/>. Safe to run concurrently and repeatedly: each transfer
    /// expires once.
    /// </summary>
    /// <param name="cancellationToken">Stops the sweep between units of work.</param>
    /// <returns>How many pending transfers expired.</returns>
    public async ValueTask<int> ExpirePendingTransfersAsync(CancellationToken cancellationToken = default)
    {
        var total = 0;
        while (true)
        {
            var (expired, candidates) = await _store.RunAsync(this, static (unitOfWork, ledger, ct) => ledger.ExpireSomeAsync(unitOfWork.Ledger, ct), cancellationToken).ConfigureAwait(false);
            total += expired;
            if (candidates < _rules.ExpirySweepBatchSize)
            {
                return total;
            }
        }
    }

    // One unit of work of the sweep: returns how many transfers it expired and how many candidates it saw.
    private async ValueTask<(int Expired, int Candidates)> ExpireSomeAsync(ILedgerStore store, CancellationToken cancellationToken)
    {
        var now = _timeProvider.GetUtcNow();
        var candidates = await store.GetExpiredPendingTransfersAsync(now, _rules.ExpirySweepBatchSize, cancellationToken).ConfigureAwait(false);
        if (candidates.Count == 0)
        {
            return (0, 0);
        }

        var accounts = new AccountWorkingSet();
        await accounts.LoadAsync(store, candidates.SelectMany(t => new[] { t.DebitAccountId, t.CreditAccountId }).ToArray(), cancellationToken).ConfigureAwait(false);
        var expired = 0;
        foreach (var candidate in candidates)
        {
            // Read again under the account locks: another sweep or a post may have settled it meanwhile.
            var pending = await store.GetTransferAsync(candidate.Id, cancellationToken).ConfigureAwait(false);
            if (pending is not { State: PendingTransferState.Pending } || pending.ExpiresAt > now)
            {
                continue;
            }

            var debit = accounts.Get(pending.DebitAccountId);
            var credit = accounts.Get(pending.CreditAccountId);
            if (!accounts.Totals(debit).DebitsPending.TrySubtract(pending.Amount, out var debitsPending)
                || !accounts.Totals(credit).CreditsPending.TrySubtract(pending.Amount, out var creditsPending))
            {
                throw new AnpmException($"Pending transfer '{pending.Id}' reserves more than its accounts' pending totals; the store is inconsistent.");
            }

            accounts.Set(debit, accounts.Totals(debit) with { DebitsPending = debitsPending });
            accounts.Set(credit, accounts.Totals(credit) with { CreditsPending = creditsPending });
            await store.UpdatePendingStateAsync(pending.Id, PendingTransferState.Expired, cancellationToken).ConfigureAwait(false);
            expired++;
        }

        await accounts.SaveAsync(store, cancellationToken).ConfigureAwait(false);
        return (expired, candidates.Count);
    }

    /// <summary>
    /// Checks the ledger's invariant: per asset, posted debits equal posted credits (the balances sum to zero), pending
    /// debits equal pending credits, and no account that must not go negative is negative.
    /// </summary>
    /// <returns>The sums per asset and every violation in words.</returns>
    public async ValueTask<LedgerInvariantReport> CheckInvariantAsync(CancellationToken cancellationToken = default)
    {
        var unitOfWork = await _store.BeginReadAsync(cancellationToken).ConfigureAwait(false);
        await using (unitOfWork.ConfigureAwait(false))
        {
            var totals = await unitOfWork.Ledger.GetAssetTotalsAsync(cancellationToken).ConfigureAwait(false);
            var problems = new List<string>();
            foreach (var asset in totals)
            {
                if (asset.DebitsPosted != asset.CreditsPosted)
                {
                    problems.Add($"{asset.Asset}: posted debits {asset.DebitsPosted} differ from posted credits {asset.CreditsPosted}.");
                }

                if (asset.DebitsPending != asset.CreditsPending)
                {
                    problems.Add($"{asset.Asset}: pending debits {asset.DebitsPending} differ from pending credits {asset.CreditsPending}.");
                }

                if (asset.NegativeAccountCount != 0)
                {
                    problems.Add($"{asset.Asset}: {asset.NegativeAccountCount} accounts that must not go negative are negative.");
                }

                if (!_rules.HasAsset(asset.Asset))
                {
                    problems.Add($"{asset.Asset}: accounts hold an asset the ledger is not configured for.");
                }
            }

            return new LedgerInvariantReport(totals, problems);
        }
    }

    private CreateAccountResult ValidateAccount(NewAccount account)
    {
        if (account.Id.Value is null)
        {
            return CreateAccountResult.IdMustNotBeDefault;
        }

        if (account.Asset.Value is null)
        {
            return CreateAccountResult.AssetMustNotBeDefault;
        }

        if (!_rules.HasAsset(account.Asset))
        {
            return CreateAccountResult.AssetNotFound;
        }

        return (account.Flags & ~AccountFlags.DebitsMustNotExceedCredits) != 0 ? CreateAccountResult.FlagsAreInvalid : 0;
    }

    private void CheckTransfers(IReadOnlyList<TransferRequest> transfers)
    {
        ArgumentNullException.ThrowIfNull(transfers);
        CheckBatchSize(transfers.Count, nameof(transfers));
        for (var i = 0; i < transfers.Count; i++)
        {
            if (transfers[i] is null)
            {
                throw new ArgumentException($"Transfer request {i} is null.", nameof(transfers));
            }
        }
    }

    private void CheckBatchSize(int count, string parameterName)
    {
        if (count > _rules.MaxBatchSize)
        {
            throw new ArgumentException($"A batch holds at most {_rules.MaxBatchSize} items (LedgerOptions.MaxBatchSize), not {count}.", parameterName);
        }
    }
}
