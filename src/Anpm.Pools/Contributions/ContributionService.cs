using System.Diagnostics.CodeAnalysis;
using System.Text;
using Anpm.Abstractions;
using Anpm.Credits;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Anpm.Pools;

/// <summary>Options of the <see cref="ContributionService"/>.</summary>
public sealed class ContributionOptions
{
    /// <summary>How long a created contribution waits for its payment, in seconds (at least 1). Default 3600.</summary>
    public int PaymentTimeoutSeconds { get; set; } = 3600;

    /// <summary>
    /// How long after its payment time an unpaid contribution still waits before the timeout job cancels it, in seconds
    /// (0 to 86400). A payment is judged at the time its tokens moved (a deposit's block time), so set this to the token
    /// gateway's delay to finality: a payment made in time but credited later then finds its contribution waiting.
    /// Default 0.
    /// </summary>
    public int PaymentGraceSeconds { get; set; }

    /// <summary>How many overdue contributions one unit of work of the timeout job cancels (1 to 10000). Default 100.</summary>
    public int TimeoutBatchSize { get; set; } = 100;

    /// <summary>Where a closing pool's leftover (prize dust, tokens not distributed) is sent. Required to close a pool that holds any.</summary>
    public Address? Treasury { get; set; }

    /// <summary>
    /// How long owners have to claim their payouts or refunds after a pool starts distributing or is canceled, in seconds
    /// (0 to 315 360 000). Once it has passed, an admin may close the pool: every unclaimed payout or refund is then sent
    /// to its owner — never kept. Default 2 592 000 (30 days).
    /// </summary>
    public int ClaimWindowSeconds { get; set; } = 2_592_000;

    /// <summary>
    /// How many contributions one unit of work settles when a pool starts distributing, is canceled or is closed after its
    /// claim window (1 to 10000): the transition's own unit of work settles the first page, <see cref="ContributionService.SettlePoolAsync"/>
    /// the rest. Default 500.
    /// </summary>
    public int SettlementBatchSize { get; set; } = 500;
}

/// <summary>The outcome of creating a contribution.</summary>
public enum CreateContributionResult
{
    /// <summary>Created, waiting for payment until <see cref="ContributionRecord.PayBefore"/>.</summary>
    Created = 1,

    /// <summary>The same contribution was already created (an idempotent replay).</summary>
    Exists = 2,

    /// <summary>The id belongs to another contribution.</summary>
    IdTaken = 3,

    /// <summary>There is no such pool.</summary>
    PoolNotFound = 4,

    /// <summary>The pool is not Active (the error names its status) or takes no contributions.</summary>
    InvalidState = 5,

    /// <summary>Outside the contribution window.</summary>
    WindowClosed = 6,

    /// <summary>The amount is zero or above what the campaign can still take.</summary>
    LimitExceeded = 7,

    /// <summary>The system or the pool is paused; the message says which.</summary>
    Paused = 8,
}

/// <summary>The result of <see cref="ContributionService.CreateAsync(ContributionId, PoolId, Address, TokenAmount, CancellationToken)"/>.</summary>
public sealed record CreateContributionOutcome(CreateContributionResult Result, ContributionRecord? Contribution, string? Error)
{
    /// <summary>Whether the contribution was refused; then <see cref="Error"/> says why, and nothing changed.</summary>
    [MemberNotNullWhen(true, nameof(Error))]
    [MemberNotNullWhen(false, nameof(Contribution))]
    public bool IsRefused => Result is not (CreateContributionResult.Created or CreateContributionResult.Exists);
}

/// <summary>
/// Contributions to pool campaigns: created PendingPayment; paid by a token notice with their id and exact amount; a
/// wrong amount, a late payment, a payment for a canceled contribution, an unknown pool or action is refunded to the
/// sender through the outbox — tokens are never kept without an owner. Unpaid contributions are canceled by
/// <see cref="CancelOverdueAsync"/>. Notices are idempotent by message id.
/// </summary>
public sealed partial class ContributionService : ITokenNoticeHandler
{
    private static readonly TransferKind Deposit = TransferKind.Parse("contribution");
    private static readonly TransferKind Funding = TransferKind.Parse("funding");
    private static readonly TransferKind DistributionDeposit = TransferKind.Parse("distribution");
    private static readonly TransferKind PrizeSetAside = TransferKind.Parse("prize");
    private static readonly TransferKind RoundingDust = TransferKind.Parse("rounding");
    private const int ListPageSize = 500;
    private readonly IAnpmStore _store;
    private readonly Ledger _ledger;
    private readonly Outbox _outbox;
    private readonly PoolRegistry _registry;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly ContributionOptions _options;
    private readonly IPrizeCalculator _prizeCalculator;

    /// <summary>Creates the service.</summary>
    /// <param name="store">The store.</param>
    /// <param name="ledger">The ledger over the same store.</param>
    /// <param name="outbox">Pays refunds, prizes and funding.</param>
    /// <param name="registry">Reads pool configs.</param>
    /// <param name="options">Payment timeout and batch size.</param>
    /// <param name="timeProvider">The clock.</param>
    /// <param name="prizeCalculator">Splits a distribution; pro-rata when not given.</param>
    /// <param name="logger">Where contributions canceled for want of payment are logged; nowhere when none is given.</param>
    public ContributionService(IAnpmStore store, Ledger ledger, Outbox outbox, PoolRegistry registry, IOptions<ContributionOptions> options, TimeProvider timeProvider, IPrizeCalculator? prizeCalculator = null, ILogger<ContributionService>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(ledger);
        ArgumentNullException.ThrowIfNull(outbox);
        ArgumentNullException.ThrowIfNull(registry);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(timeProvider);
        _store = store;
        _ledger = ledger;
        _outbox = outbox;
        _registry = registry;
        _timeProvider = timeProvider;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _options = ValidatedOptions.Value(options, new ContributionOptionsValidator());
        _prizeCalculator = prizeCalculator ?? new ProRataPrizeCalculator();
    }

