using Anpm.Abstractions;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.ML.OnnxRuntime;
using Anpm.Tensors;

namespace Anpm.Oracle;

/// <summary>Options of the <see cref="OnnxInferenceBackend"/>.</summary>
public sealed class OnnxBackendOptions
{
    /// <summary>Model id → ONNX file path. At least one.</summary>
    public Dictionary<string, string> Models { get; } = new(StringComparer.Ordinal);

    /// <summary>
    /// Model id → the SHA-256 its file must have (<c>0x</c> + 64 hex digits, as a pool config names it). Optional per
    /// model; a file with another hash is refused at start, so a node never loads a model its pools do not expect.
    /// </summary>
    public Dictionary<string, string> ModelSha256 { get; } = new(StringComparer.Ordinal);

    /// <summary>Where models run. Default Auto: CUDA when usable, else the CPU with one warning giving ONNX Runtime's reason.</summary>
    public ExecutionDevice Device { get; set; } = ExecutionDevice.Auto;

    /// <summary>The CUDA device when running on CUDA (0 to 63). Default 0.</summary>
    public int CudaDeviceId { get; set; }

    /// <summary>
    /// Deterministic mode, so identical inputs give byte-identical outputs: one thread within and across operators,
    /// sequential execution, <c>session.use_deterministic_compute = 1</c>; on CUDA also the default convolution algorithm
    /// (no run-time benchmarking), no TF32 and no tunable operators. Overrides the thread settings. Default true: the
    /// oracles of a pool must agree bit for bit.
    /// </summary>
    public bool Deterministic { get; set; } = true;

    /// <summary>Threads within an operator when not deterministic (0 to 1024; 0: ONNX Runtime's default).</summary>
    public int IntraOpThreads { get; set; }

    /// <summary>Threads across operators when not deterministic (0 to 1024; 0: ONNX Runtime's default).</summary>
    public int InterOpThreads { get; set; }

    /// <summary>The longest one inference may take, in seconds (1 to 3600). Default 30.</summary>
    public int TimeoutSeconds { get; set; } = 30;
}

/// <summary>
/// The built-in backend, on ONNX Runtime's managed API (<c>Microsoft.ML.OnnxRuntime.Managed</c>; the application adds
/// the native package: <c>Microsoft.ML.OnnxRuntime.Gpu</c> for GPU nodes, <c>Microsoft.ML.OnnxRuntime</c> for CPU-only
/// ones). One session per configured model, loaded at start with the file's SHA-256 computed (and checked against
/// <see cref="OnnxBackendOptions.ModelSha256"/>), checked again against each task's model hash, warmed up once; inputs
/// parsed and validated (<see cref="ModelIo"/>); runs on the calling thread, bounded by a timeout and cancellable;
/// outputs written canonically. ONNX Runtime's own log goes to the <c>Anpm.Oracle.OnnxRuntime</c> logger.
/// </summary>
public sealed class OnnxInferenceBackend : IInferenceBackend, IDisposable
{
    private readonly Dictionary<string, OnnxModelSession> _models = new(StringComparer.Ordinal);
    private readonly TimeSpan _timeout;

