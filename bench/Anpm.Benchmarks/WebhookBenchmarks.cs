using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using Anpm.Abstractions;
using Anpm.Credits;
using Anpm.Storage.Sqlite;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Engines;
using BenchmarkDotNet.Jobs;
using Microsoft.Extensions.Options;

namespace Anpm.Benchmarks;

/// <summary>
/// Webhook delivery of <see cref="Events"/> events to a receiver on 127.0.0.1 (an HttpListener in this process that
/// answers 204 and notes when each <c>webhook-id</c> arrived). <c>Dispatcher</c>: the events are committed to a SQLite
/// file in units of work of 100, while a <see cref="WebhookDispatcher"/> runs back to back (as the host's job does, with
/// 10 ms between idle runs) fanning them out and delivering them, 16 in flight. The baseline posts the same number of
/// signed bodies, 16 in flight, straight with an HttpClient: no store, no outbox. Each iteration prints the events per
/// second from the first commit to the last delivery and the p50/p99 delay from an event's commit to its delivery.
/// </summary>
[Config(typeof(Config))]
public class WebhookBenchmarks
{
    private const int Events = 10_000;
    private const int PerUnitOfWork = 100;
    private const string Secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    private readonly ConcurrentDictionary<string, long> _arrived = new(StringComparer.Ordinal);
    private readonly List<string> _reports = [];
    private HttpListener _listener = null!;
    private Task[] _accepting = [];
    private string _folder = string.Empty;
    private SqliteAnpmStore _store = null!;
    private WebhookDispatcher _dispatcher = null!;
    private HttpClient _http = null!;
    private string _url = string.Empty;
    private int _iteration;

    [GlobalSetup]
    public async Task SetupAsync()
    {
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            _url = $"http://127.0.0.1:{((IPEndPoint)probe.LocalEndpoint).Port}/hook/";
        }

        _listener = new HttpListener();
        _listener.Prefixes.Add(_url);
        _listener.Start();
        _accepting = [.. Enumerable.Range(0, 32).Select(_ => Task.Run(AcceptAsync))];
        _folder = Directory.CreateTempSubdirectory("anpm-bench-webhooks-").FullName;
        _store = new SqliteAnpmStore(Options.Create(new SqliteStoreOptions { ConnectionString = $"Data Source={Path.Combine(_folder, "anpm.db")}" }), TimeProvider.System);
        var registered = await new WebhookService(_store, TimeProvider.System).RegisterAsync("bench", _url, Secret, []);
        if (registered.Result != WebhookEndpointResult.Registered)
        {
            throw new InvalidOperationException(registered.Error);
        }

        _dispatcher = new WebhookDispatcher(_store, Options.Create(new WebhookOptions()), TimeProvider.System);
        _http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 64 });
    }

    [IterationSetup]
    public void NextIteration()
    {
        _iteration++;
        _arrived.Clear();
    }

    [Benchmark(Baseline = true, Description = "10,000 signed POSTs straight to the receiver (16 in flight)")]
    public async Task RawPost()
    {
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, 16).Select(async _ =>
        {
            int n;
            while ((n = Interlocked.Increment(ref next)) < Events)
            {
                var id = $"raw-{_iteration}-{n}";
                var body = "{\"id\":\"" + id + "\",\"type\":\"task.done\",\"timestamp\":\"2026-11-30T00:00:00Z\",\"data\":{\"n\":" + n + "}}";
                var timestamp = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
                using var request = new HttpRequestMessage(HttpMethod.Post, _url) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
                request.Headers.Add("webhook-id", id);
                request.Headers.Add("webhook-timestamp", timestamp.ToString(CultureInfo.InvariantCulture));
                request.Headers.Add("webhook-signature", WebhookSignature.Sign(Secret, id, timestamp, body));
                using var response = await _http.SendAsync(request);
                response.EnsureSuccessStatusCode();
            }
        }));
        Check(Events);
    }

    [Benchmark(Description = "10,000 events committed (100 per unit of work) and delivered by the dispatcher (16 in flight)")]
    public async Task Dispatcher()
    {
        using var stop = new CancellationTokenSource();
        var dispatching = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                if (await _dispatcher.RunAsync() == 0)
                {
                    await Task.Delay(10);
                }
            }
        });
        var committed = new long[Events];
        var started = Stopwatch.GetTimestamp();
        for (var batch = 0; batch < Events / PerUnitOfWork; batch++)
        {
            await _store.RunAsync(batch, async (unitOfWork, batch, ct) =>
            {
                for (var i = batch * PerUnitOfWork; i < (batch + 1) * PerUnitOfWork; i++)
                {
                    await unitOfWork.Events.AppendAsync(AnpmEventTypes.TaskDone, $"{_iteration}-{i}", new JsonObject { ["n"] = i }, DateTimeOffset.UtcNow, ct);
                }

                return 0;
            });
            var now = Stopwatch.GetTimestamp();
            for (var i = batch * PerUnitOfWork; i < (batch + 1) * PerUnitOfWork; i++)
            {
                committed[i] = now;
            }
        }

        while (_arrived.Count < Events)
        {
            await Task.Delay(5);
        }

        var finished = _arrived.Values.Max();
        await stop.CancelAsync();
        await dispatching;
        Check(Events);
        var delays = Enumerable.Range(0, Events)
            .Select(i => Stopwatch.GetElapsedTime(committed[i], _arrived[AnpmEvents.IdOf(AnpmEventTypes.TaskDone, $"{_iteration}-{i}")]).TotalMilliseconds)
            .Order().ToArray();
        var seconds = Stopwatch.GetElapsedTime(started, finished).TotalSeconds;
        _reports.Add($"iteration {_iteration}: {Events / seconds:F0} events/s; commit → delivery p50 {delays[Events / 2]:F0} ms, p99 {delays[Events * 99 / 100]:F0} ms, max {delays[^1]:F0} ms");
    }

    [GlobalCleanup]
    public async Task CleanupAsync()
    {
        foreach (var report in _reports)
        {
            Console.WriteLine("// " + report);
        }

        _listener.Stop();
        _listener.Close();
        await Task.WhenAll(_accepting);
        _dispatcher.Dispose();
        _http.Dispose();
        await _store.DisposeAsync();
        Directory.Delete(_folder, recursive: true);
    }

    private void Check(int expected)
    {
        if (_arrived.Count != expected)
        {
            throw new InvalidOperationException($"{_arrived.Count} deliveries arrived, not {expected}.");
        }
    }

    private async Task AcceptAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception exception) when (exception is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            using (var drain = new StreamReader(context.Request.InputStream))
            {
                await drain.ReadToEndAsync();
            }

            _arrived.TryAdd(context.Request.Headers["webhook-id"] ?? string.Empty, Stopwatch.GetTimestamp());
            context.Response.StatusCode = 204;
            context.Response.Close();
        }
    }

    private sealed class Config : ManualConfig
    {
        public Config() => AddJob(Job.Default
            .WithStrategy(RunStrategy.Monitoring)
            .WithWarmupCount(1)
            .WithIterationCount(5)
            .WithInvocationCount(1)
            .WithUnrollFactor(1)
            .WithId("Webhooks"));
    }
}
