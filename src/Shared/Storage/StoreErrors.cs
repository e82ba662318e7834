using Anpm.Abstractions;

namespace Anpm.Storage;

/// <summary>The errors every store raises the same way.</summary>
internal static class StoreErrors
{
    /// <summary>
    /// Why a versioned update changed no row: the record does not exist (<see cref="AnpmException"/>), or it is at another
    /// version than the caller read (<see cref="AnpmConcurrencyException"/>, safe to retry).
    /// </summary>
    /// <param name="what">The kind of record, e.g. <c>Pool</c>.</param>
    /// <param name="id">The record's id.</param>
    /// <param name="expectedVersion">The version the caller read.</param>
    /// <param name="currentVersion">The stored version, or <see langword="null"/> when the record does not exist.</param>
    /// <returns>The exception to throw.</returns>
    public static AnpmException UpdateRefused(string what, object id, long expectedVersion, long? currentVersion) =>
        currentVersion is { } current
            ? new AnpmConcurrencyException($"{what} '{id}' is at version {current}, not {expectedVersion}; it changed meanwhile.")
            : new AnpmException($"{what} '{id}' does not exist, so it cannot be updated.");

    /// <summary>Why a unit of work cannot hand out a store: this store implements no such feature.</summary>
    /// <param name="store">The store interface asked for.</param>
    /// <param name="backend">The store's kind, e.g. <c>SQLite</c>.</param>
    /// <returns>The exception to throw.</returns>
    public static NotSupportedException NoSuchStore(Type store, string backend) =>
        new($"The {backend} store does not implement {store.FullName}; a unit of work hands out only the feature stores its store implements.");

    /// <summary>Refuses a checkpoint name that is empty, longer than 128 characters or holds control characters.</summary>
    /// <exception cref="ArgumentException">The name is not valid.</exception>
    public static void CheckCheckpointName(string name)
    {
        if (string.IsNullOrEmpty(name) || name.Length > 128 || name.Any(char.IsControl))
        {
            throw new ArgumentException("A checkpoint name is 1 to 128 characters without control characters.", nameof(name));
        }
    }
}
