using System.Diagnostics.CodeAnalysis;
using Anpm.Abstractions;

namespace Anpm.Credits;

/// <summary>A grant to make: who gets how many credits of which category, until when, at which priority.</summary>
/// <param name="Id">The grant's id (idempotency key), 1 to 80 characters.</param>
/// <param name="Account">The account granted.</param>
/// <param name="Amount">The credits, at least 1.</param>
/// <param name="Category">Paid or promotional.</param>
/// <param name="ExpiresAt">When what is left expires (in the future); <see langword="null"/> for never.</param>
/// <param name="Priority">0 (burnt first) to 100 among grants of one category and expiry; default 50.</param>
public sealed record CreditGrantRequest(string Id, Address Account, TokenAmount Amount, CreditCategory Category, DateTimeOffset? ExpiresAt, int Priority = CreditGrantService.DefaultPriority);

/// <summary>The outcome of granting credits.</summary>
public enum CreditGrantResult
{
    /// <summary>Granted: the credits are in the account.</summary>
    Granted = 1,

    /// <summary>The same grant was made before under this id (a replay).</summary>
    Exists = 2,

    /// <summary>The id was used for another grant; nothing changed.</summary>
    IdTaken = 3,

    /// <summary>A field is not acceptable; the message names it.</summary>
    Invalid = 4,
}

/// <summary>The result of <see cref="CreditGrantService.GrantAsync(CreditGrantRequest, CancellationToken)"/>.</summary>
public sealed record CreditGrantOutcome(CreditGrantResult Result, CreditGrant? Grant, string? Error)
{
    /// <summary>Whether the grant was refused; then <see cref="Error"/> says why, and nothing changed.</summary>
    [MemberNotNullWhen(true, nameof(Error))]
    [MemberNotNullWhen(false, nameof(Grant))]
    public bool IsRefused => Result is not (CreditGrantResult.Granted or CreditGrantResult.Exists);
}

/// <summary>
/// Credit grants: an admin or the integrator's code grants credits with a category, an expiry and a priority; purchased
/// credits are a paid grant without expiry (<see cref="AddPaidAsync"/>). A task's hold burns the account's grants in
/// <see cref="BurnOrder"/> (<see cref="HoldAsync"/>), its result spends what it held (<see cref="PostAsync"/>) and its
/// failure gives it back (<see cref="VoidAsync"/>) — to an expired grant, straight to expiry. What is left of a grant
/// at its expiry leaves the account through the ledger to <see cref="ExpiredAccount"/> (<see cref="ExpireDueAsync"/>,
/// and before each hold of the account), never silently. Grants follow an account's credits wherever they are — its own
/// account or its pools — so moves between those change no grant; credits an account had before it had grants are
/// spent after all its grants, like paid credits without expiry.
/// </summary>
public sealed class CreditGrantService(IAnpmStore store, Ledger ledger, TimeProvider timeProvider)
{
    /// <summary>The priority of a grant that names none.</summary>
    public const int DefaultPriority = 50;

    private static readonly TransferKind GrantKind = TransferKind.Parse("grant");
    private static readonly TransferKind ExpireKind = TransferKind.Parse("expire");

    /// <summary>Where expired credits go: the ledger account of every grant's expired credits.</summary>
    public static AccountId ExpiredAccount { get; } = AccountId.Parse("credits:expired");

    /// <summary>The grant that purchased credits go to: one paid grant per account, without expiry.</summary>
    public static string PaidGrantId(Address account) => "paid:" + account;

    /// <summary>
    /// The order holds burn grants in: promotional before paid; then the soonest to expire (grants without expiry last);
    /// then the lower priority number; then the oldest; then by id.
    /// </summary>
    public static IReadOnlyList<CreditGrant> BurnOrder(IEnumerable<CreditGrant> grants)
    {
        ArgumentNullException.ThrowIfNull(grants);
        return [.. grants
            .OrderBy(static g => g.Category == CreditCategory.Promotional ? 0 : 1)
            .ThenBy(static g => g.ExpiresAt ?? DateTimeOffset.MaxValue)
            .ThenBy(static g => g.Priority)
            .ThenBy(static g => g.CreatedAt)
            .ThenBy(static g => g.Id, StringComparer.Ordinal)];
    }

