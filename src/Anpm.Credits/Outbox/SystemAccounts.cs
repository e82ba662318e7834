using Anpm.Abstractions;

namespace Anpm.Credits;

/// <summary>The ledger accounts the system itself owns, one of each per asset.</summary>
public static class SystemAccounts
{
    /// <summary>
    /// Where money enters and leaves the ledger: a deposit debits it, a confirmed outgoing transfer credits it. It may go
    /// negative: minus its balance is what the system holds of the asset.
    /// </summary>
    public static AccountId Issuance(AssetCode asset) => AccountId.Parse("issuance:" + asset);

    /// <summary>Tokens owed to addresses and written to the outbox, until the gateway confirms they left. Never negative.</summary>
    public static AccountId OutboxInFlight(AssetCode asset) => AccountId.Parse("outbox:" + asset);

    /// <summary>The accounts every ledger needs for an asset, with their rules.</summary>
    public static IReadOnlyList<NewAccount> For(AssetCode asset) =>
    [
        new(Issuance(asset), asset, AccountFlags.None),
        new(OutboxInFlight(asset), asset, AccountFlags.DebitsMustNotExceedCredits),
    ];
}
