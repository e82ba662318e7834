using Anpm.Abstractions;

namespace Anpm.Storage;

/// <summary>The outside chains' processed blocks, for every relational dialect (table <c>chain_blocks</c>).</summary>
internal sealed class RelationalChainStore(IRelationalSession session) : IChainStore
{
    private const string Columns = "chain_id, number, hash, parent_hash, timestamp_ticks";

    public async ValueTask<bool> TryInsertBlockAsync(ChainBlock block, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(block);
        return await session.WriteAsync(
            $"INSERT INTO chain_blocks ({Columns}) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (chain_id, number) DO NOTHING", cancellationToken,
            (long)block.ChainId, block.Number, block.Hash, block.ParentHash, block.Timestamp.UtcTicks).ConfigureAwait(false) == 1;
    }

    public ValueTask<ChainBlock?> GetBlockAsync(ulong chainId, long number, CancellationToken cancellationToken = default) =>
        chainId is 0 or > ChainBlock.MaxChainId
            ? default
            : session.OneAsync($"SELECT {Columns} FROM chain_blocks WHERE chain_id = $1 AND number = $2", Read, cancellationToken, (long)chainId, number);

    public ValueTask<ChainBlock?> GetLatestBlockAsync(ulong chainId, CancellationToken cancellationToken = default) =>
        chainId is 0 or > ChainBlock.MaxChainId
            ? default
            : session.OneAsync($"SELECT {Columns} FROM chain_blocks WHERE chain_id = $1 ORDER BY number DESC LIMIT 1", Read, cancellationToken, (long)chainId);

    public ValueTask<int> DeleteBlocksAboveAsync(ulong chainId, long number, CancellationToken cancellationToken = default) =>
        chainId is 0 or > ChainBlock.MaxChainId
            ? ValueTask.FromResult(0)
            : session.WriteAsync("DELETE FROM chain_blocks WHERE chain_id = $1 AND number > $2", cancellationToken, (long)chainId, number);

    public ValueTask<int> PruneBlocksBelowAsync(ulong chainId, long number, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(limit, 10_000);
        return chainId is 0 or > ChainBlock.MaxChainId
            ? ValueTask.FromResult(0)
            : session.WriteAsync(
                "DELETE FROM chain_blocks WHERE chain_id = $1 AND number IN (SELECT number FROM chain_blocks WHERE chain_id = $1 AND number < $2 ORDER BY number LIMIT $3)",
                cancellationToken, (long)chainId, number, limit);
    }

    private const string NonceColumns = "chain_id, wallet, nonce, transfer_id, round, state, final_hash, reserved_at_ticks, version";
    private const string TransactionColumns = "chain_id, wallet, nonce, attempt, kind, hash, raw, max_fee_per_gas, max_priority_fee_per_gas, signed_at_ticks";

    public async ValueTask<bool> TryReserveNonceAsync(ChainNonce nonce, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(nonce);
        ArgumentNullException.ThrowIfNull(nonce.TransferId.Value, nameof(nonce));
        return await session.WriteAsync(
            $"INSERT INTO chain_nonces ({NonceColumns}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0) ON CONFLICT DO NOTHING", cancellationToken,
            ChainId(nonce.ChainId), nonce.Wallet.ToString(), nonce.Nonce, nonce.TransferId.Value, nonce.Round, (int)nonce.State, nonce.FinalHash,
            nonce.ReservedAt.UtcTicks).ConfigureAwait(false) == 1;
    }

    public ValueTask<ChainNonce?> GetNonceAsync(ulong chainId, Address wallet, long nonce, CancellationToken cancellationToken = default) =>
        chainId is 0 or > ChainBlock.MaxChainId
            ? default
            : session.OneAsync($"SELECT {NonceColumns} FROM chain_nonces WHERE chain_id = $1 AND wallet = $2 AND nonce = $3", ReadNonce, cancellationToken,
                (long)chainId, wallet.ToString(), nonce);

    public ValueTask<ChainNonce?> GetLatestNonceOfTransferAsync(ulong chainId, TransferId transferId, CancellationToken cancellationToken = default) =>
        chainId is 0 or > ChainBlock.MaxChainId || transferId.Value is null
            ? default
            : session.OneAsync($"SELECT {NonceColumns} FROM chain_nonces WHERE chain_id = $1 AND transfer_id = $2 ORDER BY round DESC LIMIT 1", ReadNonce,
                cancellationToken, (long)chainId, transferId.Value);

    public async ValueTask<long?> GetHighestNonceAsync(ulong chainId, Address wallet, CancellationToken cancellationToken = default) =>
        chainId is 0 or > ChainBlock.MaxChainId
            ? null
            : (await session.ReadAsync("SELECT nonce FROM chain_nonces WHERE chain_id = $1 AND wallet = $2 ORDER BY nonce DESC LIMIT 1", static r => r.GetInt64(0),
                cancellationToken, (long)chainId, wallet.ToString()).ConfigureAwait(false)) is [var highest] ? highest : null;

    public async ValueTask<IReadOnlyList<ChainNonce>> GetOpenNoncesAsync(ulong chainId, Address wallet, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(limit, 10_000);
        return chainId is 0 or > ChainBlock.MaxChainId
            ? []
            : await session.ReadAsync(
                $"SELECT {NonceColumns} FROM chain_nonces WHERE chain_id = $1 AND wallet = $2 AND state = {(int)ChainNonceState.Open} ORDER BY nonce LIMIT $3", ReadNonce,
                cancellationToken, (long)chainId, wallet.ToString(), limit).ConfigureAwait(false);
    }

