using Anpm.Abstractions;

namespace Anpm.Storage.Sqlite;

/// <summary>Processed signed requests over SQLite.</summary>
internal sealed partial class SqliteUnitOfWork
{
    public IRequestStore Requests => this;

    public ValueTask<ProcessedRequest?> GetRequestAsync(Address signer, string nonce, CancellationToken cancellationToken = default) =>
        new(nonce is null ? null : One(
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
            signer.ToString(), nonce));

    public ValueTask<bool> TryInsertRequestAsync(ProcessedRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentException.ThrowIfNullOrEmpty(request.Nonce);
        return new(Write(
            "INSERT INTO requests (signer, nonce, digest, status, response, processed_at_ticks) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (signer, nonce) DO NOTHING",
            request.Signer.ToString(), request.Nonce, request.Digest, request.Status, request.Response, request.ProcessedAt.UtcTicks) == 1);
    }

    public ValueTask<bool> CompleteRequestAsync(Address signer, string nonce, string digest, int status, string response, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(nonce);
        ArgumentNullException.ThrowIfNull(digest);
        ArgumentNullException.ThrowIfNull(response);
        ArgumentOutOfRangeException.ThrowIfEqual(status, ProcessedRequest.ClaimedStatus);
        return new(Write(
            "UPDATE requests SET status = $4, response = $5 WHERE signer = $1 AND nonce = $2 AND digest = $3 AND status = 0",
            signer.ToString(), nonce, digest, status, response) == 1);
    }

    public ValueTask<bool> ReleaseRequestAsync(Address signer, string nonce, string digest, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(nonce);
        ArgumentNullException.ThrowIfNull(digest);
        return new(Write("DELETE FROM requests WHERE signer = $1 AND nonce = $2 AND digest = $3 AND status = 0", signer.ToString(), nonce, digest) == 1);
    }
}
