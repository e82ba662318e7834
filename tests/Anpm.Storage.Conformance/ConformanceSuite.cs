using Anpm.Abstractions;
using Anpm.Credits;
using Anpm.Testing;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Anpm.Storage.Conformance;

/// <summary>
/// The base of every conformance suite: an abstract class of tests written once against the store interfaces, derived
/// once per store (InMemory, Sqlite, Postgres) with that store's factory.
/// </summary>
public abstract class ConformanceSuite(StoreFactory factory) : IAsyncLifetime
{
    protected static readonly DateTimeOffset Now = new(2026, 11, 21, 0, 0, 0, TimeSpan.Zero);
    protected static readonly TransferKind Kind = TransferKind.Parse("test");

    protected StoreFactory Factory { get; } = factory;

    public virtual Task InitializeAsync() => Task.CompletedTask;

    public virtual async Task DisposeAsync() => await Factory.DisposeAsync();

    protected static AccountId Id(string id) => AccountId.Parse(id);

    /// <summary>
    /// Asserts that a versioned update is refused with <typeparamref name="T"/>: by the call itself, or — on a store that
    /// pipelines such updates with the next statement (PostgreSQL) — by the unit of work's next call, before any commit.
    /// </summary>
    protected static async Task RefusedByOrAfterAsync<T>(IAnpmUnitOfWork unitOfWork, Func<Task> update)
        where T : Exception
    {
        await Assert.ThrowsAnyAsync<T>(async () =>
        {
            await update();
            await unitOfWork.System.GetSystemStateAsync();
        });
    }

    protected static TransferId Tid(string id) => TransferId.Parse(id);

    protected static Ledger NewLedger(IAnpmStore store, TimeProvider clock, Action<LedgerOptions>? configure = null)
    {
        var options = new LedgerOptions();
        configure?.Invoke(options);
        return new Ledger(store, Options.Create(options), clock);
    }

    protected static TransferRequest Move(string id, string debit, string credit, ulong amount, TransferFlags flags = TransferFlags.None, uint timeoutSeconds = 0) => new()
    {
        Id = Tid(id),
        DebitAccountId = Id(debit),
        CreditAccountId = Id(credit),
        Asset = WellKnownAssets.Apus,
        Amount = new TokenAmount(amount),
        Kind = Kind,
        Flags = flags,
        TimeoutSeconds = timeoutSeconds,
    };

    /// <summary>A ledger over a new store with an issuance account "mint" and funded user accounts.</summary>
    protected async Task<(IAnpmStore Store, Ledger Ledger, FakeTimeProvider Clock)> LedgerWithUsersAsync(ulong funds, params string[] users)
    {
        var store = await Factory.CreateAsync();
        var clock = new FakeTimeProvider(TestClock.Start);
        var ledger = NewLedger(store, clock);
        var accounts = new List<NewAccount> { new(Id("mint"), WellKnownAssets.Apus, AccountFlags.None) };
        accounts.AddRange(users.Select(u => new NewAccount(Id(u), WellKnownAssets.Apus, AccountFlags.DebitsMustNotExceedCredits)));
        Assert.All(await ledger.CreateAccountsAsync(accounts), r => Assert.Equal(CreateAccountResult.Created, r));
        foreach (var user in users.Where(_ => funds > 0))
        {
            Assert.Equal(CreateTransferResult.Created, await ledger.CreateTransferAsync(Move("fund-" + user, "mint", user, funds)));
        }

        return (store, ledger, clock);
    }

    protected static async Task<ulong> AvailableAsync(Ledger ledger, string account) =>
        (ulong)(await ledger.GetAccountAsync(Id(account)))!.AvailableBalance.BaseUnits;
}