    /// <summary>Creates a contribution waiting for its payment.</summary>
    public ValueTask<CreateContributionOutcome> CreateAsync(ContributionId id, PoolId poolId, Address owner, TokenAmount amount, CancellationToken cancellationToken = default) =>
        _store.RunAsync((Service: this, Id: id, PoolId: poolId, Owner: owner, Amount: amount), static (unitOfWork, request, ct) =>
            request.Service.CreateAsync(unitOfWork, request.Id, request.PoolId, request.Owner, request.Amount, ct), cancellationToken);

    /// <summary>The same command inside the caller's unit of work, which the caller commits (or ends uncommitted: then nothing of it is kept).</summary>
    public async ValueTask<CreateContributionOutcome> CreateAsync(IAnpmUnitOfWork unitOfWork, ContributionId id, PoolId poolId, Address owner, TokenAmount amount, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(unitOfWork);
        var now = _timeProvider.GetUtcNow();
        var pool = await unitOfWork.Pools.GetPoolAsync(poolId, cancellationToken).ConfigureAwait(false);
        if (pool is null)
        {
            return new CreateContributionOutcome(CreateContributionResult.PoolNotFound, null, $"There is no pool '{poolId}'.");
        }

        if (await unitOfWork.System.IsPausedAsync(cancellationToken).ConfigureAwait(false) || pool.Status == PoolStatus.Paused)
        {
            return new CreateContributionOutcome(CreateContributionResult.Paused, null,
                pool.Status == PoolStatus.Paused ? $"Pool '{pool.Id}' is paused." : "The system is paused.");
        }

        var campaign = _registry.ConfigOf(pool).Contribution;
        if (pool.Status != PoolStatus.Active || campaign is null)
        {
            return new CreateContributionOutcome(CreateContributionResult.InvalidState, null,
                campaign is null ? $"Pool '{pool.Id}' takes no contributions." : $"Pool '{pool.Id}' is {pool.Status}; contributions need Active.");
        }

        if (now < campaign.StartUtc || now >= campaign.EndUtc)
        {
            return new CreateContributionOutcome(CreateContributionResult.WindowClosed, null,
                $"Pool '{pool.Id}' takes contributions from {campaign.StartUtc:O} to {campaign.EndUtc:O}.");
        }

        var remaining = await RemainingAsync(unitOfWork, pool.Id, campaign, cancellationToken).ConfigureAwait(false);
        if (amount.IsZero || amount > remaining)
        {
            return new CreateContributionOutcome(CreateContributionResult.LimitExceeded, null,
                $"A contribution must be 1 to {remaining} base units (what the campaign can still take).");
        }

        var contribution = new ContributionRecord
        {
            Id = id,
            PoolId = pool.Id,
            Owner = owner,
            Amount = amount,
            Status = ContributionStateMachine.Definition.Initial,
            CreatedAt = now,
            PayBefore = now.AddSeconds(_options.PaymentTimeoutSeconds),
        };
        if (await unitOfWork.Contributions.TryInsertContributionAsync(contribution, cancellationToken).ConfigureAwait(false))
        {
            return new CreateContributionOutcome(CreateContributionResult.Created, contribution, null);
        }

        var existing = await unitOfWork.Contributions.GetContributionAsync(id, cancellationToken).ConfigureAwait(false);
        var same = existing is not null && existing.PoolId == pool.Id && existing.Owner == owner && existing.Amount == amount;
        return new CreateContributionOutcome(same ? CreateContributionResult.Exists : CreateContributionResult.IdTaken, same ? existing : null, same ? null : $"Contribution id '{id}' was used for another contribution.");
    }

    /// <inheritdoc />
    public IReadOnlyCollection<string> Actions { get; } = ["Contribute", "Distribute"];

    /// <summary>
    /// Ends a campaign: the pool moves Active → Funding and everything it collected goes to the campaign's destination
    /// through the outbox, in the same unit of work. Allowed once the window has ended or the limit is reached, or at
    /// any time when <paramref name="force"/> (an admin's decision) is set.
    /// </summary>
    /// <param name="poolId">The pool.</param>
    /// <param name="force">Start funding before the window ends and below the limit.</param>
    /// <param name="cancellationToken">Cancels the command.</param>
    public ValueTask<PoolStatusChange> StartFundingAsync(PoolId poolId, bool force, CancellationToken cancellationToken = default) =>
        _store.RunAsync((Service: this, PoolId: poolId, Force: force), static (unitOfWork, request, ct) =>
            request.Service.StartFundingAsync(unitOfWork, request.PoolId, request.Force, ct), cancellationToken);

