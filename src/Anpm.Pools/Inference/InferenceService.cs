using System.Globalization;
using System.Text;
using System.Text.Json;
using Anpm.Abstractions;
using Anpm.Credits;
using Anpm.Signing;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Anpm.Tensors;

namespace Anpm.Pools;

/// <summary>Options of the <see cref="InferenceService"/>.</summary>
public sealed class InferenceOptions
{
    /// <summary>
    /// How long a pending task may sit with nobody working on it (since its creation or its last claim, result or ended
    /// lease) before it fails and its credits come back, in seconds. Default 3600.
    /// </summary>
    public int PendingTimeoutSeconds { get; set; } = 3600;

    /// <summary>How many expired leases or overdue tasks one unit of work of the sweeper handles (1 to 10 000). Default 100.</summary>
    public int SweepBatchSize { get; set; } = 100;
}

/// <summary>
/// Inference tasks: a user adds a task (its price held from the user's credits in the pool, as a pending transfer in the
/// same unit of work); allowed oracles lease the oldest task they never attempted, one replica slot each; an oracle returns
/// a result with its EIP-712 <c>TaskResult</c> attestation (verified: the signer, the lease, the model hash, the output's
/// Keccak-256) or a signed <c>TaskFailure</c>. With replication k the task is accepted when q results agree (dissenters are
/// recorded) and the hold is posted; failures and expired leases requeue it, and after the pool's max attempts — or when
/// quorum is out of reach, or when nobody claimed it in time — it fails and the hold is voided. Every task ends Done or
/// Failed in bounded time, run <see cref="SweepAsync"/> periodically.
/// </summary>
public sealed partial class InferenceService
{
    private static readonly TransferKind HoldKind = TransferKind.Parse("hold");
    private static readonly TransferKind ConsumeKind = TransferKind.Parse("consume");
    private static readonly TransferKind RefundKind = TransferKind.Parse("refund");
    private readonly IAnpmStore _store;
    private readonly Ledger _ledger;
    private readonly PoolRegistry _registry;
    private readonly SignedRequestVerifier _verifier;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly InferenceOptions _options;
    private readonly CreditGrantService _grants;
    private readonly SessionKeyService _sessionKeys;
    private readonly BalanceAlertService _alerts;

    /// <summary>Creates the service.</summary>
    /// <param name="store">The store.</param>
    /// <param name="ledger">The ledger over the same store: holds, posts and voids.</param>
    /// <param name="registry">The pools and their configs.</param>
    /// <param name="verifier">Verifies the oracles' signed results in the host's EIP-712 domain.</param>
    /// <param name="options">Timeouts and batches.</param>
    /// <param name="timeProvider">The clock.</param>
    /// <param name="logger">Where leases oracles let expire and tasks nobody finished in time are logged; nowhere when none is given.</param>
    /// <param name="grants">Burns, spends and returns the account's credit grants with a task's hold; one over the same store, ledger and clock when none is given.</param>
    /// <param name="sessionKeys">Judges and charges a delegate's session key for a task; one over the same store and clock when none is given.</param>
    /// <param name="alerts">Judges low-balance alerts after a hold or its return; one over the same store and clock when none is given.</param>
    public InferenceService(
        IAnpmStore store, Ledger ledger, PoolRegistry registry, SignedRequestVerifier verifier, IOptions<InferenceOptions> options, TimeProvider timeProvider,
        ILogger<InferenceService>? logger = null, CreditGrantService? grants = null, SessionKeyService? sessionKeys = null, BalanceAlertService? alerts = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(ledger);
        ArgumentNullException.ThrowIfNull(registry);
        ArgumentNullException.ThrowIfNull(verifier);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(timeProvider);
        _store = store;
        _ledger = ledger;
        _registry = registry;
        _verifier = verifier;
        _timeProvider = timeProvider;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _options = ValidatedOptions.Value(options, new InferenceOptionsValidator());
        _grants = grants ?? new CreditGrantService(store, ledger, timeProvider);
        _sessionKeys = sessionKeys ?? new SessionKeyService(store, timeProvider);
        _alerts = alerts ?? new BalanceAlertService(store, timeProvider);
    }

    /// <summary>The ledger account of the credits a pool's Done tasks consumed (and, while tasks run, their holds).</summary>
    public static AccountId ConsumedAccount(PoolId pool) => AccountId.Parse($"pool:{pool}:credits-consumed");

    /// <summary>The task id of a request: derived from its key (e.g. signer and nonce), so a replayed request finds its task.</summary>
    public static string TaskIdOf(string requestKey) =>
        "t" + Convert.ToHexStringLower(Keccak256.Hash(Encoding.UTF8.GetBytes(requestKey ?? throw new ArgumentNullException(nameof(requestKey)))))[..40];

    /// <summary>
    /// Adds a task for <paramref name="account"/> (the caller verified the signed AddTask): the pool Active and offering the
    /// model at most at <paramref name="maxCredits"/>, the input within the pool's limit; the price is held from the
    /// account's credits in the pool. Idempotent by <paramref name="requestKey"/>.
    /// </summary>
    public ValueTask<AddTaskOutcome> AddTaskAsync(string requestKey, Address account, PoolId poolId, string model, string input, TokenAmount maxCredits, CancellationToken cancellationToken = default) =>
        AddTaskAsync(requestKey, account, poolId, model, input, maxCredits, signedBy: null, cancellationToken);

