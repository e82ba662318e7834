using System.Collections.Frozen;
using Anpm.Abstractions;
using Microsoft.Extensions.Options;

namespace Anpm.Credits;

/// <summary>The validated, immutable form of <see cref="LedgerOptions"/> that the ledger runs on.</summary>
internal sealed class LedgerRules
{
    private readonly FrozenDictionary<AssetCode, int> _decimals;

    public LedgerRules(LedgerOptions options)
    {
        var validation = new LedgerOptionsValidator().Validate(Options.DefaultName, options);
        if (validation.Failed)
        {
            throw new OptionsValidationException(Options.DefaultName, typeof(LedgerOptions), validation.Failures);
        }

        _decimals = options.Assets.ToFrozenDictionary(pair => AssetCode.Parse(pair.Key), pair => pair.Value);
        MaxBatchSize = options.MaxBatchSize;
        MaxPendingTimeoutSeconds = options.MaxPendingTimeoutSeconds;
        MaxHistoryPageSize = options.MaxHistoryPageSize;
        ExpirySweepBatchSize = options.ExpirySweepBatchSize;
    }

    public int MaxBatchSize { get; }

    public uint MaxPendingTimeoutSeconds { get; }

    public int MaxHistoryPageSize { get; }

    public int ExpirySweepBatchSize { get; }

    public IReadOnlyDictionary<AssetCode, int> Decimals => _decimals;

    public bool HasAsset(AssetCode asset) => _decimals.ContainsKey(asset);
}
