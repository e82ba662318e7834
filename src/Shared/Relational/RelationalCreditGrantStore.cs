using System.Data.Common;
using Anpm.Abstractions;

namespace Anpm.Storage;

/// <summary>Credit grants and what holds took from them, for every relational dialect (tables <c>credit_grants</c>, <c>credit_grant_holds</c>).</summary>
internal sealed class RelationalCreditGrantStore(IRelationalSession session) : ICreditGrantStore
{
    private const string Columns = "id, account, category, amount, remaining, held, expired, expires_at_ticks, priority, created_at_ticks, version";

    public async ValueTask<bool> TryInsertGrantAsync(CreditGrant grant, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(grant);
        if (string.IsNullOrEmpty(grant.Id) || grant.Id.Length > CreditGrant.MaxIdLength)
        {
            throw new ArgumentException($"A grant id is 1 to {CreditGrant.MaxIdLength} characters.", nameof(grant));
        }

        return await session.WriteAsync($"INSERT INTO credit_grants ({Columns}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 0) ON CONFLICT (id) DO NOTHING", cancellationToken,
            grant.Id, grant.Account.ToString(), (int)grant.Category, RelationalDialect.Amount(grant.Amount), RelationalDialect.Amount(grant.Remaining), RelationalDialect.Amount(grant.Held),
            RelationalDialect.Amount(grant.Expired), RelationalSessionExtensions.OrNull(grant.ExpiresAt), grant.Priority, grant.CreatedAt.UtcTicks).ConfigureAwait(false) == 1;
    }

    public ValueTask<CreditGrant?> GetGrantAsync(string id, CancellationToken cancellationToken = default) =>
        string.IsNullOrEmpty(id) ? default : session.OneAsync($"SELECT {Columns} FROM credit_grants WHERE id = $1", Read, cancellationToken, id);

    public async ValueTask<IReadOnlyList<CreditGrant>> ListGrantsAsync(Address account, CancellationToken cancellationToken = default) =>
        await session.ReadAsync($"SELECT {Columns} FROM credit_grants WHERE account = $1 ORDER BY created_at_ticks, id", Read, cancellationToken, account.ToString()).ConfigureAwait(false);

    public ValueTask UpdateGrantAsync(CreditGrant updated, long expectedVersion, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(updated);
        return session.UpdateOneAsync("UPDATE credit_grants SET amount = $2, remaining = $3, held = $4, expired = $5, version = version + 1 WHERE id = $1 AND version = $6",
            async ct => StoreErrors.UpdateRefused("Credit grant", updated.Id, expectedVersion, (await GetGrantAsync(updated.Id, ct).ConfigureAwait(false))?.Version),
            cancellationToken, updated.Id, RelationalDialect.Amount(updated.Amount), RelationalDialect.Amount(updated.Remaining), RelationalDialect.Amount(updated.Held),
            RelationalDialect.Amount(updated.Expired), expectedVersion);
    }

    public async ValueTask<IReadOnlyList<CreditGrant>> GetExpiredGrantsAsync(DateTimeOffset now, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(limit, 10_000);
        return await session.ReadAsync(
            $"SELECT {Columns} FROM credit_grants WHERE expires_at_ticks <= $1 AND remaining > $2 ORDER BY expires_at_ticks, id LIMIT $3", Read, cancellationToken,
            now.UtcTicks, RelationalDialect.Amount(TokenAmount.Zero), limit).ConfigureAwait(false);
    }

    public async ValueTask<bool> TryInsertHoldAsync(CreditGrantHold hold, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(hold);
        ArgumentException.ThrowIfNullOrEmpty(hold.Reference);
        return await session.WriteAsync("INSERT INTO credit_grant_holds (reference, grant_id, amount) VALUES ($1, $2, $3) ON CONFLICT (reference, grant_id) DO NOTHING", cancellationToken,
            hold.Reference, hold.GrantId, RelationalDialect.Amount(hold.Amount)).ConfigureAwait(false) == 1;
    }

    public async ValueTask<IReadOnlyList<CreditGrantHold>> ListHoldsAsync(string reference, CancellationToken cancellationToken = default) =>
        string.IsNullOrEmpty(reference)
            ? []
            : await session.ReadAsync("SELECT reference, grant_id, amount FROM credit_grant_holds WHERE reference = $1 ORDER BY grant_id",
                static r => new CreditGrantHold(r.GetString(0), r.GetString(1), RelationalDialect.ReadAmount(r, 2)), cancellationToken, reference).ConfigureAwait(false);

    public ValueTask<int> DeleteHoldsAsync(string reference, CancellationToken cancellationToken = default) =>
        string.IsNullOrEmpty(reference) ? ValueTask.FromResult(0) : session.WriteAsync("DELETE FROM credit_grant_holds WHERE reference = $1", cancellationToken, reference);

    private static CreditGrant Read(DbDataReader r) => new()
    {
        Id = r.GetString(0),
        Account = Address.Parse(r.GetString(1)),
        Category = (CreditCategory)r.GetInt32(2),
        Amount = RelationalDialect.ReadAmount(r, 3),
        Remaining = RelationalDialect.ReadAmount(r, 4),
        Held = RelationalDialect.ReadAmount(r, 5),
        Expired = RelationalDialect.ReadAmount(r, 6),
        ExpiresAt = r.IsDBNull(7) ? null : new DateTimeOffset(r.GetInt64(7), TimeSpan.Zero),
        Priority = r.GetInt32(8),
        CreatedAt = new DateTimeOffset(r.GetInt64(9), TimeSpan.Zero),
        Version = r.GetInt64(10),
    };
}