    /// <summary>The same command inside the caller's unit of work, which the caller commits (or ends uncommitted: then nothing of it is kept).</summary>
    public async ValueTask<PoolStatusChange> StartFundingAsync(IAnpmUnitOfWork unitOfWork, PoolId poolId, bool force, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(unitOfWork);
        var now = _timeProvider.GetUtcNow();
        var (pool, refused) = await PoolToChangeAsync(unitOfWork, poolId, cancellationToken).ConfigureAwait(false);
        if (refused is not null)
        {
            return refused;
        }

        var campaign = _registry.ConfigOf(pool).Contribution;
        var transition = PoolStateMachine.Definition.Fire(pool.Status, PoolTrigger.StartFunding);
        if (campaign is null || !transition.IsAllowed)
        {
            return new PoolStatusChange(PoolStatusChangeResult.InvalidTransition, pool,
                campaign is null ? $"Pool '{pool.Id}' has no contribution campaign to fund." : transition.Error);
        }

        var remaining = await RemainingAsync(unitOfWork, pool.Id, campaign, cancellationToken).ConfigureAwait(false);
        if (!force && now < campaign.EndUtc && !remaining.IsZero)
        {
            return new PoolStatusChange(PoolStatusChangeResult.InvalidTransition, pool,
                $"Pool '{pool.Id}' is still collecting until {campaign.EndUtc:O} ({remaining} base units below its limit); an admin may force funding.");
        }

        await PoolStatusUpdate.ApplyAsync(unitOfWork, pool, transition.Status, now, cancellationToken).ConfigureAwait(false);
        var collected = await unitOfWork.Ledger.GetAccountAsync(PoolAccounts.Contributions(pool.Id), cancellationToken).ConfigureAwait(false);
        if (collected is { AvailableBalance.IsZero: false })
        {
            var sent = await _outbox.EnqueueAsync(unitOfWork, TransferId.Derive("funding:", pool.Id.ToString()), PoolAccounts.Contributions(pool.Id),
                campaign.Destination, WellKnownAssets.Apus, collected.AvailableBalance, Funding, "pool " + pool.Id, cancellationToken).ConfigureAwait(false);
            if (sent.Result != EnqueueResult.Enqueued)
            {
                throw sent.ToException($"Sending pool '{pool.Id}' funds to its destination");
            }
        }

        return new PoolStatusChange(PoolStatusChangeResult.Changed, pool with { Status = transition.Status, StatusChangedAt = now, Version = pool.Version + 1 }, null);
    }

    /// <summary>
    /// Cancels a pool (an admin's decision): Active, Funding or Paused → Canceled; every paid contribution becomes
    /// AvailableRefund and every unpaid one Canceled — the first <see cref="ContributionOptions.SettlementBatchSize"/> in
    /// the same unit of work, the rest by <see cref="SettlePoolAsync"/>. Refused while the pool holds fewer tokens than its
    /// paid contributions (after funding, the funds must come back first), so every refund is backed.
    /// </summary>
    /// <param name="poolId">The pool.</param>
    /// <param name="cancellationToken">Cancels the command.</param>
    public ValueTask<PoolStatusChange> CancelPoolAsync(PoolId poolId, CancellationToken cancellationToken = default) =>
        _store.RunAsync((Service: this, PoolId: poolId), static (unitOfWork, request, ct) =>
            request.Service.CancelPoolAsync(unitOfWork, request.PoolId, ct), cancellationToken);

    /// <summary>The same command inside the caller's unit of work, which the caller commits (or ends uncommitted: then nothing of it is kept).</summary>
    public async ValueTask<PoolStatusChange> CancelPoolAsync(IAnpmUnitOfWork unitOfWork, PoolId poolId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(unitOfWork);
        var id = poolId;
        var now = _timeProvider.GetUtcNow();
        var pool = await unitOfWork.Pools.GetPoolAsync(id, cancellationToken).ConfigureAwait(false);
        if (pool is null)
        {
            return new PoolStatusChange(PoolStatusChangeResult.PoolNotFound, null, $"There is no pool '{id}'.");
        }

        var transition = PoolStateMachine.Definition.Fire(pool.Status, PoolTrigger.Cancel);
        if (!transition.IsAllowed)
        {
            return new PoolStatusChange(PoolStatusChangeResult.InvalidTransition, pool, transition.Error);
        }

        var owed = TokenAmount.Zero;
        foreach (var paid in (await ListAllAsync(unitOfWork, pool.Id, cancellationToken).ConfigureAwait(false)).Where(static c => c.Status == ContributionStatus.Paid))
        {
            owed += paid.Amount;
        }

        var held = (await unitOfWork.Ledger.GetAccountAsync(PoolAccounts.Contributions(pool.Id), cancellationToken).ConfigureAwait(false))?.AvailableBalance ?? TokenAmount.Zero;
        if (owed > held)
        {
            return new PoolStatusChange(PoolStatusChangeResult.InvalidTransition, pool,
                $"Pool '{pool.Id}' holds {held} of the {owed} base units its paid contributions would be refunded; the funds sent to its destination must come back first.");
        }

        await PoolStatusUpdate.ApplyAsync(unitOfWork, pool, transition.Status, now, cancellationToken).ConfigureAwait(false);
        var canceled = pool with { Status = transition.Status, StatusChangedAt = now, Version = pool.Version + 1 };
        var checkpoint = await BeginSettlementAsync(unitOfWork, pool.Id, SettlementPhase.Settling, cancellationToken).ConfigureAwait(false);
        await SettlePageAsync(unitOfWork, canceled, checkpoint, after: null, prizes: null, cancellationToken).ConfigureAwait(false);
        return new PoolStatusChange(PoolStatusChangeResult.Changed, canceled, null);
    }

    /// <summary>
    /// Claims the refund of a contribution of a canceled pool: anyone may claim, the owner is always paid. The
    /// contribution becomes PendingPayout and its amount goes to the owner through the outbox in the same unit of work;
    /// the outbox's confirmation (seen by <see cref="ContributionPayoutConfirmations"/>) makes it RefundPaidout.
    /// </summary>
    /// <param name="id">The contribution.</param>
    /// <param name="cancellationToken">Cancels the command.</param>
    public ValueTask<ClaimOutcome> ClaimRefundAsync(ContributionId id, CancellationToken cancellationToken = default) =>
        ClaimAsync(id, isPrize: false, cancellationToken);

