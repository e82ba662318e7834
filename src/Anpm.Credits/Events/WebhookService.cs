using System.Diagnostics.CodeAnalysis;
using Anpm.Abstractions;
using Microsoft.Extensions.Options;

namespace Anpm.Credits;

/// <summary>Options of webhook delivery (<see cref="WebhookDispatcher"/>).</summary>
public sealed class WebhookOptions
{
    /// <summary>
    /// How long after each failed attempt the next one is made; after the last, the delivery fails. Default: 5 s, 5 min,
    /// 30 min, 2 h, 5 h, 10 h, 10 h (eight attempts over about 27 hours, as Standard Webhooks senders do).
    /// </summary>
    public IList<TimeSpan> RetrySchedule { get; } =
        [TimeSpan.FromSeconds(5), TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(30), TimeSpan.FromHours(2), TimeSpan.FromHours(5), TimeSpan.FromHours(10), TimeSpan.FromHours(10)];

    /// <summary>How long an attempt may take before it counts as failed. Default 10 seconds.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How many deliveries are in flight at once (1 to 256). Default 16.</summary>
    public int MaxParallel { get; set; } = 16;

    /// <summary>How many events are fanned out, and deliveries attempted, per unit of work (1 to 10 000). Default 500.</summary>
    public int BatchSize { get; set; } = 500;

    /// <summary>
    /// How long an event is kept after it was written once every delivery of it ended (delivered or failed); then it is
    /// forgotten with its deliveries. At least 2 days (the retry schedule's 27 hours). Default 7 days.
    /// </summary>
    public TimeSpan Retention { get; set; } = TimeSpan.FromDays(7);
}

/// <summary>An endpoint with its deliveries counted.</summary>
/// <param name="Endpoint">The endpoint.</param>
/// <param name="Deliveries">Its deliveries by state, with their attempts.</param>
/// <param name="LastError">The newest delivery's last error, if any.</param>
public sealed record WebhookEndpointStatus(WebhookEndpoint Endpoint, WebhookDeliveryCounts Deliveries, string? LastError);

/// <summary>The outcome of registering or disabling an endpoint.</summary>
public enum WebhookEndpointResult
{
    /// <summary>Registered.</summary>
    Registered = 1,

    /// <summary>The same endpoint was registered before under this id (a replay).</summary>
    Exists = 2,

    /// <summary>Disabled.</summary>
    Disabled = 3,

    /// <summary>A field is not acceptable; the message names it.</summary>
    Invalid = 4,

    /// <summary>There is no such endpoint, or the id was used for another one.</summary>
    NotFound = 5,

    /// <summary>The id was used for another endpoint.</summary>
    IdTaken = 6,
}

/// <summary>The result of <see cref="WebhookService.RegisterAsync(string, string, string, IReadOnlyList{string}, CancellationToken)"/> and <see cref="WebhookService.DisableAsync(string, CancellationToken)"/>.</summary>
public sealed record WebhookEndpointOutcome(WebhookEndpointResult Result, WebhookEndpoint? Endpoint, string? Error)
{
    /// <summary>Whether the command was refused; then <see cref="Error"/> says why, and nothing changed.</summary>
    [MemberNotNullWhen(true, nameof(Error))]
    [MemberNotNullWhen(false, nameof(Endpoint))]
    public bool IsRefused => Result is not (WebhookEndpointResult.Registered or WebhookEndpointResult.Exists or WebhookEndpointResult.Disabled);
}

/// <summary>Webhook endpoints: register (URL, secret, event types), disable, and read each one's deliveries.</summary>
public sealed class WebhookService(IAnpmStore store, TimeProvider timeProvider)
{
    /// <summary>
    /// Registers an endpoint: an absolute http or https URL of at most 2,048 characters, a secret <c>whsec_</c> + base64 of
    /// 24 to 64 bytes (<see cref="WebhookSignature.NewSecret"/>), and event types of <see cref="AnpmEventTypes.All"/>
    /// (none: every type). It receives the events written from then on. Idempotent by <paramref name="id"/>.
    /// </summary>
    public ValueTask<WebhookEndpointOutcome> RegisterAsync(string id, string url, string secret, IReadOnlyList<string> eventTypes, CancellationToken cancellationToken = default) =>
        store.RunAsync((Service: this, Id: id, Url: url, Secret: secret, EventTypes: eventTypes), static (unitOfWork, r, ct) => r.Service.RegisterAsync(unitOfWork, r.Id, r.Url, r.Secret, r.EventTypes, ct), cancellationToken);

