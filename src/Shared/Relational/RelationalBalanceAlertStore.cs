using System.Data.Common;
using Anpm.Abstractions;

namespace Anpm.Storage;

/// <summary>Low-balance alerts, for every relational dialect (table <c>balance_alerts</c>).</summary>
internal sealed class RelationalBalanceAlertStore(IRelationalSession session) : IBalanceAlertStore
{
    private const string Columns = "account, pool_id, threshold, armed, changed_at_ticks, version";

    public ValueTask<BalanceAlert?> GetAlertAsync(Address account, PoolId pool, CancellationToken cancellationToken = default) =>
        pool.Value is null
            ? default
            : session.OneAsync($"SELECT {Columns} FROM balance_alerts WHERE account = $1 AND pool_id = $2", Read, cancellationToken, account.ToString(), pool.Value);

    public async ValueTask<IReadOnlyList<BalanceAlert>> ListAlertsAsync(Address account, CancellationToken cancellationToken = default) =>
        await session.ReadAsync($"SELECT {Columns} FROM balance_alerts WHERE account = $1 ORDER BY pool_id", Read, cancellationToken, account.ToString()).ConfigureAwait(false);

    public async ValueTask<bool> TryInsertAlertAsync(BalanceAlert alert, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(alert);
        return await session.WriteAsync($"INSERT INTO balance_alerts ({Columns}) VALUES ($1, $2, $3, $4, $5, 0) ON CONFLICT (account, pool_id) DO NOTHING", cancellationToken,
            alert.Account.ToString(), RelationalSessionExtensions.Required(alert.PoolId.Value), RelationalDialect.Amount(alert.Threshold), alert.Armed ? 1 : 0, alert.ChangedAt.UtcTicks)
            .ConfigureAwait(false) == 1;
    }

    public ValueTask UpdateAlertAsync(BalanceAlert updated, long expectedVersion, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(updated);
        return session.UpdateOneAsync(
            "UPDATE balance_alerts SET threshold = $3, armed = $4, changed_at_ticks = $5, version = version + 1 WHERE account = $1 AND pool_id = $2 AND version = $6",
            async ct => StoreErrors.UpdateRefused("Balance alert", $"{updated.Account}/{updated.PoolId}", expectedVersion,
                (await GetAlertAsync(updated.Account, updated.PoolId, ct).ConfigureAwait(false))?.Version),
            cancellationToken, updated.Account.ToString(), RelationalSessionExtensions.Required(updated.PoolId.Value), RelationalDialect.Amount(updated.Threshold),
            updated.Armed ? 1 : 0, updated.ChangedAt.UtcTicks, expectedVersion);
    }

    public async ValueTask<bool> DeleteAlertAsync(Address account, PoolId pool, CancellationToken cancellationToken = default) =>
        pool.Value is not null && await session.WriteAsync("DELETE FROM balance_alerts WHERE account = $1 AND pool_id = $2", cancellationToken, account.ToString(), pool.Value)
            .ConfigureAwait(false) == 1;

    private static BalanceAlert Read(DbDataReader r) => new()
    {
        Account = Address.Parse(r.GetString(0)),
        PoolId = PoolId.Parse(r.GetString(1)),
        Threshold = RelationalDialect.ReadAmount(r, 2),
        Armed = r.GetInt32(3) != 0,
        ChangedAt = new DateTimeOffset(r.GetInt64(4), TimeSpan.Zero),
        Version = r.GetInt64(5),
    };
}
