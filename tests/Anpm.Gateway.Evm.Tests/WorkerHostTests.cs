using System.Diagnostics.Metrics;
using System.Numerics;
using Anpm.Abstractions;
using Anpm.Credits;
using Anpm.Hosting;
using Anpm.Storage.Sqlite;
using Anpm.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;

namespace Anpm.Gateway.Evm.Tests;

/// <summary>
/// The packages in a worker service — the Generic Host, no ASP.NET Core, no web server: <c>AddAnpm</c> on a SQLite file,
/// <c>AddAnpmJobs</c> and <c>AddEvmGateway</c> against anvil. A deposit the host cannot use (no exchange rate is set) is
/// credited at finality by the gateway's loop, refunded through the outbox, sent back on chain by the outbox-dispatch job
/// through the payout sender, and confirmed by the loop — every part driven by the hosted services alone.
/// </summary>
public sealed class WorkerHostTests : IAsyncLifetime
{
    private readonly string _directory = Directory.CreateTempSubdirectory("anpm-worker-").FullName;
    private TestChain _chain = null!;

    public async Task InitializeAsync() => _chain = await TestChain.StartAsync();

    public async Task DisposeAsync()
    {
        await _chain.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task AWorkerService_RunsTheJobsAndTheEvmGateway_OnSqlite()
    {
        var hot = await _chain.WalletAsync();
        var payer = await _chain.WalletAsync();
        var token = await _chain.DeployAsync("TestToken");
        await TestChain.SendAsync(payer, token, "mint", payer.Address, new BigInteger(1_000_000));

        var builder = Host.CreateApplicationBuilder();
        builder.Services
            .AddAnpm(anpm => anpm
                .UseSqlite($"Data Source={Path.Combine(_directory, "anpm.db")}")
                .AddCredits(o => o.Treasury = Address.Parse("0x00000000000000000000000000000000000000aa")))
            .AddAnpmJobs(jobs =>
            {
                jobs.OutboxDispatch = TimeSpan.FromMilliseconds(200);
                jobs.PendingExpiry = TimeSpan.FromMilliseconds(200);
            })
            .AddEvmGateway(gateway =>
            {
                gateway.RpcUrls.Add(_chain.Node.Url);
                gateway.ChainId = 31337;
                gateway.Token = token.Address;
                gateway.Finality = EvmFinality.Depth(2);
                gateway.PollInterval = TimeSpan.FromMilliseconds(200);
            }, _ => EvmKeySigner.FromHex(hot.PrivateKeyHex));
        using var host = builder.Build();

        // The gateway counts on the application's meters (IMeterFactory), not on a static meter of its own.
        var meters = host.Services.GetRequiredService<IMeterFactory>();
        long credited = 0;
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == EvmGatewayMetrics.MeterName && ReferenceEquals(instrument.Meter.Scope, meters))
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, _, _) =>
        {
            if (instrument.Name == "anpm.evm.deposits.credited")
            {
                Interlocked.Add(ref credited, value);
            }
        });
        listener.Start();
        await host.StartAsync();
        try
        {
            await TestChain.SendAsync(payer, token, "transfer", hot.Address, new BigInteger(1_000));
            var outbox = host.Services.GetRequiredService<Outbox>();

            // anvil mines only on transactions: a block at a time until the refund is back on chain and confirmed.
            var deadline = DateTime.UtcNow.AddSeconds(90);
            OutgoingTransfer? refund = null;
            while (DateTime.UtcNow < deadline)
            {
                await _chain.Node.MineAsync();
                refund = (await outbox.ListAsync(OutgoingTransferState.Confirmed, null, 10)).SingleOrDefault();
                if (refund is not null && await _chain.BalanceAsync(token, payer.Address) == 1_000_000)
                {
                    break;
                }

                await Task.Delay(100);
            }

            Assert.NotNull(refund);
            Assert.Equal((Address.Parse(payer.Address), new TokenAmount(1_000)), (refund.To, refund.Amount));
            Assert.Equal(1_000_000, await _chain.BalanceAsync(token, payer.Address));
            Assert.Equal(0, await _chain.BalanceAsync(token, hot.Address));
            await LedgerAssert.InvariantHoldsAsync(host.Services.GetRequiredService<Ledger>());
            Assert.Equal(1, Interlocked.Read(ref credited));

            // The jobs and the gateway report through the health checks of a host without HTTP.
            var monitor = host.Services.GetRequiredService<AnpmJobMonitor>();
            Assert.NotNull(monitor.Jobs["outbox-dispatch"].LastSuccess);
            var health = await host.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync(r => r.Tags.Contains(AnpmHealthCheckTags.Anpm));
            Assert.Equal(
                ["anpm-evm-deposits", "anpm-evm-payouts", "anpm-jobs", "anpm-schema", "anpm-store"],
                health.Entries.Keys.Order(StringComparer.Ordinal));
            Assert.All(health.Entries, e => Assert.NotEqual(HealthStatus.Unhealthy, e.Value.Status));
            Assert.DoesNotContain(AppDomain.CurrentDomain.GetAssemblies(), a => a.GetName().Name!.StartsWith("Microsoft.AspNetCore", StringComparison.Ordinal));
        }
        finally
        {
            await host.StopAsync();
        }
    }

    [Fact]
    public async Task AWorkerService_RefusesToStart_WhenTheGatewaysOptionsAreWrong_NamingThem()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Services
            .AddAnpm(anpm => anpm.UseSqlite($"Data Source={Path.Combine(_directory, "refused.db")}").AddCredits())
            .AddAnpmJobs()
            .AddEvmGateway(gateway =>
            {
                gateway.ChainId = 31337;
                gateway.Token = "not an address";
                gateway.PollInterval = TimeSpan.Zero;
            }, _ => EvmKeySigner.FromHex("0x" + new string('1', 64)));
        using var host = builder.Build();
        var refused = await Assert.ThrowsAsync<Microsoft.Extensions.Options.OptionsValidationException>(() => host.StartAsync());
        Assert.Contains("EvmGatewayOptions.RpcUrls must name at least one JSON-RPC endpoint.", refused.Message, StringComparison.Ordinal);
        Assert.Contains("EvmGatewayOptions.PollInterval must be 100 ms to 1 h", refused.Message, StringComparison.Ordinal);
        Assert.Contains("EvmDepositOptions.Token", refused.Message, StringComparison.Ordinal);
    }
}
