using Anpm.Testing;
using Xunit.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Anpm.Storage.Conformance;

/// <summary>The random-operation simulation against each store (100 000 operations in memory, fewer on disk).</summary>
public abstract class LedgerSimulationConformanceTests(StoreFactory factory, ITestOutputHelper output) : ConformanceSuite(factory)
{
    protected ITestOutputHelper Output { get; } = output;

    [Fact]
    public async Task Simulation_RandomOperationsOnFourThreads_InvariantAfterEveryStepAndModelMatches()
    {
        var store = await Factory.CreateAsync();
        var clock = new FakeTimeProvider(TestClock.Start);
        var ledger = NewLedger(store, clock, options => options.ExpirySweepBatchSize = 16);
        await LedgerSimulation.RunAsync([ledger], clock, Factory.SimulationOperations, threads: 4, Output.WriteLine);
    }
}

public sealed class InMemoryLedgerSimulationTests(ITestOutputHelper output) : LedgerSimulationConformanceTests(new InMemoryStoreFactory(), output);

public sealed class SqliteLedgerSimulationTests(ITestOutputHelper output) : LedgerSimulationConformanceTests(new SqliteStoreFactory(), output);

[Collection(PostgresCollection.Name)]
public sealed class PostgresLedgerSimulationTests(PostgresServerFixture server, ITestOutputHelper output)
    : LedgerSimulationConformanceTests(new PostgresStoreFactory(server), output)
{
    /// <summary>Two service instances (separate connection pools) on one database, simulating concurrently over shared accounts.</summary>
    [Fact]
    public async Task Simulation_TwoInstancesOnOneDatabase_NoLostUpdateNoNegativeBalanceInvariantHolds()
    {
        var first = await Factory.CreateAsync();
        var second = await Factory.OpenAnotherInstanceAsync(first);
        var clock = new FakeTimeProvider(TestClock.Start);
        var ledgers = new[] { first, second }.Select(store => NewLedger(store, clock, options => options.ExpirySweepBatchSize = 16)).ToArray();
        await LedgerSimulation.RunAsync(ledgers, clock, Factory.SimulationOperations, threads: 4, Output.WriteLine);
    }
}
