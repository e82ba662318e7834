using System.Numerics;
using System.Text;
using System.Text.Json;
using Anpm.Abstractions;
using Anpm.Credits;
using Anpm.Pools;
using Anpm.Signing;
using Anpm.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Anpm.Tensors;

namespace Anpm.Storage.Conformance;

/// <summary>
/// Inference tasks end to end over each store, with test oracles that sign real EIP-712 attestations: the lifecycle,
/// rejections that leave the task unaffected, expiry and requeue, quorum with a dissenter, timeouts, and a simulation
/// of oracles that crash, fail and lie — every task ends and every credit is accounted.
/// </summary>
public abstract class InferenceFlowConformanceTests(StoreFactory factory) : ConformanceSuite(factory)
{
    private const string ModelHash = "0x1111111111111111111111111111111111111111111111111111111111111111";
    private static readonly Address User = Address.Parse("0x70997970c51812dc3a010c7d01b50e0d17dc79c8");
    private static readonly PoolId Pool = PoolId.Parse("ai");

    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 11, 21, 12, 0, 0, TimeSpan.Zero));
    private readonly EthereumKey[] _oracles = [EthereumKey.Generate(), EthereumKey.Generate(), EthereumKey.Generate(), EthereumKey.Generate()];
    private IAnpmStore _store = null!;
    private Ledger _ledger = null!;
    private PoolRegistry _registry = null!;
    private SignedRequestVerifier _verifier = null!;
    private InferenceService _inference = null!;
    private BigInteger _bought;

    public override async Task InitializeAsync()
    {
        _store = await Factory.CreateAsync();
        _ledger = new Ledger(_store, Options.Create(new LedgerOptions()), _clock);
        _registry = new PoolRegistry(_store, _clock);
        _verifier = new SignedRequestVerifier(Options.Create(new SignedRequestOptions { VerifyingContract = "0x5fbdb2315678afecb367f032d93f642f64180aa3" }.AddMessageTypes(AnpmOracleMessages.All)), _clock);
        _inference = new InferenceService(_store, _ledger, _registry, _verifier, Options.Create(new InferenceOptions()), _clock);
    }

    public override async Task DisposeAsync()
    {
        foreach (var key in _oracles)
        {
            key.Dispose();
        }

        await base.DisposeAsync();
    }

    private async Task CreatePoolAsync(int replication = 1, int quorum = 1, int maxAttempts = 3, int maxOutputBytes = 4096, bool listOracles = true, bool declareIo = false)
    {
        var oracles = listOracles ? string.Join(",", _oracles.Take(3).Select(o => "\"" + o.Address + "\"")) : string.Empty;
        var io = declareIo
            ? ",\"inputs\":{\"x\":{\"type\":\"float32\",\"shape\":[1,2]}},\"outputs\":{\"y\":{\"type\":\"float32\",\"shape\":[-1]}}"
            : string.Empty;
        var config = "{\"name\":\"AI\",\"inference\":{\"models\":[{\"id\":\"digits\",\"sha256\":\"" + ModelHash + "\",\"price\":\"10\"" + io + "}],\"oracles\":[" + oracles
            + "],\"replication\":" + replication + ",\"quorum\":" + quorum + ",\"leaseSeconds\":60,\"maxAttempts\":" + maxAttempts + ",\"maxInputBytes\":" + (declareIo ? 1024 : 64)
            + ",\"maxOutputBytes\":" + maxOutputBytes + "}}";
        Assert.Equal(CreatePoolResult.Created, (await _registry.CreateAsync(Pool, User, config)).Result);
    }

    // The user's credits in the pool, as bought through the ledger.
    private async Task GiveCreditsAsync(ulong credits)
    {
        await _ledger.CreateAccountsAsync([new NewAccount(SystemAccounts.Issuance(WellKnownAssets.Credit), WellKnownAssets.Credit, AccountFlags.None),
            new NewAccount(CreditAccounts.InPool(Pool, User), WellKnownAssets.Credit, AccountFlags.DebitsMustNotExceedCredits)]);
        Assert.Equal(CreateTransferResult.Created, await _ledger.CreateTransferAsync(new TransferRequest
        {
            Id = TransferId.Parse("buy-" + _bought),
            DebitAccountId = SystemAccounts.Issuance(WellKnownAssets.Credit),
            CreditAccountId = CreditAccounts.InPool(Pool, User),
            Asset = WellKnownAssets.Credit,
            Amount = new TokenAmount(credits),
            Kind = TransferKind.Parse("purchase"),
        }));
        _bought += credits;
    }

    private async Task<BigInteger> AvailableAsync(AccountId account) => (await _ledger.GetAccountAsync(account))?.AvailableBalance.BaseUnits ?? UInt128.Zero;

    private static string Hash(string text) => "0x" + Convert.ToHexStringLower(Keccak256.Hash(Encoding.UTF8.GetBytes(text)));

    private string SignResult(EthereumKey key, string taskId, string leaseId, string modelHash, string outputHash) =>
        key.SignHash(_verifier.Digest("TaskResult", JsonSerializer.SerializeToElement(new Dictionary<string, string>
        {
            ["oracle"] = key.Address.ToString(), ["taskId"] = taskId, ["leaseId"] = leaseId, ["modelHash"] = modelHash, ["outputHash"] = outputHash,
        }))).ToString();

    private string SignFailure(EthereumKey key, string taskId, string leaseId, string reason) =>
        key.SignHash(_verifier.Digest("TaskFailure", JsonSerializer.SerializeToElement(new Dictionary<string, string>
        {
            ["oracle"] = key.Address.ToString(), ["taskId"] = taskId, ["leaseId"] = leaseId, ["reason"] = reason,
        }))).ToString();

    private Task<TaskReportOutcome> ResultAsync(EthereumKey key, TaskLease lease, string output) =>
        _inference.SubmitResultAsync(key.Address, lease.TaskId, lease.Id, ModelHash, Hash(output), output, SignResult(key, lease.TaskId, lease.Id, ModelHash, Hash(output))).AsTask();

    private async Task<TaskLease> ClaimAsync(EthereumKey key)
    {
        var claim = await _inference.ClaimAsync(key.Address, Pool);
        Assert.Equal(ClaimTaskResult.Leased, claim.Result);
        return claim.Lease!;
    }

    // Credits: bought = what the user holds (available + held) + consumed, and the ledger balances.
    private async Task AssertCreditsAccountedAsync(BigInteger expectedConsumed)
    {
        await LedgerAssert.InvariantHoldsAsync(_ledger);
        var user = (await _ledger.GetAccountAsync(CreditAccounts.InPool(Pool, User)))!;
        var consumed = (await _ledger.GetAccountAsync(InferenceService.ConsumedAccount(Pool)))?.CreditsPosted.BaseUnits ?? UInt128.Zero;
        Assert.Equal(expectedConsumed, (BigInteger)consumed);
        Assert.Equal(_bought, user.PostedBalance + consumed);
    }

    [Fact]
    public async Task DeclaredModelIo_BadInputsRefusedBeforeAnyHold_GarbageOutputsNeverCharged_BadInputReportEndsTheTask()
    {
        await CreatePoolAsync(maxAttempts: 2, declareIo: true);
        await GiveCreditsAsync(30);
        const string X = "\"x\":{\"type\":\"float32\",\"shape\":[1,2],\"data\":[1,2]}";
        var refused = new (string Input, string Field)[]
        {
            ("{\"inputs\":{\"x\":{\"type\":\"float32\",\"shape\":[1,3],\"data\":[1,2,3]}}}", "inputs.x.shape"),
            ("{\"inputs\":{\"x\":{\"type\":\"int64\",\"shape\":[1,2],\"data\":[1,2]}}}", "inputs.x.type"),
            ("{\"inputs\":{\"x\":{\"type\":\"float32\",\"shape\":[1,2],\"data\":\"AADAfwAAgD8=\"}}}", "inputs.x.data[0]"), // NaN in base64
            ("{\"inputs\":{\"x\":{\"type\":\"float32\",\"shape\":[1,2],\"data\":\"not base64!\"}}}", "inputs.x.data"),
            ("{\"inputs\":{" + X + ",\"z\":{\"type\":\"float32\",\"shape\":[1],\"data\":[1]}}}", "inputs.z"),
            ("{\"inputs\":{}}", "inputs.x"),
            ("{\"inputs\":{" + X + "," + X + "}}", "x"),
            ("{\"inputs\":", "JSON"),
        };
        for (var i = 0; i < refused.Length; i++)
        {
            var outcome = await _inference.AddTaskAsync("bad:" + i, User, Pool, "digits", refused[i].Input, new TokenAmount(10));
            Assert.True(outcome.Result == AddTaskResult.InvalidInput && outcome.Error!.Contains(refused[i].Field, StringComparison.Ordinal), $"{refused[i].Input}: {outcome}");
        }

        Assert.Equal(30, (int)await AvailableAsync(CreditAccounts.InPool(Pool, User)));

        // Garbage attested by two oracles in turn: the first is requeued, the second uses up the attempts; nobody pays.
        var good = "{\"inputs\":{" + X + "}}";
        var task = (await _inference.AddTaskAsync("t1", User, Pool, "digits", good, new TokenAmount(10))).Task!;
        var missing = await ResultAsync(_oracles[0], await ClaimAsync(_oracles[0]), "{\"outputs\":{}}");
        Assert.Equal((TaskReportResult.OutputRefused, InferenceTaskStatus.Pending), (missing.Result, missing.Task!.Status));
        Assert.Contains("outputs.y", missing.Error, StringComparison.Ordinal);
        var canonical = ModelIo.WriteOutputs(new Dictionary<string, Tensor> { ["y"] = Tensor.FromFloat32([0.5f], 1) });
        var spaced = await ResultAsync(_oracles[1], await ClaimAsync(_oracles[1]), canonical.Replace(":", ": ", StringComparison.Ordinal));
        Assert.Equal((TaskReportResult.OutputRefused, InferenceTaskStatus.Failed), (spaced.Result, spaced.Task!.Status));
        Assert.Equal(30, (int)await AvailableAsync(CreditAccounts.InPool(Pool, User)));
        await AssertCreditsAccountedAsync(0);

        // The canonical output of the declared shape is accepted and charged.
        Assert.Equal(AddTaskResult.Added, (await _inference.AddTaskAsync("t2", User, Pool, "digits", good, new TokenAmount(10))).Result);
        var wrongType = await ResultAsync(_oracles[0], await ClaimAsync(_oracles[0]), ModelIo.WriteOutputs(new Dictionary<string, Tensor> { ["y"] = Tensor.FromInt32([1], 1) }));
        Assert.Equal((TaskReportResult.OutputRefused, InferenceTaskStatus.Pending), (wrongType.Result, wrongType.Task!.Status));
        Assert.Contains("outputs.y.type", wrongType.Error, StringComparison.Ordinal);
        var retried = await ResultAsync(_oracles[1], await ClaimAsync(_oracles[1]), canonical);
        Assert.Equal(TaskReportResult.Accepted, retried.Result);
        await AssertCreditsAccountedAsync(10);

        // An oracle that cannot run the input says so: the task ends at once (attempts left) and its hold is voided.
        var third = (await _inference.AddTaskAsync("t3", User, Pool, "digits", good, new TokenAmount(10))).Task!;
        var lease = await ClaimAsync(_oracles[2]);
        const string Reason = "bad input: inputs.x: the model refused it";
        var ended = await _inference.SubmitFailureAsync(_oracles[2].Address, third.Id, lease.Id, Reason, SignFailure(_oracles[2], third.Id, lease.Id, Reason));
        Assert.Equal((TaskReportResult.TaskFailed, InferenceTaskStatus.Failed), (ended.Result, ended.Task!.Status));
        Assert.Equal(20, (int)await AvailableAsync(CreditAccounts.InPool(Pool, User)));
        await AssertCreditsAccountedAsync(10);
        Assert.Equal(InferenceTaskStatus.Failed, (await _inference.GetTaskAsync(task.Id))!.Task.Status);
    }

    [Fact]
    public async Task Lifecycle_AddClaimResult_HoldPosted_AttestationVerifiable()
    {
        await CreatePoolAsync();
        await GiveCreditsAsync(25);
        var added = await _inference.AddTaskAsync(User + ":1", User, Pool, "digits", "{\"inputs\":{}}", new TokenAmount(10));
        Assert.Equal((AddTaskResult.Added, InferenceTaskStatus.Pending), (added.Result, added.Task!.Status));
        Assert.Equal(15, await AvailableAsync(CreditAccounts.InPool(Pool, User)));
        Assert.Equal(AddTaskResult.Exists, (await _inference.AddTaskAsync(User + ":1", User, Pool, "digits", "{\"inputs\":{}}", new TokenAmount(10))).Result);
        Assert.Equal(AddTaskResult.IdTaken, (await _inference.AddTaskAsync(User + ":1", User, Pool, "digits", "{}", new TokenAmount(10))).Result);

        var lease = await ClaimAsync(_oracles[0]);
        Assert.Equal(added.Task.Id, lease.TaskId);
        Assert.Equal(_clock.GetUtcNow().AddSeconds(60), lease.ExpiresAt);
        Assert.Equal(ClaimTaskResult.NoTask, (await _inference.ClaimAsync(_oracles[1].Address, Pool)).Result);
        var output = "{\"outputs\":{\"label\":{\"type\":\"int64\",\"shape\":[1],\"data\":\"BwAAAAAAAAA=\"}}}";
        _clock.Advance(TimeSpan.FromMilliseconds(1500));
        var accepted = await ResultAsync(_oracles[0], lease, output);
        Assert.Equal((TaskReportResult.Accepted, InferenceTaskStatus.Done), (accepted.Result, accepted.Task!.Status));
        Assert.Equal(TaskReportResult.Replayed, (await ResultAsync(_oracles[0], lease, output)).Result);

        var view = (await _inference.GetTaskAsync(added.Task.Id))!;
        Assert.Equal((output, Hash(output), new TokenAmount(10)), (view.Task.Output, view.Task.OutputHash, view.CreditsCharged));
        var attestation = Assert.Single(view.Attestations);
        var message = JsonSerializer.SerializeToElement(new Dictionary<string, string>
        {
            ["oracle"] = attestation.Oracle.ToString(), ["taskId"] = view.Task.Id, ["leaseId"] = attestation.LeaseId, ["modelHash"] = attestation.ModelHash, ["outputHash"] = attestation.OutputHash,
        });
        Assert.True(_verifier.Verify("TaskResult", message, attestation.Signature).IsValid); // what a user can check
        var stats = await _inference.GetStatisticsAsync(Pool);
        Assert.Equal((1, TimeSpan.FromMilliseconds(1500), new TokenAmount(10)), (stats.Counts[InferenceTaskStatus.Done], stats.LatencyP99, stats.CreditsConsumed));
        Assert.Equal(new OracleTaskCounts(_oracles[0].Address, 1, 1, 0, 0), Assert.Single(stats.Oracles));
        Assert.Equal([added.Task.Id], (await _inference.ListTasksAsync(Pool, User, null, 10)).Select(t => t.Id));
        await AssertCreditsAccountedAsync(10);
    }

    [Fact]
    public async Task BadReports_RejectedNamingWhy_TaskUnaffected()
    {
        await CreatePoolAsync(maxOutputBytes: 40, listOracles: false);
        await GiveCreditsAsync(10);
        var task = (await _inference.AddTaskAsync("k1", User, Pool, "digits", "{}", new TokenAmount(10))).Task!;
        Assert.Equal(ClaimTaskResult.NotAllowed, (await _inference.ClaimAsync(_oracles[0].Address, Pool)).Result);
        await _inference.SetOracleAsync(Pool, _oracles[0].Address, active: true);
        await _inference.SetOracleAsync(Pool, _oracles[1].Address, active: true);
        var lease = await ClaimAsync(_oracles[0]);
        var good = "{\"outputs\":{}}";

        async Task RejectedAsync(TaskReportOutcome outcome, TaskReportRejection why)
        {
            Assert.Equal((TaskReportResult.Rejected, why), (outcome.Result, outcome.Rejection));
            var now = (await _inference.GetTaskAsync(task.Id))!.Task;
            Assert.Equal((InferenceTaskStatus.Processing, 1L), (now.Status, now.Version)); // only the claim changed it
            Assert.Equal(TaskLeaseState.Active, (await _store.RunAsync(lease.Id, static (u, id, ct) => u.Inference.GetLeaseAsync(id, ct)))!.State);
        }

        // Another oracle submitting on this lease, with its own valid signature.
        await RejectedAsync(await ResultAsync(_oracles[1], lease, good), TaskReportRejection.ForeignLease);
        // The right oracle's address, signed by another key.
        await RejectedAsync(await _inference.SubmitResultAsync(_oracles[0].Address, task.Id, lease.Id, ModelHash, Hash(good), good, SignResult(_oracles[1], task.Id, lease.Id, ModelHash, Hash(good))), TaskReportRejection.BadSignature);
        await RejectedAsync(await _inference.SubmitResultAsync(_oracles[0].Address, task.Id, lease.Id, ModelHash, Hash(good), good, "0x1234"), TaskReportRejection.BadSignature);
        // An honest signature over a hash that is not the output's, and over another model.
        await RejectedAsync(await _inference.SubmitResultAsync(_oracles[0].Address, task.Id, lease.Id, ModelHash, Hash("other"), good, SignResult(_oracles[0], task.Id, lease.Id, ModelHash, Hash("other"))), TaskReportRejection.HashMismatch);
        var otherModel = "0x" + new string('2', 64);
        await RejectedAsync(await _inference.SubmitResultAsync(_oracles[0].Address, task.Id, lease.Id, otherModel, Hash(good), good, SignResult(_oracles[0], task.Id, lease.Id, otherModel, Hash(good))), TaskReportRejection.HashMismatch);
        var huge = "{\"outputs\":{\"x\":\"" + new string('a', 40) + "\"}}";
        var tooLarge = await ResultAsync(_oracles[0], lease, huge);
        await RejectedAsync(tooLarge, TaskReportRejection.OutputTooLarge);
        Assert.Contains("at most 40", tooLarge.Error, StringComparison.Ordinal);
        await RejectedAsync(await _inference.SubmitFailureAsync(_oracles[0].Address, task.Id, lease.Id, "gpu", SignFailure(_oracles[1], task.Id, lease.Id, "gpu")), TaskReportRejection.BadSignature);

        Assert.Null(await _inference.RenewLeaseAsync(_oracles[1].Address, task.Id, lease.Id)); // not its lease
        _clock.Advance(TimeSpan.FromSeconds(30));
        Assert.Equal(_clock.GetUtcNow().AddSeconds(60), await _inference.RenewLeaseAsync(_oracles[0].Address, task.Id, lease.Id));
        _clock.Advance(TimeSpan.FromSeconds(45));
        Assert.Empty(await _store.RunAsync(_clock.GetUtcNow(), static (u, now, ct) => u.Inference.GetExpiredLeasesAsync(now, 10, ct))); // renewed: still active
        _clock.Advance(TimeSpan.FromSeconds(16)); // the lease expired (the sweeper has not run yet)
        Assert.Null(await _inference.RenewLeaseAsync(_oracles[0].Address, task.Id, lease.Id));
        var late = await ResultAsync(_oracles[0], lease, good);
        Assert.Equal((TaskReportResult.Rejected, TaskReportRejection.LeaseNotActive), (late.Result, late.Rejection));
        await AssertCreditsAccountedAsync(0);
    }

    [Fact]
    public async Task ExpiryAndFailure_Requeue_ThenAttemptsUsedUp_HoldVoided()
    {
        await CreatePoolAsync(maxAttempts: 2);
        await GiveCreditsAsync(10);
        var task = (await _inference.AddTaskAsync("k1", User, Pool, "digits", "{}", new TokenAmount(10))).Task!;
        var first = await ClaimAsync(_oracles[0]);
        _clock.Advance(TimeSpan.FromSeconds(60));
        Assert.Equal(1, await _inference.SweepAsync());
        var requeued = (await _inference.GetTaskAsync(task.Id))!.Task;
        Assert.Equal((InferenceTaskStatus.Pending, 1, 1), (requeued.Status, requeued.FailedAttempts, requeued.OpenSlots));
        Assert.Equal(ClaimTaskResult.NoTask, (await _inference.ClaimAsync(_oracles[0].Address, Pool)).Result); // it never gets a task twice
        var second = await ClaimAsync(_oracles[1]);
        Assert.NotEqual(first.Id, second.Id);
        var failed = await _inference.SubmitFailureAsync(_oracles[1].Address, task.Id, second.Id, "out of memory", SignFailure(_oracles[1], task.Id, second.Id, "out of memory"));
        Assert.Equal((TaskReportResult.TaskFailed, InferenceTaskStatus.Failed), (failed.Result, failed.Task!.Status));
        Assert.Contains("2 attempts failed (last: out of memory)", failed.Task.FailureReason, StringComparison.Ordinal);
        Assert.Equal(10, await AvailableAsync(CreditAccounts.InPool(Pool, User))); // the credits came back
        Assert.Equal(TaskReportResult.Replayed, (await _inference.SubmitFailureAsync(_oracles[1].Address, task.Id, second.Id, "out of memory", SignFailure(_oracles[1], task.Id, second.Id, "out of memory"))).Result);
        var stats = await _inference.GetStatisticsAsync(Pool);
        Assert.Equal((1, 2), (stats.Counts[InferenceTaskStatus.Failed], stats.Oracles.Sum(o => o.Failures)));
        await AssertCreditsAccountedAsync(0);
    }

    [Fact]
    public async Task Quorum_TwoOfThreeAgree_DissenterRecorded_AndUnreachableQuorumFails()
    {
        await CreatePoolAsync(replication: 3, quorum: 2);
        await GiveCreditsAsync(20);
        var task = (await _inference.AddTaskAsync("k1", User, Pool, "digits", "{}", new TokenAmount(10))).Task!;
        var leases = new[] { await ClaimAsync(_oracles[0]), await ClaimAsync(_oracles[1]), await ClaimAsync(_oracles[2]) };
        Assert.Equal(InferenceTaskStatus.Processing, (await _inference.GetTaskAsync(task.Id))!.Task.Status);
        Assert.Equal(TaskReportResult.Recorded, (await ResultAsync(_oracles[0], leases[0], "{\"outputs\":{\"label\":7}}")).Result);
        Assert.Equal(TaskReportResult.Recorded, (await ResultAsync(_oracles[1], leases[1], "{\"outputs\":{\"label\":1}}")).Result); // a liar
        var accepted = await ResultAsync(_oracles[2], leases[2], "{\"outputs\":{\"label\":7}}");
        Assert.Equal((TaskReportResult.Accepted, "{\"outputs\":{\"label\":7}}"), (accepted.Result, accepted.Task!.Output));
        var view = (await _inference.GetTaskAsync(task.Id))!;
        Assert.Equal([true, false, true], view.Attestations.OrderBy(a => Array.IndexOf(_oracles.Select(o => o.Address).ToArray(), a.Oracle)).Select(a => a.Agrees));
        Assert.Equal(1, (await _inference.GetStatisticsAsync(Pool)).Oracles.Single(o => o.Oracle == _oracles[1].Address).Dissents);

        var split = (await _inference.AddTaskAsync("k2", User, Pool, "digits", "{}", new TokenAmount(10))).Task!;
        var l1 = await ClaimAsync(_oracles[0]);
        var l2 = await ClaimAsync(_oracles[1]);
        var l3 = await ClaimAsync(_oracles[2]);
        await ResultAsync(_oracles[0], l1, "{\"a\":1}");
        await ResultAsync(_oracles[1], l2, "{\"a\":2}");
        var failed = await ResultAsync(_oracles[2], l3, "{\"a\":3}");
        Assert.Equal((TaskReportResult.TaskFailed, split.Id), (failed.Result, failed.Task!.Id));
        Assert.StartsWith("no quorum", failed.Task.FailureReason, StringComparison.Ordinal);
        await AssertCreditsAccountedAsync(10);
    }

    [Fact]
    public async Task AddTask_RefusedOutsideTheRules_NothingHeld()
    {
        await CreatePoolAsync();
        await GiveCreditsAsync(9);
        Assert.Equal(AddTaskResult.InsufficientCredits, (await _inference.AddTaskAsync("a", User, Pool, "digits", "{}", new TokenAmount(10))).Result);
        Assert.Equal(AddTaskResult.ModelNotOffered, (await _inference.AddTaskAsync("b", User, Pool, "qwen", "{}", new TokenAmount(10))).Result);
        Assert.Equal(AddTaskResult.PriceAboveMaximum, (await _inference.AddTaskAsync("c", User, Pool, "digits", "{}", new TokenAmount(9))).Result);
        var large = await _inference.AddTaskAsync("d", User, Pool, "digits", new string('x', 65), new TokenAmount(10));
        Assert.Equal((AddTaskResult.InputTooLarge, "The input is 65 bytes; pool 'ai' takes at most 64."), (large.Result, large.Error));
        Assert.Equal(AddTaskResult.PoolNotFound, (await _inference.AddTaskAsync("e", User, PoolId.Parse("nowhere"), "digits", "{}", new TokenAmount(10))).Result);
        await _registry.PauseAsync(Pool);
        Assert.Equal(AddTaskResult.PoolNotActive, (await _inference.AddTaskAsync("f", User, Pool, "digits", "{}", new TokenAmount(10))).Result);
        Assert.Equal(9, await AvailableAsync(CreditAccounts.InPool(Pool, User)));
        Assert.Empty(await _inference.ListTasksAsync(Pool, null, null, 10));
        await AssertCreditsAccountedAsync(0);
    }

    [Fact]
    public async Task UnclaimedTask_TimesOut_CreditsBack()
    {
        await CreatePoolAsync();
        await GiveCreditsAsync(10);
        var task = (await _inference.AddTaskAsync("k1", User, Pool, "digits", "{}", new TokenAmount(10))).Task!;
        _clock.Advance(TimeSpan.FromSeconds(3599));
        Assert.Equal(0, await _inference.SweepAsync());
        _clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(1, await _inference.SweepAsync());
        Assert.Equal(InferenceTaskStatus.Failed, (await _inference.GetTaskAsync(task.Id))!.Task.Status);
        Assert.Equal(10, await AvailableAsync(CreditAccounts.InPool(Pool, User)));
        await AssertCreditsAccountedAsync(0);
    }

    [Fact]
    public async Task PendingTimeout_OnlyTasksNobodyWorksOn_FromTheirLastActivity()
    {
        var log = new ListLogger<InferenceService>();
        var inference = new InferenceService(_store, _ledger, _registry, _verifier, Options.Create(new InferenceOptions { PendingTimeoutSeconds = 30 }), _clock, log);
        await CreatePoolAsync(replication: 2, quorum: 2);
        await GiveCreditsAsync(20);

        // A replicated task one oracle is working on stays open past the timeout.
        var working = (await inference.AddTaskAsync("k1", User, Pool, "digits", "{}", new TokenAmount(10))).Task!;
        var lease = await ClaimAsync(_oracles[0]);
        _clock.Advance(TimeSpan.FromSeconds(31));
        Assert.Equal(0, await inference.SweepAsync());
        Assert.Equal(InferenceTaskStatus.Pending, (await inference.GetTaskAsync(working.Id))!.Task.Status);

        // Its collected result keeps it open for a full timeout after the result came in.
        Assert.Equal(TaskReportResult.Recorded, (await ResultAsync(_oracles[0], lease, "{\"a\":1}")).Result);
        _clock.Advance(TimeSpan.FromSeconds(29));
        Assert.Equal(0, await inference.SweepAsync());
        Assert.Equal(InferenceTaskStatus.Pending, (await inference.GetTaskAsync(working.Id))!.Task.Status);

        // Nobody claimed the second slot in that time: it times out and the credits come back.
        _clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(1, await inference.SweepAsync());
        var timedOut = (await inference.GetTaskAsync(working.Id))!.Task;
        Assert.Equal(InferenceTaskStatus.Failed, timedOut.Status);
        Assert.StartsWith("timeout", timedOut.FailureReason, StringComparison.Ordinal);
        var timeoutLog = Assert.Single(log.Entries, e => e.EventId.Id == 404);
        Assert.Equal(LogLevel.Information, timeoutLog.Level);
        Assert.Contains(working.Id, timeoutLog.Message, StringComparison.Ordinal);

        // A task requeued by an expired lease gets a full timeout from the requeue, not from its creation.
        var requeued = (await inference.AddTaskAsync("k2", User, Pool, "digits", "{}", new TokenAmount(10))).Task!;
        await ClaimAsync(_oracles[1]);
        _clock.Advance(TimeSpan.FromSeconds(60));
        Assert.Equal(1, await inference.SweepAsync()); // the lease expired; the task is not timed out with it
        var expiredLog = Assert.Single(log.Entries, e => e.EventId.Id == 403); // logged once the sweep committed, naming the oracle
        Assert.Equal(LogLevel.Warning, expiredLog.Level);
        Assert.Contains(_oracles[1].Address.ToString(), expiredLog.Message, StringComparison.Ordinal);
        Assert.Contains(requeued.Id, expiredLog.Message, StringComparison.Ordinal);
        var afterExpiry = (await inference.GetTaskAsync(requeued.Id))!.Task;
        Assert.Equal((InferenceTaskStatus.Pending, 1), (afterExpiry.Status, afterExpiry.FailedAttempts));
        _clock.Advance(TimeSpan.FromSeconds(29));
        Assert.Equal(0, await inference.SweepAsync());
        _clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(1, await inference.SweepAsync());
        Assert.Equal(InferenceTaskStatus.Failed, (await inference.GetTaskAsync(requeued.Id))!.Task.Status);
        Assert.Equal(20, await AvailableAsync(CreditAccounts.InPool(Pool, User)));
        await AssertCreditsAccountedAsync(0);
    }

    [Fact]
    public Task Simulation_OraclesCrashFailAndLie_EveryTaskEnds_CreditsAccounted() => TestSeed.RunAsync(SimulateOraclesAsync);

    private async Task SimulateOraclesAsync(int seed)
    {
        var random = new Random(seed);
        await CreatePoolAsync(replication: 3, quorum: 2, maxAttempts: 4);
        var tasks = Factory.SimulationOperations / 500;
        await GiveCreditsAsync((ulong)tasks * 10);
        for (var i = 0; i < tasks; i++)
        {
            Assert.Equal(AddTaskResult.Added, (await _inference.AddTaskAsync("k" + i, User, Pool, "digits", "{\"i\":" + i + "}", new TokenAmount(10))).Result);
        }

        // Oracle 0 and 1 are honest, oracle 2 lies half the time; any of them may crash (never answer) or fail.
        for (var round = 0; round < 400; round++)
        {
            var who = random.Next(3);
            var claim = await _inference.ClaimAsync(_oracles[who].Address, Pool);
            if (claim.Result == ClaimTaskResult.Leased)
            {
                var lease = claim.Lease!;
                var truth = "{\"out\":" + claim.Task!.Input + "}";
                switch (random.Next(10))
                {
                    case 0 or 1:
                        break; // crashed: the lease will expire
                    case 2:
                        await _inference.SubmitFailureAsync(_oracles[who].Address, lease.TaskId, lease.Id, "crash", SignFailure(_oracles[who], lease.TaskId, lease.Id, "crash"));
                        break;
                    default:
                        var output = who == 2 && random.Next(2) == 0 ? "{\"out\":\"lie " + random.Next(3) + "\"}" : truth;
                        await ResultAsync(_oracles[who], lease, output);
                        break;
                }
            }

            _clock.Advance(TimeSpan.FromSeconds(random.Next(1, 40)));
            await _inference.SweepAsync();
        }

        _clock.Advance(TimeSpan.FromHours(2)); // the last leases expire, and tasks nobody took since time out
        await _inference.SweepAsync();
        _clock.Advance(TimeSpan.FromHours(1)); // tasks requeued by those expiries get their own hour, then time out
        await _inference.SweepAsync();
        var all = await _inference.ListTasksAsync(Pool, null, null, 500);
        Assert.Equal(tasks, all.Count);
        Assert.All(all, t => Assert.True(t.Status is InferenceTaskStatus.Done or InferenceTaskStatus.Failed, $"{t.Id} is {t.Status}"));
        Assert.All(all.Where(t => t.Status == InferenceTaskStatus.Done), t => Assert.Equal("{\"out\":" + t.Input + "}", t.Output)); // no lie accepted under quorum
        var done = all.Count(t => t.Status == InferenceTaskStatus.Done);
        Assert.True(done > 0 && done < tasks, $"{done} of {tasks} done: the simulation should see both outcomes.");
        await AssertCreditsAccountedAsync(done * 10);
        Assert.Equal(_bought - done * 10, await AvailableAsync(CreditAccounts.InPool(Pool, User))); // holds of failed tasks returned
    }
}

public sealed class InMemoryInferenceFlowTests() : InferenceFlowConformanceTests(new InMemoryStoreFactory());

public sealed class SqliteInferenceFlowTests() : InferenceFlowConformanceTests(new SqliteStoreFactory());

[Collection(PostgresCollection.Name)]
public sealed class PostgresInferenceFlowTests(PostgresServerFixture server) : InferenceFlowConformanceTests(new PostgresStoreFactory(server));
