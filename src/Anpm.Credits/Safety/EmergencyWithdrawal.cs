using Anpm.Abstractions;

namespace Anpm.Credits;

/// <summary>
/// What the token says the system holds. Implemented by the token gateway: the manager address's balance counting only
/// incoming transfers whose notices were delivered (a transfer whose notice is still on its way would otherwise look like
/// tokens nobody is owed).
/// </summary>
public interface ITokenHoldings
{
    /// <summary>The settled balance of the manager address in <paramref name="asset"/>, in base units.</summary>
    /// <param name="asset">The token.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    ValueTask<TokenAmount> GetSettledHoldingsAsync(AssetCode asset, CancellationToken cancellationToken = default);

    /// <summary>
    /// The holdings as the solvency report reads them: the settled balance at one point of the token's history, and the
    /// outgoing transfers that already left that balance but are not yet confirmed (so the ledger still owes them). A
    /// gateway whose payouts take time to become final (a chain) implements this; the default is the settled balance
    /// with nothing in flight.
    /// </summary>
    /// <param name="asset">The token.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    async ValueTask<TokenHoldings> GetHoldingsAsync(AssetCode asset, CancellationToken cancellationToken = default) =>
        new(await GetSettledHoldingsAsync(asset, cancellationToken).ConfigureAwait(false), TokenAmount.Zero, null);
}

/// <summary>What the token says the system holds, read at one point.</summary>
/// <param name="Settled">The manager address's balance at that point, counting only incoming transfers whose notices were delivered.</param>
/// <param name="InFlight">Outgoing transfers that left <paramref name="Settled"/> but are not confirmed yet: the ledger still
/// counts them as owed until the gateway confirms them.</param>
/// <param name="ReadAt">Where the balance was read (e.g. "block 1234"), or <see langword="null"/> when the token has one state.</param>
public sealed record TokenHoldings(TokenAmount Settled, TokenAmount InFlight, string? ReadAt);

/// <summary>Holdings against obligations for one token.</summary>
/// <param name="Asset">The token.</param>
/// <param name="Holdings">What the token says the system holds (<see cref="ITokenHoldings"/>).</param>
/// <param name="Obligations">What the ledger holds for someone: every token that entered and has not been confirmed out.</param>
public sealed record Solvency(AssetCode Asset, TokenAmount Holdings, TokenAmount Obligations)
{
    /// <summary>Outgoing transfers that already left <see cref="Holdings"/> but are not confirmed yet (still in <see cref="Obligations"/>): paid, waiting for finality.</summary>
    public TokenAmount InFlight { get; init; }

    /// <summary>Where the holdings were read (e.g. "block 1234"); <see langword="null"/> when the token has one state.</summary>
    public string? ReadAt { get; init; }

    /// <summary>Tokens nobody is owed: holdings and what is in flight above obligations (zero when there are none).</summary>
    public TokenAmount Surplus => Covered > Obligations ? Covered - Obligations : TokenAmount.Zero;

    /// <summary>Obligations the holdings and what is in flight do not cover (zero when solvent): an incident.</summary>
    public TokenAmount Shortfall => Obligations > Covered ? Obligations - Covered : TokenAmount.Zero;

    /// <summary>The holdings, with the payouts in flight, cover every obligation.</summary>
    public bool IsSolvent => Covered >= Obligations;

    private TokenAmount Covered => Holdings + InFlight;

    /// <summary>The report of <paramref name="holdings"/> against <paramref name="obligations"/>.</summary>
    public static Solvency Of(AssetCode asset, TokenHoldings holdings, TokenAmount obligations)
    {
        ArgumentNullException.ThrowIfNull(holdings);
        return new Solvency(asset, holdings.Settled, obligations) { InFlight = holdings.InFlight, ReadAt = holdings.ReadAt };
    }
}

/// <summary>The outcome of an emergency withdrawal.</summary>
public enum EmergencyWithdrawalResult
{
    /// <summary>The amount was written to the outbox, to the given address.</summary>
    Enqueued = 1,

