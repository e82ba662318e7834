using Anpm.Abstractions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Anpm.Credits;

/// <summary>Options of the <see cref="Outbox"/>.</summary>
public sealed class OutboxOptions
{
    /// <summary>How many due transfers one dispatch round sends. Default 100; 1 to 10 000.</summary>
    public int DispatchBatchSize { get; set; } = 100;

    /// <summary>The wait before the first retry, in seconds; it doubles per attempt. Default 5.</summary>
    public int RetryBaseSeconds { get; set; } = 5;

    /// <summary>The longest wait between attempts, in seconds. Default 3600.</summary>
    public int RetryMaxSeconds { get; set; } = 3600;

    /// <summary>How long an accepted transfer waits for its confirmation before it is sent again, in seconds. Default 600.</summary>
    public int ConfirmationTimeoutSeconds { get; set; } = 600;
}

/// <summary>The outcome of enqueuing an outgoing transfer.</summary>
public enum EnqueueResult
{
    /// <summary>The tokens moved to the in-flight account and the transfer was written.</summary>
    Enqueued = 1,

    /// <summary>A transfer with this id was already enqueued with the same fields (an idempotent replay).</summary>
    Exists = 2,

    /// <summary>A transfer with this id exists with other fields.</summary>
    ExistsWithDifferentFields = 3,

    /// <summary>The ledger refused the move into the in-flight account (see <see cref="EnqueueOutcome.LedgerResult"/>).</summary>
    LedgerRefused = 4,
}

/// <summary>The result of <see cref="Outbox.EnqueueAsync"/>.</summary>
/// <param name="Result">What happened.</param>
/// <param name="LedgerResult">The ledger's result for the move into the in-flight account.</param>
public readonly record struct EnqueueOutcome(EnqueueResult Result, CreateTransferResult LedgerResult)
{
    /// <summary>
    /// The exception for an enqueue the caller required to succeed: <see cref="AnpmConcurrencyException"/> when the
    /// transfer exists (a concurrent unit of work enqueued it after the caller's checks: retrying sees it),
    /// <see cref="LedgerOverflowException"/> when the ledger refused with an overflow, else <see cref="AnpmException"/>.
    /// </summary>
    /// <param name="what">What failed, e.g. <c>Paying contribution 'c-1'</c>.</param>
    public AnpmException ToException(string what) => Result switch
    {
        EnqueueResult.Exists => new AnpmConcurrencyException($"{what}: the transfer was enqueued by a concurrent unit of work; retry."),
        EnqueueResult.LedgerRefused when LedgerResult.IsOverflow() => new LedgerOverflowException(LedgerResult, $"{what} failed: {Result} ({LedgerResult})."),
        _ => new AnpmException($"{what} failed: {Result} ({LedgerResult})."),
    };
}

/// <summary>The outcome of a confirmation.</summary>
public enum ConfirmResult
{
    /// <summary>The transfer was confirmed and its tokens left the ledger.</summary>
    Confirmed = 1,

    /// <summary>It was already confirmed (an idempotent replay).</summary>
    AlreadyConfirmed = 2,

    /// <summary>There is no outgoing transfer with that id.</summary>
    NotFound = 3,

    /// <summary>The transfer was never handed to a gateway (still pending), so nobody can have paid it; nothing changed.</summary>
    NotHandedOut = 4,

    /// <summary>The transfer failed on chain or its tokens were returned; it cannot be confirmed; nothing changed.</summary>
    NotPayable = 5,
}

/// <summary>Who did an operator's action and why: its audit trail (an event written with the change).</summary>
/// <param name="By">The operator's address (the signer of the admin's command).</param>
/// <param name="Reason">Why, in the operator's words.</param>
public sealed record OperatorAction(Address By, string Reason);

/// <summary>The outcome of <see cref="Outbox.FailOnChainAsync(IAnpmUnitOfWork, TransferId, string, CancellationToken)"/>, <see cref="Outbox.RetryFailedAsync(TransferId, CancellationToken)"/> and <see cref="Outbox.ReturnFailedAsync(TransferId, CancellationToken)"/>.</summary>
public enum FailedTransferResult
{
    /// <summary>The transfer moved to the state asked for.</summary>
    Done = 1,