    /// <summary>The same command inside the caller's unit of work, which the caller commits (or ends uncommitted: then nothing of it is kept).</summary>
    public async ValueTask<WebhookEndpointOutcome> RegisterAsync(IAnpmUnitOfWork unitOfWork, string id, string url, string secret, IReadOnlyList<string> eventTypes, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(unitOfWork);
        ArgumentException.ThrowIfNullOrEmpty(id);
        ArgumentNullException.ThrowIfNull(eventTypes);
        var problem = url is null || url.Length > 2048 || !Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || !string.IsNullOrEmpty(uri.UserInfo)
            ? "url must be an absolute http or https URL of at most 2048 characters, without user information."
            : !WebhookSignature.IsValidSecret(secret)
                ? "secret must be whsec_ and the base64 of 24 to 64 bytes."
                : eventTypes.FirstOrDefault(t => !AnpmEventTypes.All.Contains(t, StringComparer.Ordinal)) is { } unknown
                    ? $"'{unknown}' is not an event type ({string.Join(", ", AnpmEventTypes.All)})."
                    : eventTypes.Count != eventTypes.Distinct(StringComparer.Ordinal).Count() ? "an event type is named twice." : null;
        if (problem is not null || id.Length > 64)
        {
            return new WebhookEndpointOutcome(WebhookEndpointResult.Invalid, null, problem ?? "The id is longer than 64 characters.");
        }

        var endpoint = new WebhookEndpoint { Id = id, Url = url!, Secret = secret, EventTypes = [.. eventTypes], CreatedAt = timeProvider.GetUtcNow() };
        if (await unitOfWork.Events.GetEndpointAsync(endpoint.Id, cancellationToken).ConfigureAwait(false) is { } existing)
        {
            return existing.Url == endpoint.Url && existing.Secret == endpoint.Secret && existing.EventTypes.SequenceEqual(endpoint.EventTypes)
                ? new WebhookEndpointOutcome(WebhookEndpointResult.Exists, existing, null)
                : new WebhookEndpointOutcome(WebhookEndpointResult.IdTaken, null, $"Endpoint id '{endpoint.Id}' was used for another endpoint.");
        }

        return await unitOfWork.Events.TryInsertEndpointAsync(endpoint, cancellationToken).ConfigureAwait(false)
            ? new WebhookEndpointOutcome(WebhookEndpointResult.Registered, endpoint, null)
            : throw new AnpmConcurrencyException($"Endpoint '{endpoint.Id}' was registered at the same time; retry.");
    }

    /// <summary>
    /// Disables an endpoint: it takes no more events, and its pending deliveries fail now (in the same unit of work), with
    /// the error "The endpoint is disabled.".
    /// </summary>
    public ValueTask<WebhookEndpointOutcome> DisableAsync(string id, CancellationToken cancellationToken = default) =>
        store.RunAsync((Service: this, Id: id), static (unitOfWork, request, ct) =>
            request.Service.DisableAsync(unitOfWork, request.Id, ct), cancellationToken);

