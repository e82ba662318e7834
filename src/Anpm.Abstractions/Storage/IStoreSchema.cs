namespace Anpm.Abstractions;

/// <summary>The schema version a store's code writes, and the version its database is at.</summary>
/// <param name="Code">The newest migration this code has.</param>
/// <param name="Database">The newest migration the database recorded (higher than <paramref name="Code"/> after a newer instance migrated it).</param>
public sealed record StoreSchemaVersion(int Code, int Database)
{
    /// <summary>Whether the database is at exactly the code's version.</summary>
    public bool IsCurrent => Code == Database;
}

/// <summary>A store's schema version, for health checks and operators.</summary>
public interface IStoreSchema
{
    /// <summary>Reads the database's schema version (opening and migrating it first, as any use of the store does).</summary>
    /// <exception cref="AnpmException">The database cannot be reached or refuses this code (newer at start-up).</exception>
    ValueTask<StoreSchemaVersion> GetSchemaVersionAsync(CancellationToken cancellationToken = default);
}
