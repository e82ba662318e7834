using System.Globalization;

namespace Anpm.Testing;

/// <summary>
/// The seed of a random test: <c>ANPM_SIMULATION_SEED</c> when it is set (to rerun a failure), a fresh one otherwise, so
/// that every CI run walks a new path. A failure names the seed it ran with.
/// </summary>
public static class TestSeed
{
    /// <summary>The environment variable that pins the seed.</summary>
    public const string Variable = "ANPM_SIMULATION_SEED";

    /// <summary>The pinned seed, or a fresh random one.</summary>
    public static int Next() =>
        Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } configured
            ? int.Parse(configured, NumberStyles.Integer, CultureInfo.InvariantCulture)
            : Random.Shared.Next();

    /// <summary>Runs <paramref name="body"/> with a seed; a failure is rethrown naming the seed and how to rerun it.</summary>
    public static async Task RunAsync(Func<int, Task> body)
    {
        ArgumentNullException.ThrowIfNull(body);
        var seed = Next();
        try
        {
            await body(seed).ConfigureAwait(false);
        }
        catch (Exception exception)
        {
            throw new SeededTestFailure(seed, exception);
        }
    }
}

/// <summary>A random test failed; the message names the seed to rerun it with.</summary>
public sealed class SeededTestFailure(int seed, Exception inner)
    : Exception($"Failed with seed {seed} (rerun with {TestSeed.Variable}={seed}): {inner.Message}", inner)
{
    /// <summary>The seed the test ran with.</summary>
    public int Seed { get; } = seed;
}
