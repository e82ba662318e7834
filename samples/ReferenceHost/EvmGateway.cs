using System.Numerics;
using Anpm.Abstractions;
using Anpm.AspNetCore;
using Anpm.Credits;
using Anpm.Gateway.Evm;
using Microsoft.Extensions.Options;

namespace Anpm.ReferenceHost;

/// <summary>
/// The host's <c>Evm</c> mode (<c>Anpm:Evm:*</c>): deposits to the hot wallet are read from the chain and credited at
/// finality (<see cref="EvmDepositListener"/>), the outbox pays through <see cref="EvmPayoutSender"/>, the solvency report
/// compares the ledger with the wallet's token balance at the credited height plus the payouts in flight (<see cref="EvmTokenHoldings"/>), and the health checks include the listener's.
/// </summary>
public static class EvmGateway
{
    /// <summary>
    /// Registers the gateway (<c>AddEvmGateway</c> of Anpm.Gateway.Evm: listener, sender, holdings, its loop and health
    /// checks) from <c>Anpm:Evm:*</c>, the host's own start-up check (refusals naming the host's settings) and the pages'
    /// token balances.
    /// </summary>
    public static void AddReferenceHostEvmGateway(this IServiceCollection services, AnpmHostOptions options)
    {
        var evm = options.Evm;
        IEvmTransactionSigner signer = evm.KeyFile is { } keyFile
            ? HotWalletKey(keyFile, evm.KeyPassword)
            : new JsonRpcTransactionSigner(evm.SignerUrl!, Address.Parse(evm.SignerAddress!));
        services.AddEvmGateway(gateway =>
        {
            foreach (var url in evm.RpcUrls)
            {
                gateway.RpcUrls.Add(url);
            }

            gateway.ChainId = evm.ChainId ?? options.ChainId!.Value;
            gateway.Token = evm.Token!;
            gateway.Finality = evm.Confirmations == 0 ? EvmFinality.FinalizedTag : EvmFinality.Depth(evm.Confirmations);
            gateway.PollInterval = TimeSpan.FromSeconds(evm.PollSeconds);
            gateway.Deposits.Router = evm.Router;
            gateway.Deposits.StartBlock = evm.StartBlock;
            gateway.Payouts.Asset = WellKnownAssets.Apus.ToString();
            gateway.Payouts.MaxFeePerGasGwei = evm.MaxFeePerGasGwei;
            gateway.Payouts.MaxTransferAmount = evm.MaxTransferAmount;
            gateway.Payouts.MaxDailyAmount = evm.MaxDailyAmount;
        }, _ => signer);
        services.AddSingleton<ITokenBalances, EvmBalances>();
        services.AddSingleton(sp => new EvmStartupCheck(sp.GetRequiredService<IEvmChainClient>(), options));
    }

    // The hot wallet's key file, or a start-up refusal naming the setting that is wrong (never the password itself).
    private static EvmKeySigner HotWalletKey(string keyFile, string? password)
    {
        try
        {
            return EvmKeySigner.FromKeyFile(keyFile, password);
        }
        catch (Exception exception) when (exception is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new HostStartupException($"Anpm:Evm:KeyFile: there is no file '{keyFile}'.", exception);
        }
        catch (Exception exception) when (exception is UnauthorizedAccessException or IOException)
        {
            throw new HostStartupException($"Anpm:Evm:KeyFile: '{keyFile}' cannot be read ({exception.GetType().Name}).", exception);
        }
        catch (FormatException exception)
        {
            var setting = exception.Message.Contains("password", StringComparison.Ordinal) ? "Anpm:Evm:KeyPassword" : "Anpm:Evm:KeyFile";
            throw new HostStartupException($"{setting}: {exception.Message}", exception);
        }
    }
}

