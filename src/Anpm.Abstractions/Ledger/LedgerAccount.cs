using System.Numerics;

namespace Anpm.Abstractions;

/// <summary>Rules a ledger account enforces on every transfer.</summary>
[Flags]
public enum AccountFlags
{
    /// <summary>No limit: the balance may go negative. For issuance accounts, where money enters or leaves the ledger.</summary>
    None = 0,

    /// <summary>
    /// Debits (posted and pending) may never exceed posted credits, so the balance never goes negative. Every user
    /// account has this flag.
    /// </summary>
    DebitsMustNotExceedCredits = 1,
}

/// <summary>The four running totals of a ledger account, in base units.</summary>
/// <param name="DebitsPosted">Sum of posted debits.</param>
/// <param name="CreditsPosted">Sum of posted credits.</param>
/// <param name="DebitsPending">Sum of debits reserved by pending transfers.</param>
/// <param name="CreditsPending">Sum of credits reserved by pending transfers.</param>
public readonly record struct AccountTotals(TokenAmount DebitsPosted, TokenAmount CreditsPosted, TokenAmount DebitsPending, TokenAmount CreditsPending);

/// <summary>
/// An account as a command reads it under lock: what the ledger needs to apply transfers to it. A struct, so locking a
/// command's accounts costs one array rather than an object per account.
/// </summary>
/// <param name="Id">The account id.</param>
/// <param name="Asset">The asset it holds.</param>
/// <param name="Flags">The rules it enforces.</param>
/// <param name="Version">Its <see cref="LedgerAccount.Version"/>, to name when updating its totals.</param>
/// <param name="Totals">Its totals.</param>
public readonly record struct LockedAccount(AccountId Id, AssetCode Asset, AccountFlags Flags, long Version, AccountTotals Totals);

/// <summary>An account to create in the ledger.</summary>
/// <param name="Id">The account id, chosen by the caller; the key of its idempotency.</param>
/// <param name="Asset">The one asset the account holds.</param>
/// <param name="Flags">The rules the account enforces.</param>
public readonly record struct NewAccount(AccountId Id, AssetCode Asset, AccountFlags Flags);

/// <summary>
/// A ledger account as stored: one asset, its flags and its four running totals. Balances are derived from the totals:
/// the posted balance is <c>credits posted − debits posted</c>.
/// </summary>
public sealed record LedgerAccount
{
    /// <summary>The account id.</summary>
    public required AccountId Id { get; init; }

    /// <summary>The asset the account holds.</summary>
    public required AssetCode Asset { get; init; }

    /// <summary>The rules the account enforces.</summary>
    public required AccountFlags Flags { get; init; }

    /// <summary>When the ledger created the account.</summary>
    public required DateTimeOffset CreatedAt { get; init; }

    /// <summary>
    /// The optimistic version of the account's totals: 0 when created, one more after each update. An update names the
    /// version it read, and a store refuses it if the account changed meanwhile.
    /// </summary>
    public long Version { get; init; }

    /// <summary>Sum of posted debits, in base units.</summary>
    public TokenAmount DebitsPosted { get; init; }

    /// <summary>Sum of posted credits, in base units.</summary>
    public TokenAmount CreditsPosted { get; init; }

    /// <summary>Sum of debits reserved by pending transfers, in base units.</summary>
    public TokenAmount DebitsPending { get; init; }

    /// <summary>Sum of credits reserved by pending transfers, in base units.</summary>
    public TokenAmount CreditsPending { get; init; }

    /// <summary>The four totals together.</summary>
    public AccountTotals Totals => new(DebitsPosted, CreditsPosted, DebitsPending, CreditsPending);

    /// <summary><c>credits posted − debits posted</c>: negative only for accounts without <see cref="AccountFlags.DebitsMustNotExceedCredits"/>.</summary>
    public BigInteger PostedBalance => (BigInteger)CreditsPosted.BaseUnits - DebitsPosted.BaseUnits;

    /// <summary>
    /// What can still be debited: <c>credits posted − debits posted − debits pending</c>, or zero when that is negative
    /// (only possible for accounts without <see cref="AccountFlags.DebitsMustNotExceedCredits"/>).
    /// </summary>
    public TokenAmount AvailableBalance
    {
        get
        {
            var available = PostedBalance - DebitsPending.BaseUnits;
            return available.Sign <= 0 ? TokenAmount.Zero : new TokenAmount((UInt128)available);
        }
    }

    /// <summary>Creates a new, empty account as the ledger stores it.</summary>
    public static LedgerAccount Create(NewAccount account, DateTimeOffset createdAt) => new()
    {
        Id = account.Id,
        Asset = account.Asset,
        Flags = account.Flags,
        CreatedAt = createdAt,
    };
}
