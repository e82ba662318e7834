using Anpm.Abstractions;

namespace Anpm.Storage.InMemory;

public sealed partial class InMemoryAnpmStore
{
    private readonly Dictionary<string, Checkpoint> _checkpoints = new(StringComparer.Ordinal);

    private sealed partial class UnitOfWork : ICheckpointStore
    {
        public ValueTask<Checkpoint?> GetCheckpointAsync(string name, bool lockShared = false, CancellationToken cancellationToken = default) =>
            new(name is null ? null : Store._checkpoints.GetValueOrDefault(name));

        public ValueTask<bool> TryInsertCheckpointAsync(string name, long value, CancellationToken cancellationToken = default)
        {
            StoreErrors.CheckCheckpointName(name);
            var store = Writable;
            var checkpoint = new Checkpoint(name, value, 0);
            if (!store._checkpoints.TryAdd(name, checkpoint))
            {
                return new(false);
            }

            store.Record(static (s, entry) => s._checkpoints.Remove(((Checkpoint)entry.Previous!).Name), checkpoint);
            return new(true);
        }

        public ValueTask UpdateCheckpointAsync(string name, long value, long expectedVersion, CancellationToken cancellationToken = default)
        {
            var store = Writable;
            var current = name is null ? null : store._checkpoints.GetValueOrDefault(name);
            if (current is null || current.Version != expectedVersion)
            {
                throw StoreErrors.UpdateRefused("Checkpoint", name ?? string.Empty, expectedVersion, current?.Version);
            }

            store.Record(static (s, entry) => s._checkpoints[((Checkpoint)entry.Previous!).Name] = (Checkpoint)entry.Previous!, current);
            store._checkpoints[current.Name] = current with { Value = value, Version = expectedVersion + 1 };
            return ValueTask.CompletedTask;
        }
    }
}
