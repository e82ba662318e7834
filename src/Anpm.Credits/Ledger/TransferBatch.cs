using Anpm.Abstractions;

namespace Anpm.Credits;

/// <summary>
/// Applies one batch of transfer requests inside a unit of work: validates each, locks every account involved, applies
/// the events in order (a linked chain all or nothing), then writes the new transfers, pending states and totals.
/// </summary>
internal sealed class TransferBatch
{
    private const TransferFlags PhaseFlags = TransferFlags.Pending | TransferFlags.PostPending | TransferFlags.VoidPending;
    private const TransferFlags DefinedFlags = TransferFlags.Linked | PhaseFlags;

    private readonly LedgerRules _rules;
    private readonly ILedgerStore _store;
    private readonly IReadOnlyList<TransferRequest> _requests;
    private readonly DateTimeOffset _now;
    private readonly CreateTransferResult[] _results;
    private readonly AccountWorkingSet _accounts = new();
    // At most one new transfer per request; the first _createdCount slots hold them in order.
    private readonly Transfer[] _created;
    private int _createdCount;
    // Pending transfers this batch posted or voided, with their new state (a copy is made only when one is read back).
    private List<(Transfer Pending, PendingTransferState State)>? _stateChanges;

    public TransferBatch(LedgerRules rules, ILedgerStore store, IReadOnlyList<TransferRequest> requests, DateTimeOffset now)
    {
        _rules = rules;
        _store = store;
        _requests = requests;
        _now = now;
        _results = new CreateTransferResult[requests.Count];
        _created = new Transfer[requests.Count];
    }

    public async ValueTask<CreateTransferResult[]> ExecuteAsync(CancellationToken cancellationToken)
    {
        var accountIds = new AccountId[2 * _requests.Count];
        var idCount = 0;
        for (var i = 0; i < _requests.Count; i++)
        {
            var request = _requests[i];
            _results[i] = Validate(request);
            if (_results[i] != 0)
            {
                continue;
            }

            if ((request.Flags & (TransferFlags.PostPending | TransferFlags.VoidPending)) == 0)
            {
                accountIds[idCount++] = request.DebitAccountId;
                accountIds[idCount++] = request.CreditAccountId;
            }
            else if (await _store.GetTransferAsync(request.PendingId, cancellationToken).ConfigureAwait(false) is { } pending)
            {
                // Read unlocked only to learn which accounts to lock; it is read again once they are locked.
                accountIds[idCount++] = pending.DebitAccountId;
                accountIds[idCount++] = pending.CreditAccountId;
            }
        }

        FailOpenChain();
        Array.Resize(ref accountIds, idCount);
        await _accounts.LoadAsync(_store, accountIds, cancellationToken).ConfigureAwait(false);

        var chainStart = -1;
        int undoMark = 0, createdMark = 0, stateMark = 0;
        for (var i = 0; i < _requests.Count; i++)
        {
            var linked = (_requests[i].Flags & TransferFlags.Linked) != 0;
            if (chainStart < 0 && linked)
            {
                chainStart = i;
                _accounts.RecordsUndo = true;
                (undoMark, createdMark, stateMark) = (_accounts.UndoMark, _createdCount, _stateChanges?.Count ?? 0);
            }

            if (_results[i] == 0)
            {
                _results[i] = await ApplyAsync(_requests[i], cancellationToken).ConfigureAwait(false);
            }

            if (chainStart < 0)
            {
                continue;
            }

            if (!_results[i].IsSuccess())
            {
                _accounts.RollbackTo(undoMark);
                Array.Clear(_created, createdMark, _createdCount - createdMark);
                _createdCount = createdMark;
                _stateChanges?.RemoveRange(stateMark, _stateChanges.Count - stateMark);
                for (var j = chainStart; j < i; j++)
                {
                    _results[j] = CreateTransferResult.LinkedEventFailed;
                }

                while (linked && i + 1 < _requests.Count)
                {
                    i++;
                    linked = (_requests[i].Flags & TransferFlags.Linked) != 0;
                    if (_results[i] == 0)
                    {
                        _results[i] = CreateTransferResult.LinkedEventFailed;
                    }
                }

                chainStart = -1;
                _accounts.RecordsUndo = false;
            }
            else if (!linked)
            {
                chainStart = -1;
                _accounts.RecordsUndo = false;
            }
        }

        // Write what the batch kept. Inserting a transfer is the atomic claim of its id: losing it to a concurrent unit of
        // work (possible only in stores that run units of work in parallel) aborts this one so the caller can retry.
        for (var i = 0; i < _createdCount; i++)
        {
            var transfer = _created[i];
            if (!await _store.TryInsertTransferAsync(transfer, cancellationToken).ConfigureAwait(false))
            {
                throw new AnpmConcurrencyException($"Transfer '{transfer.Id}' was created by another unit of work at the same time; retry.");
            }
        }

        foreach (var (pending, state) in _stateChanges ?? [])
        {
            await _store.UpdatePendingStateAsync(pending.Id, state, cancellationToken).ConfigureAwait(false);
        }

        await _accounts.SaveAsync(_store, cancellationToken).ConfigureAwait(false);
        return _results;
    }