    /// <summary>
    /// Grants credits: issued into the account's own credits through the ledger (kind <c>grant</c>) in the unit of work
    /// that records the grant. Idempotent by <see cref="CreditGrantRequest.Id"/>.
    /// </summary>
    public ValueTask<CreditGrantOutcome> GrantAsync(CreditGrantRequest request, CancellationToken cancellationToken = default) =>
        store.RunAsync((Service: this, Request: request), static (unitOfWork, r, ct) => r.Service.GrantAsync(unitOfWork, r.Request, ct), cancellationToken);

    /// <summary>The same command inside the caller's unit of work, which the caller commits (or ends uncommitted: then nothing of it is kept).</summary>
    public async ValueTask<CreditGrantOutcome> GrantAsync(IAnpmUnitOfWork unitOfWork, CreditGrantRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(unitOfWork);
        ArgumentNullException.ThrowIfNull(request);
        var now = timeProvider.GetUtcNow();
        var problem = request switch
        {
            _ when string.IsNullOrEmpty(request.Id) || request.Id.Length > CreditGrant.MaxIdLength || request.Id.StartsWith("paid:", StringComparison.Ordinal)
                => $"The id must be 1 to {CreditGrant.MaxIdLength} characters and not start with 'paid:'.",
            _ when request.Amount.IsZero => "amount must be at least 1 credit.",
            _ when !Enum.IsDefined(request.Category) => "category must be Paid or Promotional.",
            _ when request.ExpiresAt is { } at && at <= now => $"expiresAt {at:O} is not in the future.",
            _ when request.Priority is < 0 or > 100 => "priority must be 0 to 100.",
            _ => null,
        };
        if (problem is not null)
        {
            return new CreditGrantOutcome(CreditGrantResult.Invalid, null, problem);
        }

        if (await unitOfWork.CreditGrants.GetGrantAsync(request.Id, cancellationToken).ConfigureAwait(false) is { } existing)
        {
            var same = existing.Account == request.Account && existing.Amount == request.Amount && existing.Category == request.Category
                && existing.ExpiresAt == request.ExpiresAt && existing.Priority == request.Priority;
            return same ? new CreditGrantOutcome(CreditGrantResult.Exists, existing, null) : new CreditGrantOutcome(CreditGrantResult.IdTaken, null, $"Grant id '{request.Id}' was used for another grant.");
        }

        var grant = new CreditGrant
        {
            Id = request.Id, Account = request.Account, Category = request.Category, Amount = request.Amount, Remaining = request.Amount, Held = TokenAmount.Zero,
            Expired = TokenAmount.Zero, ExpiresAt = request.ExpiresAt, Priority = request.Priority, CreatedAt = now,
        };
        await IssueAsync(unitOfWork, request.Account, request.Amount, TransferId.Derive("grant:", request.Id), request.Id, cancellationToken).ConfigureAwait(false);
        return await unitOfWork.CreditGrants.TryInsertGrantAsync(grant, cancellationToken).ConfigureAwait(false)
            ? new CreditGrantOutcome(CreditGrantResult.Granted, grant, null)
            : throw new AnpmConcurrencyException($"Grant '{request.Id}' was made at the same time; retry.");
    }

    /// <summary>An account's grants: those with credits left and not expired in burn order (the next task burns the first), then the others in burn order.</summary>
    public ValueTask<IReadOnlyList<CreditGrant>> ListAsync(Address account, CancellationToken cancellationToken = default) =>
        store.RunReadAsync((Account: account, Now: timeProvider.GetUtcNow()), static async (unitOfWork, request, ct) =>
        {
            var grants = await unitOfWork.CreditGrants.ListGrantsAsync(request.Account, ct).ConfigureAwait(false);
            bool Live(CreditGrant g) => !g.Remaining.IsZero && !g.IsExpiredAt(request.Now);
            return (IReadOnlyList<CreditGrant>)[.. BurnOrder(grants.Where(Live)), .. BurnOrder(grants.Where(g => !Live(g)))];
        }, cancellationToken);

