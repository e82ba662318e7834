using Anpm.Abstractions;

namespace Anpm.Storage.Conformance;

/// <summary>The inference store: tasks and leases with versions, the FIFO claim skipping tasks an oracle attempted, counts, oracle allow-lists, atomicity.</summary>
public abstract class InferenceStoreConformanceTests(StoreFactory factory) : ConformanceSuite(factory)
{
    private static readonly PoolId Demo = PoolId.Parse("demo");
    private static readonly Address User = Address.Parse("0x70997970c51812dc3a010c7d01b50e0d17dc79c8");
    private static readonly Address OracleA = Address.Parse("0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc");
    private static readonly Address OracleB = Address.Parse("0x15d34aaf54267db7d7c367839aaf71a00a2c6a65");

    private static InferenceTask Task(string id, int minutes, int k = 1) => new()
    {
        Id = id,
        PoolId = Demo,
        Account = User,
        Model = "digits",
        ModelHash = "0x" + new string('1', 64),
        Input = "{\"inputs\":{}}",
        Price = new TokenAmount(10),
        Status = InferenceTaskStatus.Pending,
        Replication = k,
        Quorum = k,
        MaxAttempts = 3,
        OpenSlots = k,
        CreatedAt = Now.AddMinutes(minutes),
    };

    private static TaskLease Lease(string id, string task, Address oracle, int minutes = 0) => new()
    {
        Id = id,
        TaskId = task,
        PoolId = Demo,
        Oracle = oracle,
        State = TaskLeaseState.Active,
        LeasedAt = Now.AddMinutes(minutes),
        ExpiresAt = Now.AddMinutes(minutes + 1),
    };

    private async Task<IAnpmStore> StoreWithPoolAsync()
    {
        var store = await Factory.CreateAsync();
        await store.RunAsync(0, static async (unitOfWork, _, ct) => await unitOfWork.Pools.TryInsertPoolAsync(new PoolRecord
        {
            Id = Demo,
            Owner = Address.Zero,
            ConfigJson = "{}",
            Status = PoolStatus.Active,
            CreatedAt = Now,
            StatusChangedAt = Now,
        }, ct));
        return store;
    }

    [Fact]
    public async Task Tasks_RoundTripAndVersionedUpdates_ClaimIsFifoAndSkipsAttemptedTasks()
    {
        var store = await StoreWithPoolAsync();
        await using (var write = await store.BeginAsync())
        {
            Assert.True(await write.Inference.TryInsertTaskAsync(Task("t2", 2)));
            Assert.True(await write.Inference.TryInsertTaskAsync(Task("t1", 1, k: 2)));
            Assert.False(await write.Inference.TryInsertTaskAsync(Task("t1", 5)));
            Assert.Equal(Task("t1", 1, k: 2), await write.Inference.GetTaskAsync("t1"));
            Assert.Equal("t1", (await write.Inference.ClaimNextTaskAsync(Demo, OracleA))!.Id);
            Assert.True(await write.Inference.TryInsertLeaseAsync(Lease("l1", "t1", OracleA)));
            Assert.False(await write.Inference.TryInsertLeaseAsync(Lease("l1", "t2", OracleB)));
            Assert.Equal("t2", (await write.Inference.ClaimNextTaskAsync(Demo, OracleA))!.Id); // A attempted t1 already
            Assert.Equal("t1", (await write.Inference.ClaimNextTaskAsync(Demo, OracleB))!.Id);
            var done = Task("t2", 2) with { Status = InferenceTaskStatus.Done, OpenSlots = 0, CompletedAt = Now.AddMinutes(4), Output = "{}", OutputHash = "0xab", FailedAttempts = 1 };
            await write.Inference.UpdateTaskAsync(done, 0);
            await Assert.ThrowsAsync<AnpmConcurrencyException>(async () => await write.Inference.UpdateTaskAsync(done, 0));
            Assert.Null(await write.Inference.ClaimNextTaskAsync(Demo, OracleA));
            await write.CommitAsync();
        }

        await using var read = await store.BeginAsync();
        Assert.Equal(Task("t2", 2) with { Status = InferenceTaskStatus.Done, OpenSlots = 0, CompletedAt = Now.AddMinutes(4), Output = "{}", OutputHash = "0xab", FailedAttempts = 1, Version = 1 },
            await read.Inference.GetTaskAsync("t2"));
        Assert.Equal(new Dictionary<InferenceTaskStatus, int> { [InferenceTaskStatus.Pending] = 1, [InferenceTaskStatus.Done] = 1 }, await read.Inference.CountTasksAsync(Demo));
        Assert.Equal([TimeSpan.FromMinutes(2)], await read.Inference.GetRecentLatenciesAsync(Demo, 10));
        Assert.Empty(await read.Inference.GetOverdueTasksAsync(Now.AddMinutes(5), 10)); // t1 is leased to A
        Assert.Equal(["t2", "t1"], (await read.Inference.ListTasksAsync(Demo, User, null, 10)).Select(t => t.Id));
        Assert.Equal(["t1"], (await read.Inference.ListTasksAsync(Demo, null, Now.AddMinutes(2), 10)).Select(t => t.Id));
        Assert.Empty(await read.Inference.ListTasksAsync(Demo, OracleA, null, 10));
        await Assert.ThrowsAsync<AnpmException>(async () => await read.Inference.UpdateTaskAsync(Task("missing", 0), 0));
    }

