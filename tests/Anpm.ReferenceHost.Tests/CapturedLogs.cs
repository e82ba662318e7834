using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Anpm.ReferenceHost.Tests;

/// <summary>One log line: its level, category, text (message, structured values, exception) and scopes.</summary>
internal sealed record LogLine(LogLevel Level, string Category, string Text);

/// <summary>Every log line the host writes at any enabled level, to scan for what must never be logged (or be logged too much).</summary>
internal sealed class CapturedLogs : ILoggerProvider
{
    private readonly ConcurrentQueue<LogLine> _lines = new();

    public int Count => _lines.Count;

    public IReadOnlyCollection<LogLine> Lines => [.. _lines];

    public bool Contains(string text) => _lines.Any(line => line.Text.Contains(text, StringComparison.OrdinalIgnoreCase));

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(CapturedLogs logs, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull
        {
            logs._lines.Enqueue(new LogLine(LogLevel.None, category, "scope: " + state));
            return null;
        }

        // Whatever the host's filters let through (the tests set the levels through configuration).
        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var structured = state is IEnumerable<KeyValuePair<string, object?>> pairs ? string.Join("; ", pairs.Select(p => $"{p.Key}={p.Value}")) : string.Empty;
            logs._lines.Enqueue(new LogLine(logLevel, category, $"{formatter(state, exception)} {structured} {exception}"));
        }
    }
}
