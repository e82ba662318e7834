using System.Diagnostics.CodeAnalysis;
using Anpm.Abstractions;
using Anpm.Credits;
using Microsoft.Extensions.Options;

namespace Anpm.Pools;

/// <summary>The outcome of claiming a refund or payout.</summary>
public enum ClaimResult
{
    /// <summary>Claimed: the contribution is PendingPayout and the transfer to its owner is in the outbox.</summary>
    Claimed = 1,

    /// <summary>It was claimed before (an idempotent replay); nothing changed.</summary>
    AlreadyClaimed = 2,

    /// <summary>There is no such contribution.</summary>
    NotFound = 3,

    /// <summary>The contribution's status allows no claim; the message names it.</summary>
    NotClaimable = 4,

    /// <summary>The system is paused; claims wait until it resumes.</summary>
    SystemPaused = 5,
}

/// <summary>The result of a claim.</summary>
public sealed record ClaimOutcome(ClaimResult Result, ContributionRecord? Contribution, string? Error)
{
    /// <summary>Whether the claim was refused; then <see cref="Error"/> says why, and nothing changed.</summary>
    [MemberNotNullWhen(true, nameof(Error))]
    [MemberNotNullWhen(false, nameof(Contribution))]
    public bool IsRefused => Result is not (ClaimResult.Claimed or ClaimResult.AlreadyClaimed);
}

/// <summary>
/// Registered with the <see cref="Outbox"/>: when the transfer paying a contribution's refund or prize is confirmed,
/// the contribution becomes RefundPaidout or RewardPaidout in the same unit of work; when it was the pool's last open
/// claim, the pool closes by itself (its leftover to <see cref="ContributionOptions.Treasury"/>).
/// </summary>
public sealed class ContributionPayoutConfirmations : IOutgoingTransferObserver
{
    private readonly ContributionOptions _options;
    private readonly TimeProvider _timeProvider;

    /// <summary>Creates the observer.</summary>
    /// <param name="options">The treasury that receives a closing pool's leftover.</param>
    /// <param name="timeProvider">The clock.</param>
    public ContributionPayoutConfirmations(IOptions<ContributionOptions> options, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(timeProvider);
        _options = options.Value;
        _timeProvider = timeProvider;
    }

    /// <summary>The kind of the outgoing transfers that refund contributions; their reference is the contribution id.</summary>
    public static TransferKind RefundKind { get; } = TransferKind.Parse("contribution-refund");

    /// <summary>The kind of the outgoing transfers that pay contributions' prizes; their reference is the contribution id.</summary>
    public static TransferKind PrizeKind { get; } = TransferKind.Parse("contribution-prize");

    /// <inheritdoc />
    public async ValueTask OnConfirmedAsync(IAnpmUnitOfWork unitOfWork, OutgoingTransfer transfer, Outbox outbox, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(unitOfWork);
        ArgumentNullException.ThrowIfNull(transfer);
        var trigger = transfer.Kind == RefundKind ? ContributionTrigger.ConfirmRefund
            : transfer.Kind == PrizeKind ? ContributionTrigger.ConfirmReward
            : (ContributionTrigger?)null;
        if (trigger is null)
        {
            return;
        }

        var contribution = ContributionId.TryParse(transfer.Reference, out var id)
            ? await unitOfWork.Contributions.GetContributionAsync(id, cancellationToken).ConfigureAwait(false)
            : null;
        var paidOut = ContributionStateMachine.Definition.Fire(contribution?.Status ?? ContributionStatus.PendingPayment, trigger.Value);
        if (contribution is null || !paidOut.IsAllowed)
        {
            throw new AnpmException(
                $"Transfer '{transfer.Id}' ({transfer.Kind}) was confirmed but contribution '{transfer.Reference}' is {contribution?.Status.ToString() ?? "missing"}, not PendingPayout; the outbox and the contributions disagree.");
        }

        await unitOfWork.Contributions.UpdateContributionAsync(contribution with { Status = paidOut.Status, Paidout = transfer.Amount }, contribution.Version, cancellationToken).ConfigureAwait(false);
        await PoolClosing.CloseIfDoneAsync(unitOfWork, contribution.PoolId, outbox, _options.Treasury, _timeProvider.GetUtcNow(), cancellationToken).ConfigureAwait(false);
    }
}