    // A batch whose last event is linked leaves its chain open: the whole chain fails before anything is applied.
    private void FailOpenChain()
    {
        var last = _requests.Count - 1;
        if (last < 0 || (_requests[last].Flags & TransferFlags.Linked) == 0)
        {
            return;
        }

        _results[last] = CreateTransferResult.LinkedEventChainOpen;
        for (var i = last - 1; i >= 0 && (_requests[i].Flags & TransferFlags.Linked) != 0; i--)
        {
            _results[i] = CreateTransferResult.LinkedEventFailed;
        }
    }

    private CreateTransferResult Validate(TransferRequest request)
    {
        if (request.Id.Value is null)
        {
            return CreateTransferResult.IdMustNotBeDefault;
        }

        var phase = request.Flags & PhaseFlags;
        if ((request.Flags & ~DefinedFlags) != 0 || (phase & (phase - 1)) != 0)
        {
            return CreateTransferResult.FlagsAreInvalid;
        }

        if (request.Kind.Value is null)
        {
            return CreateTransferResult.KindMustNotBeDefault;
        }

        if (!IsValidReference(request.Reference))
        {
            return CreateTransferResult.ReferenceIsInvalid;
        }

        return phase is TransferFlags.PostPending or TransferFlags.VoidPending
            ? ValidateSecondPhase(request)
            : ValidateFirstPhase(request, phase == TransferFlags.Pending);
    }

    private CreateTransferResult ValidateFirstPhase(TransferRequest request, bool pending)
    {
        if (request.DebitAccountId.Value is null)
        {
            return CreateTransferResult.DebitAccountIdMustNotBeDefault;
        }

        if (request.CreditAccountId.Value is null)
        {
            return CreateTransferResult.CreditAccountIdMustNotBeDefault;
        }

        if (request.DebitAccountId == request.CreditAccountId)
        {
            return CreateTransferResult.AccountsMustBeDifferent;
        }

        if (request.Asset.Value is null)
        {
            return CreateTransferResult.AssetMustNotBeDefault;
        }

        if (!_rules.HasAsset(request.Asset))
        {
            return CreateTransferResult.AssetNotFound;
        }

        if (request.Amount is not { IsZero: false })
        {
            return CreateTransferResult.AmountMustNotBeZero;
        }

        if (request.PendingId.Value is not null)
        {
            return CreateTransferResult.PendingIdMustBeDefault;
        }

        if (request.TimeoutSeconds != 0 && !pending)
        {
            return CreateTransferResult.TimeoutReservedForPendingTransfer;
        }

        return request.TimeoutSeconds > _rules.MaxPendingTimeoutSeconds ? CreateTransferResult.TimeoutExceedsMaximum : 0;
    }

