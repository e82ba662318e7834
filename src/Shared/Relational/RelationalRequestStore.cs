using Anpm.Abstractions;

namespace Anpm.Storage;

/// <summary>Processed signed requests, for every relational dialect.</summary>
internal sealed class RelationalRequestStore(IRelationalSession session) : IRequestStore
{
    // Claimed, no answer recorded yet.
    private static readonly string Claimed = ProcessedRequest.ClaimedStatus.ToString(System.Globalization.CultureInfo.InvariantCulture);

    public async ValueTask<ProcessedRequest?> GetRequestAsync(Address signer, string nonce, CancellationToken cancellationToken = default) =>
        nonce is null ? null : await session.OneAsync(
            "SELECT signer, nonce, digest, status, response, processed_at_ticks FROM requests WHERE signer = $1 AND nonce = $2",
            static r => new ProcessedRequest
            {
                Signer = Address.Parse(r.GetString(0)),
                Nonce = r.GetString(1),
                Digest = r.GetString(2),
                Status = r.GetInt32(3),
                Response = r.GetString(4),
                ProcessedAt = new DateTimeOffset(r.GetInt64(5), TimeSpan.Zero),
            },
            cancellationToken, signer.ToString(), nonce).ConfigureAwait(false);

    public async ValueTask<bool> TryInsertRequestAsync(ProcessedRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentException.ThrowIfNullOrEmpty(request.Nonce);
        return await session.WriteAsync(
            "INSERT INTO requests (signer, nonce, digest, status, response, processed_at_ticks) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (signer, nonce) DO NOTHING",
            cancellationToken, request.Signer.ToString(), request.Nonce, request.Digest, request.Status, request.Response, request.ProcessedAt.UtcTicks).ConfigureAwait(false) == 1;
    }

    public async ValueTask<bool> CompleteRequestAsync(Address signer, string nonce, string digest, int status, string response, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(nonce);
        ArgumentNullException.ThrowIfNull(digest);
        ArgumentNullException.ThrowIfNull(response);
        ArgumentOutOfRangeException.ThrowIfEqual(status, ProcessedRequest.ClaimedStatus);
        return await session.WriteAsync(
            "UPDATE requests SET status = $4, response = $5 WHERE signer = $1 AND nonce = $2 AND digest = $3 AND status = " + Claimed,
            cancellationToken, signer.ToString(), nonce, digest, status, response).ConfigureAwait(false) == 1;
    }

    public async ValueTask<bool> ReleaseRequestAsync(Address signer, string nonce, string digest, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(nonce);
        ArgumentNullException.ThrowIfNull(digest);
        return await session.WriteAsync(
            "DELETE FROM requests WHERE signer = $1 AND nonce = $2 AND digest = $3 AND status = " + Claimed,
            cancellationToken, signer.ToString(), nonce, digest).ConfigureAwait(false) == 1;
    }
}
