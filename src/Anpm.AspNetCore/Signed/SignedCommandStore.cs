using Anpm.Abstractions;

namespace Anpm.AspNetCore;

/// <summary>
/// The signed command running on this async flow, if any: the (signer, nonce) its first committing unit of work claims.
/// </summary>
internal sealed class SignedCommandScope(SignedRequest request, DateTimeOffset now)
{
    private static readonly AsyncLocal<SignedCommandScope?> Ambient = new();

    public static SignedCommandScope? Current => Ambient.Value;

    public SignedRequest Request { get; } = request;

    public DateTimeOffset Now { get; } = now;

    /// <summary>Whether a unit of work of this command committed the claim (or the command runs under a claim it already holds).</summary>
    public bool Claimed { get; set; }

    /// <summary>Whether the command runs again under another copy's claim that never got its answer (that copy stuck or crashed).</summary>
    public bool Recovering { get; init; }

    public ProcessedRequest Claim => new()
    {
        Signer = Request.Signer,
        Nonce = Request.Nonce!,
        Digest = Request.Digest,
        Status = ProcessedRequest.ClaimedStatus,
        Response = string.Empty,
        ProcessedAt = Now,
    };

    /// <summary>Makes this the current scope until the returned handle is disposed.</summary>
    public IDisposable Enter()
    {
        var previous = Ambient.Value;
        Ambient.Value = this;
        return new Exit(previous);
    }

    private sealed class Exit(SignedCommandScope? previous) : IDisposable
    {
        public void Dispose() => Ambient.Value = previous;
    }
}

/// <summary>The (signer, nonce) of a signed command was claimed by another request; this command's unit of work was not committed.</summary>
internal sealed class SignedRequestClaimedException(ProcessedRequest existing)
    : Exception($"Nonce {existing.Nonce} of {existing.Signer} is taken.")
{
    public ProcessedRequest Existing { get; } = existing;
}

/// <summary>
/// The store as the API's services see it: outside a signed command it is the application's store itself; inside one,
/// the first unit of work that commits also inserts the command's (signer, nonce) claim, atomically with whatever the
/// unit of work changed. Losing that insert to another request aborts the unit of work before anything is written.
/// </summary>
internal sealed class SignedCommandStore(IAnpmStore inner) : IAnpmStore
{
    public IAnpmStore Inner { get; } = inner;

    public async ValueTask<IAnpmUnitOfWork> BeginAsync(CancellationToken cancellationToken = default)
    {
        var unitOfWork = await Inner.BeginAsync(cancellationToken).ConfigureAwait(false);
        return SignedCommandScope.Current is { Claimed: false } scope ? new ClaimingUnitOfWork(unitOfWork, scope) : unitOfWork;
    }

    // A read changes nothing, so it claims nothing: straight to the application's store.
    public ValueTask<IAnpmUnitOfWork> BeginReadAsync(CancellationToken cancellationToken = default) => Inner.BeginReadAsync(cancellationToken);

    private sealed class ClaimingUnitOfWork(IAnpmUnitOfWork inner, SignedCommandScope scope) : IAnpmUnitOfWork
    {
        public ILedgerStore Ledger => inner.Ledger;

        public IPoolStore Pools => inner.Pools;

        public IOutboxStore Outbox => inner.Outbox;

        public IContributionStore Contributions => inner.Contributions;

        public INoticeStore Notices => inner.Notices;

        public ISystemStateStore System => inner.System;

        public IExchangeRateStore ExchangeRates => inner.ExchangeRates;

        public ICheckpointStore Checkpoints => inner.Checkpoints;

        public IStakingStore Staking => inner.Staking;

        public IInferenceStore Inference => inner.Inference;

        public IRequestStore Requests => inner.Requests;

        public async ValueTask CommitAsync(CancellationToken cancellationToken = default)
        {
            if (!scope.Claimed)
            {
                var claim = scope.Claim;
                if (!await inner.Requests.TryInsertRequestAsync(claim, cancellationToken).ConfigureAwait(false))
                {
                    var existing = await inner.Requests.GetRequestAsync(claim.Signer, claim.Nonce, cancellationToken).ConfigureAwait(false)
                        ?? throw new AnpmConcurrencyException($"Nonce {claim.Nonce} of {claim.Signer} was claimed and released meanwhile; retry.");
                    throw new SignedRequestClaimedException(existing);
                }

                await inner.CommitAsync(cancellationToken).ConfigureAwait(false);
                scope.Claimed = true;
                return;
            }

            await inner.CommitAsync(cancellationToken).ConfigureAwait(false);
        }

        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }
}
