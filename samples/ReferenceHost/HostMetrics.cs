using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;

namespace Anpm.ReferenceHost;

/// <summary>The host's own instruments (meter <c>Anpm.ReferenceHost</c>).</summary>
public sealed class HostMetrics
{
    /// <summary>The meter's name.</summary>
    public const string MeterName = "Anpm.ReferenceHost";

    public HostMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        var meter = meterFactory.Create(MeterName);
        SignedRequests = meter.CreateCounter<long>("anpm.signed_requests", description: "Signed requests answered, by message type and HTTP status.");
        JobRuns = meter.CreateCounter<long>("anpm.job.runs", description: "Background job runs, by job and outcome (ok, failed).");
        JobDuration = meter.CreateHistogram<double>("anpm.job.duration", unit: "s", description: "Background job run time, by job.");
    }

    public Counter<long> SignedRequests { get; }

    public Counter<long> JobRuns { get; }

    public Histogram<double> JobDuration { get; }
}

/// <summary>
/// Collects System.Diagnostics.Metrics measurements of Anpm's meters and ASP.NET Core's (requests, Kestrel) with a
/// <see cref="MeterListener"/>, and writes them in the Prometheus text format for <c>GET /metrics</c>: counters as
/// <c>_total</c>, histograms as <c>_count</c> and <c>_sum</c>, gauges and observable instruments as their last value.
/// Only this host's meters are read (those its <see cref="IMeterFactory"/> created), and the process-wide runtime meter.
/// It listens from the host's start (a hosted service).
/// </summary>
public sealed class MetricsExporter : IHostedService, IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<(Instrument Instrument, string Tags), Aggregate> _series = new();

    public MetricsExporter(IMeterFactory meterFactory)
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (ReferenceEquals(instrument.Meter.Scope, meterFactory) || instrument.Meter.Name == "System.Runtime")
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((i, value, tags, _) => Record(i, value, tags));
        _listener.SetMeasurementEventCallback<int>((i, value, tags, _) => Record(i, value, tags));
        _listener.SetMeasurementEventCallback<double>((i, value, tags, _) => Record(i, value, tags));
        _listener.SetMeasurementEventCallback<float>((i, value, tags, _) => Record(i, value, tags));
        _listener.Start();
    }

    /// <summary>The Prometheus text exposition of every series seen so far.</summary>
    public string Scrape()
    {
        _listener.RecordObservableInstruments();
        var text = new StringBuilder();
        foreach (var group in _series.GroupBy(s => s.Key.Instrument).OrderBy(g => g.Key.Meter.Name, StringComparer.Ordinal).ThenBy(g => g.Key.Name, StringComparer.Ordinal))
        {
            var instrument = group.Key;
            var name = Name(instrument);
            var kind = instrument switch
            {
                Counter<long> or Counter<int> or Counter<double> or ObservableCounter<long> or ObservableCounter<int> or ObservableCounter<double> => "counter",
                Histogram<long> or Histogram<int> or Histogram<double> or Histogram<float> => "summary",
                _ => "gauge",
            };
            var metric = kind == "counter" && !name.EndsWith("_total", StringComparison.Ordinal) ? name + "_total" : name;
            if (instrument.Description is { Length: > 0 } description)
            {
                text.Append("# HELP ").Append(metric).Append(' ').Append(description.Replace("\n", " ", StringComparison.Ordinal)).Append('\n');
            }

            text.Append("# TYPE ").Append(metric).Append(' ').Append(kind).Append('\n');
            foreach (var (key, aggregate) in group.OrderBy(s => s.Key.Tags, StringComparer.Ordinal))
            {
                var labels = key.Tags.Length == 0 ? string.Empty : "{" + key.Tags + "}";
                lock (aggregate)
                {
                    if (kind == "summary")
                    {
                        text.Append(metric).Append("_count").Append(labels).Append(' ').Append(aggregate.Count.ToString(CultureInfo.InvariantCulture)).Append('\n');
                        text.Append(metric).Append("_sum").Append(labels).Append(' ').Append(aggregate.Sum.ToString("R", CultureInfo.InvariantCulture)).Append('\n');
                    }
                    else
                    {
                        text.Append(metric).Append(labels).Append(' ').Append(aggregate.Value.ToString("R", CultureInfo.InvariantCulture)).Append('\n');
                    }
                }
            }
        }

        return text.ToString();
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose() => _listener.Dispose();

    private void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var aggregate = _series.GetOrAdd((instrument, Labels(tags)), static _ => new Aggregate());
        lock (aggregate)
        {
            aggregate.Count++;
            aggregate.Sum += value;
            aggregate.Value = instrument switch
            {
                Counter<long> or Counter<int> or Counter<double> or UpDownCounter<long> or UpDownCounter<int> or UpDownCounter<double> => aggregate.Value + value,
                _ => value, // gauges and observable instruments report their current (cumulative) value
            };
        }
    }

    private static string Name(Instrument instrument)
    {
        var name = new StringBuilder();
        foreach (var c in instrument.Name)
        {
            name.Append(char.IsAsciiLetterOrDigit(c) ? c : '_');
        }

        if (instrument.Unit is "s" && !instrument.Name.EndsWith("seconds", StringComparison.Ordinal))
        {
            name.Append("_seconds");
        }

        return name.ToString();
    }

    private static string Labels(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (tags.Length == 0)
        {
            return string.Empty;
        }

        var pairs = new List<string>(tags.Length);
        foreach (var tag in tags)
        {
            var key = new string([.. tag.Key.Select(c => char.IsAsciiLetterOrDigit(c) ? c : '_')]);
            var value = Convert.ToString(tag.Value, CultureInfo.InvariantCulture) ?? string.Empty;
            pairs.Add($"{key}=\"{value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal)}\"");
        }

        pairs.Sort(StringComparer.Ordinal);
        return string.Join(",", pairs);
    }

    private sealed class Aggregate
    {
        public long Count { get; set; }

        public double Sum { get; set; }

        public double Value { get; set; }
    }
}