    /// <summary>
    /// Claims the prize of a contribution of a distributing pool: anyone may claim, the owner is always paid. The
    /// contribution becomes PendingPayout and its prize goes to the owner through the outbox in the same unit of work;
    /// the outbox's confirmation makes it RewardPaidout (a zero prize is paid out at once).
    /// </summary>
    /// <param name="id">The contribution.</param>
    /// <param name="cancellationToken">Cancels the command.</param>
    public ValueTask<ClaimOutcome> ClaimPayoutAsync(ContributionId id, CancellationToken cancellationToken = default) =>
        ClaimAsync(id, isPrize: true, cancellationToken);

    /// <summary>Claims a contribution's refund inside the caller's unit of work, which the caller commits.</summary>
    public ValueTask<ClaimOutcome> ClaimRefundAsync(IAnpmUnitOfWork unitOfWork, ContributionId id, CancellationToken cancellationToken = default) =>
        ClaimAsync(unitOfWork, id, isPrize: false, cancellationToken);

    /// <summary>Claims a contribution's prize inside the caller's unit of work, which the caller commits.</summary>
    public ValueTask<ClaimOutcome> ClaimPayoutAsync(IAnpmUnitOfWork unitOfWork, ContributionId id, CancellationToken cancellationToken = default) =>
        ClaimAsync(unitOfWork, id, isPrize: true, cancellationToken);

    /// <summary>
    /// Starts distributing a funded campaign (an admin's decision): Funding → Distributing, with
    /// <paramref name="amount"/> taken from the tokens the pool received back (Distribute notices) into the pool's prize
    /// pot (<see cref="PoolAccounts.PrizePot"/>). The prize calculator splits it over the paid contributions; its dust goes
    /// to the pool's rounding account (<see cref="PoolAccounts.Rounding"/>) at once. Each prize is then set aside in the
    /// contribution's own ledger account (<see cref="PoolAccounts.Prize"/>) and the contribution becomes AvailablePayout;
    /// unpaid contributions are canceled — the first <see cref="ContributionOptions.SettlementBatchSize"/> in the same unit
    /// of work, the rest by <see cref="SettlePoolAsync"/>. What is not distributed stays in the distribution account; it and
    /// the dust go to the treasury when the pool closes.
    /// </summary>
    /// <param name="poolId">The pool.</param>
    /// <param name="amount">The amount to distribute, at most what was received back.</param>
    /// <param name="cancellationToken">Cancels the command.</param>
    public ValueTask<PoolStatusChange> StartDistributingAsync(PoolId poolId, TokenAmount amount, CancellationToken cancellationToken = default) =>
        _store.RunAsync((Service: this, PoolId: poolId, Amount: amount), static (unitOfWork, request, ct) =>
            request.Service.StartDistributingAsync(unitOfWork, request.PoolId, request.Amount, ct), cancellationToken);

    /// <summary>The same command inside the caller's unit of work, which the caller commits (or ends uncommitted: then nothing of it is kept).</summary>
    public async ValueTask<PoolStatusChange> StartDistributingAsync(IAnpmUnitOfWork unitOfWork, PoolId poolId, TokenAmount amount, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(unitOfWork);
        var now = _timeProvider.GetUtcNow();
        var (pool, refused) = await PoolToChangeAsync(unitOfWork, poolId, cancellationToken).ConfigureAwait(false);
        if (refused is not null)
        {
            return refused;
        }

        var transition = PoolStateMachine.Definition.Fire(pool.Status, PoolTrigger.StartDistributing);
        if (!transition.IsAllowed)
        {
            return new PoolStatusChange(PoolStatusChangeResult.InvalidTransition, pool, transition.Error);
        }

        var received = (await unitOfWork.Ledger.GetAccountAsync(PoolAccounts.Distribution(pool.Id), cancellationToken).ConfigureAwait(false))?.AvailableBalance ?? TokenAmount.Zero;
        if (amount > received)
        {
            return new PoolStatusChange(PoolStatusChangeResult.InvalidTransition, pool,
                $"Pool '{pool.Id}' received {received} base units back; it cannot distribute {amount}.");
        }

        var paid = (await ListAllAsync(unitOfWork, pool.Id, cancellationToken).ConfigureAwait(false)).Where(static c => c.Status == ContributionStatus.Paid).ToList();
        var split = SplitChecked(pool.Id, paid, amount);
        await PoolStatusUpdate.ApplyAsync(unitOfWork, pool, transition.Status, now, cancellationToken).ConfigureAwait(false);
        var distributing = pool with { Status = transition.Status, StatusChangedAt = now, Version = pool.Version + 1 };
        await FillPrizePotAsync(unitOfWork, pool.Id, amount, split.Dust, cancellationToken).ConfigureAwait(false);
        var checkpoint = await BeginSettlementAsync(unitOfWork, pool.Id, SettlementPhase.Settling, cancellationToken).ConfigureAwait(false);
        await SettlePageAsync(unitOfWork, distributing, checkpoint, after: null, split.Prizes, cancellationToken).ConfigureAwait(false);
        return new PoolStatusChange(PoolStatusChangeResult.Changed, distributing, null);
    }

