using System.Diagnostics.Metrics;
using System.Numerics;
using Anpm.Abstractions;
using Anpm.Credits;
using Anpm.Storage.InMemory;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Anpm.Gateway.Evm.Tests;

/// <summary>
/// What an operator sees of the deposit listener: the health check (degraded before the first poll, healthy while
/// crediting, unhealthy while halted) and the metrics (credited deposits, head/final/cursor/lag/pending/halted per chain).
/// Its own chain id, so the per-chain gauges are this test's alone.
/// </summary>
public sealed class DepositListenerHealthTests : IAsyncLifetime
{
    private const ulong ChainId = 424242;
    private TestChain _chain = null!;

    public async Task InitializeAsync() => _chain = await TestChain.StartAsync(ChainId);

    public async Task DisposeAsync() => await _chain.DisposeAsync();

    [Fact]
    public async Task Health_DegradedBeforeAPoll_HealthyWhileCrediting_UnhealthyWhenHalted_AndMetricsFollow()
    {
        var custody = (await _chain.WalletAsync()).Address;
        var payer = await _chain.WalletAsync();
        var token = await _chain.DeployAsync("TestToken");
        await TestChain.SendAsync(payer, token, "mint", payer.Address, new BigInteger(1_000));
        var store = new InMemoryAnpmStore();
        var (ledger, _, credits, notices) = CreditPipeline.Over(store);
        await TestRates.SetSinceYesterdayAsync(store, 1, 1);
        var listener = new EvmDepositListener(new NethereumChainClient(_chain.Node.Url), store, notices,
            Options.Create(new EvmDepositOptions { ChainId = ChainId, Token = token.Address, Custody = custody, Finality = EvmFinality.Depth(2) }));
        var health = new EvmDepositHealthCheck(listener, maxLagBlocks: 10);
        var measured = new Dictionary<string, long>();
        using var meters = new MeterListener();
        meters.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == EvmDepositListener.MeterName)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        meters.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            if (tags.ToArray().Any(t => t.Key == "chain" && Equals(t.Value, ChainId)))
            {
                lock (measured)
                {
                    measured[instrument.Name] = instrument is Counter<long> ? measured.GetValueOrDefault(instrument.Name) + value : value;
                }
            }
        });
        meters.Start();

        Assert.Equal(HealthStatus.Degraded, (await health.CheckHealthAsync(new HealthCheckContext())).Status);

        await TestChain.SendAsync(payer, token, "transfer", custody, new BigInteger(120));
        await _chain.Node.MineAsync(2);
        var credited = await listener.PollAsync();
        var healthy = await health.CheckHealthAsync(new HealthCheckContext());
        Assert.Equal((HealthStatus.Healthy, credited.Cursor, 0L), (healthy.Status, (long)healthy.Data["cursor"], (long)healthy.Data["lag"]));
        meters.RecordObservableInstruments();
        Assert.Equal(1, measured["anpm.evm.deposits.credited"]);
        Assert.Equal((credited.Head, credited.Cursor, 0L, 0L), (measured["anpm.evm.head"], measured["anpm.evm.cursor"], measured["anpm.evm.lag"], measured["anpm.evm.halted"]));

        await _chain.Node.RpcAsync("anvil_reorg", 3, Array.Empty<object>());
        await _chain.Node.MineAsync(2);
        var halted = await listener.PollAsync();
        var unhealthy = await health.CheckHealthAsync(new HealthCheckContext());
        Assert.Equal((HealthStatus.Unhealthy, halted.HaltReason), (unhealthy.Status, unhealthy.Description));
        meters.RecordObservableInstruments();
        Assert.Equal(1, measured["anpm.evm.halted"]);
    }

}
