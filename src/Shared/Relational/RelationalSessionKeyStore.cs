using Anpm.Abstractions;

namespace Anpm.Storage;

/// <summary>Session keys, for every relational dialect (table <c>session_keys</c>).</summary>
internal sealed class RelationalSessionKeyStore(IRelationalSession session) : ISessionKeyStore
{
    private const string Columns = "id, account, delegate, pool_id, actions, spend_cap, spent, expires_at_ticks, created_at_ticks, revoked_at_ticks, version";

    public async ValueTask<bool> TryInsertSessionKeyAsync(SessionKey key, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (string.IsNullOrEmpty(key.Id) || key.Id.Length > SessionKey.MaxIdLength)
        {
            throw new ArgumentException($"A session key id is 1 to {SessionKey.MaxIdLength} characters.", nameof(key));
        }

        return await session.WriteAsync(
            $"INSERT INTO session_keys ({Columns}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 0) ON CONFLICT DO NOTHING", cancellationToken,
            key.Id, key.Account.ToString(), key.Delegate.ToString(), key.PoolId?.Value ?? string.Empty, (int)key.Actions, RelationalDialect.Amount(key.SpendCap),
            RelationalDialect.Amount(key.Spent), key.ExpiresAt.UtcTicks, key.CreatedAt.UtcTicks, RelationalSessionExtensions.OrNull(key.RevokedAt)).ConfigureAwait(false) == 1;
    }

    public ValueTask<SessionKey?> GetSessionKeyAsync(string id, bool forUpdate = false, CancellationToken cancellationToken = default) =>
        string.IsNullOrEmpty(id)
            ? default
            : session.OneAsync($"SELECT {Columns} FROM session_keys WHERE id = $1" + (forUpdate ? RelationalDialect.ForUpdate : string.Empty), Read, cancellationToken, id);

    public ValueTask<SessionKey?> GetActiveSessionKeyAsync(Address account, Address @delegate, bool forUpdate = false, CancellationToken cancellationToken = default) =>
        session.OneAsync($"SELECT {Columns} FROM session_keys WHERE account = $1 AND delegate = $2 AND revoked_at_ticks IS NULL" + (forUpdate ? RelationalDialect.ForUpdate : string.Empty),
            Read, cancellationToken, account.ToString(), @delegate.ToString());

    public async ValueTask<IReadOnlyList<SessionKey>> ListSessionKeysAsync(Address account, Address? @delegate, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(limit, 1000);
        return @delegate is { } one
            ? await session.ReadAsync($"SELECT {Columns} FROM session_keys WHERE account = $1 AND delegate = $2 ORDER BY (revoked_at_ticks IS NULL) DESC, created_at_ticks DESC, id DESC LIMIT $3", Read,
                cancellationToken, account.ToString(), one.ToString(), limit).ConfigureAwait(false)
            : await session.ReadAsync($"SELECT {Columns} FROM session_keys WHERE account = $1 ORDER BY (revoked_at_ticks IS NULL) DESC, created_at_ticks DESC, id DESC LIMIT $2", Read,
                cancellationToken, account.ToString(), limit).ConfigureAwait(false);
    }

    public ValueTask UpdateSessionKeyAsync(SessionKey updated, long expectedVersion, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(updated);
        return session.UpdateOneAsync("UPDATE session_keys SET spent = $2, revoked_at_ticks = $3, version = version + 1 WHERE id = $1 AND version = $4",
            async ct => StoreErrors.UpdateRefused("Session key", updated.Id, expectedVersion, (await GetSessionKeyAsync(updated.Id, cancellationToken: ct).ConfigureAwait(false))?.Version),
            cancellationToken, updated.Id, RelationalDialect.Amount(updated.Spent), RelationalSessionExtensions.OrNull(updated.RevokedAt), expectedVersion);
    }

    private static SessionKey Read(System.Data.Common.DbDataReader r) => new()
    {
        Id = r.GetString(0),
        Account = Address.Parse(r.GetString(1)),
        Delegate = Address.Parse(r.GetString(2)),
        PoolId = r.GetString(3) is { Length: > 0 } pool ? Abstractions.PoolId.Parse(pool) : null,
        Actions = (SessionKeyActions)r.GetInt32(4),
        SpendCap = RelationalDialect.ReadAmount(r, 5),
        Spent = RelationalDialect.ReadAmount(r, 6),
        ExpiresAt = new DateTimeOffset(r.GetInt64(7), TimeSpan.Zero),
        CreatedAt = new DateTimeOffset(r.GetInt64(8), TimeSpan.Zero),
        RevokedAt = r.IsDBNull(9) ? null : new DateTimeOffset(r.GetInt64(9), TimeSpan.Zero),
        Version = r.GetInt64(10),
    };
}