    private CreateTransferResult ValidateSecondPhase(TransferRequest request)
    {
        if (request.PendingId.Value is null)
        {
            return CreateTransferResult.PendingIdMustNotBeDefault;
        }

        if (request.PendingId == request.Id)
        {
            return CreateTransferResult.PendingIdMustBeDifferent;
        }

        if (request.DebitAccountId.Value is not null && request.DebitAccountId == request.CreditAccountId)
        {
            return CreateTransferResult.AccountsMustBeDifferent;
        }

        if (request.Asset.Value is not null && !_rules.HasAsset(request.Asset))
        {
            return CreateTransferResult.AssetNotFound;
        }

        if (request.Amount is { IsZero: true })
        {
            return CreateTransferResult.AmountMustNotBeZero;
        }

        return request.TimeoutSeconds != 0 ? CreateTransferResult.TimeoutReservedForPendingTransfer : 0;
    }

    private static bool IsValidReference(string? reference)
    {
        if (reference is null || reference.Length > TransferRequest.MaxReferenceLength)
        {
            return false;
        }

        foreach (var c in reference)
        {
            if (char.IsControl(c))
            {
                return false;
            }
        }

        return true;
    }

    private ValueTask<CreateTransferResult> ApplyAsync(TransferRequest request, CancellationToken cancellationToken)
    {
        // The common case, a new plain or pending transfer on a store that answers synchronously, stays synchronous.
        var find = FindTransferAsync(request.Id, cancellationToken);
        if (!find.IsCompletedSuccessfully)
        {
            return ApplySlowAsync(request, find, cancellationToken);
        }

        // Completed: its result is read once here and handed on as a completed task, never awaited a second time.
        var found = find.Result;
        return found is null && (request.Flags & (TransferFlags.PostPending | TransferFlags.VoidPending)) == 0
            ? new ValueTask<CreateTransferResult>(ApplyFirstPhase(request))
            : ApplySlowAsync(request, new ValueTask<Transfer?>(found), cancellationToken);
    }

    private async ValueTask<CreateTransferResult> ApplySlowAsync(TransferRequest request, ValueTask<Transfer?> find, CancellationToken cancellationToken)
    {
        var existing = await find.ConfigureAwait(false);
        if (existing is not null)
        {
            return await CompareWithExistingAsync(request, existing, cancellationToken).ConfigureAwait(false);
        }

        return (request.Flags & (TransferFlags.PostPending | TransferFlags.VoidPending)) == 0
            ? ApplyFirstPhase(request)
            : await ApplySecondPhaseAsync(request, cancellationToken).ConfigureAwait(false);
    }

