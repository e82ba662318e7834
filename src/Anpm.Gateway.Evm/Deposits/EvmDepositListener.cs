using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Numerics;
using Anpm.Abstractions;
using Anpm.Credits;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Anpm.Gateway.Evm;

/// <summary>A deposit seen on the chain but not yet final: visible, never credited.</summary>
/// <param name="MessageId">The id its notice will carry (<see cref="EvmMessageIds"/>).</param>
/// <param name="Sender">Who sent the tokens (the router's payer for a router deposit).</param>
/// <param name="Quantity">How many base units.</param>
/// <param name="Action">The notice action it will carry.</param>
/// <param name="PoolId">The pool it names; empty when none.</param>
/// <param name="Reference">Its reference; empty for a plain transfer.</param>
/// <param name="BlockNumber">The block holding it now.</param>
/// <param name="Confirmations">How many blocks stand on that block, itself included.</param>
public sealed record PendingDeposit(string MessageId, Address Sender, TokenAmount Quantity, string Action, string PoolId, string Reference, long BlockNumber, long Confirmations);

/// <summary>What an operator's resume did.</summary>
public enum EvmResumeResult
{
    /// <summary>Crediting resumes from the block after the anchor.</summary>
    Resumed = 1,

    /// <summary>Crediting was not halted; nothing changed.</summary>
    NotHalted = 2,

    /// <summary>The anchor is not below the replaced block; nothing changed.</summary>
    AnchorNotBelowHalt = 3,
}

/// <summary>The outcome of <see cref="EvmDepositListener.ResumeAsync(long, OperatorAction, CancellationToken)"/>.</summary>
/// <param name="Result">What happened.</param>
/// <param name="HaltedAt">The replaced block that halted crediting, when it was halted.</param>
/// <param name="Error">Why nothing changed, in words; <see langword="null"/> when resumed.</param>
public sealed record EvmResumeOutcome(EvmResumeResult Result, long? HaltedAt, string? Error);

/// <summary>What one <see cref="EvmDepositListener.PollAsync"/> found.</summary>
/// <param name="Head">The chain's newest block.</param>
/// <param name="LastFinal">The highest final block (-1: none yet).</param>
/// <param name="Cursor">The highest block credited so far (-1: none yet).</param>
/// <param name="Credited">How many deposits this poll credited (replays not counted).</param>
/// <param name="Pending">The deposits above finality.</param>
/// <param name="HaltReason">Why crediting is halted, or <see langword="null"/> while it runs.</param>
public sealed record EvmPollResult(long Head, long LastFinal, long Cursor, int Credited, IReadOnlyList<PendingDeposit> Pending, string? HaltReason);

/// <summary>
/// Credits ERC-20 deposits to the custody address once their block is final, exactly once: each deposit becomes a token
/// notice (<see cref="TokenNoticeProcessor"/>) keyed by an id that survives reorgs, and the notices of a range commit in
/// one unit of work with the range's processed blocks (number and hash), the newest being the cursor. Deposits above
/// finality are only shown (<see cref="EvmPollResult.Pending"/>). Before each poll the cursor's hash is compared with
/// the chain's: a reorg that replaced a credited block halts crediting until an operator resumes it
/// (<see cref="ResumeAsync(long, OperatorAction, CancellationToken)"/>) — the ledger is never rewritten by the listener. One listener per chain and custody
/// address at a time (the host runs it under a job lock).
/// </summary>
public sealed partial class EvmDepositListener
{
    /// <summary>The first topic of an ERC-20 <c>Transfer(address,address,uint256)</c> log.</summary>
    public const string TransferTopic = "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef";

    /// <summary>The first topic of the router's <c>Deposited(bytes32,address,bytes32,uint8,uint256)</c> log.</summary>
    public static readonly string DepositedTopic = "0x" + Convert.ToHexStringLower(Keccak256.Hash("Deposited(bytes32,address,bytes32,uint8,uint256)"u8));

