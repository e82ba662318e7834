using System.Text;
using Anpm.Abstractions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Anpm.Credits;

/// <summary>What processing a token notice did.</summary>
public enum NoticeResult
{
    /// <summary>Applied now: <see cref="NoticeOutcome.Outcome"/> says what it did.</summary>
    Applied = 1,

    /// <summary>Processed before with the same payload; nothing changed now (the outcome is the first one).</summary>
    Replayed = 2,

    /// <summary>The message id was used for another payload; nothing changed (the outcome is that payload's).</summary>
    Conflict = 3,
}

/// <summary>The result of processing a token notice.</summary>
/// <param name="Outcome">What was done, as recorded (e.g. <c>contribution-paid</c>, <c>refunded:wrong-amount</c>).</param>
/// <param name="Result">Applied now, a replay, or a conflict.</param>
public sealed record NoticeOutcome(string Outcome, NoticeResult Result)
{
    /// <summary>The notice had been processed before with the same payload; nothing changed now.</summary>
    public bool IsReplay => Result == NoticeResult.Replayed;

    /// <summary>The message id had been used for another payload; nothing changed.</summary>
    public bool IsConflict => Result == NoticeResult.Conflict;
}

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

    internal TokenNoticeContext(IAnpmUnitOfWork unitOfWork, TokenNotice notice, DateTimeOffset now, DateTimeOffset paidAt, Ledger ledger, Outbox outbox)
    {
        UnitOfWork = unitOfWork;
        Notice = notice;
        Now = now;
        PaidAt = paidAt;
        _ledger = ledger;
        _outbox = outbox;
    }

    /// <summary>The processor's unit of work; commit is the processor's.</summary>
    public IAnpmUnitOfWork UnitOfWork { get; }

    /// <summary>The notice being applied.</summary>
    public TokenNotice Notice { get; }

    /// <summary>When it is processed (what it changes is dated then: revenue days, stakes, epochs).</summary>
    public DateTimeOffset Now { get; }

    /// <summary>
    /// When the tokens moved, if the gateway says so (e.g. the deposit's block time), else <see cref="Now"/>; never after
    /// it. The exchange rate, contribution windows and payment timeouts are judged at it, so the wait for finality never
    /// turns a timely payment into a late one.
    /// </summary>
    public DateTimeOffset PaidAt { get; }

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
            throw result.ToException($"Depositing notice '{Notice.MessageId}' into '{account}'");
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
            throw outcome.ToException($"Refunding notice '{Notice.MessageId}'");
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
public sealed partial class TokenNoticeProcessor
{
    private readonly IAnpmStore _store;
    private readonly Ledger _ledger;
    private readonly Outbox _outbox;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly Dictionary<string, ITokenNoticeHandler> _handlers = new(StringComparer.Ordinal);

    /// <summary>Creates the processor.</summary>
    /// <param name="store">The store.</param>
    /// <param name="ledger">The ledger over the same store.</param>
    /// <param name="outbox">Sends refunds.</param>
    /// <param name="timeProvider">The clock.</param>
    /// <param name="handlers">The handlers; no two may claim the same action.</param>
    /// <param name="logger">Where notices refunded because they would overflow the ledger are logged; nowhere when none is given.</param>
    /// <exception cref="ArgumentException">Two handlers claim one action.</exception>
    public TokenNoticeProcessor(IAnpmStore store, Ledger ledger, Outbox outbox, TimeProvider timeProvider, IEnumerable<ITokenNoticeHandler> handlers, ILogger<TokenNoticeProcessor>? logger = null)
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
        _logger = (ILogger?)logger ?? NullLogger.Instance;
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

    /// <summary>
    /// Applies a notice the caller has authenticated as the gateway's, in a unit of work of its own. A notice whose action
    /// would push a ledger account past its totals (<see cref="LedgerOverflowException"/>) is refunded instead, in a second
    /// unit of work: the tokens arrived, so they either do what the notice asked or go back — never stay half applied.
    /// </summary>
    /// <param name="notice">The notice (its <see cref="TokenNotice.ReceivedAt"/> and <see cref="TokenNotice.Outcome"/> are ignored).</param>
    /// <param name="cancellationToken">Cancels the command.</param>
    /// <exception cref="ArgumentException">The message id is empty, longer than 256 characters or holds control characters.</exception>
    public ValueTask<NoticeOutcome> ApplyAsync(TokenNotice notice, CancellationToken cancellationToken = default) =>
        ApplyAsync(notice, paidAt: null, cancellationToken);

