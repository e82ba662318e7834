namespace Anpm.Gateway.Evm;

/// <summary>
/// How many blocks the next <c>eth_getLogs</c> asks for while catching up: halved each time a provider refuses a range
/// (too many results, too wide a range, a timeout), grown by half again after each success, between a minimum and a
/// maximum. One planner per provider and log filter; not thread-safe.
/// </summary>
public sealed class LogRangePlanner
{
    private readonly int _minimum;
    private readonly int _maximum;

    /// <summary>Starts at <paramref name="initialBlocks"/> blocks per request.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The minimum is below 1, or the initial size outside minimum to maximum.</exception>
    public LogRangePlanner(int initialBlocks = 2_000, int minimumBlocks = 1, int maximumBlocks = 10_000)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(minimumBlocks, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maximumBlocks, minimumBlocks);
        ArgumentOutOfRangeException.ThrowIfLessThan(initialBlocks, minimumBlocks);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(initialBlocks, maximumBlocks);
        (_minimum, _maximum, Blocks) = (minimumBlocks, maximumBlocks, initialBlocks);
    }

    /// <summary>How many blocks the next request covers.</summary>
    public int Blocks { get; private set; }

    /// <summary>The next range to ask for: from <paramref name="from"/>, at most <see cref="Blocks"/> blocks, never past <paramref name="to"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="from"/> is negative or past <paramref name="to"/>.</exception>
    public (long From, long To) Next(long from, long to)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(from);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(from, to);
        return (from, Math.Min(to, from + Blocks - 1));
    }

    /// <summary>The last range was answered: the next may be half as wide again (up to the maximum).</summary>
    public void Succeeded() => Blocks = (int)Math.Min(_maximum, Blocks + Math.Max(1L, Blocks / 2L));

    /// <summary>The last range was refused as too large: halve it.</summary>
    /// <returns><see langword="false"/> when it is already at the minimum: the refusal is not about the range.</returns>
    public bool Refused()
    {
        if (Blocks == _minimum)
        {
            return false;
        }

        Blocks = Math.Max(_minimum, Blocks / 2);
        return true;
    }

    /// <summary>
    /// Whether a JSON-RPC error of <c>eth_getLogs</c> means "ask for fewer blocks". Providers say it in different words
    /// for the same condition: code -32005 (limit exceeded), or -32602/-32000/-32600 with a message about a range, a
    /// limit, too many results, a response size or a timeout.
    /// </summary>
    public static bool IsRangeRefusal(int code, string? message)
    {
        if (code == -32005)
        {
            return true;
        }

        if (code is not (-32602 or -32000 or -32600 or -32603) || string.IsNullOrEmpty(message))
        {
            return false;
        }

        ReadOnlySpan<string> hints = ["range", "limit", "too many", "too large", "exceed", "response size", "timeout", "timed out", "max results"];
        foreach (var hint in hints)
        {
            if (message.Contains(hint, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }
}
