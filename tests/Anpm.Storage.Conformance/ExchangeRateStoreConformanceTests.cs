using Anpm.Abstractions;

namespace Anpm.Storage.Conformance;

/// <summary>The exchange-rate schedule and job checkpoints: written once per key, the rate in force, newest-first paging, versions, atomicity.</summary>
public abstract class ExchangeRateStoreConformanceTests(StoreFactory factory) : ConformanceSuite(factory)
{
    private static readonly Address Feeder = Address.Parse("0x70997970c51812dc3a010c7d01b50e0d17dc79c8");

    private static ExchangeRate Rate(int hours, ulong credits, ulong units = 1_000_000_000_000) => new()
    {
        Credits = new TokenAmount(credits),
        TokenUnits = new TokenAmount(units),
        EffectiveAt = Now.AddHours(hours),
        SetBy = Feeder,
        SetAt = Now,
    };

    [Fact]
    public async Task Rates_InForceIsTheLatestAtOrBefore_ListedNewestFirst()
    {
        var store = await Factory.CreateAsync();
        await using (var write = await store.BeginAsync())
        {
            Assert.True(await write.ExchangeRates.TryInsertRateAsync(Rate(0, 1000)));
            Assert.True(await write.ExchangeRates.TryInsertRateAsync(Rate(24, 1200) with { Credits = TokenAmount.MaxValue }));
            Assert.True(await write.ExchangeRates.TryInsertRateAsync(Rate(-24, 800)));
            Assert.False(await write.ExchangeRates.TryInsertRateAsync(Rate(0, 5)));
            await write.CommitAsync();
        }

        await using var read = await store.BeginAsync();
        Assert.Null(await read.ExchangeRates.GetRateInForceAsync(Now.AddHours(-25)));
        Assert.Equal(Rate(-24, 800), await read.ExchangeRates.GetRateInForceAsync(Now.AddTicks(-1)));
        Assert.Equal(Rate(0, 1000), await read.ExchangeRates.GetRateInForceAsync(Now));
        Assert.Equal(Rate(0, 1000), await read.ExchangeRates.GetRateInForceAsync(Now.AddHours(23)));
        Assert.Equal(TokenAmount.MaxValue, (await read.ExchangeRates.GetRateInForceAsync(Now.AddYears(1)))!.Credits);
        Assert.Equal([24, 0, -24], (await read.ExchangeRates.ListRatesAsync(null, 10)).Select(r => (int)(r.EffectiveAt - Now).TotalHours));
        Assert.Equal([0], (await read.ExchangeRates.ListRatesAsync(Now.AddHours(24), 1)).Select(r => (int)(r.EffectiveAt - Now).TotalHours));
        Assert.Empty(await read.ExchangeRates.ListRatesAsync(Now.AddHours(-24), 10));
    }

    [Fact]
    public async Task Checkpoints_InsertedOnce_VersionedUpdates_RolledBackWithTheUnitOfWork()
    {
        var store = await Factory.CreateAsync();
        await using (var write = await store.BeginAsync())
        {
            Assert.Null(await write.Checkpoints.GetCheckpointAsync("revenue:APUS"));
            Assert.True(await write.Checkpoints.TryInsertCheckpointAsync("revenue:APUS", 20_000));
            Assert.False(await write.Checkpoints.TryInsertCheckpointAsync("revenue:APUS", 1));
            await write.Checkpoints.UpdateCheckpointAsync("revenue:APUS", 20_001, 0);
            await RefusedByOrAfterAsync<AnpmConcurrencyException>(write, async () => await write.Checkpoints.UpdateCheckpointAsync("revenue:APUS", 5, 0));
            await RefusedByOrAfterAsync<AnpmException>(write, async () => await write.Checkpoints.UpdateCheckpointAsync("missing", 5, 0));
            await Assert.ThrowsAsync<ArgumentException>(async () => await write.Checkpoints.TryInsertCheckpointAsync("", 5));
            await write.CommitAsync();
        }

        await using (var discarded = await store.BeginAsync())
        {
            await discarded.Checkpoints.UpdateCheckpointAsync("revenue:APUS", 99, 1);
            Assert.True(await discarded.Checkpoints.TryInsertCheckpointAsync("gone", 1));
        }

        await using var read = await store.BeginAsync();
        Assert.Equal(new Checkpoint("revenue:APUS", 20_001, 1), await read.Checkpoints.GetCheckpointAsync("revenue:APUS"));
        Assert.Null(await read.Checkpoints.GetCheckpointAsync("gone"));
    }

    [Fact]
    public async Task DisposeWithoutCommit_KeepsNoRate()
    {
        var store = await Factory.CreateAsync();
        await using (var discarded = await store.BeginAsync())
        {
            Assert.True(await discarded.ExchangeRates.TryInsertRateAsync(Rate(0, 1000)));
        }

        await using var check = await store.BeginAsync();
        Assert.Null(await check.ExchangeRates.GetRateInForceAsync(Now.AddYears(1)));
    }
}

public sealed class InMemoryExchangeRateStoreTests() : ExchangeRateStoreConformanceTests(new InMemoryStoreFactory());

public sealed class SqliteExchangeRateStoreTests() : ExchangeRateStoreConformanceTests(new SqliteStoreFactory());

[Collection(PostgresCollection.Name)]
public sealed class PostgresExchangeRateStoreTests(PostgresServerFixture server) : ExchangeRateStoreConformanceTests(new PostgresStoreFactory(server));
