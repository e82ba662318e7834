using System.Globalization;
using System.Text;
using Anpm.Abstractions;
using Microsoft.Extensions.Options;

namespace Anpm.Credits;

/// <summary>
/// Delivers events to webhook endpoints, at least once: it fans each new event out to the endpoints that take its type
/// (a delivery row per endpoint, written with the event marked fanned out), then posts due deliveries — signed the
/// Standard Webhooks way (<c>webhook-id</c>, <c>webhook-timestamp</c>, <c>webhook-signature</c>) — and records each
/// answer: 2xx delivered; otherwise tried again after the next step of <see cref="WebhookOptions.RetrySchedule"/>, and
/// failed after the last. A delivery sent but not yet recorded when the process stops is sent again: receivers
/// deduplicate by <c>webhook-id</c>. Run <see cref="RunAsync"/> on one instance at a time (the host's job lease).
/// </summary>
public sealed class WebhookDispatcher : IDisposable
{
    private readonly IAnpmStore _store;
    private readonly TimeProvider _timeProvider;
    private readonly WebhookOptions _options;
    private readonly HttpClient _http;

    /// <summary>Creates the dispatcher.</summary>
    /// <param name="store">The store.</param>
    /// <param name="options">The retry schedule, timeout, parallelism and batch size.</param>
    /// <param name="timeProvider">The clock of the retry schedule.</param>
    /// <param name="handler">How requests are sent; a pooled socket handler (no redirects followed) when null.</param>
    /// <exception cref="OptionsValidationException">An option is out of range.</exception>
    public WebhookDispatcher(IAnpmStore store, IOptions<WebhookOptions> options, TimeProvider timeProvider, HttpMessageHandler? handler = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(timeProvider);
        _store = store;
        _timeProvider = timeProvider;
        _options = ValidatedOptions.Value(options, new WebhookOptionsValidator());

        _http = new HttpClient(handler ?? new SocketsHttpHandler { AllowAutoRedirect = false, PooledConnectionLifetime = TimeSpan.FromMinutes(2) })
        {
            Timeout = _options.RequestTimeout,
        };
        _http.DefaultRequestHeaders.UserAgent.ParseAdd("Anpm-Webhooks/1");
    }

    /// <summary>
    /// Fans out new events and delivers due deliveries until neither is left (at most 20 rounds of a batch each), then
    /// forgets a batch of ended events older than <see cref="WebhookOptions.Retention"/>.
    /// </summary>
    /// <returns>Events fanned out plus deliveries attempted.</returns>
    public async ValueTask<int> RunAsync(CancellationToken cancellationToken = default)
    {
        await PruneAsync(cancellationToken).ConfigureAwait(false);
        var total = 0;
        for (var round = 0; round < 20; round++)
        {
            var done = await FanOutAsync(cancellationToken).ConfigureAwait(false) + await DeliverDueAsync(cancellationToken).ConfigureAwait(false);
            total += done;
            if (done == 0)
            {
                break;
            }
        }

        return total;
    }

    /// <summary>Forgets one batch of events whose deliveries all ended, written more than <see cref="WebhookOptions.Retention"/> ago.</summary>
    /// <returns>How many events were forgotten.</returns>
    public ValueTask<int> PruneAsync(CancellationToken cancellationToken = default) =>
        _store.RunAsync((Before: _timeProvider.GetUtcNow() - _options.Retention, Batch: _options.BatchSize), static (unitOfWork, request, ct) =>
            unitOfWork.Events.PruneEventsAsync(request.Before, request.Batch, ct), cancellationToken);

    /// <summary>Creates the deliveries of one batch of new events, for the endpoints that take each one's type.</summary>
    /// <returns>How many events were fanned out.</returns>
    public ValueTask<int> FanOutAsync(CancellationToken cancellationToken = default) =>
        _store.RunAsync((Batch: _options.BatchSize, Now: _timeProvider.GetUtcNow()), static async (unitOfWork, request, ct) =>
        {
            var events = await unitOfWork.Events.GetEventsToFanOutAsync(request.Batch, ct).ConfigureAwait(false);
            if (events.Count == 0)
            {
                return 0;
            }

            var endpoints = (await unitOfWork.Events.ListEndpointsAsync(ct).ConfigureAwait(false)).Where(static e => e.DisabledAt is null).ToList();
            foreach (var @event in events)
            {
                foreach (var endpoint in endpoints.Where(e => e.Takes(@event.Type)))
                {
                    await unitOfWork.Events.TryInsertDeliveryAsync(new WebhookDelivery
                    {
                        EventId = @event.Id, EndpointId = endpoint.Id, EventSequence = @event.Sequence, State = WebhookDeliveryState.Pending, NextAttemptAt = request.Now,
                    }, ct).ConfigureAwait(false);
                }
            }

            await unitOfWork.Events.MarkFannedOutAsync([.. events.Select(static e => e.Sequence)], ct).ConfigureAwait(false);
            return events.Count;
        }, cancellationToken);

