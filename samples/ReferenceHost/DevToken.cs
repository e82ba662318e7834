using System.Globalization;
using Anpm.Abstractions;
using Anpm.AspNetCore;
using Anpm.Credits;

namespace Anpm.ReferenceHost;

/// <summary>
/// The development token "APUS (dev)": an in-process token ledger (asset <c>APUSDEV</c> in the same ledger) with a capped
/// faucet and signed transfers to the manager that emit credit notices before the response returns. It is also the
/// token gateway of the outbox in development: an outgoing transfer moves the manager's dev tokens to the address and is
/// confirmed at once; and it reports the manager's holdings for the solvency report and each address's balance.
/// </summary>
public sealed class DevToken(Ledger ledger, AnpmHostOptions options, HostRoles roles, IServiceProvider services) : ITokenGateway, ITokenHoldings, ITokenBalances
{
    /// <summary>The development token's ledger asset.</summary>
    public static readonly AssetCode Asset = AssetCode.Parse("APUSDEV");

    private static readonly AccountId Mint = AccountId.Parse("devtoken:mint");
    private static readonly TransferKind Faucet = TransferKind.Parse("faucet");
    private static readonly TransferKind Move = TransferKind.Parse("token-transfer");

    public static AccountId Of(Address address) => AccountId.Parse($"devtoken:{address}");

    private Address Manager => roles.Manager;

    public TokenAmount FaucetMax => TokenAmount.Parse(options.DevToken.FaucetMax.ToString(CultureInfo.InvariantCulture), options.Token.Decimals);

    public async Task<TokenAmount> BalanceAsync(Address address, CancellationToken ct) =>
        (await ledger.GetAccountAsync(Of(address), ct))?.AvailableBalance ?? TokenAmount.Zero;

    /// <summary>An address's dev tokens as a unit of work sees them.</summary>
    public static async Task<TokenAmount> BalanceAsync(IAnpmUnitOfWork unitOfWork, Address address, CancellationToken ct) =>
        (await unitOfWork.Ledger.GetAccountAsync(Of(address), ct))?.AvailableBalance ?? TokenAmount.Zero;

    /// <inheritdoc />
    public async ValueTask<TokenAmount> GetBalanceAsync(Address address, CancellationToken cancellationToken = default) => await BalanceAsync(address, cancellationToken);

    /// <summary>Mints up to <see cref="FaucetMax"/> to an address.</summary>
    public async Task<CreateTransferResult> FaucetAsync(Address to, TokenAmount quantity, CancellationToken ct)
    {
        await EnsureAsync(to, ct);
        return await ledger.CreateTransferAsync(new TransferRequest
        {
            Id = TransferId.Parse("faucet:" + Guid.NewGuid().ToString("N")),
            DebitAccountId = Mint,
            CreditAccountId = Of(to),
            Asset = Asset,
            Amount = quantity,
            Kind = Faucet,
        }, ct);
    }

    /// <summary>Moves dev tokens (idempotent by <paramref name="id"/>).</summary>
    public async Task<CreateTransferResult> MoveAsync(TransferId id, Address from, Address to, TokenAmount quantity, CancellationToken ct)
    {
        await EnsureAsync(from, ct);
        await EnsureAsync(to, ct);
        return await ledger.CreateTransferAsync(Transfer(id, from, to, quantity), ct);
    }

    /// <summary>Moves dev tokens in the caller's unit of work (idempotent by <paramref name="id"/>), e.g. with the notice it causes.</summary>
    public async Task<CreateTransferResult> MoveAsync(IAnpmUnitOfWork unitOfWork, TransferId id, Address from, Address to, TokenAmount quantity, CancellationToken ct)
    {
        await ledger.CreateAccountsAsync(unitOfWork, [new NewAccount(Mint, Asset, AccountFlags.None), Holder(from), Holder(to)], ct);
        return (await ledger.CreateTransfersAsync(unitOfWork, [Transfer(id, from, to, quantity)], ct))[0];
    }

    private static NewAccount Holder(Address address) => new(Of(address), Asset, AccountFlags.DebitsMustNotExceedCredits);

    private static TransferRequest Transfer(TransferId id, Address from, Address to, TokenAmount quantity) => new()
    {
        Id = id,
        DebitAccountId = Of(from),
        CreditAccountId = Of(to),
        Asset = Asset,
        Amount = quantity,
        Kind = Move,
    };

    /// <inheritdoc />
    public async ValueTask<GatewaySendResult> SendAsync(OutgoingTransfer transfer, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(transfer);

        // The dev token settles at once: the payment and the outbox's confirmation are one unit of work, so no reader sees
        // the tokens paid but still owed (the outbox is resolved lazily: it depends on this gateway).
        var outbox = services.GetRequiredService<Outbox>();
        var moved = await services.GetRequiredService<IAnpmStore>().RunAsync((Token: this, Transfer: transfer, Outbox: outbox), static async (unitOfWork, send, ct) =>
        {
            var moved = await send.Token.MoveAsync(unitOfWork, TransferId.Parse("dev:" + send.Transfer.Id), send.Token.Manager, send.Transfer.To, send.Transfer.Amount, ct);
            if (moved.IsSuccess())
            {
                await send.Outbox.ConfirmAsync(unitOfWork, send.Transfer.Id, "dev:" + send.Transfer.Id, ct);
            }

            return moved;
        }, cancellationToken);
        return moved.IsSuccess()
            ? new GatewaySendResult(GatewaySendStatus.Accepted, "dev:" + transfer.Id)
            : new GatewaySendResult(GatewaySendStatus.RetryLater);
    }

    /// <inheritdoc />
    public async ValueTask<TokenAmount> GetSettledHoldingsAsync(AssetCode asset, CancellationToken cancellationToken = default) =>
        await BalanceAsync(roles.Manager, cancellationToken);

    private async Task EnsureAsync(Address address, CancellationToken ct)
    {
        await ledger.CreateAccountsAsync([new NewAccount(Mint, Asset, AccountFlags.None), Holder(address)], ct);
    }
}
