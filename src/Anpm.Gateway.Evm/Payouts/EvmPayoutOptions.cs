using System.Numerics;
using Anpm.Abstractions;
using Microsoft.Extensions.Options;

namespace Anpm.Gateway.Evm;

/// <summary>Options of the <see cref="EvmPayoutSender"/>: which chain and token it pays in, when a payment is final, and its fee and time limits.</summary>
public sealed class EvmPayoutOptions
{
    /// <summary>The chain's id; every transaction is signed for it. Required.</summary>
    public ulong ChainId { get; set; }

    /// <summary>The ERC-20 token contract paid out. Required.</summary>
    public string Token { get; set; } = string.Empty;

    /// <summary>The ledger asset the outbox's transfers carry for this token (others are never sent). Default <c>APUS</c>.</summary>
    public string Asset { get; set; } = WellKnownAssets.Apus.ToString();

    /// <summary>When a payment is final (only then is its outgoing transfer confirmed or failed). Default: the chain's <c>finalized</c> tag.</summary>
    public EvmFinality Finality { get; set; } = EvmFinality.FinalizedTag;

    /// <summary>The most any transaction may pay per gas, in gwei (base fee and tip together); nothing is signed above it. Default 500.</summary>
    public decimal MaxFeePerGasGwei { get; set; } = 500;

    /// <summary>The least tip per gas, in gwei. Default 0.01.</summary>
    public decimal TipFloorGwei { get; set; } = 0.01m;

    /// <summary>How long a payment waits unmined before it is replaced with higher fees (same nonce), in seconds. Default 120.</summary>
    public int ReplaceAfterSeconds { get; set; } = 120;

    /// <summary>
    /// How long a payment may stay unmined before its nonce is cancelled (a zero-value transaction to the wallet itself,
    /// at the same nonce); once the cancellation is final the transfer is paid again on a new nonce. Seconds; default
    /// 28,800 (8 hours).
    /// </summary>
    public int CancelAfterSeconds { get; set; } = 8 * 3600;

    /// <summary>The gas limit of a token transfer when the node cannot estimate it. Default 65,000.</summary>
    public long FallbackGasLimit { get; set; } = 65_000;

    /// <summary>The margin added to the node's gas estimate, in percent. Default 20; 0 to 100.</summary>
    public int GasLimitMarginPercent { get; set; } = 20;

    /// <summary>
    /// The largest single payout, in base units; a larger transfer is held (never signed) until an operator deals with
    /// it. Empty: no limit. Default empty.
    /// </summary>
    public string? MaxTransferAmount { get; set; }

    /// <summary>
    /// The most the wallet may commit to pay in any 24 hours, in base units (each transfer counted once, when it first
    /// gets a nonce); a transfer that would pass it waits. Empty: no limit. Default empty.
    /// </summary>
    public string? MaxDailyAmount { get; set; }

    /// <summary>The most open nonces one reconciliation looks at. Default 100; 1 to 10,000.</summary>
    public int ReconcileBatchSize { get; set; } = 100;

    internal BigInteger MaxFeePerGas => Wei(MaxFeePerGasGwei);

    internal TokenAmount? TransferLimit => MaxTransferAmount is { Length: > 0 } text ? TokenAmount.Parse(text) : null;

    internal TokenAmount? DailyLimit => MaxDailyAmount is { Length: > 0 } text ? TokenAmount.Parse(text) : null;

    internal BigInteger TipFloor => Wei(TipFloorGwei);

    internal static BigInteger Wei(decimal gwei) => new(decimal.Truncate(gwei * 1_000_000_000m));
}

/// <summary>Validates <see cref="EvmPayoutOptions"/>; every failure names the option.</summary>
public sealed class EvmPayoutOptionsValidator : IValidateOptions<EvmPayoutOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, EvmPayoutOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        const string Prefix = nameof(EvmPayoutOptions) + ".";
        if (options.ChainId is 0 or > ChainBlock.MaxChainId)
        {
            failures.Add($"{Prefix}{nameof(EvmPayoutOptions.ChainId)} must be 1 to {ChainBlock.MaxChainId}, not {options.ChainId}.");
        }

        if (!Address.TryParse(options.Token, out _, out _))
        {
            failures.Add($"{Prefix}{nameof(EvmPayoutOptions.Token)} must be a 0x address of 40 hex digits, not '{options.Token}'.");
        }

        if (!AssetCode.TryParse(options.Asset, out _))
        {
            failures.Add($"{Prefix}{nameof(EvmPayoutOptions.Asset)} must be an asset code, not '{options.Asset}'.");
        }

        if (options.MaxFeePerGasGwei is <= 0 or > 1_000_000 || options.TipFloorGwei < 0 || options.TipFloorGwei > options.MaxFeePerGasGwei)
        {
            failures.Add($"{Prefix}{nameof(EvmPayoutOptions.MaxFeePerGasGwei)} must be above 0 and at most 1,000,000, and {nameof(EvmPayoutOptions.TipFloorGwei)} 0 to it.");
        }

        if (options.ReplaceAfterSeconds < 1 || options.CancelAfterSeconds <= options.ReplaceAfterSeconds)
        {
            failures.Add($"{Prefix}{nameof(EvmPayoutOptions.ReplaceAfterSeconds)} must be at least 1 and {nameof(EvmPayoutOptions.CancelAfterSeconds)} above it.");
        }

        if (options.FallbackGasLimit is < 21_000 or > 30_000_000 || options.GasLimitMarginPercent is < 0 or > 100)
        {
            failures.Add($"{Prefix}{nameof(EvmPayoutOptions.FallbackGasLimit)} must be 21,000 to 30,000,000 and {nameof(EvmPayoutOptions.GasLimitMarginPercent)} 0 to 100.");
        }

        foreach (var (option, value) in new[] { (nameof(EvmPayoutOptions.MaxTransferAmount), options.MaxTransferAmount), (nameof(EvmPayoutOptions.MaxDailyAmount), options.MaxDailyAmount) })
        {
            if (value is { Length: > 0 } && (!TokenAmount.TryParse(value, out var limit) || limit.IsZero))
            {
                failures.Add($"{Prefix}{option} must be empty or a whole number of base units of at least 1, not '{value}'.");
            }
        }

        if (options.ReconcileBatchSize is < 1 or > 10_000)
        {
            failures.Add($"{Prefix}{nameof(EvmPayoutOptions.ReconcileBatchSize)} must be 1 to 10,000, not {options.ReconcileBatchSize}.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
