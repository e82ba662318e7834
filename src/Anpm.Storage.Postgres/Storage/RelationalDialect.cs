using System.Data.Common;
using System.Numerics;
using Anpm.Abstractions;

namespace Anpm.Storage;

/// <summary>
/// PostgreSQL's side of the shared relational feature stores: amounts and big accumulators as <c>numeric</c>, and a
/// claim that skips rows other transactions hold.
/// </summary>
internal static class RelationalDialect
{
    /// <summary>What follows a query that claims a row for update: lock it, skipping rows other claims hold.</summary>
    public const string SkipLocked = " FOR UPDATE SKIP LOCKED";

    /// <summary>What follows a query that reads a row another unit of work must not change meanwhile: a shared row lock, so no writer changes the row until the unit of work ends.</summary>
    public const string ForShare = " FOR SHARE";

    /// <summary>What follows a query that reads a row to change it: an exclusive row lock: other units of work that lock it wait until this one ends, then read it as committed.</summary>
    public const string ForUpdate = " FOR UPDATE";

    public static object Amount(TokenAmount amount) => (BigInteger)amount.BaseUnits;

    public static TokenAmount ReadAmount(DbDataReader reader, int ordinal) => new((UInt128)reader.GetFieldValue<BigInteger>(ordinal));

    public static object Big(BigInteger value) =>
        value.Sign >= 0 ? value : throw new ArgumentOutOfRangeException(nameof(value), "Staking values are never negative.");

    public static BigInteger ReadBig(DbDataReader reader, int ordinal) => reader.GetFieldValue<BigInteger>(ordinal);
}