    /// <summary>It was already in that state (an idempotent replay); nothing changed.</summary>
    AlreadyDone = 2,

    /// <summary>There is no outgoing transfer with that id.</summary>
    NotFound = 3,

    /// <summary>Its state does not allow it (e.g. retrying a transfer that did not fail, failing a confirmed one); nothing changed.</summary>
    WrongState = 4,
}

/// <summary>
/// The outbox of outgoing token transfers. <see cref="EnqueueAsync"/> moves the owed tokens into the asset's in-flight
/// account and writes the transfer in the caller's unit of work, so a payout and its transfer commit together;
/// <see cref="DispatchDueAsync(CancellationToken)"/> hands due transfers to the gateway (outside any transaction, by id, so a retry never pays
/// twice) with exponential backoff; <see cref="ConfirmAsync(TransferId, string, CancellationToken)"/> records the gateway's confirmation and lets the tokens leave
/// the ledger (in-flight → issuance). Nothing is lost: an unconfirmed transfer is sent again until confirmed.
/// </summary>
public sealed partial class Outbox
{
    private static readonly TransferKind Leave = TransferKind.Parse("outbox-confirmed");
    private static readonly TransferKind Returned = TransferKind.Parse("outbox-returned");
    private readonly IAnpmStore _store;
    private readonly Ledger _ledger;
    private readonly ITokenGateway _gateway;
    private readonly TimeProvider _timeProvider;
    private readonly OutboxOptions _options;
    private readonly IOutgoingTransferObserver[] _observers;
    private readonly ILogger _logger;

    /// <summary>Creates the outbox.</summary>
    /// <param name="store">The store.</param>
    /// <param name="ledger">The ledger over the same store.</param>
    /// <param name="gateway">Sends the transfers.</param>
    /// <param name="options">Batch size, backoff and confirmation timeout.</param>
    /// <param name="timeProvider">The clock.</param>
    /// <param name="observers">Told of each confirmation in its unit of work (e.g. to mark a refund paid out).</param>
    /// <param name="logger">Where a gateway's failure to take a transfer is logged (a warning with the transfer id); none when null.</param>
    public Outbox(
        IAnpmStore store, Ledger ledger, ITokenGateway gateway, IOptions<OutboxOptions> options, TimeProvider timeProvider, IEnumerable<IOutgoingTransferObserver>? observers = null,
        ILogger<Outbox>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(ledger);
        ArgumentNullException.ThrowIfNull(gateway);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(timeProvider);
        _store = store;
        _ledger = ledger;
        _gateway = gateway;
        _timeProvider = timeProvider;
        _options = ValidatedOptions.Value(options, new OutboxOptionsValidator());
        _observers = observers?.ToArray() ?? [];
        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    /// <summary>
    /// In the caller's unit of work: moves <paramref name="amount"/> from <paramref name="debitAccount"/> into the asset's
    /// in-flight account and writes the outgoing transfer <paramref name="id"/>. Commit the unit of work to keep both.
    /// </summary>
    /// <param name="unitOfWork">The caller's unit of work.</param>
    /// <param name="id">The outgoing transfer's id (also the id of the ledger move).</param>
    /// <param name="debitAccount">Where the owed tokens are held (a pool, a stake).</param>
    /// <param name="to">Who is paid.</param>
    /// <param name="asset">The token.</param>
    /// <param name="amount">The amount in base units.</param>
    /// <param name="kind">What it pays.</param>
    /// <param name="reference">What it is for.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    public async ValueTask<EnqueueOutcome> EnqueueAsync(
        IAnpmUnitOfWork unitOfWork, TransferId id, AccountId debitAccount, Address to, AssetCode asset, TokenAmount amount,
        TransferKind kind, string reference, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(unitOfWork);
        var move = new TransferRequest
        {
            Id = id,
            DebitAccountId = debitAccount,
            CreditAccountId = SystemAccounts.OutboxInFlight(asset),
            Asset = asset,
            Amount = amount,
            Kind = kind,
            Reference = reference,
        };
        var result = (await _ledger.CreateTransfersAsync(unitOfWork, [move], cancellationToken).ConfigureAwait(false))[0];
        var now = _timeProvider.GetUtcNow();
        var outgoing = new OutgoingTransfer
        {
            Id = id,
            To = to,
            Asset = asset,
            Amount = amount,
            Kind = kind,
            Reference = reference,
            State = OutgoingTransferState.Pending,
            CreatedAt = now,
            NextAttemptAt = now,
        };
        switch (result)
        {
            case CreateTransferResult.Created:
                if (!await unitOfWork.Outbox.TryInsertOutgoingAsync(outgoing, cancellationToken).ConfigureAwait(false))
                {
                    throw new AnpmConcurrencyException($"Outgoing transfer '{id}' was written by another unit of work at the same time; retry.");
                }

                return new EnqueueOutcome(EnqueueResult.Enqueued, result);
            case CreateTransferResult.Exists:
                var existing = await unitOfWork.Outbox.GetOutgoingAsync(id, cancellationToken).ConfigureAwait(false);
                var same = existing is not null && existing.To == to && existing.Asset == asset && existing.Amount == amount
                    && existing.Kind == kind && existing.Reference == reference;
                return new EnqueueOutcome(same ? EnqueueResult.Exists : EnqueueResult.ExistsWithDifferentFields, result);
            case CreateTransferResult.ExistsWithDifferentFields:
                return new EnqueueOutcome(EnqueueResult.ExistsWithDifferentFields, result);
            default:
                return new EnqueueOutcome(EnqueueResult.LedgerRefused, result);
        }
    }

