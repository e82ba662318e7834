using System.Data.Common;
using Anpm.Abstractions;

namespace Anpm.Storage;

/// <summary>Events and their webhook endpoints and deliveries, for every relational dialect (tables <c>events</c>, <c>webhook_endpoints</c>, <c>webhook_deliveries</c>).</summary>
internal sealed class RelationalEventStore(IRelationalSession session) : IEventStore
{
    private const string EventColumns = "sequence, id, type, data, created_at_ticks";
    private const string EndpointColumns = "id, url, secret, event_types, created_at_ticks, disabled_at_ticks, version";
    private const string DeliveryColumns = "event_id, endpoint_id, event_sequence, state, attempts, next_attempt_at_ticks, last_attempt_at_ticks, last_status, last_error, version";

    public async ValueTask<bool> TryAppendEventAsync(AnpmEvent @event, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(@event);
        CheckId(@event.Id, AnpmEvent.MaxIdLength, "An event id");
        return await session.WriteAsync("INSERT INTO events (id, type, data, created_at_ticks) VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO NOTHING", cancellationToken,
            @event.Id, @event.Type, @event.Data, @event.CreatedAt.UtcTicks).ConfigureAwait(false) == 1;
    }

    public ValueTask<AnpmEvent?> GetEventAsync(string id, CancellationToken cancellationToken = default) =>
        string.IsNullOrEmpty(id) ? default : session.OneAsync($"SELECT {EventColumns} FROM events WHERE id = $1", static r => ReadEvent(r, 0), cancellationToken, id);

    public async ValueTask<IReadOnlyList<AnpmEvent>> GetEventsToFanOutAsync(int limit, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(limit, 10_000);
        return await session.ReadAsync($"SELECT {EventColumns} FROM events WHERE fanned_out = 0 ORDER BY sequence LIMIT $1", static r => ReadEvent(r, 0), cancellationToken, limit)
            .ConfigureAwait(false);
    }

    public async ValueTask MarkFannedOutAsync(IReadOnlyList<long> sequences, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(sequences);
        foreach (var sequence in sequences)
        {
            await session.WriteAsync("UPDATE events SET fanned_out = 1 WHERE sequence = $1", cancellationToken, sequence).ConfigureAwait(false);
        }
    }

    public async ValueTask<bool> TryInsertEndpointAsync(WebhookEndpoint endpoint, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        CheckId(endpoint.Id, 64, "An endpoint id");
        return await session.WriteAsync($"INSERT INTO webhook_endpoints ({EndpointColumns}) VALUES ($1, $2, $3, $4, $5, $6, 0) ON CONFLICT (id) DO NOTHING", cancellationToken,
            endpoint.Id, endpoint.Url, endpoint.Secret, string.Join(",", endpoint.EventTypes), endpoint.CreatedAt.UtcTicks, RelationalSessionExtensions.OrNull(endpoint.DisabledAt))
            .ConfigureAwait(false) == 1;
    }

    public ValueTask<WebhookEndpoint?> GetEndpointAsync(string id, CancellationToken cancellationToken = default) =>
        string.IsNullOrEmpty(id) ? default : session.OneAsync($"SELECT {EndpointColumns} FROM webhook_endpoints WHERE id = $1", ReadEndpoint, cancellationToken, id);

    public async ValueTask<IReadOnlyList<WebhookEndpoint>> ListEndpointsAsync(CancellationToken cancellationToken = default) =>
        await session.ReadAsync($"SELECT {EndpointColumns} FROM webhook_endpoints ORDER BY id", ReadEndpoint, cancellationToken).ConfigureAwait(false);

    public ValueTask UpdateEndpointAsync(WebhookEndpoint updated, long expectedVersion, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(updated);
        return session.UpdateOneAsync("UPDATE webhook_endpoints SET disabled_at_ticks = $2, version = version + 1 WHERE id = $1 AND version = $3",
            async ct => StoreErrors.UpdateRefused("Webhook endpoint", updated.Id, expectedVersion, (await GetEndpointAsync(updated.Id, ct).ConfigureAwait(false))?.Version),
            cancellationToken, updated.Id, RelationalSessionExtensions.OrNull(updated.DisabledAt), expectedVersion);
    }

    public async ValueTask<bool> TryInsertDeliveryAsync(WebhookDelivery delivery, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(delivery);
        return await session.WriteAsync($"INSERT INTO webhook_deliveries ({DeliveryColumns}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 0) ON CONFLICT (endpoint_id, event_id) DO NOTHING",
            cancellationToken, delivery.EventId, delivery.EndpointId, delivery.EventSequence, (int)delivery.State, delivery.Attempts, delivery.NextAttemptAt.UtcTicks,
            RelationalSessionExtensions.OrNull(delivery.LastAttemptAt), RelationalSessionExtensions.OrNull(delivery.LastStatus), RelationalSessionExtensions.OrNull(delivery.LastError))
            .ConfigureAwait(false) == 1;
    }

    public async ValueTask<IReadOnlyList<DueWebhookDelivery>> GetDueDeliveriesAsync(DateTimeOffset now, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(limit, 10_000);
        return await session.ReadAsync(
            "SELECT d.event_id, d.endpoint_id, d.event_sequence, d.state, d.attempts, d.next_attempt_at_ticks, d.last_attempt_at_ticks, d.last_status, d.last_error, d.version, "
            + "e.sequence, e.id, e.type, e.data, e.created_at_ticks FROM webhook_deliveries d JOIN events e ON e.id = d.event_id "
            + "WHERE d.state = 1 AND d.next_attempt_at_ticks <= $1 ORDER BY d.next_attempt_at_ticks, d.event_sequence LIMIT $2",
            static r => new DueWebhookDelivery(ReadDelivery(r), ReadEvent(r, 10)), cancellationToken, now.UtcTicks, limit).ConfigureAwait(false);
    }

