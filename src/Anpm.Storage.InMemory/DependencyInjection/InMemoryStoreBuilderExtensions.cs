using Anpm.Abstractions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Anpm.Storage.InMemory;

/// <summary>Registers the in-memory store.</summary>
public static class InMemoryStoreBuilderExtensions
{
    /// <summary>
    /// Uses <see cref="InMemoryAnpmStore"/> as the <see cref="IAnpmStore"/> and <see cref="IJobLockProvider"/> unless a
    /// store is already registered.
    /// Everything is lost when the process ends: for tests and embedding.
    /// </summary>
    /// <returns><paramref name="builder"/>, for chaining.</returns>
    public static IAnpmBuilder UseInMemoryStore(this IAnpmBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.TryAddSingleton<InMemoryAnpmStore>();
        builder.Services.TryAddSingleton<IAnpmStore>(static services => services.GetRequiredService<InMemoryAnpmStore>());
        builder.Services.TryAddSingleton<IJobLockProvider>(static services => services.GetRequiredService<InMemoryAnpmStore>());
        builder.Services.TryAddSingleton<IStoreSchema>(static services => services.GetRequiredService<InMemoryAnpmStore>());
        return builder;
    }
}
