using System.Numerics;
using Anpm.Abstractions;
using Anpm.Credits;
using Anpm.Pools;
using Anpm.Signing;
using Anpm.Testing;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Anpm.Storage.Conformance;

/// <summary>
/// Session keys over each store: the store's guarantees (one unrevoked key per account and delegate, versioned updates,
/// rollback, the key recorded on a task), the grant's rules, a delegate's tasks charged and given back, revocation and
/// expiry at once, and concurrent tasks of one delegate — on two store instances — never passing the cap.
/// </summary>
public abstract class SessionKeyConformanceTests(StoreFactory factory) : ConformanceSuite(factory)
{
    private static readonly Address User = Address.Parse("0x70997970c51812dc3a010c7d01b50e0d17dc79c8");
    private static readonly Address Backend = Address.Parse("0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc");
    private static readonly Address Other = Address.Parse("0x90f79bf6eb2c4f870365e785982e1f101e93b906");
    private static readonly PoolId Pool = PoolId.Parse("ai");
    private static readonly PoolId OtherPool = PoolId.Parse("ai-2");

    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 11, 21, 12, 0, 0, TimeSpan.Zero));
    private IAnpmStore _store = null!;
    private Ledger _ledger = null!;
    private InferenceService _inference = null!;
    private SessionKeyService _keys = null!;
    private BigInteger _bought;

    public override async Task InitializeAsync()
    {
        _store = await Factory.CreateAsync();
        (_ledger, _inference, _keys) = Services(_store);
    }

    private (Ledger, InferenceService, SessionKeyService) Services(IAnpmStore store)
    {
        var (ledger, inference, _, _) = InferenceKit.Services(store, _clock);
        return (ledger, inference, new SessionKeyService(store, _clock));
    }

    [Fact]
    public async Task Store_OneUnrevokedKeyPerDelegate_VersionedUpdates_Rollback()
    {
        var key = Key("k1");
        await using (var write = await _store.BeginAsync())
        {
            Assert.True(await write.SessionKeys.TryInsertSessionKeyAsync(key));
            Assert.False(await write.SessionKeys.TryInsertSessionKeyAsync(Key("k2"))); // the same delegate has an unrevoked key
            Assert.False(await write.SessionKeys.TryInsertSessionKeyAsync(Key("k1") with { Delegate = Other })); // the id is taken
            Assert.True(await write.SessionKeys.TryInsertSessionKeyAsync(Key("k3") with { Delegate = Other, PoolId = null, CreatedAt = Now.AddSeconds(5) }));
            Assert.True(await write.SessionKeys.TryInsertSessionKeyAsync(Key("k0") with { RevokedAt = Now.AddSeconds(1), CreatedAt = Now.AddSeconds(9) })); // revoked ones may be many
            await write.CommitAsync();
        }

        var reopened = await Factory.OpenAnotherInstanceAsync(_store);
        await using (var read = await reopened.BeginReadAsync())
        {
            Assert.Equal(key, await read.SessionKeys.GetSessionKeyAsync("k1"));
            Assert.Null(await read.SessionKeys.GetSessionKeyAsync("k9"));
            Assert.Equal(["k3", "k1", "k0"], (await read.SessionKeys.ListSessionKeysAsync(User, null, 10)).Select(k => k.Id)); // unrevoked first, newest first
            Assert.Equal(["k1", "k0"], (await read.SessionKeys.ListSessionKeysAsync(User, Backend, 10)).Select(k => k.Id));
            Assert.Equal(["k1"], (await read.SessionKeys.ListSessionKeysAsync(User, Backend, 1)).Select(k => k.Id));
            Assert.Empty(await read.SessionKeys.ListSessionKeysAsync(Backend, null, 10));
            Assert.Equal(key, await read.SessionKeys.GetActiveSessionKeyAsync(User, Backend, forUpdate: false));
            Assert.Null(await read.SessionKeys.GetActiveSessionKeyAsync(Backend, User));
        }

        await using (var write = await _store.BeginAsync())
        {
            var current = (await write.SessionKeys.GetSessionKeyAsync("k1", forUpdate: true))!;
            await write.SessionKeys.UpdateSessionKeyAsync(current with { Spent = new TokenAmount(UInt128.MaxValue), RevokedAt = Now.AddMinutes(1) }, 0);
            await RefusedByOrAfterAsync<AnpmConcurrencyException>(write, async () => await write.SessionKeys.UpdateSessionKeyAsync(current, 0));
        }

        await using (var write = await _store.BeginAsync())
        {
            var current = (await write.SessionKeys.GetSessionKeyAsync("k1", forUpdate: true))!;
            await write.SessionKeys.UpdateSessionKeyAsync(current with { Spent = new TokenAmount(UInt128.MaxValue), RevokedAt = Now.AddMinutes(1) }, 0);
            Assert.Null(await write.SessionKeys.GetActiveSessionKeyAsync(User, Backend, forUpdate: true));
            Assert.True(await write.SessionKeys.TryInsertSessionKeyAsync(Key("k2") with { CreatedAt = Now.AddMinutes(1) })); // the delegate's key was revoked
            Assert.Equal("k2", (await write.SessionKeys.GetActiveSessionKeyAsync(User, Backend, forUpdate: true))!.Id);
            await write.CommitAsync();
        }

        await using (var rolledBack = await _store.BeginAsync())
        {
            var k2 = (await rolledBack.SessionKeys.GetSessionKeyAsync("k2"))!;
            await rolledBack.SessionKeys.UpdateSessionKeyAsync(k2 with { Spent = new TokenAmount(7), RevokedAt = Now }, 0);
        }

        await using var check = await reopened.BeginReadAsync();
        var revoked = (await check.SessionKeys.GetSessionKeyAsync("k1"))!;
        Assert.Equal((new TokenAmount(UInt128.MaxValue), (DateTimeOffset?)Now.AddMinutes(1), 1L), (revoked.Spent, revoked.RevokedAt, revoked.Version));
        Assert.Equal((TokenAmount.Zero, 0L), ((await check.SessionKeys.GetSessionKeyAsync("k2"))!.Spent, (await check.SessionKeys.GetSessionKeyAsync("k2"))!.Version));
        Assert.Equal("k2", (await check.SessionKeys.GetActiveSessionKeyAsync(User, Backend))!.Id);
        Assert.Equal(["k2", "k3"], (await check.SessionKeys.ListSessionKeysAsync(User, null, 2)).Select(k => k.Id));
    }

    [Fact]
    public async Task Grant_RefusesBadFields_ReplaysById_ANewGrantRevokesThePrevious()
    {
        await CreatePoolAsync(Pool);
        var expires = _clock.GetUtcNow().AddDays(1);
        var refused = new (SessionKeyGrant Grant, SessionKeyResult Result, string Names)[]
        {
            (Grant("g") with { Delegate = User }, SessionKeyResult.Invalid, "delegate"),
            (Grant("g") with { Delegate = Address.Zero }, SessionKeyResult.Invalid, "zero"),
            (Grant("g") with { Actions = SessionKeyActions.None }, SessionKeyResult.Invalid, "actions"),
            (Grant("g") with { SpendCap = TokenAmount.Zero }, SessionKeyResult.Invalid, "spendCap"),
            (Grant("g") with { ExpiresAt = _clock.GetUtcNow() }, SessionKeyResult.Invalid, "expiresAt"),
            (Grant("g") with { ExpiresAt = _clock.GetUtcNow().AddDays(366) }, SessionKeyResult.Invalid, "365 days"),
            (Grant("g") with { Pool = PoolId.Parse("nope") }, SessionKeyResult.PoolNotFound, "nope"),
        };
        foreach (var (grant, result, names) in refused)
        {
            var outcome = await _keys.GrantAsync(grant);
            Assert.True(outcome.Result == result && outcome.Error!.Contains(names, StringComparison.Ordinal), $"{grant}: {outcome}");
        }

        Assert.Empty(await _keys.ListAsync(User));

        // A key that only moves credits needs no cap.
        Assert.Equal(SessionKeyResult.Granted, (await _keys.GrantAsync(Grant("mover") with { Delegate = Other, Actions = SessionKeyActions.TransferCredits, SpendCap = TokenAmount.Zero })).Result);
        var first = await _keys.GrantAsync(Grant("g1"));
        Assert.Equal(SessionKeyResult.Granted, first.Result);
        Assert.Equal(SessionKeyResult.Exists, (await _keys.GrantAsync(Grant("g1"))).Result);
        Assert.Equal(SessionKeyResult.IdTaken, (await _keys.GrantAsync(Grant("g1") with { SpendCap = new TokenAmount(1) })).Result);

        _clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(SessionKeyResult.Granted, (await _keys.GrantAsync(Grant("g2") with { Pool = null, ExpiresAt = expires.AddDays(1) })).Result);
        var keys = await _keys.ListAsync(User);
        Assert.Equal(["g2", "mover", "g1"], keys.Select(k => k.Id));
        Assert.Equal(_clock.GetUtcNow(), keys[2].RevokedAt);

        Assert.Equal(SessionKeyResult.Revoked, (await _keys.RevokeAsync(User, Backend)).Result);
        Assert.Equal(SessionKeyResult.NotFound, (await _keys.RevokeAsync(User, Backend)).Result);
        Assert.Equal(SessionKeyRefusal.Revoked, (await _keys.AuthorizeAsync(User, Backend, SessionKeyActions.AddTask, Pool)).Refusal);
        Assert.Equal(SessionKeyRefusal.Unknown, (await _keys.AuthorizeAsync(Backend, User, SessionKeyActions.AddTask, Pool)).Refusal);
        Assert.Equal(SessionKeyRefusal.NotAllowed, (await _keys.AuthorizeAsync(User, Other, SessionKeyActions.AddTask, Pool)).Refusal);
        Assert.Equal(SessionKeyRefusal.None, (await _keys.AuthorizeAsync(User, Other, SessionKeyActions.TransferCredits, Pool)).Refusal);

        SessionKeyGrant Grant(string id) => new(id, User, Backend, Pool, SessionKeyActions.AddTask | SessionKeyActions.TransferCredits, new TokenAmount(100), expires);
    }

    [Fact]
    public async Task DelegatedTasks_ChargeTheCap_AFailedTaskGivesBack_RevocationAndExpiryRefuseAtOnce_NothingChangesOnARefusal()
    {
        await CreatePoolAsync(Pool);
        await CreatePoolAsync(OtherPool);
        await GiveCreditsAsync(Pool, 100);
        await GiveCreditsAsync(OtherPool, 100);
        var key = (await _keys.GrantAsync(new SessionKeyGrant("k", User, Backend, Pool, SessionKeyActions.AddTask, new TokenAmount(25), _clock.GetUtcNow().AddHours(2)))).Key!;

        Assert.Equal(AddTaskResult.Added, (await AddAsync("t1", Pool, Backend)).Result);
        Assert.Equal(AddTaskResult.Added, (await AddAsync("t2", Pool, Backend)).Result);
        Assert.Equal(AddTaskResult.Exists, (await AddAsync("t2", Pool, Backend)).Result); // a replay charges nothing more
        var capped = await AddAsync("t3", Pool, Backend);
        Assert.Equal((AddTaskResult.SessionKeyRefused, SessionKeyRefusal.CapReached), (capped.Result, capped.SessionKeyRefusal));
        Assert.Contains("5 of its 25", capped.Error, StringComparison.Ordinal);
        var otherPool = await AddAsync("t4", OtherPool, Backend);
        Assert.Equal((AddTaskResult.SessionKeyRefused, SessionKeyRefusal.NotAllowed), (otherPool.Result, otherPool.SessionKeyRefusal));
        Assert.Equal(AddTaskResult.Added, (await AddAsync("t5", Pool, null)).Result); // the wallet itself is not capped
        Assert.Equal(AddTaskResult.Added, (await AddAsync("t5b", Pool, User)).Result); // nor when it signs as itself
        var stranger = await AddAsync("t5c", Pool, Other); // no grant: unknown
        Assert.Equal((AddTaskResult.SessionKeyRefused, SessionKeyRefusal.Unknown), (stranger.Result, stranger.SessionKeyRefusal));
        await AssertKeyAsync(key.Id, spent: 20, charges: 2);
        await AssertCreditsAsync(Pool, held: 40);

        // Every pending task times out: the holds are voided, and the key gets its 20 back.
        _clock.Advance(TimeSpan.FromSeconds(3601));
        Assert.Equal(4, await _inference.SweepAsync());
        await AssertKeyAsync(key.Id, spent: 0, charges: 2);
        await AssertCreditsAsync(Pool, held: 0);
        Assert.Equal(AddTaskResult.Added, (await AddAsync("t6", Pool, Backend)).Result);
        await AssertKeyAsync(key.Id, spent: 10, charges: 3);

        // Revoked: refused at once, nothing held; a failure afterwards still gives back.
        Assert.Equal(SessionKeyResult.Revoked, (await _keys.RevokeAsync(User, Backend)).Result);
        var revoked = await AddAsync("t7", Pool, Backend);
        Assert.Equal((AddTaskResult.SessionKeyRefused, SessionKeyRefusal.Revoked), (revoked.Result, revoked.SessionKeyRefusal));
        await AssertCreditsAsync(Pool, held: 10);
        _clock.Advance(TimeSpan.FromSeconds(3601));
        Assert.Equal(1, await _inference.SweepAsync());
        await AssertKeyAsync(key.Id, spent: 0, charges: 3);

        // Expired: refused at its expiry instant.
        var later = (await _keys.GrantAsync(new SessionKeyGrant("k2", User, Backend, null, SessionKeyActions.AddTask, new TokenAmount(25), _clock.GetUtcNow().AddMinutes(10)))).Key!;
        Assert.Equal(AddTaskResult.Added, (await AddAsync("t8", OtherPool, Backend)).Result);
        _clock.Advance(TimeSpan.FromMinutes(10));
        var expired = await AddAsync("t9", OtherPool, Backend);
        Assert.Equal((AddTaskResult.SessionKeyRefused, SessionKeyRefusal.Expired), (expired.Result, expired.SessionKeyRefusal));
        await AssertKeyAsync(later.Id, spent: 10, charges: 1);
        await LedgerAssert.InvariantHoldsAsync(_ledger);
    }

    [Fact]
    public async Task ConcurrentTasksOfOneDelegate_OnTwoStoreInstances_NeverPassTheCap()
    {
        await CreatePoolAsync(Pool);
        await GiveCreditsAsync(Pool, 1_000);
        var key = (await _keys.GrantAsync(new SessionKeyGrant("k", User, Backend, Pool, SessionKeyActions.AddTask, new TokenAmount(55), _clock.GetUtcNow().AddHours(2)))).Key!;
        var second = await Factory.OpenAnotherInstanceAsync(_store);
        var (_, secondInference, _) = Services(second);

        for (var round = 0; round < 2; round++)
        {
            var outcomes = await Task.WhenAll(Enumerable.Range(0, 16).Select(i => Task.Run(async () =>
                await (i % 2 == 0 ? _inference : secondInference).AddTaskAsync($"r{round}-{i}", User, Pool, "digits", "{}", new TokenAmount(10), Backend))));
            Assert.All(outcomes, o => Assert.True(o.Result is AddTaskResult.Added || o is { Result: AddTaskResult.SessionKeyRefused, SessionKeyRefusal: SessionKeyRefusal.CapReached }, o.ToString()));
            Assert.Equal(5, outcomes.Count(o => o.Result == AddTaskResult.Added));
            await AssertKeyAsync(key.Id, spent: 50, charges: 5 * (round + 1));
            await AssertCreditsAsync(Pool, held: 50);

            // The holds time out and come back: the cap is whole again for the next round.
            _clock.Advance(TimeSpan.FromSeconds(3601));
            Assert.Equal(5, await _inference.SweepAsync());
            await AssertKeyAsync(key.Id, spent: 0, charges: 5 * (round + 1));
        }
    }

    private Task<AddTaskOutcome> AddAsync(string requestKey, PoolId pool, Address? signedBy) =>
        _inference.AddTaskAsync(requestKey, User, pool, "digits", "{}", new TokenAmount(10), signedBy).AsTask();

    // The key's spent is exactly the prices of its tasks that have not failed; it charged `charges` tasks in all.
    private async Task AssertKeyAsync(string id, ulong spent, int charges)
    {
        await using var read = await _store.BeginReadAsync();
        var key = (await read.SessionKeys.GetSessionKeyAsync(id))!;
        Assert.Equal(new TokenAmount(spent), key.Spent);
        var tasks = new List<InferenceTask>();
        foreach (var pool in new[] { Pool, OtherPool })
        {
            tasks.AddRange((await read.Inference.ListTasksAsync(pool, User, null, 1000)).Where(t => t.SessionKeyId == id));
        }

        Assert.Equal(charges, tasks.Count);
        var open = tasks.Where(t => t.Status != InferenceTaskStatus.Failed).Aggregate(TokenAmount.Zero, (sum, t) => sum + t.Price);
        Assert.Equal(key.Spent, open);
    }

    // The user's credits in a pool: bought = available + held; the holds are what the consumed account has pending.
    private async Task AssertCreditsAsync(PoolId pool, ulong held)
    {
        await LedgerAssert.InvariantHoldsAsync(_ledger);
        var user = (await _ledger.GetAccountAsync(CreditAccounts.InPool(pool, User)))!;
        Assert.Equal(new TokenAmount(held), user.DebitsPending);
    }

    private async Task CreatePoolAsync(PoolId pool) =>
        Assert.Equal(CreatePoolResult.Created, (await new PoolRegistry(_store, _clock).CreateAsync(pool, User, InferenceKit.PoolConfig())).Result);

    private async Task GiveCreditsAsync(PoolId pool, ulong credits)
    {
        await _ledger.CreateAccountsAsync([new NewAccount(SystemAccounts.Issuance(WellKnownAssets.Credit), WellKnownAssets.Credit, AccountFlags.None),
            new NewAccount(CreditAccounts.InPool(pool, User), WellKnownAssets.Credit, AccountFlags.DebitsMustNotExceedCredits)]);
        Assert.Equal(CreateTransferResult.Created, await _ledger.CreateTransferAsync(new TransferRequest
        {
            Id = TransferId.Parse("buy-" + _bought),
            DebitAccountId = SystemAccounts.Issuance(WellKnownAssets.Credit),
            CreditAccountId = CreditAccounts.InPool(pool, User),
            Asset = WellKnownAssets.Credit,
            Amount = new TokenAmount(credits),
            Kind = TransferKind.Parse("purchase"),
        }));
        _bought += credits;
    }

    private static SessionKey Key(string id) => new()
    {
        Id = id,
        Account = User,
        Delegate = Backend,
        PoolId = Pool,
        Actions = SessionKeyActions.AddTask | SessionKeyActions.WithdrawCredits,
        SpendCap = new TokenAmount(UInt128.MaxValue),
        Spent = TokenAmount.Zero,
        ExpiresAt = Now.AddDays(1),
        CreatedAt = Now,
    };
}

public sealed class InMemorySessionKeyTests() : SessionKeyConformanceTests(new InMemoryStoreFactory());

public sealed class SqliteSessionKeyTests() : SessionKeyConformanceTests(new SqliteStoreFactory());

[Collection(PostgresCollection.Name)]
public sealed class PostgresSessionKeyTests(PostgresServerFixture server) : SessionKeyConformanceTests(new PostgresStoreFactory(server));
