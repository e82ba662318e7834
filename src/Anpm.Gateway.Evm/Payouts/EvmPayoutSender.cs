using System.Diagnostics.Metrics;
using System.Globalization;
using System.Numerics;
using Anpm.Abstractions;
using Anpm.Credits;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Nethereum.Contracts;
using Nethereum.Contracts.Standards.ERC20.ContractDefinition;

namespace Anpm.Gateway.Evm;

/// <summary>Why the sender did not sign a payment now (it is sent again later; nothing was reserved).</summary>
public enum EvmPayoutHold
{
    /// <summary>Nothing held it.</summary>
    None = 0,

    /// <summary>Another instance holds the wallet's lock.</summary>
    WalletBusy = 1,

    /// <summary>The next base fee plus the tip is above <see cref="EvmPayoutOptions.MaxFeePerGasGwei"/>.</summary>
    FeeCapReached = 2,

    /// <summary>The wallet's ether cannot pay the gas at the fee cap.</summary>
    InsufficientGasFunds = 3,

    /// <summary>The wallet's tokens cannot pay this transfer on top of the open ones.</summary>
    InsufficientTokens = 4,

    /// <summary>The transfer is not in this sender's asset.</summary>
    OtherAsset = 5,

    /// <summary>The node could not be reached or refused a read.</summary>
    ChainUnavailable = 6,

    /// <summary>The transfer is above <see cref="EvmPayoutOptions.MaxTransferAmount"/>: an operator must deal with it.</summary>
    AboveTransferLimit = 7,

    /// <summary>Paying it would pass <see cref="EvmPayoutOptions.MaxDailyAmount"/> in the last 24 hours; it waits.</summary>
    DailyLimitReached = 8,
}

/// <summary>What one <see cref="EvmPayoutSender.ReconcileAsync"/> did.</summary>
/// <param name="Open">Open nonces looked at.</param>
/// <param name="Confirmed">Payments confirmed at finality (their outgoing transfers confirmed).</param>
/// <param name="Failed">Payments reverted at finality (their outgoing transfers failed on chain).</param>
/// <param name="Released">Nonces used by another transaction at finality (their transfers re-sent on new nonces).</param>
/// <param name="Replaced">Replacements signed (fee bumps and cancellations).</param>
/// <param name="Rebroadcast">Transactions the node did not know, broadcast again.</param>
/// <param name="OldestOpenSince">When the oldest nonce still open after this round was reserved; <see langword="null"/> when none is.</param>
public sealed record EvmReconcileResult(int Open, int Confirmed, int Failed, int Released, int Replaced, int Rebroadcast, DateTimeOffset? OldestOpenSince);

/// <summary>
/// The outbox's token gateway on an EVM chain: pays each outgoing transfer with an ERC-20 <c>transfer</c> from one hot
/// wallet, exactly once.
/// <list type="bullet">
/// <item>One writer per wallet: a job lock, and the store's atomic nonce reservation (one transfer per nonce, one open
/// nonce per transfer).</item>
/// <item>The nonce is reserved and the signed bytes stored before anything is broadcast; a re-send broadcasts the same
/// bytes, or a replacement at the same nonce with fees ≥ 12.5 % higher on both fields, never above the fee cap.</item>
/// <item>A payment is confirmed only at finality, from its receipt (status 1, block hash re-checked, the expected
/// <c>Transfer</c> log); a reverted one moves the outgoing transfer to <see cref="OutgoingTransferState.FailedOnChain"/>.</item>
/// <item>A transfer takes a new nonce only once its old nonce was used at finality by another transaction (its
/// cancellation after <see cref="EvmPayoutOptions.CancelAfterSeconds"/>, or one sent elsewhere) and none of its own
/// transactions was mined.</item>
/// <item>Open nonces the node forgot are broadcast again (gaps filled); a failed broadcast never moves the next nonce.</item>
/// </list>
/// Run <see cref="ReconcileAsync"/> periodically (every few blocks) beside the outbox's dispatch.
/// </summary>
public sealed partial class EvmPayoutSender : ITokenGateway
{

