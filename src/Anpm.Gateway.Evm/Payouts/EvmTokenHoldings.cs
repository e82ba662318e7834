using System.Globalization;
using System.Numerics;
using Anpm.Abstractions;
using Anpm.Credits;
using Microsoft.Extensions.Options;

namespace Anpm.Gateway.Evm;

/// <summary>
/// The hot wallet's holdings for the solvency report, read at one block so that they and the ledger's obligations
/// describe the same point: the wallet's token balance at the deposit listener's credited height (every deposit at or
/// below it is credited, none above it counts; before the first credited block, the last final block), and, as their own
/// line, the payouts that left the wallet by that block but wait for finality (<see cref="EvmPayoutSender.GetPaidUnconfirmedAsync"/>)
/// — the ledger owes them until they are confirmed. A payout mined and not yet final, or a deposit seen above finality,
/// therefore never shows as a shortfall or a surplus.
/// </summary>
public sealed class EvmTokenHoldings : ITokenHoldings
{
    private readonly IEvmChainClient _chain;
    private readonly IAnpmStore _store;
    private readonly EvmPayoutSender _sender;
    private readonly EvmDepositOptions _deposits;
    private readonly string _token;

    /// <summary>Creates the holdings of <paramref name="sender"/>'s wallet, which must be the deposits' custody address.</summary>
    /// <exception cref="OptionsValidationException">The deposit options are invalid.</exception>
    public EvmTokenHoldings(IEvmChainClient chain, IAnpmStore store, EvmPayoutSender sender, IOptions<EvmDepositOptions> deposits)
    {
        ArgumentNullException.ThrowIfNull(chain);
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(sender);
        _chain = chain;
        _store = store;
        _sender = sender;
        _deposits = ValidatedOptions.Value(deposits, new EvmDepositOptionsValidator());
        _token = Address.Parse(_deposits.Token).ToString();
    }

    /// <inheritdoc />
    public async ValueTask<TokenAmount> GetSettledHoldingsAsync(AssetCode asset, CancellationToken cancellationToken = default) =>
        (await GetHoldingsAsync(asset, cancellationToken).ConfigureAwait(false)).Settled;

    /// <inheritdoc />
    public async ValueTask<TokenHoldings> GetHoldingsAsync(AssetCode asset, CancellationToken cancellationToken = default)
    {
        var block = await ReadBlockAsync(cancellationToken).ConfigureAwait(false);
        var balance = await _chain.GetTokenBalanceAsync(_token, _sender.Wallet.ToString(), block, cancellationToken).ConfigureAwait(false);
        var inFlight = await _sender.GetPaidUnconfirmedAsync(block, cancellationToken).ConfigureAwait(false);
        return new TokenHoldings(new TokenAmount((UInt128)BigInteger.Min(balance, (BigInteger)UInt128.MaxValue)), inFlight,
            string.Create(CultureInfo.InvariantCulture, $"block {block}"));
    }

    // The listener's credited height; before it credited anything, the last final block.
    private async Task<long> ReadBlockAsync(CancellationToken cancellationToken)
    {
        var cursor = await _store.RunReadAsync(_deposits.ChainId, static (unitOfWork, chain, ct) => unitOfWork.Chain.GetLatestBlockAsync(chain, ct), cancellationToken).ConfigureAwait(false);
        if (cursor is not null)
        {
            return cursor.Number;
        }

        return Math.Max(0, (await _deposits.Finality.ReadLastFinalAsync(_chain, cancellationToken).ConfigureAwait(false)).LastFinal);
    }
}
