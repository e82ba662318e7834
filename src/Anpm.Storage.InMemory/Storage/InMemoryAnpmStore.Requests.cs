using Anpm.Abstractions;

namespace Anpm.Storage.InMemory;

public sealed partial class InMemoryAnpmStore
{
    private readonly Dictionary<(Address Signer, string Nonce), ProcessedRequest> _requests = [];

    private sealed partial class UnitOfWork : IRequestStore
    {
        public ValueTask<ProcessedRequest?> GetRequestAsync(Address signer, string nonce, CancellationToken cancellationToken = default) =>
            new(nonce is null ? null : Store._requests.GetValueOrDefault((signer, nonce)));

        public ValueTask<bool> TryInsertRequestAsync(ProcessedRequest request, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(request);
            ArgumentException.ThrowIfNullOrEmpty(request.Nonce);
            var store = Writable;
            var key = (request.Signer, request.Nonce);
            if (!store._requests.TryAdd(key, request))
            {
                return new(false);
            }

            store.Record(() => store._requests.Remove(key));
            return new(true);
        }

        public ValueTask<bool> CompleteRequestAsync(Address signer, string nonce, string digest, int status, string response, CancellationToken cancellationToken = default)
        {
            ArgumentException.ThrowIfNullOrEmpty(nonce);
            ArgumentNullException.ThrowIfNull(digest);
            ArgumentNullException.ThrowIfNull(response);
            ArgumentOutOfRangeException.ThrowIfEqual(status, ProcessedRequest.ClaimedStatus);
            var store = Writable;
            var key = (signer, nonce);
            if (!store._requests.TryGetValue(key, out var claimed) || !claimed.IsClaimed || claimed.Digest != digest)
            {
                return new(false);
            }

            store._requests[key] = claimed with { Status = status, Response = response };
            store.Record(() => store._requests[key] = claimed);
            return new(true);
        }

        public ValueTask<bool> ReleaseRequestAsync(Address signer, string nonce, string digest, CancellationToken cancellationToken = default)
        {
            ArgumentException.ThrowIfNullOrEmpty(nonce);
            ArgumentNullException.ThrowIfNull(digest);
            var store = Writable;
            var key = (signer, nonce);
            if (!store._requests.TryGetValue(key, out var claimed) || !claimed.IsClaimed || claimed.Digest != digest)
            {
                return new(false);
            }

            store._requests.Remove(key);
            store.Record(() => store._requests[key] = claimed);
            return new(true);
        }
    }
}