    private readonly IEvmChainClient _chain;
    private readonly EvmGatewayMetrics _metrics;
    private readonly ILogger _logger;
    private readonly IEvmTransactionSigner _signer;
    private readonly IAnpmStore _store;
    private readonly Func<Outbox> _outbox;
    private readonly TimeProvider _time;
    private readonly EvmPayoutOptions _options;
    private readonly AssetCode _asset;
    private readonly string _token;
    private readonly string _walletTopic;
    private readonly string _lockKey;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<TransferId, EvmPayoutHold> _held = new();

    /// <summary>Creates the sender; nothing is read until the first send or reconciliation.</summary>
    /// <param name="chain">The chain (one node, or several behind a <see cref="ResilientChainClient"/>).</param>
    /// <param name="signer">Signs for the hot wallet.</param>
    /// <param name="store">The store: nonces, signed transactions and the outbox.</param>
    /// <param name="outbox">The outbox that confirms or fails transfers (resolved when first needed: the outbox depends on this gateway).</param>
    /// <param name="options">Chain, token, finality, fee and time limits.</param>
    /// <param name="timeProvider">The clock (when to replace or cancel).</param>
    /// <param name="metrics">Where it counts (the application's, from <c>AddEvmGateway</c>); instruments of its own when none is given.</param>
    /// <param name="logger">Where held and failed payouts are logged, naming the transfer; nowhere when none is given.</param>
    /// <exception cref="OptionsValidationException">The options are invalid; the failures name each option.</exception>
    public EvmPayoutSender(
        IEvmChainClient chain, IEvmTransactionSigner signer, IAnpmStore store, Func<Outbox> outbox, IOptions<EvmPayoutOptions> options, TimeProvider timeProvider,
        EvmGatewayMetrics? metrics = null, ILogger<EvmPayoutSender>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(chain);
        ArgumentNullException.ThrowIfNull(signer);
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(outbox);
        ArgumentNullException.ThrowIfNull(timeProvider);
        _chain = chain;
        _signer = signer;
        _store = store;
        _outbox = outbox;
        _time = timeProvider;
        _metrics = metrics ?? EvmGatewayMetrics.Standalone();
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _options = ValidatedOptions.Value(options, new EvmPayoutOptionsValidator());
        _asset = AssetCode.Parse(_options.Asset);
        _token = Address.Parse(_options.Token).ToString();
        _walletTopic = Topic(signer.Address);
        _lockKey = string.Create(CultureInfo.InvariantCulture, $"evm-payouts:{_options.ChainId}:{signer.Address}");
    }

    /// <summary>The hot wallet.</summary>
    public Address Wallet => _signer.Address;

    /// <summary>Why the latest send did not sign (<see cref="EvmPayoutHold.None"/> when it did, or before any).</summary>
    public EvmPayoutHold LastHold { get; private set; }

    /// <summary>
    /// The transfers this instance last held, each with why (until it signs them or they are settled): what the
    /// <see cref="EvmPayoutHealthCheck"/> reports.
    /// </summary>
    public IReadOnlyDictionary<TransferId, EvmPayoutHold> HeldTransfers => _held;

    /// <summary>The latest reconciliation's result, or <see langword="null"/> before the first.</summary>
    public EvmReconcileResult? LastReconcile { get; private set; }