    [Fact]
    public async Task Leases_Updated_ListedPerTask_ExpiredFound_CountedPerOracle()
    {
        var store = await StoreWithPoolAsync();
        await using var unitOfWork = await store.BeginAsync();
        Assert.True(await unitOfWork.Inference.TryInsertTaskAsync(Task("t1", 0, k: 2)));
        Assert.True(await unitOfWork.Inference.TryInsertLeaseAsync(Lease("b", "t1", OracleA, minutes: 1)));
        Assert.True(await unitOfWork.Inference.TryInsertLeaseAsync(Lease("a", "t1", OracleB, minutes: 2)));
        var resulted = Lease("b", "t1", OracleA, minutes: 1) with { State = TaskLeaseState.Resulted, EndedAt = Now.AddMinutes(1), OutputHash = "0x01", Output = "{\"outputs\":{}}", Signature = "0xsig", Dissent = true, ExpiresAt = Now.AddMinutes(9) };
        await unitOfWork.Inference.UpdateLeaseAsync(resulted, 0);
        await Assert.ThrowsAsync<AnpmConcurrencyException>(async () => await unitOfWork.Inference.UpdateLeaseAsync(resulted, 0));
        Assert.Equal(resulted with { Version = 1 }, await unitOfWork.Inference.GetLeaseAsync("b"));
        Assert.Equal(["b", "a"], (await unitOfWork.Inference.ListTaskLeasesAsync("t1")).Select(l => l.Id));
        Assert.Empty(await unitOfWork.Inference.GetExpiredLeasesAsync(Now.AddMinutes(2), 10));
        Assert.Equal(["a"], (await unitOfWork.Inference.GetExpiredLeasesAsync(Now.AddMinutes(3), 10)).Select(l => l.Id));
        Assert.Equal([new OracleTaskCounts(OracleB, 1, 0, 0, 0), new OracleTaskCounts(OracleA, 1, 1, 0, 1)],
            (await unitOfWork.Inference.CountOracleLeasesAsync(Demo)).OrderBy(c => c.Results));

        // Overdue: never while a lease is active, and only once nothing happened to the task since the cut-off.
        Assert.Empty(await unitOfWork.Inference.GetOverdueTasksAsync(Now.AddMinutes(10), 10));
        await unitOfWork.Inference.UpdateLeaseAsync((await unitOfWork.Inference.GetLeaseAsync("a"))! with { State = TaskLeaseState.Expired, EndedAt = Now.AddMinutes(3) }, 0);
        Assert.Empty(await unitOfWork.Inference.GetOverdueTasksAsync(Now.AddMinutes(3).AddTicks(-1), 10));
        Assert.Equal(["t1"], (await unitOfWork.Inference.GetOverdueTasksAsync(Now.AddMinutes(3), 10)).Select(t => t.Id));
        await Assert.ThrowsAnyAsync<AnpmException>(async () => await unitOfWork.Inference.TryInsertLeaseAsync(Lease("c", "missing", OracleA)));
    }

