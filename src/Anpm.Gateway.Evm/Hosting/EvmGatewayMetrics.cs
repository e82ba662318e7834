using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace Anpm.Gateway.Evm;

/// <summary>
/// The EVM gateway's instruments, on the meter <see cref="MeterName"/> from the application's <see cref="IMeterFactory"/>
/// (<c>AddEvmGateway</c> registers one): the counters <c>anpm.evm.deposits.credited</c>, <c>anpm.evm.payouts.signed</c>,
/// <c>anpm.evm.payouts.final</c>, <c>anpm.evm.payouts.held</c> and <c>anpm.evm.rpc.errors</c>, the histogram
/// <c>anpm.evm.reorg.depth</c>, and per chain (tag <c>chain</c>) from the latest poll the gauges <c>anpm.evm.head</c>,
/// <c>anpm.evm.final</c>, <c>anpm.evm.cursor</c>, <c>anpm.evm.lag</c> (final − cursor), <c>anpm.evm.deposits.pending</c>
/// and <c>anpm.evm.halted</c> (1 or 0). Nothing is static: each set of instruments observes only its own gateway.
/// </summary>
public sealed class EvmGatewayMetrics
{
    /// <summary>The meter's name; add it to OpenTelemetry with <c>AddMeter(EvmGatewayMetrics.MeterName)</c>.</summary>
    public const string MeterName = "Anpm.Gateway.Evm";

    private readonly ConcurrentDictionary<ulong, EvmPollResult> _latestByChain = new();

    /// <summary>Creates the instruments on the application's meter factory.</summary>
    /// <param name="meterFactory">The application's meter factory.</param>
    public EvmGatewayMetrics(IMeterFactory meterFactory)
        : this(CreateMeter(meterFactory))
    {
    }

    private EvmGatewayMetrics(Meter meter)
    {
        DepositsCredited = meter.CreateCounter<long>("anpm.evm.deposits.credited", description: "Deposits credited at finality.");
        ReorgDepth = meter.CreateHistogram<long>("anpm.evm.reorg.depth", unit: "{block}",
            description: "Blocks a reorg that halted crediting replaced, from the highest credited one down (as far as the recorded hashes and their parents tell; at most 256).");
        PayoutsSigned = meter.CreateCounter<long>("anpm.evm.payouts.signed", description: "Payment, replacement and cancellation transactions signed.");
        PayoutsFinal = meter.CreateCounter<long>("anpm.evm.payouts.final", description: "Payouts final on chain, by outcome (confirmed, failed, released).");
        PayoutsHeld = meter.CreateCounter<long>("anpm.evm.payouts.held", description: "Payouts not signed now, by reason (fee cap, funds, busy wallet, chain).");
        RpcErrors = meter.CreateCounter<long>("anpm.evm.rpc.errors",
            description: "Failed chain calls, by provider (its index) and error (a JSON-RPC code, 429, transport, timeout or behind).");
        Gauge(meter, "anpm.evm.head", "The chain's newest block.", r => r.Head);
        Gauge(meter, "anpm.evm.final", "The highest final block.", r => r.LastFinal);
        Gauge(meter, "anpm.evm.cursor", "The highest credited block.", r => r.Cursor);
        Gauge(meter, "anpm.evm.lag", "Final blocks not yet credited.", r => Math.Max(0, r.LastFinal - r.Cursor));
        Gauge(meter, "anpm.evm.deposits.pending", "Deposits above finality.", r => r.Pending.Count);
        Gauge(meter, "anpm.evm.halted", "1 while a reorg below the credited height halts crediting.", r => r.HaltReason is null ? 0 : 1);
    }

    internal Counter<long> DepositsCredited { get; }

    internal Histogram<long> ReorgDepth { get; }

    internal Counter<long> PayoutsSigned { get; }

    internal Counter<long> PayoutsFinal { get; }

    internal Counter<long> PayoutsHeld { get; }

    internal Counter<long> RpcErrors { get; }

    /// <summary>Instruments on a meter of their own, for gateway parts built without a service provider (tests, tools).</summary>
    /// <returns>The instruments.</returns>
    public static EvmGatewayMetrics Standalone() => new(new Meter(MeterName));

    /// <summary>Records a chain's latest poll, which the gauges report.</summary>
    internal void Observe(ulong chainId, EvmPollResult poll) => _latestByChain[chainId] = poll;

    private static Meter CreateMeter(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        return meterFactory.Create(MeterName);
    }

    private void Gauge(Meter meter, string name, string description, Func<EvmPollResult, long> value) =>
        meter.CreateObservableGauge(name, () => _latestByChain.Select(p => new Measurement<long>(value(p.Value), new KeyValuePair<string, object?>("chain", p.Key))), description: description);
}
