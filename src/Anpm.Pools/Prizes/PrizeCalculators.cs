using Anpm.Abstractions;

namespace Anpm.Pools;

/// <summary>How a pool's pot is split among its paid contributions.</summary>
/// <param name="Prizes">One prize per contribution, in the order given.</param>
/// <param name="Dust">What rounding down left of the pot: pot − sum of prizes. Posted to the rounding account, never dropped.</param>
public sealed record PrizeSplit(IReadOnlyList<TokenAmount> Prizes, TokenAmount Dust);

/// <summary>Splits a pot among contributions. Every calculator rounds down: the prizes never sum to more than the pot.</summary>
public interface IPrizeCalculator
{
    /// <summary>The name a pool config selects it by, e.g. <c>pro-rata</c>.</summary>
    string Name { get; }

    /// <summary>Splits <paramref name="pot"/> among <paramref name="contributions"/>.</summary>
    /// <param name="contributions">The paid contributions' amounts, in base units.</param>
    /// <param name="pot">The amount to distribute, in base units.</param>
    /// <returns>One prize per contribution and the dust, with sum(prizes) + dust = pot.</returns>
    PrizeSplit Split(IReadOnlyList<TokenAmount> contributions, TokenAmount pot);
}

/// <summary>
/// The default calculator (pro-rata): each prize is <c>floor(contribution × pot / collected)</c>, with an exact
/// 256-bit intermediate. 1500 and 500 of 2000 collected with 2800 to distribute → 2100 and 700.
/// </summary>
public sealed class ProRataPrizeCalculator : IPrizeCalculator
{
    /// <inheritdoc />
    public string Name => "pro-rata";

    /// <inheritdoc />
    /// <exception cref="OverflowException">The contributions sum to more than the largest amount.</exception>
    public PrizeSplit Split(IReadOnlyList<TokenAmount> contributions, TokenAmount pot)
    {
        ArgumentNullException.ThrowIfNull(contributions);
        var collected = TokenAmount.Zero;
        foreach (var contribution in contributions)
        {
            collected += contribution;
        }

        var prizes = new TokenAmount[contributions.Count];
        var paid = TokenAmount.Zero;
        if (!collected.IsZero)
        {
            for (var i = 0; i < prizes.Length; i++)
            {
                // contribution ≤ collected, so the quotient is at most the pot and always fits.
                prizes[i] = contributions[i].MultiplyDivide(pot.BaseUnits, collected.BaseUnits, out _);
                paid += prizes[i];
            }
        }

        return new PrizeSplit(prizes, pot - paid);
    }
}

/// <summary>Splits the pot equally among the contributions with a non-zero amount: <c>floor(pot / count)</c> each.</summary>
public sealed class EqualSplitPrizeCalculator : IPrizeCalculator
{
    /// <inheritdoc />
    public string Name => "equal-split";

    /// <inheritdoc />
    public PrizeSplit Split(IReadOnlyList<TokenAmount> contributions, TokenAmount pot)
    {
        ArgumentNullException.ThrowIfNull(contributions);
        var winners = contributions.Count(c => !c.IsZero);
        var share = winners == 0 ? TokenAmount.Zero : new TokenAmount(pot.BaseUnits / (UInt128)winners);
        var prizes = contributions.Select(c => c.IsZero ? TokenAmount.Zero : share).ToArray();
        var paid = new TokenAmount(share.BaseUnits * (UInt128)winners);
        return new PrizeSplit(prizes, pot - paid);
    }
}