    [Fact]
    public async Task Oracles_SetReplacedListedInAddressOrder_RolledBackWithTheUnitOfWork()
    {
        var store = await StoreWithPoolAsync();
        await using (var write = await store.BeginAsync())
        {
            await write.Inference.SetOracleAsync(new PoolOracle(Demo, OracleB, true, Now));
            await write.Inference.SetOracleAsync(new PoolOracle(Demo, OracleA, true, Now));
            await write.Inference.SetOracleAsync(new PoolOracle(Demo, OracleA, false, Now.AddMinutes(1)));
            await write.CommitAsync();
        }

        await using (var discarded = await store.BeginAsync())
        {
            await discarded.Inference.SetOracleAsync(new PoolOracle(Demo, OracleB, false, Now.AddMinutes(2)));
            Assert.True(await discarded.Inference.TryInsertTaskAsync(Task("gone", 0)));
        }

        await using var read = await store.BeginAsync();
        Assert.Equal([new PoolOracle(Demo, OracleB, true, Now), new PoolOracle(Demo, OracleA, false, Now.AddMinutes(1))],
            (await read.Inference.ListOraclesAsync(Demo)).OrderByDescending(o => o.Active));
        Assert.Equal(new PoolOracle(Demo, OracleB, true, Now), await read.Inference.GetOracleAsync(Demo, OracleB));
        Assert.Null(await read.Inference.GetOracleAsync(Demo, User));
        Assert.Null(await read.Inference.GetTaskAsync("gone"));
    }

    [Fact]
    public async Task ConcurrentClaims_FromSeveralInstances_EachTaskLeasedOnce()
    {
        var first = await StoreWithPoolAsync();
        var second = await Factory.OpenAnotherInstanceAsync(first);
        await first.RunAsync(0, static async (unitOfWork, _, ct) =>
        {
            for (var i = 0; i < 12; i++)
            {
                await unitOfWork.Inference.TryInsertTaskAsync(Task("t" + i.ToString("D2", System.Globalization.CultureInfo.InvariantCulture), i), ct);
            }

            return true;
        });
        var oracles = Enumerable.Range(1, 6).Select(i => Address.FromBytes([.. new byte[19], (byte)i])).ToArray();
        var claimed = await System.Threading.Tasks.Task.WhenAll(oracles.Select((oracle, n) => System.Threading.Tasks.Task.Run(async () =>
        {
            var mine = new List<string>();
            while (true)
            {
                var task = await (n % 2 == 0 ? first : second).RunAsync(oracle, static async (unitOfWork, oracle, ct) =>
                {
                    var next = await unitOfWork.Inference.ClaimNextTaskAsync(Demo, oracle, ct);
                    if (next is null)
                    {
                        return null;
                    }

                    await unitOfWork.Inference.TryInsertLeaseAsync(Lease("l-" + next.Id, next.Id, oracle), ct);
                    await unitOfWork.Inference.UpdateTaskAsync(next with { Status = InferenceTaskStatus.Processing, OpenSlots = 0 }, next.Version, ct);
                    return next.Id;
                });
                if (task is null)
                {
                    return mine;
                }

                mine.Add(task);
            }
        })));
        var all = claimed.SelectMany(c => c).ToList();
        Assert.Equal(12, all.Count);
        Assert.Equal(12, all.Distinct().Count());
    }
}

public sealed class InMemoryInferenceStoreTests() : InferenceStoreConformanceTests(new InMemoryStoreFactory());

public sealed class SqliteInferenceStoreTests() : InferenceStoreConformanceTests(new SqliteStoreFactory());

[Collection(PostgresCollection.Name)]
public sealed class PostgresInferenceStoreTests(PostgresServerFixture server) : InferenceStoreConformanceTests(new PostgresStoreFactory(server));
