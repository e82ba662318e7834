using System.Data.Common;

namespace Anpm.Storage;

/// <summary>
/// What a relational store's unit of work gives the feature stores written once for every dialect (this folder's
/// <c>Relational*Store</c> classes, compiled into each relational store): statements with positional parameters
/// (<c>$1</c>, <c>$2</c>, …) run in the unit of work's transaction. Values are plain CLR values — string, int, long,
/// bool, <see cref="DBNull"/>, and what <c>RelationalDialect</c> makes of amounts and big integers — and each dialect binds
/// them its own way. A writing statement on a read-only unit of work throws <see cref="InvalidOperationException"/>.
/// </summary>
internal interface IRelationalSession
{
    /// <summary>Runs a statement that changes rows.</summary>
    /// <returns>How many rows it changed.</returns>
    ValueTask<int> WriteAsync(string sql, CancellationToken cancellationToken, params object[] values);

    /// <summary>
    /// Runs a versioned update (or a guarded insert) that must change exactly one row; when it changes none,
    /// <paramref name="refused"/> says why — missing, or changed meanwhile (<see cref="StoreErrors.UpdateRefused"/>) — and
    /// that is thrown: by this call, or, where the dialect pipelines such updates (PostgreSQL sends them with the next
    /// statement in one batch), by the unit of work's next call or its commit, always before anything commits.
    /// </summary>
    ValueTask UpdateOneAsync(string sql, Func<CancellationToken, ValueTask<Exception>> refused, CancellationToken cancellationToken, params object[] values);

    /// <summary>Runs a query.</summary>
    /// <returns>Its rows, read by <paramref name="read"/>.</returns>
    ValueTask<List<T>> ReadAsync<T>(string sql, Func<DbDataReader, T> read, CancellationToken cancellationToken, params object[] values);
}

/// <summary>Helpers over <see cref="IRelationalSession"/>.</summary>
internal static class RelationalSessionExtensions
{
    /// <summary>Runs a query expected to find at most one row.</summary>
    /// <returns>The row, or the default when there is none.</returns>
    public static async ValueTask<T?> OneAsync<T>(this IRelationalSession session, string sql, Func<DbDataReader, T> read, CancellationToken cancellationToken, params object[] values) =>
        await session.ReadAsync(sql, read, cancellationToken, values).ConfigureAwait(false) is [var row] ? row : default;

    /// <summary>A value that may be null, as a statement's parameter.</summary>
    public static object OrNull(object? value) => value ?? DBNull.Value;

    /// <summary>A time that may be null, as ticks.</summary>
    public static object OrNull(DateTimeOffset? time) => time is { } value ? value.UtcTicks : DBNull.Value;

    /// <summary>An id that must be stored; the default id cannot be.</summary>
    public static string Required(string? id) => id ?? throw new ArgumentException("The default id cannot be stored.", nameof(id));
}
