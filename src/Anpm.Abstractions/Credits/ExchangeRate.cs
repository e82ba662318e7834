namespace Anpm.Abstractions;

/// <summary>
/// An exchange rate of the schedule: from <see cref="EffectiveAt"/> on (until the next one), <see cref="TokenUnits"/> token
/// base units buy <see cref="Credits"/> credits.
/// </summary>
public sealed record ExchangeRate
{
    /// <summary>Credits per <see cref="TokenUnits"/> (at least 1).</summary>
    public required TokenAmount Credits { get; init; }

    /// <summary>Token base units per <see cref="Credits"/> (at least 1).</summary>
    public required TokenAmount TokenUnits { get; init; }

    /// <summary>When the rate takes effect; one rate per instant.</summary>
    public required DateTimeOffset EffectiveAt { get; init; }

    /// <summary>Who set it (the feeder or an admin).</summary>
    public required Address SetBy { get; init; }

    /// <summary>When it was set.</summary>
    public required DateTimeOffset SetAt { get; init; }
}

/// <summary>Storage of the exchange-rate schedule inside a unit of work; rates are written once, never changed.</summary>
public interface IExchangeRateStore
{
    /// <summary>Inserts a rate unless one takes effect at the same instant (an atomic insert).</summary>
    /// <returns><see langword="false"/> when one with that effective time exists; nothing changed.</returns>
    ValueTask<bool> TryInsertRateAsync(ExchangeRate rate, CancellationToken cancellationToken = default);

    /// <summary>The rate in force at <paramref name="at"/>: the one with the latest effective time at or before it.</summary>
    /// <returns>The rate, or <see langword="null"/> when none is in force yet.</returns>
    ValueTask<ExchangeRate?> GetRateInForceAsync(DateTimeOffset at, CancellationToken cancellationToken = default);

    /// <summary>Rates, latest effective time first.</summary>
    /// <param name="before">Only rates taking effect before this time; <see langword="null"/> from the latest.</param>
    /// <param name="limit">The most rates to return.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    ValueTask<IReadOnlyList<ExchangeRate>> ListRatesAsync(DateTimeOffset? before, int limit, CancellationToken cancellationToken = default);
}

/// <summary>A named counter a background job keeps its progress in (e.g. the last UTC day whose revenue was sent).</summary>
/// <param name="Name">The checkpoint's name (1 to 128 characters).</param>
/// <param name="Value">Its value.</param>
/// <param name="Version">The optimistic version: 0 when inserted, one more after each update.</param>
public sealed record Checkpoint(string Name, long Value, long Version);

/// <summary>Storage of job checkpoints inside a unit of work.</summary>
public interface ICheckpointStore
{
    /// <summary>Reads a checkpoint.</summary>
    /// <param name="name">The checkpoint.</param>
    /// <param name="lockShared">
    /// Holds a shared lock on it until the unit of work ends, so an update of it waits for this unit of work (and this one
    /// waits for an update in progress, then reads its value). Stores that run one writer at a time ignore it.
    /// </param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>It, or <see langword="null"/> when none has that name.</returns>
    ValueTask<Checkpoint?> GetCheckpointAsync(string name, bool lockShared = false, CancellationToken cancellationToken = default);

    /// <summary>Inserts a checkpoint at version 0 unless one has that name (an atomic insert).</summary>
    /// <returns><see langword="false"/> when one has that name; nothing changed.</returns>
    ValueTask<bool> TryInsertCheckpointAsync(string name, long value, CancellationToken cancellationToken = default);

    /// <summary>Sets a checkpoint's value if its version is still <paramref name="expectedVersion"/>.</summary>
    /// <exception cref="AnpmConcurrencyException">It changed meanwhile; retrying is safe.</exception>
    /// <exception cref="AnpmException">There is no checkpoint with that name.</exception>
    ValueTask UpdateCheckpointAsync(string name, long value, long expectedVersion, CancellationToken cancellationToken = default);
}
