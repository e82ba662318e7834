using Anpm.Abstractions;

namespace Anpm.Storage.Conformance;

/// <summary>
/// A unit of work hands out each feature store by its interface: the named properties are the same stores as
/// <see cref="IAnpmUnitOfWork.GetStore{TStore}"/>, each one instance for the unit of work's life, and an interface the
/// store does not implement is refused by name.
/// </summary>
public abstract class UnitOfWorkStoresConformanceTests(StoreFactory factory) : ConformanceSuite(factory)
{
    /// <summary>Not a feature store of any store.</summary>
    public interface INotAFeatureStore;

    [Fact]
    public async Task GetStore_IsWhatTheNamedPropertiesAre_OneInstancePerUnitOfWork()
    {
        var store = await Factory.CreateAsync();
        await using var unitOfWork = await store.BeginAsync();
        Assert.Same(unitOfWork.Ledger, unitOfWork.GetStore<ILedgerStore>());
        Assert.Same(unitOfWork.Pools, unitOfWork.GetStore<IPoolStore>());
        Assert.Same(unitOfWork.Outbox, unitOfWork.GetStore<IOutboxStore>());
        Assert.Same(unitOfWork.Contributions, unitOfWork.GetStore<IContributionStore>());
        Assert.Same(unitOfWork.Notices, unitOfWork.GetStore<INoticeStore>());
        Assert.Same(unitOfWork.System, unitOfWork.GetStore<ISystemStateStore>());
        Assert.Same(unitOfWork.ExchangeRates, unitOfWork.GetStore<IExchangeRateStore>());
        Assert.Same(unitOfWork.Checkpoints, unitOfWork.GetStore<ICheckpointStore>());
        Assert.Same(unitOfWork.Staking, unitOfWork.GetStore<IStakingStore>());
        Assert.Same(unitOfWork.Inference, unitOfWork.GetStore<IInferenceStore>());
        Assert.Same(unitOfWork.Requests, unitOfWork.GetStore<IRequestStore>());
        Assert.Same(unitOfWork.Chain, unitOfWork.GetStore<IChainStore>());
        Assert.Same(unitOfWork.SessionKeys, unitOfWork.GetStore<ISessionKeyStore>());
        Assert.Same(unitOfWork.Events, unitOfWork.GetStore<IEventStore>());
        Assert.Same(unitOfWork.BalanceAlerts, unitOfWork.GetStore<IBalanceAlertStore>());
        Assert.Same(unitOfWork.CreditGrants, unitOfWork.GetStore<ICreditGrantStore>());
        Assert.Same(unitOfWork.GetStore<IPoolStore>(), unitOfWork.GetStore<IPoolStore>());
    }

    [Fact]
    public async Task GetStore_AnInterfaceTheStoreDoesNotImplement_RefusedByName()
    {
        var store = await Factory.CreateAsync();
        await using var unitOfWork = await store.BeginAsync();
        var refused = Assert.Throws<NotSupportedException>(() => unitOfWork.GetStore<INotAFeatureStore>());
        Assert.Contains(typeof(INotAFeatureStore).FullName!, refused.Message, StringComparison.Ordinal);
    }
}

public sealed class InMemoryUnitOfWorkStoresTests() : UnitOfWorkStoresConformanceTests(new InMemoryStoreFactory());

public sealed class SqliteUnitOfWorkStoresTests() : UnitOfWorkStoresConformanceTests(new SqliteStoreFactory());

[Collection(PostgresCollection.Name)]
public sealed class PostgresUnitOfWorkStoresTests(PostgresServerFixture server) : UnitOfWorkStoresConformanceTests(new PostgresStoreFactory(server));