    /// <summary>The gateway's meter (<see cref="EvmGatewayMetrics"/>, which lists its instruments).</summary>
    public const string MeterName = EvmGatewayMetrics.MeterName;

    private readonly IEvmChainClient _chain;
    private readonly EvmGatewayMetrics _metrics;
    private readonly IAnpmStore _store;
    private readonly TokenNoticeProcessor _notices;
    private readonly EvmDepositOptions _options;
    private readonly string _token;
    private readonly string _custodyTopic;
    private readonly string? _router;
    private readonly string _haltCheckpoint;
    private readonly LogRangePlanner _planner;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;

    /// <summary>Creates the listener; nothing is read until the first poll.</summary>
    /// <exception cref="OptionsValidationException">The options are invalid; the failures name each option.</exception>
    /// <param name="chain">The chain (one node, or several behind a <see cref="ResilientChainClient"/>).</param>
    /// <param name="store">The store: recorded blocks, the halt, and the notices' ledger.</param>
    /// <param name="notices">Applies each deposit as a token notice.</param>
    /// <param name="options">Chain, token, custody, router, finality and ranges.</param>
    /// <param name="timeProvider">The clock of operators' actions (their audit events); the system clock when none is given.</param>
    /// <param name="metrics">Where it counts and reports (the application's, from <c>AddEvmGateway</c>); instruments of its own when none is given.</param>
    /// <param name="logger">Where reorgs, unconfirmed views, refused log ranges and overflowing deposits are logged; nowhere when none is given.</param>
    public EvmDepositListener(
        IEvmChainClient chain, IAnpmStore store, TokenNoticeProcessor notices, IOptions<EvmDepositOptions> options, TimeProvider? timeProvider = null, EvmGatewayMetrics? metrics = null,
        ILogger<EvmDepositListener>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(chain);
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(notices);
        _chain = chain;
        _store = store;
        _notices = notices;
        _timeProvider = timeProvider ?? TimeProvider.System;
        _metrics = metrics ?? EvmGatewayMetrics.Standalone();
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _options = ValidatedOptions.Value(options, new EvmDepositOptionsValidator());
        _token = Address.Parse(_options.Token).ToString();
        _custodyTopic = "0x" + Address.Parse(_options.Custody).ToString()[2..].PadLeft(64, '0');
        _router = string.IsNullOrEmpty(_options.Router) ? null : Address.Parse(_options.Router).ToString();
        _haltCheckpoint = string.Create(CultureInfo.InvariantCulture, $"evm-deposits-halted:{_options.ChainId}");
        _planner = new LogRangePlanner(_options.MaxBlocksPerRequest, 1, _options.MaxBlocksPerRequest);
    }

    /// <summary>
    /// Checks that the node serves the configured chain and that the token (and the router, when set) has code; call
    /// before the first poll (<see cref="EvmGatewayService"/> does at start).
    /// </summary>
    /// <exception cref="AnpmException">The chain id differs, or the token or router address holds no contract.</exception>
    public async Task VerifyChainAsync(CancellationToken cancellationToken = default)
    {
        var chainId = await _chain.GetChainIdAsync(cancellationToken).ConfigureAwait(false);
        if (chainId != _options.ChainId)
        {
            throw new AnpmException($"The node serves chain {chainId}, not the configured chain {_options.ChainId}; nothing was read.");
        }

        if (!await _chain.HasCodeAsync(_token, cancellationToken).ConfigureAwait(false))
        {
            throw new AnpmException($"The token address {_token} holds no contract on chain {chainId}.");
        }

        if (_router is not null && !await _chain.HasCodeAsync(_router, cancellationToken).ConfigureAwait(false))
        {
            throw new AnpmException($"The router address {_router} holds no contract on chain {chainId}.");
        }
    }

    /// <summary>The latest poll's result, or <see langword="null"/> before the first completed poll.</summary>
    public EvmPollResult? LastPoll { get; private set; }

