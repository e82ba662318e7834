using Anpm.Abstractions;

namespace Anpm.Storage.InMemory;

public sealed partial class InMemoryAnpmStore
{
    private SystemState _systemState = SystemState.Initial;

    private sealed partial class UnitOfWork : ISystemStateStore
    {
        public ValueTask<SystemState> GetSystemStateAsync(CancellationToken cancellationToken = default) => new(Store._systemState);

        public ValueTask UpdateSystemStateAsync(SystemState updated, long expectedVersion, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(updated);
            var store = Writable;
            if (store._systemState.Version != expectedVersion)
            {
                throw StoreErrors.UpdateRefused("System state", "system", expectedVersion, store._systemState.Version);
            }

            store.Record(static (s, entry) => s._systemState = (SystemState)entry.Previous!, store._systemState);
            store._systemState = updated with { Version = expectedVersion + 1 };
            return ValueTask.CompletedTask;
        }
    }
}