    /// <summary>
    /// Adds a task like <see cref="AddTaskAsync(string, Address, PoolId, string, string, TokenAmount, CancellationToken)"/>,
    /// signed for <paramref name="account"/> by its session key <paramref name="signedBy"/> when that is another address:
    /// the price is then also charged to the account's unrevoked key for that delegate in the same unit of work
    /// (<see cref="SessionKeyService.ChargeAsync"/>) and the key is recorded on the task (<see cref="InferenceTask.SessionKeyId"/>);
    /// the task is refused (<see cref="AddTaskResult.SessionKeyRefused"/>, nothing changed) when there is no such key,
    /// it was revoked or expired, does not allow the pool, or has less of its spend cap left than the price.
    /// </summary>
    public async ValueTask<AddTaskOutcome> AddTaskAsync(string requestKey, Address account, PoolId poolId, string model, string input, TokenAmount maxCredits, Address? signedBy, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(requestKey);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(input);
        try
        {
            return await AddTaskInUnitOfWorkAsync(requestKey, account, poolId, model, input, maxCredits, signedBy == account ? null : signedBy, cancellationToken).ConfigureAwait(false);
        }
        catch (SessionKeyRefusedException refused)
        {
            // The key was judged after the hold was written: that unit of work was rolled back whole.
            return new AddTaskOutcome(AddTaskResult.SessionKeyRefused, null, refused.Check.Error, refused.Check.Refusal);
        }
    }

    /// <summary>
    /// Adds a task like <see cref="AddTaskAsync(string, Address, PoolId, string, string, TokenAmount, Address?, CancellationToken)"/>
    /// inside the caller's unit of work, which the caller commits. Commit only an <see cref="AddTaskResult.Added"/> or
    /// <see cref="AddTaskResult.Exists"/> outcome: a session key refused after the price was held leaves that hold in the
    /// unit of work, which must then end uncommitted (every refusal may).
    /// </summary>
    /// <exception cref="AnpmConcurrencyException">The same task was added by a concurrent unit of work; run the command again.</exception>
    public async ValueTask<AddTaskOutcome> AddTaskAsync(IAnpmUnitOfWork unitOfWork, string requestKey, Address account, PoolId poolId, string model, string input, TokenAmount maxCredits, Address? signedBy, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(unitOfWork);
        ArgumentException.ThrowIfNullOrEmpty(requestKey);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(input);
        try
        {
            return await AddTaskCoreAsync(unitOfWork, requestKey, account, poolId, model, input, maxCredits, signedBy == account ? null : signedBy, cancellationToken).ConfigureAwait(false);
        }
        catch (SessionKeyRefusedException refused)
        {
            return new AddTaskOutcome(AddTaskResult.SessionKeyRefused, null, refused.Check.Error, refused.Check.Refusal);
        }
    }

    private ValueTask<AddTaskOutcome> AddTaskInUnitOfWorkAsync(string requestKey, Address account, PoolId poolId, string model, string input, TokenAmount maxCredits, Address? signedBy, CancellationToken cancellationToken) =>
        _store.RunAsync((Service: this, Key: requestKey, Account: account, Pool: poolId, Model: model, Input: input, Max: maxCredits, SignedBy: signedBy), static (unitOfWork, request, ct) =>
            request.Service.AddTaskCoreAsync(unitOfWork, request.Key, request.Account, request.Pool, request.Model, request.Input, request.Max, request.SignedBy, ct), cancellationToken);

