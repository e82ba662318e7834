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

    /// <summary>
    /// The command's transaction, held open after its first unit of work "committed" with the claim: later units of work
    /// of the command join it, and the answer's record is written into it before the one real commit.
    /// </summary>
    public IAnpmUnitOfWork? Pending { get; set; }

    /// <summary>A unit of work that joined <see cref="Pending"/> ended without committing: the transaction can only be rolled back.</summary>
    public bool Poisoned { get; set; }

    /// <summary>Rolls back and releases the held transaction, if any.</summary>
    public async ValueTask RollBackAsync()
    {
        if (Pending is { } pending)
        {
            Pending = null;
            await pending.DisposeAsync().ConfigureAwait(false);
        }
    }

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

/// <summary>A unit of work of the command failed after the command's transaction was joined: run the whole request again.</summary>
internal sealed class SignedRequestRetryException()
    : Exception("A unit of work of this signed command failed inside the command's transaction; the request runs again.");

/// <summary>The (signer, nonce) of a signed command was claimed by another request; this command's unit of work was not committed.</summary>
internal sealed class SignedRequestClaimedException(ProcessedRequest existing)
    : Exception($"Nonce {existing.Nonce} of {existing.Signer} is taken.")
{
    public ProcessedRequest Existing { get; } = existing;
}

/// <summary>
/// The store as the API's services see it: outside a signed command it is the application's store itself; inside one,
/// the first unit of work that commits also inserts the command's (signer, nonce) claim, atomically with whatever the
/// unit of work changed, and is then held open: the command's later units of work (reads included, so they see its
/// writes) join that transaction, and the signed-request pipeline writes the answer's record into it and commits once —
/// one commit per signed request. Losing the claim's insert to another request aborts the unit of work before anything
/// is written.
/// </summary>
internal sealed class SignedCommandStore(IAnpmStore inner) : IAnpmStore
{
    public IAnpmStore Inner { get; } = inner;

    public async ValueTask<IAnpmUnitOfWork> BeginAsync(CancellationToken cancellationToken = default)
    {
        if (SignedCommandScope.Current is { } scope)
        {
            if (scope.Pending is { } pending)
            {
                return scope.Poisoned ? throw new SignedRequestRetryException() : new JoinedUnitOfWork(pending, scope, readOnly: false);
            }

            if (!scope.Claimed)
            {
                return new ClaimingUnitOfWork(await Inner.BeginAsync(cancellationToken).ConfigureAwait(false), scope);
            }
        }

        return await Inner.BeginAsync(cancellationToken).ConfigureAwait(false);
    }

    // A read claims nothing; inside a command whose transaction is held it reads that transaction (its own writes).
    public ValueTask<IAnpmUnitOfWork> BeginReadAsync(CancellationToken cancellationToken = default) =>
        SignedCommandScope.Current is { Pending: { } pending } scope
            ? new(new JoinedUnitOfWork(pending, scope, readOnly: true))
            : Inner.BeginReadAsync(cancellationToken);

    // A unit of work inside the command's held transaction: committing keeps its changes for the one commit; ending
    // without committing poisons the transaction (its partial writes cannot be undone alone), so the request runs again.
    private sealed class JoinedUnitOfWork(IAnpmUnitOfWork inner, SignedCommandScope scope, bool readOnly) : ForwardingUnitOfWork(inner)
    {
        private bool _ended;

        public override ValueTask CommitAsync(CancellationToken cancellationToken = default)
        {
            _ended = !_ended ? true : throw new InvalidOperationException("The unit of work was committed; begin a new one.");
            return ValueTask.CompletedTask;
        }

        public override ValueTask DisposeAsync()
        {
            if (!_ended && !readOnly)
            {
                scope.Poisoned = true;
            }

            _ended = true;
            return ValueTask.CompletedTask;
        }
    }

    private sealed class ClaimingUnitOfWork(IAnpmUnitOfWork unitOfWork, SignedCommandScope scope) : ForwardingUnitOfWork(unitOfWork)
    {
        private bool _heldOpen;

        public override async ValueTask CommitAsync(CancellationToken cancellationToken = default)
        {
            if (!scope.Claimed)
            {
                var claim = scope.Claim;
                if (!await Inner.Requests.TryInsertRequestAsync(claim, cancellationToken).ConfigureAwait(false))
                {
                    var existing = await Inner.Requests.GetRequestAsync(claim.Signer, claim.Nonce, cancellationToken).ConfigureAwait(false)
                        ?? throw new AnpmConcurrencyException($"Nonce {claim.Nonce} of {claim.Signer} was claimed and released meanwhile; retry.");
                    throw new SignedRequestClaimedException(existing);
                }

                // Not committed yet: held open for the command's later units of work and the answer's record.
                scope.Claimed = true;
                scope.Pending = Inner;
                _heldOpen = true;
                return;
            }

            await Inner.CommitAsync(cancellationToken).ConfigureAwait(false);
        }

        public override ValueTask DisposeAsync() => _heldOpen ? ValueTask.CompletedTask : Inner.DisposeAsync();
    }
}

/// <summary>A unit of work that hands every store to another one; what committing and disposing mean is the subclass's.</summary>
internal abstract class ForwardingUnitOfWork(IAnpmUnitOfWork inner) : IAnpmUnitOfWork
{
    protected IAnpmUnitOfWork Inner => inner;

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

    public IChainStore Chain => inner.Chain;

    public ISessionKeyStore SessionKeys => inner.SessionKeys;

    public IEventStore Events => inner.Events;

    public IBalanceAlertStore BalanceAlerts => inner.BalanceAlerts;

    public ICreditGrantStore CreditGrants => inner.CreditGrants;

    public abstract ValueTask CommitAsync(CancellationToken cancellationToken = default);

    public abstract ValueTask DisposeAsync();
}