    /// <inheritdoc />
    /// <remarks>
    /// Accepted once the transfer has a reserved nonce and stored signed bytes (broadcast, or to be broadcast again by
    /// <see cref="ReconcileAsync"/>); retry later when the wallet is busy, fees are above the cap, funds are short or
    /// the node is unreachable — then nothing was reserved.
    /// </remarks>
    public async ValueTask<GatewaySendResult> SendAsync(OutgoingTransfer transfer, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(transfer);
        if (transfer.Asset != _asset)
        {
            return Hold(EvmPayoutHold.OtherAsset, transfer.Id);
        }

        var walletLock = await LockAsync(cancellationToken).ConfigureAwait(false);
        if (walletLock is null)
        {
            return Hold(EvmPayoutHold.WalletBusy, transfer.Id);
        }

        await using (walletLock.ConfigureAwait(false))
        {
            try
            {
                // Read again under the lock: a transfer confirmed or failed meanwhile (with its nonce, in one commit) is left alone.
                var (current, latest) = await _store.RunReadAsync((Chain: _options.ChainId, transfer.Id), static async (unitOfWork, key, ct) =>
                    (Transfer: await unitOfWork.Outbox.GetOutgoingAsync(key.Id, ct).ConfigureAwait(false),
                        Nonce: await unitOfWork.Chain.GetLatestNonceOfTransferAsync(key.Chain, key.Id, ct).ConfigureAwait(false)), cancellationToken).ConfigureAwait(false);
                if (current is not { State: OutgoingTransferState.Pending or OutgoingTransferState.Dispatched })
                {
                    _held.TryRemove(transfer.Id, out _);
                    return new GatewaySendResult(GatewaySendStatus.Accepted, current?.ExternalReference ?? string.Empty);
                }

                var lastFinal = await LastFinalAsync(cancellationToken).ConfigureAwait(false);
                if (latest is { State: ChainNonceState.Open })
                {
                    var step = await AdvanceAsync(latest, lastFinal, cancellationToken).ConfigureAwait(false);
                    if (step.State != ChainNonceState.Released)
                    {
                        return new GatewaySendResult(GatewaySendStatus.Accepted, step.Hash);
                    }

                    latest = latest with { State = ChainNonceState.Released };
                }

                if (latest is { State: ChainNonceState.Confirmed })
                {
                    // Paid already (the nonce and the outbox commit together, so this repairs nothing but costs nothing).
                    await SettleAsync(latest, latest.FinalHash, latest.State, cancellationToken).ConfigureAwait(false);
                    return new GatewaySendResult(GatewaySendStatus.Accepted, latest.FinalHash);
                }

                // No nonce yet, its nonce released, or its payment reverted and an operator retried it: pay on a new nonce.
                var sent = await PayOnNewNonceAsync(current, latest is null ? 0 : latest.Round + 1, cancellationToken).ConfigureAwait(false);
                return sent is null ? new GatewaySendResult(GatewaySendStatus.RetryLater) : new GatewaySendResult(GatewaySendStatus.Accepted, sent);
            }
            catch (Exception exception) when (exception is EvmRpcException or HttpRequestException or TimeoutException)
            {
                return Hold(EvmPayoutHold.ChainUnavailable, transfer.Id);
            }
        }
    }

    /// <summary>
    /// Looks at the wallet's open nonces, lowest first: confirms or fails what is final, releases nonces another
    /// transaction used (and pays their transfers again on new nonces), replaces what waited too long (higher fees, or a
    /// cancellation), and broadcasts again what the node forgot (filling nonce gaps).
    /// </summary>
    /// <returns>What it did, or <see langword="null"/> when another instance holds the wallet's lock.</returns>
    public async Task<EvmReconcileResult?> ReconcileAsync(CancellationToken cancellationToken = default)
    {
        var walletLock = await LockAsync(cancellationToken).ConfigureAwait(false);
        if (walletLock is null)
        {
            return null;
        }

        await using (walletLock.ConfigureAwait(false))
        {
            var lastFinal = await LastFinalAsync(cancellationToken).ConfigureAwait(false);
            var open = await _store.RunReadAsync((Chain: _options.ChainId, Wallet, _options.ReconcileBatchSize), static (unitOfWork, key, ct) =>
                unitOfWork.Chain.GetOpenNoncesAsync(key.Chain, key.Wallet, key.ReconcileBatchSize, ct), cancellationToken).ConfigureAwait(false);
            int confirmed = 0, failed = 0, released = 0, replaced = 0, rebroadcast = 0;
            DateTimeOffset? oldestOpen = null;
            foreach (var nonce in open)
            {
                var step = await AdvanceAsync(nonce, lastFinal, cancellationToken).ConfigureAwait(false);
                confirmed += step.State == ChainNonceState.Confirmed ? 1 : 0;
                failed += step.State == ChainNonceState.Failed ? 1 : 0;
                replaced += step.Replaced ? 1 : 0;
                rebroadcast += step.Rebroadcast ? 1 : 0;
                if (step.State == ChainNonceState.Open && (oldestOpen is null || nonce.ReservedAt < oldestOpen))
                {
                    oldestOpen = nonce.ReservedAt;
                }

                if (step.State == ChainNonceState.Released)
                {
                    released++;
                    var transfer = await _store.RunReadAsync(nonce.TransferId, static (unitOfWork, id, ct) => unitOfWork.Outbox.GetOutgoingAsync(id, ct), cancellationToken)
                        .ConfigureAwait(false);
                    if (transfer is { State: OutgoingTransferState.Pending or OutgoingTransferState.Dispatched })
                    {
                        await PayOnNewNonceAsync(transfer, nonce.Round + 1, cancellationToken).ConfigureAwait(false);
                    }
                }
            }

            LastReconcile = new EvmReconcileResult(open.Count, confirmed, failed, released, replaced, rebroadcast, oldestOpen);
            return LastReconcile;
        }
    }

