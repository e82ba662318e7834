using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using Anpm.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Anpm.Credits;

/// <summary>Options of the <see cref="CreditService"/>.</summary>
public sealed class CreditOptions
{
    /// <summary>Where the daily token revenue of credit sales is sent. Required by <see cref="CreditService.SendDailyRevenueAsync"/>.</summary>
    public Address? Treasury { get; set; }
}

/// <summary>Validates <see cref="CreditOptions"/>: a treasury, when set, is not the zero address (revenue sent there is burned).</summary>
public sealed class CreditOptionsValidator : IValidateOptions<CreditOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, CreditOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.Treasury is { IsZero: true }
            ? ValidateOptionsResult.Fail("CreditOptions.Treasury is the zero address: the daily revenue would be burned. Set the treasury's address, or leave it unset.")
            : ValidateOptionsResult.Success;
    }
}

/// <summary>The outcome of setting an exchange rate.</summary>
public enum SetExchangeRateResult
{
    /// <summary>The rate was added to the schedule.</summary>
    Set = 1,

    /// <summary>The same rate was set before (an idempotent replay).</summary>
    Exists = 2,

    /// <summary>Another rate takes effect at that instant; nothing changed.</summary>
    Conflict = 3,

    /// <summary>A value is zero, or the effective time is in the past (purchases already made keep their rate).</summary>
    Invalid = 4,
}

/// <summary>The result of <see cref="CreditService.SetExchangeRateAsync(Address, TokenAmount, TokenAmount, DateTimeOffset?, CancellationToken)"/>.</summary>
public sealed record SetExchangeRateOutcome(SetExchangeRateResult Result, ExchangeRate? Rate, string? Error)
{
    /// <summary>Whether the rate was refused; then <see cref="Error"/> says why, and nothing changed.</summary>
    [MemberNotNullWhen(true, nameof(Error))]
    [MemberNotNullWhen(false, nameof(Rate))]
    public bool IsRefused => Result is not (SetExchangeRateResult.Set or SetExchangeRateResult.Exists);
}

/// <summary>The outcome of moving credits between an account and a pool.</summary>
public enum CreditTransferResult
{
    /// <summary>Moved.</summary>
    Moved = 1,

    /// <summary>The same move was made before under this id (an idempotent replay); nothing changed now.</summary>
    Exists = 2,

    /// <summary>The id was used for another move; nothing changed.</summary>
    IdTaken = 3,

    /// <summary>The source holds fewer credits than the amount.</summary>
    InsufficientCredits = 4,

    /// <summary>The pool takes no credits in now: its <see cref="IPoolCreditGate"/> refused (with Anpm.Pools: the pool is not Active).</summary>
    PoolNotActive = 5,

    /// <summary>The amount is zero.</summary>
    InvalidAmount = 6,

    /// <summary>The system is paused.</summary>
    SystemPaused = 7,

    /// <summary>The amount would push a ledger account past its 128-bit totals; nothing changed.</summary>
    AmountTooLarge = 8,

    /// <summary>There is no such pool.</summary>
    PoolNotFound = 9,
}

/// <summary>The result of a credit move, with both balances after it.</summary>
public sealed record CreditTransferOutcome(CreditTransferResult Result, TokenAmount AccountCredits, TokenAmount PoolCredits, string? Error)
{
    /// <summary>Whether the move was refused; then <see cref="Error"/> says why, and nothing changed.</summary>
    [MemberNotNullWhen(true, nameof(Error))]
    public bool IsRefused => Result is not (CreditTransferResult.Moved or CreditTransferResult.Exists);
}

/// <summary>
/// Credits: bought with the token by <c>Buy-Credits</c> notices at the exchange rate in force (credits =
/// floor(quantity × credits / tokenUnits); the token becomes the day's revenue), moved between an account and its
/// balance in a pool, and read with their history. The token revenue goes to the treasury once per UTC day
/// (<see cref="SendDailyRevenueAsync"/>). Every move is a ledger transfer: credits come from <c>issuance:CREDIT</c>
/// and can never go negative.
/// </summary>
public sealed partial class CreditService : ITokenNoticeHandler
{
    /// <summary>The transfer kinds of credits: bought, moved to a pool, withdrawn from it.</summary>
    public static TransferKind PurchaseKind { get; } = TransferKind.Parse("purchase");

