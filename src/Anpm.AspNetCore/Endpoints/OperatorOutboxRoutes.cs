using System.Globalization;
using Anpm.Abstractions;
using Anpm.Credits;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Anpm.AspNetCore;

/// <summary>
/// An operator's payouts runbook over HTTP: list outgoing transfers by state (an admin's read), send one that failed on
/// chain again (<c>RetryPayout</c>) or give it up and return its tokens (<c>ReturnPayout</c>) — each with its audit trail
/// (an event naming the admin and the reason, written with the change).
/// </summary>
internal static class OperatorOutboxRoutes
{
    /// <summary>The largest page of <see cref="ListAsync"/>.</summary>
    public const int MaxPage = 500;

    public static async Task<Results<Ok<OutgoingTransfersPage>, ProblemHttpResult>> ListAsync(string? state, string? after, string? limit, Outbox outbox, CancellationToken ct)
    {
        if (!AnpmQuery.TryLimit(limit, 100, MaxPage, out var size, out var refused))
        {
            return refused!;
        }

        var wanted = OutgoingTransferState.FailedOnChain;
        if (state is not null && (!Enum.TryParse(state, ignoreCase: false, out wanted) || !Enum.IsDefined(wanted) || int.TryParse(state, CultureInfo.InvariantCulture, out _)))
        {
            return AnpmProblems.Invalid($"state must be one of {string.Join(", ", Enum.GetNames<OutgoingTransferState>())}, not '{state}'.");
        }

        TransferId? from = null;
        if (after is not null)
        {
            if (!TransferId.TryParse(after, out var id, out var error))
            {
                return AnpmProblems.Invalid("after: " + error);
            }

            from = id;
        }

        var page = await outbox.ListAsync(wanted, from, size, ct);
        return TypedResults.Ok(new OutgoingTransfersPage([.. page.Select(OutgoingTransferView.Of)], page.Count == size ? page[^1].Id.ToString() : null));
    }

    public static Task<Results<Ok<OutgoingTransferView>, ProblemHttpResult>> RetryAsync(string transferId, SignedRequest request, Outbox outbox, CancellationToken ct) =>
        ActAsync(transferId, request, (id, audit) => outbox.RetryFailedAsync(request.UnitOfWork, id, audit, ct), ct);

    public static Task<Results<Ok<OutgoingTransferView>, ProblemHttpResult>> ReturnAsync(string transferId, SignedRequest request, Outbox outbox, CancellationToken ct) =>
        ActAsync(transferId, request, (id, audit) => outbox.ReturnFailedAsync(request.UnitOfWork, id, audit, ct), ct);

    private static async Task<Results<Ok<OutgoingTransferView>, ProblemHttpResult>> ActAsync(
        string transferId, SignedRequest request, Func<TransferId, OperatorAction, ValueTask<FailedTransferResult>> act, CancellationToken ct)
    {
        if (request.Text("transferId") != transferId || !TransferId.TryParse(transferId, out var id, out _))
        {
            return AnpmProblems.Invalid("message.transferId must be the transfer of the route.");
        }

        if (request.Text("reason").Trim().Length == 0)
        {
            return AnpmProblems.Invalid("message.reason must say why (it is kept with the action).");
        }

        var result = await act(id, new OperatorAction(request.Signer, request.Text("reason")));
        var transfer = await request.UnitOfWork.Outbox.GetOutgoingAsync(id, ct);
        return result switch
        {
            FailedTransferResult.NotFound => AnpmProblems.NotFound($"There is no outgoing transfer '{transferId}'."),
            FailedTransferResult.WrongState => AnpmProblems.InvalidState(
                $"Outgoing transfer '{transferId}' is {transfer?.State}: only a transfer that failed on chain (FailedOnChain) is retried or returned; nothing changed.", transfer?.State.ToString()),
            _ => TypedResults.Ok(OutgoingTransferView.Of(transfer!)),
        };
    }
}

/// <summary>An outgoing transfer as an operator sees it.</summary>
/// <param name="TransferId">Its id.</param>
/// <param name="To">The recipient.</param>
/// <param name="Asset">The token.</param>
/// <param name="Amount">How much, in base units.</param>
/// <param name="Kind">What it pays (e.g. <c>unstake</c>, <c>payout</c>).</param>
/// <param name="Reference">Its cause.</param>
/// <param name="State">Pending, Dispatched, Confirmed, FailedOnChain or Returned.</param>
/// <param name="Attempts">How often it was handed to the gateway.</param>
/// <param name="CreatedAt">When it was enqueued.</param>
/// <param name="NextAttemptAt">When it is due next.</param>
/// <param name="ExternalReference">The gateway's reference (e.g. the transaction hash, of the reverted one when it failed).</param>
public sealed record OutgoingTransferView(TransferId TransferId, Address To, AssetCode Asset, TokenAmount Amount, TransferKind Kind, string Reference, string State,
    int Attempts, DateTimeOffset CreatedAt, DateTimeOffset NextAttemptAt, string ExternalReference)
{
    /// <summary>The view of a transfer.</summary>
    public static OutgoingTransferView Of(OutgoingTransfer transfer)
    {
        ArgumentNullException.ThrowIfNull(transfer);
        return new(transfer.Id, transfer.To, transfer.Asset, transfer.Amount, transfer.Kind, transfer.Reference, transfer.State.ToString(), transfer.Attempts,
            transfer.CreatedAt, transfer.NextAttemptAt, transfer.ExternalReference);
    }
}

/// <summary><c>GET /admin/outbox</c>: outgoing transfers in one state by id, and the <c>after</c> of the next page (null at the end).</summary>
public sealed record OutgoingTransfersPage(IReadOnlyList<OutgoingTransferView> Transfers, string? Next);