/// <summary>
/// What the host checks on the chain before it starts in Evm mode: an endpoint of <c>Anpm:Evm:RpcUrls</c> answers, it
/// serves the configured chain, and the token (and the router, when set) hold contract code. A failure is a
/// <see cref="HostStartupException"/> naming the setting. Checked once; later calls return at once.
/// </summary>
public sealed class EvmStartupCheck(IEvmChainClient chain, AnpmHostOptions options)
{
    private volatile bool _passed;

    /// <summary>Runs the checks (once).</summary>
    /// <exception cref="HostStartupException">A setting does not match the chain, or no endpoint answered.</exception>
    public async Task VerifyAsync(CancellationToken cancellationToken = default)
    {
        if (_passed)
        {
            return;
        }

        var evm = options.Evm;
        var expected = evm.ChainId ?? options.ChainId!.Value;
        ulong served;
        try
        {
            served = await chain.GetChainIdAsync(cancellationToken);
        }
        catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            throw new HostStartupException($"Anpm:Evm:RpcUrls: no endpoint answered ({string.Join(", ", evm.RpcUrls)}): {exception.Message}", exception);
        }

        if (served != expected)
        {
            var setting = evm.ChainId is null ? "Anpm:ChainId (or Anpm:Evm:ChainId)" : "Anpm:Evm:ChainId";
            throw new HostStartupException($"{setting}: the node at Anpm:Evm:RpcUrls serves chain {served}, not the configured chain {expected}.");
        }

        foreach (var (setting, address) in new[] { ("Anpm:Evm:Token", evm.Token), ("Anpm:Evm:Router", evm.Router) })
        {
            if (address is not null && !await chain.HasCodeAsync(Address.Parse(address).ToString(), cancellationToken))
            {
                throw new HostStartupException($"{setting}: {address} holds no contract on chain {served}.");
            }
        }

        _passed = true;
    }
}

/// <summary>Any address's token balance at the head, for the pages.</summary>
public sealed class EvmBalances(IEvmChainClient chain, IOptions<EvmGatewayOptions> options) : ITokenBalances
{
    /// <inheritdoc />
    public async ValueTask<TokenAmount> GetBalanceAsync(Address address, CancellationToken cancellationToken = default)
    {
        var balance = await chain.GetTokenBalanceAsync(options.Value.Token, address.ToString(), null, cancellationToken);
        return new TokenAmount((UInt128)BigInteger.Min(balance, (BigInteger)UInt128.MaxValue));
    }
}

/// <summary>Crediting resumed on <see cref="ChainId"/> from the block after <see cref="Anchor"/>; <see cref="HaltedAt"/> was the replaced block.</summary>
public sealed record EvmResumedView(ulong ChainId, long Anchor, long HaltedAt);

/// <summary>A deposit seen on chain and not yet final: it moves nothing until it has <see cref="ConfirmationsRequired"/>.</summary>
public sealed record PendingDepositView(
    string MessageId, Address Sender, TokenAmount Quantity, string Action, string PoolId, string Reference, long BlockNumber, long Confirmations, int ConfirmationsRequired);

/// <summary>The EVM gateway's view: where to pay (token, router, the hot wallet), how far it has read, and the pending deposits.</summary>
public sealed record EvmDepositsView(
    ulong ChainId, Address Token, Address? Router, Address Custody, string Finality, long? Head, long? LastFinal, long? Cursor, string? Halted,
    IReadOnlyList<PendingDepositView> Pending);

/// <summary>The EVM gateway's read route (<c>GET /evm/deposits</c>; 404 unless the host runs in Evm mode).</summary>
public static class EvmGatewayApi
{
    /// <summary>The message type of an admin's resume of halted deposits (added to the host's EIP-712 types).</summary>
    public const string ResumeDepositsType = "ResumeDeposits(address admin,uint256 anchor,string reason,uint256 nonce,uint256 deadline)";

