using Anpm.Abstractions;
using Anpm.Credits;
using Anpm.Storage.InMemory;
using Anpm.Testing;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Anpm.Credits.Tests;

/// <summary>A ledger over a fresh in-memory store and a manual clock, with short-hands for accounts and transfers.</summary>
internal sealed class LedgerFixture
{
    public static readonly AssetCode Apus = WellKnownAssets.Apus;
    public static readonly AssetCode Credit = WellKnownAssets.Credit;
    public static readonly TransferKind Kind = TransferKind.Parse("test");

    public LedgerFixture(Action<LedgerOptions>? configure = null)
    {
        var options = new LedgerOptions();
        configure?.Invoke(options);
        Ledger = new Ledger(Store, Options.Create(options), Clock);
    }

    public InMemoryAnpmStore Store { get; } = new();

    public FakeTimeProvider Clock { get; } = new();

    public Ledger Ledger { get; }

    public static AccountId Id(string id) => AccountId.Parse(id);

    public static TransferId Tid(string id) => TransferId.Parse(id);

    public static TransferRequest Move(string id, string debit, string credit, ulong amount, AssetCode? asset = null, TransferFlags flags = TransferFlags.None, uint timeoutSeconds = 0) => new()
    {
        Id = Tid(id),
        DebitAccountId = Id(debit),
        CreditAccountId = Id(credit),
        Asset = asset ?? Apus,
        Amount = new TokenAmount(amount),
        Kind = Kind,
        Flags = flags,
        TimeoutSeconds = timeoutSeconds,
    };

    /// <summary>Creates an issuance account "mint" and user accounts, then funds each user from the mint.</summary>
    public async Task<LedgerFixture> WithFundedUsersAsync(ulong funds, params string[] users)
    {
        Assert.Equal(CreateAccountResult.Created, await Ledger.CreateAccountAsync(new NewAccount(Id("mint"), Apus, AccountFlags.None)));
        foreach (var user in users)
        {
            Assert.Equal(CreateAccountResult.Created, await Ledger.CreateAccountAsync(new NewAccount(Id(user), Apus, AccountFlags.DebitsMustNotExceedCredits)));
            if (funds > 0)
            {
                Assert.Equal(CreateTransferResult.Created, await Ledger.CreateTransferAsync(Move("fund-" + user, "mint", user, funds)));
            }
        }

        return this;
    }

    public async Task<LedgerAccount> AccountAsync(string id) =>
        await Ledger.GetAccountAsync(Id(id)) ?? throw new InvalidOperationException($"No account {id}.");

    public async Task<(ulong Posted, ulong Pending, ulong Available)> BalanceAsync(string id)
    {
        var account = await AccountAsync(id);
        return ((ulong)account.PostedBalance, (ulong)(account.DebitsPending.BaseUnits), (ulong)account.AvailableBalance.BaseUnits);
    }
}
