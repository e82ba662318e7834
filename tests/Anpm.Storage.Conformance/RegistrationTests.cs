using Anpm.Abstractions;
using Anpm.Credits;
using Anpm.Storage.Postgres;
using Anpm.Storage.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Anpm.Storage.Conformance;

public sealed class SqliteRegistrationTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("anpm-di-").FullName;

    [Fact]
    public async Task UseSqlite_CalledTwice_OneStoreAndMigratedWhenTheHostStarts()
    {
        var path = Path.Combine(_folder, "di.db");
        var services = new ServiceCollection();
        services.AddAnpm(anpm => anpm.AddLedger().UseSqlite($"Data Source={path}"));
        services.AddAnpm(anpm => anpm.AddLedger().UseSqlite($"Data Source={path}"));
        AssertRegisteredOnce(services);

        await using var provider = services.BuildServiceProvider();
        var store = provider.GetRequiredService<SqliteAnpmStore>();
        Assert.Same(store, provider.GetRequiredService<IAnpmStore>());
        Assert.Same(store, provider.GetRequiredService<IJobLockProvider>());
        Assert.False(File.Exists(path));
        foreach (var hosted in provider.GetServices<IHostedService>())
        {
            await hosted.StartAsync(CancellationToken.None);
        }

        Assert.True(File.Exists(path));
        var ledger = provider.GetRequiredService<Ledger>();
        Assert.Equal(CreateAccountResult.Created, await ledger.CreateAccountAsync(new NewAccount(AccountId.Parse("a"), WellKnownAssets.Apus, AccountFlags.None)));
    }

    [Fact]
    public void UseSqlite_EmptyConnectionString_FailsNamingTheOption()
    {
        using var provider = new ServiceCollection().AddAnpm(anpm => anpm.UseSqlite("")).BuildServiceProvider();
        var error = Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(() => provider.GetRequiredService<IAnpmStore>());
        Assert.Contains("SqliteStoreOptions.ConnectionString is required", error.Message, StringComparison.Ordinal);
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    // Calling Use… again may configure again (the last configuration wins) but never registers a service twice.
    internal static void AssertRegisteredOnce(IServiceCollection services)
    {
        foreach (var type in new[] { typeof(IAnpmStore), typeof(IJobLockProvider), typeof(IHostedService), typeof(Ledger), typeof(TimeProvider) })
        {
            Assert.Single(services, d => d.ServiceType == type);
        }
    }
}

[Collection(PostgresCollection.Name)]
public sealed class PostgresRegistrationTests(PostgresServerFixture server)
{
    [Fact]
    public async Task UsePostgres_CalledTwice_OneStoreAndMigratedWhenTheHostStarts()
    {
        var schema = "di" + Guid.NewGuid().ToString("N")[..12];
        var services = new ServiceCollection();
        services.AddAnpm(anpm => anpm.AddLedger().UsePostgres(server.Server.ConnectionString, o => o.Schema = schema));
        services.AddAnpm(anpm => anpm.UsePostgres(server.Server.ConnectionString, o => o.Schema = schema));
        SqliteRegistrationTests.AssertRegisteredOnce(services);

        await using var provider = services.BuildServiceProvider();
        var store = provider.GetRequiredService<PostgresAnpmStore>();
        Assert.Same(store, provider.GetRequiredService<IAnpmStore>());
        Assert.Same(store, provider.GetRequiredService<IJobLockProvider>());
        foreach (var hosted in provider.GetServices<IHostedService>())
        {
            await hosted.StartAsync(CancellationToken.None);
        }

        var ledger = provider.GetRequiredService<Ledger>();
        Assert.Equal(CreateAccountResult.Created, await ledger.CreateAccountAsync(new NewAccount(AccountId.Parse("a"), WellKnownAssets.Apus, AccountFlags.None)));
    }
}
