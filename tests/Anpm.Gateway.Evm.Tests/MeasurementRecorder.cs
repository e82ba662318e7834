using System.Diagnostics.Metrics;

namespace Anpm.Gateway.Evm.Tests;

/// <summary>Records every measurement of one instrument (a counter or histogram of long), with its tags, while it lives.</summary>
internal sealed class MeasurementRecorder : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly List<(long Value, Dictionary<string, object?> Tags)> _measurements = [];

    public MeasurementRecorder(string instrument)
    {
        _listener.InstrumentPublished = (published, listener) =>
        {
            if (published.Name == instrument)
            {
                listener.EnableMeasurementEvents(published);
            }
        };
        _listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            var copy = new Dictionary<string, object?>(StringComparer.Ordinal);
            foreach (var tag in tags)
            {
                copy[tag.Key] = tag.Value;
            }

            lock (_measurements)
            {
                _measurements.Add((value, copy));
            }
        });
        _listener.Start();
    }

    /// <summary>The values recorded with a tag of that value (other tests' measurements on other tags are left out).</summary>
    public List<long> ValuesWhere(string tag, object value)
    {
        lock (_measurements)
        {
            return [.. _measurements.Where(m => m.Tags.TryGetValue(tag, out var v) && Equals(v, value)).Select(m => m.Value)];
        }
    }

    /// <summary>The values of one tag over every measurement.</summary>
    public List<object?> TagValues(string tag)
    {
        lock (_measurements)
        {
            return [.. _measurements.Select(m => m.Tags.GetValueOrDefault(tag))];
        }
    }

    public void Dispose() => _listener.Dispose();
}
