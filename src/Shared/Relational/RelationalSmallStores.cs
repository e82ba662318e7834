using Anpm.Abstractions;

namespace Anpm.Storage;

/// <summary>The exchange-rate schedule, for every relational dialect.</summary>
internal sealed class RelationalExchangeRateStore(IRelationalSession session) : IExchangeRateStore
{
    public async ValueTask<bool> TryInsertRateAsync(ExchangeRate rate, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(rate);
        return await session.WriteAsync(
            $"INSERT INTO exchange_rates ({LedgerRows.ExchangeRateColumns}) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (effective_at_ticks) DO NOTHING", cancellationToken,
            rate.EffectiveAt.UtcTicks, RelationalDialect.Amount(rate.Credits), RelationalDialect.Amount(rate.TokenUnits), rate.SetBy.ToString(), rate.SetAt.UtcTicks)
            .ConfigureAwait(false) == 1;
    }

    public ValueTask<ExchangeRate?> GetRateInForceAsync(DateTimeOffset at, CancellationToken cancellationToken = default) =>
        session.OneAsync($"SELECT {LedgerRows.ExchangeRateColumns} FROM exchange_rates WHERE effective_at_ticks <= $1 ORDER BY effective_at_ticks DESC LIMIT 1",
            static r => LedgerRows.ReadExchangeRate(r, RelationalDialect.ReadAmount), cancellationToken, at.UtcTicks);

    public async ValueTask<IReadOnlyList<ExchangeRate>> ListRatesAsync(DateTimeOffset? before, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        return await session.ReadAsync(
            $"SELECT {LedgerRows.ExchangeRateColumns} FROM exchange_rates WHERE effective_at_ticks < $1 ORDER BY effective_at_ticks DESC LIMIT $2",
            static r => LedgerRows.ReadExchangeRate(r, RelationalDialect.ReadAmount), cancellationToken, before?.UtcTicks ?? long.MaxValue, limit).ConfigureAwait(false);
    }
}

/// <summary>The background jobs' checkpoints, for every relational dialect.</summary>
internal sealed class RelationalCheckpointStore(IRelationalSession session) : ICheckpointStore
{
    public ValueTask<Checkpoint?> GetCheckpointAsync(string name, bool lockShared = false, CancellationToken cancellationToken = default) =>
        string.IsNullOrEmpty(name)
            ? default
            : session.OneAsync("SELECT name, value, version FROM checkpoints WHERE name = $1" + (lockShared ? RelationalDialect.ForShare : string.Empty),
                static r => new Checkpoint(r.GetString(0), r.GetInt64(1), r.GetInt64(2)), cancellationToken, name);

    public async ValueTask<bool> TryInsertCheckpointAsync(string name, long value, CancellationToken cancellationToken = default)
    {
        StoreErrors.CheckCheckpointName(name);
        return await session.WriteAsync("INSERT INTO checkpoints (name, value, version) VALUES ($1, $2, 0) ON CONFLICT (name) DO NOTHING", cancellationToken, name, value)
            .ConfigureAwait(false) == 1;
    }

    public ValueTask UpdateCheckpointAsync(string name, long value, long expectedVersion, CancellationToken cancellationToken = default) =>
        session.UpdateOneAsync("UPDATE checkpoints SET value = $2, version = version + 1 WHERE name = $1 AND version = $3",
            async ct => StoreErrors.UpdateRefused("Checkpoint", name ?? string.Empty, expectedVersion, (await GetCheckpointAsync(name ?? string.Empty, cancellationToken: ct).ConfigureAwait(false))?.Version),
            cancellationToken, name ?? string.Empty, value, expectedVersion);
}

/// <summary>The system-wide state (pause), for every relational dialect: one row, inserted at version 1 by its first change.</summary>
internal sealed class RelationalSystemStateStore(IRelationalSession session) : ISystemStateStore
{
    public async ValueTask<SystemState> GetSystemStateAsync(CancellationToken cancellationToken = default) =>
        await session.OneAsync($"SELECT {LedgerRows.SystemStateColumns} FROM system_state WHERE id = 1", LedgerRows.ReadSystemState, cancellationToken).ConfigureAwait(false)
        ?? SystemState.Initial;

    public ValueTask UpdateSystemStateAsync(SystemState updated, long expectedVersion, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(updated);
        var by = RelationalSessionExtensions.OrNull(updated.ChangedBy?.ToString());
        return expectedVersion == 0
            ? session.UpdateOneAsync(
                $"INSERT INTO system_state (id, {LedgerRows.SystemStateColumns}) VALUES (1, $1, $2, $3, $4, 1) ON CONFLICT (id) DO NOTHING", RefusedAsync, cancellationToken,
                updated.Paused, updated.ChangedAt.UtcTicks, by, updated.Reason)
            : session.UpdateOneAsync(
                "UPDATE system_state SET paused = $1, changed_at_ticks = $2, changed_by = $3, reason = $4, version = version + 1 WHERE id = 1 AND version = $5", RefusedAsync,
                cancellationToken, updated.Paused, updated.ChangedAt.UtcTicks, by, updated.Reason, expectedVersion);

        async ValueTask<Exception> RefusedAsync(CancellationToken ct) =>
            StoreErrors.UpdateRefused("System state", "system", expectedVersion, (await GetSystemStateAsync(ct).ConfigureAwait(false)).Version);
    }
}

/// <summary>The processed token notices, for every relational dialect.</summary>
internal sealed class RelationalNoticeStore(IRelationalSession session) : INoticeStore
{
    public async ValueTask<bool> TryInsertNoticeAsync(TokenNotice notice, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(notice);
        ArgumentException.ThrowIfNullOrEmpty(notice.MessageId);
        return await session.WriteAsync(
            $"INSERT INTO notices ({LedgerRows.NoticeColumns}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (message_id) DO NOTHING", cancellationToken,
            notice.MessageId, notice.Sender.ToString(), RelationalDialect.Amount(notice.Quantity), notice.Action, notice.PoolId, notice.Reference, notice.ReceivedAt.UtcTicks,
            notice.Outcome).ConfigureAwait(false) == 1;
    }

    public ValueTask<TokenNotice?> GetNoticeAsync(string messageId, CancellationToken cancellationToken = default) =>
        string.IsNullOrEmpty(messageId)
            ? default
            : session.OneAsync($"SELECT {LedgerRows.NoticeColumns} FROM notices WHERE message_id = $1", static r => LedgerRows.ReadNotice(r, RelationalDialect.ReadAmount),
                cancellationToken, messageId);
}