    // Throws SessionKeyRefusedException when the key is refused after the hold was written: nothing of the unit of work may commit then.
    private async ValueTask<AddTaskOutcome> AddTaskCoreAsync(IAnpmUnitOfWork unitOfWork, string requestKey, Address account, PoolId poolId, string model, string input, TokenAmount maxCredits, Address? signedBy, CancellationToken cancellationToken)
    {
        var id = TaskIdOf(requestKey);
        if (await unitOfWork.Inference.GetTaskAsync(id, cancellationToken).ConfigureAwait(false) is { } existing)
        {
            var same = existing.Account == account && existing.PoolId == poolId && existing.Model == model && existing.Input == input;
            return new AddTaskOutcome(same ? AddTaskResult.Exists : AddTaskResult.IdTaken, same ? existing : null, same ? null : "The request key was used for another task.");
        }

        if (await unitOfWork.System.IsPausedAsync(cancellationToken).ConfigureAwait(false))
        {
            return new AddTaskOutcome(AddTaskResult.SystemPaused, null, "The system is paused.");
        }

        // A delegate's first look, before anything else is read or written: a signer without a key learns nothing of the
        // account or the pool. The cap is judged with the charge, under the key's lock, after the hold.
        if (signedBy is { } signer
            && await _sessionKeys.JudgeSpendAsync(unitOfWork, account, signer, poolId, TokenAmount.Zero, _timeProvider.GetUtcNow(), forUpdate: false, cancellationToken)
                .ConfigureAwait(false) is { IsAllowed: false } judged)
        {
            return new AddTaskOutcome(AddTaskResult.SessionKeyRefused, null, judged.Error, judged.Refusal);
        }

        var pool = await unitOfWork.Pools.GetPoolAsync(poolId, cancellationToken).ConfigureAwait(false);
        if (pool is null || _registry.ConfigOf(pool).Inference is not { } config)
        {
            return new AddTaskOutcome(AddTaskResult.PoolNotFound, null, $"There is no pool '{poolId}' offering inference.");
        }

        if (pool.Status != PoolStatus.Active)
        {
            return new AddTaskOutcome(AddTaskResult.PoolNotActive, null, $"Pool '{pool.Id}' is {pool.Status}; tasks need Active.");
        }

        var offer = config.Models.FirstOrDefault(m => m.Id == model);
        if (offer is null)
        {
            return new AddTaskOutcome(AddTaskResult.ModelNotOffered, null, $"Pool '{pool.Id}' offers {string.Join(", ", config.Models.Select(m => m.Id))}, not '{model}'.");
        }

        if (offer.Price > maxCredits)
        {
            return new AddTaskOutcome(AddTaskResult.PriceAboveMaximum, null, $"Model '{offer.Id}' costs {offer.Price} credits, above maxCredits {maxCredits}.");
        }

        var inputBytes = Encoding.UTF8.GetByteCount(input);
        if (inputBytes > config.MaxInputBytes)
        {
            return new AddTaskOutcome(AddTaskResult.InputTooLarge, null, $"The input is {inputBytes} bytes; pool '{pool.Id}' takes at most {config.MaxInputBytes}.");
        }

        if (offer.Inputs is { } declared && ModelIo.CheckInputs(input, declared) is { } problem)
        {
            return new AddTaskOutcome(AddTaskResult.InvalidInput, null, problem);
        }

        var now = _timeProvider.GetUtcNow();
        var grants = await _grants.ExpireAccountAsync(unitOfWork, account, pool.Id, now, cancellationToken).ConfigureAwait(false); // expired grants never pay a task
        var created = await _ledger.CreateAccountsAsync(unitOfWork,
            [new NewAccount(ConsumedAccount(pool.Id), WellKnownAssets.Credit, AccountFlags.None)], cancellationToken).ConfigureAwait(false);
        var hold = (await _ledger.CreateTransfersAsync(unitOfWork,
        [
            new TransferRequest
            {
                Id = HoldId(id),
                DebitAccountId = CreditAccounts.InPool(pool.Id, account),
                CreditAccountId = ConsumedAccount(pool.Id),
                Asset = WellKnownAssets.Credit,
                Amount = offer.Price,
                Kind = HoldKind,
                Reference = id,
                Flags = TransferFlags.Pending,
            },
        ], cancellationToken).ConfigureAwait(false))[0];
        if (hold is CreateTransferResult.ExceedsBalance or CreateTransferResult.DebitAccountNotFound)
        {
            return new AddTaskOutcome(AddTaskResult.InsufficientCredits, null, $"The price of {offer.Price} credits exceeds the credits of {account} in pool '{pool.Id}'.");
        }

        if (hold == CreateTransferResult.Exists)
        {
            throw new AnpmConcurrencyException($"Task '{id}' was added by a concurrent unit of work; retry.");
        }

        if (hold.IsOverflow())
        {
            return new AddTaskOutcome(AddTaskResult.AmountTooLarge, null, $"Holding {offer.Price} credits would push a ledger account of pool '{pool.Id}' past its 128-bit totals ({hold}).");
        }

        if (hold != CreateTransferResult.Created || !created[0].IsSuccess())
        {
            throw new AnpmException($"Holding the price of task '{id}' failed: {hold}.");
        }

        await _grants.HoldAsync(unitOfWork, account, id, offer.Price, now, grants, cancellationToken).ConfigureAwait(false); // the hold burns grants in their order
        await _alerts.CheckAsync(unitOfWork, account, pool.Id, now, cancellationToken).ConfigureAwait(false); // the hold lowered the credits: the alert may fire
        string? sessionKeyId = null;
        if (signedBy is { } @delegate)
        {
            var charge = await _sessionKeys.ChargeAsync(unitOfWork, account, @delegate, pool.Id, offer.Price, now, cancellationToken).ConfigureAwait(false);
            sessionKeyId = charge.IsAllowed ? charge.Key.Id : throw new SessionKeyRefusedException(charge); // a refusal: the hold above must not commit
        }

        var task = new InferenceTask
        {
            Id = id,
            PoolId = pool.Id,
            Account = account,
            Model = offer.Id,
            ModelHash = offer.Sha256,
            Input = input,
            Price = offer.Price,
            Status = InferenceTaskStatus.Pending,
            Replication = config.Replication,
            Quorum = config.Quorum,
            MaxAttempts = config.MaxAttempts,
            OpenSlots = config.Replication,
            CreatedAt = now,
            SessionKeyId = sessionKeyId,
        };
        if (!await unitOfWork.Inference.TryInsertTaskAsync(task, cancellationToken).ConfigureAwait(false))
        {
            throw new AnpmConcurrencyException($"Task '{id}' was added at the same time; retry.");
        }

        return new AddTaskOutcome(AddTaskResult.Added, task, null);
    }

    /// <summary>
    /// Sets an oracle's standing in a pool's allow-list (the caller checked the pool owner or an admin). An oracle with a
    /// standing is allowed while active; one without is allowed when the pool config lists it.
    /// </summary>
    public ValueTask<PoolOracle> SetOracleAsync(PoolId poolId, Address oracle, bool active, CancellationToken cancellationToken = default) =>
        _store.RunAsync((Service: this, Pool: poolId, Oracle: oracle, Active: active), static (unitOfWork, request, ct) =>
            request.Service.SetOracleAsync(unitOfWork, request.Pool, request.Oracle, request.Active, ct), cancellationToken);

    /// <summary>Sets an oracle's standing in a pool's allow-list inside the caller's unit of work, which the caller commits.</summary>
    /// <exception cref="ArgumentException">There is no such pool.</exception>
    public async ValueTask<PoolOracle> SetOracleAsync(IAnpmUnitOfWork unitOfWork, PoolId poolId, Address oracle, bool active, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(unitOfWork);
        var standing = new PoolOracle(poolId, oracle, active, _timeProvider.GetUtcNow());
        if (await unitOfWork.Pools.GetPoolAsync(standing.PoolId, cancellationToken).ConfigureAwait(false) is null)
        {
            throw new ArgumentException($"There is no pool '{standing.PoolId}'.", nameof(poolId));
        }

        await unitOfWork.Inference.SetOracleAsync(standing, cancellationToken).ConfigureAwait(false);
        return standing;
    }