    /// <summary>
    /// The payouts that left the hot wallet by <paramref name="atBlock"/> but are not confirmed yet: each open nonce whose
    /// payment is mined, succeeded and paid its transfer at or below that block (on the canonical chain). The ledger still
    /// owes them until <see cref="ReconcileAsync"/> confirms them at finality, so the solvency report counts them beside the
    /// wallet's balance at that block (<see cref="EvmTokenHoldings"/>).
    /// </summary>
    /// <param name="atBlock">The block the wallet's balance is read at.</param>
    /// <param name="cancellationToken">Cancels the reads.</param>
    public async Task<TokenAmount> GetPaidUnconfirmedAsync(long atBlock, CancellationToken cancellationToken = default)
    {
        var open = await _store.RunReadAsync((Chain: _options.ChainId, Wallet), static (unitOfWork, key, ct) =>
            unitOfWork.Chain.GetOpenNoncesAsync(key.Chain, key.Wallet, 10_000, ct), cancellationToken).ConfigureAwait(false);
        var total = TokenAmount.Zero;
        foreach (var nonce in open)
        {
            var (transfer, transactions) = await _store.RunReadAsync((Chain: _options.ChainId, Wallet, nonce.Nonce, nonce.TransferId), static async (unitOfWork, key, ct) =>
                (await unitOfWork.Outbox.GetOutgoingAsync(key.TransferId, ct).ConfigureAwait(false),
                 await unitOfWork.Chain.GetTransactionsAsync(key.Chain, key.Wallet, key.Nonce, ct).ConfigureAwait(false)), cancellationToken).ConfigureAwait(false);
            if (transfer is null)
            {
                continue;
            }

            foreach (var transaction in transactions.Where(t => t.Kind == ChainTransactionKind.Payment))
            {
                if (await _chain.GetReceiptAsync(transaction.Hash, cancellationToken).ConfigureAwait(false) is { } receipt
                    && receipt.BlockNumber <= atBlock && receipt.Succeeded
                    && (await _chain.GetBlockAsync(receipt.BlockNumber, cancellationToken).ConfigureAwait(false))?.Hash == receipt.BlockHash
                    && await PaidAsync(nonce.TransferId, receipt, cancellationToken).ConfigureAwait(false))
                {
                    total += transfer.Amount;
                    break; // one transaction per nonce can be mined
                }
            }
        }

        return total;
    }