    /// <summary>Reads the chain once: credits what became final (in ranges, until caught up) and lists what is pending.</summary>
    public async Task<EvmPollResult> PollAsync(CancellationToken cancellationToken = default)
    {
        var result = await ReadAndCreditAsync(cancellationToken).ConfigureAwait(false);
        LastPoll = result;
        _metrics.Observe(_options.ChainId, result);
        return result;
    }

    private async Task<EvmPollResult> ReadAndCreditAsync(CancellationToken cancellationToken)
    {
        var (cursor, halted) = await _store.RunReadAsync(this, static async (unitOfWork, listener, ct) =>
            (await unitOfWork.Chain.GetLatestBlockAsync(listener._options.ChainId, ct).ConfigureAwait(false),
             await unitOfWork.Checkpoints.GetCheckpointAsync(listener._haltCheckpoint, cancellationToken: ct).ConfigureAwait(false)), cancellationToken).ConfigureAwait(false);
        var (head, lastFinal) = await _options.Finality.ReadLastFinalAsync(_chain, cancellationToken).ConfigureAwait(false);
        if (halted is { Value: >= 0 } halt)
        {
            return new EvmPollResult(head, lastFinal, cursor?.Number ?? -1, 0, [], HaltReason(halt.Value));
        }

        if (cursor is not null)
        {
            var canonical = await _chain.GetBlockAsync(cursor.Number, cancellationToken).ConfigureAwait(false);
            if (canonical is null)
            {
                // The node is behind what was credited (a lagging provider): nothing is read from it this time.
                return new EvmPollResult(head, lastFinal, cursor.Number, 0, [], null);
            }

            if (canonical.Hash != cursor.Hash)
            {
                if (!await ReorgConfirmedAsync(cursor, cancellationToken).ConfigureAwait(false))
                {
                    // One provider's view, not confirmed by another: nothing is read or halted; the next poll asks again.
                    LogUnconfirmedReorg(_logger, _options.ChainId, cursor.Number, cursor.Hash, canonical.Hash);
                    return new EvmPollResult(head, lastFinal, cursor.Number, 0, [], null);
                }

                var depth = await ReorgDepthAsync(cursor, cancellationToken).ConfigureAwait(false);
                _metrics.ReorgDepth.Record(depth, new KeyValuePair<string, object?>("chain", _options.ChainId));
                LogReorg(_logger, _options.ChainId, cursor.Number, depth);
                await HaltAsync(cursor.Number, cancellationToken).ConfigureAwait(false);
                return new EvmPollResult(head, lastFinal, cursor.Number, 0, [], HaltReason(cursor.Number));
            }
        }

        var next = cursor is null ? _options.StartBlock : cursor.Number + 1;
        var credited = 0;
        while (next <= lastFinal)
        {
            var (from, to) = _planner.Next(next, lastFinal);
            var range = await ReadRangeAsync(from, to, withHeaders: true, cancellationToken).ConfigureAwait(false);
            if (range is null)
            {
                break; // the node's view moved under this poll (a reorg in progress): the next poll reads it again
            }

            if (cursor is not null && range.Headers[from].ParentHash != cursor.Hash && from == cursor.Number + 1)
            {
                break; // the first new block does not follow the cursor on this node: read again next poll
            }

            int newly;
            try
            {
                newly = await CreditAsync(range, cancellationToken).ConfigureAwait(false);
            }
            catch (AnpmConcurrencyException)
            {
                // Another instance recorded these blocks first (or kept winning a race): nothing of this range was kept
                // here; the next poll goes on from the cursor that is stored.
                break;
            }


            _metrics.DepositsCredited.Add(newly, new KeyValuePair<string, object?>("chain", _options.ChainId));
            credited += newly;
            to = range.To; // a provider may have narrowed the range
            var last = range.Headers[to];
            cursor = new ChainBlock(_options.ChainId, last.Number, last.Hash, last.ParentHash, last.Timestamp);
            next = to + 1;
        }

        var pending = await PendingAsync(Math.Max(next, lastFinal + 1), head, cancellationToken).ConfigureAwait(false);
        return new EvmPollResult(head, lastFinal, cursor?.Number ?? -1, credited, pending, null);
    }

