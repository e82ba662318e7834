using Anpm.Abstractions;
using Anpm.Credits;
using Anpm.Signing;
using Anpm.Storage.InMemory;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Anpm.Pools.Tests;

public sealed class PoolsRegistrationTests
{
    private sealed class NullGateway : ITokenGateway
    {
        public ValueTask<GatewaySendResult> SendAsync(OutgoingTransfer transfer, CancellationToken cancellationToken = default) =>
            new(new GatewaySendResult(GatewaySendStatus.RetryLater));
    }

    [Fact]
    public void AddPools_CalledTwice_ServicesOnceWithTheRefundObserverAndBothConfigurations()
    {
        var services = new ServiceCollection();
        services.AddSingleton<ITokenGateway, NullGateway>();
        services.AddAnpm(anpm => anpm.UseInMemoryStore().AddPools(o => o.PaymentTimeoutSeconds = 60));
        var count = services.Count;
        services.AddAnpm(anpm => anpm.AddPools(o => o.TimeoutBatchSize = 7));
        Assert.Equal(count + 1, services.Count); // only the second configuration is added
        using var provider = services.BuildServiceProvider();
        Assert.Same(provider.GetRequiredService<ContributionService>(), provider.GetRequiredService<ContributionService>());
        Assert.NotNull(provider.GetRequiredService<PoolRegistry>());
        Assert.NotNull(provider.GetRequiredService<Outbox>());
        Assert.IsType<ContributionPayoutConfirmations>(Assert.Single(provider.GetServices<IOutgoingTransferObserver>()));
        Assert.Equal((60, 7), (provider.GetRequiredService<IOptions<ContributionOptions>>().Value.PaymentTimeoutSeconds,
            provider.GetRequiredService<IOptions<ContributionOptions>>().Value.TimeoutBatchSize));
    }