    /// <summary>
    /// Closes a Distributing or Canceled pool (an admin's decision) once its contributions are settled: when every payout
    /// or refund is done (confirmed), or at any time after the claim window (<see cref="ContributionOptions.ClaimWindowSeconds"/>,
    /// counted from when the pool started distributing or was canceled). After the window, every payout or refund still
    /// unclaimed is sent to its owner through the outbox — nobody's tokens are kept — and transfers already on their way
    /// complete after the close; then whatever the pool still holds (prize dust, tokens not distributed) goes to
    /// <see cref="ContributionOptions.Treasury"/>. The first <see cref="ContributionOptions.SettlementBatchSize"/> unclaimed
    /// ones are sent in the same unit of work; with more, the answer is <see cref="PoolStatusChangeResult.Accepted"/> and
    /// <see cref="SettlePoolAsync"/> sends the rest and closes the pool. A pool also closes by itself when its last payout
    /// or refund is confirmed.
    /// </summary>
    /// <param name="poolId">The pool.</param>
    /// <param name="cancellationToken">Cancels the command.</param>
    public ValueTask<PoolStatusChange> ClosePoolAsync(PoolId poolId, CancellationToken cancellationToken = default) =>
        _store.RunAsync((Service: this, PoolId: poolId), static (unitOfWork, request, ct) =>
            request.Service.ClosePoolAsync(unitOfWork, request.PoolId, ct), cancellationToken);

    /// <summary>The same command inside the caller's unit of work, which the caller commits (or ends uncommitted: then nothing of it is kept).</summary>
    public async ValueTask<PoolStatusChange> ClosePoolAsync(IAnpmUnitOfWork unitOfWork, PoolId poolId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(unitOfWork);
        var now = _timeProvider.GetUtcNow();
        var (pool, refused) = await PoolToChangeAsync(unitOfWork, poolId, cancellationToken).ConfigureAwait(false);
        if (refused is not null)
        {
            return refused;
        }

        var transition = PoolStateMachine.Definition.Fire(pool.Status, PoolTrigger.Close);
        if (!transition.IsAllowed)
        {
            return new PoolStatusChange(PoolStatusChangeResult.InvalidTransition, pool, transition.Error);
        }

        if (await UnsettledAsync(unitOfWork, pool, cancellationToken).ConfigureAwait(false) is { } unsettled)
        {
            return new PoolStatusChange(PoolStatusChangeResult.InvalidTransition, pool, unsettled);
        }

        var open = PoolClosing.OpenClaims(await unitOfWork.Contributions.CountPoolContributionsAsync(pool.Id, cancellationToken).ConfigureAwait(false));
        if (open == 0)
        {
            return await PoolClosing.CloseAsync(unitOfWork, pool, _outbox, _options.Treasury, now, cancellationToken).ConfigureAwait(false);
        }

        var windowEnds = pool.StatusChangedAt.AddSeconds(_options.ClaimWindowSeconds);
        if (now < windowEnds)
        {
            return new PoolStatusChange(PoolStatusChangeResult.InvalidTransition, pool,
                $"Pool '{pool.Id}' has {open} contribution(s) whose payout or refund is not done; an admin may close it after the claim window ends at {windowEnds:O}.");
        }

        // After the window: the unclaimed payouts and refunds go to their owners. Check first that the close can
        // complete (the leftover needs a treasury), so a refusal changes nothing.
        var leftover = TokenAmount.Zero;
        foreach (var (_, amount) in await PoolClosing.LeftoversAsync(unitOfWork, pool.Id, cancellationToken).ConfigureAwait(false))
        {
            leftover += amount;
        }

        foreach (var refund in (await ListAllAsync(unitOfWork, pool.Id, cancellationToken).ConfigureAwait(false)).Where(static c => c.Status == ContributionStatus.AvailableRefund))
        {
            leftover -= refund.Amount;
        }

        if (!leftover.IsZero && _options.Treasury is null)
        {
            return new PoolStatusChange(PoolStatusChangeResult.InvalidTransition, pool,
                $"Pool '{pool.Id}' holds leftover tokens and no treasury is configured (ContributionOptions.Treasury).");
        }

        var checkpoint = await BeginSettlementAsync(unitOfWork, pool.Id, SettlementPhase.Closing, cancellationToken).ConfigureAwait(false);
        var page = await SettlePageAsync(unitOfWork, pool, checkpoint, after: null, prizes: null, cancellationToken).ConfigureAwait(false);
        return page.Done
            ? new PoolStatusChange(PoolStatusChangeResult.Changed, await unitOfWork.Pools.GetPoolAsync(pool.Id, cancellationToken).ConfigureAwait(false), null)
            : new PoolStatusChange(PoolStatusChangeResult.Accepted, pool,
                $"Pool '{pool.Id}' sends its unclaimed payouts and refunds in pages of {_options.SettlementBatchSize}; it closes when the last is sent (the pool-settlement job, or ContributionService.SettlePoolAsync).");
    }

    [LoggerMessage(EventId = 401, Level = LogLevel.Information, Message = "Canceled {Count} contributions whose payment did not arrive within {GraceSeconds} s of their payment time.")]
    private static partial void LogOverdueCanceled(ILogger logger, int count, int graceSeconds);

    /// <summary>
    /// Cancels PendingPayment contributions whose payment time passed more than <see cref="ContributionOptions.PaymentGraceSeconds"/>
    /// ago, a batch per unit of work.
    /// </summary>
    /// <returns>How many were canceled.</returns>
    public async ValueTask<int> CancelOverdueAsync(CancellationToken cancellationToken = default)
    {
        var total = 0;
        while (true)
        {
            var (canceled, seen) = await _store.RunAsync(this, static async (unitOfWork, service, ct) =>
            {
                var cutoff = service._timeProvider.GetUtcNow().AddSeconds(-service._options.PaymentGraceSeconds);
                var overdue = await unitOfWork.Contributions.GetOverdueContributionsAsync(cutoff, service._options.TimeoutBatchSize, ct).ConfigureAwait(false);
                foreach (var contribution in overdue)
                {
                    var canceled = ContributionStateMachine.Definition.Fire(contribution.Status, ContributionTrigger.Cancel);
                    await unitOfWork.Contributions.UpdateContributionAsync(contribution with { Status = canceled.Status, PayBefore = null }, contribution.Version, ct).ConfigureAwait(false);
                }

                return (overdue.Count, overdue.Count);
            }, cancellationToken).ConfigureAwait(false);
            total += canceled;
            if (canceled > 0)
            {
                LogOverdueCanceled(_logger, canceled, _options.PaymentGraceSeconds);
            }

            if (seen < _options.TimeoutBatchSize)
            {
                return total;
            }
        }
    }

