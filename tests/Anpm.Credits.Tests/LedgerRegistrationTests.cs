using Anpm.Abstractions;
using Anpm.Storage.InMemory;
using Anpm.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Anpm.Credits.Tests;

public sealed class LedgerRegistrationTests
{
    [Fact]
    public void AddLedger_CalledTwice_RegistersOnceAndAppliesBothConfigurations()
    {
        var services = new ServiceCollection();
        services.AddAnpm(anpm => anpm.AddLedger(o => o.Assets["GOLD"] = 2).UseInMemoryStore());
        var count = services.Count;
        services.AddAnpm(anpm => anpm.AddLedger().UseInMemoryStore());
        Assert.Equal(count, services.Count);
        services.AddAnpm(anpm => anpm.AddLedger(o => o.MaxBatchSize = 7));
        using var provider = services.BuildServiceProvider();
        var ledger = provider.GetRequiredService<Ledger>();
        Assert.Same(ledger, provider.GetRequiredService<Ledger>());
        Assert.Equal(2, ledger.Assets[AssetCode.Parse("GOLD")]);
        Assert.Equal(7, provider.GetRequiredService<IOptions<LedgerOptions>>().Value.MaxBatchSize);
        Assert.Single(services, d => d.ServiceType == typeof(IValidateOptions<LedgerOptions>));
    }

    [Fact]
    public void AddCredits_CalledTwice_OneServiceHandlingBuyCredits()
    {
        var services = new ServiceCollection().AddSingleton<ITokenGateway, NullGateway>();
        var treasury = Address.Parse("0x00000000000000000000000000000000000000aa");
        services.AddAnpm(anpm => anpm.UseInMemoryStore().AddCredits(o => o.Treasury = treasury));
        services.AddAnpm(anpm => anpm.AddCredits());
        using var provider = services.BuildServiceProvider();
        Assert.Same(provider.GetRequiredService<CreditService>(), provider.GetRequiredService<CreditService>());
        Assert.Equal(["Buy-Credits"], provider.GetRequiredService<TokenNoticeProcessor>().Actions);
        Assert.Equal(treasury, provider.GetRequiredService<IOptions<CreditOptions>>().Value.Treasury);
    }

    [Fact]
    public void AddCredits_ZeroTreasury_RefusedNamingTheOption()
    {
        using var provider = new ServiceCollection().AddSingleton<ITokenGateway, NullGateway>()
            .AddAnpm(anpm => anpm.UseInMemoryStore().AddCredits(o => o.Treasury = Address.Zero).AddCredits())
            .BuildServiceProvider();
        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<CreditService>());
        Assert.Contains("CreditOptions.Treasury is the zero address", error.Message, StringComparison.Ordinal);
        Assert.Single(provider.GetServices<IValidateOptions<CreditOptions>>());
    }

    private sealed class NullGateway : ITokenGateway
    {
        public ValueTask<GatewaySendResult> SendAsync(OutgoingTransfer transfer, CancellationToken cancellationToken = default) =>
            new(new GatewaySendResult(GatewaySendStatus.RetryLater));
    }

    [Fact]
    public void AddLedger_InvalidOptions_FailsWhenResolvedNamingTheOption()
    {
        using var provider = new ServiceCollection()
            .AddAnpm(anpm => anpm.AddLedger(o => o.MaxHistoryPageSize = 0).UseInMemoryStore())
            .BuildServiceProvider();
        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<Ledger>());
        Assert.Contains("MaxHistoryPageSize", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AddLedger_UsesTheRegisteredClock()
    {
        var clock = new FakeTimeProvider(TestClock.Start);
        using var provider = new ServiceCollection()
            .AddSingleton<TimeProvider>(clock)
            .AddAnpm(anpm => anpm.AddLedger().UseInMemoryStore())
            .BuildServiceProvider();
        var ledger = provider.GetRequiredService<Ledger>();
        await ledger.CreateAccountAsync(new NewAccount(AccountId.Parse("a"), WellKnownAssets.Credit, AccountFlags.None));
        Assert.Equal(clock.GetUtcNow(), (await ledger.GetAccountAsync(AccountId.Parse("a")))!.CreatedAt);
    }
}