    /// <summary>Expires what is left of the grants whose expiry passed (a batch of 100, each in its own unit of work). Run it periodically.</summary>
    /// <returns>How many grants expired.</returns>
    public async ValueTask<int> ExpireDueAsync(CancellationToken cancellationToken = default)
    {
        var now = timeProvider.GetUtcNow();
        var due = await store.RunReadAsync(now, static (unitOfWork, now, ct) => unitOfWork.CreditGrants.GetExpiredGrantsAsync(now, 100, ct), cancellationToken).ConfigureAwait(false);
        foreach (var grant in due)
        {
            await store.RunAsync((Service: this, Grant: grant, Now: now), static async (unitOfWork, state, ct) =>
            {
                await state.Service.ExpireAccountAsync(unitOfWork, state.Grant.Account, null, state.Now, ct).ConfigureAwait(false);
                return 0;
            }, cancellationToken).ConfigureAwait(false);
        }

        return due.Count;
    }

    /// <summary>Adds purchased credits to the account's paid grant (without expiry), in the purchase's unit of work.</summary>
    public async ValueTask AddPaidAsync(IAnpmUnitOfWork unitOfWork, Address account, TokenAmount amount, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(unitOfWork);
        var id = PaidGrantId(account);
        if (await unitOfWork.CreditGrants.GetGrantAsync(id, cancellationToken).ConfigureAwait(false) is { } paid)
        {
            await unitOfWork.CreditGrants.UpdateGrantAsync(paid with { Amount = paid.Amount + amount, Remaining = paid.Remaining + amount }, paid.Version, cancellationToken)
                .ConfigureAwait(false);
        }
        else if (!await unitOfWork.CreditGrants.TryInsertGrantAsync(new CreditGrant
        {
            Id = id, Account = account, Category = CreditCategory.Paid, Amount = amount, Remaining = amount, Held = TokenAmount.Zero, Expired = TokenAmount.Zero,
            Priority = DefaultPriority, CreatedAt = now,
        }, cancellationToken).ConfigureAwait(false))
        {
            throw new AnpmConcurrencyException($"The paid grant of {account} was created at the same time; retry.");
        }
    }

    /// <summary>
    /// Expires what is left of the account's grants whose expiry passed, in the caller's unit of work: the credits leave
    /// through the ledger to <see cref="ExpiredAccount"/> — from the account's own credits first, then from its credits in
    /// <paramref name="pool"/>, then in its other pools. Call it before holding the account's credits.
    /// </summary>
    /// <returns>The account's grants as they are now (pass them to <see cref="HoldAsync"/> to spare it reading them again).</returns>
    public async ValueTask<IReadOnlyList<CreditGrant>> ExpireAccountAsync(
        IAnpmUnitOfWork unitOfWork, Address account, PoolId? pool, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(unitOfWork);
        var grants = (await unitOfWork.CreditGrants.ListGrantsAsync(account, cancellationToken).ConfigureAwait(false)).ToList();
        for (var i = 0; i < grants.Count; i++)
        {
            var grant = grants[i];
            if (!grant.IsExpiredAt(now) || grant.Remaining.IsZero)
            {
                continue;
            }

            await MoveToExpiredAsync(unitOfWork, ledger, account, pool, grant.Remaining, $"{grant.Id}:{grant.Version}", cancellationToken).ConfigureAwait(false);
            var expired = grant with { Remaining = TokenAmount.Zero, Expired = grant.Expired + grant.Remaining };
            await unitOfWork.CreditGrants.UpdateGrantAsync(expired, grant.Version, cancellationToken).ConfigureAwait(false);
            grants[i] = expired with { Version = grant.Version + 1 };
        }

        return grants;
    }