    /// <summary>
    /// Applies a <c>Contribute</c> or <c>Distribute</c> notice (called by the <see cref="TokenNoticeProcessor"/>):
    /// <c>Contribute</c> pays a pending contribution (reference = its id, exact amount) or, without a reference, makes a
    /// paid contribution directly (the part over the limit refunded); <c>Distribute</c> brings tokens back to a funded
    /// pool. Anything that cannot be applied is refunded to the sender.
    /// </summary>
    public async ValueTask<string> HandleAsync(TokenNoticeContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var unitOfWork = context.UnitOfWork;
        var notice = context.Notice;
        if (!PoolId.TryParse(notice.PoolId, out var poolId)
            || await unitOfWork.Pools.GetPoolAsync(poolId, cancellationToken).ConfigureAwait(false) is not { } pool)
        {
            return await context.RefundAsync(notice.Quantity, "unknown-pool", cancellationToken).ConfigureAwait(false);
        }

        if (notice.Action == "Distribute")
        {
            return await ReceiveDistributionAsync(context, pool, cancellationToken).ConfigureAwait(false);
        }

        // While the system or the pool is paused, new contributions are refused (refunded, sent once the system runs).
        if (await unitOfWork.System.IsPausedAsync(cancellationToken).ConfigureAwait(false))
        {
            return await context.RefundAsync(notice.Quantity, "system-paused", cancellationToken).ConfigureAwait(false);
        }

        var campaign = _registry.ConfigOf(pool).Contribution;
        if (pool.Status != PoolStatus.Active || campaign is null)
        {
            return await context.RefundAsync(notice.Quantity, pool.Status == PoolStatus.Paused ? "pool-paused" : "pool-not-taking-contributions", cancellationToken).ConfigureAwait(false);
        }

        var now = context.PaidAt; // the window and the payment time are judged when the tokens moved
        await EnsureAccountsAsync(unitOfWork, pool.Id, cancellationToken).ConfigureAwait(false);
        if (notice.Reference.Length > 0)
        {
            return await PayPendingAsync(context, pool, now, cancellationToken).ConfigureAwait(false);
        }

        // A direct deposit: a paid contribution at once, within the window and the limit (the rest is refunded).
        if (now < campaign.StartUtc || now >= campaign.EndUtc)
        {
            return await context.RefundAsync(notice.Quantity, "window-closed", cancellationToken).ConfigureAwait(false);
        }

        var remaining = await RemainingAsync(unitOfWork, pool.Id, campaign, cancellationToken).ConfigureAwait(false);
        var accepted = notice.Quantity > remaining ? remaining : notice.Quantity;
        if (accepted.IsZero)
        {
            return await context.RefundAsync(notice.Quantity, "limit-reached", cancellationToken).ConfigureAwait(false);
        }

        var contribution = new ContributionRecord
        {
            Id = ContributionId.Parse("d" + Convert.ToHexStringLower(Keccak256.Hash(Encoding.UTF8.GetBytes(notice.MessageId)))[..40]),
            PoolId = pool.Id,
            Owner = notice.Sender,
            Amount = accepted,
            Status = ContributionStatus.Paid,
            CreatedAt = now,
        };
        if (!await unitOfWork.Contributions.TryInsertContributionAsync(contribution, cancellationToken).ConfigureAwait(false))
        {
            throw new AnpmConcurrencyException($"Contribution '{contribution.Id}' already exists; the notice was processed meanwhile. Retry.");
        }

        await ContributionPaidAsync(unitOfWork, contribution, now, cancellationToken).ConfigureAwait(false);

        await context.DepositAsync(PoolAccounts.Contributions(pool.Id), accepted, Deposit, cancellationToken).ConfigureAwait(false);
        if (accepted < notice.Quantity)
        {
            await context.RefundAsync(notice.Quantity - accepted, "over-limit", cancellationToken).ConfigureAwait(false);
            return "contribution-paid-partly";
        }

        return "contribution-paid";
    }

