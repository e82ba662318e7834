using System.Data.Common;
using System.Globalization;
using System.Numerics;
using Anpm.Abstractions;

namespace Anpm.Storage;

/// <summary>
/// SQLite's side of the shared relational feature stores: amounts as 39-digit text (sortable, exact), big accumulators
/// as decimal text, and no row lock clause (one writer holds the whole file).
/// </summary>
internal static class RelationalDialect
{
    /// <summary>What follows a query that claims a row for update: nothing, BEGIN IMMEDIATE already holds the file.</summary>
    public const string SkipLocked = "";

    /// <summary>What follows a query that reads a row another unit of work must not change meanwhile: nothing: readers never block the one writer, which holds the file.</summary>
    public const string ForShare = "";

    /// <summary>What follows a query that reads a row to change it: nothing: BEGIN IMMEDIATE already holds the file.</summary>
    public const string ForUpdate = "";

    public static object Amount(TokenAmount amount) => Sqlite.SqliteStatements.Amount(amount);

    public static TokenAmount ReadAmount(DbDataReader reader, int ordinal) =>
        new(UInt128.Parse(reader.GetString(ordinal), NumberStyles.None, CultureInfo.InvariantCulture));

    public static object Big(BigInteger value) =>
        value.Sign >= 0 ? value.ToString(CultureInfo.InvariantCulture) : throw new ArgumentOutOfRangeException(nameof(value), "Staking values are never negative.");

    public static BigInteger ReadBig(DbDataReader reader, int ordinal) =>
        BigInteger.Parse(reader.GetString(ordinal), NumberStyles.None, CultureInfo.InvariantCulture);
}
