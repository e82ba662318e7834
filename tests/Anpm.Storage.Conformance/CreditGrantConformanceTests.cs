using Anpm.Abstractions;
using Anpm.Credits;
using Anpm.Pools;
using Anpm.Signing;
using Anpm.Testing;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Anpm.Storage.Conformance;

/// <summary>
/// Credit grants over each store: the store's records, tasks burning grants in order through the inference service with
/// the expiry job moving what is left out through the ledger, and a simulation — random grants, holds, posts, voids and
/// clock moves — checked after every step against a brute-force model (a credit at a time, the best grant by a plain
/// scan) and the ledger's invariant.
/// </summary>
public abstract class CreditGrantConformanceTests(StoreFactory factory) : ConformanceSuite(factory)
{
    private static readonly Address User = Address.Parse("0x70997970c51812dc3a010c7d01b50e0d17dc79c8");
    private static readonly PoolId Pool = PoolId.Parse("ai");
    private static readonly AccountId Consumed = AccountId.Parse("pool:ai:credits-consumed");
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 11, 21, 12, 0, 0, TimeSpan.Zero));

    [Fact]
    public async Task Store_Grants_Versioned_ExpiredQuery_Holds()
    {
        var store = await Factory.CreateAsync();
        var grant = Grant("g1", CreditCategory.Promotional, 10, Now.AddHours(1));
        await using (var write = await store.BeginAsync())
        {
            Assert.True(await write.CreditGrants.TryInsertGrantAsync(grant));
            Assert.False(await write.CreditGrants.TryInsertGrantAsync(grant with { Priority = 3 }));
            Assert.True(await write.CreditGrants.TryInsertGrantAsync(Grant("g2", CreditCategory.Paid, 5, null) with { CreatedAt = Now.AddSeconds(-1) }));
            Assert.True(await write.CreditGrants.TryInsertGrantAsync(Grant("g3", CreditCategory.Paid, 7, Now.AddMinutes(1)) with { Account = Address.Zero, Remaining = TokenAmount.Zero }));
            Assert.True(await write.CreditGrants.TryInsertHoldAsync(new CreditGrantHold("t1", "g1", new TokenAmount(4))));
            Assert.True(await write.CreditGrants.TryInsertHoldAsync(new CreditGrantHold("t1", "g2", new TokenAmount(1))));
            Assert.False(await write.CreditGrants.TryInsertHoldAsync(new CreditGrantHold("t1", "g2", new TokenAmount(9))));
            await write.CommitAsync();
        }

        var reopened = await Factory.OpenAnotherInstanceAsync(store);
        await using (var read = await reopened.BeginReadAsync())
        {
            Assert.Equal(grant, await read.CreditGrants.GetGrantAsync("g1"));
            Assert.Equal(["g2", "g1"], (await read.CreditGrants.ListGrantsAsync(User)).Select(g => g.Id));
            Assert.Empty(await read.CreditGrants.GetExpiredGrantsAsync(Now.AddMinutes(59), 10)); // g3 expired but has nothing left
            Assert.Equal(["g1"], (await read.CreditGrants.GetExpiredGrantsAsync(Now.AddHours(1), 10)).Select(g => g.Id));
            Assert.Equal([new CreditGrantHold("t1", "g1", new TokenAmount(4)), new CreditGrantHold("t1", "g2", new TokenAmount(1))], await read.CreditGrants.ListHoldsAsync("t1"));
        }

        await using (var write = await store.BeginAsync())
        {
            await write.CreditGrants.UpdateGrantAsync(grant with { Remaining = new TokenAmount(6), Held = new TokenAmount(4), Expired = TokenAmount.Zero }, 0);
            await RefusedByOrAfterAsync<AnpmConcurrencyException>(write, async () => await write.CreditGrants.UpdateGrantAsync(grant, 0));
        }

        await using (var write = await store.BeginAsync())
        {
            await write.CreditGrants.UpdateGrantAsync(grant with { Remaining = TokenAmount.Zero, Held = new TokenAmount(4), Expired = new TokenAmount(6) }, 0);
            Assert.Equal(2, await write.CreditGrants.DeleteHoldsAsync("t1"));
            await write.CommitAsync();
        }

        await using var check = await reopened.BeginReadAsync();
        Assert.Equal((TokenAmount.Zero, new TokenAmount(4), new TokenAmount(6), 1L), ((await check.CreditGrants.GetGrantAsync("g1"))! is var g ? (g.Remaining, g.Held, g.Expired, g.Version) : default));
        Assert.Empty(await check.CreditGrants.ListHoldsAsync("t1"));
        Assert.Empty(await check.CreditGrants.GetExpiredGrantsAsync(Now.AddDays(1), 10));
    }

    [Fact]
    public async Task Tasks_BurnPromotionalFirst_ThenSoonestExpiry_FailuresGiveBack_ExpiryLeavesThroughTheLedger()
    {
        var store = await Factory.CreateAsync();
        var (ledger, inference, credits, grants) = Services(store);
        await CreatePoolAsync(store);
        Assert.Equal(CreditGrantResult.Granted, (await grants.GrantAsync(new CreditGrantRequest("paid-1", User, new TokenAmount(50), CreditCategory.Paid, null))).Result);
        Assert.Equal(CreditGrantResult.Granted, (await grants.GrantAsync(new CreditGrantRequest("promo-late", User, new TokenAmount(20), CreditCategory.Promotional, _clock.GetUtcNow().AddHours(5)))).Result);
        Assert.Equal(CreditGrantResult.Granted, (await grants.GrantAsync(new CreditGrantRequest("promo-soon", User, new TokenAmount(15), CreditCategory.Promotional, _clock.GetUtcNow().AddHours(1)))).Result);
        Assert.Equal(CreditGrantResult.Exists, (await grants.GrantAsync(new CreditGrantRequest("promo-soon", User, new TokenAmount(15), CreditCategory.Promotional, _clock.GetUtcNow().AddHours(1)))).Result);
        Assert.Equal(CreditGrantResult.IdTaken, (await grants.GrantAsync(new CreditGrantRequest("promo-soon", User, new TokenAmount(16), CreditCategory.Promotional, null))).Result);
        foreach (var bad in new[]
        {
            new CreditGrantRequest("x", User, TokenAmount.Zero, CreditCategory.Paid, null),
            new CreditGrantRequest("x", User, new TokenAmount(1), CreditCategory.Paid, _clock.GetUtcNow()),
            new CreditGrantRequest("x", User, new TokenAmount(1), CreditCategory.Paid, null, 101),
            new CreditGrantRequest("paid:x", User, new TokenAmount(1), CreditCategory.Paid, null),
            new CreditGrantRequest("x", User, new TokenAmount(1), (CreditCategory)9, null),
        })
        {
            Assert.Equal(CreditGrantResult.Invalid, (await grants.GrantAsync(bad)).Result);
        }

        Assert.Equal(CreditTransferResult.Moved, (await credits.TransferToPoolAsync(TransferId.Parse("in"), User, Pool, new TokenAmount(60))).Result); // moves change no grant
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(AddTaskResult.Added, (await inference.AddTaskAsync("t" + i, User, Pool, "m10", "{}", new TokenAmount(10))).Result);
        }

        // 30 held: the 15 expiring soonest, then 15 of the later promotional grant; paid untouched.
        await AssertGrantsAsync(grants, ("promo-late", 5, 15, 0), ("paid-1", 50, 0, 0), ("promo-soon", 0, 15, 0)); // listed: what the next task burns first

        // The tasks time out (their holds voided): back to their grants. An hour later the soonest grant expired: its 15
        // left the account through the ledger, to the expired-credits account.
        _clock.Advance(TimeSpan.FromHours(1));
        Assert.Equal(3, await inference.SweepAsync());
        await AssertGrantsAsync(grants, ("promo-late", 20, 0, 0), ("paid-1", 50, 0, 0), ("promo-soon", 0, 0, 15));
        Assert.Equal(0, await grants.ExpireDueAsync());
        Assert.Equal(new TokenAmount(15), (await ledger.GetAccountAsync(CreditGrantService.ExpiredAccount))!.CreditsPosted);
        Assert.Equal(new TokenAmount(70), (await ledger.GetAccountAsync(CreditAccounts.Of(User)))!.AvailableBalance + (await ledger.GetAccountAsync(CreditAccounts.InPool(Pool, User)))!.AvailableBalance);

        // Held when its grant expires: voided later, it leaves at once.
        Assert.Equal(AddTaskResult.Added, (await inference.AddTaskAsync("t9", User, Pool, "m10", "{}", new TokenAmount(10))).Result);
        await AssertGrantsAsync(grants, ("promo-late", 10, 10, 0), ("paid-1", 50, 0, 0), ("promo-soon", 0, 0, 15));
        _clock.Advance(TimeSpan.FromHours(4));
        Assert.Equal(1, await grants.ExpireDueAsync()); // the job: promo-late's 10 left
        await AssertGrantsAsync(grants, ("paid-1", 50, 0, 0), ("promo-soon", 0, 0, 15), ("promo-late", 0, 10, 10));
        Assert.Equal(1, await inference.SweepAsync());
        await AssertGrantsAsync(grants, ("paid-1", 50, 0, 0), ("promo-soon", 0, 0, 15), ("promo-late", 0, 0, 20));
        Assert.Equal(new TokenAmount(35), (await ledger.GetAccountAsync(CreditGrantService.ExpiredAccount))!.CreditsPosted);
        await LedgerAssert.InvariantHoldsAsync(ledger);
    }

    [Fact]
    public async Task Simulation_RandomGrantsHoldsPostsVoidsAndClockMoves_MatchABruteForceModel()
    {
        var store = await Factory.CreateAsync();
        var (ledger, _, credits, grants) = Services(store);
        await CreatePoolAsync(store);
        await ledger.CreateAccountsAsync([new NewAccount(Consumed, WellKnownAssets.Credit, AccountFlags.None)]);
        var random = new Random(2111);
        var model = new List<ModelGrant>();
        var holds = new Dictionary<string, List<(string Grant, ulong Amount)>>();
        var steps = Factory.SimulationOperations >= 50_000 ? 250 : 120;
        for (var step = 0; step < steps; step++)
        {
            var now = _clock.GetUtcNow();
            var roll = random.Next(100);
            var what = string.Empty;
            if (roll < 25)
            {
                // A grant, moved at once into the pool.
                var id = "g" + step;
                var category = random.Next(2) == 0 ? CreditCategory.Promotional : CreditCategory.Paid;
                var amount = (ulong)random.Next(1, 20);
                DateTimeOffset? expires = random.Next(3) == 0 ? null : now.AddMinutes(random.Next(10, 600));
                var priority = random.Next(0, 4) * 25;
                Assert.Equal(CreditGrantResult.Granted, (await grants.GrantAsync(new CreditGrantRequest(id, User, new TokenAmount(amount), category, expires, priority))).Result);
                Assert.Equal(CreditTransferResult.Moved, (await credits.TransferToPoolAsync(TransferId.Parse("in-" + id), User, Pool, new TokenAmount(amount))).Result);
                model.Add(new ModelGrant(id, category, expires, priority, step) { Remaining = amount });
                what = $"grant {id} {category} {amount} until {expires:O} p{priority}";
            }
            else if (roll < 60)
            {
                // A hold of what the pool has (after the account's due grants expired).
                ExpireModel(model, now);
                var available = (await ledger.GetAccountAsync(CreditAccounts.InPool(Pool, User)))?.AvailableBalance.BaseUnits ?? 0;
                var expiring = model.Where(g => g.ExpiresAt <= now).Sum(g => (long)g.Remaining);
                if (available == 0)
                {
                    continue;
                }

                var amount = (ulong)random.NextInt64(1, (long)Math.Min(25UL, (ulong)available) + 1);
                var reference = "h" + step;
                var result = await store.RunAsync((Ledger: ledger, Grants: grants, Reference: reference, Amount: amount, Now: now), static async (unitOfWork, s, ct) =>
                {
                    var known = await s.Grants.ExpireAccountAsync(unitOfWork, User, Pool, s.Now, ct);
                    var held = (await s.Ledger.CreateTransfersAsync(unitOfWork, [new TransferRequest
                    {
                        Id = TransferId.Parse(s.Reference), DebitAccountId = CreditAccounts.InPool(Pool, User), CreditAccountId = Consumed, Asset = WellKnownAssets.Credit,
                        Amount = new TokenAmount(s.Amount), Kind = TransferKind.Parse("hold"), Flags = TransferFlags.Pending,
                    }], ct))[0];
                    if (held != CreateTransferResult.Created)
                    {
                        return held;
                    }

                    await s.Grants.HoldAsync(unitOfWork, User, s.Reference, new TokenAmount(s.Amount), s.Now, s.Reference.Length % 2 == 0 ? known : null, ct); // given or read
                    return held;
                });
                if (result == CreateTransferResult.Created)
                {
                    holds[reference] = BruteForceBurn(model, amount, now);
                    what = $"hold {reference} {amount}";
                }
                else
                {
                    what = $"hold {reference} {amount} refused ({result}; {expiring} expiring)";
                }
            }
            else if (roll < 85 && holds.Count > 0)
            {
                // Post or void a hold.
                var reference = holds.Keys.ElementAt(random.Next(holds.Count));
                var post = random.Next(2) == 0;
                await store.RunAsync((Ledger: ledger, Grants: grants, Reference: reference, Post: post, Now: now), static async (unitOfWork, s, ct) =>
                {
                    var id = TransferId.Parse((s.Post ? "post-" : "void-") + s.Reference);
                    var request = s.Post
                        ? TransferRequest.PostPending(id, TransferId.Parse(s.Reference), TransferKind.Parse("consume"))
                        : TransferRequest.VoidPending(id, TransferId.Parse(s.Reference), TransferKind.Parse("refund"));
                    Assert.Equal(CreateTransferResult.Created, (await s.Ledger.CreateTransfersAsync(unitOfWork, [request], ct))[0]);
                    if (s.Post)
                    {
                        await s.Grants.PostAsync(unitOfWork, s.Reference, ct);
                    }
                    else
                    {
                        await s.Grants.VoidAsync(unitOfWork, User, Pool, s.Reference, s.Now, ct);
                    }

                    return 0;
                });
                foreach (var (grant, amount) in holds[reference])
                {
                    var g = model.Single(m => m.Id == grant);
                    g.Held -= amount;
                    if (!post)
                    {
                        if (g.ExpiresAt <= now)
                        {
                            g.Expired += amount;
                        }
                        else
                        {
                            g.Remaining += amount;
                        }
                    }
                }

                holds.Remove(reference);
                what = (post ? "post " : "void ") + reference;
            }
            else
            {
                _clock.Advance(TimeSpan.FromMinutes(random.Next(1, 180)));
                if (random.Next(2) == 0)
                {
                    await grants.ExpireDueAsync();
                    ExpireModel(model, _clock.GetUtcNow());
                    what = "clock + expiry job";
                }
                else
                {
                    what = "clock";
                }
            }

            await AssertMatchesAsync(store, ledger, model, $"step {step}: {what}");
        }
    }

    // Every credit of the hold from the best grant left, found by a plain scan each time (no sorting).
    private static List<(string Grant, ulong Amount)> BruteForceBurn(List<ModelGrant> model, ulong amount, DateTimeOffset now)
    {
        var taken = new Dictionary<string, ulong>(StringComparer.Ordinal);
        for (ulong credit = 0; credit < amount; credit++)
        {
            ModelGrant? best = null;
            foreach (var g in model)
            {
                if (g.Remaining == 0 || g.ExpiresAt <= now)
                {
                    continue;
                }

                if (best is null || Before(g, best))
                {
                    best = g;
                }
            }

            if (best is null)
            {
                break; // credits without a grant
            }

            best.Remaining--;
            best.Held++;
            taken[best.Id] = taken.GetValueOrDefault(best.Id) + 1;
        }

        return [.. taken.Select(t => (t.Key, t.Value))];

        static bool Before(ModelGrant a, ModelGrant b)
        {
            if (a.Category != b.Category)
            {
                return a.Category == CreditCategory.Promotional;
            }

            var (ae, be) = (a.ExpiresAt ?? DateTimeOffset.MaxValue, b.ExpiresAt ?? DateTimeOffset.MaxValue);
            return ae != be ? ae < be : a.Priority != b.Priority ? a.Priority < b.Priority : a.Step < b.Step;
        }
    }

    private static void ExpireModel(List<ModelGrant> model, DateTimeOffset now)
    {
        foreach (var g in model.Where(g => g.ExpiresAt <= now))
        {
            g.Expired += g.Remaining;
            g.Remaining = 0;
        }
    }

    private static async Task AssertMatchesAsync(IAnpmStore store, Ledger ledger, List<ModelGrant> model, string step)
    {
        await LedgerAssert.InvariantHoldsAsync(ledger);
        await using var read = await store.BeginReadAsync();
        var stored = (await read.CreditGrants.ListGrantsAsync(User)).ToDictionary(g => g.Id);
        foreach (var g in model)
        {
            var s = stored[g.Id];
            Assert.True((s.Remaining.BaseUnits, s.Held.BaseUnits, s.Expired.BaseUnits) == (g.Remaining, g.Held, g.Expired),
                $"{step}: grant {g.Id} is {s.Remaining}/{s.Held}/{s.Expired}, the model {g.Remaining}/{g.Held}/{g.Expired}");
        }

        // The grants account for the credits exactly: what is left = what the account and its pool hold unreserved;
        // what is held = the pool's reservations; what expired = the expired-credits account.
        var own = (await read.Ledger.GetAccountAsync(CreditAccounts.Of(User)))?.AvailableBalance.BaseUnits ?? 0;
        var inPool = await read.Ledger.GetAccountAsync(CreditAccounts.InPool(Pool, User));
        var expired = (await read.Ledger.GetAccountAsync(CreditGrantService.ExpiredAccount))?.CreditsPosted.BaseUnits ?? 0;
        Assert.True(model.Sum(g => (decimal)g.Remaining) == (decimal)(own + (inPool?.AvailableBalance.BaseUnits ?? 0)), $"{step}: remaining vs available");
        Assert.True(model.Sum(g => (decimal)g.Held) == (decimal)(inPool?.DebitsPending.BaseUnits ?? 0), $"{step}: held vs pending");
        Assert.True(model.Sum(g => (decimal)g.Expired) == (decimal)expired, $"{step}: expired vs the expired account");
    }

    private (Ledger, InferenceService, CreditService, CreditGrantService) Services(IAnpmStore store)
    {
        var (ledger, inference, credits, _) = InferenceKit.Services(store, _clock);
        return (ledger, inference, credits, new CreditGrantService(store, ledger, _clock));
    }

    private async Task CreatePoolAsync(IAnpmStore store) =>
        Assert.Equal(CreatePoolResult.Created, (await new PoolRegistry(store, _clock).CreateAsync(Pool, User, InferenceKit.PoolConfig("m10"))).Result);

    private static async Task AssertGrantsAsync(CreditGrantService grants, params (string Id, ulong Remaining, ulong Held, ulong Expired)[] expected)
    {
        var listed = await grants.ListAsync(User);
        Assert.Equal(expected, listed.Select(g => (g.Id, (ulong)g.Remaining.BaseUnits, (ulong)g.Held.BaseUnits, (ulong)g.Expired.BaseUnits)));
    }

    private static CreditGrant Grant(string id, CreditCategory category, ulong amount, DateTimeOffset? expiresAt) => new()
    {
        Id = id, Account = User, Category = category, Amount = new TokenAmount(amount), Remaining = new TokenAmount(amount), Held = TokenAmount.Zero, Expired = TokenAmount.Zero,
        ExpiresAt = expiresAt, Priority = 50, CreatedAt = Now,
    };

    private sealed class ModelGrant(string id, CreditCategory category, DateTimeOffset? expiresAt, int priority, int step)
    {
        public string Id { get; } = id;

        public CreditCategory Category { get; } = category;

        public DateTimeOffset? ExpiresAt { get; } = expiresAt;

        public int Priority { get; } = priority;

        public int Step { get; } = step;

        public ulong Remaining { get; set; }

        public ulong Held { get; set; }

        public ulong Expired { get; set; }
    }
}

public sealed class InMemoryCreditGrantTests() : CreditGrantConformanceTests(new InMemoryStoreFactory());

public sealed class SqliteCreditGrantTests() : CreditGrantConformanceTests(new SqliteStoreFactory());

[Collection(PostgresCollection.Name)]
public sealed class PostgresCreditGrantTests(PostgresServerFixture server) : CreditGrantConformanceTests(new PostgresStoreFactory(server));