    private async ValueTask<string> PayPendingAsync(TokenNoticeContext context, PoolRecord pool, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var (unitOfWork, notice) = (context.UnitOfWork, context.Notice);
        if (!ContributionId.TryParse(notice.Reference, out var id)
            || await unitOfWork.Contributions.GetContributionAsync(id, cancellationToken).ConfigureAwait(false) is not { } contribution
            || contribution.PoolId != pool.Id)
        {
            return await context.RefundAsync(notice.Quantity, "unknown-contribution", cancellationToken).ConfigureAwait(false);
        }

        if (contribution.Status != ContributionStatus.PendingPayment)
        {
            return await context.RefundAsync(notice.Quantity, "contribution-" + contribution.Status.ToString().ToLowerInvariant(), cancellationToken).ConfigureAwait(false);
        }

        if (contribution.PayBefore <= now)
        {
            return await context.RefundAsync(notice.Quantity, "late-payment", cancellationToken).ConfigureAwait(false);
        }

        if (notice.Quantity != contribution.Amount)
        {
            return await context.RefundAsync(notice.Quantity, "wrong-amount", cancellationToken).ConfigureAwait(false);
        }

        // Several pending contributions may together exceed the limit: the one that would overflow it is refunded whole
        // and stays pending until it times out.
        var campaign = _registry.ConfigOf(pool).Contribution!;
        if (notice.Quantity > await RemainingAsync(unitOfWork, pool.Id, campaign, cancellationToken).ConfigureAwait(false))
        {
            return await context.RefundAsync(notice.Quantity, "limit-reached", cancellationToken).ConfigureAwait(false);
        }

        var paid = ContributionStateMachine.Definition.Fire(contribution.Status, ContributionTrigger.Pay);
        await unitOfWork.Contributions.UpdateContributionAsync(contribution with { Status = paid.Status, PayBefore = null }, contribution.Version, cancellationToken).ConfigureAwait(false);
        await ContributionPaidAsync(unitOfWork, contribution, context.Now, cancellationToken).ConfigureAwait(false);
        await context.DepositAsync(PoolAccounts.Contributions(pool.Id), notice.Quantity, Deposit, cancellationToken).ConfigureAwait(false);
        return "contribution-paid";
    }

    // Tokens coming back to a funded pool (to be distributed): from issuance into the pool's distribution account.
    private async ValueTask<string> ReceiveDistributionAsync(TokenNoticeContext context, PoolRecord pool, CancellationToken cancellationToken)
    {
        var (unitOfWork, notice) = (context.UnitOfWork, context.Notice);
        if (pool.Status != PoolStatus.Funding)
        {
            return await context.RefundAsync(notice.Quantity, "pool-not-funding", cancellationToken).ConfigureAwait(false);
        }

        await EnsureAccountsAsync(unitOfWork, pool.Id, cancellationToken).ConfigureAwait(false);
        await context.DepositAsync(PoolAccounts.Distribution(pool.Id), notice.Quantity, DistributionDeposit, cancellationToken).ConfigureAwait(false);
        return "distribution-received";
    }

    private static async ValueTask<TokenAmount> RemainingAsync(IAnpmUnitOfWork unitOfWork, PoolId pool, ContributionConfig campaign, CancellationToken cancellationToken)
    {
        var account = await unitOfWork.Ledger.GetAccountAsync(PoolAccounts.Contributions(pool), cancellationToken).ConfigureAwait(false);
        var collected = account?.CreditsPosted ?? TokenAmount.Zero;
        return collected >= campaign.AmountLimit ? TokenAmount.Zero : campaign.AmountLimit - collected;
    }

    // Creates the pool's contributions and distribution accounts (replays answer Exists).
    private async ValueTask EnsureAccountsAsync(IAnpmUnitOfWork unitOfWork, PoolId pool, CancellationToken cancellationToken)
    {
        NewAccount[] accounts =
            [new(PoolAccounts.Contributions(pool), WellKnownAssets.Apus, AccountFlags.DebitsMustNotExceedCredits),
                new(PoolAccounts.Distribution(pool), WellKnownAssets.Apus, AccountFlags.DebitsMustNotExceedCredits)];
        foreach (var result in await _ledger.CreateAccountsAsync(unitOfWork, accounts, cancellationToken).ConfigureAwait(false))
        {
            if (!result.IsSuccess())
            {
                throw new AnpmException($"The pool's ledger accounts could not be created: {result}.");
            }
        }
    }

    // The pool a status command changes, or why it cannot: there is no such pool, or the system is paused.
    private static async ValueTask<(PoolRecord Pool, PoolStatusChange? Refused)> PoolToChangeAsync(IAnpmUnitOfWork unitOfWork, PoolId poolId, CancellationToken cancellationToken)
    {
        var pool = await unitOfWork.Pools.GetPoolAsync(poolId, cancellationToken).ConfigureAwait(false);
        if (pool is null)
        {
            return (null!, new PoolStatusChange(PoolStatusChangeResult.PoolNotFound, null, $"There is no pool '{poolId}'."));
        }

        return await unitOfWork.System.IsPausedAsync(cancellationToken).ConfigureAwait(false)
            ? (pool, new PoolStatusChange(PoolStatusChangeResult.SystemPaused, pool, "The system is paused."))
            : (pool, null);
    }

    private ValueTask<ClaimOutcome> ClaimAsync(ContributionId id, bool isPrize, CancellationToken cancellationToken = default) =>
        _store.RunAsync((Service: this, Id: id, IsPrize: isPrize), static (unitOfWork, request, ct) =>
            request.Service.ClaimAsync(unitOfWork, request.Id, request.IsPrize, ct), cancellationToken);

    private async ValueTask<ClaimOutcome> ClaimAsync(IAnpmUnitOfWork unitOfWork, ContributionId id, bool isPrize, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(unitOfWork);
        var contribution = await unitOfWork.Contributions.GetContributionAsync(id, cancellationToken).ConfigureAwait(false);
        if (contribution is null)
        {
            return new ClaimOutcome(ClaimResult.NotFound, null, $"There is no contribution '{id}'.");
        }

        if (await unitOfWork.System.IsPausedAsync(cancellationToken).ConfigureAwait(false))
        {
            return new ClaimOutcome(ClaimResult.SystemPaused, contribution, "The system is paused.");
        }

        return await ClaimCoreAsync(unitOfWork, contribution, isPrize, _timeProvider.GetUtcNow(), closeWhenDone: true, cancellationToken).ConfigureAwait(false);
    }

