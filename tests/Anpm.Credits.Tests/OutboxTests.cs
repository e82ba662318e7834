using Anpm.Abstractions;
using Anpm.Storage.InMemory;
using Anpm.Testing;
using Microsoft.Extensions.Options;
using static Anpm.Credits.Tests.LedgerFixture;

namespace Anpm.Credits.Tests;

public sealed class OutboxTests
{
    private static readonly Address Alice = Address.Parse("0x70997970c51812dc3a010c7d01b50e0d17dc79c8");
    private static readonly TransferKind Payout = TransferKind.Parse("payout");

    private sealed class FakeGateway : ITokenGateway
    {
        public List<TransferId> Sent { get; } = [];

        public Queue<GatewaySendStatus?> Answers { get; } = new();

        public ValueTask<GatewaySendResult> SendAsync(OutgoingTransfer transfer, CancellationToken cancellationToken = default)
        {
            Sent.Add(transfer.Id);
            var answer = Answers.Count > 0 ? Answers.Dequeue() : GatewaySendStatus.Accepted;
            return answer is null
                ? throw new HttpRequestException("gateway down")
                : new ValueTask<GatewaySendResult>(new GatewaySendResult(answer.Value, "ext-" + transfer.Id));
        }
    }

    private static async Task<(LedgerFixture Fixture, Outbox Outbox, FakeGateway Gateway)> SetupAsync()
    {
        var f = new LedgerFixture();
        Assert.All(await f.Ledger.CreateAccountsAsync([.. SystemAccounts.For(Apus), new NewAccount(Id("pool:demo"), Apus, AccountFlags.DebitsMustNotExceedCredits)]),
            r => Assert.Equal(CreateAccountResult.Created, r));
        Assert.Equal(CreateTransferResult.Created, await f.Ledger.CreateTransferAsync(Move("deposit", SystemAccounts.Issuance(Apus).Value!, "pool:demo", 1000)));
        var gateway = new FakeGateway();
        return (f, new Outbox(f.Store, f.Ledger, gateway, Options.Create(new OutboxOptions()), f.Clock), gateway);
    }

    private static async Task<EnqueueOutcome> EnqueueAsync(LedgerFixture f, Outbox outbox, string id, ulong amount, bool commit = true)
    {
        await using var unitOfWork = await f.Store.BeginAsync();
        var outcome = await outbox.EnqueueAsync(unitOfWork, Tid(id), Id("pool:demo"), Alice, Apus, new TokenAmount(amount), Payout, "contribution c1");
        if (commit)
        {
            await unitOfWork.CommitAsync();
        }

        return outcome;
    }

    [Fact]
    public async Task Enqueue_MovesTokensInFlightAndWritesTheTransferTogether()
    {
        var (f, outbox, _) = await SetupAsync();
        Assert.Equal(EnqueueResult.Enqueued, (await EnqueueAsync(f, outbox, "pay-1", 300)).Result);
        Assert.Equal(new TokenAmount(300), (await f.Ledger.GetAccountAsync(SystemAccounts.OutboxInFlight(Apus)))!.AvailableBalance);
        Assert.Equal(EnqueueResult.Exists, (await EnqueueAsync(f, outbox, "pay-1", 300)).Result);
        Assert.Equal(EnqueueResult.ExistsWithDifferentFields, (await EnqueueAsync(f, outbox, "pay-1", 301)).Result);
        var refused = await EnqueueAsync(f, outbox, "pay-2", 5000);
        Assert.Equal((EnqueueResult.LedgerRefused, CreateTransferResult.ExceedsBalance), (refused.Result, refused.LedgerResult));
        Assert.Equal(EnqueueResult.Enqueued, (await EnqueueAsync(f, outbox, "pay-3", 10, commit: false)).Result);
        await using (var check = await f.Store.BeginAsync())
        {
            Assert.NotNull(await check.Outbox.GetOutgoingAsync(Tid("pay-1")));
            Assert.Null(await check.Outbox.GetOutgoingAsync(Tid("pay-2")));
            Assert.Null(await check.Outbox.GetOutgoingAsync(Tid("pay-3")));
        }

        Assert.Equal(new TokenAmount(700), (await f.Ledger.GetAccountAsync(Id("pool:demo")))!.AvailableBalance);
        await LedgerAssert.InvariantHoldsAsync(f.Ledger);
    }