    private CreateTransferResult ApplyFirstPhase(TransferRequest request)
    {
        var debit = _accounts.Find(request.DebitAccountId);
        if (debit < 0)
        {
            return CreateTransferResult.DebitAccountNotFound;
        }

        var credit = _accounts.Find(request.CreditAccountId);
        if (credit < 0)
        {
            return CreateTransferResult.CreditAccountNotFound;
        }

        if (_accounts.Asset(debit) != request.Asset || _accounts.Asset(credit) != request.Asset)
        {
            return CreateTransferResult.AccountAssetMismatch;
        }

        var amount = request.Amount!.Value;
        var pending = (request.Flags & TransferFlags.Pending) != 0;
        var d = _accounts.Totals(debit);
        var c = _accounts.Totals(credit);
        AccountTotals newDebit, newCredit;
        if (pending)
        {
            if (!d.DebitsPending.TryAdd(amount, out var debitsPending) || !d.DebitsPosted.TryAdd(debitsPending, out _))
            {
                return CreateTransferResult.OverflowsDebits;
            }

            if (!c.CreditsPending.TryAdd(amount, out var creditsPending) || !c.CreditsPosted.TryAdd(creditsPending, out _))
            {
                return CreateTransferResult.OverflowsCredits;
            }

            newDebit = d with { DebitsPending = debitsPending };
            newCredit = c with { CreditsPending = creditsPending };
        }
        else
        {
            if (!d.DebitsPosted.TryAdd(amount, out var debitsPosted) || !debitsPosted.TryAdd(d.DebitsPending, out _))
            {
                return CreateTransferResult.OverflowsDebits;
            }

            if (!c.CreditsPosted.TryAdd(amount, out var creditsPosted) || !creditsPosted.TryAdd(c.CreditsPending, out _))
            {
                return CreateTransferResult.OverflowsCredits;
            }

            newDebit = d with { DebitsPosted = debitsPosted };
            newCredit = c with { CreditsPosted = creditsPosted };
        }

        // Both sums were checked above not to overflow.
        if (_accounts.MustNotGoNegative(debit) && newDebit.DebitsPosted + newDebit.DebitsPending > newDebit.CreditsPosted)
        {
            return CreateTransferResult.ExceedsBalance;
        }

        _accounts.Set(debit, newDebit);
        _accounts.Set(credit, newCredit);
        _created[_createdCount++] = new Transfer
        {
            Id = request.Id,
            DebitAccountId = request.DebitAccountId,
            CreditAccountId = request.CreditAccountId,
            Asset = request.Asset,
            Amount = amount,
            Kind = request.Kind,
            Reference = request.Reference,
            Flags = request.Flags & PhaseFlags,
            TimeoutSeconds = request.TimeoutSeconds,
            Timestamp = _now,
            ExpiresAt = pending && request.TimeoutSeconds != 0 ? _now.AddSeconds(request.TimeoutSeconds) : null,
            State = pending ? PendingTransferState.Pending : PendingTransferState.None,
        };
        return CreateTransferResult.Created;
    }

    private async ValueTask<CreateTransferResult> ApplySecondPhaseAsync(TransferRequest request, CancellationToken cancellationToken)
    {
        var pending = await FindTransferAsync(request.PendingId, cancellationToken).ConfigureAwait(false);
        if (pending is null)
        {
            return CreateTransferResult.PendingTransferNotFound;
        }

        var problem = CheckPendingCanSettle(request, pending);
        if (problem != 0)
        {
            return problem;
        }

        var post = (request.Flags & TransferFlags.PostPending) != 0;
        var amount = request.Amount ?? pending.Amount;
        if (post && amount > pending.Amount)
        {
            return CreateTransferResult.ExceedsPendingTransferAmount;
        }

        if (!post && amount != pending.Amount)
        {
            return CreateTransferResult.PendingTransferHasDifferentAmount;
        }

        // Accounts are never deleted: one the batch did not lock was unknown to its unlocked read, so the pending transfer
        // was committed by another unit of work in between. Its accounts were not locked here; retrying locks them.
        var debit = _accounts.Find(pending.DebitAccountId);
        var credit = _accounts.Find(pending.CreditAccountId);
        if (debit < 0 || credit < 0)
        {
            throw new AnpmConcurrencyException($"Pending transfer '{pending.Id}' was committed by another unit of work while this batch locked its accounts; retry.");
        }

        var d = _accounts.Totals(debit);
        var c = _accounts.Totals(credit);
        if (!d.DebitsPending.TrySubtract(pending.Amount, out var debitsPending)
            || !c.CreditsPending.TrySubtract(pending.Amount, out var creditsPending))
        {
            throw new AnpmException($"Pending transfer '{pending.Id}' reserves more than its accounts' pending totals; the store is inconsistent.");
        }

        var debitsPosted = d.DebitsPosted;
        var creditsPosted = c.CreditsPosted;
        if (post && !d.DebitsPosted.TryAdd(amount, out debitsPosted))
        {
            return CreateTransferResult.OverflowsDebits;
        }

        if (post && !c.CreditsPosted.TryAdd(amount, out creditsPosted))
        {
            return CreateTransferResult.OverflowsCredits;
        }

        _accounts.Set(debit, d with { DebitsPosted = debitsPosted, DebitsPending = debitsPending });
        _accounts.Set(credit, c with { CreditsPosted = creditsPosted, CreditsPending = creditsPending });
        (_stateChanges ??= []).Add((pending, post ? PendingTransferState.Posted : PendingTransferState.Voided));
        _created[_createdCount++] = new Transfer
        {
            Id = request.Id,
            DebitAccountId = pending.DebitAccountId,
            CreditAccountId = pending.CreditAccountId,
            Asset = pending.Asset,
            Amount = amount,
            Kind = request.Kind,
            Reference = request.Reference,
            Flags = request.Flags & PhaseFlags,
            PendingId = pending.Id,
            Timestamp = _now,
        };
        return CreateTransferResult.Created;
    }