    /// <summary>The same withdrawal was enqueued before (an idempotent replay); nothing changed.</summary>
    Exists = 2,

    /// <summary>The id was used for another outgoing transfer; nothing changed.</summary>
    IdTaken = 3,

    /// <summary>The system is not paused; an emergency withdrawal needs the system paused first.</summary>
    SystemNotPaused = 4,

    /// <summary>The amount is zero or more than the surplus (the message names holdings and obligations).</summary>
    ExceedsSurplus = 5,
}

/// <summary>The result of <see cref="EmergencyWithdrawal.WithdrawAsync"/>.</summary>
/// <param name="Result">What happened.</param>
/// <param name="Solvency">Holdings and obligations as the command saw them (before the withdrawal).</param>
/// <param name="Error">Why it was refused; null when enqueued or replayed.</param>
public sealed record EmergencyWithdrawalOutcome(EmergencyWithdrawalResult Result, Solvency? Solvency, string? Error);

/// <summary>
/// The safety withdrawal, made safe: while the system is paused, an operator may send away only tokens nobody is
/// owed — the token's settled holdings minus the ledger's obligations (everything received and not confirmed out,
/// including what waits in the outbox). Users' funds can never be taken: the obligations are read under the issuance
/// account's lock, so two withdrawals cannot both spend the same surplus, and the withdrawal itself becomes an
/// obligation (in the outbox) until the gateway confirms it.
/// </summary>
public sealed class EmergencyWithdrawal
{
    /// <summary>The kind of the outgoing transfers of emergency withdrawals.</summary>
    public static TransferKind Kind { get; } = TransferKind.Parse("emergency-withdrawal");

    private readonly IAnpmStore _store;
    private readonly Ledger _ledger;
    private readonly Outbox _outbox;
    private readonly ITokenHoldings _holdings;