    // Reserves the wallet's next nonce for the transfer, signs its payment, stores both, then broadcasts. Null when held.
    private async Task<string?> PayOnNewNonceAsync(OutgoingTransfer transfer, int round, CancellationToken ct)
    {
        if (_options.TransferLimit is { } transferLimit && transfer.Amount > transferLimit)
        {
            Hold(EvmPayoutHold.AboveTransferLimit, transfer.Id);
            return null;
        }

        if (round == 0 && _options.DailyLimit is { } dailyLimit)
        {
            var since = _time.GetUtcNow().AddDays(-1);
            var committed = await _store.RunReadAsync((Chain: _options.ChainId, Wallet, Since: since), static (unitOfWork, key, ct) =>
                unitOfWork.Chain.GetAmountsReservedSinceAsync(key.Chain, key.Wallet, key.Since, ct), ct).ConfigureAwait(false);
            var total = committed.Aggregate(BigInteger.Zero, (sum, amount) => sum + amount.BaseUnits) + transfer.Amount.BaseUnits;
            if (total > dailyLimit.BaseUnits)
            {
                Hold(EvmPayoutHold.DailyLimitReached, transfer.Id);
                return null;
            }
        }

        var data = TransferData(transfer);
        var market = await _chain.GetFeeMarketAsync(ct).ConfigureAwait(false);
        if (Eip1559Fees.ForNextBlock(market.NextBaseFee, market.SuggestedTip, _options.TipFloor, _options.MaxFeePerGas) is not { } fees)
        {
            Hold(EvmPayoutHold.FeeCapReached, transfer.Id);
            return null;
        }

        var gasLimit = await GasLimitAsync(data, ct).ConfigureAwait(false);
        if (await _chain.GetBalanceAsync(Wallet.ToString(), ct).ConfigureAwait(false) < gasLimit * fees.MaxFeePerGas)
        {
            Hold(EvmPayoutHold.InsufficientGasFunds, transfer.Id);
            return null;
        }

        (long? highest, BigInteger owed) = await _store.RunReadAsync((Chain: _options.ChainId, Wallet), static async (unitOfWork, key, ct) =>
        {
            var highest = await unitOfWork.Chain.GetHighestNonceAsync(key.Chain, key.Wallet, ct).ConfigureAwait(false);
            var owed = BigInteger.Zero;
            foreach (var open in await unitOfWork.Chain.GetOpenNoncesAsync(key.Chain, key.Wallet, 10_000, ct).ConfigureAwait(false))
            {
                owed += (await unitOfWork.Outbox.GetOutgoingAsync(open.TransferId, ct).ConfigureAwait(false))?.Amount.BaseUnits is { } units ? (BigInteger)units : BigInteger.Zero;
            }

            return (Highest: highest, Owed: owed);
        }, ct).ConfigureAwait(false);
        if (await _chain.GetTokenBalanceAsync(_token, Wallet.ToString(), null, ct).ConfigureAwait(false) < owed + (BigInteger)transfer.Amount.BaseUnits)
        {
            Hold(EvmPayoutHold.InsufficientTokens, transfer.Id);
            return null;
        }

        var nonce = Math.Max(highest is { } h ? h + 1 : 0, await _chain.GetTransactionCountAsync(Wallet.ToString(), null, ct).ConfigureAwait(false));
        var signed = await _signer.SignAsync(new EvmTransactionRequest(_options.ChainId, nonce, _token, BigInteger.Zero, data, gasLimit, fees), ct).ConfigureAwait(false);
        var now = _time.GetUtcNow();
        var reservation = new ChainNonce
        {
            ChainId = _options.ChainId,
            Wallet = Wallet,
            Nonce = nonce,
            TransferId = transfer.Id,
            Round = round,
            State = ChainNonceState.Open,
            ReservedAt = now,
        };
        var stored = Stored(signed, nonce, 0, ChainTransactionKind.Payment, fees, now);
        var kept = await _store.RunAsync((Nonce: reservation, Transaction: stored), static async (unitOfWork, write, ct) =>
            await unitOfWork.Chain.TryReserveNonceAsync(write.Nonce, ct).ConfigureAwait(false)
            && await unitOfWork.Chain.TryAddTransactionAsync(write.Transaction, ct).ConfigureAwait(false), ct).ConfigureAwait(false);
        if (!kept)
        {
            // Another sender took the nonce or the transfer's round first; nothing of ours was stored, so nothing is broadcast.
            Hold(EvmPayoutHold.WalletBusy, transfer.Id);
            return null;
        }

        _metrics.PayoutsSigned.Add(1, Tag("kind", "payment"));
        LastHold = EvmPayoutHold.None;
        _held.TryRemove(transfer.Id, out _);
        await BroadcastAsync(stored.RawTransaction, ct).ConfigureAwait(false);
        return stored.Hash;
    }

