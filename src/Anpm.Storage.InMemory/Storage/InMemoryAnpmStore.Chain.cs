using Anpm.Abstractions;

namespace Anpm.Storage.InMemory;

public sealed partial class InMemoryAnpmStore
{
    // The outside chains' processed blocks, by chain and number.
    private readonly Dictionary<ulong, SortedList<long, ChainBlock>> _chainBlocks = [];

    private sealed partial class UnitOfWork : IChainStore
    {
        public ValueTask<bool> TryInsertBlockAsync(ChainBlock block, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(block);
            var store = Writable;
            if (!store._chainBlocks.TryGetValue(block.ChainId, out var blocks))
            {
                blocks = [];
                store._chainBlocks[block.ChainId] = blocks;
            }

            if (!blocks.TryAdd(block.Number, block))
            {
                return new(false);
            }

            Undo(store, () => blocks.Remove(block.Number));
            return new(true);
        }

        public ValueTask<ChainBlock?> GetBlockAsync(ulong chainId, long number, CancellationToken cancellationToken = default) =>
            new(Store._chainBlocks.GetValueOrDefault(chainId)?.GetValueOrDefault(number));

        public ValueTask<ChainBlock?> GetLatestBlockAsync(ulong chainId, CancellationToken cancellationToken = default) =>
            new(Store._chainBlocks.GetValueOrDefault(chainId) is { Count: > 0 } blocks ? blocks.Values[^1] : null);

        public ValueTask<int> DeleteBlocksAboveAsync(ulong chainId, long number, CancellationToken cancellationToken = default) =>
            new(Forget(chainId, blocks => blocks.Keys.Where(n => n > number).ToList()));

        public ValueTask<int> PruneBlocksBelowAsync(ulong chainId, long number, int limit, CancellationToken cancellationToken = default)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(limit, 10_000);
            return new(Forget(chainId, blocks => blocks.Keys.TakeWhile(n => n < number).Take(limit).ToList()));
        }

        // Removes the chosen blocks of a chain (the undo log puts them back on rollback).
        private int Forget(ulong chainId, Func<SortedList<long, ChainBlock>, List<long>> choose)
        {
            var store = Writable;
            if (!store._chainBlocks.TryGetValue(chainId, out var blocks))
            {
                return 0;
            }

            var numbers = choose(blocks);
            foreach (var number in numbers)
            {
                var removed = blocks[number];
                blocks.Remove(number);
                Undo(store, () => blocks.Add(number, removed));
            }

            return numbers.Count;
        }
    }
}
