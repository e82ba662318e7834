using Anpm.Abstractions;

namespace Anpm.Storage.InMemory;

public sealed partial class InMemoryAnpmStore
{
    private readonly Dictionary<string, OutgoingTransfer> _outbox = new(StringComparer.Ordinal);

    private sealed partial class UnitOfWork : IOutboxStore
    {
        public ValueTask<bool> TryInsertOutgoingAsync(OutgoingTransfer transfer, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(transfer);
            var store = Writable;
            if (!store._outbox.TryAdd(RequiredKey(transfer.Id), transfer))
            {
                return new ValueTask<bool>(false);
            }

            store.Record(static (s, entry) => s._outbox.Remove(((OutgoingTransfer)entry.Previous!).Id.Value!), transfer);
            return new ValueTask<bool>(true);
        }

        public ValueTask<OutgoingTransfer?> GetOutgoingAsync(TransferId id, CancellationToken cancellationToken = default) =>
            new(Store._outbox.GetValueOrDefault(Key(id)));

        public ValueTask<IReadOnlyList<OutgoingTransfer>> GetOutgoingInStateAsync(OutgoingTransferState state, TransferId? after, int limit, CancellationToken cancellationToken = default)
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
            var from = after?.Value;
            IReadOnlyList<OutgoingTransfer> found = Store._outbox.Values
                .Where(t => t.State == state && (from is null || string.CompareOrdinal(t.Id.Value, from) > 0))
                .OrderBy(t => t.Id.Value, StringComparer.Ordinal)
                .Take(limit)
                .ToList();
            return new(found);
        }

        public ValueTask<IReadOnlyList<OutgoingTransfer>> GetDueOutgoingAsync(DateTimeOffset now, int limit, CancellationToken cancellationToken = default)
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
            IReadOnlyList<OutgoingTransfer> due = Store._outbox.Values
                .Where(t => t.State is OutgoingTransferState.Pending or OutgoingTransferState.Dispatched && t.NextAttemptAt <= now)
                .OrderBy(t => t.NextAttemptAt)
                .ThenBy(t => t.Id.Value, StringComparer.Ordinal)
                .Take(limit)
                .ToList();
            return new(due);
        }

        public ValueTask UpdateOutgoingAsync(OutgoingTransfer updated, long expectedVersion, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(updated);
            var store = Writable;
            if (!store._outbox.TryGetValue(Key(updated.Id), out var current))
            {
                throw StoreErrors.UpdateRefused("Outgoing transfer", updated.Id, expectedVersion, null);
            }

            if (current.Version != expectedVersion)
            {
                throw StoreErrors.UpdateRefused("Outgoing transfer", updated.Id, expectedVersion, current.Version);
            }

            store.Record(static (s, entry) => s._outbox[((OutgoingTransfer)entry.Previous!).Id.Value!] = (OutgoingTransfer)entry.Previous!, current);
            store._outbox[updated.Id.Value!] = current with
            {
                State = updated.State,
                Attempts = updated.Attempts,
                NextAttemptAt = updated.NextAttemptAt,
                ExternalReference = updated.ExternalReference,
                Version = current.Version + 1,
            };
            return ValueTask.CompletedTask;
        }
    }
}