    /// <inheritdoc cref="PurchaseKind"/>
    public static TransferKind TransferKind { get; } = TransferKind.Parse("transfer");

    /// <inheritdoc cref="PurchaseKind"/>
    public static TransferKind WithdrawKind { get; } = TransferKind.Parse("withdraw");

    /// <summary>The kind of the token revenue's deposits and of its daily transfers to the treasury.</summary>
    public static TransferKind RevenueKind { get; } = TransferKind.Parse("revenue");

    private const string RevenueCheckpoint = "revenue:APUS";
    private readonly IAnpmStore _store;
    private readonly Ledger _ledger;
    private readonly Outbox _outbox;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly IPoolCreditGate _poolGate;
    private readonly CreditGrantService _grants;
    private readonly BalanceAlertService _alerts;
    private readonly CreditOptions _options;

    /// <summary>Creates the service.</summary>
    /// <param name="store">The store.</param>
    /// <param name="ledger">The ledger over the same store.</param>
    /// <param name="outbox">Sends the daily revenue and refunds.</param>
    /// <param name="options">The treasury.</param>
    /// <param name="timeProvider">The clock.</param>
    /// <param name="logger">Where the revenue sent to the treasury is logged; nowhere when none is given.</param>
    /// <param name="poolGate">Whether a pool lets credits move in or out now (Anpm.Pools' registry, which <c>AddPools</c> registers); without one every pool that exists does.</param>
    /// <param name="grants">Records purchased credits as the account's paid grant; one over the same store, ledger and clock when none is given.</param>
    /// <param name="alerts">Judges low-balance alerts after a move; one over the same store and clock when none is given.</param>
    public CreditService(
        IAnpmStore store, Ledger ledger, Outbox outbox, IOptions<CreditOptions> options, TimeProvider timeProvider, ILogger<CreditService>? logger = null, IPoolCreditGate? poolGate = null,
        CreditGrantService? grants = null, BalanceAlertService? alerts = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(ledger);
        ArgumentNullException.ThrowIfNull(outbox);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(timeProvider);
        _store = store;
        _ledger = ledger;
        _outbox = outbox;
        _timeProvider = timeProvider;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _poolGate = poolGate ?? ExistingPools.Instance;
        _grants = grants ?? new CreditGrantService(store, ledger, timeProvider);
        _alerts = alerts ?? new BalanceAlertService(store, timeProvider);
        _options = ValidatedOptions.Value(options, new CreditOptionsValidator());
    }

    /// <inheritdoc />
    public IReadOnlyCollection<string> Actions { get; } = ["Buy-Credits"];

    /// <summary>The latest time a rate may take effect (the end of the year 9998, so date arithmetic never leaves the calendar).</summary>
    public static readonly DateTimeOffset LatestEffectiveAt = new(9998, 12, 31, 23, 59, 59, TimeSpan.Zero);

    /// <summary>
    /// Adds a rate to the schedule (the caller checked the feeder or admin role): from <paramref name="effectiveAt"/> on
    /// (now when null), <paramref name="tokenUnits"/> token base units buy <paramref name="credits"/> credits. A time in
    /// the past is refused, so purchases already made never change meaning.
    /// </summary>
    public ValueTask<SetExchangeRateOutcome> SetExchangeRateAsync(Address setBy, TokenAmount credits, TokenAmount tokenUnits, DateTimeOffset? effectiveAt, CancellationToken cancellationToken = default) =>
        _store.RunAsync((Service: this, SetBy: setBy, Credits: credits, TokenUnits: tokenUnits, EffectiveAt: effectiveAt), static (unitOfWork, r, ct) => r.Service.SetExchangeRateAsync(unitOfWork, r.SetBy, r.Credits, r.TokenUnits, r.EffectiveAt, ct), cancellationToken);