    public ValueTask UpdateDeliveryAsync(WebhookDelivery updated, long expectedVersion, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(updated);
        return session.UpdateOneAsync(
            "UPDATE webhook_deliveries SET state = $3, attempts = $4, next_attempt_at_ticks = $5, last_attempt_at_ticks = $6, last_status = $7, last_error = $8, version = version + 1 "
            + "WHERE endpoint_id = $1 AND event_id = $2 AND version = $9",
            async ct => StoreErrors.UpdateRefused("Webhook delivery", $"{updated.EndpointId}/{updated.EventId}", expectedVersion,
                (await session.ReadAsync("SELECT version FROM webhook_deliveries WHERE endpoint_id = $1 AND event_id = $2", static r => r.GetInt64(0), ct, updated.EndpointId, updated.EventId)
                    .ConfigureAwait(false)) is [var current] ? current : null),
            cancellationToken, updated.EndpointId, updated.EventId, (int)updated.State, updated.Attempts, updated.NextAttemptAt.UtcTicks,
            RelationalSessionExtensions.OrNull(updated.LastAttemptAt), RelationalSessionExtensions.OrNull(updated.LastStatus), RelationalSessionExtensions.OrNull(updated.LastError),
            expectedVersion);
    }

    public async ValueTask<IReadOnlyList<WebhookDelivery>> ListDeliveriesAsync(string endpointId, long? beforeSequence, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(limit, 1000);
        return await session.ReadAsync(
            $"SELECT {DeliveryColumns} FROM webhook_deliveries WHERE endpoint_id = $1 AND event_sequence < $2 ORDER BY event_sequence DESC LIMIT $3", ReadDelivery, cancellationToken,
            endpointId ?? string.Empty, beforeSequence ?? long.MaxValue, limit).ConfigureAwait(false);
    }

    public async ValueTask<WebhookDeliveryCounts> CountDeliveriesAsync(string endpointId, CancellationToken cancellationToken = default)
    {
        var rows = await session.ReadAsync("SELECT state, count(*), coalesce(sum(attempts), 0) FROM webhook_deliveries WHERE endpoint_id = $1 GROUP BY state",
            static r => (State: (WebhookDeliveryState)r.GetInt32(0), Count: r.GetInt64(1), Attempts: r.GetInt64(2)), cancellationToken, endpointId ?? string.Empty).ConfigureAwait(false);
        long Of(WebhookDeliveryState state) => rows.Where(row => row.State == state).Sum(row => row.Count);
        return new WebhookDeliveryCounts(Of(WebhookDeliveryState.Pending), Of(WebhookDeliveryState.Delivered), Of(WebhookDeliveryState.Failed), rows.Sum(row => row.Attempts));
    }

    public async ValueTask<int> PruneEventsAsync(DateTimeOffset before, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(limit, 10_000);
        const string Ended = "SELECT e.sequence FROM events e WHERE e.created_at_ticks < $1 AND e.fanned_out = 1 "
            + "AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.event_id = e.id AND d.state = 1) ORDER BY e.sequence LIMIT $2";
        var sequences = await session.ReadAsync(Ended, static r => r.GetInt64(0), cancellationToken, before.UtcTicks, limit).ConfigureAwait(false);
        foreach (var sequence in sequences)
        {
            await session.WriteAsync("DELETE FROM webhook_deliveries WHERE event_sequence = $1", cancellationToken, sequence).ConfigureAwait(false);
            await session.WriteAsync("DELETE FROM events WHERE sequence = $1", cancellationToken, sequence).ConfigureAwait(false);
        }

        return sequences.Count;
    }

    private static void CheckId(string id, int maxLength, string what)
    {
        if (string.IsNullOrEmpty(id) || id.Length > maxLength)
        {
            throw new ArgumentException($"{what} is 1 to {maxLength} characters.", nameof(id));
        }
    }

    private static AnpmEvent ReadEvent(DbDataReader r, int at) => new()
    {
        Sequence = r.GetInt64(at),
        Id = r.GetString(at + 1),
        Type = r.GetString(at + 2),
        Data = r.GetString(at + 3),
        CreatedAt = new DateTimeOffset(r.GetInt64(at + 4), TimeSpan.Zero),
    };

    private static WebhookEndpoint ReadEndpoint(DbDataReader r) => new()
    {
        Id = r.GetString(0),
        Url = r.GetString(1),
        Secret = r.GetString(2),
        EventTypes = r.GetString(3).Split(',', StringSplitOptions.RemoveEmptyEntries),
        CreatedAt = new DateTimeOffset(r.GetInt64(4), TimeSpan.Zero),
        DisabledAt = r.IsDBNull(5) ? null : new DateTimeOffset(r.GetInt64(5), TimeSpan.Zero),
        Version = r.GetInt64(6),
    };

    private static WebhookDelivery ReadDelivery(DbDataReader r) => new()
    {
        EventId = r.GetString(0),
        EndpointId = r.GetString(1),
        EventSequence = r.GetInt64(2),
        State = (WebhookDeliveryState)r.GetInt32(3),
        Attempts = r.GetInt32(4),
        NextAttemptAt = new DateTimeOffset(r.GetInt64(5), TimeSpan.Zero),
        LastAttemptAt = r.IsDBNull(6) ? null : new DateTimeOffset(r.GetInt64(6), TimeSpan.Zero),
        LastStatus = r.IsDBNull(7) ? null : r.GetInt32(7),
        LastError = r.IsDBNull(8) ? null : r.GetString(8),
        Version = r.GetInt64(9),
    };
}
