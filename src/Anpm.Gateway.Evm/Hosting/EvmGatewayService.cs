using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Anpm.Gateway.Evm;

/// <summary>
/// The gateway's loop, as a hosted service: at start it checks the chain (the node serves <see cref="EvmGatewayOptions.ChainId"/>,
/// the token and the router hold code; a mismatch stops the host), then every <see cref="EvmGatewayOptions.PollInterval"/>
/// (on the application's <see cref="TimeProvider"/>) credits final deposits and reconciles the hot wallet's payouts. A
/// failed round is logged and tried again at the next.
/// </summary>
public sealed partial class EvmGatewayService(
    EvmDepositListener listener, EvmPayoutSender sender, IOptions<EvmGatewayOptions> options, TimeProvider timeProvider, ILogger<EvmGatewayService> logger)
    : BackgroundService
{
    /// <summary>Checks the chain (<see cref="EvmDepositListener.VerifyChainAsync"/>), then starts the loop.</summary>
    /// <exception cref="Abstractions.AnpmException">The node serves another chain, or the token or router holds no contract.</exception>
    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        await listener.VerifyChainAsync(cancellationToken).ConfigureAwait(false);
        await base.StartAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = options.Value.PollInterval;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var poll = await listener.PollAsync(stoppingToken).ConfigureAwait(false);
                if (poll.HaltReason is { } halt)
                {
                    LogHalted(logger, halt);
                }

                await sender.ReconcileAsync(stoppingToken).ConfigureAwait(false);
            }
            catch (Exception exception) when (!stoppingToken.IsCancellationRequested)
            {
                LogRoundFailed(logger, exception, interval);
            }

            try
            {
                await Task.Delay(interval, timeProvider, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    [LoggerMessage(EventId = 101, Level = LogLevel.Critical, Message = "EVM deposits are halted: {Reason} An operator must reconcile and resume (docs/getting-started/evm-gateway.md).")]
    private static partial void LogHalted(ILogger logger, string reason);

    [LoggerMessage(EventId = 102, Level = LogLevel.Error, Message = "An EVM gateway round failed; it runs again in {Interval}.")]
    private static partial void LogRoundFailed(ILogger logger, Exception exception, TimeSpan interval);
}