    /// <summary>The same command inside the caller's unit of work, which the caller commits (or ends uncommitted: then nothing of it is kept).</summary>
    public async ValueTask<SetExchangeRateOutcome> SetExchangeRateAsync(IAnpmUnitOfWork unitOfWork, Address setBy, TokenAmount credits, TokenAmount tokenUnits, DateTimeOffset? effectiveAt, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(unitOfWork);
        var now = _timeProvider.GetUtcNow();
        if (credits.IsZero || tokenUnits.IsZero)
        {
            return new SetExchangeRateOutcome(SetExchangeRateResult.Invalid, null, "An exchange rate needs credits and tokenUnits of at least 1.");
        }

        if (effectiveAt > LatestEffectiveAt)
        {
            return new SetExchangeRateOutcome(SetExchangeRateResult.Invalid, null, $"effectiveAt {effectiveAt:O} is after {LatestEffectiveAt:O}, the latest a rate may take effect.");
        }

        var rate = new ExchangeRate { Credits = credits, TokenUnits = tokenUnits, EffectiveAt = (effectiveAt ?? now).ToUniversalTime(), SetBy = setBy, SetAt = now };
        var existing = (await unitOfWork.ExchangeRates.ListRatesAsync(rate.EffectiveAt.AddTicks(1), 1, cancellationToken).ConfigureAwait(false)) is [var latest] && latest.EffectiveAt == rate.EffectiveAt ? latest : null;
        if (existing is not null)
        {
            var same = existing.Credits == rate.Credits && existing.TokenUnits == rate.TokenUnits && existing.SetBy == rate.SetBy;
            return same
                ? new SetExchangeRateOutcome(SetExchangeRateResult.Exists, existing, null)
                : new SetExchangeRateOutcome(SetExchangeRateResult.Conflict, existing, $"Another rate takes effect at {rate.EffectiveAt:O}.");
        }

        if (rate.EffectiveAt < now)
        {
            return new SetExchangeRateOutcome(SetExchangeRateResult.Invalid, null,
                $"effectiveAt {rate.EffectiveAt:O} is in the past (now {now:O}); a rate applies from now on.");
        }

        return await unitOfWork.ExchangeRates.TryInsertRateAsync(rate, cancellationToken).ConfigureAwait(false)
            ? new SetExchangeRateOutcome(SetExchangeRateResult.Set, rate, null)
            : throw new AnpmConcurrencyException($"A rate taking effect at {rate.EffectiveAt:O} was set at the same time; retry.");
    }

    /// <summary>The rate in force at <paramref name="at"/> (now when null).</summary>
    /// <returns>The rate, or <see langword="null"/> when none is in force.</returns>
    public ValueTask<ExchangeRate?> GetExchangeRateAsync(DateTimeOffset? at = null, CancellationToken cancellationToken = default) =>
        _store.RunReadAsync(at ?? _timeProvider.GetUtcNow(), static (unitOfWork, at, ct) => unitOfWork.ExchangeRates.GetRateInForceAsync(at, ct), cancellationToken);

    /// <summary>The schedule, latest effective time first (1 to 500 per page).</summary>
    public ValueTask<IReadOnlyList<ExchangeRate>> GetExchangeRateHistoryAsync(DateTimeOffset? before, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(limit, 500);
        return _store.RunReadAsync((Before: before, Limit: limit), static (unitOfWork, page, ct) => unitOfWork.ExchangeRates.ListRatesAsync(page.Before, page.Limit, ct), cancellationToken);
    }