    // Moves one open nonce forward: settles it at finality, releases it, replaces or re-broadcasts its latest transaction.
    private async Task<Step> AdvanceAsync(ChainNonce nonce, long lastFinal, CancellationToken ct)
    {
        var transactions = await _store.RunReadAsync((Chain: _options.ChainId, Wallet, nonce.Nonce), static (unitOfWork, key, ct) =>
            unitOfWork.Chain.GetTransactionsAsync(key.Chain, key.Wallet, key.Nonce, ct), ct).ConfigureAwait(false);
        if (transactions.Count == 0)
        {
            throw new AnpmException($"Nonce {nonce.Nonce} of {Wallet} is reserved without a signed transaction; the store is inconsistent.");
        }

        foreach (var transaction in transactions)
        {
            if (await _chain.GetReceiptAsync(transaction.Hash, ct).ConfigureAwait(false) is not { } receipt)
            {
                continue;
            }

            // Mined: final only at or below the final block, and only while that block is still the canonical one.
            if (receipt.BlockNumber > lastFinal || (await _chain.GetBlockAsync(receipt.BlockNumber, ct).ConfigureAwait(false))?.Hash != receipt.BlockHash)
            {
                return new Step(ChainNonceState.Open, transaction.Hash, false, false);
            }

            var outcome = transaction.Kind == ChainTransactionKind.Cancellation ? ChainNonceState.Released
                : receipt.Succeeded && await PaidAsync(nonce.TransferId, receipt, ct).ConfigureAwait(false) ? ChainNonceState.Confirmed
                : ChainNonceState.Failed;
            await SettleAsync(nonce, transaction.Hash, outcome, ct).ConfigureAwait(false);
            return new Step(outcome, transaction.Hash, false, false);
        }

        // None of its transactions is mined. If the wallet's count at the final block passed the nonce, another transaction used it.
        if (await _chain.GetTransactionCountAsync(Wallet.ToString(), lastFinal, ct).ConfigureAwait(false) > nonce.Nonce)
        {
            await SettleAsync(nonce, string.Empty, ChainNonceState.Released, ct).ConfigureAwait(false);
            return new Step(ChainNonceState.Released, string.Empty, false, false);
        }

        var latest = transactions[^1];
        var now = _time.GetUtcNow();
        var cancel = latest.Kind == ChainTransactionKind.Payment && now - transactions[0].SignedAt >= TimeSpan.FromSeconds(_options.CancelAfterSeconds);
        if (cancel || now - latest.SignedAt >= TimeSpan.FromSeconds(_options.ReplaceAfterSeconds))
        {
            var market = await _chain.GetFeeMarketAsync(ct).ConfigureAwait(false);
            var marketFees = Eip1559Fees.ForNextBlock(market.NextBaseFee, market.SuggestedTip, _options.TipFloor, BigInteger.Max(_options.MaxFeePerGas, market.NextBaseFee + market.SuggestedTip))!.Value;
            if (new Eip1559Fees(latest.MaxFeePerGas, latest.MaxPriorityFeePerGas).BumpedFor(marketFees, _options.MaxFeePerGas) is { } bumped)
            {
                var replacement = await ReplaceAsync(nonce, latest, cancel ? ChainTransactionKind.Cancellation : latest.Kind, bumped, ct).ConfigureAwait(false);
                if (replacement is not null)
                {
                    await BroadcastAsync(replacement.RawTransaction, ct).ConfigureAwait(false);
                    return new Step(ChainNonceState.Open, replacement.Hash, true, false);
                }
            }
            else
            {
                Hold(EvmPayoutHold.FeeCapReached, nonce.TransferId);
            }
        }

        if (!await _chain.IsTransactionKnownAsync(latest.Hash, ct).ConfigureAwait(false))
        {
            await BroadcastAsync(latest.RawTransaction, ct).ConfigureAwait(false);
            return new Step(ChainNonceState.Open, latest.Hash, false, true);
        }

        return new Step(ChainNonceState.Open, latest.Hash, false, false);
    }

