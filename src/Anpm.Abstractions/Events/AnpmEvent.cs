namespace Anpm.Abstractions;

/// <summary>
/// Something that happened (a task done, a contribution paid, a pool's status changed…), written in the same unit of
/// work as the change that caused it — a transactional outbox of events, delivered to webhook endpoints afterwards.
/// </summary>
public sealed record AnpmEvent
{
    /// <summary>The longest event id.</summary>
    public const int MaxIdLength = 64;

    /// <summary>The order the store appended it in (assigned by the store; 0 before).</summary>
    public long Sequence { get; init; }

    /// <summary>Its id (<c>evt_</c> + 32 hex digits, derived from what caused it): receivers deduplicate by it.</summary>
    public required string Id { get; init; }

    /// <summary>Its type, e.g. <c>task.done</c>.</summary>
    public required string Type { get; init; }

    /// <summary>What happened, as a JSON object (text).</summary>
    public required string Data { get; init; }

    /// <summary>When it happened (the commit of its cause).</summary>
    public required DateTimeOffset CreatedAt { get; init; }
}

/// <summary>A receiver of events: an HTTPS (or HTTP) URL, the secret its deliveries are signed with, the types it takes.</summary>
public sealed record WebhookEndpoint
{
    /// <summary>Its id.</summary>
    public required string Id { get; init; }

    /// <summary>Where events are posted.</summary>
    public required string Url { get; init; }

    /// <summary>The signing secret, <c>whsec_</c> + base64 (Standard Webhooks).</summary>
    public required string Secret { get; init; }

    /// <summary>The event types it takes; empty for every type.</summary>
    public required IReadOnlyList<string> EventTypes { get; init; }

    /// <summary>When it was registered.</summary>
    public required DateTimeOffset CreatedAt { get; init; }

    /// <summary>When it was disabled (it gets no more events; pending deliveries stop); <see langword="null"/> while enabled.</summary>
    public DateTimeOffset? DisabledAt { get; init; }

    /// <summary>The store's version of the record, for optimistic updates.</summary>
    public long Version { get; init; }

    /// <summary>Whether it takes events of <paramref name="type"/>.</summary>
    public bool Takes(string type) => DisabledAt is null && (EventTypes.Count == 0 || EventTypes.Contains(type, StringComparer.Ordinal));

    // ToString (and so logs, exception messages and records that hold an endpoint) never shows the secret.
    private bool PrintMembers(System.Text.StringBuilder builder)
    {
        builder.Append("Id = ").Append(Id).Append(", Url = ").Append(Url).Append(", Secret = [redacted], EventTypes = [")
            .AppendJoin(", ", EventTypes).Append("], CreatedAt = ").Append(CreatedAt.ToString("O", System.Globalization.CultureInfo.InvariantCulture))
            .Append(", DisabledAt = ").Append(DisabledAt?.ToString("O", System.Globalization.CultureInfo.InvariantCulture)).Append(", Version = ")
            .Append(Version.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return true;
    }
}

/// <summary>Where a delivery of an event to an endpoint stands.</summary>
public enum WebhookDeliveryState
{
    /// <summary>Not delivered yet; tried again at <see cref="WebhookDelivery.NextAttemptAt"/>.</summary>
    Pending = 1,

    /// <summary>The endpoint answered 2xx.</summary>
    Delivered = 2,

    /// <summary>Every attempt of the retry schedule failed, or the endpoint was disabled: no more attempts.</summary>
    Failed = 3,
}

/// <summary>One event for one endpoint: its attempts, the last answer or error, and when it is tried next.</summary>
public sealed record WebhookDelivery
{
    /// <summary>The event.</summary>
    public required string EventId { get; init; }

    /// <summary>The endpoint.</summary>
    public required string EndpointId { get; init; }

    /// <summary>The event's sequence (deliveries are tried in this order).</summary>
    public required long EventSequence { get; init; }

    /// <summary>Where it stands.</summary>
    public required WebhookDeliveryState State { get; init; }

    /// <summary>How many attempts were made.</summary>
    public int Attempts { get; init; }

    /// <summary>When it is tried next (while <see cref="WebhookDeliveryState.Pending"/>).</summary>
    public required DateTimeOffset NextAttemptAt { get; init; }

    /// <summary>When the last attempt was made.</summary>
    public DateTimeOffset? LastAttemptAt { get; init; }

    /// <summary>The last attempt's HTTP status; <see langword="null"/> before any, or when it got no answer.</summary>
    public int? LastStatus { get; init; }

    /// <summary>The last failure in words (a status and body, a timeout, a refused connection).</summary>
    public string? LastError { get; init; }