    /// <summary>
    /// Applies a <c>Buy-Credits</c> notice (called by the <see cref="TokenNoticeProcessor"/>): the sender gets
    /// floor(quantity × credits / tokenUnits) credits at the rate in force now, and the token goes to the day's revenue.
    /// Refunded when the system is paused, no rate is in force, or the quantity buys less than one credit.
    /// </summary>
    public async ValueTask<string> HandleAsync(TokenNoticeContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var (unitOfWork, notice) = (context.UnitOfWork, context.Notice);
        if (await unitOfWork.System.IsPausedAsync(cancellationToken).ConfigureAwait(false))
        {
            return await context.RefundAsync(notice.Quantity, "system-paused", cancellationToken).ConfigureAwait(false);
        }

        var rate = await unitOfWork.ExchangeRates.GetRateInForceAsync(context.PaidAt, cancellationToken).ConfigureAwait(false);
        if (rate is null)
        {
            return await context.RefundAsync(notice.Quantity, "no-exchange-rate", cancellationToken).ConfigureAwait(false);
        }

        if (!notice.Quantity.TryMultiplyDivide(rate.Credits.BaseUnits, rate.TokenUnits.BaseUnits, out var credits, out _))
        {
            return await context.RefundAsync(notice.Quantity, "too-many-credits", cancellationToken).ConfigureAwait(false);
        }

        if (credits.IsZero)
        {
            return await context.RefundAsync(notice.Quantity, "below-one-credit", cancellationToken).ConfigureAwait(false);
        }

        // The revenue goes to the first day the daily job has not sent yet: normally today (the shared lock makes a job
        // moving past today wait for this purchase, or this purchase see the job's new checkpoint).
        var day = DateOnly.FromDateTime(context.Now.UtcDateTime);
        var checkpoint = await unitOfWork.Checkpoints.GetCheckpointAsync(RevenueCheckpoint, lockShared: true, cancellationToken).ConfigureAwait(false);
        if (checkpoint is null)
        {
            if (!await unitOfWork.Checkpoints.TryInsertCheckpointAsync(RevenueCheckpoint, day.DayNumber - 1, cancellationToken).ConfigureAwait(false))
            {
                throw new AnpmConcurrencyException("The revenue checkpoint was created at the same time; retry.");
            }
        }
        else if (checkpoint.Value >= day.DayNumber)
        {
            day = DateOnly.FromDayNumber((int)checkpoint.Value + 1);
        }

        await context.DepositAsync(CreditAccounts.Revenue(WellKnownAssets.Apus, day), notice.Quantity, RevenueKind, cancellationToken).ConfigureAwait(false);
        await EnsureCreditAccountsAsync(unitOfWork, [SystemAccounts.Issuance(WellKnownAssets.Credit), CreditAccounts.Of(notice.Sender)], cancellationToken).ConfigureAwait(false);
        var issued = (await _ledger.CreateTransfersAsync(unitOfWork,
        [
            new TransferRequest
            {
                Id = context.TransferIdFor("credits"),
                DebitAccountId = SystemAccounts.Issuance(WellKnownAssets.Credit),
                CreditAccountId = CreditAccounts.Of(notice.Sender),
                Asset = WellKnownAssets.Credit,
                Amount = credits,
                Kind = PurchaseKind,
                Reference = PurchaseReference(notice),
            },
        ], cancellationToken).ConfigureAwait(false))[0];
        if (issued == CreateTransferResult.Exists)
        {
            throw new AnpmConcurrencyException($"Notice '{notice.MessageId}' was applied by a concurrent unit of work; retry.");
        }

        if (issued != CreateTransferResult.Created)
        {
            throw issued.ToException($"Issuing the credits of notice '{notice.MessageId}'");
        }

        await _grants.AddPaidAsync(unitOfWork, notice.Sender, credits, context.Now, cancellationToken).ConfigureAwait(false); // purchased: a paid grant without expiry
        await unitOfWork.Events.AppendAsync(AnpmEventTypes.DepositCredited, notice.MessageId, new System.Text.Json.Nodes.JsonObject
        {
            ["messageId"] = notice.MessageId, ["account"] = notice.Sender.ToString(), ["credits"] = credits.ToString(), ["tokens"] = notice.Quantity.ToString(),
            ["reference"] = notice.Reference,
        }, context.Now, cancellationToken).ConfigureAwait(false);
        return "credits-bought:" + credits.BaseUnits.ToString(CultureInfo.InvariantCulture);
    }

    // The purchase's ledger reference: the buyer's own reference (an order id) when it gave one, then the notice's id —
    // both kept, within the ledger's 256 characters (the buyer's part is cut first). The ledger takes no control
    // characters, and the buyer's reference is the buyer's to write: each becomes a space here (the event keeps it whole).
    private static string PurchaseReference(TokenNotice notice)
    {
        if (notice.Reference.Length == 0)
        {
            return notice.MessageId;
        }

        var room = TransferRequest.MaxReferenceLength - notice.MessageId.Length - 3;
        if (room <= 0)
        {
            return notice.MessageId;
        }

        var own = notice.Reference.Length > room ? notice.Reference[..room] : notice.Reference;
        return string.Create(own.Length, own, static (text, source) =>
        {
            for (var i = 0; i < source.Length; i++)
            {
                text[i] = char.IsControl(source[i]) ? ' ' : source[i];
            }
        }) + " · " + notice.MessageId;
    }

    /// <summary>Moves credits from an account into its balance in an Active pool (idempotent by <paramref name="id"/>), in a unit of work of its own.</summary>
    public ValueTask<CreditTransferOutcome> TransferToPoolAsync(TransferId id, Address account, PoolId pool, TokenAmount amount, CancellationToken cancellationToken = default) =>
        RunMoveAsync(id, account, pool, amount, toPool: true, cancellationToken);

