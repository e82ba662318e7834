using Anpm.Abstractions;

namespace Anpm.Storage.Conformance;

/// <summary>A store reports its schema version: a fresh store is at its code's version.</summary>
public abstract class StoreSchemaConformanceTests(StoreFactory factory) : ConformanceSuite(factory)
{
    [Fact]
    public async Task FreshStore_AtItsCodesVersion()
    {
        var store = await Factory.CreateAsync();
        var version = await ((IStoreSchema)store).GetSchemaVersionAsync();
        Assert.True(version.IsCurrent, version.ToString());
        Assert.True(version.Code >= 1);
        await using var unitOfWork = await store.BeginAsync(); // still usable
        Assert.Equal(SystemState.Initial, await unitOfWork.System.GetSystemStateAsync());
    }
}

public sealed class InMemoryStoreSchemaTests() : StoreSchemaConformanceTests(new InMemoryStoreFactory());

public sealed class SqliteStoreSchemaTests() : StoreSchemaConformanceTests(new SqliteStoreFactory());

[Collection(PostgresCollection.Name)]
public sealed class PostgresStoreSchemaTests(PostgresServerFixture server) : StoreSchemaConformanceTests(new PostgresStoreFactory(server));
