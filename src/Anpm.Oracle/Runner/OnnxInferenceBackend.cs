using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Anpm.Oracle;

/// <summary>What a backend was asked to run: the model, the model hash the task names, and the input text.</summary>
/// <param name="Model">The model id.</param>
/// <param name="ModelHash">The SHA-256 the task names (<c>0x</c> + 64 hex digits); the backend refuses another file.</param>
/// <param name="Input">The input (API.md model input JSON).</param>
public sealed record InferenceRequest(string Model, string ModelHash, string Input);

/// <summary>What a backend produced: the canonical output text and its Keccak-256.</summary>
public sealed record InferenceResult(string Output, string OutputHash);

/// <summary>Why an inference could not run, in words an oracle can report as its TaskFailure reason.</summary>
public sealed class InferenceFailedException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>Runs models. The ONNX backend is built in; a GPU vendor may bring another.</summary>
public interface IInferenceBackend
{
    /// <summary>Runs one request.</summary>
    /// <exception cref="InferenceFailedException">The model, the input or the run failed; the message says why.</exception>
    ValueTask<InferenceResult> RunAsync(InferenceRequest request, CancellationToken cancellationToken = default);

    /// <summary>
    /// Runs several requests for one model, as one batch where the backend can; each request gets its own result or
    /// failure, exactly as if run alone. The default runs them one by one.
    /// </summary>
    async ValueTask<IReadOnlyList<BatchItemResult>> RunBatchAsync(IReadOnlyList<InferenceRequest> requests, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(requests);
        var results = new List<BatchItemResult>(requests.Count);
        foreach (var request in requests)
        {
            try
            {
                results.Add(new BatchItemResult(await RunAsync(request, cancellationToken).ConfigureAwait(false), null));
            }
            catch (InferenceFailedException exception)
            {
                results.Add(new BatchItemResult(null, exception.Message));
            }
        }

        return results;
    }
}

/// <summary>One request's outcome in a batch: a result, or the reason it failed.</summary>
public sealed record BatchItemResult(InferenceResult? Result, string? Failure);

/// <summary>Options of the <see cref="OnnxInferenceBackend"/>.</summary>
public sealed class OnnxBackendOptions
{
    /// <summary>Model id → ONNX file path. At least one.</summary>
    public Dictionary<string, string> Models { get; } = new(StringComparer.Ordinal);

    /// <summary>Where sessions run. Default Auto (CUDA when usable, else the CPU, with one warning).</summary>
    public ExecutionDevice Device { get; set; } = ExecutionDevice.Auto;

    /// <summary>Deterministic mode (see <see cref="OnnxSessionOptions.Deterministic"/>). Default true: oracles must agree bit for bit.</summary>
    public bool Deterministic { get; set; } = true;

    /// <summary>The ONNX Runtime library; beside the assembly when null.</summary>
    public string? LibraryPath { get; set; }

    /// <summary>The longest one inference may take, in seconds (1 to 3600). Default 30.</summary>
    public int TimeoutSeconds { get; set; } = 30;
}

/// <summary>
/// The built-in backend: one ONNX Runtime session per configured model, loaded at start with the file's SHA-256 checked
/// against each task's model hash, warmed up once; inputs parsed and validated (<see cref="ModelIo"/>), runs bounded by a
/// timeout and cancellable, outputs written canonically.
/// </summary>
public sealed class OnnxInferenceBackend : IInferenceBackend, IDisposable
{
    private readonly OnnxRuntimeEnvironment _runtime;
    private readonly Dictionary<string, (OnnxSession Session, string Sha256)> _models = new(StringComparer.Ordinal);
    private readonly TimeSpan _timeout;