    /// <summary>
    /// Moves credits from an account into its balance in an Active pool (idempotent by <paramref name="id"/>) inside the
    /// caller's unit of work, which the caller commits (or ends uncommitted: then nothing moved).
    /// </summary>
    /// <exception cref="AnpmConcurrencyException">A concurrent unit of work made the same move first; run the command again.</exception>
    public ValueTask<CreditTransferOutcome> TransferToPoolAsync(IAnpmUnitOfWork unitOfWork, TransferId id, Address account, PoolId pool, TokenAmount amount, CancellationToken cancellationToken = default) =>
        MoveAsync(unitOfWork, id, account, pool, amount, toPool: true, cancellationToken);

    /// <summary>Moves credits from an account's balance in a pool back to the account (idempotent by <paramref name="id"/>), in a unit of work of its own.</summary>
    public ValueTask<CreditTransferOutcome> WithdrawFromPoolAsync(TransferId id, Address account, PoolId pool, TokenAmount amount, CancellationToken cancellationToken = default) =>
        RunMoveAsync(id, account, pool, amount, toPool: false, cancellationToken);

    /// <summary>
    /// Moves credits from an account's balance in a pool back to the account (idempotent by <paramref name="id"/>) inside
    /// the caller's unit of work, which the caller commits.
    /// </summary>
    /// <exception cref="AnpmConcurrencyException">A concurrent unit of work made the same move first; run the command again.</exception>
    public ValueTask<CreditTransferOutcome> WithdrawFromPoolAsync(IAnpmUnitOfWork unitOfWork, TransferId id, Address account, PoolId pool, TokenAmount amount, CancellationToken cancellationToken = default) =>
        MoveAsync(unitOfWork, id, account, pool, amount, toPool: false, cancellationToken);

    /// <summary>An account's own credits and, when <paramref name="pool"/> is given, its credits in that pool.</summary>
    public async ValueTask<(TokenAmount Account, TokenAmount InPool)> GetBalancesAsync(Address account, PoolId? pool = null, CancellationToken cancellationToken = default)
    {
        var own = (await _ledger.GetAccountAsync(CreditAccounts.Of(account), cancellationToken).ConfigureAwait(false))?.AvailableBalance ?? TokenAmount.Zero;
        var inPool = pool is { } id
            ? (await _ledger.GetAccountAsync(CreditAccounts.InPool(id, account), cancellationToken).ConfigureAwait(false))?.AvailableBalance ?? TokenAmount.Zero
            : TokenAmount.Zero;
        return (own, inPool);
    }

    /// <summary>
    /// The credit history of an account (or of its balance in a pool), newest first: each entry's kind says what it was
    /// (purchase, transfer, withdraw, and the inference issue's hold, consume and refund).
    /// </summary>
    public ValueTask<AccountHistoryPage> GetHistoryAsync(Address account, PoolId? pool, string? cursor, int limit, CancellationToken cancellationToken = default) =>
        _ledger.GetAccountHistoryAsync(pool is { } id ? CreditAccounts.InPool(id, account) : CreditAccounts.Of(account), cursor, limit, cancellationToken);