    // With several providers, a replaced credited block halts only when at least two providers answer and none of them
    // still has the recorded block (a lagging or forked provider alone never halts crediting). With one provider, its word.
    private async Task<bool> ReorgConfirmedAsync(ChainBlock cursor, CancellationToken cancellationToken)
    {
        if (_chain is not IEvmProviderSet { ProviderCount: > 1 } providers)
        {
            return true;
        }

        var answers = (await providers.GetBlockFromEachAsync(cursor.Number, cancellationToken).ConfigureAwait(false)).Where(a => a is not null).ToList();
        return answers.Count >= 2 && answers.All(a => a!.Hash != cursor.Hash);
    }

    // How many blocks, from the cursor down, the chain no longer has — as far as the recorded hashes tell: a recorded block
    // gives its own hash and its parent's, so the walk stops at the first height still canonical or not known (then it is
    // a lower bound), at most 256 deep.
    private async Task<long> ReorgDepthAsync(ChainBlock cursor, CancellationToken cancellationToken)
    {
        var known = new Dictionary<long, string> { [cursor.Number] = cursor.Hash, [cursor.Number - 1] = cursor.ParentHash };
        var depth = 0L;
        for (var number = cursor.Number; number >= 0 && depth < 256; number--)
        {
            if (await _store.RunReadAsync((Chain: _options.ChainId, Number: number), static (unitOfWork, key, ct) =>
                    unitOfWork.Chain.GetBlockAsync(key.Chain, key.Number, ct), cancellationToken).ConfigureAwait(false) is { } recorded)
            {
                known[number] = recorded.Hash;
                known[number - 1] = recorded.ParentHash;
            }

            if (!known.TryGetValue(number, out var hash) || (await _chain.GetBlockAsync(number, cancellationToken).ConfigureAwait(false))?.Hash == hash)
            {
                break;
            }

            depth++;
        }

        return depth;
    }

    /// <summary>
    /// The operator's answer to a halt: forgets the recorded blocks above <paramref name="anchor"/> (what they credited
    /// stays in the ledger; reconcile it by hand first) and lets crediting resume from the block after it.
    /// </summary>
    public Task ResumeAsync(long anchor, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(anchor);
        return _store.RunAsync((Listener: this, Anchor: anchor), static async (unitOfWork, request, ct) =>
        {
            var halt = await unitOfWork.Checkpoints.GetCheckpointAsync(request.Listener._haltCheckpoint, cancellationToken: ct).ConfigureAwait(false);
            await request.Listener.ReopenAsync(unitOfWork, request.Anchor, halt, ct).ConfigureAwait(false);
            return 0;
        }, cancellationToken).AsTask();
    }