    [Fact]
    public async Task Confirm_TheLongestTransferId_TokensLeaveTheLedger()
    {
        var (f, outbox, _) = await SetupAsync();
        var longest = new string('w', TransferId.MaxLength);
        Assert.Equal(EnqueueResult.Enqueued, (await EnqueueAsync(f, outbox, longest, 300)).Result);
        Assert.Equal(1, await outbox.DispatchDueAsync());
        Assert.Equal(ConfirmResult.Confirmed, await outbox.ConfirmAsync(Tid(longest), "0xreceipt"));
        Assert.Equal(ConfirmResult.AlreadyConfirmed, await outbox.ConfirmAsync(Tid(longest)));
        Assert.Equal(TokenAmount.Zero, (await f.Ledger.GetAccountAsync(SystemAccounts.OutboxInFlight(Apus)))!.AvailableBalance);
        await LedgerAssert.InvariantHoldsAsync(f.Ledger);
    }

    [Fact]
    public async Task Dispatch_AcceptedWaitsForConfirmationThenIsSentAgainUnderTheSameId()
    {
        var (f, outbox, gateway) = await SetupAsync();
        await EnqueueAsync(f, outbox, "pay-1", 300);
        Assert.Equal(1, await outbox.DispatchDueAsync());
        Assert.Equal(0, await outbox.DispatchDueAsync());
        f.Clock.Advance(TimeSpan.FromSeconds(600));
        Assert.Equal(1, await outbox.DispatchDueAsync());
        Assert.Equal([Tid("pay-1"), Tid("pay-1")], gateway.Sent);
        await using var check = await f.Store.BeginAsync();
        var transfer = (await check.Outbox.GetOutgoingAsync(Tid("pay-1")))!;
        Assert.Equal((OutgoingTransferState.Dispatched, 2, "ext-pay-1"), (transfer.State, transfer.Attempts, transfer.ExternalReference));
    }