    // Signs and stores the next attempt at the nonce: the same payment with higher fees, or a cancellation. Null when another sender stored one first.
    private async Task<ChainTransaction?> ReplaceAsync(ChainNonce nonce, ChainTransaction latest, ChainTransactionKind kind, Eip1559Fees fees, CancellationToken ct)
    {
        EvmTransactionRequest request;
        if (kind == ChainTransactionKind.Cancellation)
        {
            request = new EvmTransactionRequest(_options.ChainId, nonce.Nonce, Wallet.ToString(), BigInteger.Zero, "0x", 21_000, fees);
        }
        else
        {
            var transfer = await _store.RunReadAsync(nonce.TransferId, static (unitOfWork, id, ct) => unitOfWork.Outbox.GetOutgoingAsync(id, ct), ct).ConfigureAwait(false)
                ?? throw new AnpmException($"Nonce {nonce.Nonce} of {Wallet} pays outgoing transfer '{nonce.TransferId}', which does not exist.");
            var data = TransferData(transfer);
            request = new EvmTransactionRequest(_options.ChainId, nonce.Nonce, _token, BigInteger.Zero, data, await GasLimitAsync(data, ct).ConfigureAwait(false), fees);
        }

        var signed = await _signer.SignAsync(request, ct).ConfigureAwait(false);
        var stored = Stored(signed, nonce.Nonce, latest.Attempt + 1, kind, fees, _time.GetUtcNow());
        if (!await _store.RunAsync(stored, static (unitOfWork, t, ct) => unitOfWork.Chain.TryAddTransactionAsync(t, ct), ct).ConfigureAwait(false))
        {
            return null;
        }

        _metrics.PayoutsSigned.Add(1, Tag("kind", kind == ChainTransactionKind.Cancellation ? "cancellation" : "replacement"));
        return stored;
    }

    // Records a final nonce and its outgoing transfer's fate in one unit of work.
    private async Task SettleAsync(ChainNonce nonce, string hash, ChainNonceState outcome, CancellationToken ct)
    {
        var outbox = _outbox();
        await _store.RunAsync((Nonce: nonce, Hash: hash, Outcome: outcome, Outbox: outbox), static async (unitOfWork, settle, ct) =>
        {
            var current = await unitOfWork.Chain.GetNonceAsync(settle.Nonce.ChainId, settle.Nonce.Wallet, settle.Nonce.Nonce, ct).ConfigureAwait(false)
                ?? throw new AnpmException($"Nonce {settle.Nonce.Nonce} of {settle.Nonce.Wallet} vanished.");
            if (current.State == ChainNonceState.Open)
            {
                await unitOfWork.Chain.UpdateNonceAsync(current with { State = settle.Outcome, FinalHash = settle.Hash }, current.Version, ct).ConfigureAwait(false);
            }

            switch (settle.Outcome)
            {
                case ChainNonceState.Confirmed:
                    var confirmed = await settle.Outbox.ConfirmAsync(unitOfWork, settle.Nonce.TransferId, settle.Hash, ct).ConfigureAwait(false);
                    if (confirmed is not (ConfirmResult.Confirmed or ConfirmResult.AlreadyConfirmed))
                    {
                        throw new AnpmException($"Outgoing transfer '{settle.Nonce.TransferId}' was paid by {settle.Hash} but could not be confirmed: {confirmed}.");
                    }

                    break;
                case ChainNonceState.Failed:
                    await settle.Outbox.FailOnChainAsync(unitOfWork, settle.Nonce.TransferId, settle.Hash, ct).ConfigureAwait(false);
                    break;
            }

            return true;
        }, ct).ConfigureAwait(false);
        if (outcome != ChainNonceState.Open)
        {
            _metrics.PayoutsFinal.Add(1, Tag("outcome", outcome.ToString().ToLowerInvariant()));
        }

        if (outcome == ChainNonceState.Failed)
        {
            LogFailedOnChain(_logger, nonce.TransferId, hash);
        }
    }

    // The receipt holds the token's Transfer(wallet → recipient, amount) of this transfer.
    private async Task<bool> PaidAsync(TransferId id, EvmReceipt receipt, CancellationToken ct)
    {
        var transfer = await _store.RunReadAsync(id, static (unitOfWork, id, ct) => unitOfWork.Outbox.GetOutgoingAsync(id, ct), ct).ConfigureAwait(false);
        if (transfer is null)
        {
            return false;
        }

        var to = Topic(transfer.To);
        var amount = "0x" + ((BigInteger)transfer.Amount.BaseUnits).ToString("x64", CultureInfo.InvariantCulture)[^64..];
        return receipt.Logs.Any(log => log.Address == _token && log.Topics is [EvmDepositListener.TransferTopic, var from, var recipient]
            && from == _walletTopic && recipient == to && log.Data == amount);
    }