    /// <summary>The store's version of the record, for optimistic updates.</summary>
    public long Version { get; init; }
}

/// <summary>A pending delivery with its event, as the dispatcher reads them.</summary>
/// <param name="Delivery">The delivery.</param>
/// <param name="Event">Its event.</param>
public sealed record DueWebhookDelivery(WebhookDelivery Delivery, AnpmEvent Event);

/// <summary>An endpoint's deliveries by state, with their attempts.</summary>
/// <param name="Pending">Deliveries not delivered yet.</param>
/// <param name="Delivered">Deliveries the endpoint took.</param>
/// <param name="Failed">Deliveries given up.</param>
/// <param name="Attempts">Attempts of all its deliveries.</param>
public sealed record WebhookDeliveryCounts(long Pending, long Delivered, long Failed, long Attempts);

/// <summary>Storage of events and their webhook endpoints and deliveries inside a unit of work.</summary>
public interface IEventStore
{
    /// <summary>Appends an event (the store assigns its <see cref="AnpmEvent.Sequence"/>) unless one with its id exists.</summary>
    /// <returns><see langword="false"/> when an event with that id exists; nothing changed.</returns>
    ValueTask<bool> TryAppendEventAsync(AnpmEvent @event, CancellationToken cancellationToken = default);

    /// <summary>Reads an event.</summary>
    ValueTask<AnpmEvent?> GetEventAsync(string id, CancellationToken cancellationToken = default);

    /// <summary>Events not fanned out to endpoints yet, in sequence order.</summary>
    /// <param name="limit">The most events (1 to 10 000).</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    ValueTask<IReadOnlyList<AnpmEvent>> GetEventsToFanOutAsync(int limit, CancellationToken cancellationToken = default);

    /// <summary>Marks events fanned out (their deliveries were created in this unit of work).</summary>
    ValueTask MarkFannedOutAsync(IReadOnlyList<long> sequences, CancellationToken cancellationToken = default);

    /// <summary>Registers an endpoint (at version 0) unless one with its id exists.</summary>
    /// <returns><see langword="false"/> when the id is taken; nothing changed.</returns>
    ValueTask<bool> TryInsertEndpointAsync(WebhookEndpoint endpoint, CancellationToken cancellationToken = default);

    /// <summary>Reads an endpoint.</summary>
    ValueTask<WebhookEndpoint?> GetEndpointAsync(string id, CancellationToken cancellationToken = default);

    /// <summary>Every endpoint, in id order.</summary>
    ValueTask<IReadOnlyList<WebhookEndpoint>> ListEndpointsAsync(CancellationToken cancellationToken = default);

    /// <summary>Replaces an endpoint's <see cref="WebhookEndpoint.DisabledAt"/> if its version is still <paramref name="expectedVersion"/> (then + 1). May be pipelined.</summary>
    /// <exception cref="AnpmConcurrencyException">The endpoint changed meanwhile.</exception>
    ValueTask UpdateEndpointAsync(WebhookEndpoint updated, long expectedVersion, CancellationToken cancellationToken = default);

    /// <summary>Creates a delivery (at version 0) unless the (event, endpoint) has one.</summary>
    /// <returns><see langword="false"/> when it exists; nothing changed.</returns>
    ValueTask<bool> TryInsertDeliveryAsync(WebhookDelivery delivery, CancellationToken cancellationToken = default);

    /// <summary>Pending deliveries due at <paramref name="now"/>, earliest event first, with their events.</summary>
    /// <param name="now">The current time.</param>
    /// <param name="limit">The most deliveries (1 to 10 000).</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    ValueTask<IReadOnlyList<DueWebhookDelivery>> GetDueDeliveriesAsync(DateTimeOffset now, int limit, CancellationToken cancellationToken = default);

    /// <summary>Replaces a delivery's state, attempts, times and last answer if its version is still <paramref name="expectedVersion"/> (then + 1). May be pipelined.</summary>
    /// <exception cref="AnpmConcurrencyException">The delivery changed meanwhile.</exception>
    ValueTask UpdateDeliveryAsync(WebhookDelivery updated, long expectedVersion, CancellationToken cancellationToken = default);

    /// <summary>An endpoint's deliveries, newest event first.</summary>
    /// <param name="endpointId">The endpoint.</param>
    /// <param name="beforeSequence">Only deliveries of events before this sequence; <see langword="null"/> from the newest.</param>
    /// <param name="limit">The most deliveries (1 to 1000).</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    ValueTask<IReadOnlyList<WebhookDelivery>> ListDeliveriesAsync(string endpointId, long? beforeSequence, int limit, CancellationToken cancellationToken = default);

    /// <summary>An endpoint's deliveries counted by state, with their attempts.</summary>
    ValueTask<WebhookDeliveryCounts> CountDeliveriesAsync(string endpointId, CancellationToken cancellationToken = default);

    /// <summary>
    /// Forgets a batch of events written before <paramref name="before"/> that were fanned out and whose deliveries all
    /// ended (delivered or failed), with those deliveries; an event with a pending delivery is kept.
    /// </summary>
    /// <param name="before">Only events written before this time.</param>
    /// <param name="limit">The most events (1 to 10 000).</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>How many events were removed.</returns>
    ValueTask<int> PruneEventsAsync(DateTimeOffset before, int limit, CancellationToken cancellationToken = default);
}