    /// <summary>Attempts one batch of due deliveries, <see cref="WebhookOptions.MaxParallel"/> at a time, and records their answers in one unit of work.</summary>
    /// <returns>How many deliveries were attempted (or failed for a disabled endpoint).</returns>
    public async ValueTask<int> DeliverDueAsync(CancellationToken cancellationToken = default)
    {
        var now = _timeProvider.GetUtcNow();
        var (due, endpoints) = await _store.RunReadAsync((Now: now, Batch: _options.BatchSize), static async (unitOfWork, request, ct) =>
            (await unitOfWork.Events.GetDueDeliveriesAsync(request.Now, request.Batch, ct).ConfigureAwait(false),
             (await unitOfWork.Events.ListEndpointsAsync(ct).ConfigureAwait(false)).ToDictionary(static e => e.Id, StringComparer.Ordinal)), cancellationToken).ConfigureAwait(false);
        if (due.Count == 0)
        {
            return 0;
        }

        var outcomes = new WebhookDelivery[due.Count];
        using (var slots = new SemaphoreSlim(_options.MaxParallel))
        {
            await Task.WhenAll(due.Select(async (item, index) =>
            {
                await slots.WaitAsync(cancellationToken).ConfigureAwait(false);
                try
                {
                    outcomes[index] = await AttemptAsync(item, endpoints.GetValueOrDefault(item.Delivery.EndpointId), cancellationToken).ConfigureAwait(false);
                }
                finally
                {
                    slots.Release();
                }
            })).ConfigureAwait(false);
        }

        await _store.RunAsync((Due: due, Outcomes: outcomes), static async (unitOfWork, request, ct) =>
        {
            for (var i = 0; i < request.Due.Count; i++)
            {
                await unitOfWork.Events.UpdateDeliveryAsync(request.Outcomes[i], request.Due[i].Delivery.Version, ct).ConfigureAwait(false);
            }

            return 0;
        }, cancellationToken).ConfigureAwait(false);
        return due.Count;
    }

    /// <summary>The body posted for an event: <c>{"id", "type", "timestamp", "data"}</c>.</summary>
    public static string BodyOf(AnpmEvent @event)
    {
        ArgumentNullException.ThrowIfNull(@event);
        return "{\"id\":" + System.Text.Json.JsonSerializer.Serialize(@event.Id, AnpmEventJson.Default.String) + ",\"type\":"
            + System.Text.Json.JsonSerializer.Serialize(@event.Type, AnpmEventJson.Default.String) + ",\"timestamp\":\""
            + @event.CreatedAt.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture) + "\",\"data\":" + @event.Data + "}";
    }

    private async Task<WebhookDelivery> AttemptAsync(DueWebhookDelivery item, WebhookEndpoint? endpoint, CancellationToken cancellationToken)
    {
        var delivery = item.Delivery;
        if (endpoint is not { DisabledAt: null })
        {
            return delivery with { State = WebhookDeliveryState.Failed, LastError = WebhookService.DisabledError };
        }

        var sentAt = _timeProvider.GetUtcNow();
        var body = BodyOf(item.Event);
        var timestamp = sentAt.ToUnixTimeSeconds();
        int? status = null;
        string? error;
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, endpoint.Url) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
            request.Headers.Add("webhook-id", item.Event.Id);
            request.Headers.Add("webhook-timestamp", timestamp.ToString(CultureInfo.InvariantCulture));
            request.Headers.Add("webhook-signature", WebhookSignature.Sign(endpoint.Secret, item.Event.Id, timestamp, body));
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            status = (int)response.StatusCode;
            if (response.IsSuccessStatusCode)
            {
                return delivery with { State = WebhookDeliveryState.Delivered, Attempts = delivery.Attempts + 1, LastAttemptAt = sentAt, LastStatus = status, LastError = null };
            }

            var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            error = $"HTTP {status}: {(text.Length > 200 ? text[..200] : text)}";
        }
        catch (Exception exception) when (exception is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            error = exception is TaskCanceledException ? $"No answer within {_options.RequestTimeout.TotalSeconds} s." : exception.Message;
        }

        var attempts = delivery.Attempts + 1;
        var last = attempts > _options.RetrySchedule.Count;
        return delivery with
        {
            State = last ? WebhookDeliveryState.Failed : WebhookDeliveryState.Pending,
            Attempts = attempts,
            NextAttemptAt = last ? delivery.NextAttemptAt : sentAt + _options.RetrySchedule[attempts - 1],
            LastAttemptAt = sentAt,
            LastStatus = status,
            LastError = error,
        };
    }

    /// <inheritdoc/>
    public void Dispose() => _http.Dispose();
}

/// <summary>Source-generated JSON of the strings in an event body.</summary>
[System.Text.Json.Serialization.JsonSerializable(typeof(string))]
internal sealed partial class AnpmEventJson : System.Text.Json.Serialization.JsonSerializerContext;

/// <summary>Validates <see cref="WebhookOptions"/> (parallelism, batches, timeouts, the retry schedule and retention); registered with the package and run at start.</summary>
public sealed class WebhookOptionsValidator : IValidateOptions<WebhookOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, WebhookOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.MaxParallel is < 1 or > 256 || options.BatchSize is < 1 or > 10_000 || options.RequestTimeout <= TimeSpan.Zero || options.RetrySchedule.Any(static step => step < TimeSpan.Zero) || options.Retention < TimeSpan.FromDays(2)
            ? ValidateOptionsResult.Fail("WebhookOptions: MaxParallel must be 1 to 256, BatchSize 1 to 10000, RequestTimeout above zero, no retry step negative, and Retention at least 2 days.")
            : ValidateOptionsResult.Success;
    }
}
