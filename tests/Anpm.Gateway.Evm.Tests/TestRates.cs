using Anpm.Abstractions;

namespace Anpm.Gateway.Evm.Tests;

/// <summary>
/// Exchange rates for the listener's tests. Deposits are judged at their block's time, which the chain stamps in whole
/// seconds: a rate set "now" can be later than a deposit mined in the same second. The tests' first rate is therefore
/// written straight into the store as in force since yesterday (the service refuses rates in the past).
/// </summary>
internal static class TestRates
{
    private static readonly Address Feeder = Address.Parse("0x00000000000000000000000000000000000000aa");

    public static async Task SetSinceYesterdayAsync(IAnpmStore store, ulong credits, ulong tokenUnits)
    {
        var now = DateTimeOffset.UtcNow;
        var rate = new ExchangeRate { Credits = new TokenAmount(credits), TokenUnits = new TokenAmount(tokenUnits), EffectiveAt = now.AddDays(-1), SetBy = Feeder, SetAt = now };
        Assert.True(await store.RunAsync(rate, static (unitOfWork, rate, ct) => unitOfWork.ExchangeRates.TryInsertRateAsync(rate, ct)));
    }
}
