using Anpm.Abstractions;
using Anpm.Testing;
using static Anpm.Credits.Tests.LedgerFixture;

namespace Anpm.Credits.Tests;

/// <summary>
/// A batch reads a pending transfer unlocked to learn which accounts to lock, then reads it again under the locks. On a
/// store whose units of work run side by side the transfer can be committed in between: that is a retryable concurrency
/// outcome, never "the store is inconsistent".
/// </summary>
public sealed class TransferBatchRaceTests
{
    // Answers the first read of one transfer as if it were not committed yet; everything else goes to the real store.
    private sealed class CommittedLateLedgerStore(ILedgerStore inner, TransferId late) : ILedgerStore
    {
        private bool _hidden;

        public async ValueTask<Transfer?> GetTransferAsync(TransferId id, CancellationToken cancellationToken = default)
        {
            if (id == late && !_hidden)
            {
                _hidden = true;
                return null;
            }

            return await inner.GetTransferAsync(id, cancellationToken);
        }

        public ValueTask<LedgerAccount?> GetAccountAsync(AccountId id, CancellationToken cancellationToken = default) => inner.GetAccountAsync(id, cancellationToken);

        public ValueTask<LockedAccount[]> GetAccountsForUpdateAsync(IReadOnlyList<AccountId> ids, CancellationToken cancellationToken = default) => inner.GetAccountsForUpdateAsync(ids, cancellationToken);

        public ValueTask<bool> TryInsertAccountAsync(LedgerAccount account, CancellationToken cancellationToken = default) => inner.TryInsertAccountAsync(account, cancellationToken);

        public ValueTask UpdateAccountTotalsAsync(AccountId id, long expectedVersion, AccountTotals totals, CancellationToken cancellationToken = default) =>
            inner.UpdateAccountTotalsAsync(id, expectedVersion, totals, cancellationToken);

        public ValueTask<bool> TryInsertTransferAsync(Transfer transfer, CancellationToken cancellationToken = default) => inner.TryInsertTransferAsync(transfer, cancellationToken);

        public ValueTask UpdatePendingStateAsync(TransferId id, PendingTransferState state, CancellationToken cancellationToken = default) => inner.UpdatePendingStateAsync(id, state, cancellationToken);

        public ValueTask<IReadOnlyList<Transfer>> GetExpiredPendingTransfersAsync(DateTimeOffset now, int limit, CancellationToken cancellationToken = default) =>
            inner.GetExpiredPendingTransfersAsync(now, limit, cancellationToken);

        public ValueTask<IReadOnlyList<LedgerEntry>> GetAccountHistoryAsync(AccountId id, long? beforeSequence, int limit, CancellationToken cancellationToken = default) =>
            inner.GetAccountHistoryAsync(id, beforeSequence, limit, cancellationToken);

        public ValueTask<IReadOnlyList<AssetTotals>> GetAssetTotalsAsync(CancellationToken cancellationToken = default) => inner.GetAssetTotalsAsync(cancellationToken);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task PendingCommittedBetweenTheUnlockedReadAndTheLocks_RetryableConcurrency_NothingWritten(bool voidIt)
    {
        var f = new LedgerFixture();
        Assert.All(await f.Ledger.CreateAccountsAsync([.. SystemAccounts.For(Apus), new NewAccount(Id("alice"), Apus, AccountFlags.DebitsMustNotExceedCredits), new NewAccount(Id("shop"), Apus, AccountFlags.None)]),
            r => Assert.Equal(CreateAccountResult.Created, r));
        Assert.Equal(CreateTransferResult.Created, await f.Ledger.CreateTransferAsync(Move("mint", SystemAccounts.Issuance(Apus).Value!, "alice", 100)));
        Assert.Equal(CreateTransferResult.Created, await f.Ledger.CreateTransferAsync(Move("hold", "alice", "shop", 40, flags: TransferFlags.Pending)));

        var settle = voidIt ? TransferRequest.VoidPending(Tid("settle"), Tid("hold"), Kind) : TransferRequest.PostPending(Tid("settle"), Tid("hold"), Kind);
        await using (var unitOfWork = await f.Store.BeginAsync())
        {
            var batch = new TransferBatch(new LedgerRules(new LedgerOptions()), new CommittedLateLedgerStore(unitOfWork.Ledger, Tid("hold")), [settle], f.Clock.GetUtcNow());
            var error = await Assert.ThrowsAsync<AnpmConcurrencyException>(async () => await batch.ExecuteAsync(CancellationToken.None));
            Assert.Contains("'hold'", error.Message, StringComparison.Ordinal);
        }

        // Nothing was written, and the retry (what RunAsync does with a concurrency exception) settles it.
        Assert.Equal(new TokenAmount(40), (await f.Ledger.GetAccountAsync(Id("shop")))!.CreditsPending);
        Assert.Equal(CreateTransferResult.Created, await f.Ledger.CreateTransferAsync(settle));
        Assert.Equal(voidIt ? TokenAmount.Zero : new TokenAmount(40), (await f.Ledger.GetAccountAsync(Id("shop")))!.CreditsPosted);
        await LedgerAssert.InvariantHoldsAsync(f.Ledger);
    }
}
