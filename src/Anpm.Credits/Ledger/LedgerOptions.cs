using Anpm.Abstractions;
using Microsoft.Extensions.Options;

namespace Anpm.Credits;

/// <summary>Options of the <see cref="Ledger"/>; validated when the ledger is created.</summary>
public sealed class LedgerOptions
{
    /// <summary>
    /// The assets the ledger holds, code → decimals (display and parsing only; amounts are always base units).
    /// Default: <c>APUS</c> with 12 decimals and <c>CREDIT</c> with 0. Configuration adds more or changes decimals.
    /// </summary>
    public IDictionary<string, int> Assets { get; } = new Dictionary<string, int>(StringComparer.Ordinal)
    {
        [WellKnownAssets.Apus.Value!] = 12,
        [WellKnownAssets.Credit.Value!] = 0,
    };

    /// <summary>The most transfers or accounts one batch may hold. Default 1000; 1 to 10 000.</summary>
    public int MaxBatchSize { get; set; } = 1000;

    /// <summary>The longest timeout a pending transfer may ask for, in seconds. Default 30 days.</summary>
    public uint MaxPendingTimeoutSeconds { get; set; } = 30 * 86_400;

    /// <summary>The most entries one page of account history may hold. Default 500; 1 to 10 000.</summary>
    public int MaxHistoryPageSize { get; set; } = 500;

    /// <summary>How many expired pending transfers one unit of work of the expiry sweep releases. Default 500; 1 to 10 000.</summary>
    public int ExpirySweepBatchSize { get; set; } = 500;
}

/// <summary>Validates <see cref="LedgerOptions"/>; every failure names the option.</summary>
public sealed class LedgerOptionsValidator : IValidateOptions<LedgerOptions>
{
    private const int MaxLimit = 10_000;

    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, LedgerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        foreach (var (code, decimals) in options.Assets)
        {
            if (!AssetCode.TryParse(code, out _, out var error))
            {
                failures.Add($"{nameof(LedgerOptions)}.{nameof(LedgerOptions.Assets)}: {error}");
            }

            if (decimals is < 0 or > TokenAmount.MaxDecimals)
            {
                failures.Add($"{nameof(LedgerOptions)}.{nameof(LedgerOptions.Assets)}[{code}]: decimals must be 0 to {TokenAmount.MaxDecimals}, not {decimals}.");
            }
        }

        if (options.Assets.Count == 0)
        {
            failures.Add($"{nameof(LedgerOptions)}.{nameof(LedgerOptions.Assets)}: at least one asset is required.");
        }

        CheckRange(failures, nameof(LedgerOptions.MaxBatchSize), options.MaxBatchSize);
        CheckRange(failures, nameof(LedgerOptions.MaxHistoryPageSize), options.MaxHistoryPageSize);
        CheckRange(failures, nameof(LedgerOptions.ExpirySweepBatchSize), options.ExpirySweepBatchSize);
        if (options.MaxPendingTimeoutSeconds == 0)
        {
            failures.Add($"{nameof(LedgerOptions)}.{nameof(LedgerOptions.MaxPendingTimeoutSeconds)} must be at least 1.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void CheckRange(List<string> failures, string option, int value)
    {
        if (value is < 1 or > MaxLimit)
        {
            failures.Add($"{nameof(LedgerOptions)}.{option} must be 1 to {MaxLimit}, not {value}.");
        }
    }
}
