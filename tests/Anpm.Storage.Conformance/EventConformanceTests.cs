using System.Collections.Concurrent;
using System.Net;
using System.Text.Json.Nodes;
using Anpm.Abstractions;
using Anpm.Credits;
using Anpm.Pools;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Anpm.Storage.Conformance;

/// <summary>
/// Events and webhooks over each store: the store's guarantees (an event once per id and only with its unit of work,
/// fan-out in sequence order, one delivery per event and endpoint, versioned updates, due order, counts), and the
/// dispatcher against a recording handler: every event to every endpoint that takes its type, signed; retries on the
/// schedule until delivered or failed; a disabled endpoint gets nothing more; a pool's status change writes its event.
/// </summary>
public abstract class EventConformanceTests(StoreFactory factory) : ConformanceSuite(factory)
{
    private const string Secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 11, 21, 12, 0, 0, TimeSpan.Zero));

    [Fact]
    public async Task Store_EventsOncePerId_FanOutInOrder_DeliveriesVersioned_DueOrder_Counts_Rollback()
    {
        var store = await Factory.CreateAsync();
        await using (var write = await store.BeginAsync())
        {
            Assert.True(await write.Events.TryAppendEventAsync(Event("evt_a", "task.done")));
            Assert.False(await write.Events.TryAppendEventAsync(Event("evt_a", "task.failed")));
            Assert.True(await write.Events.TryAppendEventAsync(Event("evt_b", "task.failed")));
            Assert.True(await write.Events.TryInsertEndpointAsync(Endpoint("e2", "task.failed")));
            Assert.True(await write.Events.TryInsertEndpointAsync(Endpoint("e1")));
            Assert.False(await write.Events.TryInsertEndpointAsync(Endpoint("e1", "task.done")));
            await write.CommitAsync();
        }

        await using (var rolledBack = await store.BeginAsync())
        {
            Assert.True(await rolledBack.Events.TryAppendEventAsync(Event("evt_c", "task.done")));
        }

        var reopened = await Factory.OpenAnotherInstanceAsync(store);
        IReadOnlyList<AnpmEvent> toFanOut;
        await using (var read = await reopened.BeginReadAsync())
        {
            toFanOut = await read.Events.GetEventsToFanOutAsync(10);
            Assert.Equal(["evt_a", "evt_b"], toFanOut.Select(e => e.Id));
            Assert.True(toFanOut[0].Sequence > 0 && toFanOut[1].Sequence > toFanOut[0].Sequence);
            Assert.Equal(Event("evt_a", "task.done") with { Sequence = toFanOut[0].Sequence }, await read.Events.GetEventAsync("evt_a"));
            Assert.Null(await read.Events.GetEventAsync("evt_c"));
            Assert.Equal(["e1", "e2"], (await read.Events.ListEndpointsAsync()).Select(e => e.Id));
            Assert.Equal(["task.failed"], (await read.Events.GetEndpointAsync("e2"))!.EventTypes);
            Assert.Empty((await read.Events.GetEndpointAsync("e1"))!.EventTypes);
        }

        await using (var write = await store.BeginAsync())
        {
            Assert.True(await write.Events.TryInsertDeliveryAsync(Delivery("evt_b", "e1", toFanOut[1].Sequence, Now.AddSeconds(1))));
            Assert.True(await write.Events.TryInsertDeliveryAsync(Delivery("evt_a", "e1", toFanOut[0].Sequence, Now.AddSeconds(1))));
            Assert.True(await write.Events.TryInsertDeliveryAsync(Delivery("evt_b", "e2", toFanOut[1].Sequence, Now)));
            Assert.False(await write.Events.TryInsertDeliveryAsync(Delivery("evt_b", "e2", toFanOut[1].Sequence, Now)));
            await write.Events.MarkFannedOutAsync([toFanOut[0].Sequence]);
            await write.CommitAsync();
        }

        await using (var write = await store.BeginAsync())
        {
            Assert.Equal(["evt_b"], (await write.Events.GetEventsToFanOutAsync(10)).Select(e => e.Id));
            var due = await write.Events.GetDueDeliveriesAsync(Now.AddSeconds(1), 10);
            Assert.Equal([("e2", "evt_b"), ("e1", "evt_a"), ("e1", "evt_b")], due.Select(d => (d.Delivery.EndpointId, d.Delivery.EventId)));
            Assert.Equal("task.failed", due[0].Event.Type);
            Assert.Equal(["e2"], (await write.Events.GetDueDeliveriesAsync(Now, 10)).Select(d => d.Delivery.EndpointId));
            var failed = due[1].Delivery with { State = WebhookDeliveryState.Pending, Attempts = 1, NextAttemptAt = Now.AddMinutes(5), LastAttemptAt = Now, LastStatus = 503, LastError = "HTTP 503: busy" };
            await write.Events.UpdateDeliveryAsync(failed, 0);
            await write.Events.UpdateDeliveryAsync(due[0].Delivery with { State = WebhookDeliveryState.Delivered, Attempts = 1, LastStatus = 200 }, 0);
            await write.Events.UpdateEndpointAsync((await write.Events.GetEndpointAsync("e2"))! with { DisabledAt = Now }, 0);
            await write.CommitAsync();
        }

        await using (var write = await store.BeginAsync())
        {
            var stale = Delivery("evt_a", "e1", toFanOut[0].Sequence, Now);
            await RefusedByOrAfterAsync<AnpmConcurrencyException>(write, async () => await write.Events.UpdateDeliveryAsync(stale, 0));
        }

        await using var check = await reopened.BeginReadAsync();
        Assert.Equal(["e1"], (await check.Events.GetDueDeliveriesAsync(Now.AddMinutes(1), 10)).Select(d => d.Delivery.EndpointId + "/" + d.Delivery.EventId).Select(s => s[..2]));
        var e1 = await check.Events.ListDeliveriesAsync("e1", null, 10);
        Assert.Equal(["evt_b", "evt_a"], e1.Select(d => d.EventId));
        Assert.Equal((1, 503, "HTTP 503: busy", Now.AddMinutes(5), 1L), (e1[1].Attempts, e1[1].LastStatus, e1[1].LastError, e1[1].NextAttemptAt, e1[1].Version));
        Assert.Equal(["evt_a"], (await check.Events.ListDeliveriesAsync("e1", toFanOut[1].Sequence, 10)).Select(d => d.EventId));
        Assert.Equal(new WebhookDeliveryCounts(2, 0, 0, 1), await check.Events.CountDeliveriesAsync("e1"));
        Assert.Equal(new WebhookDeliveryCounts(0, 1, 0, 1), await check.Events.CountDeliveriesAsync("e2"));
        Assert.Equal(Now, (await check.Events.GetEndpointAsync("e2"))!.DisabledAt);
    }

    [Fact]
    public async Task Dispatcher_EveryEventToEveryTakingEndpoint_Signed_RetriedOnSchedule_FailedAfterIt_DisabledGetsNothing()
    {
        var store = await Factory.CreateAsync();
        var receiver = new RecordingHandler(_clock);
        using var dispatcher = new WebhookDispatcher(store, Options.Create(Schedule(TimeSpan.FromSeconds(5), TimeSpan.FromMinutes(5))), _clock, receiver);
        var webhooks = new WebhookService(store, _clock);
        Assert.Equal(WebhookEndpointResult.Registered, (await webhooks.RegisterAsync("all", "http://127.0.0.1:9/all", Secret, [])).Result);
        Assert.Equal(WebhookEndpointResult.Registered, (await webhooks.RegisterAsync("failed", "http://127.0.0.1:9/failed", Secret, [AnpmEventTypes.TaskFailed])).Result);
        Assert.Equal(WebhookEndpointResult.Registered, (await webhooks.RegisterAsync("down", "http://127.0.0.1:9/down", Secret, [AnpmEventTypes.TaskDone])).Result);
        Assert.Equal(WebhookEndpointResult.Invalid, (await webhooks.RegisterAsync("x", "ftp://127.0.0.1/", Secret, [])).Result);
        Assert.Equal(WebhookEndpointResult.Invalid, (await webhooks.RegisterAsync("x", "http://127.0.0.1/", "whsec_short", [])).Result);
        Assert.Equal(WebhookEndpointResult.Invalid, (await webhooks.RegisterAsync("x", "http://127.0.0.1/", Secret, ["task.nope"])).Result);
        receiver.Answer("/down", HttpStatusCode.ServiceUnavailable);
        receiver.Answer("/failed", HttpStatusCode.InternalServerError, times: 1);

        for (var i = 0; i < 6; i++)
        {
            await store.RunAsync(i, async (unitOfWork, i, ct) =>
            {
                await unitOfWork.Events.AppendAsync(i % 2 == 0 ? AnpmEventTypes.TaskDone : AnpmEventTypes.TaskFailed, "t" + i, new JsonObject { ["taskId"] = "t" + i }, _clock.GetUtcNow(), ct);
                await unitOfWork.Events.AppendAsync(i % 2 == 0 ? AnpmEventTypes.TaskDone : AnpmEventTypes.TaskFailed, "t" + i, new JsonObject { ["taskId"] = "again" }, _clock.GetUtcNow(), ct);
                return 0;
            });
        }

        await using (var rolledBack = await store.BeginAsync())
        {
            await rolledBack.Events.AppendAsync(AnpmEventTypes.TaskDone, "never", new JsonObject(), _clock.GetUtcNow());
        }

        await new PoolRegistry(store, _clock).CreateAsync(PoolId.Parse("p"), Address.Zero, "{\"name\":\"P\",\"staking\":{\"capacity\":\"10\",\"dailyReward\":\"1\"}}");
        Assert.Equal(PoolStatusChangeResult.Changed, (await new PoolRegistry(store, _clock).PauseAsync(PoolId.Parse("p"))).Result);

        Assert.Equal(7 + 13, await dispatcher.RunAsync()); // 7 events fanned out; 7 deliveries to "all", 3 to "failed", 3 to "down"
        Assert.Equal(7, receiver.Delivered("/all").Count);
        Assert.Equal(["t0", "t2", "t4"], receiver.Delivered("/all").Where(r => r.Type == AnpmEventTypes.TaskDone).Select(r => r.Data["taskId"]!.GetValue<string>()));
        Assert.Equal(["pool.status_changed"], receiver.Delivered("/all").Where(r => r.Type.StartsWith("pool", StringComparison.Ordinal)).Select(r => r.Type));
        Assert.Equal(2, receiver.Delivered("/failed").Count); // the first of three got a 500
        Assert.Empty(receiver.Delivered("/down"));
        Assert.All(receiver.Requests, r => Assert.True(r.SignatureValid, r.Path));

        // 5 s later: the 500 is retried and taken; the 503s fail again and wait 5 minutes; after that they fail for good.
        _clock.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(4, await dispatcher.RunAsync());
        Assert.Equal(3, receiver.Delivered("/failed").Count);
        _clock.Advance(TimeSpan.FromMinutes(5));
        Assert.Equal(3, await dispatcher.RunAsync());
        Assert.Equal(0, await dispatcher.RunAsync());
        var statuses = (await webhooks.ListAsync()).ToDictionary(s => s.Endpoint.Id);
        Assert.Equal(new WebhookDeliveryCounts(0, 7, 0, 7), statuses["all"].Deliveries);
        Assert.Equal(new WebhookDeliveryCounts(0, 3, 0, 4), statuses["failed"].Deliveries);
        Assert.Equal(new WebhookDeliveryCounts(0, 0, 3, 9), statuses["down"].Deliveries);
        Assert.StartsWith("HTTP 503", statuses["down"].LastError, StringComparison.Ordinal);

        // Disabled: a new event reaches the others only.
        Assert.Equal(WebhookEndpointResult.Disabled, (await webhooks.DisableAsync("all")).Result);
        await store.RunAsync(0, async (unitOfWork, _, ct) =>
        {
            await unitOfWork.Events.AppendAsync(AnpmEventTypes.TaskFailed, "t9", new JsonObject { ["taskId"] = "t9" }, _clock.GetUtcNow(), ct);
            return 0;
        });
        Assert.Equal(2, await dispatcher.RunAsync());
        Assert.Equal(7, receiver.Delivered("/all").Count);
        Assert.Equal(4, receiver.Delivered("/failed").Count);
        Assert.Equal(receiver.Requests.Count(r => r.Status < 300), receiver.Requests.Where(r => r.Status < 300).Select(r => (r.Path, r.Id)).Distinct().Count()); // none twice

        // A week later the ended events are forgotten with their deliveries; one still pending is kept.
        receiver.Answer("/failed", HttpStatusCode.ServiceUnavailable);
        await store.RunAsync(0, async (unitOfWork, _, ct) =>
        {
            await unitOfWork.Events.AppendAsync(AnpmEventTypes.TaskFailed, "t10", new JsonObject { ["taskId"] = "t10" }, _clock.GetUtcNow(), ct);
            return 0;
        });
        Assert.Equal(2, await dispatcher.RunAsync());
        _clock.Advance(TimeSpan.FromDays(7) + TimeSpan.FromSeconds(1));
        Assert.Equal(8, await dispatcher.PruneAsync()); // 6 task events, the pool's, t9; t10 waits for its retry
        Assert.Equal(0, await dispatcher.PruneAsync());
        statuses = (await webhooks.ListAsync()).ToDictionary(s => s.Endpoint.Id);
        Assert.Equal(new WebhookDeliveryCounts(1, 0, 0, 1), statuses["failed"].Deliveries);
        Assert.Equal(new WebhookDeliveryCounts(0, 0, 0, 0), statuses["down"].Deliveries);
        await using var read = await store.BeginReadAsync();
        Assert.NotNull(await read.Events.GetEventAsync(AnpmEvents.IdOf(AnpmEventTypes.TaskFailed, "t10")));
        Assert.Null(await read.Events.GetEventAsync(AnpmEvents.IdOf(AnpmEventTypes.TaskFailed, "t9")));
    }

    private static WebhookOptions Schedule(params TimeSpan[] steps)
    {
        var options = new WebhookOptions();
        options.RetrySchedule.Clear();
        foreach (var step in steps)
        {
            options.RetrySchedule.Add(step);
        }

        return options;
    }

    private static AnpmEvent Event(string id, string type) => new() { Id = id, Type = type, Data = "{\"taskId\":\"" + id + "\"}", CreatedAt = Now };

    private static WebhookEndpoint Endpoint(string id, params string[] types) => new() { Id = id, Url = "http://127.0.0.1/" + id, Secret = Secret, EventTypes = types, CreatedAt = Now };

    private static WebhookDelivery Delivery(string eventId, string endpointId, long sequence, DateTimeOffset next) => new()
    {
        EventId = eventId, EndpointId = endpointId, EventSequence = sequence, State = WebhookDeliveryState.Pending, NextAttemptAt = next,
    };

    /// <summary>A receiver in the handler: answers per path (a status, for some times), checks each request's Standard Webhooks signature.</summary>
    private sealed class RecordingHandler(TimeProvider clock) : HttpMessageHandler
    {
        private readonly ConcurrentDictionary<string, (HttpStatusCode Status, int Times)> _answers = new(StringComparer.Ordinal);

        public ConcurrentQueue<(string Path, string Id, string Type, JsonNode Data, int Status, bool SignatureValid)> Requests { get; } = new();

        public void Answer(string path, HttpStatusCode status, int times = int.MaxValue) => _answers[path] = (status, times);

        public List<(string Type, JsonNode Data)> Delivered(string path) =>
            [.. Requests.Where(r => r.Path == path && r.Status < 300).Select(r => (r.Type, r.Data))];

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var body = await request.Content!.ReadAsStringAsync(cancellationToken);
            var id = request.Headers.GetValues("webhook-id").Single();
            var valid = WebhookSignature.Verify(Secret, id, request.Headers.GetValues("webhook-timestamp").Single(), request.Headers.GetValues("webhook-signature").Single(), body,
                clock.GetUtcNow(), TimeSpan.FromMinutes(5));
            var json = JsonNode.Parse(body)!;
            var path = request.RequestUri!.AbsolutePath;
            var status = HttpStatusCode.OK;
            if (_answers.TryGetValue(path, out var answer) && answer.Times > 0)
            {
                status = answer.Status;
                _answers[path] = (answer.Status, answer.Times - 1);
            }

            Requests.Enqueue((path, id, json["type"]!.GetValue<string>(), json["data"]!, (int)status, valid && json["id"]!.GetValue<string>() == id));
            return new HttpResponseMessage(status) { Content = new StringContent(status == HttpStatusCode.OK ? "" : "busy") };
        }
    }
}

public sealed class InMemoryEventTests() : EventConformanceTests(new InMemoryStoreFactory());

public sealed class SqliteEventTests() : EventConformanceTests(new SqliteStoreFactory());

[Collection(PostgresCollection.Name)]
public sealed class PostgresEventTests(PostgresServerFixture server) : EventConformanceTests(new PostgresStoreFactory(server));
