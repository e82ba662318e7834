using Anpm.Abstractions;
using Anpm.Credits;
using Microsoft.Extensions.Options;

namespace Anpm.Gateway.Evm.Tests;

/// <summary>
/// What deposits are credited through in the listener's tests: the ledger, an outbox that never pays out, the credit
/// service (Buy-Credits) and the notice processor. The services may run over another store than the ledger's reads (a
/// store whose commits fail, wrapping the same one).
/// </summary>
internal sealed record CreditPipeline(Ledger Ledger, Outbox Outbox, CreditService Credits, TokenNoticeProcessor Notices)
{
    /// <summary>The treasury of the tests' credit service.</summary>
    public static readonly Address Treasury = Address.Parse("0x00000000000000000000000000000000000000aa");

    public static CreditPipeline Over(IAnpmStore store, IAnpmStore? services = null, TimeProvider? clock = null)
    {
        services ??= store;
        clock ??= TimeProvider.System;
        var ledger = new Ledger(store, Options.Create(new LedgerOptions()), clock);
        var outbox = new Outbox(services, ledger, new NoGateway(), Options.Create(new OutboxOptions()), clock);
        var credits = new CreditService(services, ledger, outbox, Options.Create(new CreditOptions { Treasury = Treasury }), clock);
        return new CreditPipeline(ledger, outbox, credits, new TokenNoticeProcessor(services, ledger, outbox, clock, [credits]));
    }

    /// <summary>The credits an address holds.</summary>
    public async Task<System.Numerics.BigInteger> CreditsOfAsync(string address) =>
        (await Credits.GetBalancesAsync(Address.Parse(address))).Account.BaseUnits;
}