    /// <summary>
    /// <see cref="ApplyAsync(TokenNotice, CancellationToken)"/> for tokens that moved at <paramref name="paidAt"/> (e.g. a
    /// deposit's block time): contribution windows, payment timeouts and the exchange rate are judged then — never later
    /// than now (<see cref="TokenNoticeContext.PaidAt"/>) — so the wait for finality does not turn a timely payment into a late one.
    /// </summary>
    /// <param name="notice">The notice.</param>
    /// <param name="paidAt">When the tokens moved, by the token's own clock; <see langword="null"/>: when it is processed.</param>
    /// <param name="cancellationToken">Cancels the command.</param>
    /// <exception cref="ArgumentException">The message id is empty, longer than 256 characters or holds control characters.</exception>
    public async ValueTask<NoticeOutcome> ApplyAsync(TokenNotice notice, DateTimeOffset? paidAt, CancellationToken cancellationToken = default)
    {
        CheckMessageId(notice);
        try
        {
            return await _store.RunAsync((Processor: this, Notice: notice, PaidAt: paidAt), static (unitOfWork, request, ct) =>
                request.Processor.ApplyInAsync(unitOfWork, request.Notice, request.PaidAt, refundReason: null, ct), cancellationToken).ConfigureAwait(false);
        }
        catch (LedgerOverflowException)
        {
            var refunded = await _store.RunAsync((Processor: this, Notice: notice, PaidAt: paidAt), static (unitOfWork, request, ct) =>
                request.Processor.ApplyInAsync(unitOfWork, request.Notice, request.PaidAt, refundReason: "ledger-overflow", ct), cancellationToken).ConfigureAwait(false);
            LogOverflowRefunded(_logger, notice.MessageId, notice.Sender, notice.Quantity, notice.Action);
            return refunded;
        }
    }

    [LoggerMessage(EventId = 301, Level = LogLevel.Warning, Message = "Token notice {MessageId} ({Action} of {Quantity} base units from {Sender}) would overflow the ledger; it is refunded to the sender.")]
    private static partial void LogOverflowRefunded(ILogger logger, string messageId, Address sender, TokenAmount quantity, string action);

    /// <summary>
    /// Applies a notice in the caller's unit of work, e.g. together with the token transfer that caused it (an in-process
    /// token), so the two commit or roll back as one. A <see cref="LedgerOverflowException"/> propagates: the caller's unit
    /// of work rolls back, the token transfer with it.
    /// </summary>
    /// <param name="unitOfWork">The caller's unit of work; the caller commits.</param>
    /// <param name="notice">The notice.</param>
    /// <param name="cancellationToken">Cancels the command.</param>
    /// <exception cref="ArgumentException">The message id is empty, longer than 256 characters or holds control characters.</exception>
    public ValueTask<NoticeOutcome> ApplyAsync(IAnpmUnitOfWork unitOfWork, TokenNotice notice, CancellationToken cancellationToken = default) =>
        ApplyAsync(unitOfWork, notice, paidAt: null, cancellationToken);

    /// <summary>
    /// <see cref="ApplyAsync(IAnpmUnitOfWork, TokenNotice, CancellationToken)"/> for tokens that moved at
    /// <paramref name="paidAt"/>, judged then (never later than now); see <see cref="ApplyAsync(TokenNotice, DateTimeOffset?, CancellationToken)"/>.
    /// </summary>
    /// <param name="unitOfWork">The caller's unit of work; the caller commits.</param>
    /// <param name="notice">The notice.</param>
    /// <param name="paidAt">When the tokens moved, by the token's own clock; <see langword="null"/>: when it is processed.</param>
    /// <param name="cancellationToken">Cancels the command.</param>
    /// <exception cref="ArgumentException">The message id is empty, longer than 256 characters or holds control characters.</exception>
    public ValueTask<NoticeOutcome> ApplyAsync(IAnpmUnitOfWork unitOfWork, TokenNotice notice, DateTimeOffset? paidAt, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(unitOfWork);
        CheckMessageId(notice);
        return ApplyInAsync(unitOfWork, notice, paidAt, refundReason: null, cancellationToken);
    }

