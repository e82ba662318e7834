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

    /// <summary>The spans around each signed command (the jobs' spans come from Anpm.Hosting under the same name).</summary>
    public static ActivitySource Source { get; } = new(Name);

    /// <summary>Creates the instruments on the application's meter factory.</summary>
    public AnpmTelemetry(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        var meter = meterFactory.Create(Name);
        SignedRequests = meter.CreateCounter<long>("anpm.signed_requests", description: "Signed requests answered, by message type, HTTP status and whether it was a replay.");
    }

    /// <summary><c>anpm.signed_requests</c>: tags <c>type</c>, <c>status</c>, <c>replayed</c>.</summary>
    public Counter<long> SignedRequests { get; }
}