    /// <summary>Leases the oldest task of the pool the oracle never attempted (the caller verified the signed ClaimTask).</summary>
    public ValueTask<ClaimTaskOutcome> ClaimAsync(Address oracle, PoolId poolId, CancellationToken cancellationToken = default) =>
        _store.RunAsync((Service: this, Oracle: oracle, Pool: poolId), static (unitOfWork, request, ct) => request.Service.ClaimAsync(unitOfWork, request.Oracle, request.Pool, ct), cancellationToken);

    /// <summary>Leases the oldest task of the pool the oracle never attempted inside the caller's unit of work, which the caller commits.</summary>
    public async ValueTask<ClaimTaskOutcome> ClaimAsync(IAnpmUnitOfWork unitOfWork, Address oracle, PoolId poolId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(unitOfWork);
        var pool = await unitOfWork.Pools.GetPoolAsync(poolId, cancellationToken).ConfigureAwait(false);
        if (pool is null || _registry.ConfigOf(pool).Inference is not { } config)
        {
            return new ClaimTaskOutcome(ClaimTaskResult.PoolNotFound, null, null, $"There is no pool '{poolId}' offering inference.");
        }

        if (await unitOfWork.System.IsPausedAsync(cancellationToken).ConfigureAwait(false))
        {
            return new ClaimTaskOutcome(ClaimTaskResult.SystemPaused, null, null, "The system is paused.");
        }

        var standing = await unitOfWork.Inference.GetOracleAsync(pool.Id, oracle, cancellationToken).ConfigureAwait(false);
        if (!(standing?.Active ?? config.Oracles.Contains(oracle)))
        {
            return new ClaimTaskOutcome(ClaimTaskResult.NotAllowed, null, null, $"Oracle {oracle} is not an active oracle of pool '{pool.Id}'.");
        }

        var task = await unitOfWork.Inference.ClaimNextTaskAsync(pool.Id, oracle, cancellationToken).ConfigureAwait(false);
        if (task is null)
        {
            return new ClaimTaskOutcome(ClaimTaskResult.NoTask, null, null, null);
        }

        var now = _timeProvider.GetUtcNow();
        var lease = new TaskLease
        {
            Id = "l" + Convert.ToHexStringLower(Keccak256.Hash(Encoding.UTF8.GetBytes(task.Id + ":" + oracle)))[..40],
            TaskId = task.Id,
            PoolId = pool.Id,
            Oracle = oracle,
            State = TaskLeaseState.Active,
            LeasedAt = now,
            ExpiresAt = now.AddSeconds(config.LeaseSeconds),
        };
        if (!await unitOfWork.Inference.TryInsertLeaseAsync(lease, cancellationToken).ConfigureAwait(false))
        {
            throw new AnpmConcurrencyException($"Lease '{lease.Id}' was written at the same time; retry.");
        }

        var leased = task with { OpenSlots = task.OpenSlots - 1, Status = task.OpenSlots - 1 == 0 ? InferenceTaskStatus.Processing : InferenceTaskStatus.Pending };
        await unitOfWork.Inference.UpdateTaskAsync(leased, task.Version, cancellationToken).ConfigureAwait(false);
        return new ClaimTaskOutcome(ClaimTaskResult.Leased, lease, leased with { Version = task.Version + 1 }, null);
    }

    /// <summary>
    /// Records an oracle's result: its <c>TaskResult</c> attestation must recover to the lease's oracle, name the task's
    /// model hash and <c>keccak256(utf8(output))</c>, and the lease must be active. Anything else is rejected and changes
    /// nothing.
    /// </summary>
    public ValueTask<TaskReportOutcome> SubmitResultAsync(Address oracle, string taskId, string leaseId, string modelHash, string outputHash, string output, string signature, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(output);
        return _store.RunAsync((Service: this, Oracle: oracle, TaskId: taskId, LeaseId: leaseId, ModelHash: modelHash, OutputHash: outputHash, Output: output, Signature: signature), static (unitOfWork, request, ct) =>
            request.Service.SubmitResultAsync(unitOfWork, request.Oracle, request.TaskId, request.LeaseId, request.ModelHash, request.OutputHash, request.Output, request.Signature, ct), cancellationToken);
    }