    /// <summary>Creates the command.</summary>
    /// <param name="store">The store.</param>
    /// <param name="ledger">The ledger over the same store.</param>
    /// <param name="outbox">Sends the withdrawal.</param>
    /// <param name="holdings">Tells what the token holds.</param>
    public EmergencyWithdrawal(IAnpmStore store, Ledger ledger, Outbox outbox, ITokenHoldings holdings)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(ledger);
        ArgumentNullException.ThrowIfNull(outbox);
        ArgumentNullException.ThrowIfNull(holdings);
        _store = store;
        _ledger = ledger;
        _outbox = outbox;
        _holdings = holdings;
    }

    /// <summary>Whether the application registered the token's holdings (<see cref="ITokenHoldings"/>): without them there is no solvency report.</summary>
    public bool KnowsHoldings => _holdings is not UnconfiguredTokenHoldings;

    /// <summary>Holdings against obligations for a token (the solvency report).</summary>
    /// <param name="asset">The token.</param>
    /// <param name="cancellationToken">Cancels the reads.</param>
    public async ValueTask<Solvency> GetSolvencyAsync(AssetCode asset, CancellationToken cancellationToken = default)
    {
        var holdings = await _holdings.GetHoldingsAsync(asset, cancellationToken).ConfigureAwait(false);
        var obligations = await _store.RunReadAsync(asset, static async (unitOfWork, asset, ct) =>
            ObligationsOf(await unitOfWork.Ledger.GetAccountAsync(SystemAccounts.Issuance(asset), ct).ConfigureAwait(false)), cancellationToken).ConfigureAwait(false);
        return Solvency.Of(asset, holdings, obligations);
    }

    /// <summary>
    /// Sends <paramref name="amount"/> of tokens nobody is owed to <paramref name="to"/> through the outbox. Only while the
    /// system is paused; the outbox sends it once the system resumes.
    /// </summary>
    /// <param name="id">The withdrawal's id (the outgoing transfer's id; a replay with the same fields answers Exists).</param>
    /// <param name="asset">The token.</param>
    /// <param name="to">Where the tokens go.</param>
    /// <param name="amount">How much, at most the surplus.</param>
    /// <param name="cancellationToken">Cancels the command.</param>
    public async ValueTask<EmergencyWithdrawalOutcome> WithdrawAsync(TransferId id, AssetCode asset, Address to, TokenAmount amount, CancellationToken cancellationToken = default)
    {
        // Payouts in flight are not counted here: they may be confirmed between this read and the obligations' (then they
        // would be counted twice), so only the balance itself can be withdrawn — a conservative surplus.
        var holdings = (await _holdings.GetHoldingsAsync(asset, cancellationToken).ConfigureAwait(false)) with { InFlight = TokenAmount.Zero };
        return await _store.RunAsync((Command: this, Id: id, Asset: asset, To: to, Amount: amount, Holdings: holdings), static async (unitOfWork, request, ct) =>
        {
            var existing = await unitOfWork.Outbox.GetOutgoingAsync(request.Id, ct).ConfigureAwait(false);
            if (existing is not null)
            {
                var same = existing.Kind == Kind && existing.To == request.To && existing.Asset == request.Asset && existing.Amount == request.Amount;
                return new EmergencyWithdrawalOutcome(same ? EmergencyWithdrawalResult.Exists : EmergencyWithdrawalResult.IdTaken, null,
                    same ? null : $"Outgoing transfer '{request.Id}' exists with other fields.");
            }

            if (!await unitOfWork.System.IsPausedAsync(ct).ConfigureAwait(false))
            {
                return new EmergencyWithdrawalOutcome(EmergencyWithdrawalResult.SystemNotPaused, null, "An emergency withdrawal needs the system paused first.");
            }

            foreach (var created in await request.Command._ledger.CreateAccountsAsync(unitOfWork, SystemAccounts.For(request.Asset), ct).ConfigureAwait(false))
            {
                if (!created.IsSuccess())
                {
                    throw new AnpmException($"The system accounts of {request.Asset} could not be created: {created}.");
                }
            }

            // Lock the issuance account first: a concurrent deposit, confirmation or withdrawal waits, so the obligations
            // read here stay true until this unit of work commits.
            var locked = await unitOfWork.Ledger.GetAccountsForUpdateAsync([SystemAccounts.Issuance(request.Asset)], ct).ConfigureAwait(false);
            var solvency = Solvency.Of(request.Asset, request.Holdings, locked.Length == 0 ? TokenAmount.Zero : ObligationsOf(locked[0].Totals));
            if (request.Amount.IsZero || request.Amount > solvency.Surplus)
            {
                return new EmergencyWithdrawalOutcome(EmergencyWithdrawalResult.ExceedsSurplus, solvency,
                    $"Only tokens nobody is owed can be withdrawn: the token holds {solvency.Holdings} and {solvency.Obligations} are owed, so at most {solvency.Surplus} (asked {request.Amount}).");
            }

            var sent = await request.Command._outbox.EnqueueAsync(unitOfWork, request.Id, SystemAccounts.Issuance(request.Asset), request.To, request.Asset,
                request.Amount, Kind, "emergency", ct).ConfigureAwait(false);
            return sent.Result == EnqueueResult.Enqueued
                ? new EmergencyWithdrawalOutcome(EmergencyWithdrawalResult.Enqueued, solvency, null)
                : throw sent.ToException($"Enqueuing emergency withdrawal '{request.Id}'");
        }, cancellationToken).ConfigureAwait(false);
    }

    private static TokenAmount ObligationsOf(LedgerAccount? issuance) => issuance is null ? TokenAmount.Zero : ObligationsOf(issuance.Totals);

    // Issuance is debited when tokens enter and credited when they are confirmed out: what is inside is the difference.
    private static TokenAmount ObligationsOf(AccountTotals totals)
    {
        var entered = totals.DebitsPosted + totals.DebitsPending;
        return entered > totals.CreditsPosted ? entered - totals.CreditsPosted : TokenAmount.Zero;
    }
}