    [Fact]
    public void AddPools_InvalidOptions_FailWhenResolvedNamingThem()
    {
        using var provider = new ServiceCollection()
            .AddSingleton<ITokenGateway, NullGateway>()
            .AddAnpm(anpm => anpm.UseInMemoryStore().AddPools(o => o.TimeoutBatchSize = 0))
            .BuildServiceProvider();
        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<ContributionService>());
        Assert.Contains("TimeoutBatchSize", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void InvalidOptions_FailAtStart_BeforeAnyServiceIsResolved()
    {
        static string StartFailure(Action<IAnpmBuilder> configure)
        {
            using var provider = new ServiceCollection()
                .AddSingleton<ITokenGateway, NullGateway>()
                .AddAnpm(anpm => configure(anpm.UseInMemoryStore()))
                .BuildServiceProvider();
            // One failing options type throws its OptionsValidationException; several (inference also needs signing) an aggregate of them.
            var failure = Assert.ThrowsAny<Exception>(() => provider.GetRequiredService<IStartupValidator>().Validate());
            Assert.True(failure is OptionsValidationException or AggregateException { InnerExceptions: [OptionsValidationException, ..] }, failure.ToString());
            return failure.Message;
        }

        Assert.Contains("SettlementBatchSize must be 1 to 10000", StartFailure(anpm => anpm.AddPools(o => o.SettlementBatchSize = 0)), StringComparison.Ordinal);
        Assert.Contains("PendingTimeoutSeconds must be at least 1", StartFailure(anpm => anpm.AddPools().AddInference(o => o.PendingTimeoutSeconds = 0)), StringComparison.Ordinal);
        Assert.Contains("DispatchBatchSize must be 1 to 10000", StartFailure(anpm => anpm.AddPools().AddOutbox(o => o.DispatchBatchSize = 0)), StringComparison.Ordinal);
    }

    [Fact]
    public void AddPools_ClaimWindowOutOfRange_FailsNamingIt()
    {
        using var provider = new ServiceCollection()
            .AddSingleton<ITokenGateway, NullGateway>()
            .AddAnpm(anpm => anpm.UseInMemoryStore().AddPools(o => o.ClaimWindowSeconds = -1))
            .BuildServiceProvider();
        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<ContributionService>());
        Assert.Contains("ClaimWindowSeconds must be 0 to 315360000", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AddPools_SafetyCommands_ResolveWithTheHostsHoldings()
    {
        using var provider = new ServiceCollection()
            .AddSingleton<ITokenGateway, NullGateway>()
            .AddSingleton<ITokenHoldings, NoHoldings>()
            .AddAnpm(anpm => anpm.UseInMemoryStore().AddPools())
            .BuildServiceProvider();
        var pause = provider.GetRequiredService<SystemPause>();
        Assert.Equal(SetPauseResult.Changed, (await pause.SetAsync(true, Address.Zero, "drill")).Result);
        var withdrawal = provider.GetRequiredService<EmergencyWithdrawal>();
        Assert.Equal(EmergencyWithdrawalResult.ExceedsSurplus, (await withdrawal.WithdrawAsync(TransferId.Parse("e1"), WellKnownAssets.Apus, Address.Zero, new TokenAmount(1))).Result);
        var tooLong = await Assert.ThrowsAsync<ArgumentException>(async () => await pause.SetAsync(false, Address.Zero, new string('x', 257)));
        Assert.Contains("at most 256 characters", tooLong.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<ArgumentException>(async () => await pause.SetAsync(false, Address.Zero, "line\nbreak"));
        Assert.True((await pause.GetAsync()).Paused); // refused reasons changed nothing
    }

    [Fact]
    public void AddPools_TwiceWithAnotherHandler_ProcessorRoutesEachActionToOneHandler()
    {
        var services = new ServiceCollection().AddSingleton<ITokenGateway, NullGateway>();
        services.AddAnpm(anpm => anpm.UseInMemoryStore().AddPools());
        services.AddAnpm(anpm => anpm.AddPools());
        services.AddSingleton<StakeLikeHandler>();
        services.AddAnpm(anpm => anpm.AddTokenNoticeHandler<StakeLikeHandler>());
        using var provider = services.BuildServiceProvider();
        var processor = provider.GetRequiredService<TokenNoticeProcessor>();
        Assert.Equal(["Contribute", "Distribute", "Stake"], processor.Actions.Order(StringComparer.Ordinal));

        services.AddSingleton<ContributeAgainHandler>();
        services.AddAnpm(anpm => anpm.AddTokenNoticeHandler<ContributeAgainHandler>());
        using var clashing = services.BuildServiceProvider();
        var error = Assert.Throws<ArgumentException>(() => clashing.GetRequiredService<TokenNoticeProcessor>());
        Assert.Contains("'Contribute' is claimed by both", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AddPoolsCreditsAndStaking_EveryActionRoutedOnce()
    {
        var services = new ServiceCollection().AddSingleton<ITokenGateway, NullGateway>();
        var treasury = Address.Parse("0x00000000000000000000000000000000000000aa");
        services.AddAnpm(anpm => anpm.UseInMemoryStore().AddPools().AddCredits().AddStaking(o => o.Treasury = treasury));
        services.AddAnpm(anpm => anpm.AddStaking().AddCredits());
        using var provider = services.BuildServiceProvider();
        Assert.Equal(["Buy-Credits", "Contribute", "Distribute", "Fund-Rewards", "Stake"], provider.GetRequiredService<TokenNoticeProcessor>().Actions.Order(StringComparer.Ordinal));
        Assert.Same(provider.GetRequiredService<StakingService>(), provider.GetRequiredService<StakingService>());
        Assert.Equal(treasury, provider.GetRequiredService<IOptions<StakingOptions>>().Value.Treasury);
    }

    [Fact]
    public async Task AddPools_MakesTheRegistryTheCreditsGate_CreditsRefuseAPausedPool()
    {
        using var provider = new ServiceCollection().AddSingleton<ITokenGateway, NullGateway>()
            .AddAnpm(anpm => anpm.UseInMemoryStore().AddCredits().AddPools())
            .BuildServiceProvider();
        var registry = provider.GetRequiredService<PoolRegistry>();
        Assert.Same(registry, provider.GetRequiredService<IPoolCreditGate>());
        var pool = PoolId.Parse("gated");
        Assert.Equal(CreatePoolResult.Created, (await registry.CreateAsync(pool, Address.Parse("0x00000000000000000000000000000000000000bb"), """{"name":"Gated","inference":{"models":[{"id":"digits","sha256":"0x0000000000000000000000000000000000000000000000000000000000000001","price":"10"}]}}""")).Result);
        await registry.PauseAsync(pool);
        var refused = await provider.GetRequiredService<CreditService>().TransferToPoolAsync(TransferId.Parse("t"), Address.Parse("0x00000000000000000000000000000000000000cc"), pool, new TokenAmount(1));
        Assert.Equal((CreditTransferResult.PoolNotActive, "Pool 'gated' is Paused; credits move in while it is Active."), (refused.Result, refused.Error));
    }

    [Fact]
    public void AddStaking_ZeroTreasury_RefusedNamingTheOption()
    {
        using var provider = new ServiceCollection().AddSingleton<ITokenGateway, NullGateway>()
            .AddAnpm(anpm => anpm.UseInMemoryStore().AddPools().AddCredits().AddStaking(o => o.Treasury = Address.Zero))
            .BuildServiceProvider();
        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<StakingService>());
        Assert.Contains("StakingOptions.Treasury is the zero address", error.Message, StringComparison.Ordinal);
        Assert.Single(provider.GetServices<IValidateOptions<StakingOptions>>());
    }

    [Fact]
    public void AddInference_ResolvesWithTheSigningVerifier_InvalidOptionsNamed()
    {
        const string Contract = "0x5fbdb2315678afecb367f032d93f642f64180aa3";
        using var provider = new ServiceCollection()
            .AddAnpm(anpm => anpm.UseInMemoryStore().AddSigning(o => o.VerifyingContract = Contract).AddInference().AddInference(o => o.SweepBatchSize = 5))
            .BuildServiceProvider();
        Assert.Same(provider.GetRequiredService<InferenceService>(), provider.GetRequiredService<InferenceService>());
        using var invalid = new ServiceCollection()
            .AddAnpm(anpm => anpm.UseInMemoryStore().AddSigning(o => o.VerifyingContract = Contract).AddInference(o => o.PendingTimeoutSeconds = 0))
            .BuildServiceProvider();
        var error = Assert.Throws<OptionsValidationException>(() => invalid.GetRequiredService<InferenceService>());
        Assert.Contains("PendingTimeoutSeconds must be at least 1", error.Message, StringComparison.Ordinal);
    }

    private sealed class StakeLikeHandler : ITokenNoticeHandler
    {
        public IReadOnlyCollection<string> Actions { get; } = ["Stake"];

        public ValueTask<string> HandleAsync(TokenNoticeContext context, CancellationToken cancellationToken) => context.RefundAsync(context.Notice.Quantity, "test", cancellationToken);
    }

    private sealed class ContributeAgainHandler : ITokenNoticeHandler
    {
        public IReadOnlyCollection<string> Actions { get; } = ["Contribute"];

        public ValueTask<string> HandleAsync(TokenNoticeContext context, CancellationToken cancellationToken) => context.RefundAsync(context.Notice.Quantity, "test", cancellationToken);
    }

    private sealed class NoHoldings : ITokenHoldings
    {
        public ValueTask<TokenAmount> GetSettledHoldingsAsync(AssetCode asset, CancellationToken cancellationToken = default) => new(TokenAmount.Zero);
    }
}