    /// <summary>
    /// Hands every due transfer (a batch per call) to the gateway: accepted ones wait for confirmation (and are sent
    /// again after <see cref="OutboxOptions.ConfirmationTimeoutSeconds"/>), refused or failed ones back off exponentially.
    /// Safe on several instances: each transfer's update carries its version, and the gateway is idempotent by id. While
    /// the system is paused (<see cref="SystemPause"/>) nothing is sent; the transfers wait, none is lost.
    /// </summary>
    /// <returns>How many transfers were handed to the gateway and accepted.</returns>
    public ValueTask<int> DispatchDueAsync(CancellationToken cancellationToken = default) =>
        DispatchDueAsync(_gateway, _options.DispatchBatchSize, cancellationToken);

    /// <summary>
    /// <see cref="DispatchDueAsync(CancellationToken)"/> through another gateway than the configured one — e.g. one that
    /// collects the due transfers for a gateway that pulls them over HTTP and confirms them later.
    /// </summary>
    /// <param name="gateway">Receives the due transfers.</param>
    /// <param name="limit">The most transfers this round hands out, 1 to 10 000.</param>
    /// <param name="cancellationToken">Cancels the round.</param>
    /// <returns>How many transfers were handed to the gateway and accepted.</returns>
    public async ValueTask<int> DispatchDueAsync(ITokenGateway gateway, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(gateway);
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(limit, 10_000);
        var due = await _store.RunAsync(
            (Now: _timeProvider.GetUtcNow(), Limit: limit),
            static async (unitOfWork, query, ct) => await unitOfWork.System.IsPausedAsync(ct).ConfigureAwait(false)
                ? []
                : await unitOfWork.Outbox.GetDueOutgoingAsync(query.Now, query.Limit, ct).ConfigureAwait(false),
            cancellationToken).ConfigureAwait(false);
        var accepted = 0;
        foreach (var transfer in due)
        {
            GatewaySendResult sent;
            try
            {
                sent = await gateway.SendAsync(transfer, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                // The transfer stays owed and is sent again after its back-off; the gateway's failure is the operator's to see.
                LogGatewayFailed(_logger, exception, transfer.Id, transfer.Attempts + 1);
                sent = new GatewaySendResult(GatewaySendStatus.RetryLater);
            }

            var now = _timeProvider.GetUtcNow();
            var attempts = transfer.Attempts + 1;
            var updated = sent.Status == GatewaySendStatus.Accepted
                ? Accepted(transfer, sent.ExternalReference, now)
                : transfer with { Attempts = attempts, NextAttemptAt = now.AddSeconds(Backoff(attempts)) };
            try
            {
                await _store.RunAsync(
                    (Updated: updated, transfer.Version),
                    static async (unitOfWork, change, ct) =>
                    {
                        await unitOfWork.Outbox.UpdateOutgoingAsync(change.Updated, change.Version, ct).ConfigureAwait(false);
                        return true;
                    },
                    cancellationToken).ConfigureAwait(false);
            }
            catch (AnpmConcurrencyException)
            {
                // Another instance or a confirmation changed it meanwhile; its state wins, and the gateway is idempotent.
                LogChangedMeanwhile(_logger, transfer.Id);
                continue;
            }

            accepted += sent.Status == GatewaySendStatus.Accepted ? 1 : 0;
        }

        return accepted;
    }

    /// <summary>
    /// Records the gateway's confirmation: the transfer is final and its tokens leave the ledger. For a gateway in this
    /// process, which may confirm from inside <see cref="ITokenGateway.SendAsync"/>; a confirmation from outside (over
    /// HTTP) uses <see cref="ConfirmHandedOutAsync(TransferId, string, CancellationToken)"/>.
    /// </summary>
    /// <param name="id">The outgoing transfer.</param>
    /// <param name="externalReference">The gateway's reference, if any.</param>
    /// <param name="cancellationToken">Cancels the command.</param>
    public ValueTask<ConfirmResult> ConfirmAsync(TransferId id, string externalReference = "", CancellationToken cancellationToken = default) =>
        RecordConfirmationAsync(id, externalReference, handedOutOnly: false, cancellationToken);

    /// <summary>
    /// Records an outside gateway's confirmation, only for a transfer that was handed out (dispatched or pulled):
    /// a transfer still pending answers <see cref="ConfirmResult.NotHandedOut"/> and stays owed.
    /// </summary>
    /// <param name="id">The outgoing transfer.</param>
    /// <param name="externalReference">The gateway's reference, if any.</param>
    /// <param name="cancellationToken">Cancels the command.</param>
    public ValueTask<ConfirmResult> ConfirmHandedOutAsync(TransferId id, string externalReference = "", CancellationToken cancellationToken = default) =>
        RecordConfirmationAsync(id, externalReference, handedOutOnly: true, cancellationToken);

    /// <summary>
    /// Records an in-process gateway's confirmation in the caller's unit of work, e.g. together with the token movement
    /// that paid it, so that the payment and the confirmation commit as one.
    /// </summary>
    /// <param name="unitOfWork">The caller's unit of work; the caller commits.</param>
    /// <param name="id">The outgoing transfer.</param>
    /// <param name="externalReference">The gateway's reference, if any.</param>
    /// <param name="cancellationToken">Cancels the command.</param>
    public ValueTask<ConfirmResult> ConfirmAsync(IAnpmUnitOfWork unitOfWork, TransferId id, string externalReference = "", CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(unitOfWork);
        return ConfirmInAsync(unitOfWork, id, externalReference ?? string.Empty, handedOutOnly: false, cancellationToken);
    }

    /// <summary>
    /// Records an outside gateway's confirmation of a handed-out transfer (see <see cref="ConfirmHandedOutAsync(TransferId, string, CancellationToken)"/>)
    /// in the caller's unit of work, which the caller commits.
    /// </summary>
    /// <param name="unitOfWork">The caller's unit of work.</param>
    /// <param name="id">The outgoing transfer.</param>
    /// <param name="externalReference">The gateway's reference, if any.</param>
    /// <param name="cancellationToken">Cancels the command.</param>
    public ValueTask<ConfirmResult> ConfirmHandedOutAsync(IAnpmUnitOfWork unitOfWork, TransferId id, string externalReference = "", CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(unitOfWork);
        return ConfirmInAsync(unitOfWork, id, externalReference ?? string.Empty, handedOutOnly: true, cancellationToken);
    }

    /// <summary>
    /// Hands the due transfers to a gateway that pulls them (over HTTP) in the caller's unit of work, which the caller
    /// commits: each becomes <see cref="OutgoingTransferState.Dispatched"/>, waiting for the gateway's confirmation (and
    /// due again after <see cref="OutboxOptions.ConfirmationTimeoutSeconds"/>). Nothing while the system is paused.
    /// </summary>
    /// <param name="unitOfWork">The caller's unit of work.</param>
    /// <param name="limit">The most transfers to hand out, 1 to 10 000.</param>
    /// <param name="cancellationToken">Cancels the command.</param>
    /// <returns>The transfers handed out, as they were before this hand-out (their attempts not yet counted).</returns>
    public async ValueTask<IReadOnlyList<OutgoingTransfer>> HandOutDueAsync(IAnpmUnitOfWork unitOfWork, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(unitOfWork);
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(limit, 10_000);
        if (await unitOfWork.System.IsPausedAsync(cancellationToken).ConfigureAwait(false))
        {
            return [];
        }

        var now = _timeProvider.GetUtcNow();
        var due = await unitOfWork.Outbox.GetDueOutgoingAsync(now, limit, cancellationToken).ConfigureAwait(false);
        foreach (var transfer in due)
        {
            await unitOfWork.Outbox.UpdateOutgoingAsync(Accepted(transfer, "pulled", now), transfer.Version, cancellationToken).ConfigureAwait(false);
        }

        return due;
    }

    // A transfer the gateway accepted: it waits for the confirmation, and is due again when none comes in time.
    private OutgoingTransfer Accepted(OutgoingTransfer transfer, string externalReference, DateTimeOffset now) => transfer with
    {
        State = OutgoingTransferState.Dispatched,
        Attempts = transfer.Attempts + 1,
        NextAttemptAt = now.AddSeconds(_options.ConfirmationTimeoutSeconds),
        ExternalReference = externalReference.Length > 0 ? externalReference : transfer.ExternalReference,
    };

    private ValueTask<ConfirmResult> RecordConfirmationAsync(TransferId id, string externalReference, bool handedOutOnly, CancellationToken cancellationToken) =>
        _store.RunAsync((Outbox: this, Id: id, Reference: externalReference ?? string.Empty, HandedOutOnly: handedOutOnly), static (unitOfWork, request, ct) =>
            request.Outbox.ConfirmInAsync(unitOfWork, request.Id, request.Reference, request.HandedOutOnly, ct), cancellationToken);

    private async ValueTask<ConfirmResult> ConfirmInAsync(IAnpmUnitOfWork unitOfWork, TransferId id, string reference, bool handedOutOnly, CancellationToken ct)
    {
        var request = (Outbox: this, Id: id, Reference: reference, HandedOutOnly: handedOutOnly);
        {
            var transfer = await unitOfWork.Outbox.GetOutgoingAsync(request.Id, ct).ConfigureAwait(false);
            if (transfer is null)
            {
                return ConfirmResult.NotFound;
            }

            if (transfer.State == OutgoingTransferState.Confirmed)
            {
                return ConfirmResult.AlreadyConfirmed;
            }

            if (transfer.State is OutgoingTransferState.FailedOnChain or OutgoingTransferState.Returned)
            {
                return ConfirmResult.NotPayable;
            }

            if (request.HandedOutOnly && transfer.State != OutgoingTransferState.Dispatched)
            {
                return ConfirmResult.NotHandedOut;
            }

            var leave = new TransferRequest
            {
                Id = TransferId.Derive("confirmed:", request.Id.ToString()),
                DebitAccountId = SystemAccounts.OutboxInFlight(transfer.Asset),
                CreditAccountId = SystemAccounts.Issuance(transfer.Asset),
                Asset = transfer.Asset,
                Amount = transfer.Amount,
                Kind = Leave,
                Reference = transfer.Reference,
            };
            var result = (await _ledger.CreateTransfersAsync(unitOfWork, [leave], ct).ConfigureAwait(false))[0];
            if (result != CreateTransferResult.Created)
            {
                throw new AnpmException($"Confirming outgoing transfer '{request.Id}' could not release its tokens: {result}; the ledger and the outbox disagree.");
            }

            await unitOfWork.Outbox.UpdateOutgoingAsync(
                transfer with { State = OutgoingTransferState.Confirmed, ExternalReference = request.Reference.Length > 0 ? request.Reference : transfer.ExternalReference },
                transfer.Version,
                ct).ConfigureAwait(false);
            foreach (var observer in _observers)
            {
                await observer.OnConfirmedAsync(unitOfWork, transfer, request.Outbox, ct).ConfigureAwait(false);
            }

            return ConfirmResult.Confirmed;
        }
    }

    /// <summary>
    /// Records, in the caller's unit of work, that the chain refused a transfer (its payment was mined and reverted): it
    /// moves to <see cref="OutgoingTransferState.FailedOnChain"/>, is never sent again by itself, and its tokens stay in
    /// the in-flight account until an operator retries it (<see cref="RetryFailedAsync(TransferId, CancellationToken)"/>) or returns them
    /// (<see cref="ReturnFailedAsync(TransferId, CancellationToken)"/>).
    /// </summary>
    /// <param name="unitOfWork">The caller's unit of work; the caller commits.</param>
    /// <param name="id">The outgoing transfer.</param>
    /// <param name="externalReference">The gateway's reference of the failed payment (e.g. the reverted transaction's hash).</param>
    /// <param name="cancellationToken">Cancels the command.</param>
    public async ValueTask<FailedTransferResult> FailOnChainAsync(IAnpmUnitOfWork unitOfWork, TransferId id, string externalReference, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(unitOfWork);
        var transfer = await unitOfWork.Outbox.GetOutgoingAsync(id, cancellationToken).ConfigureAwait(false);
        switch (transfer?.State)
        {
            case null:
                return FailedTransferResult.NotFound;
            case OutgoingTransferState.FailedOnChain:
                return FailedTransferResult.AlreadyDone;
            case OutgoingTransferState.Pending or OutgoingTransferState.Dispatched:
                await unitOfWork.Outbox.UpdateOutgoingAsync(
                    transfer with { State = OutgoingTransferState.FailedOnChain, ExternalReference = externalReference ?? transfer.ExternalReference },
                    transfer.Version, cancellationToken).ConfigureAwait(false);
                return FailedTransferResult.Done;
            default:
                return FailedTransferResult.WrongState;
        }
    }

    /// <summary>
    /// An operator sends a failed transfer again (e.g. once the token unpaused the recipient): it is pending and due now;
    /// its tokens never left the in-flight account.
    /// </summary>
    /// <param name="id">The failed transfer.</param>
    /// <param name="cancellationToken">Cancels the command.</param>
    public ValueTask<FailedTransferResult> RetryFailedAsync(TransferId id, CancellationToken cancellationToken = default) =>
        RetryFailedAsync(id, null, cancellationToken);

    /// <summary>
    /// An operator sends a failed transfer again, with its audit trail: the event <c>payout.retried</c> naming
    /// <paramref name="audit"/>'s operator and reason is written in the same unit of work.
    /// </summary>
    /// <param name="id">The failed transfer.</param>
    /// <param name="audit">Who retries it and why; <see langword="null"/> writes no event.</param>
    /// <param name="cancellationToken">Cancels the command.</param>
    public ValueTask<FailedTransferResult> RetryFailedAsync(TransferId id, OperatorAction? audit, CancellationToken cancellationToken = default) =>
        _store.RunAsync((Service: this, Id: id, Audit: audit), static (unitOfWork, retry, ct) =>
            retry.Service.RetryFailedAsync(unitOfWork, retry.Id, retry.Audit, ct), cancellationToken);

    /// <summary>The same command inside the caller's unit of work, which the caller commits (or ends uncommitted: then nothing of it is kept).</summary>
    public async ValueTask<FailedTransferResult> RetryFailedAsync(IAnpmUnitOfWork unitOfWork, TransferId id, OperatorAction? audit, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(unitOfWork);
        var now = _timeProvider.GetUtcNow();
        var transfer = await unitOfWork.Outbox.GetOutgoingAsync(id, cancellationToken).ConfigureAwait(false);
        if (transfer is null)
        {
            return FailedTransferResult.NotFound;
        }

        if (transfer.State != OutgoingTransferState.FailedOnChain)
        {
            return FailedTransferResult.WrongState;
        }

        await unitOfWork.Outbox.UpdateOutgoingAsync(transfer with { State = OutgoingTransferState.Pending, NextAttemptAt = now }, transfer.Version, cancellationToken)
            .ConfigureAwait(false);
        await AuditAsync(unitOfWork, AnpmEventTypes.PayoutRetried, transfer, audit, now, cancellationToken).ConfigureAwait(false);
        return FailedTransferResult.Done;
    }

    // The operator's action as an event in the unit of work of the change (keyed by the transfer's version: a transfer
    // retried, failed and retried again gets one event each time).
    private static async ValueTask AuditAsync(IAnpmUnitOfWork unitOfWork, string type, OutgoingTransfer transfer, OperatorAction? audit, DateTimeOffset now, CancellationToken ct)
    {
        if (audit is null)
        {
            return;
        }

        await unitOfWork.Events.AppendAsync(type, transfer.Id + ":" + transfer.Version.ToString(System.Globalization.CultureInfo.InvariantCulture), new System.Text.Json.Nodes.JsonObject
        {
            ["transferId"] = transfer.Id.ToString(), ["to"] = transfer.To.ToString(), ["amount"] = transfer.Amount.ToString(), ["by"] = audit.By.ToString(), ["reason"] = audit.Reason,
        }, now, ct).ConfigureAwait(false);
    }

    /// <summary>
    /// An operator gives up on a failed transfer: its tokens go back from the in-flight account to the account they came
    /// from (the debit account of the move that enqueued it) and it is <see cref="OutgoingTransferState.Returned"/>, final.
    /// The obligation it paid is the operator's to settle (e.g. a new transfer under a new id).
    /// </summary>
    /// <param name="id">The failed transfer.</param>
    /// <param name="cancellationToken">Cancels the command.</param>
    public ValueTask<FailedTransferResult> ReturnFailedAsync(TransferId id, CancellationToken cancellationToken = default) =>
        ReturnFailedAsync(id, null, cancellationToken);

    /// <summary>
    /// An operator gives up on a failed transfer (see <see cref="ReturnFailedAsync(TransferId, CancellationToken)"/>), with
    /// its audit trail: the event <c>payout.returned</c> naming <paramref name="audit"/>'s operator and reason, written
    /// with the ledger's move back in one unit of work.
    /// </summary>
    /// <param name="id">The failed transfer.</param>
    /// <param name="audit">Who returns it and why; <see langword="null"/> writes no event.</param>
    /// <param name="cancellationToken">Cancels the command.</param>
    public ValueTask<FailedTransferResult> ReturnFailedAsync(TransferId id, OperatorAction? audit, CancellationToken cancellationToken = default) =>
        _store.RunAsync((Service: this, Id: id, Audit: audit), static (unitOfWork, request, ct) =>
            request.Service.ReturnFailedAsync(unitOfWork, request.Id, request.Audit, ct), cancellationToken);

    /// <summary>The same command inside the caller's unit of work, which the caller commits (or ends uncommitted: then nothing of it is kept).</summary>
    public async ValueTask<FailedTransferResult> ReturnFailedAsync(IAnpmUnitOfWork unitOfWork, TransferId id, OperatorAction? audit, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(unitOfWork);
        var transfer = await unitOfWork.Outbox.GetOutgoingAsync(id, cancellationToken).ConfigureAwait(false);
        if (transfer is null)
        {
            return FailedTransferResult.NotFound;
        }

        if (transfer.State == OutgoingTransferState.Returned)
        {
            return FailedTransferResult.AlreadyDone;
        }

        if (transfer.State != OutgoingTransferState.FailedOnChain)
        {
            return FailedTransferResult.WrongState;
        }

        var enqueued = await unitOfWork.Ledger.GetTransferAsync(id, cancellationToken).ConfigureAwait(false)
            ?? throw new AnpmException($"Returning outgoing transfer '{id}': the ledger has no move that enqueued it; the ledger and the outbox disagree.");
        var back = new TransferRequest
        {
            Id = TransferId.Derive("returned:", id.ToString()),
            DebitAccountId = SystemAccounts.OutboxInFlight(transfer.Asset),
            CreditAccountId = enqueued.DebitAccountId,
            Asset = transfer.Asset,
            Amount = transfer.Amount,
            Kind = Returned,
            Reference = transfer.Reference,
        };
        var result = (await _ledger.CreateTransfersAsync(unitOfWork, [back], cancellationToken).ConfigureAwait(false))[0];
        if (result != CreateTransferResult.Created)
        {
            throw new AnpmException($"Returning outgoing transfer '{id}' could not move its tokens back: {result}.");
        }

        await unitOfWork.Outbox.UpdateOutgoingAsync(transfer with { State = OutgoingTransferState.Returned }, transfer.Version, cancellationToken).ConfigureAwait(false);
        await AuditAsync(unitOfWork, AnpmEventTypes.PayoutReturned, transfer, audit, _timeProvider.GetUtcNow(), cancellationToken).ConfigureAwait(false);
        return FailedTransferResult.Done;
    }

    /// <summary>Outgoing transfers in a state (e.g. <see cref="OutgoingTransferState.FailedOnChain"/> for an operator), by id after <paramref name="after"/>.</summary>
    /// <param name="state">The state.</param>
    /// <param name="after">Only ids after this one (the previous page's last); <see langword="null"/> from the first.</param>
    /// <param name="limit">The most to return, 1 to 1,000.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    public ValueTask<IReadOnlyList<OutgoingTransfer>> ListAsync(OutgoingTransferState state, TransferId? after, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(limit, 1_000);
        return _store.RunReadAsync((State: state, After: after, Limit: limit), static (unitOfWork, query, ct) =>
            unitOfWork.Outbox.GetOutgoingInStateAsync(query.State, query.After, query.Limit, ct), cancellationToken);
    }