    public ValueTask UpdateNonceAsync(ChainNonce updated, long expectedVersion, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(updated);
        var what = $"Nonce {updated.Nonce} of {updated.Wallet} on chain {updated.ChainId}";
        return session.UpdateOneAsync(
            "UPDATE chain_nonces SET state = $5, final_hash = $6, version = version + 1 WHERE chain_id = $1 AND wallet = $2 AND nonce = $3 AND version = $4",
            async ct => await GetNonceAsync(updated.ChainId, updated.Wallet, updated.Nonce, ct).ConfigureAwait(false) is { } current
                ? new AnpmConcurrencyException($"{what} changed (version {current.Version}, expected {expectedVersion}); retry.")
                : new AnpmException($"{what} is not reserved."),
            cancellationToken, ChainId(updated.ChainId), updated.Wallet.ToString(), updated.Nonce, expectedVersion, (int)updated.State, updated.FinalHash);
    }

    public async ValueTask<bool> TryAddTransactionAsync(ChainTransaction transaction, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(transaction);
        return await session.WriteAsync(
            $"INSERT INTO chain_transactions ({TransactionColumns}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING", cancellationToken,
            ChainId(transaction.ChainId), transaction.Wallet.ToString(), transaction.Nonce, transaction.Attempt, (int)transaction.Kind, transaction.Hash,
            transaction.RawTransaction, Wei(transaction.MaxFeePerGas), Wei(transaction.MaxPriorityFeePerGas), transaction.SignedAt.UtcTicks).ConfigureAwait(false) == 1;
    }

    public async ValueTask<IReadOnlyList<TokenAmount>> GetAmountsReservedSinceAsync(ulong chainId, Address wallet, DateTimeOffset since, CancellationToken cancellationToken = default) =>
        chainId is 0 or > ChainBlock.MaxChainId
            ? []
            : await session.ReadAsync(
                "SELECT o.amount FROM outbox o WHERE o.id IN (SELECT n.transfer_id FROM chain_nonces n WHERE n.chain_id = $1 AND n.wallet = $2 AND n.reserved_at_ticks >= $3)",
                static r => RelationalDialect.ReadAmount(r, 0), cancellationToken, (long)chainId, wallet.ToString(), since.UtcTicks).ConfigureAwait(false);

    public async ValueTask<IReadOnlyList<ChainTransaction>> GetTransactionsAsync(ulong chainId, Address wallet, long nonce, CancellationToken cancellationToken = default) =>
        chainId is 0 or > ChainBlock.MaxChainId
            ? []
            : await session.ReadAsync(
                $"SELECT {TransactionColumns} FROM chain_transactions WHERE chain_id = $1 AND wallet = $2 AND nonce = $3 ORDER BY attempt", ReadTransaction,
                cancellationToken, (long)chainId, wallet.ToString(), nonce).ConfigureAwait(false);

    private static long ChainId(ulong chainId) =>
        chainId is 0 or > ChainBlock.MaxChainId ? throw new ArgumentOutOfRangeException(nameof(chainId), chainId, $"A chain id is 1 to {ChainBlock.MaxChainId}.") : (long)chainId;

    private static string Wei(System.Numerics.BigInteger value) =>
        value.Sign < 0 ? throw new ArgumentOutOfRangeException(nameof(value), value, "A fee is not negative.") : value.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static ChainNonce ReadNonce(System.Data.Common.DbDataReader reader) => new()
    {
        ChainId = (ulong)reader.GetInt64(0),
        Wallet = Address.Parse(reader.GetString(1)),
        Nonce = reader.GetInt64(2),
        TransferId = TransferId.Parse(reader.GetString(3)),
        Round = reader.GetInt32(4),
        State = (ChainNonceState)reader.GetInt32(5),
        FinalHash = reader.GetString(6),
        ReservedAt = new DateTimeOffset(reader.GetInt64(7), TimeSpan.Zero),
        Version = reader.GetInt64(8),
    };

    private static ChainTransaction ReadTransaction(System.Data.Common.DbDataReader reader) => new()
    {
        ChainId = (ulong)reader.GetInt64(0),
        Wallet = Address.Parse(reader.GetString(1)),
        Nonce = reader.GetInt64(2),
        Attempt = reader.GetInt32(3),
        Kind = (ChainTransactionKind)reader.GetInt32(4),
        Hash = reader.GetString(5),
        RawTransaction = reader.GetString(6),
        MaxFeePerGas = System.Numerics.BigInteger.Parse(reader.GetString(7), System.Globalization.CultureInfo.InvariantCulture),
        MaxPriorityFeePerGas = System.Numerics.BigInteger.Parse(reader.GetString(8), System.Globalization.CultureInfo.InvariantCulture),
        SignedAt = new DateTimeOffset(reader.GetInt64(9), TimeSpan.Zero),
    };

    private static ChainBlock Read(System.Data.Common.DbDataReader reader) =>
        new((ulong)reader.GetInt64(0), reader.GetInt64(1), reader.GetString(2), reader.GetString(3), new DateTimeOffset(reader.GetInt64(4), TimeSpan.Zero));
}