    [Fact]
    public async Task Dispatch_ThroughAnotherGatewayWithALimit_LeavesTheRestUntouched()
    {
        var (f, outbox, gateway) = await SetupAsync();
        await EnqueueAsync(f, outbox, "pay-1", 100);
        await EnqueueAsync(f, outbox, "pay-2", 200);
        var puller = new FakeGateway();
        Assert.Equal(1, await outbox.DispatchDueAsync(puller, limit: 1));
        Assert.Equal([Tid("pay-1")], puller.Sent);
        Assert.Empty(gateway.Sent);
        await using (var check = await f.Store.BeginAsync())
        {
            var waiting = (await check.Outbox.GetOutgoingAsync(Tid("pay-2")))!;
            Assert.Equal((OutgoingTransferState.Pending, 0), (waiting.State, waiting.Attempts));
        }

        Assert.Equal(1, await outbox.DispatchDueAsync(puller, limit: 5));
        Assert.Equal([Tid("pay-1"), Tid("pay-2")], puller.Sent);
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => outbox.DispatchDueAsync(puller, limit: 0).AsTask());
    }

    [Fact]
    public async Task Dispatch_GatewayDownOrBusy_BacksOffExponentially()
    {
        var (f, outbox, gateway) = await SetupAsync();
        await EnqueueAsync(f, outbox, "pay-1", 300);
        gateway.Answers.Enqueue(null);
        gateway.Answers.Enqueue(GatewaySendStatus.RetryLater);
        Assert.Equal(0, await outbox.DispatchDueAsync());
        f.Clock.Advance(TimeSpan.FromSeconds(4));
        Assert.Equal(0, await outbox.DispatchDueAsync());
        Assert.Single(gateway.Sent);
        f.Clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(0, await outbox.DispatchDueAsync());
        f.Clock.Advance(TimeSpan.FromSeconds(9));
        Assert.Equal(0, await outbox.DispatchDueAsync());
        Assert.Equal(2, gateway.Sent.Count);
        f.Clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(1, await outbox.DispatchDueAsync());
        Assert.Equal(3, gateway.Sent.Count);
    }

    [Fact]
    public async Task ConfirmHandedOut_APendingTransferStaysOwed_UntilItIsHandedOut()
    {
        var (f, outbox, _) = await SetupAsync();
        await EnqueueAsync(f, outbox, "pay-1", 300);
        Assert.Equal(ConfirmResult.NotHandedOut, await outbox.ConfirmHandedOutAsync(Tid("pay-1"), "tx-forged"));
        Assert.Equal(300, (long)(await f.Ledger.GetAccountAsync(SystemAccounts.OutboxInFlight(Apus)))!.PostedBalance);
        Assert.Equal(ConfirmResult.NotFound, await outbox.ConfirmHandedOutAsync(Tid("nothing")));
        Assert.Equal(1, await outbox.DispatchDueAsync());
        Assert.Equal(ConfirmResult.Confirmed, await outbox.ConfirmHandedOutAsync(Tid("pay-1"), "tx-1"));
        Assert.Equal(ConfirmResult.AlreadyConfirmed, await outbox.ConfirmHandedOutAsync(Tid("pay-1"), "tx-1"));
        Assert.Equal(TokenAmount.Zero, (await f.Ledger.GetAccountAsync(SystemAccounts.OutboxInFlight(Apus)))!.AvailableBalance);
    }

    [Fact]
    public async Task FailedOnChain_NeverSentAgainNorConfirmed_RetrySendsItAgain_ReturnGivesTheTokensBack()
    {
        var (f, outbox, gateway) = await SetupAsync();
        Assert.Equal(EnqueueResult.Enqueued, (await EnqueueAsync(f, outbox, "pay-1", 300)).Result);
        Assert.Equal(EnqueueResult.Enqueued, (await EnqueueAsync(f, outbox, "pay-2", 200)).Result);
        Assert.Equal(2, await outbox.DispatchDueAsync());
        Assert.Equal(FailedTransferResult.NotFound, await FailAsync(f, outbox, "none"));
        Assert.Equal(FailedTransferResult.Done, await FailAsync(f, outbox, "pay-1"));
        Assert.Equal(FailedTransferResult.Done, await FailAsync(f, outbox, "pay-2"));
        Assert.Equal(FailedTransferResult.AlreadyDone, await FailAsync(f, outbox, "pay-1"));
        Assert.Equal(["pay-1", "pay-2"], (await outbox.ListAsync(OutgoingTransferState.FailedOnChain, null, 10)).Select(t => t.Id.ToString()));
        Assert.Equal("0xrevert", (await outbox.ListAsync(OutgoingTransferState.FailedOnChain, null, 1))[0].ExternalReference);

        // Failed transfers stay in flight: never due, never confirmed.
        f.Clock.Advance(TimeSpan.FromDays(1));
        gateway.Sent.Clear();
        Assert.Equal(0, await outbox.DispatchDueAsync());
        Assert.Empty(gateway.Sent);
        Assert.Equal(ConfirmResult.NotPayable, await outbox.ConfirmAsync(Tid("pay-1")));
        Assert.Equal(ConfirmResult.NotPayable, await outbox.ConfirmHandedOutAsync(Tid("pay-1")));
        Assert.Equal(new TokenAmount(500), (await f.Ledger.GetAccountAsync(SystemAccounts.OutboxInFlight(Apus)))!.AvailableBalance);

        // Retry: pending and due again; confirmed as usual.
        Assert.Equal(FailedTransferResult.Done, await outbox.RetryFailedAsync(Tid("pay-1")));
        Assert.Equal(FailedTransferResult.WrongState, await outbox.RetryFailedAsync(Tid("pay-1")));
        Assert.Equal(1, await outbox.DispatchDueAsync());
        Assert.Equal([Tid("pay-1")], gateway.Sent);
        Assert.Equal(ConfirmResult.Confirmed, await outbox.ConfirmAsync(Tid("pay-1")));
        Assert.Equal(FailedTransferResult.WrongState, await FailAsync(f, outbox, "pay-1"));

        // Return: the tokens go back to the pool they came from, once.
        Assert.Equal(FailedTransferResult.WrongState, await outbox.ReturnFailedAsync(Tid("pay-1")));
        Assert.Equal(FailedTransferResult.Done, await outbox.ReturnFailedAsync(Tid("pay-2")));
        Assert.Equal(FailedTransferResult.AlreadyDone, await outbox.ReturnFailedAsync(Tid("pay-2")));
        Assert.Equal(FailedTransferResult.WrongState, await outbox.RetryFailedAsync(Tid("pay-2")));
        Assert.Equal(ConfirmResult.NotPayable, await outbox.ConfirmAsync(Tid("pay-2")));
        Assert.Equal(TokenAmount.Zero, (await f.Ledger.GetAccountAsync(SystemAccounts.OutboxInFlight(Apus)))!.AvailableBalance);
        Assert.Equal(new TokenAmount(700), (await f.Ledger.GetAccountAsync(Id("pool:demo")))!.AvailableBalance);
        Assert.Equal(OutgoingTransferState.Returned, Assert.Single(await outbox.ListAsync(OutgoingTransferState.Returned, null, 10)).State);
        await LedgerAssert.InvariantHoldsAsync(f.Ledger);
    }

    private static async Task<FailedTransferResult> FailAsync(LedgerFixture f, Outbox outbox, string id)
    {
        await using var unitOfWork = await f.Store.BeginAsync();
        var result = await outbox.FailOnChainAsync(unitOfWork, Tid(id), "0xrevert");
        await unitOfWork.CommitAsync();
        return result;
    }

    [Fact]
    public async Task Confirm_TokensLeaveTheLedgerOnce()
    {
        var (f, outbox, _) = await SetupAsync();
        await EnqueueAsync(f, outbox, "pay-1", 300);
        await outbox.DispatchDueAsync();
        Assert.Equal(ConfirmResult.Confirmed, await outbox.ConfirmAsync(Tid("pay-1"), "tx-42"));
        Assert.Equal(ConfirmResult.AlreadyConfirmed, await outbox.ConfirmAsync(Tid("pay-1")));
        Assert.Equal(ConfirmResult.NotFound, await outbox.ConfirmAsync(Tid("nothing")));
        Assert.Equal(TokenAmount.Zero, (await f.Ledger.GetAccountAsync(SystemAccounts.OutboxInFlight(Apus)))!.AvailableBalance);

        // The system held 1000 and paid out 300: it now holds 700, all of it the pool's.
        Assert.Equal(-700, (long)(await f.Ledger.GetAccountAsync(SystemAccounts.Issuance(Apus)))!.PostedBalance);
        f.Clock.Advance(TimeSpan.FromDays(1));
        Assert.Equal(0, await outbox.DispatchDueAsync());
        await using (var check = await f.Store.BeginAsync())
        {
            Assert.Equal((OutgoingTransferState.Confirmed, "tx-42"), ((await check.Outbox.GetOutgoingAsync(Tid("pay-1")))!.State, (await check.Outbox.GetOutgoingAsync(Tid("pay-1")))!.ExternalReference));
        }

        await LedgerAssert.InvariantHoldsAsync(f.Ledger);
    }

    private sealed class RecordingObserver(bool fail) : IOutgoingTransferObserver
    {
        public List<TransferId> Seen { get; } = [];

        public ValueTask OnConfirmedAsync(IAnpmUnitOfWork unitOfWork, OutgoingTransfer transfer, Outbox outbox, CancellationToken cancellationToken)
        {
            Seen.Add(transfer.Id);
            return fail ? throw new InvalidOperationException("observer refused") : ValueTask.CompletedTask;
        }
    }

    [Fact]
    public async Task Confirm_ObserversToldOnceInTheSameUnitOfWork_AThrowingOneRollsTheConfirmationBack()
    {
        var (f, outbox, gateway) = await SetupAsync();
        await EnqueueAsync(f, outbox, "pay-1", 300);
        var failing = new RecordingObserver(fail: true);
        var refusing = new Outbox(f.Store, f.Ledger, gateway, Options.Create(new OutboxOptions()), f.Clock, [failing]);
        await Assert.ThrowsAsync<InvalidOperationException>(async () => await refusing.ConfirmAsync(Tid("pay-1"), "tx-1"));
        Assert.Equal(new TokenAmount(300), (await f.Ledger.GetAccountAsync(SystemAccounts.OutboxInFlight(Apus)))!.AvailableBalance);
        await using (var check = await f.Store.BeginAsync())
        {
            Assert.Equal(OutgoingTransferState.Pending, (await check.Outbox.GetOutgoingAsync(Tid("pay-1")))!.State);
        }

        var recording = new RecordingObserver(fail: false);
        var confirming = new Outbox(f.Store, f.Ledger, gateway, Options.Create(new OutboxOptions()), f.Clock, [recording]);
        Assert.Equal(ConfirmResult.Confirmed, await confirming.ConfirmAsync(Tid("pay-1"), "tx-1"));
        Assert.Equal(ConfirmResult.AlreadyConfirmed, await confirming.ConfirmAsync(Tid("pay-1"), "tx-1"));
        Assert.Equal([Tid("pay-1")], recording.Seen);
        Assert.Equal(TokenAmount.Zero, (await f.Ledger.GetAccountAsync(SystemAccounts.OutboxInFlight(Apus)))!.AvailableBalance);
        await LedgerAssert.InvariantHoldsAsync(f.Ledger);
    }

    [Fact]
    public void Options_Invalid_Refused() =>
        Assert.Throws<OptionsValidationException>(() => new Outbox(new InMemoryAnpmStore(), new LedgerFixture().Ledger, new FakeGateway(),
            Options.Create(new OutboxOptions { DispatchBatchSize = 0 }), TimeProvider.System));

    [Fact]
    public async Task Dispatch_GatewayThrows_LogsAWarningNamingTheTransfer_AndTheTransferStaysOwed()
    {
        var (f, _, gateway) = await SetupAsync();
        var log = new ListLogger<Outbox>();
        var outbox = new Outbox(f.Store, f.Ledger, gateway, Options.Create(new OutboxOptions()), f.Clock, logger: log);
        await EnqueueAsync(f, outbox, "pay-1", 300);
        gateway.Answers.Enqueue(null); // the gateway throws
        Assert.Equal(0, await outbox.DispatchDueAsync());
        var (level, _, message, exception) = Assert.Single(log.Entries);
        Assert.Equal(Microsoft.Extensions.Logging.LogLevel.Warning, level);
        Assert.Contains("pay-1", message, StringComparison.Ordinal);
        Assert.Contains("attempt 1", message, StringComparison.Ordinal);
        Assert.IsType<HttpRequestException>(exception);
        Assert.Equal(OutgoingTransferState.Pending, (await outbox.ListAsync(OutgoingTransferState.Pending, null, 10)).Single().State);
        await LedgerAssert.InvariantHoldsAsync(f.Ledger);
    }
}