    /// <summary>
    /// Records a notice as refunded in the caller's unit of work: its tokens go back to the sender whatever it asked. What
    /// <see cref="ApplyAsync(TokenNotice, DateTimeOffset?, CancellationToken)"/> does in its second unit of work when
    /// applying the notice would overflow the ledger — for a caller whose first unit of work ended uncommitted on
    /// <see cref="LedgerOverflowException"/>. Idempotent by message id like applying.
    /// </summary>
    /// <param name="unitOfWork">The caller's unit of work; the caller commits.</param>
    /// <param name="notice">The notice.</param>
    /// <param name="reason">Why it is refunded, recorded in its outcome (e.g. <c>ledger-overflow</c>).</param>
    /// <param name="paidAt">When the tokens moved; <see langword="null"/>: when it is processed.</param>
    /// <param name="cancellationToken">Cancels the command.</param>
    /// <exception cref="ArgumentException">The message id is empty, longer than 256 characters or holds control characters.</exception>
    public ValueTask<NoticeOutcome> RefundAsync(IAnpmUnitOfWork unitOfWork, TokenNotice notice, string reason, DateTimeOffset? paidAt = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(unitOfWork);
        ArgumentException.ThrowIfNullOrEmpty(reason);
        CheckMessageId(notice);
        return ApplyInAsync(unitOfWork, notice, paidAt, reason, cancellationToken);
    }

    private static void CheckMessageId(TokenNotice notice)
    {
        ArgumentNullException.ThrowIfNull(notice);
        if (!TokenNotice.IsValidMessageId(notice.MessageId))
        {
            throw new ArgumentException("A notice's message id is 1 to 256 characters without control characters.", nameof(notice));
        }
    }

    private async ValueTask<NoticeOutcome> ApplyInAsync(IAnpmUnitOfWork unitOfWork, TokenNotice notice, DateTimeOffset? paidAt, string? refundReason, CancellationToken ct)
    {
        var existing = await unitOfWork.Notices.GetNoticeAsync(notice.MessageId, ct).ConfigureAwait(false);
        if (existing is not null)
        {
            return existing.HasSamePayload(notice)
                ? new NoticeOutcome(existing.Outcome, NoticeResult.Replayed)
                : new NoticeOutcome(existing.Outcome, NoticeResult.Conflict);
        }

        var now = _timeProvider.GetUtcNow();
        var context = new TokenNoticeContext(unitOfWork, notice, now, paidAt is { } paid && paid < now ? paid : now, _ledger, _outbox);
        var outcome = refundReason is null
            ? await RouteAsync(context, ct).ConfigureAwait(false)
            : await RefundOnlyAsync(context, refundReason, ct).ConfigureAwait(false);
        var record = notice with { ReceivedAt = now, Outcome = outcome };
        if (!await unitOfWork.Notices.TryInsertNoticeAsync(record, ct).ConfigureAwait(false))
        {
            throw new AnpmConcurrencyException($"Notice '{notice.MessageId}' was processed by another unit of work at the same time; retry.");
        }

        return new NoticeOutcome(outcome, NoticeResult.Applied);
    }

    private async ValueTask<string> RefundOnlyAsync(TokenNoticeContext context, string reason, CancellationToken cancellationToken)
    {
        await EnsureSystemAccountsAsync(context.UnitOfWork, cancellationToken).ConfigureAwait(false);
        return await context.RefundAsync(context.Notice.Quantity, reason, cancellationToken).ConfigureAwait(false);
    }

    private async ValueTask EnsureSystemAccountsAsync(IAnpmUnitOfWork unitOfWork, CancellationToken cancellationToken)
    {
        foreach (var created in await _ledger.CreateAccountsAsync(unitOfWork, SystemAccounts.For(WellKnownAssets.Apus), cancellationToken).ConfigureAwait(false))
        {
            if (!created.IsSuccess())
            {
                throw new AnpmException($"The token's system accounts could not be created: {created}.");
            }
        }
    }

    private async ValueTask<string> RouteAsync(TokenNoticeContext context, CancellationToken cancellationToken)
    {
        if (context.Notice.Quantity.IsZero)
        {
            return "ignored:zero-quantity";
        }

        await EnsureSystemAccountsAsync(context.UnitOfWork, cancellationToken).ConfigureAwait(false);
        return _handlers.TryGetValue(context.Notice.Action, out var handler)
            ? await handler.HandleAsync(context, cancellationToken).ConfigureAwait(false)
            : await context.RefundAsync(context.Notice.Quantity, "unknown-action", cancellationToken).ConfigureAwait(false);
    }
}
