namespace Anpm.Oracle;

/// <summary>
/// A task source inside the pool's own process: the host wires it to its pool service (claim, result, failure, renewal)
/// with delegates, so a node runs beside the pools without HTTP and without this package depending on them. A refused
/// result or failure should throw from its delegate (the runner logs it; the lease then decides).
/// </summary>
public sealed class InProcessTaskSource : IOracleTaskSource
{
    private readonly Func<CancellationToken, ValueTask<OracleTask?>> _claim;
    private readonly Func<OracleTask, InferenceResult, string, CancellationToken, ValueTask> _result;
    private readonly Func<OracleTask, string, string, CancellationToken, ValueTask> _failure;
    private readonly Func<OracleTask, CancellationToken, ValueTask<DateTimeOffset?>>? _renew;

    /// <summary>Creates the source.</summary>
    /// <param name="claim">Claims the next task for this node, or returns null.</param>
    /// <param name="result">Submits a result with its signed TaskResult.</param>
    /// <param name="failure">Reports a failure with its signed TaskFailure.</param>
    /// <param name="renew">Renews a lease, returning the new expiry; null when leases are not renewed.</param>
    public InProcessTaskSource(
        Func<CancellationToken, ValueTask<OracleTask?>> claim,
        Func<OracleTask, InferenceResult, string, CancellationToken, ValueTask> result,
        Func<OracleTask, string, string, CancellationToken, ValueTask> failure,
        Func<OracleTask, CancellationToken, ValueTask<DateTimeOffset?>>? renew = null)
    {
        ArgumentNullException.ThrowIfNull(claim);
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(failure);
        _claim = claim;
        _result = result;
        _failure = failure;
        _renew = renew;
    }

    /// <inheritdoc />
    public ValueTask<OracleTask?> ClaimAsync(CancellationToken cancellationToken) => _claim(cancellationToken);

    /// <inheritdoc />
    public ValueTask SubmitResultAsync(OracleTask task, InferenceResult result, string signature, CancellationToken cancellationToken) =>
        _result(task, result, signature, cancellationToken);

    /// <inheritdoc />
    public ValueTask SubmitFailureAsync(OracleTask task, string reason, string signature, CancellationToken cancellationToken) =>
        _failure(task, reason, signature, cancellationToken);

    /// <inheritdoc />
    public ValueTask<DateTimeOffset?> RenewAsync(OracleTask task, CancellationToken cancellationToken) =>
        _renew is null ? new((DateTimeOffset?)null) : _renew(task, cancellationToken);
}
