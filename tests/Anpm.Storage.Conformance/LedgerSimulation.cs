using System.Collections.Concurrent;
using System.Globalization;
using System.Numerics;
using Anpm.Abstractions;
using Anpm.Testing;
using Anpm.Credits;
using Microsoft.Extensions.Time.Testing;

namespace Anpm.Storage.Conformance;

/// <summary>
/// A seeded random-operation simulation in the style of TigerBeetle's VOPR: several threads throw plain, pending, post,
/// void, linked, duplicate and invalid transfers at one or more ledgers over one store (several instances when the store
/// has them) while the clock moves and the expiry sweep runs. After every operation the zero-sum invariant and the
/// no-negative-user-balance rule are checked; at the end every account's totals and every pending transfer's state must
/// equal an independent model built from the results alone.
/// </summary>
public static class LedgerSimulation
{
    private const int Users = 48;
    private const int Mints = 4;

    /// <summary>Runs <paramref name="operations"/> operations on <paramref name="threads"/> threads, spread over the ledgers.</summary>
    public static async Task RunAsync(IReadOnlyList<Ledger> ledgers, FakeTimeProvider clock, int operations, int threads, Action<string> log)
    {
        await TestSeed.RunAsync(seed =>
        {
            log($"Simulation seed {seed}; rerun with {TestSeed.Variable}={seed}.");
            return RunAsync(ledgers, clock, operations, threads, seed, log);
        });
    }

    private static async Task RunAsync(IReadOnlyList<Ledger> ledgers, FakeTimeProvider clock, int operations, int threads, int seed, Action<string> log)
    {
        var world = new World(ledgers[0], clock);
        await world.CreateAccountsAsync();
        var perThread = operations / threads;
        var actors = Enumerable.Range(0, threads)
            .Select(thread => Task.Run(() => new Actor(world, ledgers[thread % ledgers.Count], new Random(seed + thread), thread, perThread).RunAsync()))
            .ToArray();
        await Task.WhenAll(actors);
        Assert.Equal(threads * perThread, world.Operations);
        await world.VerifyModelAsync();
        log($"Outcomes: {string.Join(", ", world.Outcomes.OrderBy(o => o.Key).Select(o => $"{o.Key} {o.Value}"))}; expired {world.Expired}.");

        // The simulation must reach every interesting path, or it proves little.
        Assert.True(world.Expired > 0, "No pending transfer expired.");
        foreach (var outcome in new[]
        {
            CreateTransferResult.Created, CreateTransferResult.ExceedsBalance, CreateTransferResult.LinkedEventFailed,
            CreateTransferResult.LinkedEventChainOpen, CreateTransferResult.PendingTransferAlreadyPosted,
            CreateTransferResult.PendingTransferAlreadyVoided, CreateTransferResult.PendingTransferExpired,
        })
        {
            Assert.True(world.Outcomes.ContainsKey(outcome), $"The simulation never produced {outcome}.");
        }

        Assert.True(world.Settlements.Values.Any(s => (s.Flags & TransferFlags.VoidPending) != 0), "No pending transfer was voided.");
        Assert.True(world.Settlements.Values.Any(s => (s.Flags & TransferFlags.PostPending) != 0), "No pending transfer was posted.");
    }

    /// <summary>What the actors share: the ledger, the model built from results, and the ids created so far.</summary>
    private static readonly AssetCode Apus = WellKnownAssets.Apus;
    private static readonly AssetCode Credit = WellKnownAssets.Credit;
    private static readonly TransferKind Kind = TransferKind.Parse("test");

    private static AccountId Id(string id) => AccountId.Parse(id);

    private static TransferId Tid(string id) => TransferId.Parse(id);

    private static TransferRequest Move(string id, string debit, string credit, ulong amount) => new()
    {
        Id = Tid(id),
        DebitAccountId = Id(debit),
        CreditAccountId = Id(credit),
        Asset = Apus,
        Amount = new TokenAmount(amount),
        Kind = Kind,
    };

    private sealed class World(Ledger ledger, FakeTimeProvider clock)
    {
        public Ledger Ledger { get; } = ledger;

        public FakeTimeProvider Clock { get; } = clock;

        public string[] AccountNames { get; } =
            [.. Enumerable.Range(0, Mints).Select(i => "mint-" + i), .. Enumerable.Range(0, Users).Select(i => "user-" + i)];

        public ConcurrentDictionary<string, TransferRequest> Created { get; } = new();

        public ConcurrentDictionary<string, TransferRequest> Pendings { get; } = new();

        // Model effects: pending id -> the settling request that was Created for it.
        public ConcurrentDictionary<string, TransferRequest> Settlements { get; } = new();

        private readonly Lock _lock = new();
        private readonly List<TransferRequest> _createdList = [];
        private readonly List<string> _pendingIds = [];

        public int Operations;

        public ConcurrentDictionary<CreateTransferResult, int> Outcomes { get; } = new();

