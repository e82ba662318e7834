namespace Anpm.Testing;

/// <summary>Where the tests' fake clocks (Microsoft.Extensions.Time.Testing's FakeTimeProvider) start: a fixed, recent day.</summary>
public static class TestClock
{
    /// <summary>2026-11-21, midnight UTC.</summary>
    public static readonly DateTimeOffset Start = new(2026, 11, 21, 0, 0, 0, TimeSpan.Zero);
}