    // Claims for the owner in the caller's unit of work: PendingPayout and the transfer to the owner in the outbox (a zero
    // prize completes at once, and may be the pool's last open claim).
    private async ValueTask<ClaimOutcome> ClaimCoreAsync(
        IAnpmUnitOfWork unitOfWork, ContributionRecord contribution, bool isPrize, DateTimeOffset now, bool closeWhenDone, CancellationToken ct)
    {
        var (claimable, paidOut, transferId, kind) = isPrize
            ? (ContributionStatus.AvailablePayout, ContributionStatus.RewardPaidout, TransferId.Derive("contribution-prize:", contribution.Id.ToString()), ContributionPayoutConfirmations.PrizeKind)
            : (ContributionStatus.AvailableRefund, ContributionStatus.RefundPaidout, TransferId.Derive("contribution-refund:", contribution.Id.ToString()), ContributionPayoutConfirmations.RefundKind);
        if (contribution.Status == paidOut
            || (contribution.Status == ContributionStatus.PendingPayout && await unitOfWork.Outbox.GetOutgoingAsync(transferId, ct).ConfigureAwait(false) is not null))
        {
            return new ClaimOutcome(ClaimResult.AlreadyClaimed, contribution, null);
        }

        if (contribution.Status != claimable)
        {
            return new ClaimOutcome(ClaimResult.NotClaimable, contribution,
                $"Contribution '{contribution.Id}' is {contribution.Status}; a {(isPrize ? "prize" : "refund")} can be claimed when it is {claimable}.");
        }

        var source = isPrize ? PoolAccounts.Prize(contribution.Id) : PoolAccounts.Contributions(contribution.PoolId);
        var amount = isPrize
            ? (await unitOfWork.Ledger.GetAccountAsync(source, ct).ConfigureAwait(false))?.AvailableBalance ?? TokenAmount.Zero
            : contribution.Amount;
        var claimed = contribution with { Status = ContributionStateMachine.Definition.Fire(contribution.Status, ContributionTrigger.Claim).Status };
        if (amount.IsZero)
        {
            // Nothing to send: the claim completes at once.
            claimed = claimed with { Status = ContributionStateMachine.Definition.Fire(claimed.Status, ContributionTrigger.ConfirmReward).Status };
            await unitOfWork.Contributions.UpdateContributionAsync(claimed, contribution.Version, ct).ConfigureAwait(false);
            if (closeWhenDone)
            {
                await PoolClosing.CloseIfDoneAsync(unitOfWork, contribution.PoolId, _outbox, _options.Treasury, now, ct).ConfigureAwait(false);
            }

            return new ClaimOutcome(ClaimResult.Claimed, claimed with { Version = contribution.Version + 1 }, null);
        }

        await unitOfWork.Contributions.UpdateContributionAsync(claimed, contribution.Version, ct).ConfigureAwait(false);
        var sent = await _outbox.EnqueueAsync(unitOfWork, transferId, source, contribution.Owner,
            WellKnownAssets.Apus, amount, kind, contribution.Id.ToString(), ct).ConfigureAwait(false);
        if (sent.Result != EnqueueResult.Enqueued)
        {
            throw sent.ToException($"Paying contribution '{contribution.Id}'");
        }

        return new ClaimOutcome(ClaimResult.Claimed, claimed with { Version = contribution.Version + 1 }, null);
    }

    private static async ValueTask<List<ContributionRecord>> ListAllAsync(IAnpmUnitOfWork unitOfWork, PoolId pool, CancellationToken cancellationToken)
    {
        var contributions = new List<ContributionRecord>();
        ContributionId? after = null;
        while (true)
        {
            var page = await unitOfWork.Contributions.ListPoolContributionsAsync(pool, after, ListPageSize, cancellationToken).ConfigureAwait(false);
            contributions.AddRange(page);
            if (page.Count < ListPageSize)
            {
                return contributions;
            }

            after = page[^1].Id;
        }
    }

    // The event of a contribution's change of status, written with the change.
    private static ValueTask ContributionEventAsync(IAnpmUnitOfWork unitOfWork, string type, ContributionRecord contribution, DateTimeOffset now, CancellationToken cancellationToken) =>
        unitOfWork.Events.AppendAsync(type, contribution.Id.ToString(), new System.Text.Json.Nodes.JsonObject
        {
            ["contributionId"] = contribution.Id.ToString(), ["poolId"] = contribution.PoolId.ToString(), ["owner"] = contribution.Owner.ToString(),
            ["amount"] = contribution.Amount.ToString(),
        }, now, cancellationToken);

    private static ValueTask ContributionPaidAsync(IAnpmUnitOfWork unitOfWork, ContributionRecord contribution, DateTimeOffset now, CancellationToken cancellationToken) =>
        ContributionEventAsync(unitOfWork, AnpmEventTypes.ContributionPaid, contribution, now, cancellationToken);
}

/// <summary>Validates <see cref="ContributionOptions"/> (payment timeout and grace, batches, the claim window); registered with the package and run at start.</summary>
public sealed class ContributionOptionsValidator : IValidateOptions<ContributionOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, ContributionOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.PaymentTimeoutSeconds < 1 || options.PaymentGraceSeconds is < 0 or > 86_400 || options.TimeoutBatchSize is < 1 or > 10_000 || options.ClaimWindowSeconds is < 0 or > 315_360_000 || options.SettlementBatchSize is < 1 or > 10_000
            ? ValidateOptionsResult.Fail("ContributionOptions: PaymentTimeoutSeconds must be at least 1; PaymentGraceSeconds 0 to 86400; TimeoutBatchSize must be 1 to 10000; ClaimWindowSeconds must be 0 to 315360000; SettlementBatchSize must be 1 to 10000.")
            : ValidateOptionsResult.Success;
    }
}
