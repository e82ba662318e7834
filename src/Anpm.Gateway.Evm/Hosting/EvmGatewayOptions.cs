using Microsoft.Extensions.Options;

namespace Anpm.Gateway.Evm;

/// <summary>
/// The EVM gateway as <c>services.AddEvmGateway(…)</c> runs it: the chain's endpoints, the token, finality, how often it
/// polls, and the listener's and the payout sender's own settings. <see cref="ChainId"/>, <see cref="Token"/> and
/// <see cref="Finality"/> are written into <see cref="Deposits"/> and <see cref="Payouts"/>, and the hot wallet's address
/// (the signer's) into <see cref="EvmDepositOptions.Custody"/>: set them here once.
/// </summary>
public sealed class EvmGatewayOptions
{
    /// <summary>The chain's JSON-RPC endpoints (http or https), tried in order with failover. At least one.</summary>
    public IList<string> RpcUrls { get; } = [];

    /// <summary>The chain's id; the gateway refuses to start against a node serving another. Required.</summary>
    public ulong ChainId { get; set; }

    /// <summary>The ERC-20 token contract. Required.</summary>
    public string Token { get; set; } = string.Empty;

    /// <summary>When a block is final. Default: the chain's <c>finalized</c> tag.</summary>
    public EvmFinality Finality { get; set; } = EvmFinality.FinalizedTag;

    /// <summary>How long the gateway waits between rounds (credit final deposits, reconcile payouts). Default 5 s; 100 ms to 1 h.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The deposit listener's settings (router, start block, router actions, ranges).</summary>
    public EvmDepositOptions Deposits { get; } = new();

    /// <summary>The payout sender's settings (fee caps, replacement, amount limits).</summary>
    public EvmPayoutOptions Payouts { get; } = new();

    /// <summary>How calls to the endpoints are timed out, retried and failed over.</summary>
    public ChainClientResilienceOptions Resilience { get; } = new();
}

/// <summary>Validates <see cref="EvmGatewayOptions"/> with the listener's, the sender's and the chain client's own validators; each failure names the option.</summary>
public sealed class EvmGatewayOptionsValidator : IValidateOptions<EvmGatewayOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, EvmGatewayOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        if (options.RpcUrls.Count == 0)
        {
            failures.Add("EvmGatewayOptions.RpcUrls must name at least one JSON-RPC endpoint.");
        }

        foreach (var url in options.RpcUrls)
        {
            if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            {
                failures.Add($"EvmGatewayOptions.RpcUrls: '{url}' is not an absolute http or https URL.");
            }
        }

        if (options.PollInterval < TimeSpan.FromMilliseconds(100) || options.PollInterval > TimeSpan.FromHours(1))
        {
            failures.Add($"EvmGatewayOptions.PollInterval must be 100 ms to 1 h, not {options.PollInterval}.");
        }

        foreach (var result in new[] { new EvmDepositOptionsValidator().Validate(name, options.Deposits), new EvmPayoutOptionsValidator().Validate(name, options.Payouts),
            new ChainClientResilienceOptionsValidator().Validate(name, options.Resilience) })
        {
            if (result.Failed)
            {
                failures.AddRange(result.Failures);
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
