using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.ML.OnnxRuntime;

namespace Anpm.Oracle;

/// <summary>
/// ONNX Runtime's log, routed into <see cref="ILogger"/>: its process-wide environment is created once with a logging
/// function, so nothing is printed to stderr by ONNX Runtime itself. A message goes to the logger of the session that
/// wrote it (sessions get a log id of their own), or of the thread that is loading a model, or else of the backend
/// loaded last. ONNX Runtime's severities map to Trace (verbose), Debug (info), Warning, Error and Critical (fatal),
/// except while CUDA is being tried: those messages are Debug, because the backend says why CUDA was not used itself,
/// once.
/// </summary>
internal static class OnnxRuntimeLog
{
    /// <summary>The category of ONNX Runtime's own messages.</summary>
    public const string Category = "Anpm.Oracle.OnnxRuntime";

    private static readonly Lock Gate = new();
    private static readonly ConcurrentDictionary<string, ILogger> Sessions = new(StringComparer.Ordinal);
    private static long s_sessions;
    private static bool s_routed;
    private static volatile ILogger? s_latest;

    [ThreadStatic]
    private static ILogger? t_logger;

    [ThreadStatic]
    private static bool t_probing;

    /// <summary>
    /// Creates ONNX Runtime's environment with Anpm's logging function unless it exists already; answers whether
    /// ONNX Runtime's messages reach Anpm's loggers (not when another part of the application created it first).
    /// </summary>
    public static bool EnsureEnvironment()
    {
        lock (Gate)
        {
            if (OrtEnv.IsCreated)
            {
                return s_routed;
            }

            var options = new EnvironmentCreationOptions
            {
                logId = "anpm",
                logLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_WARNING,
                loggingFunction = Route,
            };
            try
            {
                OrtEnv.CreateInstanceWithOptions(ref options);
                s_routed = true;
            }
            catch (OnnxRuntimeException)
            {
                // Created by another component between the check and here: its logging stays.
            }

            return s_routed;
        }
    }

    /// <summary>The severity a session of a backend logs at: what its logger would show, no more.</summary>
    public static OrtLoggingLevel SessionLevel(ILogger logger) =>
        logger.IsEnabled(LogLevel.Trace) ? OrtLoggingLevel.ORT_LOGGING_LEVEL_VERBOSE
        : logger.IsEnabled(LogLevel.Debug) ? OrtLoggingLevel.ORT_LOGGING_LEVEL_INFO
        : OrtLoggingLevel.ORT_LOGGING_LEVEL_WARNING;

    /// <summary>A log id for a new session of <paramref name="model"/> whose messages go to <paramref name="logger"/>.</summary>
    public static string Register(ILogger logger, string model)
    {
        var id = $"anpm:{model}:{Interlocked.Increment(ref s_sessions)}";
        Sessions[id] = logger;
        s_latest = logger;
        return id;
    }

    /// <summary>Forgets a session's log id (its session is disposed).</summary>
    public static void Unregister(string logId) => Sessions.TryRemove(logId, out _);

    /// <summary>
    /// Until disposed, messages written on this thread go to <paramref name="logger"/>; with <paramref name="probing"/>,
    /// at Debug (trying CUDA: the caller reports the outcome itself).
    /// </summary>
    public static Scope Enter(ILogger logger, bool probing = false)
    {
        var scope = new Scope(t_logger, t_probing);
        t_logger = logger;
        t_probing = probing;
        return scope;
    }

    // Called by ONNX Runtime's native code: it must never throw.
    private static void Route(IntPtr param, OrtLoggingLevel severity, string category, string logId, string codeLocation, string message)
    {
        try
        {
            Write(severity, logId, codeLocation, message);
        }
        catch (Exception)
        {
            // A logger that throws loses this message, not the process.
        }
    }

    private static void Write(OrtLoggingLevel severity, string logId, string codeLocation, string message)
    {
        var logger = t_logger ?? (Sessions.TryGetValue(logId, out var session) ? session : s_latest);
        var level = t_probing ? LogLevel.Debug : severity switch
        {
            OrtLoggingLevel.ORT_LOGGING_LEVEL_VERBOSE => LogLevel.Trace,
            OrtLoggingLevel.ORT_LOGGING_LEVEL_INFO => LogLevel.Debug,
            OrtLoggingLevel.ORT_LOGGING_LEVEL_WARNING => LogLevel.Warning,
            OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR => LogLevel.Error,
            _ => LogLevel.Critical,
        };
        if (logger is not null && logger.IsEnabled(level))
        {
            OnnxLog.RuntimeMessage(logger, level, logId, codeLocation, message);
        }
    }

    /// <summary>Restores the thread's previous routing.</summary>
    public readonly struct Scope(ILogger? previous, bool previousProbing) : IDisposable
    {
        /// <inheritdoc />
        public void Dispose()
        {
            t_logger = previous;
            t_probing = previousProbing;
        }
    }
}

/// <summary>The backend's log messages.</summary>
internal static partial class OnnxLog
{
    [LoggerMessage(EventId = 1, Message = "ONNX Runtime [{LogId} {CodeLocation}] {Text}")]
    public static partial void RuntimeMessage(ILogger logger, LogLevel level, string logId, string codeLocation, string text);

    [LoggerMessage(EventId = 2, Level = LogLevel.Warning, Message = "CUDA cannot be used, so the models run on the CPU: {Reason}")]
    public static partial void CudaUnavailable(ILogger logger, string reason);

    [LoggerMessage(EventId = 3, Level = LogLevel.Warning, Message = "Model {Model} runs on the CPU: CUDA could not load it: {Reason}")]
    public static partial void ModelFellBack(ILogger logger, string model, string reason);

    [LoggerMessage(EventId = 4, Level = LogLevel.Information, Message = "Model {Model} loaded from {Path} (sha256 {Sha256}) on {Device} with ONNX Runtime {Version}.")]
    public static partial void ModelLoaded(ILogger logger, string model, string path, string sha256, ExecutionDevice device, string version);

    [LoggerMessage(EventId = 5, Level = LogLevel.Information, Message = "Model {Model} CUDA provider options: {Options}")]
    public static partial void CudaOptions(ILogger logger, string model, string options);

    [LoggerMessage(EventId = 6, Level = LogLevel.Debug, Message = "ONNX Runtime's environment was created by another component; its messages are not routed to this log.")]
    public static partial void NotRouted(ILogger logger);

    [LoggerMessage(EventId = 7, Level = LogLevel.Debug, Message = "Model {Model}: its outputs' shapes are not what its declared dimensions say; outputs are allocated by ONNX Runtime from now on.")]
    public static partial void OutputPlanDropped(ILogger logger, string model);
}
