using Anpm.Abstractions;
using Anpm.Testing;
using static Anpm.Credits.Tests.LedgerFixture;

namespace Anpm.Credits.Tests;

public sealed class LedgerAccountTests
{
    [Fact]
    public async Task CreateAccount_NewThenReplayed_CreatedThenExists()
    {
        var f = new LedgerFixture();
        var account = new NewAccount(Id("user:a"), Apus, AccountFlags.DebitsMustNotExceedCredits);
        Assert.Equal(CreateAccountResult.Created, await f.Ledger.CreateAccountAsync(account));
        Assert.Equal(CreateAccountResult.Exists, await f.Ledger.CreateAccountAsync(account));
        var stored = await f.AccountAsync("user:a");
        Assert.Equal(f.Clock.GetUtcNow(), stored.CreatedAt);
        Assert.Equal(TokenAmount.Zero, stored.CreditsPosted);
    }

    [Fact]
    public async Task CreateAccount_SameIdOtherAssetOrFlags_RefusedWithoutChange()
    {
        var f = new LedgerFixture();
        await f.Ledger.CreateAccountAsync(new NewAccount(Id("a"), Apus, AccountFlags.None));
        Assert.Equal(CreateAccountResult.ExistsWithDifferentAsset, await f.Ledger.CreateAccountAsync(new NewAccount(Id("a"), Credit, AccountFlags.None)));
        Assert.Equal(CreateAccountResult.ExistsWithDifferentFlags, await f.Ledger.CreateAccountAsync(new NewAccount(Id("a"), Apus, AccountFlags.DebitsMustNotExceedCredits)));
        var stored = await f.AccountAsync("a");
        Assert.Equal(Apus, stored.Asset);
        Assert.Equal(AccountFlags.None, stored.Flags);
    }

    [Fact]
    public async Task CreateAccounts_InvalidInput_NamesEachProblem()
    {
        var f = new LedgerFixture();
        var results = await f.Ledger.CreateAccountsAsync(
        [
            new NewAccount(default, Apus, AccountFlags.None),
            new NewAccount(Id("b"), default, AccountFlags.None),
            new NewAccount(Id("c"), AssetCode.Parse("GOLD"), AccountFlags.None),
            new NewAccount(Id("d"), Apus, (AccountFlags)8),
            new NewAccount(Id("e"), Apus, AccountFlags.None),
        ]);
        Assert.Equal(
            [CreateAccountResult.IdMustNotBeDefault, CreateAccountResult.AssetMustNotBeDefault, CreateAccountResult.AssetNotFound,
             CreateAccountResult.FlagsAreInvalid, CreateAccountResult.Created],
            results);
        Assert.Null(await f.Ledger.GetAccountAsync(Id("c")));
    }

    [Fact]
    public async Task Assets_ConfiguredAsset_CanBeUsed()
    {
        var f = new LedgerFixture(options => options.Assets["GOLD"] = 6);
        Assert.Equal(6, f.Ledger.Assets[AssetCode.Parse("GOLD")]);
        Assert.Equal(12, f.Ledger.Assets[Apus]);
        Assert.Equal(CreateAccountResult.Created, await f.Ledger.CreateAccountAsync(new NewAccount(Id("g"), AssetCode.Parse("GOLD"), AccountFlags.None)));
        await LedgerAssert.InvariantHoldsAsync(f.Ledger);
    }

    [Fact]
    public void Options_Invalid_EveryFailureNamesItsOption()
    {
        var error = Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(() => new LedgerFixture(options =>
        {
            options.Assets["gold"] = 2;
            options.Assets["SILVER"] = 40;
            options.MaxBatchSize = 0;
            options.MaxPendingTimeoutSeconds = 0;
        }));
        Assert.Contains("LedgerOptions.Assets: Asset code 'gold' may not start with 'g'.", error.Failures);
        Assert.Contains("LedgerOptions.Assets[SILVER]: decimals must be 0 to 38, not 40.", error.Failures);
        Assert.Contains("LedgerOptions.MaxBatchSize must be 1 to 10000, not 0.", error.Failures);
        Assert.Contains("LedgerOptions.MaxPendingTimeoutSeconds must be at least 1.", error.Failures);
    }
}
