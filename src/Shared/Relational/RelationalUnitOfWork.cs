using System.Data.Common;
using Anpm.Abstractions;

namespace Anpm.Storage;

/// <summary>
/// The part of a relational unit of work every dialect shares: the feature stores of <see cref="RelationalSchema.Stores"/>,
/// created on first use over this unit of work's session. A dialect supplies the session (how statements run in its transaction), its
/// ledger store, and the commit.
/// </summary>
internal abstract class RelationalUnitOfWork : IAnpmUnitOfWork, IRelationalSession
{
    // Created on first use, at their index in RelationalSchema.Stores.
    private readonly object?[] _stores = new object?[RelationalSchema.Stores.Length];

    public abstract ILedgerStore Ledger { get; }

    public TStore GetStore<TStore>()
        where TStore : class
    {
        var index = RelationalStore.IndexOf<TStore>.Value;
        if (index < 0)
        {
            return typeof(TStore) == typeof(ILedgerStore) ? (TStore)Ledger : throw StoreErrors.NoSuchStore(typeof(TStore), "relational");
        }

        return (TStore)(_stores[index] ??= RelationalSchema.Stores[index].Create(this));
    }

    public abstract ValueTask<int> WriteAsync(string sql, CancellationToken cancellationToken, params object[] values);

    public abstract ValueTask UpdateOneAsync(string sql, Func<CancellationToken, ValueTask<Exception>> refused, CancellationToken cancellationToken, params object[] values);

    public abstract ValueTask<List<T>> ReadAsync<T>(string sql, Func<DbDataReader, T> read, CancellationToken cancellationToken, params object[] values);

    public abstract ValueTask CommitAsync(CancellationToken cancellationToken = default);

    public abstract ValueTask DisposeAsync();
}