    private CreateTransferResult CheckPendingCanSettle(TransferRequest request, Transfer pending)
    {
        if ((pending.Flags & TransferFlags.Pending) == 0)
        {
            return CreateTransferResult.PendingTransferNotPending;
        }

        switch (pending.State)
        {
            case PendingTransferState.Posted:
                return CreateTransferResult.PendingTransferAlreadyPosted;
            case PendingTransferState.Voided:
                return CreateTransferResult.PendingTransferAlreadyVoided;
            case PendingTransferState.Expired:
                return CreateTransferResult.PendingTransferExpired;
        }

        if (pending.ExpiresAt <= _now)
        {
            return CreateTransferResult.PendingTransferExpired;
        }

        if (request.DebitAccountId.Value is not null && request.DebitAccountId != pending.DebitAccountId)
        {
            return CreateTransferResult.PendingTransferHasDifferentDebitAccountId;
        }

        if (request.CreditAccountId.Value is not null && request.CreditAccountId != pending.CreditAccountId)
        {
            return CreateTransferResult.PendingTransferHasDifferentCreditAccountId;
        }

        return request.Asset.Value is not null && request.Asset != pending.Asset
            ? CreateTransferResult.PendingTransferHasDifferentAsset
            : 0;
    }

    private async ValueTask<CreateTransferResult> CompareWithExistingAsync(TransferRequest request, Transfer existing, CancellationToken cancellationToken)
    {
        var same = (request.Flags & PhaseFlags) == existing.Flags
            && request.Kind == existing.Kind
            && string.Equals(request.Reference, existing.Reference, StringComparison.Ordinal)
            && request.PendingId == existing.PendingId
            && request.TimeoutSeconds == existing.TimeoutSeconds
            && (request.DebitAccountId.Value is null ? request.PendingId.Value is not null : request.DebitAccountId == existing.DebitAccountId)
            && (request.CreditAccountId.Value is null ? request.PendingId.Value is not null : request.CreditAccountId == existing.CreditAccountId)
            && (request.Asset.Value is null ? request.PendingId.Value is not null : request.Asset == existing.Asset);
        if (same && request.Amount is null)
        {
            // A post or void without an amount meant "the full pending amount".
            var pending = await FindTransferAsync(existing.PendingId, cancellationToken).ConfigureAwait(false);
            same = pending is not null && pending.Amount == existing.Amount;
        }
        else if (same)
        {
            same = request.Amount == existing.Amount;
        }

        return same ? CreateTransferResult.Exists : CreateTransferResult.ExistsWithDifferentFields;
    }

    // The newest version of a transfer: changed or created earlier in this batch, else as stored.
    private ValueTask<Transfer?> FindTransferAsync(TransferId id, CancellationToken cancellationToken)
    {
        for (var i = (_stateChanges?.Count ?? 0) - 1; i >= 0; i--)
        {
            var (pending, state) = _stateChanges![i];
            if (pending.Id == id)
            {
                return new ValueTask<Transfer?>(pending with { State = state });
            }
        }

        for (var i = _createdCount - 1; i >= 0; i--)
        {
            if (_created[i].Id == id)
            {
                return new ValueTask<Transfer?>(_created[i]);
            }
        }

        return _store.GetTransferAsync(id, cancellationToken);
    }
}
