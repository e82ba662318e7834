using System.Security.Cryptography;
using System.Text.Json;
using Anpm.Abstractions;
using Anpm.Credits;
using Anpm.Pools;
using Anpm.Signing;
using Anpm.Storage.InMemory;
using Anpm.Testing;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Anpm.Oracle.Tests;

/// <summary>
/// The runner end to end against the pool side in-process: real digits inference through the backend, attestations the
/// pool verifies, a node whose backend throws (its tasks are reported and requeued, never stuck), and a bad input.
/// </summary>
public sealed class OracleRunnerTests : IAsyncDisposable
{
    private static readonly string Models = Path.Combine(AppContext.BaseDirectory, "models");
    private static readonly Address User = Address.Parse("0x70997970c51812dc3a010c7d01b50e0d17dc79c8");
    private static readonly PoolId Pool = PoolId.Parse("demo");
    private readonly InMemoryAnpmStore _store = new();
    private readonly EthereumKey _honest = EthereumKey.Generate();
    private readonly EthereumKey _broken = EthereumKey.Generate();
    private readonly SignedRequestVerifier _domain = new(Options.Create(new SignedRequestOptions { VerifyingContract = "0x5fbdb2315678afecb367f032d93f642f64180aa3" }.AddMessageTypes(AnpmOracleMessages.All)), TimeProvider.System);
    private readonly OnnxInferenceBackend _backend;
    private readonly Ledger _ledger;
    private readonly InferenceService _inference;
    private readonly string _modelHash = "0x" + Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(Path.Combine(Models, "digits.onnx"))));

    public OracleRunnerTests()
    {
        var options = new OnnxBackendOptions { Device = ExecutionDevice.Cpu };
        options.Models["digits"] = Path.Combine(Models, "digits.onnx");
        _backend = new OnnxInferenceBackend(Options.Create(options));
        _ledger = new Ledger(_store, Options.Create(new LedgerOptions()), TimeProvider.System);
        _inference = new InferenceService(_store, _ledger, new PoolRegistry(_store, TimeProvider.System), _domain, Options.Create(new InferenceOptions()), TimeProvider.System);
    }

    public async ValueTask DisposeAsync()
    {
        _backend.Dispose();
        _honest.Dispose();
        _broken.Dispose();
        await Task.CompletedTask;
    }

    private sealed class PoolTaskSource(InferenceService inference, Address oracle) : IOracleTaskSource
    {
        public async ValueTask<OracleTask?> ClaimAsync(CancellationToken cancellationToken)
        {
            var claim = await inference.ClaimAsync(oracle, Pool, cancellationToken);
            return claim.Result == ClaimTaskResult.Leased
                ? new OracleTask(claim.Task!.Id, claim.Lease!.Id, claim.Lease.ExpiresAt, claim.Task.Model, claim.Task.ModelHash, claim.Task.Input)
                : null;
        }

        public async ValueTask SubmitResultAsync(OracleTask task, InferenceResult result, string signature, CancellationToken cancellationToken)
        {
            var outcome = await inference.SubmitResultAsync(oracle, task.TaskId, task.LeaseId, task.ModelHash, result.OutputHash, result.Output, signature, cancellationToken);
            Assert.NotEqual(TaskReportResult.Rejected, outcome.Result);
        }

        public async ValueTask SubmitFailureAsync(OracleTask task, string reason, string signature, CancellationToken cancellationToken)
        {
            var outcome = await inference.SubmitFailureAsync(oracle, task.TaskId, task.LeaseId, reason, signature, cancellationToken);
            Assert.NotEqual(TaskReportResult.Rejected, outcome.Result);
        }
    }

    /// <summary>Work that takes <paramref name="delay"/> of <paramref name="clock"/>'s time before the real inference.</summary>
    private sealed class SlowBackend(IInferenceBackend inner, TimeSpan delay, TimeProvider clock) : IInferenceBackend
    {
        public TaskCompletionSource Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public async ValueTask<InferenceResult> RunAsync(InferenceRequest request, CancellationToken cancellationToken = default)
        {
            Started.TrySetResult();
            await Task.Delay(delay, clock, cancellationToken);
            return await inner.RunAsync(request, cancellationToken);
        }
    }

    /// <summary>Moves <paramref name="clock"/> on in small steps until <paramref name="done"/> (at most <paramref name="limit"/> of fake time).</summary>
    private static async Task AdvanceUntilAsync(FakeTimeProvider clock, Func<bool> done, TimeSpan step, TimeSpan limit)
    {
        for (var elapsed = TimeSpan.Zero; !done() && elapsed < limit; elapsed += step)
        {
            clock.Advance(step);
            await Task.Delay(1); // lets the continuations the step released run
        }

        Assert.True(done(), $"Not done after {limit} of fake time.");
    }

    [Fact]
    public async Task Runner_LongWork_RenewsItsLease_ResultAccepted()
    {
        // The pool and the node on one fake clock: 4.5 s of work on a 2 s lease, in fake time.
        var clock = new FakeTimeProvider(TestClock.Start);
        var ledger = new Ledger(_store, Options.Create(new LedgerOptions()), clock);
        var inference = new InferenceService(_store, ledger, new PoolRegistry(_store, clock), _domain, Options.Create(new InferenceOptions()), clock);
        var config = "{\"name\":\"Demo\",\"inference\":{\"models\":[{\"id\":\"digits\",\"sha256\":\"" + _modelHash + "\",\"price\":\"1\"}],\"oracles\":[\"" + _honest.Address + "\"],\"leaseSeconds\":2}}";
        Assert.Equal(CreatePoolResult.Created, (await new PoolRegistry(_store, clock).CreateAsync(Pool, User, config)).Result);
        await ledger.CreateAccountsAsync([new NewAccount(SystemAccounts.Issuance(WellKnownAssets.Credit), WellKnownAssets.Credit, AccountFlags.None),
            new NewAccount(CreditAccounts.InPool(Pool, User), WellKnownAssets.Credit, AccountFlags.DebitsMustNotExceedCredits)]);
        await ledger.CreateTransferAsync(new TransferRequest
        {
            Id = TransferId.Parse("buy"), DebitAccountId = SystemAccounts.Issuance(WellKnownAssets.Credit), CreditAccountId = CreditAccounts.InPool(Pool, User),
            Asset = WellKnownAssets.Credit, Amount = new TokenAmount(1), Kind = TransferKind.Parse("purchase"),
        });
        var task = (await inference.AddTaskAsync("long", User, Pool, "digits", "{\"inputs\":{\"pixels\":{\"type\":\"float32\",\"shape\":[1,64],\"data\":\"" + Convert.ToBase64String(new byte[256]) + "\"}}}", new TokenAmount(1))).Task!;
        var renewals = 0;
        var oracle = _honest.Address;
        var source = new InProcessTaskSource(
            async ct => await inference.ClaimAsync(oracle, Pool, ct) is { Result: ClaimTaskResult.Leased } c
                ? new OracleTask(c.Task!.Id, c.Lease!.Id, c.Lease.ExpiresAt, c.Task.Model, c.Task.ModelHash, c.Task.Input) : null,
            async (t, r, signature, ct) => Assert.Equal(TaskReportResult.Accepted, (await inference.SubmitResultAsync(oracle, t.TaskId, t.LeaseId, t.ModelHash, r.OutputHash, r.Output, signature, ct)).Result),
            async (t, reason, signature, ct) => await inference.SubmitFailureAsync(oracle, t.TaskId, t.LeaseId, reason, signature, ct),
            async (t, ct) =>
            {
                Interlocked.Increment(ref renewals);
                return await inference.RenewLeaseAsync(oracle, t.TaskId, t.LeaseId, ct);
            });
        var runner = new OracleRunner(source, new SlowBackend(_backend, TimeSpan.FromMilliseconds(4500), clock), new AttestationSigner(_honest, _domain), Options.Create(new OracleRunnerOptions()), clock);
        var claimed = (await source.ClaimAsync(CancellationToken.None))!;
        var work = runner.ProcessAsync(claimed, CancellationToken.None);
        await AdvanceUntilAsync(clock, () => work.IsCompleted, TimeSpan.FromMilliseconds(50), TimeSpan.FromSeconds(10));
        await work;
        Assert.True(renewals >= 2, $"{renewals} renewals");
        Assert.Equal(InferenceTaskStatus.Done, (await inference.GetTaskAsync(task.Id))!.Task.Status);
        Assert.Equal((1L, 0L), (runner.Completed, runner.Failed));
    }

    private sealed class ScriptedSource(int failingClaims, OracleTask task, TimeProvider? clock = null) : IOracleTaskSource
    {
        private int _claims;

        public List<DateTimeOffset> ClaimTimes { get; } = [];

        public List<string> Failures { get; } = [];

        public List<string> Results { get; } = [];

        public ValueTask<OracleTask?> ClaimAsync(CancellationToken cancellationToken)
        {
            var n = Interlocked.Increment(ref _claims);
            lock (ClaimTimes)
            {
                ClaimTimes.Add((clock ?? TimeProvider.System).GetUtcNow());
            }

            return n <= failingClaims ? throw new HttpRequestException("host unreachable") : new(n == failingClaims + 1 ? task : null);
        }

        public ValueTask SubmitResultAsync(OracleTask task, InferenceResult result, string signature, CancellationToken cancellationToken)
        {
            lock (Results)
            {
                Results.Add(task.TaskId);
            }

            return ValueTask.CompletedTask;
        }

        public ValueTask SubmitFailureAsync(OracleTask task, string reason, string signature, CancellationToken cancellationToken)
        {
            lock (Failures)
            {
                Failures.Add(reason);
            }

            return ValueTask.CompletedTask;
        }
    }

    [Fact]
    public async Task Runner_SourceDown_RetriesWithBackoff_ThenRuns()
    {
        var task = new OracleTask("t1", "l1", DateTimeOffset.MaxValue, "digits", _modelHash,
            "{\"inputs\":{\"pixels\":{\"type\":\"float32\",\"shape\":[1,64],\"data\":\"" + Convert.ToBase64String(new byte[256]) + "\"}}}");
        var clock = new TimerCountingClock(TestClock.Start);
        var source = new ScriptedSource(failingClaims: 3, task, clock);
        using var runner = new OracleRunner(source, _backend, new AttestationSigner(_honest, _domain), Options.Create(new OracleRunnerOptions { IdlePollMilliseconds = 10, MaxRetryMilliseconds = 40 }), clock);
        int Claims()
        {
            lock (source.ClaimTimes)
            {
                return source.ClaimTimes.Count;
            }
        }

        // Three failed claims, then the task: waits of 10, 20 and 40 ms (doubling, capped at MaxRetryMilliseconds). Each
        // step waits until the runner sleeps on the clock, so how busy the machine is changes nothing.
        var timers = clock.Timers;
        await runner.StartAsync(CancellationToken.None);
        foreach (var (wait, claim) in new[] { (10, 1), (20, 2), (40, 3) })
        {
            await WaitAsync(() => Claims() == claim && clock.Timers > timers);
            timers = clock.Timers;
            clock.Advance(TimeSpan.FromMilliseconds(wait - 1));
            await Task.Delay(20);
            Assert.Equal(claim, Claims()); // not a millisecond early
            clock.Advance(TimeSpan.FromMilliseconds(1));
        }

        await WaitAsync(() => runner.Completed == 1);
        await runner.StopAsync(CancellationToken.None);
        Assert.Equal(["t1"], source.Results);
        List<DateTimeOffset> times;
        lock (source.ClaimTimes)
        {
            times = [.. source.ClaimTimes.Take(4)];
        }

        Assert.Equal([10.0, 20.0, 40.0], times.Zip(times.Skip(1)).Select(pair => (pair.Second - pair.First).TotalMilliseconds));
    }

    // Waits (in real time, at most 10 s) for the runner to get somewhere.
    private static async Task WaitAsync(Func<bool> condition)
    {
        for (var i = 0; i < 1000 && !condition(); i++)
        {
            await Task.Delay(10);
        }

        Assert.True(condition(), "The runner did not get there in 10 s.");
    }

    /// <summary>A fake clock that counts the timers created on it (each Task.Delay on it is one): the runner is asleep on it.</summary>
    private sealed class TimerCountingClock(DateTimeOffset start) : FakeTimeProvider(start)
    {
        private int _timers;

        public int Timers => Volatile.Read(ref _timers);

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            var timer = base.CreateTimer(callback, state, dueTime, period);
            Interlocked.Increment(ref _timers);
            return timer;
        }
    }

    [Fact]
    public async Task Runner_Shutdown_InFlightWorkPastTheGrace_CancelledAndReported()
    {
        var task = new OracleTask("t1", "l1", DateTimeOffset.MaxValue, "digits", _modelHash,
            "{\"inputs\":{\"pixels\":{\"type\":\"float32\",\"shape\":[1,64],\"data\":\"" + Convert.ToBase64String(new byte[256]) + "\"}}}");
        var clock = new FakeTimeProvider(TestClock.Start);
        var source = new ScriptedSource(failingClaims: 0, task, clock);
        var slow = new SlowBackend(_backend, TimeSpan.FromSeconds(30), clock);
        using var runner = new OracleRunner(source, slow, new AttestationSigner(_honest, _domain),
            Options.Create(new OracleRunnerOptions { IdlePollMilliseconds = 10, ShutdownGraceMilliseconds = 200 }), clock);
        await runner.StartAsync(CancellationToken.None);
        await slow.Started.Task.WaitAsync(TimeSpan.FromSeconds(60)); // the task is claimed and running
        var stopping = runner.StopAsync(CancellationToken.None);
        await AdvanceUntilAsync(clock, () => stopping.IsCompleted, TimeSpan.FromMilliseconds(50), TimeSpan.FromSeconds(1)); // the 200 ms grace, in fake time
        await stopping;
        Assert.Equal(["node shutting down"], source.Failures); // reported, so the pool requeues it at once
        Assert.Empty(source.Results);
    }

    private sealed class ThrowingBackend : IInferenceBackend
    {
        public ValueTask<InferenceResult> RunAsync(InferenceRequest request, CancellationToken cancellationToken = default) =>
            throw new InvalidOperationException("CUDA error 719: unspecified launch failure");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(8)]
    public async Task Runner_EndToEnd_DigitsLabelledRight_ThrowingNodeNeverLeavesATaskLocked(int batch)
    {
        var oracles = "\"" + _honest.Address + "\",\"" + _broken.Address + "\"";
        var config = "{\"name\":\"Demo\",\"inference\":{\"models\":[{\"id\":\"digits\",\"sha256\":\"" + _modelHash + "\",\"price\":\"3\"}],\"oracles\":[" + oracles + "],\"maxAttempts\":3,\"maxInputBytes\":65536}}";
        Assert.Equal(CreatePoolResult.Created, (await new PoolRegistry(_store, TimeProvider.System).CreateAsync(Pool, User, config)).Result);
        await _ledger.CreateAccountsAsync([new NewAccount(SystemAccounts.Issuance(WellKnownAssets.Credit), WellKnownAssets.Credit, AccountFlags.None),
            new NewAccount(CreditAccounts.InPool(Pool, User), WellKnownAssets.Credit, AccountFlags.DebitsMustNotExceedCredits)]);
        await _ledger.CreateTransferAsync(new TransferRequest
        {
            Id = TransferId.Parse("buy"), DebitAccountId = SystemAccounts.Issuance(WellKnownAssets.Credit), CreditAccountId = CreditAccounts.InPool(Pool, User),
            Asset = WellKnownAssets.Credit, Amount = new TokenAmount(100), Kind = TransferKind.Parse("purchase"),
        });

        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(Models, "digits.vectors.json")));
        var samples = json.RootElement.GetProperty("inputs").EnumerateArray().Take(6).Select(r => r.EnumerateArray().Select(v => v.GetInt32()).ToArray()).ToArray();
        var expected = json.RootElement.GetProperty("expectedLabels").EnumerateArray().Take(6).Select(v => v.GetInt64()).ToArray();
        var ids = new List<string>();
        for (var i = 0; i < samples.Length; i++)
        {
            var input = "{\"inputs\":{\"pixels\":{\"type\":\"float32\",\"shape\":[1,64],\"data\":[" + string.Join(",", samples[i]) + "]}}}";
            ids.Add((await _inference.AddTaskAsync("k" + i, User, Pool, "digits", input, new TokenAmount(3))).Task!.Id);
        }

        var bad = (await _inference.AddTaskAsync("bad", User, Pool, "digits", "{\"inputs\":{\"pixels\":{\"type\":\"float32\",\"shape\":[1,3],\"data\":[1,2,3]}}}", new TokenAmount(3))).Task!;

        // The broken node claims first: each task it takes fails on it and goes back to the queue.
        var options = Options.Create(new OracleRunnerOptions { MaxConcurrency = 2, IdlePollMilliseconds = 10, MaxBatchSize = batch, BatchWaitMilliseconds = 20 });
        var broken = new OracleRunner(new PoolTaskSource(_inference, _broken.Address), new ThrowingBackend(), new AttestationSigner(_broken, _domain), options);
        var honest = new OracleRunner(new PoolTaskSource(_inference, _honest.Address), _backend, new AttestationSigner(_honest, _domain), options);
        await broken.StartAsync(CancellationToken.None);
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (broken.Failed < 7 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }

        await broken.StopAsync(CancellationToken.None);
        Assert.Equal(7, broken.Failed); // every task attempted once by the broken node, each reported at once
        await honest.StartAsync(CancellationToken.None);
        while (((await _inference.GetStatisticsAsync(Pool)).Counts.GetValueOrDefault(InferenceTaskStatus.Done) < 6 || honest.Failed < 1) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }

        await honest.StopAsync(CancellationToken.None);
        for (var i = 0; i < ids.Count; i++)
        {
            var view = (await _inference.GetTaskAsync(ids[i]))!;
            Assert.Equal(InferenceTaskStatus.Done, view.Task.Status);
            var label = Digits.Label(view.Task.Output!);
            Assert.Equal(expected[i], label);
            Assert.True(_domain.Verify("TaskResult", JsonSerializer.SerializeToElement(new Dictionary<string, string>
            {
                ["oracle"] = _honest.Address.ToString(), ["taskId"] = ids[i], ["leaseId"] = view.Attestations[0].LeaseId, ["modelHash"] = _modelHash, ["outputHash"] = view.Task.OutputHash!,
            }), view.Attestations[0].Signature).IsValid);
        }

        var badView = (await _inference.GetTaskAsync(bad.Id))!.Task;
        // The broken node's failure requeued it; the honest node's "bad input" report ended it at once, its hold voided.
        Assert.Equal((InferenceTaskStatus.Failed, 2), (badView.Status, badView.FailedAttempts));
        Assert.StartsWith(TaskFailureReasons.BadInput, badView.FailureReason, StringComparison.Ordinal);
        Assert.Equal((6L, 1L), (honest.Completed, honest.Failed));
        Assert.True((await _ledger.CheckInvariantAsync()).IsSound);
    }

    [Fact]
    public async Task Backend_Batch_SameBytesAsOneByOne_ABadRequestFailsAlone()
    {
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(Models, "digits.vectors.json")));
        var requests = json.RootElement.GetProperty("inputs").EnumerateArray()
            .Select(r => new InferenceRequest("digits", _modelHash, "{\"inputs\":{\"pixels\":{\"type\":\"float32\",\"shape\":[1,64],\"data\":[" + string.Join(",", r.EnumerateArray().Select(v => v.GetInt32())) + "]}}}"))
            .ToList();
        requests.Insert(5, new InferenceRequest("digits", _modelHash, "{\"inputs\":{\"pixels\":{\"type\":\"float32\",\"shape\":[1,3],\"data\":[1,2,3]}}}"));
        var batched = await _backend.RunBatchAsync(requests);
        Assert.Equal(requests.Count, batched.Count);
        Assert.StartsWith("bad input", batched[5].Failure, StringComparison.Ordinal);
        for (var i = 0; i < requests.Count; i++)
        {
            if (i != 5)
            {
                var alone = await _backend.RunAsync(requests[i]);
                Assert.Equal(alone.Output, batched[i].Result!.Output); // batch-invariant, or oracles would disagree
            }
        }
    }

    [Fact]
    public async Task Backend_ChecksTheModelHashAndTheInput()
    {
        var wrongHash = await Assert.ThrowsAsync<InferenceFailedException>(async () => await _backend.RunAsync(new InferenceRequest("digits", "0x" + new string('0', 64), "{}")));
        Assert.Contains("the task names 0x000", wrongHash.Message, StringComparison.Ordinal);
        var unknown = await Assert.ThrowsAsync<InferenceFailedException>(async () => await _backend.RunAsync(new InferenceRequest("qwen", _modelHash, "{}")));
        Assert.Contains("not loaded", unknown.Message, StringComparison.Ordinal);
        var badInput = await Assert.ThrowsAsync<InferenceFailedException>(async () => await _backend.RunAsync(new InferenceRequest("digits", _modelHash, "{\"inputs\":{\"image\":{\"type\":\"float32\",\"shape\":[1,64],\"data\":\"" + Convert.ToBase64String(new byte[256]) + "\"}}}")));
        Assert.Contains("no input 'image'", badInput.Message, StringComparison.Ordinal);
        Assert.Equal(_modelHash, _backend.Models["digits"].Sha256);
        var missing = new OnnxBackendOptions();
        missing.Models["x"] = "/nonexistent.onnx";
        Assert.Contains("file '/nonexistent.onnx' does not exist", Assert.Throws<OptionsValidationException>(() => new OnnxInferenceBackend(Options.Create(missing))).Message, StringComparison.Ordinal);
    }

    /// <summary>Answers the first claims with "no task" (as many as given), then never answers again until cancelled.</summary>
    private sealed class FallingSilentSource(int answers) : IOracleTaskSource
    {
        private int _claims;

        public async ValueTask<OracleTask?> ClaimAsync(CancellationToken cancellationToken)
        {
            if (Interlocked.Increment(ref _claims) <= answers)
            {
                return null;
            }

            await Task.Delay(Timeout.Infinite, cancellationToken);
            return null;
        }

        public ValueTask SubmitResultAsync(OracleTask task, InferenceResult result, string signature, CancellationToken cancellationToken) => ValueTask.CompletedTask;

        public ValueTask SubmitFailureAsync(OracleTask task, string reason, string signature, CancellationToken cancellationToken) => ValueTask.CompletedTask;
    }

    [Fact]
    public async Task HealthCheck_FollowsTheRunnerAndItsSource()
    {
        var clock = new FakeTimeProvider(TestClock.Start);
        var options = Options.Create(new OracleRunnerOptions { IdlePollMilliseconds = 10, MaxRetryMilliseconds = 1000 });
        async Task<(Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus Status, string? Description)> CheckAsync(OracleRunner runner)
        {
            var result = await new OracleNodeHealthCheck(runner, options, clock).CheckHealthAsync(new Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckContext());
            return (result.Status, result.Description);
        }

        using var silent = new OracleRunner(new FallingSilentSource(answers: 0), _backend, new AttestationSigner(_honest, _domain), options, clock);
        Assert.Equal((Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Unhealthy, "The oracle runner is not running."), await CheckAsync(silent));
        await silent.StartAsync(CancellationToken.None);
        Assert.Equal(Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Degraded, (await CheckAsync(silent)).Status); // no answer yet
        await silent.StopAsync(CancellationToken.None);

        using var runner = new OracleRunner(new FallingSilentSource(answers: 1), _backend, new AttestationSigner(_honest, _domain), options, clock);
        await runner.StartAsync(CancellationToken.None);
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (runner.LastSourceContact is null && DateTime.UtcNow < deadline)
        {
            await Task.Delay(10);
        }

        Assert.Equal((Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Healthy, "Claiming and running tasks."), await CheckAsync(runner));
        clock.Advance(TimeSpan.FromSeconds(61)); // the source has been silent for longer than max(60 s, 2 × MaxRetryMilliseconds)
        var silentTooLong = await CheckAsync(runner);
        Assert.Equal(Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Unhealthy, silentTooLong.Status);
        Assert.StartsWith("The task source has not answered a claim since", silentTooLong.Description, StringComparison.Ordinal);
        await runner.StopAsync(CancellationToken.None);
        Assert.Equal("The oracle runner is not running.", (await CheckAsync(runner)).Description);
    }

    [Fact]
    public async Task Runner_SigningThroughAnExternalSigner_AttestationsAccepted()
    {
        // A KMS-held key: the node never sees it; half of the KMS's signatures come back with a high s.
        var kms = new FakeKms("0x" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32)));
        var signer = await NethereumExternalSigner.CreateAsync(kms);
        var config = "{\"name\":\"Demo\",\"inference\":{\"models\":[{\"id\":\"digits\",\"sha256\":\"" + _modelHash + "\",\"price\":\"1\"}],\"oracles\":[\"" + signer.Address + "\"]}}";
        Assert.Equal(CreatePoolResult.Created, (await new PoolRegistry(_store, TimeProvider.System).CreateAsync(Pool, User, config)).Result);
        await _ledger.CreateAccountsAsync([new NewAccount(SystemAccounts.Issuance(WellKnownAssets.Credit), WellKnownAssets.Credit, AccountFlags.None),
            new NewAccount(CreditAccounts.InPool(Pool, User), WellKnownAssets.Credit, AccountFlags.DebitsMustNotExceedCredits)]);
        await _ledger.CreateTransferAsync(new TransferRequest
        {
            Id = TransferId.Parse("buy"), DebitAccountId = SystemAccounts.Issuance(WellKnownAssets.Credit), CreditAccountId = CreditAccounts.InPool(Pool, User),
            Asset = WellKnownAssets.Credit, Amount = new TokenAmount(4), Kind = TransferKind.Parse("purchase"),
        });
        var (_, labels, _, rows) = Digits.Vectors();
        var ids = new List<string>();
        for (var i = 0; i < 4; i++)
        {
            ids.Add((await _inference.AddTaskAsync("kms" + i, User, Pool, "digits", Digits.Input(rows[i]), new TokenAmount(1))).Task!.Id);
        }

        using var runner = new OracleRunner(new PoolTaskSource(_inference, signer.Address), _backend, new AttestationSigner(signer, _domain),
            Options.Create(new OracleRunnerOptions { IdlePollMilliseconds = 10 }));
        await runner.StartAsync(CancellationToken.None);
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (runner.Completed < 4 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(10);
        }

        await runner.StopAsync(CancellationToken.None);
        for (var i = 0; i < ids.Count; i++)
        {
            var view = (await _inference.GetTaskAsync(ids[i]))!;
            Assert.Equal(InferenceTaskStatus.Done, view.Task.Status); // the pool verified each attestation
            Assert.Equal(signer.Address, view.Attestations[0].Oracle);
            Assert.Equal(labels[i], Digits.Label(view.Task.Output!));
        }

        Assert.True(kms.Signatures >= 4 && kms.HighS >= 1, $"{kms.Signatures} signatures, {kms.HighS} with a high s");
        Assert.True((await _ledger.CheckInvariantAsync()).IsSound);
    }
}
