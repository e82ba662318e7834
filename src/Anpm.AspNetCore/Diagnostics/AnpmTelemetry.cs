using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Anpm.AspNetCore;

/// <summary>
/// Anpm's metrics and traces: one <see cref="Meter"/> and one <see cref="ActivitySource"/>, both named
/// <see cref="Name"/>. Add them to OpenTelemetry with <c>AddMeter(AnpmTelemetry.Name)</c> and
/// <c>AddSource(AnpmTelemetry.Name)</c>.
/// </summary>
public sealed class AnpmTelemetry
{
    /// <summary>The meter's and the activity source's name.</summary>
    public const string Name = "Anpm";

    /// <summary>The spans around each signed command and each job run.</summary>
    public static ActivitySource Source { get; } = new(Name);

    /// <summary>Creates the instruments on the application's meter factory.</summary>
    public AnpmTelemetry(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        var meter = meterFactory.Create(Name);
        SignedRequests = meter.CreateCounter<long>("anpm.signed_requests", description: "Signed requests answered, by message type, HTTP status and whether it was a replay.");
        JobRuns = meter.CreateCounter<long>("anpm.job.runs", description: "Background job runs, by job and outcome (ok, failed, skipped: another instance held the job).");
        JobItems = meter.CreateCounter<long>("anpm.job.items", description: "Items a background job handled (transfers, tasks, pools…), by job.");
        JobDuration = meter.CreateHistogram<double>("anpm.job.duration", unit: "s", description: "Background job run time, by job.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 120] });
    }

    /// <summary><c>anpm.signed_requests</c>: tags <c>type</c>, <c>status</c>, <c>replayed</c>.</summary>
    public Counter<long> SignedRequests { get; }

    /// <summary><c>anpm.job.runs</c>: tags <c>job</c>, <c>outcome</c>.</summary>
    public Counter<long> JobRuns { get; }

    /// <summary><c>anpm.job.items</c>: tag <c>job</c>.</summary>
    public Counter<long> JobItems { get; }

    /// <summary><c>anpm.job.duration</c> in seconds: tag <c>job</c>.</summary>
    public Histogram<double> JobDuration { get; }
}