    // Forgets the recorded blocks above the anchor and clears the halt, in the caller's unit of work.
    private async ValueTask ReopenAsync(IAnpmUnitOfWork unitOfWork, long anchor, Checkpoint? halt, CancellationToken ct)
    {
        await unitOfWork.Chain.DeleteBlocksAboveAsync(_options.ChainId, anchor, ct).ConfigureAwait(false);
        if (halt is not null)
        {
            await unitOfWork.Checkpoints.UpdateCheckpointAsync(_haltCheckpoint, -1, halt.Version, ct).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// The operator's answer to a halt, with its audit trail (see <see cref="ResumeAsync(long, CancellationToken)"/>):
    /// only while crediting is halted, and only from an anchor below the replaced block; the event
    /// <c>deposits.resumed</c> naming the operator, the anchor and the reason is written in the same unit of work.
    /// </summary>
    /// <param name="anchor">The highest block still canonical: crediting resumes from the block after it.</param>
    /// <param name="audit">Who resumes it and why.</param>
    /// <param name="cancellationToken">Cancels the command.</param>
    public ValueTask<EvmResumeOutcome> ResumeAsync(long anchor, OperatorAction audit, CancellationToken cancellationToken = default) =>
        _store.RunAsync((Service: this, Anchor: anchor, Audit: audit), static (unitOfWork, r, ct) => r.Service.ResumeAsync(unitOfWork, r.Anchor, r.Audit, ct), cancellationToken);

    /// <summary>The same command inside the caller's unit of work, which the caller commits (or ends uncommitted: then nothing of it is kept).</summary>
    public async ValueTask<EvmResumeOutcome> ResumeAsync(IAnpmUnitOfWork unitOfWork, long anchor, OperatorAction audit, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(unitOfWork);
        ArgumentNullException.ThrowIfNull(audit);
        var halt = await unitOfWork.Checkpoints.GetCheckpointAsync(_haltCheckpoint, cancellationToken: cancellationToken).ConfigureAwait(false);
        if (halt is not { Value: >= 0 })
        {
            return new EvmResumeOutcome(EvmResumeResult.NotHalted, null, "Deposits are not halted: there is nothing to resume.");
        }

        if (anchor < 0 || anchor >= halt.Value)
        {
            return new EvmResumeOutcome(EvmResumeResult.AnchorNotBelowHalt, halt.Value,
                string.Create(CultureInfo.InvariantCulture, $"The anchor must be a block below the replaced block {halt.Value} (the highest block still canonical), not {anchor}."));
        }

        await ReopenAsync(unitOfWork, anchor, halt, cancellationToken).ConfigureAwait(false);
        var chain = _options.ChainId.ToString(CultureInfo.InvariantCulture);
        await unitOfWork.Events.AppendAsync(AnpmEventTypes.DepositsResumed, string.Create(CultureInfo.InvariantCulture, $"{chain}:{halt.Value}:{halt.Version}"), new System.Text.Json.Nodes.JsonObject
        {
            ["chainId"] = chain, ["anchor"] = anchor.ToString(CultureInfo.InvariantCulture), ["haltedAt"] = halt.Value.ToString(CultureInfo.InvariantCulture),
            ["by"] = audit.By.ToString(), ["reason"] = audit.Reason,
        }, _timeProvider.GetUtcNow(), cancellationToken).ConfigureAwait(false);
        return new EvmResumeOutcome(EvmResumeResult.Resumed, halt.Value, null);
    }

    private string HaltReason(long block) => string.Create(CultureInfo.InvariantCulture,
        $"A reorg replaced credited block {block} of chain {_options.ChainId}: crediting is halted until an operator reconciles and resumes it.");

    private Task HaltAsync(long block, CancellationToken cancellationToken) =>
        _store.RunAsync((Name: _haltCheckpoint, Block: block), static async (unitOfWork, halt, ct) =>
        {
            var existing = await unitOfWork.Checkpoints.GetCheckpointAsync(halt.Name, cancellationToken: ct).ConfigureAwait(false);
            if (existing is null)
            {
                await unitOfWork.Checkpoints.TryInsertCheckpointAsync(halt.Name, halt.Block, ct).ConfigureAwait(false);
            }
            else
            {
                await unitOfWork.Checkpoints.UpdateCheckpointAsync(halt.Name, halt.Block, existing.Version, ct).ConfigureAwait(false);
            }

            return 0;
        }, cancellationToken).AsTask();

    // Credits a range's deposits and records its blocks in one unit of work. A deposit the ledger cannot hold (an
    // overflow) is first applied alone, where the processor refunds it, and then replays inside the range's commit.
    private async Task<int> CreditAsync(ChainRange range, CancellationToken cancellationToken)
    {
        try
        {
            return await CreditInOneUnitAsync(range, cancellationToken).ConfigureAwait(false);
        }
        catch (LedgerOverflowException)
        {
            LogRangeOverflows(_logger, range.Blocks.Count == 0 ? range.To : range.Blocks[0], range.To);
            var credited = 0;
            for (var i = 0; i < range.Deposits.Count; i++)
            {
                credited += (await _notices.ApplyAsync(range.Deposits[i], range.PaidAt(i), cancellationToken).ConfigureAwait(false)).IsReplay ? 0 : 1;
            }

            return credited + await CreditInOneUnitAsync(range, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<int> CreditInOneUnitAsync(ChainRange range, CancellationToken cancellationToken) =>
        await _store.RunAsync((Listener: this, Range: range), static async (unitOfWork, request, ct) =>
        {
            var credited = 0;
            for (var i = 0; i < request.Range.Deposits.Count; i++)
            {
                var deposit = request.Range.Deposits[i];
                var outcome = await request.Listener._notices.ApplyAsync(unitOfWork, deposit, request.Range.PaidAt(i), ct).ConfigureAwait(false);
                if (outcome.IsConflict)
                {
                    throw new AnpmException($"Deposit notice '{deposit.MessageId}' conflicts with a recorded notice of another payload; crediting stops here.");
                }

                credited += outcome.IsReplay ? 0 : 1;
            }

            foreach (var header in request.Range.Headers.Values)
            {
                var block = new ChainBlock(request.Listener._options.ChainId, header.Number, header.Hash, header.ParentHash, header.Timestamp);
                if (!await unitOfWork.Chain.TryInsertBlockAsync(block, ct).ConfigureAwait(false))
                {
                    throw new AnpmConcurrencyException($"Block {header.Number} of chain {block.ChainId} was recorded by another listener meanwhile; retry.");
                }
            }

            return credited;
        }, cancellationToken).ConfigureAwait(false);

    private async Task<IReadOnlyList<PendingDeposit>> PendingAsync(long from, long head, CancellationToken cancellationToken)
    {
        from = Math.Max(from, head - _options.MaxPendingBlocks + 1);
        if (_options.MaxPendingBlocks == 0 || from > head)
        {
            return [];
        }

        var range = await ReadRangeAsync(from, head, withHeaders: false, cancellationToken).ConfigureAwait(false);
        return range is null
            ? []
            : [.. range.Deposits.Select((d, i) => new PendingDeposit(d.MessageId, d.Sender, d.Quantity, d.Action, d.PoolId, d.Reference, range.Blocks[i], EvmFinality.ConfirmationsOf(range.Blocks[i], head)))];
    }

    // The deposits of blocks from..to (the logs of each from one node, checked against its receipts), with the headers of
    // the blocks that hold them and of the range's ends when asked. Null when the node's view changed while reading.
    private async Task<ChainRange?> ReadRangeAsync(long from, long to, bool withHeaders, CancellationToken cancellationToken)
    {
        IReadOnlyList<EvmLog> logs;
        while (true)
        {
            try
            {
                logs = await _chain.GetLogsAsync(from, to, _token, TransferTopic, _custodyTopic, cancellationToken).ConfigureAwait(false);
                _planner.Succeeded();
                break;
            }
            catch (EvmRpcException exception) when (LogRangePlanner.IsRangeRefusal(exception.Code, exception.RpcMessage) && _planner.Refused())
            {
                var narrower = _planner.Next(from, to).To;
                LogRangeRefused(_logger, from, to, narrower, exception.RpcMessage);
                to = narrower;
            }
        }

        // Receipts by transaction, each with its router attribution (which transfer each Deposited log pays for): the
        // attribution is the receipt's own, so deposits in other transactions or blocks of the range never touch it.
        var receipts = new Dictionary<string, (EvmReceipt Receipt, IReadOnlyDictionary<long, EvmLog> Routed)>(StringComparer.Ordinal);
        var deposits = new List<(TokenNotice Notice, long Block, string BlockHash)>();
        foreach (var log in logs.OrderBy(l => l.BlockNumber).ThenBy(l => l.LogIndex))
        {
            if (!IsDepositLog(log, out var sender, out var value))
            {
                continue;
            }

            if (!receipts.TryGetValue(log.TransactionHash, out var read))
            {
                var fetched = await _chain.GetReceiptAsync(log.TransactionHash, cancellationToken).ConfigureAwait(false);
                if (fetched is null || fetched.BlockHash != log.BlockHash)
                {
                    return null;
                }

                receipts[log.TransactionHash] = read = (fetched, RoutedTransfers(fetched));
            }

            var position = IndexOf(read.Receipt.Logs, log.LogIndex);
            if (!read.Receipt.Succeeded || position < 0)
            {
                continue;
            }

            var notice = Notice(log, position, sender, value, read.Routed.GetValueOrDefault(log.LogIndex));
            deposits.Add((notice, log.BlockNumber, log.BlockHash));
        }

        var headers = new SortedDictionary<long, EvmBlockHeader>();
        if (withHeaders)
        {
            foreach (var number in deposits.Select(d => d.Block).Append(from).Append(to).Distinct())
            {
                var header = await _chain.GetBlockAsync(number, cancellationToken).ConfigureAwait(false);
                if (header is null || deposits.Any(d => d.Block == number && d.BlockHash != header.Hash))
                {
                    return null;
                }

                headers[number] = header;
            }
        }

        return new ChainRange([.. deposits.Select(d => d.Notice)], [.. deposits.Select(d => d.Block)], headers, to);
    }

    private bool IsDepositLog(EvmLog log, out Address sender, out TokenAmount value)
    {
        sender = Address.Zero;
        value = default;
        if (log.Removed || log.Address != _token || log.Topics.Count != 3 || log.Topics[0] != TransferTopic || log.Topics[2] != _custodyTopic
            || log.Data.Length != 66 || !Address.TryParse("0x" + log.Topics[1][^40..], out sender))
        {
            return false;
        }

        var amount = BigInteger.Parse("0" + log.Data[2..], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        if (amount.IsZero || amount > (BigInteger)UInt128.MaxValue)
        {
            return false; // zero-value spam; an amount beyond the ledger's 128 bits is left to the operator (see the docs)
        }

        value = new TokenAmount((UInt128)amount);
        return true;
    }

    // A transfer to custody is a router deposit when the router's Deposited log attributes it (see RoutedTransfers);
    // otherwise a plain transfer with the default action.
    private TokenNotice Notice(EvmLog log, int position, Address sender, TokenAmount value, EvmLog? deposited)
    {
        if (deposited is not null)
        {
            var code = (int)BigInteger.Parse("0" + deposited.Data[2..66], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            var reference = Convert.FromHexString(deposited.Topics[1][2..]);
            return new TokenNotice
            {
                MessageId = EvmMessageIds.ForRouterDeposit(_options.ChainId, _router!, reference),
                Sender = sender,
                Quantity = value,
                Action = _options.RouterActions.TryGetValue(code, out var action) ? action : "unknown:" + code.ToString(CultureInfo.InvariantCulture),
                PoolId = Bytes32Text(deposited.Topics[3]),
                Reference = Bytes32Text(deposited.Topics[1]) is var text && !text.StartsWith("0x", StringComparison.Ordinal) ? text : string.Empty, // a binary ref is only a key
                ReceivedAt = default,
                Outcome = string.Empty,
            };
        }

        return new TokenNotice
        {
            MessageId = EvmMessageIds.ForTransfer(_options.ChainId, _token, log.TransactionHash, position),
            Sender = sender,
            Quantity = value,
            Action = _options.DefaultAction,
            PoolId = string.Empty,
            Reference = string.Empty,
            ReceivedAt = default,
            Outcome = string.Empty,
        };
    }

    // Within one receipt, which transfer to custody each of the router's Deposited logs pays for, keyed by the transfer's
    // log index: the router emits Deposited right after its transferFrom, so a Deposited log takes the nearest transfer
    // before it of the same payer and amount that no other Deposited log took. A transaction may hold several deposits
    // (a contract calling the router in a loop) and plain transfers beside them; each is attributed once. Keys are only
    // compared inside the receipt, so log indexes (unique within a block) never collide across blocks or transactions.
    private Dictionary<long, EvmLog> RoutedTransfers(EvmReceipt receipt)
    {
        var routed = new Dictionary<long, EvmLog>();
        if (_router is null)
        {
            return routed;
        }

        var transfers = new List<(long LogIndex, Address Sender, TokenAmount Value)>();
        foreach (var log in receipt.Logs.OrderBy(l => l.LogIndex))
        {
            if (IsDepositLog(log, out var sender, out var value))
            {
                transfers.Add((log.LogIndex, sender, value));
                continue;
            }

            if (log.Address != _router || log.Removed || log.Topics.Count != 4 || log.Topics[0] != DepositedTopic || log.Data.Length != 130)
            {
                continue;
            }

            var amount = BigInteger.Parse("0" + log.Data[66..], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            for (var i = transfers.Count - 1; i >= 0; i--)
            {
                var transfer = transfers[i];
                if (transfer.Sender.ToString()[2..] == log.Topics[2][^40..] && (BigInteger)transfer.Value.BaseUnits == amount)
                {
                    routed[transfer.LogIndex] = log;
                    transfers.RemoveAt(i);
                    break;
                }
            }
        }

        return routed;
    }

    private static int IndexOf(IReadOnlyList<EvmLog> logs, long logIndex)
    {
        for (var i = 0; i < logs.Count; i++)
        {
            if (logs[i].LogIndex == logIndex)
            {
                return i;
            }
        }

        return -1;
    }

    // A bytes32 as text when it is printable ASCII padded with zeros (a pool id, a contribution id), else as 0x-hex.
    internal static string Bytes32Text(string topic)
    {
        var bytes = Convert.FromHexString(topic[2..]);
        var length = bytes.AsSpan().LastIndexOfAnyExcept((byte)0) + 1;
        var text = bytes.AsSpan(0, length);
        return length == 0 ? string.Empty // no pool, no reference
            : !text.ContainsAnyExceptInRange((byte)0x21, (byte)0x7E) ? System.Text.Encoding.ASCII.GetString(text)
            : topic;
    }

    [LoggerMessage(EventId = 501, Level = LogLevel.Warning, Message = "Chain {ChainId}: one provider shows block {Block} as {Seen}, not the credited {Credited}; another does not confirm it, so nothing is read or halted and the next poll asks again.")]
    private static partial void LogUnconfirmedReorg(ILogger logger, ulong chainId, long block, string credited, string seen);

    [LoggerMessage(EventId = 502, Level = LogLevel.Error, Message = "Chain {ChainId}: a reorg {Depth} blocks deep replaced credited block {Block}; crediting halts until an operator reconciles and resumes it.")]
    private static partial void LogReorg(ILogger logger, ulong chainId, long block, long depth);

    [LoggerMessage(EventId = 503, Level = LogLevel.Information, Message = "A provider refused the logs of blocks {From} to {To} ({Reason}); asking for {From} to {NarrowerTo}.")]
    private static partial void LogRangeRefused(ILogger logger, long from, long to, long narrowerTo, string reason);

    [LoggerMessage(EventId = 504, Level = LogLevel.Warning, Message = "A deposit in blocks {From} to {To} would overflow the ledger; the range is credited deposit by deposit and that deposit refunded.")]
    private static partial void LogRangeOverflows(ILogger logger, long from, long to);

    private sealed record ChainRange(IReadOnlyList<TokenNotice> Deposits, IReadOnlyList<long> Blocks, SortedDictionary<long, EvmBlockHeader> Headers, long To)
    {
        // The deposit's block time: rates, windows and timeouts are judged at it, not when finality let it be credited.
        public DateTimeOffset? PaidAt(int deposit) => Headers.TryGetValue(Blocks[deposit], out var header) ? header.Timestamp : null;
    }
}
