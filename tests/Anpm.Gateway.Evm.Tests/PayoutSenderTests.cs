using System.Numerics;
using System.Text.Json;
using Anpm.Abstractions;
using Anpm.Credits;
using Anpm.Storage.InMemory;
using Anpm.Storage.Sqlite;
using Anpm.Testing;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Anpm.Gateway.Evm.Tests;

/// <summary>
/// The payout sender against anvil: each outgoing transfer is paid exactly its amount, once, and confirmed only at
/// depth N; dropped transactions are broadcast again by a restarted sender (the nonce gap filled); a replacement bumps
/// fees and the original still confirms if it is the one mined; a payment stuck past its age is cancelled and paid again
/// on a new nonce; a nonce used elsewhere is released and the transfer paid on the next; two senders on one wallet never
/// sign one nonce twice; a reverted payment fails the transfer on chain (retry pays it); fees above the cap and a wallet
/// without gas sign nothing. The ledger invariant holds after every test.
/// </summary>
public sealed class PayoutSenderTests : IAsyncLifetime
{
    private static readonly AccountId Pool = AccountId.Parse("pool:payouts");
    private static readonly TransferKind Payout = TransferKind.Parse("payout");
    private readonly FakeTimeProvider _clock = new(DateTimeOffset.UtcNow);
    private TestChain _chain = null!;
    private Deployed _token = null!;
    private TestWallet _hot = null!;
    private readonly List<IAsyncDisposable> _stores = [];
    private IAnpmStore _store = null!;
    private Ledger _ledger = null!;

    public async Task InitializeAsync()
    {
        _chain = await TestChain.StartAsync();
        _hot = await _chain.WalletAsync();
        _store = new InMemoryAnpmStore();
        await FundAsync();
    }

    // The ledger over the current store, with the pool the payouts are owed from.
    private async Task FundAsync()
    {
        _ledger = new Ledger(_store, Options.Create(new LedgerOptions()), _clock);
        Assert.All(await _ledger.CreateAccountsAsync([.. SystemAccounts.For(WellKnownAssets.Apus), new NewAccount(Pool, WellKnownAssets.Apus, AccountFlags.DebitsMustNotExceedCredits)]),
            r => Assert.Equal(CreateAccountResult.Created, r));
        Assert.Equal(CreateTransferResult.Created, await _ledger.CreateTransferAsync(new TransferRequest
        {
            Id = TransferId.Parse("fund"),
            DebitAccountId = SystemAccounts.Issuance(WellKnownAssets.Apus),
            CreditAccountId = Pool,
            Asset = WellKnownAssets.Apus,
            Amount = new TokenAmount(1_000_000_000),
            Kind = TransferKind.Parse("deposit"),
        }));
    }

