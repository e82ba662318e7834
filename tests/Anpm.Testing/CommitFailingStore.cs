using Anpm.Abstractions;

namespace Anpm.Testing;

/// <summary>
/// A store whose writing units of work fail their commit whenever <paramref name="failure"/> returns an exception (it is
/// asked once per commit): nothing of that unit of work is kept, as when a process stops or a disk fails before the
/// commit. Everything else goes to <paramref name="inner"/>.
/// </summary>
public sealed class CommitFailingStore(IAnpmStore inner, Func<Exception?> failure) : IAnpmStore
{
    /// <inheritdoc />
    public async ValueTask<IAnpmUnitOfWork> BeginAsync(CancellationToken cancellationToken = default) =>
        new UnitOfWork(await inner.BeginAsync(cancellationToken), failure);

    /// <inheritdoc />
    public ValueTask<IAnpmUnitOfWork> BeginReadAsync(CancellationToken cancellationToken = default) => inner.BeginReadAsync(cancellationToken);

    private sealed class UnitOfWork(IAnpmUnitOfWork inner, Func<Exception?> failure) : IAnpmUnitOfWork
    {
        public TStore GetStore<TStore>()
            where TStore : class => inner.GetStore<TStore>();

        public ValueTask CommitAsync(CancellationToken cancellationToken = default) =>
            failure() is { } exception ? throw exception : inner.CommitAsync(cancellationToken);

        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }
}