    public static RouteGroupBuilder MapEvmGatewayApi(this IEndpointRouteBuilder app, string prefix)
    {
        var api = app.MapGroup(prefix + "/evm").WithTags("EVM gateway");
        api.MapGet("/deposits", GetDeposits).WithName("GetEvmDeposits")
            .WithSummary("The token, router and custody address to pay, the chain's head and final block, and the deposits not yet final (an address's, when given).");
        app.MapGroup(prefix + "/admin/evm").WithTags("EVM gateway")
            .MapPost("/deposits/resume", ResumeAsync).WithName("ResumeEvmDeposits").RequireSignedMessage("ResumeDeposits", roles: AnpmRole.Admin)
            .WithSummary("After a reorg halted crediting: resume from the block after the anchor (the highest block still canonical), with the admin's reason kept as the event deposits.resumed.");
        return api;
    }

    private static async Task<Microsoft.AspNetCore.Http.HttpResults.Results<Microsoft.AspNetCore.Http.HttpResults.Ok<EvmResumedView>, Microsoft.AspNetCore.Http.HttpResults.ProblemHttpResult>> ResumeAsync(
        SignedRequest request, IServiceProvider services, CancellationToken ct)
    {
        if (services.GetService<EvmDepositListener>() is not { } listener)
        {
            return AnpmProblems.NotFound("The EVM gateway is off on this host (Anpm:Evm:Enabled).");
        }

        var anchor = request.Integer("anchor");
        if (anchor > long.MaxValue)
        {
            return AnpmProblems.Invalid("message.anchor is not a block number.");
        }

        var reason = request.Text("reason").Trim();
        if (reason.Length == 0)
        {
            return AnpmProblems.Invalid("message.reason must say why (it is kept with the action): e.g. what was reconciled.");
        }

        var outcome = await listener.ResumeAsync(request.UnitOfWork, (long)anchor, new OperatorAction(request.Signer, reason), ct);
        return outcome.Result == EvmResumeResult.Resumed
            ? TypedResults.Ok(new EvmResumedView(services.GetRequiredService<IOptions<EvmDepositOptions>>().Value.ChainId, (long)anchor, outcome.HaltedAt!.Value))
            : AnpmProblems.InvalidState(outcome.Error!, outcome.Result.ToString());
    }

    private static Microsoft.AspNetCore.Http.HttpResults.Results<Microsoft.AspNetCore.Http.HttpResults.Ok<EvmDepositsView>, Microsoft.AspNetCore.Http.HttpResults.ProblemHttpResult> GetDeposits(
        IServiceProvider services, string? address = null)
    {
        if (services.GetService<EvmDepositListener>() is not { } listener)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "The EVM gateway is off on this host (Anpm:Evm:Enabled).",
                extensions: new Dictionary<string, object?> { ["code"] = "not_found" });
        }

        Address? sender = null;
        if (address is not null)
        {
            if (!Address.TryParse(address, out var parsed, out var error))
            {
                return TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: $"address: {error}",
                    extensions: new Dictionary<string, object?> { ["code"] = "invalid_request" });
            }

            sender = parsed;
        }

        var options = services.GetRequiredService<IOptions<EvmDepositOptions>>().Value;
        var poll = listener.LastPoll;
        var required = options.Finality.UsesFinalizedTag ? 0 : options.Finality.Confirmations;
        var pending = (poll?.Pending ?? [])
            .Where(d => sender is null || d.Sender == sender)
            .Select(d => new PendingDepositView(d.MessageId, d.Sender, d.Quantity, d.Action, d.PoolId, d.Reference, d.BlockNumber, d.Confirmations, required))
            .ToList();
        return TypedResults.Ok(new EvmDepositsView(
            options.ChainId, Address.Parse(options.Token), options.Router is { Length: > 0 } router ? Address.Parse(router) : null, Address.Parse(options.Custody),
            options.Finality.ToString(), poll?.Head, poll?.LastFinal, poll?.Cursor, poll?.HaltReason, pending));
    }
}