    /// <summary>The same command inside the caller's unit of work, which the caller commits (or ends uncommitted: then nothing of it is kept).</summary>
    public async ValueTask<WebhookEndpointOutcome> DisableAsync(IAnpmUnitOfWork unitOfWork, string id, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(unitOfWork);
        var now = timeProvider.GetUtcNow();
        if (await unitOfWork.Events.GetEndpointAsync(id, cancellationToken).ConfigureAwait(false) is not { } endpoint)
        {
            return new WebhookEndpointOutcome(WebhookEndpointResult.NotFound, null, $"There is no webhook endpoint '{id}'.");
        }

        if (endpoint.DisabledAt is not null)
        {
            return new WebhookEndpointOutcome(WebhookEndpointResult.Disabled, endpoint, null);
        }

        var disabled = endpoint with { DisabledAt = now };
        await unitOfWork.Events.UpdateEndpointAsync(disabled, endpoint.Version, cancellationToken).ConfigureAwait(false);

        // Its pending deliveries end here rather than at their next attempt (which may be hours away).
        long? before = null;
        while (true)
        {
            var page = await unitOfWork.Events.ListDeliveriesAsync(id, before, 500, cancellationToken).ConfigureAwait(false);
            foreach (var delivery in page.Where(static d => d.State == WebhookDeliveryState.Pending))
            {
                await unitOfWork.Events.UpdateDeliveryAsync(delivery with { State = WebhookDeliveryState.Failed, LastError = DisabledError }, delivery.Version, cancellationToken).ConfigureAwait(false);
            }

            if (page.Count < 500)
            {
                break;
            }

            before = page[^1].EventSequence;
        }

        return new WebhookEndpointOutcome(WebhookEndpointResult.Disabled, disabled with { Version = endpoint.Version + 1 }, null);
    }

    /// <summary>The error of a delivery that ended because its endpoint was disabled.</summary>
    public const string DisabledError = "The endpoint is disabled.";

    /// <summary>One endpoint with its deliveries counted and its newest delivery's last error; <see langword="null"/> when there is none.</summary>
    public ValueTask<WebhookEndpointStatus?> GetAsync(string id, CancellationToken cancellationToken = default) =>
        store.RunReadAsync((Service: this, Id: id), static (unitOfWork, request, ct) => request.Service.GetAsync(unitOfWork, request.Id, ct), cancellationToken);

    /// <summary>One endpoint with its deliveries counted, as the caller's unit of work sees it (its own changes included).</summary>
    public async ValueTask<WebhookEndpointStatus?> GetAsync(IAnpmUnitOfWork unitOfWork, string id, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(unitOfWork);
        return await unitOfWork.Events.GetEndpointAsync(id, cancellationToken).ConfigureAwait(false) is { } endpoint
            ? await StatusOfAsync(unitOfWork, endpoint, cancellationToken).ConfigureAwait(false)
            : null;
    }

    private static async ValueTask<WebhookEndpointStatus> StatusOfAsync(IAnpmUnitOfWork unitOfWork, WebhookEndpoint endpoint, CancellationToken ct)
    {
        var counts = await unitOfWork.Events.CountDeliveriesAsync(endpoint.Id, ct).ConfigureAwait(false);
        var newest = await unitOfWork.Events.ListDeliveriesAsync(endpoint.Id, null, 1, ct).ConfigureAwait(false);
        return new WebhookEndpointStatus(endpoint, counts, newest is [{ LastError: { } error }] ? error : null);
    }

    /// <summary>Every endpoint with its deliveries counted and its newest delivery's last error.</summary>
    public ValueTask<IReadOnlyList<WebhookEndpointStatus>> ListAsync(CancellationToken cancellationToken = default) =>
        store.RunReadAsync(0, static async (unitOfWork, _, ct) =>
        {
            var statuses = new List<WebhookEndpointStatus>();
            foreach (var endpoint in await unitOfWork.Events.ListEndpointsAsync(ct).ConfigureAwait(false))
            {
                statuses.Add(await StatusOfAsync(unitOfWork, endpoint, ct).ConfigureAwait(false));
            }

            return (IReadOnlyList<WebhookEndpointStatus>)statuses;
        }, cancellationToken);

    /// <summary>An endpoint's deliveries, newest event first (a page ends before <paramref name="beforeSequence"/>).</summary>
    public ValueTask<IReadOnlyList<WebhookDelivery>> ListDeliveriesAsync(string endpointId, long? beforeSequence, int limit, CancellationToken cancellationToken = default) =>
        store.RunReadAsync((Id: endpointId, Before: beforeSequence, Limit: limit), static (unitOfWork, request, ct) =>
            unitOfWork.Events.ListDeliveriesAsync(request.Id, request.Before, request.Limit, ct), cancellationToken);
}