    /// <summary>Loads every model.</summary>
    /// <exception cref="OptionsValidationException">The options are invalid (no model, a missing file, a bad timeout); the message names them.</exception>
    /// <exception cref="ModelLoadException">ONNX Runtime refused a model, a file's SHA-256 is not the configured one, or CUDA was required and is unusable.</exception>
    public OnnxInferenceBackend(IOptions<OnnxBackendOptions> options, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var settings = options.Value;
        var validation = new OracleNodeOptionsValidator().Validate(Options.DefaultName, settings);
        if (validation.Failed)
        {
            throw new OptionsValidationException(Options.DefaultName, typeof(OnnxBackendOptions), validation.Failures);
        }

        loggerFactory ??= NullLoggerFactory.Instance;
        var log = loggerFactory.CreateLogger<OnnxInferenceBackend>();
        var runtimeLog = loggerFactory.CreateLogger(OnnxRuntimeLog.Category);
        if (!OnnxRuntimeLog.EnsureEnvironment())
        {
            OnnxLog.NotRouted(log);
        }

        _timeout = TimeSpan.FromSeconds(settings.TimeoutSeconds);
        RuntimeVersion = OrtEnv.Instance().GetVersionString();
        var cuda = new OnnxModelSession.CudaProbe();
        try
        {
            foreach (var (id, path) in settings.Models)
            {
                var bytes = File.ReadAllBytes(path);
                var sha = "0x" + Convert.ToHexStringLower(SHA256.HashData(bytes));
                if (settings.ModelSha256.TryGetValue(id, out var expected) && !string.Equals(expected, sha, StringComparison.OrdinalIgnoreCase))
                {
                    throw new ModelLoadException(id, $"Model {id}: '{path}' has sha256 {sha}, not the configured {expected}.");
                }

                var knownUnavailable = cuda.UnavailableReason;
                var session = OnnxModelSession.Load(id, path, bytes, sha, settings, cuda, log, runtimeLog);
                _models[id] = session;
                var model = session.Model;
                if (knownUnavailable is null && cuda.UnavailableReason is { } reason)
                {
                    OnnxLog.CudaUnavailable(log, reason); // once for all models
                }
                else if (model.FallbackReason is { } own && cuda.UnavailableReason is null)
                {
                    OnnxLog.ModelFellBack(log, id, own);
                }

                WarmUp(session);
                OnnxLog.ModelLoaded(log, id, path, sha, model.Device, RuntimeVersion);
                if (model.CudaOptions is { } cudaOptions)
                {
                    OnnxLog.CudaOptions(log, id, cudaOptions);
                }
            }
        }
        catch
        {
            Dispose();
            throw;
        }

        Models = _models.ToDictionary(m => m.Key, m => m.Value.Model, StringComparer.Ordinal);
    }

    /// <summary>The loaded models by id: file, SHA-256, device, inputs and outputs.</summary>
    public IReadOnlyDictionary<string, OnnxModel> Models { get; }

    /// <summary>The ONNX Runtime version running the models, e.g. <c>1.31.0</c>.</summary>
    public string RuntimeVersion { get; }

    /// <inheritdoc />
    public ValueTask<InferenceResult> RunAsync(InferenceRequest request, CancellationToken cancellationToken = default)
    {
        try
        {
            ArgumentNullException.ThrowIfNull(request);
            var model = Resolve(request);
            return new(Result(Execute(model, Parse(request.Input), cancellationToken)));
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<InferenceResult>(cancellationToken);
        }
        catch (Exception exception)
        {
            return ValueTask.FromException<InferenceResult>(exception);
        }
    }

