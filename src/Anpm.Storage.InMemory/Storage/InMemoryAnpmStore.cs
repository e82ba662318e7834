using Anpm.Abstractions;

namespace Anpm.Storage.InMemory;

/// <summary>
/// A thread-safe store that keeps everything in memory, for tests and for embedding where nothing must outlive the
/// process. Units of work run one at a time (serializable by construction); a unit of work writes through and keeps an
/// undo log, so rolling back restores exactly the state it found.
/// </summary>
/// <remarks>
/// One partial file per feature store (<c>InMemoryAnpmStore.&lt;Feature&gt;.cs</c>) holds that feature's maps and adds its
/// store interface to the unit of work, which <see cref="IAnpmUnitOfWork.GetStore{TStore}"/> then finds; every change
/// records how to undo itself in the one undo log.
/// </remarks>
public sealed partial class InMemoryAnpmStore : IAnpmStore, IJobLockProvider, IStoreSchema
{
    private readonly AsyncExclusiveLock _gate = new();
    private readonly InProcessJobLockProvider _jobLocks = new();
    private readonly List<UndoEntry> _undo = [];

    /// <summary>The in-memory store has no stored schema: it is always at its code's version (1).</summary>
    public ValueTask<StoreSchemaVersion> GetSchemaVersionAsync(CancellationToken cancellationToken = default) => new(new StoreSchemaVersion(1, 1));

    /// <inheritdoc />
    public ValueTask<IAnpmUnitOfWork> BeginAsync(CancellationToken cancellationToken = default)
    {
        var wait = _gate.EnterAsync(cancellationToken);
        return wait.IsCompletedSuccessfully
            ? new ValueTask<IAnpmUnitOfWork>(new UnitOfWork(this))
            : BeginSlowAsync(wait);
    }

    /// <inheritdoc />
    /// <remarks>
    /// Units of work write through to the shared maps, so a reader takes the same turn as a writer (one at a time); it
    /// refuses writes. The in-memory store does not serve readers beside a running writer.
    /// </remarks>
    public async ValueTask<IAnpmUnitOfWork> BeginReadAsync(CancellationToken cancellationToken = default)
    {
        await _gate.EnterAsync(cancellationToken).ConfigureAwait(false);
        return new UnitOfWork(this) { ReadOnly = true };
    }

    /// <inheritdoc />
    public ValueTask<IAsyncDisposable?> TryAcquireAsync(string key, CancellationToken cancellationToken = default) =>
        _jobLocks.TryAcquireAsync(key, cancellationToken);

    private async ValueTask<IAnpmUnitOfWork> BeginSlowAsync(ValueTask wait)
    {
        await wait.ConfigureAwait(false);
        return new UnitOfWork(this);
    }

    // Appends one change to the undo log: how to undo it, and what that needs (the previous or inserted record; an
    // account's previous totals). A static undo allocates nothing beyond the entry, so the ledger's path stays cheap.
    private void Record(Action<InMemoryAnpmStore, UndoEntry> undo, object? previous, AccountTotals previousTotals = default) =>
        _undo.Add(new UndoEntry(undo, previous, previousTotals));

    // A change whose undo needs more than one record: the closure holds it.
    private void Record(Action undo) => Record(static (_, entry) => ((Action)entry.Previous!)(), undo);

    private void Rollback()
    {
        for (var i = _undo.Count - 1; i >= 0; i--)
        {
            var entry = _undo[i];
            entry.Undo(this, entry);
        }

        _undo.Clear();
    }

    // The default id has no text; it is never stored, so looking it up finds nothing.
    private static string Key<T>(T id)
        where T : struct, IIdentifier<T> => id.Value ?? string.Empty;

    private static string RequiredKey<T>(T id)
        where T : struct, IIdentifier<T> =>
        id.Value ?? throw new ArgumentException($"The default {typeof(T).Name} cannot be stored.", nameof(id));

    // One change to undo. Kept small: every write of a unit of work appends one, and a transfer writes three.
    private readonly record struct UndoEntry(Action<InMemoryAnpmStore, UndoEntry> Undo, object? Previous, AccountTotals PreviousTotals);

    // The unit of work is every feature store at once: each feature's partial file adds its interface.
    private sealed partial class UnitOfWork(InMemoryAnpmStore store) : IAnpmUnitOfWork
    {
        private InMemoryAnpmStore? _store = store;
        private bool _committed;

        /// <summary>Whether writes are refused (a read-only unit of work).</summary>
        public bool ReadOnly { get; init; }

        private InMemoryAnpmStore Store => _store ?? throw new ObjectDisposedException(nameof(IAnpmUnitOfWork));

        private InMemoryAnpmStore Writable =>
            _committed ? throw new InvalidOperationException("The unit of work was committed; begin a new one.")
            : ReadOnly ? throw new InvalidOperationException("This unit of work is read-only (BeginReadAsync); begin a writing one to change anything.")
            : Store;

        public TStore GetStore<TStore>()
            where TStore : class =>
            this as TStore ?? throw StoreErrors.NoSuchStore(typeof(TStore), "in-memory");

        public ValueTask CommitAsync(CancellationToken cancellationToken = default)
        {
            var store = Store;
            if (_committed)
            {
                throw new InvalidOperationException("The unit of work was committed; begin a new one.");
            }

            cancellationToken.ThrowIfCancellationRequested();
            store._undo.Clear();
            _committed = true;
            return ValueTask.CompletedTask;
        }

        public ValueTask DisposeAsync()
        {
            var store = _store;
            if (store is null)
            {
                return ValueTask.CompletedTask;
            }

            _store = null;
            if (!_committed)
            {
                store.Rollback();
            }

            store._gate.Exit();
            return ValueTask.CompletedTask;
        }
    }
}
