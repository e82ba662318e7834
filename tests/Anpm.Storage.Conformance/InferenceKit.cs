using Anpm.Abstractions;
using Anpm.Credits;
using Anpm.Pools;
using Anpm.Signing;
using Microsoft.Extensions.Options;

namespace Anpm.Storage.Conformance;

/// <summary>The services and the inference pool the credit suites (session keys, alerts, grants) run tasks with.</summary>
internal static class InferenceKit
{
    public const string ModelHash = "0x1111111111111111111111111111111111111111111111111111111111111111";

    /// <summary>A pool config offering one model at a price, with no oracle: tasks stay pending until they time out.</summary>
    public static string PoolConfig(string model = "digits", int price = 10) =>
        "{\"name\":\"AI\",\"inference\":{\"models\":[{\"id\":\"" + model + "\",\"sha256\":\"" + ModelHash + "\",\"price\":\"" + price
        + "\"}],\"oracles\":[],\"replication\":1,\"quorum\":1,\"leaseSeconds\":60,\"maxAttempts\":3,\"maxInputBytes\":64,\"maxOutputBytes\":4096}}";

    /// <summary>The ledger, inference, credit and pool services over one store and clock.</summary>
    public static (Ledger Ledger, InferenceService Inference, CreditService Credits, PoolRegistry Registry) Services(IAnpmStore store, TimeProvider clock)
    {
        var ledger = new Ledger(store, Options.Create(new LedgerOptions()), clock);
        var registry = new PoolRegistry(store, clock);
        var verifier = new SignedRequestVerifier(Options.Create(new SignedRequestOptions { VerifyingContract = "0x5fbdb2315678afecb367f032d93f642f64180aa3" }.AddMessageTypes(AnpmOracleMessages.All)), clock);
        var inference = new InferenceService(store, ledger, registry, verifier, Options.Create(new InferenceOptions()), clock);
        var credits = new CreditService(store, ledger, new Outbox(store, ledger, new NoGateway(), Options.Create(new OutboxOptions()), clock), Options.Create(new CreditOptions()), clock);
        return (ledger, inference, credits, registry);
    }

    /// <summary>A gateway that sends nothing (the credit suites move no tokens out).</summary>
    public sealed class NoGateway : ITokenGateway
    {
        public ValueTask<GatewaySendResult> SendAsync(OutgoingTransfer transfer, CancellationToken cancellationToken = default) => new(new GatewaySendResult(GatewaySendStatus.RetryLater));
    }
}