    /// <summary>
    /// Burns the account's grants for a hold of <paramref name="amount"/> (a task's price, held in the ledger in the same
    /// unit of work), in <see cref="BurnOrder"/>, recording what each gave under <paramref name="reference"/>. Expired
    /// grants are not burnt (expire them first: <see cref="ExpireAccountAsync"/>); what the grants do not cover came from
    /// credits the account had before it had grants.
    /// </summary>
    /// <param name="unitOfWork">The unit of work of the ledger's hold.</param>
    /// <param name="account">The account.</param>
    /// <param name="reference">The hold's reference (a task id).</param>
    /// <param name="amount">The credits held.</param>
    /// <param name="now">The current time.</param>
    /// <param name="grants">The account's grants as <see cref="ExpireAccountAsync"/> returned them in this unit of work; read when null.</param>
    /// <param name="cancellationToken">Cancels the writes.</param>
    public async ValueTask HoldAsync(
        IAnpmUnitOfWork unitOfWork, Address account, string reference, TokenAmount amount, DateTimeOffset now, IReadOnlyList<CreditGrant>? grants = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(unitOfWork);
        ArgumentException.ThrowIfNullOrEmpty(reference);
        var left = amount;
        grants ??= await unitOfWork.CreditGrants.ListGrantsAsync(account, cancellationToken).ConfigureAwait(false);
        foreach (var grant in BurnOrder(grants.Where(g => g.Account == account && !g.Remaining.IsZero && !g.IsExpiredAt(now))))
        {
            if (left.IsZero)
            {
                break;
            }

            var take = grant.Remaining < left ? grant.Remaining : left;
            await unitOfWork.CreditGrants.UpdateGrantAsync(grant with { Remaining = grant.Remaining - take, Held = grant.Held + take }, grant.Version, cancellationToken).ConfigureAwait(false);
            if (!await unitOfWork.CreditGrants.TryInsertHoldAsync(new CreditGrantHold(reference, grant.Id, take), cancellationToken).ConfigureAwait(false))
            {
                throw new AnpmConcurrencyException($"Hold '{reference}' was taken from grant '{grant.Id}' at the same time; retry.");
            }

            left -= take;
        }
    }