    private double Backoff(int attempts) =>
        Math.Min(_options.RetryMaxSeconds, _options.RetryBaseSeconds * Math.Pow(2, Math.Min(attempts - 1, 30)));

    [LoggerMessage(EventId = 1, Level = LogLevel.Warning, Message = "The token gateway failed to take outgoing transfer {TransferId} (attempt {Attempt}); it stays owed and is sent again after its back-off.")]
    private static partial void LogGatewayFailed(ILogger logger, Exception exception, TransferId transferId, int attempt);

    [LoggerMessage(EventId = 2, Level = LogLevel.Debug, Message = "Outgoing transfer {TransferId} changed meanwhile (another instance or a confirmation); its state wins.")]
    private static partial void LogChangedMeanwhile(ILogger logger, TransferId transferId);
}

/// <summary>Validates <see cref="OutboxOptions"/> (the dispatch batch, retries and confirmation timeout); registered with the package and run at start.</summary>
public sealed class OutboxOptionsValidator : IValidateOptions<OutboxOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, OutboxOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.DispatchBatchSize is < 1 or > 10_000 || options.RetryBaseSeconds < 1 || options.RetryMaxSeconds < options.RetryBaseSeconds || options.ConfirmationTimeoutSeconds < 1
            ? ValidateOptionsResult.Fail("OutboxOptions: DispatchBatchSize must be 1 to 10000; RetryBaseSeconds, ConfirmationTimeoutSeconds at least 1; RetryMaxSeconds at least RetryBaseSeconds.")
            : ValidateOptionsResult.Success;
    }
}
