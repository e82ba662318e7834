using System.Diagnostics.Metrics;
using System.Net;
using System.Text.Json;
using System.Threading.RateLimiting;
using Anpm.Abstractions;
using Anpm.AspNetCore;
using Anpm.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Anpm.AspNetCore.Tests;

public sealed class MappingAndJobsTests
{
    [Fact]
    public async Task Subset_UnderTheIntegratorsRateLimit_OtherPartsUnmapped()
    {
        await using var app = await ApiApp.StartAsync(
            web =>
            {
                web.UseRateLimiter();
                web.MapGroup("/api/v1").RequireRateLimiting("two").MapAnpmReads();
            },
            services: s => s.AddRateLimiter(o =>
            {
                o.RejectionStatusCode = 429;
                o.AddFixedWindowLimiter("two", w => { w.PermitLimit = 2; w.Window = TimeSpan.FromHours(1); w.QueueLimit = 0; });
            }));
        Assert.Equal(HttpStatusCode.OK, (await app.Http.GetAsync("/api/v1/config")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await app.Http.GetAsync("/api/v1/pools")).StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, (await app.Http.GetAsync("/api/v1/config")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await app.Http.PostAsync("/api/v1/admin/pause", new StringContent("{}"))).StatusCode); // not mapped
        Assert.Equal(HttpStatusCode.NotFound, (await app.Http.GetAsync("/healthz")).StatusCode); // MapAnpmApi maps health; the parts do not
    }

    [Fact]
    public async Task Jobs_AFailingJobNeverStopsAnother_AHeldLeaseSkipsTheRun_HealthReportsIt()
    {
        var runs = new List<(string Job, string Outcome)>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == AnpmTelemetry.Name && instrument.Name == "anpm.job.runs")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, _, tags, _) =>
        {
            var values = tags.ToArray().ToDictionary(t => t.Key, t => t.Value?.ToString());
            lock (runs)
            {
                runs.Add((values["job"]!, values["outcome"]!));
            }
        });
        listener.Start();

        // No treasury: the daily revenue job fails on every run. Another instance holds the pending-expiry job's lease.
        await using var app = await ApiApp.StartAsync(web => web.MapAnpmApi(), services: s => s.AddAnpmJobs(jobs => jobs.DailyRevenue = TimeSpan.FromSeconds(2)));
        IAsyncDisposable? held = null;
        for (var attempt = 0; attempt < 400 && held is null; attempt++)
        {
            held = await app.Services.GetRequiredService<IJobLockProvider>().TryAcquireAsync("anpm-job:pending-expiry"); // free between the job's runs
            await Task.Delay(held is null ? 25 : 0);
        }

        await using var lease = held ?? throw new InvalidOperationException("The job's lease was never free.");
        app.Clock.Advance(TimeSpan.FromSeconds(2));
        await WaitUntilAsync(() => { lock (runs) { return runs.Contains(("pending-expiry", "skipped")); } });
        lock (runs)
        {
            runs.Clear(); // from here on, with the lease held elsewhere, the job only skips
        }

        var monitor = app.Services.GetRequiredService<AnpmJobMonitor>();
        for (var tick = 0; tick < 4; tick++)
        {
            await WaitUntilAsync(() => monitor.Jobs.TryGetValue("daily-revenue", out var s) && s.ConsecutiveFailures > tick);
            app.Clock.Advance(TimeSpan.FromSeconds(2));
        }

        var revenue = monitor.Jobs["daily-revenue"];
        Assert.Contains("CreditOptions.Treasury", revenue.LastError, StringComparison.Ordinal);
        Assert.Null(revenue.LastSuccess);
        foreach (var job in new[] { "payment-timeout", "inference-sweep", "daily-incentives" })
        {
            // Each runs in the background on its own interval: wait for its first success, never read before it ran.
            await WaitUntilAsync(() => monitor.Jobs.TryGetValue(job, out var s) && s.LastSuccess is not null);
            Assert.NotNull(monitor.Jobs[job].LastSuccess);
        }

        Assert.False(monitor.Jobs.ContainsKey("outbox-dispatch")); // the gateway pulls (OutboxDelivery.GatewayPull)
        await WaitUntilAsync(() => { lock (runs) { return runs.Count(r => r == ("pending-expiry", "skipped")) >= 2; } });
        lock (runs)
        {
            Assert.DoesNotContain(("pending-expiry", "ok"), runs);
            Assert.Contains(("inference-sweep", "ok"), runs);
            Assert.Contains(("daily-revenue", "failed"), runs);
        }

        var response = await app.Http.GetAsync("/healthz");
        using var report = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("Degraded", report.RootElement.GetProperty("status").GetString());
        var jobs = report.RootElement.GetProperty("entries").GetProperty("anpm-jobs");
        Assert.Equal("Degraded", jobs.GetProperty("status").GetString());
        Assert.Contains("Failing: daily-revenue", jobs.GetProperty("description").GetString(), StringComparison.Ordinal);
        Assert.All(new[] { "anpm-store", "anpm-schema", "anpm-oracle-backlog" }, check =>
            Assert.Equal("Healthy", report.RootElement.GetProperty("entries").GetProperty(check).GetProperty("status").GetString()));
    }

    [Fact]
    public async Task Options_IntervalsAndLimitsValidatedAtStart_NamingTheOption()
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => ApiApp.StartAsync(web => web.MapAnpmApi(), api => api.MaxBodyBytes = 10));
        Assert.Contains("AnpmApiOptions.MaxBodyBytes must be 1024", error.Message, StringComparison.Ordinal);
        var jobs = await Assert.ThrowsAsync<OptionsValidationException>(() => ApiApp.StartAsync(web => web.MapAnpmApi(), services: s => s.AddAnpmJobs(o => o.InferenceSweep = TimeSpan.Zero)));
        Assert.Contains("AnpmJobsOptions.InferenceSweep must be 100 ms to 1 day, not 00:00:00.", jobs.Message, StringComparison.Ordinal);

        var dispatch = await Assert.ThrowsAsync<OptionsValidationException>(() => ApiApp.StartAsync(web => web.MapAnpmApi(), api => api.OutboxDelivery = OutboxDelivery.Dispatch));
        Assert.Contains("no ITokenGateway is registered", dispatch.Message, StringComparison.Ordinal);

        var noStore = Assert.Throws<InvalidOperationException>(() => new ServiceCollection().AddAnpm().AddAnpmApi());
        Assert.Contains("AddAnpmApi needs a store", noStore.Message, StringComparison.Ordinal);
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        // A generous deadline: the jobs run in the background, and the machine may be busy (CI runs test assemblies side by side).
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (!condition() && DateTime.UtcNow < deadline)
        {
            await Task.Delay(25);
        }

        Assert.True(condition(), "The condition was not met in 90 s.");
    }
}