        public int Expired;

        public void Add(TransferRequest request)
        {
            Assert.True(Created.TryAdd(request.Id.Value!, request), $"Transfer {request.Id} was created twice.");
            if ((request.Flags & TransferFlags.Pending) != 0)
            {
                Pendings[request.Id.Value!] = request;
            }

            lock (_lock)
            {
                _createdList.Add(request);
                if ((request.Flags & TransferFlags.Pending) != 0)
                {
                    _pendingIds.Add(request.Id.Value!);
                }
            }
        }

        public TransferRequest? RandomCreated(Random random)
        {
            lock (_lock)
            {
                return _createdList.Count == 0 ? null : _createdList[random.Next(_createdList.Count)];
            }
        }

        // Mostly recent pending transfers, which are the ones still open.
        public string? RandomPendingId(Random random)
        {
            lock (_lock)
            {
                if (_pendingIds.Count == 0)
                {
                    return null;
                }

                var window = Math.Min(_pendingIds.Count, 64);
                return _pendingIds[_pendingIds.Count - 1 - random.Next(window)];
            }
        }

        public async Task CreateAccountsAsync()
        {
            var accounts = AccountNames.Select(name => new NewAccount(
                Id(name), Apus, name.StartsWith("mint", StringComparison.Ordinal) ? AccountFlags.None : AccountFlags.DebitsMustNotExceedCredits));
            Assert.All(await Ledger.CreateAccountsAsync(accounts.ToList()), result => Assert.Equal(CreateAccountResult.Created, result));
        }

        public async Task VerifyModelAsync()
        {
            await Ledger.ExpirePendingTransfersAsync();
            var now = Clock.GetUtcNow();
            var expected = AccountNames.ToDictionary(name => name, _ => new BigInteger[4]);
            foreach (var request in Created.Values.Where(r => (r.Flags & (TransferFlags.Pending | TransferFlags.PostPending | TransferFlags.VoidPending)) == 0))
            {
                expected[request.DebitAccountId.Value!][0] += request.Amount!.Value.BaseUnits;
                expected[request.CreditAccountId.Value!][1] += request.Amount!.Value.BaseUnits;
            }

            foreach (var (id, pending) in Pendings)
            {
                var stored = await Ledger.GetTransferAsync(Tid(id));
                Assert.NotNull(stored);
                var amount = (BigInteger)pending.Amount!.Value.BaseUnits;
                if (Settlements.TryGetValue(id, out var settlement))
                {
                    var post = (settlement.Flags & TransferFlags.PostPending) != 0;
                    Assert.Equal(post ? PendingTransferState.Posted : PendingTransferState.Voided, stored.State);
                    if (post)
                    {
                        var posted = (BigInteger)(settlement.Amount ?? pending.Amount!.Value).BaseUnits;
                        expected[pending.DebitAccountId.Value!][0] += posted;
                        expected[pending.CreditAccountId.Value!][1] += posted;
                    }
                }
                else if (stored.State == PendingTransferState.Pending)
                {
                    Assert.True(stored.ExpiresAt is null || stored.ExpiresAt > now, $"Pending transfer {id} outlived its expiry after the sweep.");
                    expected[pending.DebitAccountId.Value!][2] += amount;
                    expected[pending.CreditAccountId.Value!][3] += amount;
                }
                else
                {
                    Assert.Equal(PendingTransferState.Expired, stored.State);
                    Assert.True(stored.ExpiresAt <= now);
                    Expired++;
                }
            }

            foreach (var name in AccountNames)
            {
                var account = (await Ledger.GetAccountAsync(Id(name)))!;
                BigInteger[] actual = [account.DebitsPosted.BaseUnits, account.CreditsPosted.BaseUnits, account.DebitsPending.BaseUnits, account.CreditsPending.BaseUnits];
                Assert.True(expected[name].SequenceEqual(actual), $"Account {name}: model {string.Join("/", expected[name])}, ledger {string.Join("/", actual)}.");
            }

            await LedgerAssert.InvariantHoldsAsync(Ledger);
        }
    }

    /// <summary>One thread of the simulation with its own seeded random source.</summary>
    private sealed class Actor(World world, Ledger ledger, Random random, int thread, int operations)
    {
        private int _next;

        private Ledger Ledger => ledger;

        public async Task RunAsync()
        {
            for (var step = 0; step < operations; step++)
            {
                var roll = random.Next(100);
                if (roll < 2)
                {
                    world.Clock.Advance(TimeSpan.FromSeconds(random.Next(1, 30)));
                    await Ledger.ExpirePendingTransfersAsync();
                }
                else if (roll < 12)
                {
                    await LinkedBatchAsync();
                }
                else if (roll < 20)
                {
                    await ReplayAsync();
                }
                else if (roll < 25)
                {
                    await InvalidAsync();
                }
                else
                {
                    var request = RandomRequest();
                    Record([request], [await Ledger.CreateTransferAsync(request)]);
                }

                Interlocked.Increment(ref world.Operations);
                var report = await Ledger.CheckInvariantAsync();
                Assert.True(report.IsSound, $"Thread {thread}, step {step}: " + string.Join(" ", report.Problems));
            }
        }

