using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Anpm.Testing;

/// <summary>
/// A logger provider that collects every exception an application logged as unhandled (ASP.NET Core's exception handler
/// and Kestrel log them at Error with the exception), so a test fails on a defect even when the client only saw a 500.
/// </summary>
public sealed class UnhandledExceptionLog : ILoggerProvider
{
    private static readonly string[] Categories =
    [
        "Microsoft.AspNetCore.Diagnostics.ExceptionHandlerMiddleware",
        "Microsoft.AspNetCore.Diagnostics.DeveloperExceptionPageMiddleware",
        "Microsoft.AspNetCore.Server.Kestrel",
        "Microsoft.AspNetCore.Hosting.Diagnostics",
        "Microsoft.AspNetCore.Http.Result",
    ];

    private readonly ConcurrentQueue<string> _entries = new();

    /// <summary>Each unhandled exception logged so far: the category, the message and the exception.</summary>
    public IReadOnlyCollection<string> Entries => [.. _entries];

    /// <summary>Fails when any unhandled exception was logged.</summary>
    public void AssertNone()
    {
        if (!_entries.IsEmpty)
        {
            throw new InvalidOperationException($"{_entries.Count} unhandled exception(s) were logged:\n" + string.Join("\n---\n", _entries.Take(5)));
        }
    }

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(UnhandledExceptionLog owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Error;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (logLevel >= LogLevel.Error && exception is not null && Categories.Any(c => category.StartsWith(c, StringComparison.Ordinal)))
            {
                owner._entries.Enqueue($"{category}: {formatter(state, exception)}\n{exception}");
            }
        }
    }
}