    /// <summary>The hold <paramref name="reference"/> was posted: what it held of each grant is spent.</summary>
    public async ValueTask PostAsync(IAnpmUnitOfWork unitOfWork, string reference, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(unitOfWork);
        foreach (var hold in await unitOfWork.CreditGrants.ListHoldsAsync(reference, cancellationToken).ConfigureAwait(false))
        {
            var grant = await GrantOfAsync(unitOfWork, hold, cancellationToken).ConfigureAwait(false);
            await unitOfWork.CreditGrants.UpdateGrantAsync(grant with { Held = grant.Held - hold.Amount }, grant.Version, cancellationToken).ConfigureAwait(false);
        }

        await unitOfWork.CreditGrants.DeleteHoldsAsync(reference, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The hold <paramref name="reference"/> was voided (its credits are back in the account's credits in
    /// <paramref name="pool"/>): what it held goes back to each grant — or, for a grant that expired meanwhile, leaves at
    /// once through the ledger to <see cref="ExpiredAccount"/>.
    /// </summary>
    public async ValueTask VoidAsync(
        IAnpmUnitOfWork unitOfWork, Address account, PoolId pool, string reference, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(unitOfWork);
        foreach (var hold in await unitOfWork.CreditGrants.ListHoldsAsync(reference, cancellationToken).ConfigureAwait(false))
        {
            var grant = await GrantOfAsync(unitOfWork, hold, cancellationToken).ConfigureAwait(false);
            if (grant.IsExpiredAt(now))
            {
                await MoveToExpiredAsync(unitOfWork, ledger, account, pool, hold.Amount, $"{grant.Id}:{grant.Version}:{reference}", cancellationToken, poolFirst: true).ConfigureAwait(false);
                await unitOfWork.CreditGrants.UpdateGrantAsync(grant with { Held = grant.Held - hold.Amount, Expired = grant.Expired + hold.Amount }, grant.Version, cancellationToken)
                    .ConfigureAwait(false);
            }
            else
            {
                await unitOfWork.CreditGrants.UpdateGrantAsync(grant with { Held = grant.Held - hold.Amount, Remaining = grant.Remaining + hold.Amount }, grant.Version, cancellationToken)
                    .ConfigureAwait(false);
            }
        }

        await unitOfWork.CreditGrants.DeleteHoldsAsync(reference, cancellationToken).ConfigureAwait(false);
    }

    private static async ValueTask<CreditGrant> GrantOfAsync(IAnpmUnitOfWork unitOfWork, CreditGrantHold hold, CancellationToken cancellationToken) =>
        await unitOfWork.CreditGrants.GetGrantAsync(hold.GrantId, cancellationToken).ConfigureAwait(false)
            ?? throw new AnpmException($"Grant '{hold.GrantId}' of hold '{hold.Reference}' does not exist.");

    // Issues granted credits into the account's own credits.
    private async ValueTask IssueAsync(IAnpmUnitOfWork unitOfWork, Address account, TokenAmount amount, TransferId id, string reference, CancellationToken cancellationToken)
    {
        await ledger.CreateAccountsAsync(unitOfWork,
        [
            new NewAccount(SystemAccounts.Issuance(WellKnownAssets.Credit), WellKnownAssets.Credit, AccountFlags.None),
            new NewAccount(CreditAccounts.Of(account), WellKnownAssets.Credit, AccountFlags.DebitsMustNotExceedCredits),
        ], cancellationToken).ConfigureAwait(false);
        var issued = (await ledger.CreateTransfersAsync(unitOfWork,
        [
            new TransferRequest
            {
                Id = id, DebitAccountId = SystemAccounts.Issuance(WellKnownAssets.Credit), CreditAccountId = CreditAccounts.Of(account), Asset = WellKnownAssets.Credit,
                Amount = amount, Kind = GrantKind, Reference = reference,
            },
        ], cancellationToken).ConfigureAwait(false))[0];
        if (issued != CreateTransferResult.Created)
        {
            throw issued == CreateTransferResult.Exists
                ? new AnpmConcurrencyException($"Grant '{reference}' was issued at the same time; retry.")
                : issued.ToException($"Issuing the credits of grant '{reference}'");
        }
    }

    // Moves expired credits out of the account: its own credits first (the pool given first, where a voided hold just
    // brought them back), then the pool given, then its other pools.
    private static async ValueTask MoveToExpiredAsync(
        IAnpmUnitOfWork unitOfWork, Ledger ledger, Address account, PoolId? pool, TokenAmount amount, string key, CancellationToken cancellationToken, bool poolFirst = false)
    {
        await ledger.CreateAccountsAsync(unitOfWork, [new NewAccount(ExpiredAccount, WellKnownAssets.Credit, AccountFlags.None)], cancellationToken).ConfigureAwait(false);
        var left = amount;
        var n = 0;
        async ValueTask TakeAsync(AccountId from)
        {
            if (left.IsZero || await unitOfWork.Ledger.GetAccountAsync(from, cancellationToken).ConfigureAwait(false) is not { } source || source.AvailableBalance.IsZero)
            {
                return;
            }

            var take = source.AvailableBalance < left ? source.AvailableBalance : left;
            var moved = (await ledger.CreateTransfersAsync(unitOfWork,
            [
                new TransferRequest
                {
                    Id = TransferId.Derive("expire:", $"{key}:{n++}"), DebitAccountId = from, CreditAccountId = ExpiredAccount, Asset = WellKnownAssets.Credit,
                    Amount = take, Kind = ExpireKind, Reference = key,
                },
            ], cancellationToken).ConfigureAwait(false))[0];
            if (moved != CreateTransferResult.Created)
            {
                throw moved == CreateTransferResult.Exists
                    ? new AnpmConcurrencyException($"Expired credits '{key}' were moved at the same time; retry.")
                    : moved.ToException($"Moving the expired credits of '{key}'");
            }

            left -= take;
        }

        if (poolFirst && pool is { } back)
        {
            await TakeAsync(CreditAccounts.InPool(back, account)).ConfigureAwait(false);
        }

        await TakeAsync(CreditAccounts.Of(account)).ConfigureAwait(false);
        if (pool is { } first)
        {
            await TakeAsync(CreditAccounts.InPool(first, account)).ConfigureAwait(false);
        }

        for (PoolId? after = null; !left.IsZero;)
        {
            var page = await unitOfWork.Pools.ListPoolsAsync(after, 500, cancellationToken).ConfigureAwait(false);
            foreach (var other in page.Where(p => p.Id != pool))
            {
                await TakeAsync(CreditAccounts.InPool(other.Id, account)).ConfigureAwait(false);
            }

            if (page.Count < 500)
            {
                break;
            }

            after = page[^1].Id;
        }

        if (!left.IsZero)
        {
            // The grants count no more than the account holds unreserved: this is a defect, not bad input.
            throw new AnpmException($"The account {account} holds {amount - left} of the {amount} expired credits of '{key}' unreserved.");
        }
    }
}
