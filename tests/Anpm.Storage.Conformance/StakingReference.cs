using System.Numerics;
using Anpm.Abstractions;

namespace Anpm.Storage.Conformance;

/// <summary>
/// A brute-force model of staking rewards, independent of the service's accumulator: every epoch it sums every staker's
/// eligible stake portion by portion, pays what the reserve covers, and credits each staker eligible × increment. Driven
/// by the same commands at the same times as the service, it must agree with it to the base unit.
/// </summary>
public sealed class StakingReference(BigInteger dailyReward, long minStakeAgeSeconds, BigInteger capacity, int firstDay)
{
    private static readonly BigInteger Scale = BigInteger.Pow(10, 18);
    private readonly List<Portion> _portions = [];
    private readonly Dictionary<Address, BigInteger> _numerator = [];
    private readonly Dictionary<Address, BigInteger> _claimed = [];
    private long _sequence;

    public BigInteger Reserve { get; private set; }

    public BigInteger PaidToPot { get; private set; }

    public BigInteger Funded { get; private set; }

    public int LastDay { get; private set; } = firstDay - 1;

    public Dictionary<int, (BigInteger Eligible, BigInteger Paid, BigInteger Shortfall)> Epochs { get; } = [];

    public IEnumerable<Address> Stakers => _portions.Select(p => p.Staker).Distinct();

    public BigInteger Staked(Address staker) => _portions.Where(p => p.Staker == staker && p.RemovedDay is null).Aggregate(BigInteger.Zero, (sum, p) => sum + p.Amount);

    public BigInteger Earned(Address staker) => _numerator.GetValueOrDefault(staker) / Scale;

    public BigInteger Claimed(Address staker) => _claimed.GetValueOrDefault(staker);

    public BigInteger Pending(Address staker) => Earned(staker) - Claimed(staker);

    /// <returns>The amount accepted (the rest is refunded).</returns>
    public BigInteger Stake(DateTimeOffset now, Address staker, BigInteger quantity)
    {
        CatchUp(now);
        var total = _portions.Where(p => p.RemovedDay is null).Aggregate(BigInteger.Zero, (sum, p) => sum + p.Amount);
        var accepted = BigInteger.Min(quantity, BigInteger.Max(capacity - total, 0));
        if (accepted > 0)
        {
            var aged = now.UtcDateTime.AddSeconds(minStakeAgeSeconds);
            var day = DateOnly.FromDateTime(aged).DayNumber + (aged.TimeOfDay == TimeSpan.Zero ? 0 : 1);
            _portions.Add(new Portion(staker, accepted, day, null, now, _sequence++));
        }

        return accepted;
    }

    /// <returns>Whether the staker had that much.</returns>
    public bool Unstake(DateTimeOffset now, Address staker, BigInteger amount)
    {
        CatchUp(now);
        if (amount <= 0 || amount > Staked(staker))
        {
            return false;
        }

        var today = DateOnly.FromDateTime(now.UtcDateTime).DayNumber;
        foreach (var portion in _portions.Where(p => p.Staker == staker && p.RemovedDay is null).OrderByDescending(p => p.StakedAt).ThenByDescending(p => p.Sequence).ToList())
        {
            if (amount == 0)
            {
                break;
            }

            var take = BigInteger.Min(portion.Amount, amount);
            _portions.Remove(portion);
            _portions.Add(portion with { Amount = take, RemovedDay = today });
            if (portion.Amount > take)
            {
                _portions.Add(portion with { Amount = portion.Amount - take });
            }

            amount -= take;
        }

        return true;
    }

    public BigInteger Claim(DateTimeOffset now, Address staker)
    {
        CatchUp(now);
        var pending = Pending(staker);
        _claimed[staker] = Claimed(staker) + pending;
        return pending;
    }

    public void Fund(DateTimeOffset now, BigInteger quantity)
    {
        CatchUp(now);
        Reserve += quantity;
        Funded += quantity;
    }

    public void CatchUp(DateTimeOffset now)
    {
        var today = DateOnly.FromDateTime(now.UtcDateTime).DayNumber;
        for (var day = LastDay + 1; day < today; day++)
        {
            var eligible = new Dictionary<Address, BigInteger>();
            foreach (var portion in _portions.Where(p => p.EligibleDay <= day && (p.RemovedDay is null || p.RemovedDay > day)))
            {
                eligible[portion.Staker] = eligible.GetValueOrDefault(portion.Staker) + portion.Amount;
            }

            var total = eligible.Values.Aggregate(BigInteger.Zero, (sum, amount) => sum + amount);
            var paid = total > 0 && dailyReward > 0 ? BigInteger.Min(dailyReward, Reserve) : 0;
            var shortfall = total > 0 && dailyReward > 0 ? dailyReward - paid : 0;
            var increment = total > 0 ? paid * Scale / total : 0;
            Reserve -= paid;
            PaidToPot += paid;
            foreach (var (staker, amount) in eligible)
            {
                _numerator[staker] = _numerator.GetValueOrDefault(staker) + amount * increment;
            }

            Epochs[day] = (total, paid, shortfall);
            LastDay = day;
        }
    }

    private sealed record Portion(Address Staker, BigInteger Amount, int EligibleDay, int? RemovedDay, DateTimeOffset StakedAt, long Sequence);
}