    /// <summary>Loads the library and every model.</summary>
    /// <exception cref="OptionsValidationException">The options are invalid (no model, a missing file, a bad timeout); the message names them.</exception>
    /// <exception cref="OnnxRuntimeException">ONNX Runtime refused a model, or CUDA was required and is missing.</exception>
    public OnnxInferenceBackend(IOptions<OnnxBackendOptions> options, ILogger<OnnxInferenceBackend>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var settings = options.Value;
        var failures = new List<string>();
        if (settings.Models.Count == 0)
        {
            failures.Add("OnnxBackendOptions.Models must name at least one model.");
        }

        failures.AddRange(settings.Models.Where(m => !File.Exists(m.Value)).Select(m => $"OnnxBackendOptions.Models[{m.Key}]: file '{m.Value}' does not exist."));
        if (settings.TimeoutSeconds is < 1 or > 3600)
        {
            failures.Add($"OnnxBackendOptions.TimeoutSeconds must be 1 to 3600, not {settings.TimeoutSeconds}.");
        }

        if (failures.Count > 0)
        {
            throw new OptionsValidationException(Options.DefaultName, typeof(OnnxBackendOptions), failures);
        }

        _timeout = TimeSpan.FromSeconds(settings.TimeoutSeconds);
        _runtime = OnnxRuntimeEnvironment.Load(settings.LibraryPath);
        var log = (ILogger?)logger ?? NullLogger.Instance;
        try
        {
            foreach (var (id, path) in settings.Models)
            {
                var bytes = File.ReadAllBytes(path);
                var sha = "0x" + Convert.ToHexStringLower(SHA256.HashData(bytes));
                var session = _runtime.CreateSession(bytes, new OnnxSessionOptions { Device = settings.Device, Deterministic = settings.Deterministic });
                if (session.FallbackReason is { } reason)
                {
                    log.LogWarning("Model {Model} runs on the CPU: CUDA cannot be used ({Reason}).", id, reason);
                }

                _models[id] = (session, sha);
                WarmUp(session);
                log.LogInformation("Model {Model} loaded from {Path} (sha256 {Sha256}) on {Device}.", id, path, sha, session.Device);
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>The loaded models: id → SHA-256 of the file.</summary>
    public IReadOnlyDictionary<string, string> ModelHashes => _models.ToDictionary(m => m.Key, m => m.Value.Sha256);

    /// <summary>A loaded model's session (for its metadata).</summary>
    public OnnxSession SessionOf(string model) => _models[model].Session;

    /// <inheritdoc />
    public async ValueTask<InferenceResult> RunAsync(InferenceRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!_models.TryGetValue(request.Model, out var model))
        {
            throw new InferenceFailedException($"model '{request.Model}' is not loaded on this node");
        }

        if (!string.Equals(model.Sha256, request.ModelHash, StringComparison.OrdinalIgnoreCase))
        {
            throw new InferenceFailedException($"model '{request.Model}' here has sha256 {model.Sha256}, the task names {request.ModelHash}");
        }

        IReadOnlyDictionary<string, Tensor> inputs;
        try
        {
            inputs = ModelIo.ParseInputs(request.Input);
        }
        catch (FormatException exception)
        {
            throw new InferenceFailedException("bad input: " + exception.Message, exception);
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_timeout);
        try
        {
            var outputs = await Task.Run(() => model.Session.Run(inputs, timeout.Token), timeout.Token).ConfigureAwait(false);
            var output = ModelIo.WriteOutputs(outputs);
            return new InferenceResult(output, ModelIo.OutputHash(output));
        }
        catch (ArgumentException exception)
        {
            throw new InferenceFailedException("bad input: " + exception.Message, exception);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new InferenceFailedException($"inference took longer than {_timeout.TotalSeconds} s");
        }
        catch (OnnxRuntimeException exception)
        {
            throw new InferenceFailedException("inference failed: " + exception.Message, exception);
        }
    }

    /// <summary>
    /// Runs requests for one model as one batch when the model's inputs have a free first dimension and every request
    /// brings dimension 1 there (concatenated, run once, outputs split back); otherwise, and for requests that do not fit,
    /// one by one. Only batch models whose outputs do not depend on the batch (verify it: the oracles of a pool must agree
    /// bit for bit).
    /// </summary>
    public async ValueTask<IReadOnlyList<BatchItemResult>> RunBatchAsync(IReadOnlyList<InferenceRequest> requests, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(requests);
        var results = new BatchItemResult?[requests.Count];
        var batchable = new List<(int Index, IReadOnlyDictionary<string, Tensor> Inputs)>();
        OnnxSession? session = null;
        for (var i = 0; i < requests.Count; i++)
        {
            var request = requests[i];
            if (!_models.TryGetValue(request.Model, out var model) || !string.Equals(model.Sha256, request.ModelHash, StringComparison.OrdinalIgnoreCase)
                || (session is not null && model.Session != session))
            {
                results[i] = await RunAloneAsync(request, cancellationToken).ConfigureAwait(false);
                continue;
            }

            IReadOnlyDictionary<string, Tensor> inputs;
            try
            {
                inputs = ModelIo.ParseInputs(request.Input);
            }
            catch (FormatException exception)
            {
                results[i] = new BatchItemResult(null, "bad input: " + exception.Message);
                continue;
            }

            if (Batchable(model.Session, inputs, batchable.Count == 0 ? null : batchable[0].Inputs))
            {
                session = model.Session;
                batchable.Add((i, inputs));
            }
            else
            {
                results[i] = await RunAloneAsync(request, cancellationToken).ConfigureAwait(false);
            }
        }

        if (batchable.Count == 1)
        {
            results[batchable[0].Index] = await RunAloneAsync(requests[batchable[0].Index], cancellationToken).ConfigureAwait(false);
        }
        else if (batchable.Count > 1)
        {
            await RunTogetherAsync(session!, batchable, results, requests, cancellationToken).ConfigureAwait(false);
        }

        return [.. results.Select(r => r!)];
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var (session, _) in _models.Values)
        {
            session.Dispose();
        }

        _models.Clear();
        _runtime?.Dispose();
    }

    private async ValueTask<BatchItemResult> RunAloneAsync(InferenceRequest request, CancellationToken cancellationToken)
    {
        try
        {
            return new BatchItemResult(await RunAsync(request, cancellationToken).ConfigureAwait(false), null);
        }
        catch (InferenceFailedException exception)
        {
            return new BatchItemResult(null, exception.Message);
        }
    }

    // Every declared input present, of its type, with a free first dimension given as 1, the rest as the first request's.
    private static bool Batchable(OnnxSession session, IReadOnlyDictionary<string, Tensor> inputs, IReadOnlyDictionary<string, Tensor>? first)
    {
        if (inputs.Count != session.Inputs.Count)
        {
            return false;
        }

        foreach (var info in session.Inputs)
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

    private async ValueTask RunTogetherAsync(
        OnnxSession session, List<(int Index, IReadOnlyDictionary<string, Tensor> Inputs)> batch, BatchItemResult?[] results, IReadOnlyList<InferenceRequest> requests, CancellationToken cancellationToken)
    {
        var joined = session.Inputs.ToDictionary(i => i.Name, i =>
        {
            var parts = batch.Select(b => b.Inputs[i.Name]).ToList();
            var shape = parts[0].Shape.ToArray();
            shape[0] = parts.Count;
            var data = new byte[parts.Sum(p => p.Data.Length)];
            var offset = 0;
            foreach (var part in parts)
            {
                part.Data.CopyTo(data.AsSpan(offset));
                offset += part.Data.Length;
            }

            return new Tensor(parts[0].ElementType, shape, data);
        });
        IReadOnlyDictionary<string, Tensor> outputs;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_timeout);
        try
        {
            outputs = await Task.Run(() => session.Run(joined, timeout.Token), timeout.Token).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is OnnxRuntimeException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            // The batch failed as a whole: each request alone, so one bad request cannot fail the others.
            foreach (var (index, _) in batch)
            {
                results[index] = await RunAloneAsync(requests[index], cancellationToken).ConfigureAwait(false);
            }

            return;
        }

        if (outputs.Values.Any(o => o.Shape.Count == 0 || o.Shape[0] != batch.Count))
        {
            foreach (var (index, _) in batch)
            {
                results[index] = await RunAloneAsync(requests[index], cancellationToken).ConfigureAwait(false);
            }

            return;
        }

        for (var n = 0; n < batch.Count; n++)
        {
            var mine = outputs.ToDictionary(o => o.Key, o =>
            {
                var rowBytes = o.Value.Data.Length / batch.Count;
                var shape = o.Value.Shape.ToArray();
                shape[0] = 1;
                return new Tensor(o.Value.ElementType, shape, o.Value.Data.Slice(n * rowBytes, rowBytes));
            });
            var text = ModelIo.WriteOutputs(mine);
            results[batch[n].Index] = new BatchItemResult(new InferenceResult(text, ModelIo.OutputHash(text)), null);
        }
    }

    // One run on zeros (free dimensions as 1), so the first task does not pay for lazy initialisation.
    private static void WarmUp(OnnxSession session)
    {
        if (session.Inputs.Any(i => i.ElementType is null))
        {
            return;
        }

        var inputs = session.Inputs.ToDictionary(
            i => i.Name,
            i =>
            {
                var shape = i.Shape.Select(d => d < 0 ? 1L : d).ToArray();
                var count = shape.Aggregate(1L, (a, b) => a * b);
                return new Tensor(i.ElementType!.Value, shape, new byte[count * TensorElementTypes.SizeOf(i.ElementType.Value)]);
            });
        session.Run(inputs);
    }
}