    // Switches the test to a SQLite file: the first instance becomes the store; a second instance on the file is returned.
    private async Task<IAnpmStore> UseSqliteAsync()
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory("anpm-payouts-").FullName, "anpm.db");
        SqliteAnpmStore Open() => new(Options.Create(new SqliteStoreOptions { ConnectionString = $"Data Source={path}" }), TimeProvider.System);
        var first = Open();
        _stores.Add(first);
        _store = first;
        await FundAsync();
        var second = Open();
        _stores.Add(second);
        return second;
    }

    public async Task DisposeAsync()
    {
        await LedgerAssert.InvariantHoldsAsync(_ledger);
        foreach (var store in _stores)
        {
            await store.DisposeAsync();
        }

        await _chain.DisposeAsync();
    }

    [Fact]
    public async Task Payouts_EachPaidItsAmountOnce_ConfirmedOnlyAtDepth()
    {
        var (outbox, sender) = await SetUpAsync();
        var recipients = await RecipientsAsync(3);
        for (var i = 0; i < 3; i++)
        {
            await EnqueueAsync(outbox, "pay-" + i, recipients[i], 1_000 + i);
        }

        Assert.Equal(3, await outbox.DispatchDueAsync());
        await MinedAsync(_hot.Address, 3);
        var head = await _chain.Node.BlockNumberAsync();
        var inHead = 0;
        foreach (var hash in await HashesAsync(3))
        {
            var receipt = await _chain.Node.RpcAsync("eth_getTransactionReceipt", hash);
            inHead += (long)AnvilNode.ParseQuantity(receipt.GetProperty("blockNumber").GetString()!) == head ? 1 : 0;
        }

        Assert.InRange(inHead, 1, 3);
        Assert.Equal(3 - inHead, (await sender.ReconcileAsync())!.Confirmed); // what the head block holds is at depth 1
        Assert.Equal(inHead, (await StatesAsync(3)).Count(s => s == OutgoingTransferState.Dispatched));

        await _chain.Node.MineAsync();
        var reconciled = (await sender.ReconcileAsync())!;
        Assert.Equal((inHead, inHead), (reconciled.Open, reconciled.Confirmed));
        Assert.All(await StatesAsync(3), s => Assert.Equal(OutgoingTransferState.Confirmed, s));
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(1_000 + i, await _chain.BalanceAsync(_token, recipients[i]));
        }

        // Sent again after the confirmation timeout: nothing is paid twice.
        _clock.Advance(TimeSpan.FromHours(2));
        Assert.Equal(0, await outbox.DispatchDueAsync());
        Assert.Equal(3, await NonceAsync());
        Assert.Equal(TokenAmount.Zero, (await _ledger.GetAccountAsync(SystemAccounts.OutboxInFlight(WellKnownAssets.Apus)))!.AvailableBalance);
    }

    [Fact]
    public async Task DroppedTransactions_BroadcastAgainByARestartedSender_TheNonceGapFilled()
    {
        var (outbox, _) = await SetUpAsync();
        var recipients = await RecipientsAsync(3);
        await _chain.Node.RpcAsync("evm_setAutomine", false);
        for (var i = 0; i < 3; i++)
        {
            await EnqueueAsync(outbox, "pay-" + i, recipients[i], 500);
        }

        Assert.Equal(3, await outbox.DispatchDueAsync());
        var hashes = await HashesAsync(3);
        await _chain.Node.RpcAsync("anvil_dropTransaction", hashes[0]); // nonce 0 gone: 1 and 2 cannot be mined
        await _chain.Node.MineAsync();
        Assert.Equal(0, await NonceAsync());

        // A restart: a new sender over the same store broadcasts the forgotten bytes again.
        var (_, restarted) = await SetUpAsync(deployToken: false);
        Assert.InRange((await restarted.ReconcileAsync())!.Rebroadcast, 1, 3); // anvil does not report queued transactions as known
        await _chain.Node.MineAsync(2);
        Assert.Equal(3, await NonceAsync());
        Assert.Equal(3, (await restarted.ReconcileAsync())!.Confirmed);
        foreach (var recipient in recipients)
        {
            Assert.Equal(500, await _chain.BalanceAsync(_token, recipient));
        }
    }

    [Fact]
    public async Task FeeSpikeWhilePending_NoReplacementAboveTheCap_ThePaymentWaitsAndIsPaidOnce()
    {
        // The cap leaves room for the first signature but not for a 12.5 % bump of it.
        var market = await new NethereumChainClient(_chain.Node.Url).GetFeeMarketAsync(default);
        var first = Eip1559Fees.ForNextBlock(market.NextBaseFee, market.SuggestedTip, EvmPayoutOptions.Wei(0.01m), BigInteger.Pow(10, 18))!.Value;
        var capGwei = (decimal)first.MaxFeePerGas / 1_000_000_000m;
        var (outbox, sender) = await SetUpAsync(configure: o => o.MaxFeePerGasGwei = capGwei);
        var recipient = (await RecipientsAsync(1))[0];
        await _chain.Node.RpcAsync("evm_setAutomine", false);
        await EnqueueAsync(outbox, "pay-0", recipient, 500);
        Assert.Equal(1, await outbox.DispatchDueAsync());

        // The base fee spikes tenfold; the payment waits past its replacement time.
        await _chain.Node.RpcAsync("anvil_setNextBlockBaseFeePerGas", AnvilNode.Quantity(market.NextBaseFee * 10));
        _clock.Advance(TimeSpan.FromSeconds(121));
        var round = (await sender.ReconcileAsync())!;
        Assert.Equal((0, EvmPayoutHold.FeeCapReached), (round.Replaced, sender.LastHold));
        var attempts = await _store.RunReadAsync(_hot.Address, static (u, w, ct) => u.Chain.GetTransactionsAsync(31337, Address.Parse(w), 0, ct));
        Assert.True(attempts.All(a => a.MaxFeePerGas <= EvmPayoutOptions.Wei(capGwei)), "a transaction was signed above the cap");
        Assert.Single(attempts);

        // The spike passes (the base fee falls by an eighth per empty block; should the node have dropped the underpriced
        // payment meanwhile, the sender broadcasts the same bytes again): the one payment is mined and confirmed.
        await _chain.Node.MineAsync(25);
        var confirmed = 0;
        for (var i = 0; i < 5 && confirmed == 0; i++)
        {
            confirmed = (await sender.ReconcileAsync())!.Confirmed;
            await _chain.Node.MineAsync(2);
        }

        Assert.Equal(1, confirmed);
        Assert.Equal(500, await _chain.BalanceAsync(_token, recipient));
        Assert.Equal(1, await NonceAsync());
    }

    [Fact]
    public async Task StuckPayment_ReplacedWithHigherFees_TheOriginalMinedInstead_ConfirmsUnderItsHash()
    {
        var (outbox, sender) = await SetUpAsync();
        var recipient = (await RecipientsAsync(1))[0];
        await _chain.Node.RpcAsync("evm_setAutomine", false);
        await EnqueueAsync(outbox, "pay-0", recipient, 700);
        Assert.Equal(1, await outbox.DispatchDueAsync());

        _clock.Advance(TimeSpan.FromSeconds(121));
        Assert.Equal(1, (await sender.ReconcileAsync())!.Replaced);
        var attempts = await _store.RunReadAsync(_hot.Address, static (u, w, ct) => u.Chain.GetTransactionsAsync(31337, Address.Parse(w), 0, ct));
        Assert.Equal(2, attempts.Count);
        var (original, replacement) = (attempts[0], attempts[1]);
        Assert.True(replacement.MaxPriorityFeePerGas >= original.MaxPriorityFeePerGas * 9 / 8 && replacement.MaxFeePerGas >= original.MaxFeePerGas * 9 / 8);

        // The node mines the original after all (the replacement dropped, the original's bytes broadcast again).
        await _chain.Node.RpcAsync("anvil_dropTransaction", replacement.Hash);
        await _chain.Node.RpcAsync("eth_sendRawTransaction", original.RawTransaction);
        await _chain.Node.MineAsync(2);
        Assert.Equal(1, (await sender.ReconcileAsync())!.Confirmed);
        var confirmed = (await _store.RunReadAsync(0, static (u, _, ct) => u.Outbox.GetOutgoingAsync(TransferId.Parse("pay-0"), ct)))!;
        Assert.Equal((OutgoingTransferState.Confirmed, original.Hash), (confirmed.State, confirmed.ExternalReference));
        Assert.Equal(700, await _chain.BalanceAsync(_token, recipient));
        Assert.Equal(1, await NonceAsync());
    }

    [Fact]
    public async Task PaymentStuckPastItsAge_Cancelled_ThenPaidOnceOnANewNonce()
    {
        var (outbox, sender) = await SetUpAsync();
        var recipient = (await RecipientsAsync(1))[0];
        await _chain.Node.RpcAsync("evm_setAutomine", false);
        await EnqueueAsync(outbox, "pay-0", recipient, 900);
        Assert.Equal(1, await outbox.DispatchDueAsync());

        _clock.Advance(TimeSpan.FromHours(9));
        Assert.Equal(1, (await sender.ReconcileAsync())!.Replaced); // the cancellation replaces the payment in the pool
        Assert.Equal(Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Degraded,
            (await new EvmPayoutHealthCheck(sender, _clock).CheckHealthAsync(new Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckContext())).Status);
        await _chain.Node.MineAsync(2);
        var released = (await sender.ReconcileAsync())!;
        Assert.Equal(1, released.Released); // the cancellation is final: the transfer is paid again on nonce 1
        Assert.Equal(0, await _chain.BalanceAsync(_token, recipient));
        await _chain.Node.MineAsync(2);
        Assert.Equal(1, (await sender.ReconcileAsync())!.Confirmed);
        Assert.Equal(900, await _chain.BalanceAsync(_token, recipient));
        Assert.Equal(Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Healthy,
            (await new EvmPayoutHealthCheck(sender, _clock).CheckHealthAsync(new Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckContext())).Status);
        Assert.Equal(2, await NonceAsync());
        var rounds = await _store.RunReadAsync(0, static (u, _, ct) => u.Chain.GetLatestNonceOfTransferAsync(31337, TransferId.Parse("pay-0"), ct));
        Assert.Equal((1, 1L, ChainNonceState.Confirmed), (rounds!.Round, rounds.Nonce, rounds.State));
    }

    [Fact]
    public async Task NonceUsedElsewhere_Released_TheTransferPaidOnTheNextNonce_Once()
    {
        var (outbox, sender) = await SetUpAsync();
        var recipient = (await RecipientsAsync(1))[0];
        await _chain.Node.RpcAsync("evm_setAutomine", false);
        await EnqueueAsync(outbox, "pay-0", recipient, 300);
        Assert.Equal(1, await outbox.DispatchDueAsync());
        var ours = (await HashesAsync(1))[0];

        // Someone with the wallet's key uses nonce 0 for something else, at a higher fee.
        await _chain.Node.RpcAsync("anvil_dropTransaction", ours);
        var elsewhere = await EvmKeySigner.FromHex(_hot.PrivateKeyHex).SignAsync(
            new EvmTransactionRequest(31337, 0, _hot.Address, BigInteger.One, "0x", 21_000, new Eip1559Fees(BigInteger.Pow(10, 11), BigInteger.Pow(10, 10))), default);
        await _chain.Node.RpcAsync("eth_sendRawTransaction", elsewhere.RawTransaction);
        await _chain.Node.MineAsync(2);
        Assert.Equal(1, (await sender.ReconcileAsync())!.Released);
        await _chain.Node.MineAsync(2);
        Assert.Equal(1, (await sender.ReconcileAsync())!.Confirmed);
        Assert.Equal(300, await _chain.BalanceAsync(_token, recipient));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task TwoSendersOnOneWallet_NeverSignANonceTwice_EachRecipientPaidOnce(bool twoSqliteInstances)
    {
        var secondStore = twoSqliteInstances ? await UseSqliteAsync() : null; // two hosts on one SQLite file, or one in-memory store
        var (first, firstSender) = await SetUpAsync();
        var (second, secondSender) = await SetUpAsync(deployToken: false, store: secondStore);
        var recipients = await RecipientsAsync(12);
        for (var i = 0; i < recipients.Count; i++)
        {
            await EnqueueAsync(first, "pay-" + i, recipients[i], 100 + i);
        }

        var log = new List<string>();
        for (var round = 0; round < 20 && (await _store.RunReadAsync(0, static (u, _, ct) => u.Outbox.GetDueOutgoingAsync(DateTimeOffset.MaxValue, 100, ct))).Any(t => t.State == OutgoingTransferState.Pending); round++)
        {
            var reconciling = Task.WhenAll(Task.Run(() => firstSender.ReconcileAsync()), Task.Run(() => secondSender.ReconcileAsync()));
            var sent = await Task.WhenAll(Task.Run(async () => await first.DispatchDueAsync()), Task.Run(async () => await second.DispatchDueAsync()));
            await reconciling;
            log.Add($"round {round}: {sent[0]} + {sent[1]} ({firstSender.LastHold}, {secondSender.LastHold})");
            _clock.Advance(TimeSpan.FromMinutes(2));
        }

        Assert.True(log.Count > 0);
        await MinedAsync(_hot.Address, recipients.Count);

        await _chain.Node.MineAsync(2);
        await firstSender.ReconcileAsync();
        var states = await StatesAsync(recipients.Count);
        Assert.True(states.All(s => s == OutgoingTransferState.Confirmed), string.Join("; ", log) + " / " + string.Join(",", states));
        for (var i = 0; i < recipients.Count; i++)
        {
            Assert.Equal(100 + i, await _chain.BalanceAsync(_token, recipients[i]));
        }

        Assert.Equal(recipients.Count, await NonceAsync());
    }

    [Fact]
    public async Task FlakyProviderWith429sAndLostAnswers_AndRestarts_PayEveryTransferOnce()
    {
        var seed = TestSeed.Next();
        var random = new Random(seed);
        // Two flaky providers behind the resilient client, as a host configures them.
        IEvmChainClient Flaky(IEvmChainClient node) => new ResilientChainClient(
            [new FlakyChainClient(node, random, maxRange: 1_000), new FlakyChainClient(node, random, maxRange: 1_000)],
            new ChainClientResilienceOptions { BaseDelay = TimeSpan.FromMilliseconds(1), MaxDelay = TimeSpan.FromMilliseconds(5), PauseDuration = TimeSpan.FromMilliseconds(20) });
        var (outbox, sender) = await SetUpAsync(wrap: Flaky);
        var recipients = await RecipientsAsync(10);
        for (var i = 0; i < recipients.Count; i++)
        {
            await EnqueueAsync(outbox, "pay-" + i, recipients[i], 10 + i);
        }

        for (var round = 0; round < 60 && (await StatesAsync(recipients.Count)).Any(s => s != OutgoingTransferState.Confirmed); round++)
        {
            if (random.Next(4) == 0)
            {
                (outbox, sender) = await SetUpAsync(deployToken: false, wrap: Flaky); // a restart
            }

            await outbox.DispatchDueAsync();
            try
            {
                await sender.ReconcileAsync();
            }
            catch (Exception exception) when (exception is EvmRpcException or HttpRequestException)
            {
                // The job fails this round and runs again at the next.
            }

            await _chain.Node.MineAsync();
            _clock.Advance(TimeSpan.FromSeconds(30));
        }

        Assert.All(await StatesAsync(recipients.Count), s => Assert.Equal(OutgoingTransferState.Confirmed, s));
        for (var i = 0; i < recipients.Count; i++)
        {
            Assert.Equal(10 + i, await _chain.BalanceAsync(_token, recipients[i]));
        }

        Assert.Equal(recipients.Count, await NonceAsync()); // one nonce per transfer: none cancelled, none wasted
    }

    [Fact]
    public async Task RevertedPayment_FailsOnChain_InFlightKept_RetryPaysIt()
    {
        var (outbox, sender) = await SetUpAsync(tokenName: "PausableTestToken");
        var recipient = (await RecipientsAsync(1))[0];
        await TestChain.SendAsync(_chain.Owner, _token, "pause");
        await EnqueueAsync(outbox, "pay-0", recipient, 400);
        Assert.True(await outbox.DispatchDueAsync() == 1, $"held: {sender.LastHold}"); // signed with the fallback gas limit: the revert is mined
        await MinedAsync(_hot.Address, 1);
        await _chain.Node.MineAsync();
        var failing = (await sender.ReconcileAsync())!;
        Assert.True(failing.Failed == 1, $"{failing}");
        var failed = Assert.Single(await outbox.ListAsync(OutgoingTransferState.FailedOnChain, null, 10));
        Assert.Equal(new TokenAmount(400), (await _ledger.GetAccountAsync(SystemAccounts.OutboxInFlight(WellKnownAssets.Apus)))!.AvailableBalance);
        _clock.Advance(TimeSpan.FromHours(2));
        Assert.Equal(0, await outbox.DispatchDueAsync());

        await TestChain.SendAsync(_chain.Owner, _token, "unpause");
        Assert.Equal(FailedTransferResult.Done, await outbox.RetryFailedAsync(failed.Id));
        Assert.Equal(1, await outbox.DispatchDueAsync());
        await MinedAsync(_hot.Address, 2);
        await _chain.Node.MineAsync();
        Assert.Equal(1, (await sender.ReconcileAsync())!.Confirmed);
        Assert.Equal(400, await _chain.BalanceAsync(_token, recipient));
    }

    [Fact]
    public async Task FeesAboveTheCap_OrNoGas_SignNothing()
    {
        var (outbox, capped) = await SetUpAsync(configure: o => (o.MaxFeePerGasGwei, o.TipFloorGwei) = (0.000001m, 0));
        var recipient = (await RecipientsAsync(1))[0];
        await EnqueueAsync(outbox, "pay-0", recipient, 100);
        Assert.Equal(0, await outbox.DispatchDueAsync());
        Assert.Equal(EvmPayoutHold.FeeCapReached, capped.LastHold);
        var health = await new EvmPayoutHealthCheck(capped, _clock).CheckHealthAsync(new Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckContext());
        Assert.Equal(Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Degraded, health.Status);
        Assert.Contains("FeeCapReached", health.Description, StringComparison.Ordinal);

        await _chain.Node.SetBalanceAsync(_hot.Address, BigInteger.Zero);
        var (broke, brokeSender) = await SetUpAsync(deployToken: false);
        _clock.Advance(TimeSpan.FromHours(2));
        Assert.Equal(0, await broke.DispatchDueAsync());
        Assert.Equal(EvmPayoutHold.InsufficientGasFunds, brokeSender.LastHold);
        Assert.Equal(Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Degraded,
            (await new EvmPayoutHealthCheck(brokeSender, _clock).CheckHealthAsync(new Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckContext())).Status);
        Assert.Null(await _store.RunReadAsync(0, static (u, _, ct) => u.Chain.GetLatestNonceOfTransferAsync(31337, TransferId.Parse("pay-0"), ct)));
        Assert.Equal(0, await NonceAsync());
    }

    [Fact]
    public async Task Limits_ATransferAboveTheLimitIsHeld_OnesPassingTheDailyLimitWaitForTheNextDay()
    {
        var (outbox, sender) = await SetUpAsync(configure: o => (o.MaxTransferAmount, o.MaxDailyAmount) = ("1000", "1500"));
        var recipients = await RecipientsAsync(4);
        foreach (var (i, amount) in new[] { (0, 1200), (1, 800), (2, 600), (3, 200) })
        {
            await EnqueueAsync(outbox, "pay-" + i, recipients[i], amount);
        }

        Assert.Equal(2, await outbox.DispatchDueAsync()); // 800 + 600; 1,200 is above the transfer limit, 200 more would pass 1,500 a day
        Assert.Equal([OutgoingTransferState.Pending, OutgoingTransferState.Dispatched, OutgoingTransferState.Dispatched, OutgoingTransferState.Pending], await StatesAsync(4));
        Assert.Equal(EvmPayoutHold.DailyLimitReached, sender.LastHold);
        Assert.Equal(Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Degraded,
            (await new EvmPayoutHealthCheck(sender, _clock).CheckHealthAsync(new Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckContext())).Status);

        _clock.Advance(TimeSpan.FromHours(25)); // the day's payouts are out of the window; the large one is still held
        await outbox.DispatchDueAsync(); // the 200 is paid now (and the first two, sent again, may be confirmed meanwhile)
        var states = await StatesAsync(4);
        Assert.True(states[0] == OutgoingTransferState.Pending && states.Skip(1).All(t => t is OutgoingTransferState.Dispatched or OutgoingTransferState.Confirmed), string.Join(", ", states));
        Assert.Equal(EvmPayoutHold.AboveTransferLimit, Assert.Single(sender.HeldTransfers, h => h.Key == TransferId.Parse("pay-0")).Value);
        Assert.Single(sender.HeldTransfers);

        // Each hold is logged once, naming the transfer and why — not again every round it stays held.
        Assert.Single(_log.Warnings, w => w.Contains("pay-0", StringComparison.Ordinal) && w.Contains("AboveTransferLimit", StringComparison.Ordinal));
        Assert.Single(_log.Warnings, w => w.Contains("pay-3", StringComparison.Ordinal) && w.Contains("DailyLimitReached", StringComparison.Ordinal));
        var health = await new EvmPayoutHealthCheck(sender, _clock).CheckHealthAsync(new Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckContext());
        Assert.Contains("1 for AboveTransferLimit", health.Description, StringComparison.Ordinal);
        await MinedAsync(_hot.Address, 3);
        Assert.Equal(200, await _chain.BalanceAsync(_token, recipients[3]));
        Assert.Equal(0, await _chain.BalanceAsync(_token, recipients[0]));

        var invalid = new EvmPayoutOptionsValidator().Validate(null, new EvmPayoutOptions { ChainId = 1, Token = _token.Address, MaxDailyAmount = "lots" });
        Assert.Contains("EvmPayoutOptions.MaxDailyAmount", Assert.Single(invalid.Failures!), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ExternalSigner_SignsOverEthSignTransaction()
    {
        var accounts = await _chain.Node.RpcAsync("eth_accounts");
        var external = Address.Parse(accounts[0].GetString()!);
        var (outbox, _) = await SetUpAsync(signer: new JsonRpcTransactionSigner(_chain.Node.Url, external));
        var recipient = (await RecipientsAsync(1))[0];
        await EnqueueAsync(outbox, "pay-0", recipient, 250);
        Assert.Equal(1, await outbox.DispatchDueAsync());
        await MinedAsync(external.ToString(), 1);
        Assert.Equal(250, await _chain.BalanceAsync(_token, recipient));
    }

    [Fact]
    public void KeySigner_NeverRepeatsTheKey()
    {
        var key = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
        var signer = EvmKeySigner.FromHex("0x" + key);
        Assert.DoesNotContain(key, signer.ToString(), StringComparison.OrdinalIgnoreCase);
        var bad = Assert.Throws<FormatException>(() => EvmKeySigner.FromHex(key[..62] + "zz"));
        Assert.DoesNotContain(key[..40], bad.Message, StringComparison.OrdinalIgnoreCase);
        var file = Path.GetTempFileName();
        try
        {
            File.WriteAllText(file, key[..60]);
            var fromFile = Assert.Throws<FormatException>(() => EvmKeySigner.FromKeyFile(file));
            Assert.DoesNotContain(key[..40], fromFile.Message, StringComparison.OrdinalIgnoreCase);
            File.WriteAllText(file, key + "\n");
            Assert.Equal(signer.Address, EvmKeySigner.FromKeyFile(file).Address);

            // An encrypted keystore (v3 JSON, scrypt) opens with its password only; no message repeats the key or the password.
            File.WriteAllText(file, new Nethereum.KeyStore.KeyStoreScryptService().EncryptAndGenerateKeyStoreAsJson(
                "correct horse", Convert.FromHexString(key), signer.Address.ToString(), new Nethereum.KeyStore.Model.ScryptParams { N = 1024, R = 8, P = 1, Dklen = 32 }));
            Assert.Equal(signer.Address, EvmKeySigner.FromKeyFile(file, "correct horse").Address);
            var wrong = Assert.Throws<FormatException>(() => EvmKeySigner.FromKeyFile(file, "battery staple"));
            Assert.DoesNotContain("battery", wrong.Message, StringComparison.Ordinal);
            Assert.Contains("password is required", Assert.Throws<FormatException>(() => EvmKeySigner.FromKeyFile(file)).Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }
    }

    private async Task<(Outbox Outbox, EvmPayoutSender Sender)> SetUpAsync(
        bool deployToken = true, string tokenName = "TestToken", IEvmTransactionSigner? signer = null, Action<EvmPayoutOptions>? configure = null, Func<IEvmChainClient, IEvmChainClient>? wrap = null,
        IAnpmStore? store = null)
    {
        store ??= _store;
        var ledger = ReferenceEquals(store, _store) ? _ledger : new Ledger(store, Options.Create(new LedgerOptions()), _clock);
        signer ??= EvmKeySigner.FromHex(_hot.PrivateKeyHex);
        if (deployToken)
        {
            _token = await _chain.DeployAsync(tokenName);
        }

        if (deployToken || signer is JsonRpcTransactionSigner)
        {
            await TestChain.SendAsync(_chain.Owner, _token, "mint", signer.Address.ToString(), new BigInteger(1_000_000_000));
        }

        var options = new EvmPayoutOptions { ChainId = 31337, Token = _token.Address, Finality = EvmFinality.Depth(2) };
        configure?.Invoke(options);
        Outbox? outbox = null;
        IEvmChainClient client = new NethereumChainClient(_chain.Node.Url);
        var sender = new EvmPayoutSender(wrap is null ? client : wrap(client), signer, store, () => outbox!, Options.Create(options), _clock, logger: _log);
        outbox = new Outbox(store, ledger, sender, Options.Create(new OutboxOptions()), _clock);
        return (outbox, sender);
    }

    private async Task<List<string>> RecipientsAsync(int count)
    {
        var recipients = new List<string>();
        for (var i = 0; i < count; i++)
        {
            recipients.Add((await _chain.WalletAsync()).Address);
        }

        return recipients;
    }

    private async Task EnqueueAsync(Outbox outbox, string id, string to, long amount)
    {
        await using var unitOfWork = await _store.BeginAsync();
        var outcome = await outbox.EnqueueAsync(unitOfWork, TransferId.Parse(id), Pool, Address.Parse(to), WellKnownAssets.Apus, new TokenAmount((ulong)amount), Payout, "test " + id);
        Assert.Equal(EnqueueResult.Enqueued, outcome.Result);
        await unitOfWork.CommitAsync();
    }

    private Task<List<OutgoingTransferState>> StatesAsync(int count) =>
        _store.RunReadAsync(count, static async (u, count, ct) =>
        {
            var states = new List<OutgoingTransferState>();
            for (var i = 0; i < count; i++)
            {
                states.Add((await u.Outbox.GetOutgoingAsync(TransferId.Parse("pay-" + i), ct))!.State);
            }

            return states;
        }).AsTask();

    private Task<List<string>> HashesAsync(int count) =>
        _store.RunReadAsync((Count: count, Wallet: Address.Parse(_hot.Address)), static async (u, q, ct) =>
        {
            var hashes = new List<string>();
            for (var nonce = 0; nonce < q.Count; nonce++)
            {
                hashes.Add((await u.Chain.GetTransactionsAsync(31337, q.Wallet, nonce, ct))[0].Hash);
            }

            return hashes;
        }).AsTask();

    private async Task<long> NonceAsync() => await NonceOfAsync(_hot.Address);

    private async Task<long> NonceOfAsync(string address) =>
        (long)AnvilNode.ParseQuantity((await _chain.Node.RpcAsync("eth_getTransactionCount", address, "latest")).GetString()!);

    // anvil mines a sent transaction right after answering: wait (up to 10 s) until the wallet's count reaches the expected one.
    private async Task MinedAsync(string address, long count)
    {
        for (var i = 0; i < 200 && await NonceOfAsync(address) < count; i++)
        {
            await Task.Delay(50);
        }

        Assert.Equal(count, await NonceOfAsync(address));
    }

    private readonly WarningLog _log = new();

    private sealed class WarningLog : Microsoft.Extensions.Logging.ILogger<EvmPayoutSender>
    {
        private readonly System.Collections.Concurrent.ConcurrentQueue<string> _warnings = new();

        public IReadOnlyCollection<string> Warnings => _warnings;

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(Microsoft.Extensions.Logging.LogLevel logLevel) => logLevel >= Microsoft.Extensions.Logging.LogLevel.Warning;

        public void Log<TState>(Microsoft.Extensions.Logging.LogLevel logLevel, Microsoft.Extensions.Logging.EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (logLevel == Microsoft.Extensions.Logging.LogLevel.Warning)
            {
                _warnings.Enqueue(formatter(state, exception));
            }
        }
    }
}
