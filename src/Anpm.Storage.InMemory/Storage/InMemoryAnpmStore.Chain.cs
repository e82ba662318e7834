using Anpm.Abstractions;

namespace Anpm.Storage.InMemory;

public sealed partial class InMemoryAnpmStore
{
    // The outside chains' processed blocks, by chain and number.
    private readonly Dictionary<ulong, SortedList<long, ChainBlock>> _chainBlocks = [];

    // Hot wallets' reserved nonces by (chain, wallet) and nonce; the transfers' rounds; the signed transactions by nonce.
    private readonly Dictionary<(ulong Chain, Address Wallet), SortedList<long, ChainNonce>> _chainNonces = [];
    private readonly Dictionary<(ulong Chain, string Transfer), SortedList<int, ChainNonce>> _chainNonceRounds = [];
    private readonly Dictionary<(ulong Chain, Address Wallet, long Nonce), SortedList<int, ChainTransaction>> _chainTransactions = [];
    private readonly HashSet<(ulong Chain, string Hash)> _chainTransactionHashes = [];

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

            store.Record(() => blocks.Remove(block.Number));
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

        public ValueTask<bool> TryReserveNonceAsync(ChainNonce nonce, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(nonce);
            ArgumentNullException.ThrowIfNull(nonce.TransferId.Value, nameof(nonce));
            var store = Writable;
            var nonces = GetOrAdd(store._chainNonces, (nonce.ChainId, nonce.Wallet));
            var rounds = GetOrAdd(store._chainNonceRounds, (nonce.ChainId, nonce.TransferId.Value));
            if (nonces.ContainsKey(nonce.Nonce) || rounds.ContainsKey(nonce.Round))
            {
                return new(false);
            }

            var stored = nonce with { Version = 0 };
            nonces.Add(nonce.Nonce, stored);
            rounds.Add(nonce.Round, stored);
            store.Record(() =>
            {
                nonces.Remove(nonce.Nonce);
                rounds.Remove(nonce.Round);
            });
            return new(true);
        }

        public ValueTask<ChainNonce?> GetNonceAsync(ulong chainId, Address wallet, long nonce, CancellationToken cancellationToken = default) =>
            new(Store._chainNonces.GetValueOrDefault((chainId, wallet))?.GetValueOrDefault(nonce));

        public ValueTask<ChainNonce?> GetLatestNonceOfTransferAsync(ulong chainId, TransferId transferId, CancellationToken cancellationToken = default) =>
            new(transferId.Value is { } id && Store._chainNonceRounds.GetValueOrDefault((chainId, id)) is { Count: > 0 } rounds ? rounds.Values[^1] : null);

        public ValueTask<long?> GetHighestNonceAsync(ulong chainId, Address wallet, CancellationToken cancellationToken = default) =>
            new(Store._chainNonces.GetValueOrDefault((chainId, wallet)) is { Count: > 0 } nonces ? nonces.Keys[^1] : null);

        public ValueTask<IReadOnlyList<ChainNonce>> GetOpenNoncesAsync(ulong chainId, Address wallet, int limit, CancellationToken cancellationToken = default)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(limit, 10_000);
            IReadOnlyList<ChainNonce> open = Store._chainNonces.GetValueOrDefault((chainId, wallet))?.Values
                .Where(n => n.State == ChainNonceState.Open).Take(limit).ToList() ?? [];
            return new(open);
        }

        public ValueTask UpdateNonceAsync(ChainNonce updated, long expectedVersion, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(updated);
            var store = Writable;
            var what = $"Nonce {updated.Nonce} of {updated.Wallet} on chain {updated.ChainId}";
            if (store._chainNonces.GetValueOrDefault((updated.ChainId, updated.Wallet))?.GetValueOrDefault(updated.Nonce) is not { } current)
            {
                throw new AnpmException($"{what} is not reserved.");
            }

            if (current.Version != expectedVersion)
            {
                throw new AnpmConcurrencyException($"{what} changed (version {current.Version}, expected {expectedVersion}); retry.");
            }

            var next = current with { State = updated.State, FinalHash = updated.FinalHash, Version = current.Version + 1 };
            var nonces = store._chainNonces[(current.ChainId, current.Wallet)];
            var rounds = store._chainNonceRounds[(current.ChainId, current.TransferId.Value!)];
            nonces[current.Nonce] = next;
            rounds[current.Round] = next;
            store.Record(() =>
            {
                nonces[current.Nonce] = current;
                rounds[current.Round] = current;
            });
            return ValueTask.CompletedTask;
        }

        public ValueTask<bool> TryAddTransactionAsync(ChainTransaction transaction, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(transaction);
            var store = Writable;
            var attempts = GetOrAdd(store._chainTransactions, (transaction.ChainId, transaction.Wallet, transaction.Nonce));
            var hash = (transaction.ChainId, transaction.Hash);
            if (attempts.ContainsKey(transaction.Attempt) || store._chainTransactionHashes.Contains(hash))
            {
                return new(false);
            }

            attempts.Add(transaction.Attempt, transaction);
            store._chainTransactionHashes.Add(hash);
            store.Record(() =>
            {
                attempts.Remove(transaction.Attempt);
                store._chainTransactionHashes.Remove(hash);
            });
            return new(true);
        }

        public ValueTask<IReadOnlyList<TokenAmount>> GetAmountsReservedSinceAsync(ulong chainId, Address wallet, DateTimeOffset since, CancellationToken cancellationToken = default)
        {
            var store = Store;
            IReadOnlyList<TokenAmount> amounts = store._chainNonces.GetValueOrDefault((chainId, wallet))?.Values
                .Where(n => n.ReservedAt >= since)
                .Select(n => n.TransferId.Value!)
                .Distinct(StringComparer.Ordinal)
                .Select(id => store._outbox.GetValueOrDefault(id)?.Amount)
                .OfType<TokenAmount>()
                .ToList() ?? [];
            return new(amounts);
        }

        public ValueTask<IReadOnlyList<ChainTransaction>> GetTransactionsAsync(ulong chainId, Address wallet, long nonce, CancellationToken cancellationToken = default) =>
            new(Store._chainTransactions.GetValueOrDefault((chainId, wallet, nonce))?.Values.ToList() ?? (IReadOnlyList<ChainTransaction>)[]);

        private static SortedList<TKey, TValue> GetOrAdd<TOuter, TKey, TValue>(Dictionary<TOuter, SortedList<TKey, TValue>> map, TOuter key)
            where TOuter : notnull
            where TKey : notnull
        {
            if (!map.TryGetValue(key, out var list))
            {
                list = [];
                map[key] = list;
            }

            return list;
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
                store.Record(() => blocks.Add(number, removed));
            }

            return numbers.Count;
        }
    }
}
