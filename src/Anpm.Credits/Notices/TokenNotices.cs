using System.Text;
using Anpm.Abstractions;

namespace Anpm.Credits;

/// <summary>The result of processing a token notice.</summary>
/// <param name="Outcome">What was done, as recorded (e.g. <c>contribution-paid</c>, <c>refunded:wrong-amount</c>).</param>
/// <param name="IsReplay">The notice had been processed before with the same payload; nothing changed now.</param>
/// <param name="IsConflict">The message id had been used for another payload; nothing changed.</param>
public sealed record NoticeOutcome(string Outcome, bool IsReplay, bool IsConflict);

/// <summary>
/// Applies the token notices of some actions (e.g. <c>Contribute</c>, <c>Buy-Credits</c>, <c>Stake</c>) inside the
/// <see cref="TokenNoticeProcessor"/>'s unit of work. A handler owns every token of the notices it is given: it credits
/// them somewhere or refunds them (<see cref="TokenNoticeContext.RefundAsync"/>) — never drops them.
/// </summary>
public interface ITokenNoticeHandler
{
    /// <summary>The actions this handler applies (case-sensitive, as the gateway sends them).</summary>
    IReadOnlyCollection<string> Actions { get; }

    /// <summary>Applies a notice whose tokens arrived (quantity above zero).</summary>
    /// <param name="context">The unit of work, the notice, and the refund and deposit helpers.</param>
    /// <param name="cancellationToken">Cancels the work; nothing is kept then.</param>
    /// <returns>The outcome code recorded with the notice.</returns>
    ValueTask<string> HandleAsync(TokenNoticeContext context, CancellationToken cancellationToken);
}

/// <summary>What a <see cref="ITokenNoticeHandler"/> works with: the unit of work, the notice and ledger helpers.</summary>
public sealed class TokenNoticeContext
{
    private static readonly TransferKind RefundKind = TransferKind.Parse("refund");
    private readonly Ledger _ledger;
    private readonly Outbox _outbox;

    internal TokenNoticeContext(IAnpmUnitOfWork unitOfWork, TokenNotice notice, DateTimeOffset now, Ledger ledger, Outbox outbox)
    {
        UnitOfWork = unitOfWork;
        Notice = notice;
        Now = now;
        _ledger = ledger;
        _outbox = outbox;
    }

    /// <summary>The processor's unit of work; commit is the processor's.</summary>
    public IAnpmUnitOfWork UnitOfWork { get; }

    /// <summary>The notice being applied.</summary>
    public TokenNotice Notice { get; }

    /// <summary>When it is processed (the time rates and windows are judged at).</summary>
    public DateTimeOffset Now { get; }

    /// <summary>
    /// A ledger transfer id derived from the message id and <paramref name="purpose"/> (e.g. <c>in</c>, <c>refund</c>),
    /// so a notice can never post twice.
    /// </summary>
    public TransferId TransferIdFor(string purpose) =>
        TransferId.Parse($"notice:{Convert.ToHexStringLower(Keccak256.Hash(Encoding.UTF8.GetBytes(Notice.MessageId)))[..40]}:{purpose}");

    /// <summary>
    /// Moves <paramref name="amount"/> of the notice's tokens from issuance into <paramref name="account"/> (created on
    /// first use, never negative) with ledger id <see cref="TransferIdFor"/>(<c>"in"</c>).
    /// </summary>
    /// <exception cref="AnpmException">The ledger refused it (the account holds another asset).</exception>
    public async ValueTask DepositAsync(AccountId account, TokenAmount amount, TransferKind kind, CancellationToken cancellationToken)
    {
        await EnsureAccountAsync(account, cancellationToken).ConfigureAwait(false);
        var result = (await _ledger.CreateTransfersAsync(UnitOfWork,
        [
            new TransferRequest
            {
                Id = TransferIdFor("in"),
                DebitAccountId = SystemAccounts.Issuance(WellKnownAssets.Apus),
                CreditAccountId = account,
                Asset = WellKnownAssets.Apus,
                Amount = amount,
                Kind = kind,
                Reference = Notice.MessageId,
            },
        ], cancellationToken).ConfigureAwait(false))[0];
        if (result == CreateTransferResult.Exists)
        {
            throw new AnpmConcurrencyException($"Notice '{Notice.MessageId}' was applied by a concurrent unit of work; retry.");
        }

        if (result != CreateTransferResult.Created)
        {
            throw new AnpmException($"Depositing notice '{Notice.MessageId}' into '{account}' failed: {result}.");
        }
    }

    /// <summary>
    /// Refunds <paramref name="amount"/> of the notice's tokens to its sender: they enter the ledger straight into the
    /// outbox, owed back (ledger and outbox id <see cref="TransferIdFor"/>(<c>"refund"</c>); one refund per notice).
    /// </summary>
    /// <returns><c>refunded:</c> + <paramref name="reason"/>, the outcome to record.</returns>
    public async ValueTask<string> RefundAsync(TokenAmount amount, string reason, CancellationToken cancellationToken)
    {
        var outcome = await _outbox.EnqueueAsync(UnitOfWork, TransferIdFor("refund"), SystemAccounts.Issuance(WellKnownAssets.Apus),
            Notice.Sender, WellKnownAssets.Apus, amount, RefundKind, Notice.MessageId, cancellationToken).ConfigureAwait(false);
        if (outcome.Result == EnqueueResult.Exists)
        {
            throw new AnpmConcurrencyException($"Notice '{Notice.MessageId}' was refunded by a concurrent unit of work; retry.");
        }

        if (outcome.Result != EnqueueResult.Enqueued)
        {
            throw new AnpmException($"Refunding notice '{Notice.MessageId}' failed: {outcome.Result} ({outcome.LedgerResult}).");
        }

        return "refunded:" + reason;
    }

