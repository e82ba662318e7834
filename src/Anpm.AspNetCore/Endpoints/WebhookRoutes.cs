using System.Globalization;
using Anpm.Abstractions;
using Anpm.Credits;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Anpm.AspNetCore;

/// <summary>Webhook endpoints: an admin registers (<c>RegisterWebhook</c> + <c>secret</c>) and disables them; their deliveries are readable.</summary>
internal static class WebhookRoutes
{
    public static async Task<Results<Created<WebhookEndpointView>, ProblemHttpResult>> RegisterAsync(SignedRequest request, WebhookService webhooks, CancellationToken ct)
    {
        if (request.Extra("secret") is not { } secret)
        {
            return AnpmProblems.Invalid("secret (whsec_ and base64) is required beside the message.");
        }

        var hash = CommandEndpoints.Keccak(secret);
        if (!string.Equals(hash, request.Text("secretHash"), StringComparison.OrdinalIgnoreCase))
        {
            return AnpmProblems.Invalid($"message.secretHash is not keccak256(secret) ({hash}).");
        }

        var types = request.Text("eventTypes").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var registered = await webhooks.RegisterAsync(request.UnitOfWork, "wh" + request.ShortId[..30], request.Text("url"), secret, types, ct);
        if (!registered.IsRefused)
        {
            return TypedResults.Created((string?)null, WebhookEndpointView.Of(registered.Endpoint, new WebhookDeliveryCounts(0, 0, 0, 0)));
        }

        return registered.Result == WebhookEndpointResult.IdTaken ? AnpmProblems.Conflict(registered.Error) : AnpmProblems.Invalid(registered.Error);
    }

    public static async Task<Results<Ok<WebhookEndpointView>, ProblemHttpResult>> DisableAsync(string endpointId, SignedRequest request, WebhookService webhooks, CancellationToken ct)
    {
        if (request.Text("endpointId") != endpointId)
        {
            return AnpmProblems.Invalid("message.endpointId must be the endpoint of the route.");
        }

        var disabled = await webhooks.DisableAsync(request.UnitOfWork, endpointId, ct);
        if (disabled.IsRefused)
        {
            return AnpmProblems.NotFound(disabled.Error);
        }

        // The answer counts the deliveries as they stand after the disable (the pending ones failed with it).
        var status = await webhooks.GetAsync(request.UnitOfWork, endpointId, ct);
        return TypedResults.Ok(status is null ? WebhookEndpointView.Of(disabled.Endpoint) : WebhookEndpointView.Of(status));
    }

    public static async Task<Ok<WebhookEndpointsPage>> ListAsync(WebhookService webhooks, CancellationToken ct) =>
        TypedResults.Ok(new WebhookEndpointsPage([.. (await webhooks.ListAsync(ct)).Select(WebhookEndpointView.Of)]));

    public static async Task<Results<Ok<WebhookDeliveriesPage>, ProblemHttpResult>> ListDeliveriesAsync(string endpointId, string? before, string? limit, WebhookService webhooks, CancellationToken ct)
    {
        if (!AnpmQuery.TryLimit(limit, 50, 500, out var size, out var refused))
        {
            return refused!;
        }

        long? beforeSequence = null;
        if (before is not null)
        {
            if (!long.TryParse(before, NumberStyles.None, CultureInfo.InvariantCulture, out var sequence))
            {
                return AnpmProblems.Invalid("before must be an event sequence this host returned.");
            }

            beforeSequence = sequence;
        }

        var deliveries = await webhooks.ListDeliveriesAsync(endpointId, beforeSequence, size, ct);
        return TypedResults.Ok(new WebhookDeliveriesPage(
            [.. deliveries.Select(d => new WebhookDeliveryView(d.EventId, d.EventSequence, d.State.ToString(), d.Attempts, d.LastAttemptAt, d.LastStatus, d.LastError,
                d.State == WebhookDeliveryState.Pending ? d.NextAttemptAt : null))],
            deliveries.Count == size ? deliveries[^1].EventSequence.ToString(CultureInfo.InvariantCulture) : null));
    }
}

/// <summary>A webhook endpoint (never its secret) with its deliveries counted.</summary>
/// <param name="EndpointId">Its id.</param>
/// <param name="Url">Where events are posted.</param>
/// <param name="EventTypes">The types it takes; empty for every type.</param>
/// <param name="CreatedAt">When it was registered.</param>
/// <param name="DisabledAt">When it was disabled, if it was.</param>
/// <param name="Deliveries">Its deliveries by state and their attempts.</param>
/// <param name="LastError">The newest delivery's last error.</param>
public sealed record WebhookEndpointView(string EndpointId, string Url, IReadOnlyList<string> EventTypes, DateTimeOffset CreatedAt, DateTimeOffset? DisabledAt,
    WebhookDeliveryCounts? Deliveries, string? LastError)
{
    /// <summary>The view of an endpoint's status.</summary>
    public static WebhookEndpointView Of(WebhookEndpointStatus status)
    {
        ArgumentNullException.ThrowIfNull(status);
        return Of(status.Endpoint, status.Deliveries, status.LastError);
    }

    /// <summary>The view of an endpoint, with its deliveries counted when known.</summary>
    public static WebhookEndpointView Of(WebhookEndpoint endpoint, WebhookDeliveryCounts? deliveries = null, string? lastError = null)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        return new(endpoint.Id, endpoint.Url, endpoint.EventTypes, endpoint.CreatedAt, endpoint.DisabledAt, deliveries, lastError);
    }
}

/// <summary><c>GET /admin/webhooks</c>: every endpoint.</summary>
public sealed record WebhookEndpointsPage(IReadOnlyList<WebhookEndpointView> Endpoints);

/// <summary>One delivery of an event to an endpoint.</summary>
/// <param name="EventId">The event (the <c>webhook-id</c> header).</param>
/// <param name="EventSequence">The event's sequence.</param>
/// <param name="State"><c>Pending</c>, <c>Delivered</c> or <c>Failed</c>.</param>
/// <param name="Attempts">Attempts made.</param>
/// <param name="LastAttemptAt">When the last was made.</param>
/// <param name="LastStatus">Its HTTP status, when it got one.</param>
/// <param name="LastError">Its failure in words.</param>
/// <param name="NextAttemptAt">When it is tried next, while pending.</param>
public sealed record WebhookDeliveryView(string EventId, long EventSequence, string State, int Attempts, DateTimeOffset? LastAttemptAt, int? LastStatus, string? LastError,
    DateTimeOffset? NextAttemptAt);

/// <summary><c>GET /admin/webhooks/{endpointId}/deliveries</c>: newest event first; <c>nextCursor</c> is the <c>before</c> of the next page.</summary>
public sealed record WebhookDeliveriesPage(IReadOnlyList<WebhookDeliveryView> Deliveries, string? NextCursor);