    private async Task<BigInteger> GasLimitAsync(string data, CancellationToken ct)
    {
        try
        {
            var estimate = await _chain.EstimateGasAsync(Wallet.ToString(), _token, data, ct).ConfigureAwait(false);
            return estimate * (100 + _options.GasLimitMarginPercent) / 100;
        }
        catch (EvmRpcException)
        {
            // The node would not estimate it (e.g. the token reverts it now): sign with the fallback, so that a revert is
            // mined, final and shown as a failed transfer instead of a payment stuck before signing.
            return _options.FallbackGasLimit;
        }
    }

    private async Task BroadcastAsync(string raw, CancellationToken ct)
    {
        try
        {
            await _chain.SendRawTransactionAsync(raw, ct).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is EvmRpcException or HttpRequestException or TimeoutException)
        {
            // Stored before broadcast: the next reconciliation broadcasts the same bytes again if the node does not know them.
        }
    }

    private async Task<long> LastFinalAsync(CancellationToken ct) => (await _options.Finality.ReadLastFinalAsync(_chain, ct).ConfigureAwait(false)).LastFinal;

    private async Task<IAsyncDisposable?> LockAsync(CancellationToken ct) =>
        _store is IJobLockProvider locks ? await locks.TryAcquireAsync(_lockKey, ct).ConfigureAwait(false) : NoLock.Instance;

    private ChainTransaction Stored(EvmSignedTransaction signed, long nonce, int attempt, ChainTransactionKind kind, Eip1559Fees fees, DateTimeOffset now) => new()
    {
        ChainId = _options.ChainId,
        Wallet = Wallet,
        Nonce = nonce,
        Attempt = attempt,
        Kind = kind,
        Hash = signed.Hash,
        RawTransaction = signed.RawTransaction,
        MaxFeePerGas = fees.MaxFeePerGas,
        MaxPriorityFeePerGas = fees.MaxPriorityFeePerGas,
        SignedAt = now,
    };

    private GatewaySendResult Hold(EvmPayoutHold reason, TransferId transfer)
    {
        LastHold = reason;
        if (!_held.TryGetValue(transfer, out var before) || before != reason)
        {
            LogHeld(_logger, transfer, reason); // once per transfer and reason, not every round
        }

        _held[transfer] = reason;
        _metrics.PayoutsHeld.Add(1, Tag("reason", reason.ToString()));
        return new GatewaySendResult(GatewaySendStatus.RetryLater);
    }

    private KeyValuePair<string, object?>[] Tag(string name, string value) =>
        [new("chain", _options.ChainId), new(name, value)];

    // The call data of the token's transfer(recipient, amount), encoded by Nethereum's ERC-20 definition.
    private static string TransferData(OutgoingTransfer transfer) =>
        "0x" + Convert.ToHexStringLower(new TransferFunction { To = transfer.To.ToString(), Value = (BigInteger)transfer.Amount.BaseUnits }.GetCallData());

    private static string Topic(Address address) => "0x" + address.ToString()[2..].PadLeft(64, '0');

    private readonly record struct Step(ChainNonceState State, string Hash, bool Replaced, bool Rebroadcast);

    private sealed class NoLock : IAsyncDisposable
    {
        public static readonly NoLock Instance = new();

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    [LoggerMessage(EventId = 301, Level = LogLevel.Warning, Message = "Outgoing transfer {TransferId} is held ({Reason}); it is signed once that clears.")]
    private static partial void LogHeld(ILogger logger, TransferId transferId, EvmPayoutHold reason);

    [LoggerMessage(EventId = 302, Level = LogLevel.Error, Message = "Outgoing transfer {TransferId} failed on chain in {Hash}: it is FailedOnChain until an operator retries or returns it.")]
    private static partial void LogFailedOnChain(ILogger logger, TransferId transferId, string hash);
}
