namespace Anpm.Oracle;

/// <summary>What a backend was asked to run: the model, the model hash the task names, and the input text.</summary>
/// <param name="Model">The model id.</param>
/// <param name="ModelHash">The SHA-256 the task names (<c>0x</c> + 64 hex digits); the backend refuses another file.</param>
/// <param name="Input">The input (the model input JSON of the wire contract).</param>
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
