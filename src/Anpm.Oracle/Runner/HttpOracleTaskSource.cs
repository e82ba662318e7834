using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Options;

namespace Anpm.Oracle;

/// <summary>Options of the <see cref="HttpOracleTaskSource"/>.</summary>
public sealed class HttpOracleTaskSourceOptions
{
    /// <summary>The pools whose tasks the node claims (at least one); each claim asks them in turn, starting after the pool asked first last time.</summary>
    public IList<string> PoolIds { get; } = [];

    /// <summary>How long a signed claim stays valid, in seconds (the host refuses expired ones). Default 60.</summary>
    public int ClaimLifetimeSeconds { get; set; } = 60;
}

/// <summary>Validates <see cref="HttpOracleTaskSourceOptions"/>: at least one pool, none empty; a claim lifetime of 1 to 3,600 seconds.</summary>
public sealed class HttpOracleTaskSourceOptionsValidator : IValidateOptions<HttpOracleTaskSourceOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, HttpOracleTaskSourceOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        if (options.PoolIds.Count == 0 || options.PoolIds.Any(string.IsNullOrEmpty))
        {
            failures.Add("HttpOracleTaskSourceOptions.PoolIds must name at least one pool, none empty.");
        }

        if (options.ClaimLifetimeSeconds is < 1 or > 3600)
        {
            failures.Add($"HttpOracleTaskSourceOptions.ClaimLifetimeSeconds is {options.ClaimLifetimeSeconds}; it must be 1 to 3600.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

/// <summary>
/// The host's oracle routes (the wire contract's) over HTTP: <c>POST /api/v1/oracle/pools/{poolId}/claim</c> with a signed
/// <c>ClaimTask</c> (200 with the task, 204 when none waits), <c>POST /api/v1/oracle/tasks/{taskId}/result</c> with the
/// signed <c>TaskResult</c> and the output, <c>POST /api/v1/oracle/tasks/{taskId}/failure</c> with the signed
/// <c>TaskFailure</c>. Give it an <see cref="HttpClient"/> whose base address is the host.
/// </summary>
public sealed class HttpOracleTaskSource : IOracleTaskSource
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly HttpClient _http;
    private readonly AttestationSigner _signer;
    private readonly HttpOracleTaskSourceOptions _options;
    private readonly TimeProvider _timeProvider;
    private readonly string[] _pools;
    private long _nonce;
    private int _nextPool;

    /// <summary>Creates the source.</summary>
    public HttpOracleTaskSource(HttpClient http, AttestationSigner signer, HttpOracleTaskSourceOptions options, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(signer);
        _http = http;
        _signer = signer;
        _options = ValidatedOptions.Value(options, new HttpOracleTaskSourceOptionsValidator());
        _pools = [.. options.PoolIds];
        _timeProvider = timeProvider ?? TimeProvider.System;
        _nonce = _timeProvider.GetUtcNow().ToUnixTimeMilliseconds() * 1000; // increasing across restarts
    }

    /// <inheritdoc />
    public async ValueTask<OracleTask?> ClaimAsync(CancellationToken cancellationToken)
    {
        // Round robin over the pools, so a busy pool cannot starve the others.
        var start = Interlocked.Increment(ref _nextPool);
        for (var i = 0; i < _pools.Length; i++)
        {
            var task = await ClaimAsync(_pools[(int)((uint)(start + i) % (uint)_pools.Length)], cancellationToken).ConfigureAwait(false);
            if (task is not null)
            {
                return task;
            }
        }

        return null;
    }

    /// <inheritdoc />
    public async ValueTask SubmitResultAsync(OracleTask task, InferenceResult result, string signature, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(task);
        ArgumentNullException.ThrowIfNull(result);
        var message = new Dictionary<string, string>
        {
            ["oracle"] = _signer.Oracle.ToString(), ["taskId"] = task.TaskId, ["leaseId"] = task.LeaseId, ["modelHash"] = task.ModelHash, ["outputHash"] = result.OutputHash,
        };
        using var response = await _http.PostAsJsonAsync(
            $"api/v1/oracle/tasks/{Uri.EscapeDataString(task.TaskId)}/result", new { message, signature, output = result.Output }, Json, cancellationToken).ConfigureAwait(false);
        await EnsureSuccessAsync(response, "result", cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask SubmitFailureAsync(OracleTask task, string reason, string signature, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(task);
        var message = new Dictionary<string, string>
        {
            ["oracle"] = _signer.Oracle.ToString(), ["taskId"] = task.TaskId, ["leaseId"] = task.LeaseId, ["reason"] = reason,
        };
        using var response = await _http.PostAsJsonAsync(
            $"api/v1/oracle/tasks/{Uri.EscapeDataString(task.TaskId)}/failure", new { message, signature }, Json, cancellationToken).ConfigureAwait(false);
        await EnsureSuccessAsync(response, "failure", cancellationToken).ConfigureAwait(false);
    }

    private async ValueTask<OracleTask?> ClaimAsync(string poolId, CancellationToken cancellationToken)
    {
        var deadline = _timeProvider.GetUtcNow().AddSeconds(_options.ClaimLifetimeSeconds).ToUnixTimeSeconds();
        var (message, signature) = await _signer.SignClaimAsync(poolId, (ulong)Interlocked.Increment(ref _nonce), deadline, cancellationToken).ConfigureAwait(false);
        using var response = await _http.PostAsJsonAsync(
            $"api/v1/oracle/pools/{Uri.EscapeDataString(poolId)}/claim", new { message, signature }, Json, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.NoContent)
        {
            return null;
        }

        await EnsureSuccessAsync(response, $"claim in pool {poolId}", cancellationToken).ConfigureAwait(false);
        var claimed = await response.Content.ReadFromJsonAsync<ClaimedTask>(Json, cancellationToken).ConfigureAwait(false)
            ?? throw new HttpRequestException("The host answered the claim with an empty body.");
        return new OracleTask(claimed.TaskId, claimed.LeaseId, claimed.LeaseExpiresAt, claimed.Model, claimed.ModelHash, claimed.Input);
    }

    // A refusal (4xx) of a result or failure is final: retrying cannot help, the lease decides. Other errors are thrown.
    private static async Task EnsureSuccessAsync(HttpResponseMessage response, string what, CancellationToken cancellationToken)
    {
        if (response.IsSuccessStatusCode)
        {
            return;
        }

        var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        throw new HttpRequestException($"The host refused the {what} ({(int)response.StatusCode}): {(body.Length > 512 ? body[..512] : body)}", null, response.StatusCode);
    }

    private sealed record ClaimedTask(
        [property: JsonRequired] string TaskId,
        [property: JsonRequired] string LeaseId,
        [property: JsonRequired] DateTimeOffset LeaseExpiresAt,
        [property: JsonRequired] string Model,
        [property: JsonRequired] string ModelHash,
        [property: JsonRequired] string Input);
}