    /// <summary>
    /// The daily revenue job: sends each past UTC day's token revenue to <see cref="CreditOptions.Treasury"/> through the
    /// outbox, one transfer per day (id <c>revenue:APUS:yyyy-MM-dd</c>), catching up every day missed. Each day is one
    /// unit of work that also moves the job's checkpoint, so a day is sent once even when the job runs on several instances.
    /// </summary>
    /// <returns>How many days were sent (days without revenue count too).</returns>
    /// <exception cref="InvalidOperationException"><see cref="CreditOptions.Treasury"/> is not set.</exception>
    public async ValueTask<int> SendDailyRevenueAsync(CancellationToken cancellationToken = default)
    {
        var treasury = _options.Treasury ?? throw new InvalidOperationException("CreditOptions.Treasury must be set to send the daily revenue.");
        var days = 0;
        while (true)
        {
            var today = DateOnly.FromDateTime(_timeProvider.GetUtcNow().UtcDateTime).DayNumber;
            var sent = await _store.RunAsync((Service: this, Today: today, Treasury: treasury), static async (unitOfWork, request, ct) =>
            {
                var checkpoint = await unitOfWork.Checkpoints.GetCheckpointAsync(RevenueCheckpoint, cancellationToken: ct).ConfigureAwait(false);
                if (checkpoint is null || checkpoint.Value + 1 >= request.Today)
                {
                    return (Sent: false, Day: default(DateOnly), Revenue: TokenAmount.Zero);
                }

                // Move the checkpoint first: the update waits for purchases holding its shared lock (they credit this day), and
                // purchases starting later wait for this unit of work and then credit the next day.
                var day = DateOnly.FromDayNumber((int)checkpoint.Value + 1);
                await unitOfWork.Checkpoints.UpdateCheckpointAsync(RevenueCheckpoint, day.DayNumber, checkpoint.Version, ct).ConfigureAwait(false);
                var account = CreditAccounts.Revenue(WellKnownAssets.Apus, day);
                await unitOfWork.Ledger.GetAccountsForUpdateAsync([account], ct).ConfigureAwait(false);
                var revenue = (await unitOfWork.Ledger.GetAccountAsync(account, ct).ConfigureAwait(false))?.AvailableBalance ?? TokenAmount.Zero;
                if (!revenue.IsZero)
                {
                    var id = TransferId.Parse("revenue:" + WellKnownAssets.Apus + ":" + day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
                    var enqueued = await request.Service._outbox.EnqueueAsync(unitOfWork, id, account, request.Treasury, WellKnownAssets.Apus, revenue, RevenueKind, "revenue " + day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), ct).ConfigureAwait(false);
                    if (enqueued.Result != EnqueueResult.Enqueued)
                    {
                        throw enqueued.ToException($"Sending the revenue of {day:yyyy-MM-dd}");
                    }
                }

                return (Sent: true, Day: day, Revenue: revenue);
            }, cancellationToken).ConfigureAwait(false);
            if (!sent.Sent)
            {
                return days;
            }

            LogRevenueSent(_logger, sent.Day, sent.Revenue, treasury);
            days++;
        }
    }

    [LoggerMessage(EventId = 302, Level = LogLevel.Information, Message = "The revenue of {Day:yyyy-MM-dd}, {Revenue} APUS base units, is on its way to the treasury {Treasury} (outbox).")]
    private static partial void LogRevenueSent(ILogger logger, DateOnly day, TokenAmount revenue, Address treasury);

    private ValueTask<CreditTransferOutcome> RunMoveAsync(TransferId id, Address account, PoolId pool, TokenAmount amount, bool toPool, CancellationToken cancellationToken) =>
        amount.IsZero
            ? new(InvalidAmount)
            : _store.RunAsync((Service: this, Id: id, Account: account, Pool: pool, Amount: amount, ToPool: toPool), static (unitOfWork, request, ct) =>
                request.Service.MoveAsync(unitOfWork, request.Id, request.Account, request.Pool, request.Amount, request.ToPool, ct), cancellationToken);

    // The gate of Credits without Pools: every pool that exists lets credits move.
    private sealed class ExistingPools : IPoolCreditGate
    {
        public static readonly ExistingPools Instance = new();

        public async ValueTask<PoolCreditCheck> CheckAsync(IAnpmUnitOfWork unitOfWork, PoolId pool, bool intoPool, CancellationToken cancellationToken = default) =>
            new(await unitOfWork.Pools.GetPoolAsync(pool, cancellationToken).ConfigureAwait(false) is null ? PoolCreditAdmission.NotFound : PoolCreditAdmission.Open, null);
    }

    private static CreditTransferOutcome InvalidAmount { get; } = new(CreditTransferResult.InvalidAmount, TokenAmount.Zero, TokenAmount.Zero, "The amount must be at least 1 credit.");

