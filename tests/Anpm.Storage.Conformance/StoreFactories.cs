using Anpm.Abstractions;
using Anpm.Storage.InMemory;
using Anpm.Storage.Postgres;
using Anpm.Storage.Sqlite;
using Anpm.Testing;
using Microsoft.Extensions.Options;

namespace Anpm.Storage.Conformance;

/// <summary>Creates fresh, empty stores of one kind for a test, and removes them afterwards.</summary>
public abstract class StoreFactory : IAsyncDisposable
{
    private readonly List<object> _created = [];

    /// <summary>How many operations the random simulation runs against this kind of store.</summary>
    public abstract int SimulationOperations { get; }

    /// <summary>A new, empty store.</summary>
    public abstract Task<IAnpmStore> CreateAsync();

    /// <summary>Whether a read-only unit of work runs beside an open writing one (the in-memory store's take turns).</summary>
    public virtual bool ServesReadersBesideWriter => true;

    /// <summary>
    /// Another instance over the same data as <paramref name="first"/> (another host process on the same database);
    /// the in-memory store has no other instance and returns itself.
    /// </summary>
    public abstract Task<IAnpmStore> OpenAnotherInstanceAsync(IAnpmStore first);

    public virtual async ValueTask DisposeAsync()
    {
        foreach (var created in _created)
        {
            if (created is IAsyncDisposable disposable)
            {
                await disposable.DisposeAsync();
            }
        }

        GC.SuppressFinalize(this);
    }

    protected T Track<T>(T created)
        where T : notnull
    {
        _created.Add(created);
        return created;
    }
}

public sealed class InMemoryStoreFactory : StoreFactory
{
    public override int SimulationOperations => 100_000;

    public override bool ServesReadersBesideWriter => false;

    public override Task<IAnpmStore> CreateAsync() => Task.FromResult<IAnpmStore>(new InMemoryAnpmStore());

    public override Task<IAnpmStore> OpenAnotherInstanceAsync(IAnpmStore first) => Task.FromResult(first);
}

public sealed class SqliteStoreFactory : StoreFactory
{
    private readonly string _folder = Directory.CreateTempSubdirectory("anpm-sqlite-").FullName;
    private readonly Dictionary<IAnpmStore, string> _paths = [];

    public override int SimulationOperations => 50_000;

    public static SqliteAnpmStore Open(string path) =>
        new(Options.Create(new SqliteStoreOptions { ConnectionString = $"Data Source={path};Pooling=false" }), TimeProvider.System);

    public string PathOf(IAnpmStore store) => _paths[store];

    public override Task<IAnpmStore> CreateAsync()
    {
        var path = Path.Combine(_folder, Guid.NewGuid().ToString("N") + ".db");
        var store = Track(Open(path));
        _paths[store] = path;
        return Task.FromResult<IAnpmStore>(store);
    }

    public override Task<IAnpmStore> OpenAnotherInstanceAsync(IAnpmStore first)
    {
        var store = Track(Open(_paths[first]));
        _paths[store] = _paths[first];
        return Task.FromResult<IAnpmStore>(store);
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        Directory.Delete(_folder, recursive: true);
    }
}

public sealed class PostgresStoreFactory(PostgresServerFixture server) : StoreFactory
{
    private readonly Dictionary<IAnpmStore, string> _schemas = [];

    public override int SimulationOperations => 30_000;

    public string ConnectionString => server.Server.ConnectionString;

    public string SchemaOf(IAnpmStore store) => _schemas[store];

    public static PostgresAnpmStore Open(string connectionString, string schema) =>
        new(Options.Create(new PostgresStoreOptions { ConnectionString = connectionString, Schema = schema }), TimeProvider.System);

    public override Task<IAnpmStore> CreateAsync()
    {
        var schema = "t" + Guid.NewGuid().ToString("N")[..16];
        return Task.FromResult(Register(Open(ConnectionString, schema), schema));
    }

    public override Task<IAnpmStore> OpenAnotherInstanceAsync(IAnpmStore first) =>
        Task.FromResult(Register(Open(ConnectionString, _schemas[first]), _schemas[first]));

    private IAnpmStore Register(PostgresAnpmStore store, string schema)
    {
        Track(store);
        _schemas[store] = schema;
        return store;
    }
}

/// <summary>One PostgreSQL server for every test of the "postgres" collection.</summary>
public sealed class PostgresServerFixture : IAsyncLifetime
{
    private PostgresTestServer? _server;

    public PostgresTestServer Server => _server ?? throw new InvalidOperationException("The PostgreSQL server has not started.");

    public async Task InitializeAsync() => _server = await PostgresTestServer.StartAsync();

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}

[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<PostgresServerFixture>
{
    public const string Name = "postgres";
}
