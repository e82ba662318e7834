using Anpm.Abstractions;

namespace Anpm.Storage.Postgres;

/// <summary>Processed signed requests over PostgreSQL.</summary>
internal sealed partial class PostgresUnitOfWork
{
    public IRequestStore Requests => this;

    public async ValueTask<ProcessedRequest?> GetRequestAsync(Address signer, string nonce, CancellationToken cancellationToken = default) =>
        nonce is null ? null : await OneAsync(
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
            cancellationToken, Text(signer.ToString()), Text(nonce)).ConfigureAwait(false);

    public async ValueTask<bool> TryInsertRequestAsync(ProcessedRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentException.ThrowIfNullOrEmpty(request.Nonce);
        return await WriteAsync(
            "INSERT INTO requests (signer, nonce, digest, status, response, processed_at_ticks) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (signer, nonce) DO NOTHING",
            cancellationToken, Text(request.Signer.ToString()), Text(request.Nonce), Text(request.Digest), Int(request.Status), Text(request.Response),
            Long(request.ProcessedAt.UtcTicks)).ConfigureAwait(false) == 1;
    }

    public async ValueTask<bool> CompleteRequestAsync(Address signer, string nonce, string digest, int status, string response, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(nonce);
        ArgumentNullException.ThrowIfNull(digest);
        ArgumentNullException.ThrowIfNull(response);
        ArgumentOutOfRangeException.ThrowIfEqual(status, ProcessedRequest.ClaimedStatus);
        return await WriteAsync(
            "UPDATE requests SET status = $4, response = $5 WHERE signer = $1 AND nonce = $2 AND digest = $3 AND status = 0",
            cancellationToken, Text(signer.ToString()), Text(nonce), Text(digest), Int(status), Text(response)).ConfigureAwait(false) == 1;
    }

    public async ValueTask<bool> ReleaseRequestAsync(Address signer, string nonce, string digest, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(nonce);
        ArgumentNullException.ThrowIfNull(digest);
        return await WriteAsync(
            "DELETE FROM requests WHERE signer = $1 AND nonce = $2 AND digest = $3 AND status = 0",
            cancellationToken, Text(signer.ToString()), Text(nonce), Text(digest)).ConfigureAwait(false) == 1;
    }
}
