using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Anpm.Oracle.Tests;

/// <summary>The committed digits model, its reference vectors, and backends over it.</summary>
internal static class Digits
{
    public static readonly string Folder = Path.Combine(AppContext.BaseDirectory, "models");

    public static readonly string Model = Path.Combine(Folder, "digits.onnx");

    public static readonly string Sha256 = "0x" + Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(Model)));

    public static OnnxInferenceBackend Backend(Action<OnnxBackendOptions>? configure = null, ILoggerFactory? logs = null)
    {
        var options = new OnnxBackendOptions { Device = ExecutionDevice.Cpu };
        options.Models["digits"] = Model;
        configure?.Invoke(options);
        return new OnnxInferenceBackend(Options.Create(options), logs);
    }

    /// <summary>The 32 reference samples: pixels (32 × 64), labels and probabilities of an independent NumPy forward pass.</summary>
    public static (float[] Pixels, long[] Labels, float[][] Probabilities, int[][] Rows) Vectors()
    {
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(Folder, "digits.vectors.json")));
        var rows = json.RootElement.GetProperty("inputs").EnumerateArray().Select(row => row.EnumerateArray().Select(v => v.GetInt32()).ToArray()).ToArray();
        var labels = json.RootElement.GetProperty("expectedLabels").EnumerateArray().Select(v => v.GetInt64()).ToArray();
        var probabilities = json.RootElement.GetProperty("probabilities").EnumerateArray().Select(row => row.EnumerateArray().Select(v => (float)v.GetDouble()).ToArray()).ToArray();
        Assert.True(json.RootElement.GetProperty("heldOutAccuracy").GetDouble() >= 0.95);
        return ([.. rows.SelectMany(r => r).Select(v => (float)v)], labels, probabilities, rows);
    }

    /// <summary>The label of a canonical digits output.</summary>
    public static long Label(string output)
    {
        using var json = JsonDocument.Parse(output);
        return BitConverter.ToInt64(Convert.FromBase64String(json.RootElement.GetProperty("outputs").GetProperty("label").GetProperty("data").GetString()!));
    }

    /// <summary>The model input text of one sample, with the pixels as JSON numbers.</summary>
    public static string Input(int[] pixels) => "{\"inputs\":{\"pixels\":{\"type\":\"float32\",\"shape\":[1,64],\"data\":[" + string.Join(",", pixels) + "]}}}";
}

/// <summary>Keeps every log entry, with its category and level; everything from <see cref="MinimumLevel"/> up is enabled.</summary>
internal sealed class CapturingLoggerFactory(LogLevel minimumLevel = LogLevel.Information) : ILoggerFactory
{
    public ConcurrentQueue<(string Category, LogLevel Level, string Message)> Entries { get; } = new();

    public LogLevel MinimumLevel => minimumLevel;

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void AddProvider(ILoggerProvider provider)
    {
    }

    public void Dispose()
    {
    }

    public IEnumerable<string> Messages(string category, LogLevel? level = null) =>
        Entries.Where(e => e.Category == category && (level is null || e.Level == level)).Select(e => e.Message);

    private sealed class Logger(CapturingLoggerFactory owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= owner.MinimumLevel;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                owner.Entries.Enqueue((category, logLevel, formatter(state, exception)));
            }
        }
    }
}