    private async ValueTask<CreditTransferOutcome> MoveAsync(IAnpmUnitOfWork unitOfWork, TransferId id, Address account, PoolId pool, TokenAmount amount, bool toPool, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(unitOfWork);
        if (amount.IsZero)
        {
            return InvalidAmount;
        }

        var (own, inPool) = (CreditAccounts.Of(account), CreditAccounts.InPool(pool, account));
        async ValueTask<CreditTransferOutcome> Outcome(CreditTransferResult result, string? error) => new(
            result,
            (await unitOfWork.Ledger.GetAccountAsync(own, cancellationToken).ConfigureAwait(false))?.AvailableBalance ?? TokenAmount.Zero,
            (await unitOfWork.Ledger.GetAccountAsync(inPool, cancellationToken).ConfigureAwait(false))?.AvailableBalance ?? TokenAmount.Zero,
            error);

        var previous = await unitOfWork.Ledger.GetTransferAsync(id, cancellationToken).ConfigureAwait(false);
        if (previous is not null)
        {
            var same = previous.DebitAccountId == (toPool ? own : inPool) && previous.CreditAccountId == (toPool ? inPool : own)
                && previous.Amount == amount;
            return await Outcome(same ? CreditTransferResult.Exists : CreditTransferResult.IdTaken, same ? null : $"Transfer id '{id}' was used for another move.").ConfigureAwait(false);
        }

        if (await unitOfWork.System.IsPausedAsync(cancellationToken).ConfigureAwait(false))
        {
            return await Outcome(CreditTransferResult.SystemPaused, "The system is paused.").ConfigureAwait(false);
        }

        var check = await _poolGate.CheckAsync(unitOfWork, pool, toPool, cancellationToken).ConfigureAwait(false);
        switch (check.Admission)
        {
            case PoolCreditAdmission.NotFound:
                return await Outcome(CreditTransferResult.PoolNotFound, check.Reason ?? $"There is no pool '{pool}'.").ConfigureAwait(false);
            case PoolCreditAdmission.Closed:
                return await Outcome(CreditTransferResult.PoolNotActive, check.Reason ?? $"Pool '{pool}' takes no credits now.").ConfigureAwait(false);
        }

        await EnsureCreditAccountsAsync(unitOfWork, [own, inPool], cancellationToken).ConfigureAwait(false);
        var result = (await _ledger.CreateTransfersAsync(unitOfWork,
        [
            new TransferRequest
            {
                Id = id,
                DebitAccountId = toPool ? own : inPool,
                CreditAccountId = toPool ? inPool : own,
                Asset = WellKnownAssets.Credit,
                Amount = amount,
                Kind = toPool ? TransferKind : WithdrawKind,
                Reference = pool.ToString(),
            },
        ], cancellationToken).ConfigureAwait(false))[0];
        if (result == CreateTransferResult.Created)
        {
            // The credits in the pool fell (a withdrawal) or rose (a top-up): the account's low-balance alert there may fire or re-arm.
            await _alerts.CheckAsync(unitOfWork, account, pool, _timeProvider.GetUtcNow(), cancellationToken).ConfigureAwait(false);
        }

        return result switch
        {
            CreateTransferResult.Created => await Outcome(CreditTransferResult.Moved, null).ConfigureAwait(false),
            CreateTransferResult.ExceedsBalance => await Outcome(CreditTransferResult.InsufficientCredits,
                $"{(toPool ? "The account" : "The account's balance in the pool")} holds fewer than {amount} credits.").ConfigureAwait(false),
            CreateTransferResult.Exists => throw new AnpmConcurrencyException($"Credit move '{id}' was made by a concurrent unit of work; retry."),
            CreateTransferResult.OverflowsDebits or CreateTransferResult.OverflowsCredits => await Outcome(CreditTransferResult.AmountTooLarge,
                $"Moving {amount} credits would push a ledger account past its 128-bit totals ({result}).").ConfigureAwait(false),
            _ => throw new AnpmException($"Moving credits '{id}' failed: {result}."),
        };
    }

    private async ValueTask EnsureCreditAccountsAsync(IAnpmUnitOfWork unitOfWork, AccountId[] accounts, CancellationToken cancellationToken)
    {
        // Users' credit accounts may not be overdrawn; the issuance account is where bought credits come from.
        var issuance = SystemAccounts.Issuance(WellKnownAssets.Credit);
        var wanted = Array.ConvertAll(accounts, a => new NewAccount(a, WellKnownAssets.Credit, a == issuance ? AccountFlags.None : AccountFlags.DebitsMustNotExceedCredits));
        foreach (var created in await _ledger.CreateAccountsAsync(unitOfWork, wanted, cancellationToken).ConfigureAwait(false))
        {
            if (!created.IsSuccess())
            {
                throw new AnpmException($"The credit accounts could not be created: {created}.");
            }
        }
    }
}
