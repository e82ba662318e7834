using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Anpm.Hosting;

/// <summary>
/// The jobs' metrics (on the application's <see cref="IMeterFactory"/>, meter <c>Anpm</c>) and spans (activity source
/// <c>Anpm</c>): add them to OpenTelemetry with <c>AddMeter("Anpm")</c> and <c>AddSource("Anpm")</c>.
/// </summary>
internal sealed class AnpmJobTelemetry
{
    /// <summary>The meter's and the activity source's name, shared by every Anpm package.</summary>
    public const string Name = "Anpm";

    /// <summary>The span around each job run.</summary>
    public static ActivitySource Source { get; } = new(Name);

    public AnpmJobTelemetry(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        var meter = meterFactory.Create(Name);
        JobRuns = meter.CreateCounter<long>("anpm.job.runs", description: "Background job runs, by job and outcome (ok, failed, skipped: another instance held the job).");
        JobItems = meter.CreateCounter<long>("anpm.job.items", description: "Items a background job handled (transfers, tasks, pools…), by job.");
        JobDuration = meter.CreateHistogram<double>("anpm.job.duration", unit: "s", description: "Background job run time, by job.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 120] });
    }

    /// <summary><c>anpm.job.runs</c>: tags <c>job</c>, <c>outcome</c>.</summary>
    public Counter<long> JobRuns { get; }

    /// <summary><c>anpm.job.items</c>: tag <c>job</c>.</summary>
    public Counter<long> JobItems { get; }

    /// <summary><c>anpm.job.duration</c> in seconds: tag <c>job</c>.</summary>
    public Histogram<double> JobDuration { get; }
}