    /// <summary>
    /// Runs model <paramref name="model"/> on tensors (every declared input, by name) and returns every output by name —
    /// for callers that hold tensors rather than the model input text. Runs on the calling thread, within the timeout.
    /// </summary>
    /// <exception cref="InferenceFailedException">The model is not loaded, an input does not fit the model (the message names it), the run took too long, or ONNX Runtime failed.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public IReadOnlyDictionary<string, Tensor> Run(string model, IReadOnlyDictionary<string, Tensor> inputs, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(inputs);
        return Execute(_models.TryGetValue(model, out var session) ? session : throw NotLoaded(model), inputs, cancellationToken);
    }

    /// <summary>
    /// Runs requests for one model as one batch when the model's inputs have a free first dimension and every request
    /// brings dimension 1 there (concatenated, run once, outputs split back); otherwise, and for requests that do not fit,
    /// one by one. Only batch models whose outputs do not depend on the batch (verify it: the oracles of a pool must agree
    /// bit for bit).
    /// </summary>
    public ValueTask<IReadOnlyList<BatchItemResult>> RunBatchAsync(IReadOnlyList<InferenceRequest> requests, CancellationToken cancellationToken = default)
    {
        try
        {
            ArgumentNullException.ThrowIfNull(requests);
            return new(RunBatch(requests, cancellationToken));
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<IReadOnlyList<BatchItemResult>>(cancellationToken);
        }
        catch (Exception exception)
        {
            return ValueTask.FromException<IReadOnlyList<BatchItemResult>>(exception);
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var session in _models.Values)
        {
            session.Dispose();
        }

        _models.Clear();
    }

    private static InferenceFailedException NotLoaded(string model) => new($"model '{model}' is not loaded on this node");

    private static IReadOnlyDictionary<string, Tensor> Parse(string input)
    {
        try
        {
            return ModelIo.ParseInputs(input);
        }
        catch (FormatException exception)
        {
            throw new InferenceFailedException(TaskFailureReasons.BadInput + ": " + exception.Message, exception);
        }
    }

    private OnnxModelSession Resolve(InferenceRequest request)
    {
        if (!_models.TryGetValue(request.Model, out var model))
        {
            throw NotLoaded(request.Model);
        }

        return string.Equals(model.Model.Sha256, request.ModelHash, StringComparison.OrdinalIgnoreCase)
            ? model
            : throw new InferenceFailedException($"model '{request.Model}' here has sha256 {model.Model.Sha256}, the task names {request.ModelHash}");
    }

    private Dictionary<string, Tensor> Execute(OnnxModelSession model, IReadOnlyDictionary<string, Tensor> inputs, CancellationToken cancellationToken)
    {
        using var timeout = cancellationToken.CanBeCanceled ? CancellationTokenSource.CreateLinkedTokenSource(cancellationToken) : new CancellationTokenSource();
        timeout.CancelAfter(_timeout);
        try
        {
            return model.Run(inputs, timeout.Token);
        }
        catch (ArgumentException exception)
        {
            throw new InferenceFailedException(TaskFailureReasons.BadInput + ": " + exception.Message, exception);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new InferenceFailedException($"inference took longer than {_timeout.TotalSeconds} s");
        }
    }

    private IReadOnlyList<BatchItemResult> RunBatch(IReadOnlyList<InferenceRequest> requests, CancellationToken cancellationToken)
    {
        var results = new BatchItemResult?[requests.Count];
        var batch = new List<(int Index, IReadOnlyDictionary<string, Tensor> Inputs)>();
        OnnxModelSession? session = null;
        for (var i = 0; i < requests.Count; i++)
        {
            var request = requests[i];
            if (!_models.TryGetValue(request.Model, out var model) || !string.Equals(model.Model.Sha256, request.ModelHash, StringComparison.OrdinalIgnoreCase)
                || (session is not null && model != session))
            {
                results[i] = RunAlone(request, cancellationToken);
                continue;
            }

            IReadOnlyDictionary<string, Tensor> inputs;
            try
            {
                inputs = ModelIo.ParseInputs(request.Input);
            }
            catch (FormatException exception)
            {
                results[i] = new BatchItemResult(null, TaskFailureReasons.BadInput + ": " + exception.Message);
                continue;
            }

            if (Batchable(model.Model, inputs, batch.Count == 0 ? null : batch[0].Inputs))
            {
                session = model;
                batch.Add((i, inputs));
            }
            else
            {
                results[i] = RunAlone(request, cancellationToken);
            }
        }

        if (batch.Count == 1)
        {
            results[batch[0].Index] = RunAlone(requests[batch[0].Index], cancellationToken);
        }
        else if (batch.Count > 1)
        {
            RunTogether(session!, batch, results, requests, cancellationToken);
        }

        return [.. results.Select(r => r!)];
    }

    private BatchItemResult RunAlone(InferenceRequest request, CancellationToken cancellationToken)
    {
        try
        {
            return new BatchItemResult(Result(Execute(Resolve(request), Parse(request.Input), cancellationToken)), null);
        }
        catch (InferenceFailedException exception)
        {
            return new BatchItemResult(null, exception.Message);
        }
    }

    // Every declared input present, of its type, with a free first dimension given as 1, the rest as the first request's.
    private static bool Batchable(OnnxModel model, IReadOnlyDictionary<string, Tensor> inputs, IReadOnlyDictionary<string, Tensor>? first)
    {
        if (inputs.Count != model.Inputs.Count)
        {
            return false;
        }

        foreach (var info in model.Inputs)
        {
            if (!inputs.TryGetValue(info.Name, out var tensor) || tensor.ElementType != info.ElementType || info.Shape.Count == 0 || info.Shape[0] >= 0
                || tensor.Shape.Count != info.Shape.Count || tensor.Shape[0] != 1
                || !tensor.Shape.Skip(1).Zip(info.Shape.Skip(1)).All(d => d.Second < 0 || d.First == d.Second)
                || (first is not null && !tensor.Shape.SequenceEqual(first[info.Name].Shape)))
            {
                return false;
            }
        }

        return true;
    }

    private void RunTogether(
        OnnxModelSession session, List<(int Index, IReadOnlyDictionary<string, Tensor> Inputs)> batch, BatchItemResult?[] results, IReadOnlyList<InferenceRequest> requests,
        CancellationToken cancellationToken)
    {
        var joined = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var info in session.Model.Inputs)
        {
            var first = batch[0].Inputs[info.Name];
            var rowBytes = first.Data.Length;
            var data = new byte[rowBytes * batch.Count];
            for (var n = 0; n < batch.Count; n++)
            {
                batch[n].Inputs[info.Name].Data.CopyTo(data.AsSpan(n * rowBytes));
            }

            var shape = first.Dimensions.ToArray();
            shape[0] = batch.Count;
            joined[info.Name] = new Tensor(first.ElementType, shape, data);
        }

        Dictionary<string, Tensor> outputs;
        try
        {
            outputs = Execute(session, joined, cancellationToken);
        }
        catch (InferenceFailedException)
        {
            // The batch failed as a whole: each request alone, so one bad request cannot fail the others.
            outputs = [];
        }

        if (outputs.Count == 0 || outputs.Values.Any(o => o.Dimensions.Length == 0 || o.Dimensions[0] != batch.Count))
        {
            foreach (var (index, _) in batch)
            {
                results[index] = RunAlone(requests[index], cancellationToken);
            }

            return;
        }

        var row = new Dictionary<string, Tensor>(outputs.Count, StringComparer.Ordinal);
        for (var n = 0; n < batch.Count; n++)
        {
            foreach (var (name, output) in outputs)
            {
                var rowBytes = output.Data.Length / batch.Count;
                var shape = output.Dimensions.ToArray();
                shape[0] = 1;
                row[name] = new Tensor(output.ElementType, shape, output.Data.Slice(n * rowBytes, rowBytes));
            }

            results[batch[n].Index] = new BatchItemResult(Result(row), null);
        }
    }

    // One run on zeros (free dimensions as 1), so the first task does not pay for lazy initialisation. A model that cannot
    // run on zeros (a sample rate of 0, say) is still loaded: its first task warms it up.
    private static void WarmUp(OnnxModelSession session)
    {
        if (session.Model.Inputs.Any(i => i.ElementType is null))
        {
            return;
        }

        var inputs = session.Model.Inputs.ToDictionary(
            i => i.Name,
            i =>
            {
                var shape = i.Shape.Select(d => d < 0 ? 1L : d).ToArray();
                return new Tensor(i.ElementType!.Value, shape, new byte[Tensor.ElementCountOf(shape) * TensorElementTypes.SizeOf(i.ElementType.Value)]);
            });
        try
        {
            session.Run(inputs, CancellationToken.None);
        }
        catch (InferenceFailedException)
        {
            // See above.
        }
    }

    private static InferenceResult Result(IReadOnlyDictionary<string, Tensor> outputs)
    {
        var (output, hash) = ModelIo.WriteOutputsWithHash(outputs);
        return new InferenceResult(output, hash);
    }
}
