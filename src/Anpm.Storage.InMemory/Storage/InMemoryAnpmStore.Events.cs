using Anpm.Abstractions;

namespace Anpm.Storage.InMemory;

public sealed partial class InMemoryAnpmStore
{
    // Events by sequence (and their ids), the sequences not fanned out yet; endpoints by id; deliveries by (endpoint, event).
    private readonly SortedList<long, AnpmEvent> _events = [];
    private readonly Dictionary<string, long> _eventIds = new(StringComparer.Ordinal);
    private readonly SortedSet<long> _eventsToFanOut = [];
    private readonly SortedList<string, WebhookEndpoint> _webhookEndpoints = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Endpoint, string Event), WebhookDelivery> _webhookDeliveries = [];
    private long _lastEventSequence;

    private sealed partial class UnitOfWork : IEventStore
    {
        public ValueTask<bool> TryAppendEventAsync(AnpmEvent @event, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(@event);
            if (string.IsNullOrEmpty(@event.Id) || @event.Id.Length > AnpmEvent.MaxIdLength)
            {
                throw new ArgumentException($"An event id is 1 to {AnpmEvent.MaxIdLength} characters.", nameof(@event));
            }

            var store = Writable;
            if (store._eventIds.ContainsKey(@event.Id))
            {
                return new(false);
            }

            var sequence = ++store._lastEventSequence;
            store._events.Add(sequence, @event with { Sequence = sequence });
            store._eventIds.Add(@event.Id, sequence);
            store._eventsToFanOut.Add(sequence);
            store.Record(() =>
            {
                store._events.Remove(sequence);
                store._eventIds.Remove(@event.Id);
                store._eventsToFanOut.Remove(sequence); // the sequence stays used, like a database's
            });
            return new(true);
        }

        public ValueTask<AnpmEvent?> GetEventAsync(string id, CancellationToken cancellationToken = default) =>
            new(id is not null && Store._eventIds.TryGetValue(id, out var sequence) ? Store._events[sequence] : null);

        public ValueTask<IReadOnlyList<AnpmEvent>> GetEventsToFanOutAsync(int limit, CancellationToken cancellationToken = default)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(limit, 10_000);
            var store = Store;
            IReadOnlyList<AnpmEvent> events = store._eventsToFanOut.Take(limit).Select(sequence => store._events[sequence]).ToList();
            return new(events);
        }

        public ValueTask MarkFannedOutAsync(IReadOnlyList<long> sequences, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(sequences);
            var store = Writable;
            foreach (var sequence in sequences)
            {
                if (store._eventsToFanOut.Remove(sequence))
                {
                    store.Record(() => store._eventsToFanOut.Add(sequence));
                }
            }

            return ValueTask.CompletedTask;
        }

        public ValueTask<bool> TryInsertEndpointAsync(WebhookEndpoint endpoint, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(endpoint);
            ArgumentException.ThrowIfNullOrEmpty(endpoint.Id);
            var store = Writable;
            if (!store._webhookEndpoints.TryAdd(endpoint.Id, endpoint with { Version = 0, EventTypes = [.. endpoint.EventTypes] }))
            {
                return new(false);
            }

            store.Record(() => store._webhookEndpoints.Remove(endpoint.Id));
            return new(true);
        }

        public ValueTask<WebhookEndpoint?> GetEndpointAsync(string id, CancellationToken cancellationToken = default) =>
            new(id is null ? null : Store._webhookEndpoints.GetValueOrDefault(id));

        public ValueTask<IReadOnlyList<WebhookEndpoint>> ListEndpointsAsync(CancellationToken cancellationToken = default) =>
            new((IReadOnlyList<WebhookEndpoint>)[.. Store._webhookEndpoints.Values]);

        public ValueTask UpdateEndpointAsync(WebhookEndpoint updated, long expectedVersion, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(updated);
            var store = Writable;
            if (!store._webhookEndpoints.TryGetValue(updated.Id, out var current) || current.Version != expectedVersion)
            {
                throw StoreErrors.UpdateRefused("Webhook endpoint", updated.Id, expectedVersion, current?.Version);
            }

            store._webhookEndpoints[current.Id] = current with { DisabledAt = updated.DisabledAt, Version = current.Version + 1 };
            store.Record(() => store._webhookEndpoints[current.Id] = current);
            return ValueTask.CompletedTask;
        }

        public ValueTask<bool> TryInsertDeliveryAsync(WebhookDelivery delivery, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(delivery);
            var store = Writable;
            var key = (delivery.EndpointId, delivery.EventId);
            if (!store._webhookDeliveries.TryAdd(key, delivery with { Version = 0 }))
            {
                return new(false);
            }

            store.Record(() => store._webhookDeliveries.Remove(key));
            return new(true);
        }

        public ValueTask<IReadOnlyList<DueWebhookDelivery>> GetDueDeliveriesAsync(DateTimeOffset now, int limit, CancellationToken cancellationToken = default)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(limit, 10_000);
            var store = Store;
            IReadOnlyList<DueWebhookDelivery> due = store._webhookDeliveries.Values
                .Where(d => d.State == WebhookDeliveryState.Pending && d.NextAttemptAt <= now)
                .OrderBy(d => d.NextAttemptAt).ThenBy(d => d.EventSequence).ThenBy(d => d.EndpointId, StringComparer.Ordinal)
                .Take(limit)
                .Select(d => new DueWebhookDelivery(d, store._events[store._eventIds[d.EventId]]))
                .ToList();
            return new(due);
        }

        public ValueTask UpdateDeliveryAsync(WebhookDelivery updated, long expectedVersion, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(updated);
            var store = Writable;
            var key = (updated.EndpointId, updated.EventId);
            if (!store._webhookDeliveries.TryGetValue(key, out var current) || current.Version != expectedVersion)
            {
                throw StoreErrors.UpdateRefused("Webhook delivery", $"{updated.EndpointId}/{updated.EventId}", expectedVersion, current?.Version);
            }

            store._webhookDeliveries[key] = updated with { EventSequence = current.EventSequence, Version = current.Version + 1 };
            store.Record(() => store._webhookDeliveries[key] = current);
            return ValueTask.CompletedTask;
        }

        public ValueTask<IReadOnlyList<WebhookDelivery>> ListDeliveriesAsync(string endpointId, long? beforeSequence, int limit, CancellationToken cancellationToken = default)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(limit, 1000);
            IReadOnlyList<WebhookDelivery> deliveries = Store._webhookDeliveries.Values
                .Where(d => d.EndpointId == endpointId && d.EventSequence < (beforeSequence ?? long.MaxValue))
                .OrderByDescending(d => d.EventSequence).Take(limit).ToList();
            return new(deliveries);
        }

        public ValueTask<int> PruneEventsAsync(DateTimeOffset before, int limit, CancellationToken cancellationToken = default)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(limit, 10_000);
            var store = Writable;
            var ended = store._events.Values
                .Where(e => e.CreatedAt < before && !store._eventsToFanOut.Contains(e.Sequence)
                    && !store._webhookDeliveries.Values.Any(d => d.EventId == e.Id && d.State == WebhookDeliveryState.Pending))
                .Take(limit).ToList();
            foreach (var @event in ended)
            {
                var deliveries = store._webhookDeliveries.Where(d => d.Value.EventId == @event.Id).ToList();
                foreach (var (key, _) in deliveries)
                {
                    store._webhookDeliveries.Remove(key);
                }

                store._events.Remove(@event.Sequence);
                store._eventIds.Remove(@event.Id);
                store.Record(() =>
                {
                    store._events.Add(@event.Sequence, @event);
                    store._eventIds.Add(@event.Id, @event.Sequence);
                    foreach (var (key, delivery) in deliveries)
                    {
                        store._webhookDeliveries[key] = delivery;
                    }
                });
            }

            return new(ended.Count);
        }

        public ValueTask<WebhookDeliveryCounts> CountDeliveriesAsync(string endpointId, CancellationToken cancellationToken = default)
        {
            var mine = Store._webhookDeliveries.Values.Where(d => d.EndpointId == endpointId).ToList();
            return new(new WebhookDeliveryCounts(
                mine.Count(d => d.State == WebhookDeliveryState.Pending), mine.Count(d => d.State == WebhookDeliveryState.Delivered),
                mine.Count(d => d.State == WebhookDeliveryState.Failed), mine.Sum(d => (long)d.Attempts)));
        }
    }
}