    /// <summary>Creates a never-negative token account unless it exists.</summary>
    public async ValueTask EnsureAccountAsync(AccountId account, CancellationToken cancellationToken)
    {
        var created = await _ledger.CreateAccountsAsync(UnitOfWork, [new NewAccount(account, WellKnownAssets.Apus, AccountFlags.DebitsMustNotExceedCredits)], cancellationToken).ConfigureAwait(false);
        if (!created[0].IsSuccess())
        {
            throw new AnpmException($"Account '{account}' could not be created: {created[0]}.");
        }
    }
}

/// <summary>
/// Processes token notices (the gateway's credit notices) that the caller has authenticated as the gateway's: idempotent by
/// message id (the same payload replays the recorded outcome; another payload under a used id is a conflict), each in one
/// unit of work with the notice's record; routed by action to the registered <see cref="ITokenNoticeHandler"/>s. A notice
/// of an action nobody handles is refunded to its sender — tokens are never kept without an owner.
/// </summary>
public sealed class TokenNoticeProcessor
{
    private readonly IAnpmStore _store;
    private readonly Ledger _ledger;
    private readonly Outbox _outbox;
    private readonly TimeProvider _timeProvider;
    private readonly Dictionary<string, ITokenNoticeHandler> _handlers = new(StringComparer.Ordinal);

    /// <summary>Creates the processor.</summary>
    /// <param name="store">The store.</param>
    /// <param name="ledger">The ledger over the same store.</param>
    /// <param name="outbox">Sends refunds.</param>
    /// <param name="timeProvider">The clock.</param>
    /// <param name="handlers">The handlers; no two may claim the same action.</param>
    /// <exception cref="ArgumentException">Two handlers claim one action.</exception>
    public TokenNoticeProcessor(IAnpmStore store, Ledger ledger, Outbox outbox, TimeProvider timeProvider, IEnumerable<ITokenNoticeHandler> handlers)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(ledger);
        ArgumentNullException.ThrowIfNull(outbox);
        ArgumentNullException.ThrowIfNull(timeProvider);
        ArgumentNullException.ThrowIfNull(handlers);
        _store = store;
        _ledger = ledger;
        _outbox = outbox;
        _timeProvider = timeProvider;
        foreach (var handler in handlers)
        {
            foreach (var action in handler.Actions)
            {
                if (!_handlers.TryAdd(action, handler))
                {
                    throw new ArgumentException($"Token notice action '{action}' is claimed by both {_handlers[action].GetType().Name} and {handler.GetType().Name}.", nameof(handlers));
                }
            }
        }
    }

    /// <summary>The actions some handler applies.</summary>
    public IReadOnlyCollection<string> Actions => _handlers.Keys;

    /// <summary>Applies a notice the caller has authenticated as the gateway's.</summary>
    /// <param name="notice">The notice (its <see cref="TokenNotice.ReceivedAt"/> and <see cref="TokenNotice.Outcome"/> are ignored).</param>
    /// <param name="cancellationToken">Cancels the command.</param>
    /// <exception cref="ArgumentException">The message id is empty, longer than 256 characters or holds control characters.</exception>
    public ValueTask<NoticeOutcome> ApplyAsync(TokenNotice notice, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(notice);
        if (!TokenNotice.IsValidMessageId(notice.MessageId))
        {
            throw new ArgumentException("A notice's message id is 1 to 256 characters without control characters.", nameof(notice));
        }

        return _store.RunAsync((Processor: this, Notice: notice), static async (unitOfWork, request, ct) =>
        {
            var existing = await unitOfWork.Notices.GetNoticeAsync(request.Notice.MessageId, ct).ConfigureAwait(false);
            if (existing is not null)
            {
                return existing.HasSamePayload(request.Notice)
                    ? new NoticeOutcome(existing.Outcome, IsReplay: true, IsConflict: false)
                    : new NoticeOutcome(existing.Outcome, IsReplay: false, IsConflict: true);
            }

            var processor = request.Processor;
            var now = processor._timeProvider.GetUtcNow();
            var outcome = await processor.RouteAsync(new TokenNoticeContext(unitOfWork, request.Notice, now, processor._ledger, processor._outbox), ct).ConfigureAwait(false);
            var record = request.Notice with { ReceivedAt = now, Outcome = outcome };
            if (!await unitOfWork.Notices.TryInsertNoticeAsync(record, ct).ConfigureAwait(false))
            {
                throw new AnpmConcurrencyException($"Notice '{request.Notice.MessageId}' was processed by another unit of work at the same time; retry.");
            }

            return new NoticeOutcome(outcome, IsReplay: false, IsConflict: false);
        }, cancellationToken);
    }

    private async ValueTask<string> RouteAsync(TokenNoticeContext context, CancellationToken cancellationToken)
    {
        if (context.Notice.Quantity.IsZero)
        {
            return "ignored:zero-quantity";
        }

        foreach (var created in await _ledger.CreateAccountsAsync(context.UnitOfWork, SystemAccounts.For(WellKnownAssets.Apus), cancellationToken).ConfigureAwait(false))
        {
            if (!created.IsSuccess())
            {
                throw new AnpmException($"The token's system accounts could not be created: {created}.");
            }
        }

        return _handlers.TryGetValue(context.Notice.Action, out var handler)
            ? await handler.HandleAsync(context, cancellationToken).ConfigureAwait(false)
            : await context.RefundAsync(context.Notice.Quantity, "unknown-action", cancellationToken).ConfigureAwait(false);
    }
}
