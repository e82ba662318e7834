using Microsoft.Extensions.Options;

namespace Anpm.Gateway.Evm;

/// <summary>Options of the <see cref="EvmDepositListener"/>: which chain, token and custody address, and when a deposit is final.</summary>
public sealed class EvmDepositOptions
{
    /// <summary>The chain's id; the listener refuses to start against another. Required.</summary>
    public ulong ChainId { get; set; }

    /// <summary>The ERC-20 token contract whose <c>Transfer</c> logs are deposits. Required.</summary>
    public string Token { get; set; } = string.Empty;

    /// <summary>The custody address deposits go to. Required.</summary>
    public string Custody { get; set; } = string.Empty;

    /// <summary>
    /// Anpm's deposit router, when deposits may go through it: a transfer to custody made by the router's <c>deposit</c>
    /// carries the router's action, pool and reference instead of <see cref="DefaultAction"/>. Optional.
    /// </summary>
    public string? Router { get; set; }

    /// <summary>When a block is final. Default: the chain's <c>finalized</c> tag.</summary>
    public EvmFinality Finality { get; set; } = EvmFinality.FinalizedTag;

    /// <summary>The first block to read when nothing has been recorded yet (the custody address's first use). Default 0.</summary>
    public long StartBlock { get; set; }

    /// <summary>The action of a plain transfer to custody (no router): default <c>Buy-Credits</c>, the sender being the token's sender.</summary>
    public string DefaultAction { get; set; } = "Buy-Credits";

    /// <summary>The notice action of each router action code; a code not listed becomes <c>unknown:{code}</c>, which is refunded.</summary>
    public IDictionary<int, string> RouterActions { get; } = new Dictionary<int, string>
    {
        [0] = "Buy-Credits",
        [1] = "Contribute",
        [2] = "Stake",
        [3] = "Fund-Rewards",
        [4] = "Distribute",
    };

    /// <summary>The widest <c>eth_getLogs</c> range while catching up (halved when a provider refuses it). Default 2,000; 1 to 100,000.</summary>
    public int MaxBlocksPerRequest { get; set; } = 2_000;

    /// <summary>How many blocks above finality are searched for pending deposits. Default 256; 0 to 10,000.</summary>
    public int MaxPendingBlocks { get; set; } = 256;
}

/// <summary>Validates <see cref="EvmDepositOptions"/>; every failure names the option.</summary>
public sealed class EvmDepositOptionsValidator : IValidateOptions<EvmDepositOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, EvmDepositOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        if (options.ChainId is 0 or > Abstractions.ChainBlock.MaxChainId)
        {
            failures.Add($"{nameof(EvmDepositOptions)}.{nameof(EvmDepositOptions.ChainId)} must be 1 to {Abstractions.ChainBlock.MaxChainId}, not {options.ChainId}.");
        }

        CheckAddress(failures, nameof(EvmDepositOptions.Token), options.Token, required: true);
        CheckAddress(failures, nameof(EvmDepositOptions.Custody), options.Custody, required: true);
        CheckAddress(failures, nameof(EvmDepositOptions.Router), options.Router, required: false);
        if (options.StartBlock < 0)
        {
            failures.Add($"{nameof(EvmDepositOptions)}.{nameof(EvmDepositOptions.StartBlock)} must not be negative.");
        }

        if (string.IsNullOrWhiteSpace(options.DefaultAction) || options.DefaultAction.Length > Abstractions.TokenNotice.MaxTextLength)
        {
            failures.Add($"{nameof(EvmDepositOptions)}.{nameof(EvmDepositOptions.DefaultAction)} must be 1 to {Abstractions.TokenNotice.MaxTextLength} characters.");
        }

        if (options.RouterActions.Any(a => a.Key is < 0 or > 255 || string.IsNullOrWhiteSpace(a.Value)))
        {
            failures.Add($"{nameof(EvmDepositOptions)}.{nameof(EvmDepositOptions.RouterActions)} maps codes 0 to 255 to non-empty actions.");
        }

        if (options.MaxBlocksPerRequest is < 1 or > 100_000)
        {
            failures.Add($"{nameof(EvmDepositOptions)}.{nameof(EvmDepositOptions.MaxBlocksPerRequest)} must be 1 to 100000, not {options.MaxBlocksPerRequest}.");
        }

        if (options.MaxPendingBlocks is < 0 or > 10_000)
        {
            failures.Add($"{nameof(EvmDepositOptions)}.{nameof(EvmDepositOptions.MaxPendingBlocks)} must be 0 to 10000, not {options.MaxPendingBlocks}.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void CheckAddress(List<string> failures, string option, string? value, bool required)
    {
        if (string.IsNullOrEmpty(value) && !required)
        {
            return;
        }

        if (!Abstractions.Address.TryParse(value, out _))
        {
            failures.Add($"{nameof(EvmDepositOptions)}.{option} must be a 0x address of 40 hex digits, not '{value}'.");
        }
    }
}
