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

    private static ChainBlock Read(System.Data.Common.DbDataReader reader) =>
        new((ulong)reader.GetInt64(0), reader.GetInt64(1), reader.GetString(2), reader.GetString(3), new DateTimeOffset(reader.GetInt64(4), TimeSpan.Zero));
}
