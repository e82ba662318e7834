using Anpm.Abstractions;

namespace Anpm.Storage.InMemory;

public sealed partial class InMemoryAnpmStore
{
    private readonly SortedList<DateTimeOffset, ExchangeRate> _rates = [];

    private sealed partial class UnitOfWork : IExchangeRateStore
    {
        public ValueTask<bool> TryInsertRateAsync(ExchangeRate rate, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(rate);
            var store = Writable;
            var key = rate.EffectiveAt.ToUniversalTime();
            if (!store._rates.TryAdd(key, rate))
            {
                return new(false);
            }

            store.Record(static (s, entry) => s._rates.Remove((DateTimeOffset)entry.Previous!), key);
            return new(true);
        }

        public ValueTask<ExchangeRate?> GetRateInForceAsync(DateTimeOffset at, CancellationToken cancellationToken = default)
        {
            var rates = Store._rates;
            ExchangeRate? found = null;
            var (low, high) = (0, rates.Count - 1);
            while (low <= high)
            {
                var middle = (low + high) / 2;
                if (rates.Keys[middle] <= at)
                {
                    found = rates.Values[middle];
                    low = middle + 1;
                }
                else
                {
                    high = middle - 1;
                }
            }

            return new(found);
        }

        public ValueTask<IReadOnlyList<ExchangeRate>> ListRatesAsync(DateTimeOffset? before, int limit, CancellationToken cancellationToken = default)
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
            IReadOnlyList<ExchangeRate> page = Store._rates.Values.Reverse().Where(r => before is null || r.EffectiveAt < before).Take(limit).ToList();
            return new(page);
        }
    }
}