    /// <summary>Records the oracle's report like the overload without a unit of work, inside the caller's unit of work, which the caller commits.</summary>
    public async ValueTask<TaskReportOutcome> SubmitResultAsync(IAnpmUnitOfWork unitOfWork, Address oracle, string taskId, string leaseId, string modelHash, string outputHash, string output, string signature, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(unitOfWork);
        ArgumentNullException.ThrowIfNull(output);
        (taskId, leaseId, modelHash, outputHash, signature) = (taskId ?? string.Empty, leaseId ?? string.Empty, modelHash ?? string.Empty, outputHash ?? string.Empty, signature ?? string.Empty);
        var message = JsonSerializer.SerializeToElement(new Dictionary<string, string>
        {
            ["oracle"] = oracle.ToString(),
            ["taskId"] = taskId,
            ["leaseId"] = leaseId,
            ["modelHash"] = modelHash,
            ["outputHash"] = outputHash,
        });
        var verified = _verifier.Verify("TaskResult", message, signature);
        var (lease, task, rejection) = await ActiveLeaseAsync(unitOfWork, oracle, taskId, leaseId, cancellationToken).ConfigureAwait(false);
        if (lease is { State: TaskLeaseState.Resulted } && lease.Signature == signature && lease.OutputHash == outputHash)
        {
            return new TaskReportOutcome(TaskReportResult.Replayed, TaskReportRejection.None, task, null);
        }

        if (rejection is not null)
        {
            return rejection;
        }

        if (!verified.IsValid)
        {
            return Reject(TaskReportRejection.BadSignature, task, "The TaskResult attestation is not the oracle's: " + verified.Error);
        }

        if (!string.Equals(modelHash, task!.ModelHash, StringComparison.OrdinalIgnoreCase))
        {
            return Reject(TaskReportRejection.HashMismatch, task, $"The attestation names model hash {modelHash}; the task's model is {task.ModelHash}.");
        }

        var pool = (await unitOfWork.Pools.GetPoolAsync(task.PoolId, cancellationToken).ConfigureAwait(false))!;
        var limit = _registry.ConfigOf(pool).Inference?.MaxOutputBytes ?? 0;
        var bytes = Encoding.UTF8.GetBytes(output);
        if (bytes.Length > limit)
        {
            return Reject(TaskReportRejection.OutputTooLarge, task, $"The output is {bytes.Length} bytes; pool '{pool.Id}' takes at most {limit}.");
        }

        var actual = "0x" + Convert.ToHexStringLower(Keccak256.Hash(bytes));
        if (!string.Equals(actual, outputHash, StringComparison.OrdinalIgnoreCase))
        {
            return Reject(TaskReportRejection.HashMismatch, task, $"keccak256(output) is {actual}, not the attested {outputHash}.");
        }

        var now = _timeProvider.GetUtcNow();
        var declared = _registry.ConfigOf(pool).Inference?.Models.FirstOrDefault(m => m.Id == task.Model)?.Outputs;
        if (declared is not null && ModelIo.CheckOutputs(output, declared) is { } problem)
        {
            // Verified here, not trusted: the oracle attested garbage. Its lease fails like a failure report.
            var ended = await EndLeaseWithoutResultAsync(unitOfWork, lease!, task, TaskLeaseState.Failed, Shorten("invalid output: " + problem), signature, now, endTask: false, cancellationToken).ConfigureAwait(false);
            return ended with { Result = TaskReportResult.OutputRefused, Error = problem };
        }

        await unitOfWork.Inference.UpdateLeaseAsync(lease! with
        {
            State = TaskLeaseState.Resulted,
            EndedAt = now,
            OutputHash = actual,
            Output = output,
            Signature = signature,
        }, lease!.Version, cancellationToken).ConfigureAwait(false);
        return await DecideAsync(unitOfWork, task, now, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Extends an oracle's active lease by the pool's lease time from now, for long work (the caller authenticated the
    /// oracle). A lease that is not the oracle's, has ended or has expired is not renewed.
    /// </summary>
    /// <returns>The new expiry, or <see langword="null"/> when the lease cannot be renewed.</returns>
    public ValueTask<DateTimeOffset?> RenewLeaseAsync(Address oracle, string taskId, string leaseId, CancellationToken cancellationToken = default) =>
        _store.RunAsync((Service: this, Oracle: oracle, TaskId: taskId, LeaseId: leaseId), static (unitOfWork, request, ct) =>
            request.Service.RenewLeaseAsync(unitOfWork, request.Oracle, request.TaskId, request.LeaseId, ct), cancellationToken);

    /// <summary>The same command inside the caller's unit of work, which the caller commits (or ends uncommitted: then nothing of it is kept).</summary>
    public async ValueTask<DateTimeOffset?> RenewLeaseAsync(IAnpmUnitOfWork unitOfWork, Address oracle, string taskId, string leaseId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(unitOfWork);
        (taskId, leaseId) = (taskId ?? string.Empty, leaseId ?? string.Empty);
        var (lease, task, rejection) = await ActiveLeaseAsync(unitOfWork, oracle, taskId, leaseId, cancellationToken).ConfigureAwait(false);
        if (rejection is not null)
        {
            return null;
        }

        var pool = (await unitOfWork.Pools.GetPoolAsync(task!.PoolId, cancellationToken).ConfigureAwait(false))!;
        var expires = _timeProvider.GetUtcNow().AddSeconds(_registry.ConfigOf(pool).Inference?.LeaseSeconds ?? 60);
        await unitOfWork.Inference.UpdateLeaseAsync(lease! with { ExpiresAt = expires }, lease!.Version, cancellationToken).ConfigureAwait(false);
        return expires;
    }

    /// <summary>Records an oracle's signed <c>TaskFailure</c>: the slot is freed (requeued) or, with attempts used up, the task fails.</summary>
    public ValueTask<TaskReportOutcome> SubmitFailureAsync(Address oracle, string taskId, string leaseId, string reason, string signature, CancellationToken cancellationToken = default) =>
        _store.RunAsync((Service: this, Oracle: oracle, TaskId: taskId, LeaseId: leaseId, Reason: reason, Signature: signature), static (unitOfWork, request, ct) =>
            request.Service.SubmitFailureAsync(unitOfWork, request.Oracle, request.TaskId, request.LeaseId, request.Reason, request.Signature, ct), cancellationToken);

    /// <summary>Records the oracle's report like the overload without a unit of work, inside the caller's unit of work, which the caller commits.</summary>
    public async ValueTask<TaskReportOutcome> SubmitFailureAsync(IAnpmUnitOfWork unitOfWork, Address oracle, string taskId, string leaseId, string reason, string signature, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(unitOfWork);
        (taskId, leaseId, reason, signature) = (taskId ?? string.Empty, leaseId ?? string.Empty, reason ?? string.Empty, signature ?? string.Empty);
        var message = JsonSerializer.SerializeToElement(new Dictionary<string, string>
        {
            ["oracle"] = oracle.ToString(),
            ["taskId"] = taskId,
            ["leaseId"] = leaseId,
            ["reason"] = reason,
        });
        var verified = _verifier.Verify("TaskFailure", message, signature);
        var (lease, task, rejection) = await ActiveLeaseAsync(unitOfWork, oracle, taskId, leaseId, cancellationToken).ConfigureAwait(false);
        if (lease is { State: TaskLeaseState.Failed } && lease.Signature == signature)
        {
            return new TaskReportOutcome(TaskReportResult.Replayed, TaskReportRejection.None, task, null);
        }

        if (rejection is not null)
        {
            return rejection;
        }

        if (!verified.IsValid)
        {
            return Reject(TaskReportRejection.BadSignature, task, "The TaskFailure is not the oracle's: " + verified.Error);
        }

        var now = _timeProvider.GetUtcNow();
        reason = reason.Length > 256 ? reason[..256] : reason;
        // An input no node can run ends the task at once, its credits returned; other failures requeue it.
        return await EndLeaseWithoutResultAsync(unitOfWork, lease!, task!, TaskLeaseState.Failed, reason, signature, now,
            endTask: TaskFailureReasons.IsBadInput(reason), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The sweeper: expired leases free their slots (or fail their tasks after the pool's attempts), and pending tasks
    /// nobody is working on fail with their credits returned once <see cref="InferenceOptions.PendingTimeoutSeconds"/>
    /// passed since their last activity (creation, a claim, a result or a failed or expired lease). A task with an active
    /// lease never times out. A batch per unit of work; safe on several instances.
    /// </summary>
    /// <returns>How many leases expired and tasks timed out.</returns>
    public async ValueTask<int> SweepAsync(CancellationToken cancellationToken = default)
    {
        var total = 0;
        var expired = new List<TaskLease>();
        var timedOut = new List<InferenceTask>();
        while (true)
        {
            var handled = await _store.RunAsync((Service: this, Expired: expired, TimedOut: timedOut), static async (unitOfWork, sweep, ct) =>
            {
                // What this attempt ended, logged once it commits (a lost race runs the attempt again).
                sweep.Expired.Clear();
                sweep.TimedOut.Clear();
                var service = sweep.Service;
                var now = service._timeProvider.GetUtcNow();
                foreach (var lease in await unitOfWork.Inference.GetExpiredLeasesAsync(now, service._options.SweepBatchSize, ct).ConfigureAwait(false))
                {
                    var task = (await unitOfWork.Inference.GetTaskAsync(lease.TaskId, ct).ConfigureAwait(false))!;
                    await service.EndLeaseWithoutResultAsync(unitOfWork, lease, task, TaskLeaseState.Expired, "expired", null, now, endTask: false, ct).ConfigureAwait(false);
                    sweep.Expired.Add(lease);
                }

                foreach (var task in await unitOfWork.Inference.GetOverdueTasksAsync(now.AddSeconds(-service._options.PendingTimeoutSeconds), service._options.SweepBatchSize, ct).ConfigureAwait(false))
                {
                    await service.FailAsync(unitOfWork, task, "timeout: not claimed in time", now, ct).ConfigureAwait(false);
                    sweep.TimedOut.Add(task);
                }

                return sweep.Expired.Count + sweep.TimedOut.Count;
            }, cancellationToken).ConfigureAwait(false);
            foreach (var lease in expired)
            {
                LogLeaseExpired(_logger, lease.Oracle, lease.Id, lease.TaskId);
            }

            foreach (var task in timedOut)
            {
                LogTaskTimedOut(_logger, task.Id, task.PoolId, _options.PendingTimeoutSeconds);
            }

            total += handled;
            if (handled == 0)
            {
                return total;
            }
        }
    }

    [LoggerMessage(EventId = 403, Level = LogLevel.Warning, Message = "Oracle {Oracle} let lease {LeaseId} of task {TaskId} expire without a result; the task is offered again, or fails after the pool's attempts.")]
    private static partial void LogLeaseExpired(ILogger logger, Address oracle, string leaseId, string taskId);

    [LoggerMessage(EventId = 404, Level = LogLevel.Information, Message = "Task {TaskId} of pool {PoolId} failed: no oracle finished it within {TimeoutSeconds} s of its last activity; its credits are returned.")]
    private static partial void LogTaskTimedOut(ILogger logger, string taskId, PoolId poolId, int timeoutSeconds);

    /// <summary>A task with its attestations and the credits charged (zero unless Done).</summary>
    /// <returns>The task, or <see langword="null"/> when there is none with that id.</returns>
    public ValueTask<TaskView?> GetTaskAsync(string taskId, CancellationToken cancellationToken = default) =>
        _store.RunReadAsync(taskId ?? string.Empty, static async (unitOfWork, id, ct) =>
        {
            var task = await unitOfWork.Inference.GetTaskAsync(id, ct).ConfigureAwait(false);
            if (task is null)
            {
                return null;
            }

            var attestations = (await unitOfWork.Inference.ListTaskLeasesAsync(id, ct).ConfigureAwait(false))
                .Where(l => l.State == TaskLeaseState.Resulted)
                .Select(l => new TaskAttestation(l.Oracle, l.Id, task.ModelHash, l.OutputHash!, l.Signature!, task.OutputHash is null || l.OutputHash == task.OutputHash))
                .ToList();
            return new TaskView(task, attestations, task.Status == InferenceTaskStatus.Done ? task.Price : TokenAmount.Zero);
        }, cancellationToken);

    /// <summary>A pool's tasks (an account's, when given), newest first: the consume history.</summary>
    public ValueTask<IReadOnlyList<InferenceTask>> ListTasksAsync(PoolId poolId, Address? account, DateTimeOffset? before, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(limit, 500);
        return _store.RunReadAsync((Pool: poolId, Account: account, Before: before, Limit: limit), static (unitOfWork, page, ct) =>
            unitOfWork.Inference.ListTasksAsync(page.Pool, page.Account, page.Before, page.Limit, ct), cancellationToken);
    }

    /// <summary>A pool's task statistics: counts, latency percentiles of the latest 10 000 Done tasks, per-oracle counts, credits consumed.</summary>
    public ValueTask<TaskStatistics> GetStatisticsAsync(PoolId poolId, CancellationToken cancellationToken = default) =>
        _store.RunReadAsync(poolId, static async (unitOfWork, pool, ct) =>
        {
            var counts = await unitOfWork.Inference.CountTasksAsync(pool, ct).ConfigureAwait(false);
            var latencies = (await unitOfWork.Inference.GetRecentLatenciesAsync(pool, 10_000, ct).ConfigureAwait(false)).Order().ToArray();
            TimeSpan? Percentile(double p) => latencies.Length == 0 ? null : latencies[Math.Min(latencies.Length - 1, (int)Math.Ceiling(p * latencies.Length) - 1)];
            var oracles = await unitOfWork.Inference.CountOracleLeasesAsync(pool, ct).ConfigureAwait(false);
            var consumed = (await unitOfWork.Ledger.GetAccountAsync(ConsumedAccount(pool), ct).ConfigureAwait(false))?.CreditsPosted ?? TokenAmount.Zero;
            return new TaskStatistics(counts, Percentile(0.5), Percentile(0.95), Percentile(0.99), oracles, consumed);
        }, cancellationToken);

    private static TaskReportOutcome Reject(TaskReportRejection rejection, InferenceTask? task, string error) =>
        new(TaskReportResult.Rejected, rejection, task, error);

    private static TransferId HoldId(string taskId) => TransferId.Derive("hold:", taskId);

    // The lease named by a report, if it is the oracle's, for that task, and still active (not expired by the clock either).
    private async ValueTask<(TaskLease? Lease, InferenceTask? Task, TaskReportOutcome? Rejection)> ActiveLeaseAsync(
        IAnpmUnitOfWork unitOfWork, Address oracle, string taskId, string leaseId, CancellationToken cancellationToken)
    {
        var lease = await unitOfWork.Inference.GetLeaseAsync(leaseId, cancellationToken).ConfigureAwait(false);
        var task = await unitOfWork.Inference.GetTaskAsync(taskId, cancellationToken).ConfigureAwait(false);
        if (lease is null || task is null || lease.TaskId != task.Id || lease.Oracle != oracle)
        {
            return (null, task, Reject(TaskReportRejection.ForeignLease, task, $"Lease '{leaseId}' is not a lease of task '{taskId}' held by {oracle}."));
        }

        if (lease.State != TaskLeaseState.Active || lease.ExpiresAt <= _timeProvider.GetUtcNow()
            || task.Status is InferenceTaskStatus.Done or InferenceTaskStatus.Failed)
        {
            return (lease, task, Reject(TaskReportRejection.LeaseNotActive, task, $"Lease '{leaseId}' is {(lease.State == TaskLeaseState.Active ? "expired" : lease.State.ToString().ToLowerInvariant())}; the task is {task.Status}."));
        }

        return (lease, task, null);
    }

    // After a result: accept when q results agree; fail when quorum is out of reach; otherwise wait.
    private async ValueTask<TaskReportOutcome> DecideAsync(IAnpmUnitOfWork unitOfWork, InferenceTask task, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var leases = await unitOfWork.Inference.ListTaskLeasesAsync(task.Id, cancellationToken).ConfigureAwait(false);
        var results = leases.Where(l => l.State == TaskLeaseState.Resulted).ToList();
        var best = results.GroupBy(l => l.OutputHash!, StringComparer.OrdinalIgnoreCase).OrderByDescending(g => g.Count()).First();
        if (best.Count() >= task.Quorum)
        {
            var accepted = best.First();
            foreach (var dissenter in results.Where(l => !string.Equals(l.OutputHash, accepted.OutputHash, StringComparison.OrdinalIgnoreCase)))
            {
                await unitOfWork.Inference.UpdateLeaseAsync(dissenter with { Dissent = true }, dissenter.Version, cancellationToken).ConfigureAwait(false);
            }

            var posted = (await _ledger.CreateTransfersAsync(unitOfWork, [TransferRequest.PostPending(TransferId.Derive("consume:", task.Id), HoldId(task.Id), ConsumeKind)], cancellationToken).ConfigureAwait(false))[0];
            if (posted != CreateTransferResult.Created)
            {
                throw posted.ToException($"Posting the hold of task '{task.Id}'");
            }

            await _grants.PostAsync(unitOfWork, task.Id, cancellationToken).ConfigureAwait(false);
            var done = task with { Status = InferenceTaskStatus.Done, OpenSlots = 0, CompletedAt = now, Output = accepted.Output, OutputHash = accepted.OutputHash };
            await unitOfWork.Inference.UpdateTaskAsync(done, task.Version, cancellationToken).ConfigureAwait(false);
            await unitOfWork.Events.AppendAsync(AnpmEventTypes.TaskDone, task.Id, new System.Text.Json.Nodes.JsonObject
            {
                ["taskId"] = task.Id, ["poolId"] = task.PoolId.ToString(), ["account"] = task.Account.ToString(), ["creditsCharged"] = task.Price.ToString(),
            }, now, cancellationToken).ConfigureAwait(false);
            return new TaskReportOutcome(TaskReportResult.Accepted, TaskReportRejection.None, done with { Version = task.Version + 1 }, null);
        }

        var stillPossible = task.OpenSlots + leases.Count(l => l.State == TaskLeaseState.Active && l.ExpiresAt > now);
        if (best.Count() + stillPossible < task.Quorum)
        {
            var failed = await FailAsync(unitOfWork, task, $"no quorum: {results.Count} results, at most {best.Count()} agree, {task.Quorum} needed", now, cancellationToken).ConfigureAwait(false);
            return new TaskReportOutcome(TaskReportResult.TaskFailed, TaskReportRejection.None, failed, null);
        }

        return new TaskReportOutcome(TaskReportResult.Recorded, TaskReportRejection.None, task, null);
    }

    // A failure or an expiry: the slot opens again, unless the attempts are used up or quorum is out of reach.
    private async ValueTask<TaskReportOutcome> EndLeaseWithoutResultAsync(
        IAnpmUnitOfWork unitOfWork, TaskLease lease, InferenceTask task, TaskLeaseState state, string reason, string? signature, DateTimeOffset now, bool endTask, CancellationToken cancellationToken)
    {
        await unitOfWork.Inference.UpdateLeaseAsync(lease with { State = state, EndedAt = now, Reason = reason, Signature = signature }, lease.Version, cancellationToken).ConfigureAwait(false);
        if (task.Status is InferenceTaskStatus.Done or InferenceTaskStatus.Failed)
        {
            return new TaskReportOutcome(TaskReportResult.Recorded, TaskReportRejection.None, task, null); // a late lease of an ended task
        }

        var attempts = task.FailedAttempts + 1;
        if (endTask)
        {
            var ended = await FailAsync(unitOfWork, task with { FailedAttempts = attempts }, reason, now, cancellationToken).ConfigureAwait(false);
            return new TaskReportOutcome(TaskReportResult.TaskFailed, TaskReportRejection.None, ended, null);
        }

        if (attempts >= task.MaxAttempts)
        {
            var failed = await FailAsync(unitOfWork, task with { FailedAttempts = attempts }, $"{attempts} attempts failed (last: {reason})", now, cancellationToken).ConfigureAwait(false);
            return new TaskReportOutcome(TaskReportResult.TaskFailed, TaskReportRejection.None, failed, null);
        }

        var requeued = task with { FailedAttempts = attempts, OpenSlots = task.OpenSlots + 1, Status = InferenceTaskStatus.Pending };
        await unitOfWork.Inference.UpdateTaskAsync(requeued, task.Version, cancellationToken).ConfigureAwait(false);
        return new TaskReportOutcome(TaskReportResult.Requeued, TaskReportRejection.None, requeued with { Version = task.Version + 1 }, null);
    }

    // Ends a task as Failed and voids its hold: the credits come back.
    private async ValueTask<InferenceTask> FailAsync(IAnpmUnitOfWork unitOfWork, InferenceTask task, string reason, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var voided = (await _ledger.CreateTransfersAsync(unitOfWork, [TransferRequest.VoidPending(TransferId.Derive("refund:", task.Id), HoldId(task.Id), RefundKind)], cancellationToken).ConfigureAwait(false))[0];
        if (voided != CreateTransferResult.Created)
        {
            throw voided.ToException($"Voiding the hold of task '{task.Id}'");
        }

        await _grants.VoidAsync(unitOfWork, task.Account, task.PoolId, task.Id, now, cancellationToken).ConfigureAwait(false); // back to the grants (expired ones: out)
        await _alerts.CheckAsync(unitOfWork, task.Account, task.PoolId, now, cancellationToken).ConfigureAwait(false); // credits back: re-armed above the threshold
        if (task.SessionKeyId is { } sessionKeyId)
        {
            await _sessionKeys.ReleaseAsync(unitOfWork, sessionKeyId, task.Price, cancellationToken).ConfigureAwait(false); // the key's charge comes back with the credits
        }

        var failed = task with { Status = InferenceTaskStatus.Failed, OpenSlots = 0, CompletedAt = now, FailureReason = reason.Length > 256 ? reason[..256] : reason };
        await unitOfWork.Inference.UpdateTaskAsync(failed, task.Version, cancellationToken).ConfigureAwait(false);
        await unitOfWork.Events.AppendAsync(AnpmEventTypes.TaskFailed, task.Id, new System.Text.Json.Nodes.JsonObject
        {
            ["taskId"] = task.Id, ["poolId"] = task.PoolId.ToString(), ["account"] = task.Account.ToString(), ["reason"] = failed.FailureReason,
        }, now, cancellationToken).ConfigureAwait(false);
        return failed with { Version = task.Version + 1 };
    }

    private static string Shorten(string reason) => reason.Length > 256 ? reason[..256] : reason;

    // A session key's charge refused after the hold was written: thrown so that the unit of work rolls back whole.
    private sealed class SessionKeyRefusedException(SessionKeyCheck check) : Exception(check.Error)
    {
        public SessionKeyCheck Check { get; } = check;
    }
}

/// <summary>Validates <see cref="InferenceOptions"/> (the pending timeout and the sweep batch); registered with the package and run at start.</summary>
public sealed class InferenceOptionsValidator : IValidateOptions<InferenceOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, InferenceOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.PendingTimeoutSeconds < 1 || options.SweepBatchSize is < 1 or > 10_000
            ? ValidateOptionsResult.Fail("InferenceOptions: PendingTimeoutSeconds must be at least 1; SweepBatchSize must be 1 to 10000.")
            : ValidateOptionsResult.Success;
    }
}