        private async Task LinkedBatchAsync()
        {
            var count = random.Next(2, 6);
            var requests = new TransferRequest[count];
            for (var i = 0; i < count; i++)
            {
                var request = random.Next(10) == 0 ? Invalid().Request : RandomRequest();
                requests[i] = i < count - 1 || random.Next(10) == 0 ? request with { Flags = request.Flags | TransferFlags.Linked } : request;
            }

            var results = await Ledger.CreateTransfersAsync(requests);
            var chainOk = results.All(r => r.IsSuccess());
            var chainOpen = (requests[^1].Flags & TransferFlags.Linked) != 0;
            Assert.True(!chainOpen || results[^1] == CreateTransferResult.LinkedEventChainOpen, "An open chain must report LinkedEventChainOpen.");
            Assert.True(chainOk || !results.Contains(CreateTransferResult.Created), "A linked chain must be all or nothing.");
            Record(requests, results);
        }

        private async Task ReplayAsync()
        {
            var created = world.RandomCreated(random);
            if (created is null)
            {
                return;
            }

            var replay = created with { Flags = created.Flags & ~TransferFlags.Linked };
            Assert.Equal(CreateTransferResult.Exists, await Ledger.CreateTransferAsync(replay));
            var changed = replay with { Reference = replay.Reference + "x" };
            Assert.Equal(CreateTransferResult.ExistsWithDifferentFields, await Ledger.CreateTransferAsync(changed));
        }

        private async Task InvalidAsync()
        {
            var (request, expected) = Invalid();
            Assert.Equal(expected, await Ledger.CreateTransferAsync(request));
        }

        private (TransferRequest Request, CreateTransferResult Expected) Invalid()
        {
            var valid = Plain(NewId());
            return random.Next(5) switch
            {
                0 => (valid with { Amount = TokenAmount.Zero }, CreateTransferResult.AmountMustNotBeZero),
                1 => (valid with { CreditAccountId = valid.DebitAccountId }, CreateTransferResult.AccountsMustBeDifferent),
                2 => (valid with { DebitAccountId = Id("ghost-" + thread) }, CreateTransferResult.DebitAccountNotFound),
                3 => (valid with { Asset = Credit }, CreateTransferResult.AccountAssetMismatch),
                _ => (TransferRequest.PostPending(NewTid(), Tid("never-" + thread), Kind), CreateTransferResult.PendingTransferNotFound),
            };
        }

        private TransferRequest RandomRequest()
        {
            var roll = random.Next(10);
            if (roll < 3 && world.RandomPendingId(random) is { } pendingId)
            {
                var pending = world.Pendings[pendingId];
                return random.Next(3) switch
                {
                    0 => TransferRequest.VoidPending(NewTid(), Tid(pendingId), Kind),
                    1 => TransferRequest.PostPending(NewTid(), Tid(pendingId), Kind),
                    _ => TransferRequest.PostPending(NewTid(), Tid(pendingId), Kind, new TokenAmount((ulong)random.NextInt64(1, (long)(ulong)pending.Amount!.Value.BaseUnits + 2))),
                };
            }

            var plain = Plain(NewId());
            return roll < 5 ? plain with { Flags = TransferFlags.Pending, TimeoutSeconds = (uint)random.Next(0, 120) } : plain;
        }

        private TransferRequest Plain(string id)
        {
            var names = world.AccountNames;
            var debit = names[random.Next(names.Length)];
            var credit = names[random.Next(names.Length)];
            while (credit == debit)
            {
                credit = names[random.Next(names.Length)];
            }

            // Mostly small amounts so users can pay each other; sometimes huge ones that must be refused.
            var amount = random.Next(25) == 0 ? UInt128.MaxValue / 3 : (UInt128)random.Next(1, 1000);
            return Move(id, debit, credit, 1) with { Amount = new TokenAmount(amount), Reference = "sim" };
        }

        private void Record(IReadOnlyList<TransferRequest> requests, IReadOnlyList<CreateTransferResult> results)
        {
            for (var i = 0; i < requests.Count; i++)
            {
                world.Outcomes.AddOrUpdate(results[i], 1, static (_, n) => n + 1);
                if (results[i] != CreateTransferResult.Created)
                {
                    continue;
                }

                var request = requests[i];
                world.Add(request);
                if ((request.Flags & (TransferFlags.PostPending | TransferFlags.VoidPending)) != 0)
                {
                    Assert.True(world.Settlements.TryAdd(request.PendingId.Value!, request), $"Pending transfer {request.PendingId} was settled twice.");
                }
            }
        }

        private string NewId() => $"s{thread}-{_next++}";

        private TransferId NewTid() => Tid(NewId());
    }
}
