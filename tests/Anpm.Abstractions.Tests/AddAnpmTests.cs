using Anpm.Abstractions;
using Anpm.Storage.InMemory;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Anpm.Abstractions.Tests;

public sealed class AddAnpmTests
{
    [Fact]
    public void AddAnpm_CalledTwice_RegistersEachServiceOnce()
    {
        var services = new ServiceCollection();
        services.AddAnpm(anpm => anpm.UseInMemoryStore());
        var count = services.Count;
        services.AddAnpm(anpm => anpm.UseInMemoryStore());
        Assert.Equal(count, services.Count);
        Assert.Single(services, d => d.ServiceType == typeof(TimeProvider));
        Assert.Single(services, d => d.ServiceType == typeof(IAnpmStore));
    }

    [Fact]
    public void AddAnpm_KeepsTimeProviderAlreadyRegistered()
    {
        var services = new ServiceCollection();
        var clock = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        services.AddSingleton<TimeProvider>(clock);
        services.AddAnpm();
        using var provider = services.BuildServiceProvider();
        Assert.Same(clock, provider.GetRequiredService<TimeProvider>());
    }

    [Fact]
    public void UseInMemoryStore_ResolvesOneSharedStore()
    {
        using var provider = new ServiceCollection().AddAnpm(anpm => anpm.UseInMemoryStore()).BuildServiceProvider();
        Assert.Same(provider.GetRequiredService<InMemoryAnpmStore>(), provider.GetRequiredService<IAnpmStore>());
    }

}
