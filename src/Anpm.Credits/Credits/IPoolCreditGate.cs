using Anpm.Abstractions;

namespace Anpm.Credits;

/// <summary>Whether credits may move into or out of a pool now.</summary>
public enum PoolCreditAdmission
{
    /// <summary>The move may happen.</summary>
    Open = 1,

    /// <summary>There is no such pool.</summary>
    NotFound = 2,

    /// <summary>The pool exists but takes no credits in now (e.g. paused); the gate says why.</summary>
    Closed = 3,
}

/// <summary>The gate's answer: the admission, and why a refusal refuses, in words.</summary>
/// <param name="Admission">Whether the move may happen.</param>
/// <param name="Reason">Why not, for a refusal; <see langword="null"/> when open.</param>
public readonly record struct PoolCreditCheck(PoolCreditAdmission Admission, string? Reason);

/// <summary>
/// Says whether credits may move into or out of a pool, inside the move's unit of work. Credits asks it and does not know
/// what a pool's status means; <c>Anpm.Pools</c> implements it from the pool's status (its <c>AddPools</c> registers
/// the registry as the gate). Without one, <see cref="CreditService"/> lets credits move for every pool that exists.
/// </summary>
public interface IPoolCreditGate
{
    /// <summary>Whether <paramref name="pool"/> lets credits move in (<paramref name="intoPool"/>) or out now.</summary>
    /// <param name="unitOfWork">The move's unit of work: the answer is read in it.</param>
    /// <param name="pool">The pool.</param>
    /// <param name="intoPool">Whether the credits move into the pool (else back out of it).</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The answer.</returns>
    ValueTask<PoolCreditCheck> CheckAsync(IAnpmUnitOfWork unitOfWork, PoolId pool, bool intoPool, CancellationToken cancellationToken = default);
}
