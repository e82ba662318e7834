using System.Data.Common;
using Anpm.Abstractions;

namespace Anpm.Storage;

/// <summary>
/// The column layout relational ledger stores share, and the mapping from a row in that layout to a ledger record, so
/// every such store reads records the same way. Only how an amount is stored differs, so the caller reads amounts.
/// </summary>
internal static class LedgerRows
{
    /// <summary>The account columns, in the order <see cref="ReadAccount"/> expects.</summary>
    public const string AccountColumns =
        "id, asset, flags, created_at_ticks, version, debits_posted, credits_posted, debits_pending, credits_pending";

    /// <summary>The transfer columns (the sequence first), in the order <see cref="ReadTransfer"/> expects.</summary>
    public const string TransferColumns =
        "seq, id, debit_account_id, credit_account_id, asset, amount, kind, reference, flags, pending_id, timeout_seconds, timestamp_ticks, expires_at_ticks, state";

    /// <summary>The transfer columns without the sequence, for inserts (the store assigns the sequence).</summary>
    public const string TransferColumnsWithoutSequence =
        "id, debit_account_id, credit_account_id, asset, amount, kind, reference, flags, pending_id, timeout_seconds, timestamp_ticks, expires_at_ticks, state";

    /// <summary>The outbox columns, in the order <see cref="ReadOutgoing"/> expects.</summary>
    public const string OutboxColumns = "id, to_address, asset, amount, kind, reference, state, attempts, created_at_ticks, next_attempt_ticks, external_reference, version";

    /// <summary>Reads an outgoing transfer from a row in <see cref="OutboxColumns"/> order; times are UTC ticks.</summary>
    /// <param name="reader">The reader, positioned on the row.</param>
    /// <param name="amount">Reads the amount at a column ordinal, as the store stores amounts.</param>
    /// <exception cref="FormatException">A stored id or address is not valid: the store is corrupt.</exception>
    public static OutgoingTransfer ReadOutgoing(DbDataReader reader, Func<DbDataReader, int, TokenAmount> amount)
    {
        ArgumentNullException.ThrowIfNull(reader);
        ArgumentNullException.ThrowIfNull(amount);
        return new OutgoingTransfer
        {
            Id = TransferId.Parse(reader.GetString(0)),
            To = Address.Parse(reader.GetString(1)),
            Asset = AssetCode.Parse(reader.GetString(2)),
            Amount = amount(reader, 3),
            Kind = TransferKind.Parse(reader.GetString(4)),
            Reference = reader.GetString(5),
            State = (OutgoingTransferState)reader.GetInt32(6),
            Attempts = reader.GetInt32(7),
            CreatedAt = new DateTimeOffset(reader.GetInt64(8), TimeSpan.Zero),
            NextAttemptAt = new DateTimeOffset(reader.GetInt64(9), TimeSpan.Zero),
            ExternalReference = reader.GetString(10),
            Version = reader.GetInt64(11),
        };
    }

    /// <summary>The contribution columns, in the order <see cref="ReadContribution"/> expects.</summary>
    public const string ContributionColumns = "id, pool_id, owner, amount, status, created_at_ticks, pay_before_ticks, paidout, version";

    /// <summary>Reads a contribution from a row in <see cref="ContributionColumns"/> order; times are UTC ticks.</summary>
    /// <param name="reader">The reader, positioned on the row.</param>
    /// <param name="amount">Reads the amount at a column ordinal, as the store stores amounts.</param>
    /// <exception cref="FormatException">A stored id or address is not valid: the store is corrupt.</exception>
    public static ContributionRecord ReadContribution(DbDataReader reader, Func<DbDataReader, int, TokenAmount> amount)
    {
        ArgumentNullException.ThrowIfNull(reader);
        ArgumentNullException.ThrowIfNull(amount);
        return new ContributionRecord
        {
            Id = ContributionId.Parse(reader.GetString(0)),
            PoolId = PoolId.Parse(reader.GetString(1)),
            Owner = Address.Parse(reader.GetString(2)),
            Amount = amount(reader, 3),
            Status = (ContributionStatus)reader.GetInt32(4),
            CreatedAt = new DateTimeOffset(reader.GetInt64(5), TimeSpan.Zero),
            PayBefore = reader.IsDBNull(6) ? null : new DateTimeOffset(reader.GetInt64(6), TimeSpan.Zero),
            Paidout = amount(reader, 7),
            Version = reader.GetInt64(8),
        };
    }

    /// <summary>The notice columns, in the order <see cref="ReadNotice"/> expects.</summary>
    public const string NoticeColumns = "message_id, sender, quantity, action, pool_id, reference, received_at_ticks, outcome";

    /// <summary>Reads a notice from a row in <see cref="NoticeColumns"/> order; times are UTC ticks.</summary>
    /// <param name="reader">The reader, positioned on the row.</param>
    /// <param name="amount">Reads the amount at a column ordinal, as the store stores amounts.</param>
    /// <exception cref="FormatException">A stored address is not valid: the store is corrupt.</exception>
    public static TokenNotice ReadNotice(DbDataReader reader, Func<DbDataReader, int, TokenAmount> amount)
    {
        ArgumentNullException.ThrowIfNull(reader);
        ArgumentNullException.ThrowIfNull(amount);
        return new TokenNotice
        {
            MessageId = reader.GetString(0),
            Sender = Address.Parse(reader.GetString(1)),
            Quantity = amount(reader, 2),
            Action = reader.GetString(3),
            PoolId = reader.GetString(4),
            Reference = reader.GetString(5),
            ReceivedAt = new DateTimeOffset(reader.GetInt64(6), TimeSpan.Zero),
            Outcome = reader.GetString(7),
        };
    }

    /// <summary>The pool columns, in the order <see cref="ReadPool"/> expects.</summary>
    public const string PoolColumns = "id, owner, config, status, created_at_ticks, version, status_changed_at_ticks";

    /// <summary>Reads a pool from a row in <see cref="PoolColumns"/> order; times are UTC ticks.</summary>
    /// <exception cref="FormatException">A stored id or address is not valid: the store is corrupt.</exception>
    public static PoolRecord ReadPool(DbDataReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        return new PoolRecord
        {
            Id = PoolId.Parse(reader.GetString(0)),
            Owner = Address.Parse(reader.GetString(1)),
            ConfigJson = reader.GetString(2),
            Status = (PoolStatus)reader.GetInt32(3),
            CreatedAt = new DateTimeOffset(reader.GetInt64(4), TimeSpan.Zero),
            Version = reader.GetInt64(5),
            StatusChangedAt = new DateTimeOffset(reader.GetInt64(6), TimeSpan.Zero),
        };
    }

    /// <summary>The pool staking columns, in the order <see cref="ReadPoolStaking"/> expects.</summary>
    public const string PoolStakingColumns = "pool_id, staked, eligible, reward_per_token, last_epoch_day, version";

    /// <summary>Reads a pool's staking state from a row in <see cref="PoolStakingColumns"/> order.</summary>
    public static PoolStakingState ReadPoolStaking(DbDataReader reader, Func<DbDataReader, int, TokenAmount> amount, Func<DbDataReader, int, System.Numerics.BigInteger> big)
    {
        ArgumentNullException.ThrowIfNull(reader);
        ArgumentNullException.ThrowIfNull(amount);
        ArgumentNullException.ThrowIfNull(big);
        return new PoolStakingState
        {
            PoolId = PoolId.Parse(reader.GetString(0)),
            Staked = amount(reader, 1),
            Eligible = amount(reader, 2),
            RewardPerToken = big(reader, 3),
            LastEpochDay = reader.GetInt32(4),
            Version = reader.GetInt64(5),
        };
    }

    /// <summary>The stake epoch columns, in the order <see cref="ReadStakeEpoch"/> expects.</summary>
    public const string StakeEpochColumns = "pool_id, day, eligible, budget, paid, shortfall, reward_per_token_after, processed_at_ticks";

    /// <summary>Reads a processed epoch from a row in <see cref="StakeEpochColumns"/> order.</summary>
    public static StakeEpoch ReadStakeEpoch(DbDataReader reader, Func<DbDataReader, int, TokenAmount> amount, Func<DbDataReader, int, System.Numerics.BigInteger> big)
    {
        ArgumentNullException.ThrowIfNull(reader);
        ArgumentNullException.ThrowIfNull(amount);
        ArgumentNullException.ThrowIfNull(big);
        return new StakeEpoch
        {
            PoolId = PoolId.Parse(reader.GetString(0)),
            Day = reader.GetInt32(1),
            Eligible = amount(reader, 2),
            Budget = amount(reader, 3),
            Paid = amount(reader, 4),
            Shortfall = amount(reader, 5),
            RewardPerTokenAfter = big(reader, 6),
            ProcessedAt = new DateTimeOffset(reader.GetInt64(7), TimeSpan.Zero),
        };
    }

    /// <summary>The stake lot columns, in the order <see cref="ReadStakeLot"/> expects.</summary>
    public const string StakeLotColumns = "pool_id, staker, id, amount, staked_at_ticks, eligible_day, version";

    /// <summary>Reads a stake lot from a row in <see cref="StakeLotColumns"/> order.</summary>
    public static StakeLot ReadStakeLot(DbDataReader reader, Func<DbDataReader, int, TokenAmount> amount)
    {
        ArgumentNullException.ThrowIfNull(reader);
        ArgumentNullException.ThrowIfNull(amount);
        return new StakeLot
        {
            PoolId = PoolId.Parse(reader.GetString(0)),
            Staker = Address.Parse(reader.GetString(1)),
            Id = reader.GetString(2),
            Amount = amount(reader, 3),
            StakedAt = new DateTimeOffset(reader.GetInt64(4), TimeSpan.Zero),
            EligibleDay = reader.GetInt32(5),
            Version = reader.GetInt64(6),
        };
    }

    /// <summary>The staker columns, in the order <see cref="ReadStaker"/> expects.</summary>
    public const string StakerColumns = "pool_id, staker, settled_reward, settled_stake_days, claimed, version";

    /// <summary>Reads a staker's bookkeeping from a row in <see cref="StakerColumns"/> order.</summary>
    public static StakerState ReadStaker(DbDataReader reader, Func<DbDataReader, int, TokenAmount> amount, Func<DbDataReader, int, System.Numerics.BigInteger> big)
    {
        ArgumentNullException.ThrowIfNull(reader);
        ArgumentNullException.ThrowIfNull(amount);
        ArgumentNullException.ThrowIfNull(big);
        return new StakerState
        {
            PoolId = PoolId.Parse(reader.GetString(0)),
            Staker = Address.Parse(reader.GetString(1)),
            SettledReward = big(reader, 2),
            SettledStakeDays = big(reader, 3),
            Claimed = amount(reader, 4),
            Version = reader.GetInt64(5),
        };
    }

    /// <summary>The inference task columns, in the order <see cref="ReadTask"/> expects.</summary>
    public const string TaskColumns = "id, pool_id, account, model, model_hash, input, price, status, replication, quorum, max_attempts, open_slots, failed_attempts, created_at_ticks, completed_at_ticks, output, output_hash, failure_reason, version, session_key_id";

    /// <summary>Reads an inference task from a row in <see cref="TaskColumns"/> order.</summary>
    public static InferenceTask ReadTask(DbDataReader reader, Func<DbDataReader, int, TokenAmount> amount)
    {
        ArgumentNullException.ThrowIfNull(reader);
        ArgumentNullException.ThrowIfNull(amount);
        return new InferenceTask
        {
            Id = reader.GetString(0),
            PoolId = PoolId.Parse(reader.GetString(1)),
            Account = Address.Parse(reader.GetString(2)),
            Model = reader.GetString(3),
            ModelHash = reader.GetString(4),
            Input = reader.GetString(5),
            Price = amount(reader, 6),
            Status = (InferenceTaskStatus)reader.GetInt32(7),
            Replication = reader.GetInt32(8),
            Quorum = reader.GetInt32(9),
            MaxAttempts = reader.GetInt32(10),
            OpenSlots = reader.GetInt32(11),
            FailedAttempts = reader.GetInt32(12),
            CreatedAt = new DateTimeOffset(reader.GetInt64(13), TimeSpan.Zero),
            CompletedAt = reader.IsDBNull(14) ? null : new DateTimeOffset(reader.GetInt64(14), TimeSpan.Zero),
            Output = reader.IsDBNull(15) ? null : reader.GetString(15),
            OutputHash = reader.IsDBNull(16) ? null : reader.GetString(16),
            FailureReason = reader.IsDBNull(17) ? null : reader.GetString(17),
            Version = reader.GetInt64(18),
            SessionKeyId = reader.IsDBNull(19) ? null : reader.GetString(19),
        };
    }

    /// <summary>The task lease columns, in the order <see cref="ReadLease"/> expects.</summary>
    public const string LeaseColumns = "id, task_id, pool_id, oracle, state, leased_at_ticks, expires_at_ticks, ended_at_ticks, output_hash, output, signature, reason, dissent, version";

    /// <summary>Reads a task lease from a row in <see cref="LeaseColumns"/> order (dissent as 0/1 or a boolean).</summary>
    public static TaskLease ReadLease(DbDataReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        return new TaskLease
        {
            Id = reader.GetString(0),
            TaskId = reader.GetString(1),
            PoolId = PoolId.Parse(reader.GetString(2)),
            Oracle = Address.Parse(reader.GetString(3)),
            State = (TaskLeaseState)reader.GetInt32(4),
            LeasedAt = new DateTimeOffset(reader.GetInt64(5), TimeSpan.Zero),
            ExpiresAt = new DateTimeOffset(reader.GetInt64(6), TimeSpan.Zero),
            EndedAt = reader.IsDBNull(7) ? null : new DateTimeOffset(reader.GetInt64(7), TimeSpan.Zero),
            OutputHash = reader.IsDBNull(8) ? null : reader.GetString(8),
            Output = reader.IsDBNull(9) ? null : reader.GetString(9),
            Signature = reader.IsDBNull(10) ? null : reader.GetString(10),
            Reason = reader.IsDBNull(11) ? null : reader.GetString(11),
            Dissent = Convert.ToBoolean(reader.GetValue(12), System.Globalization.CultureInfo.InvariantCulture),
            Version = reader.GetInt64(13),
        };
    }

    /// <summary>The exchange rate columns, in the order <see cref="ReadExchangeRate"/> expects.</summary>
    public const string ExchangeRateColumns = "effective_at_ticks, credits, token_units, set_by, set_at_ticks";

    /// <summary>Reads an exchange rate from a row in <see cref="ExchangeRateColumns"/> order; times are UTC ticks.</summary>
    /// <exception cref="FormatException">A stored address is not valid: the store is corrupt.</exception>
    public static ExchangeRate ReadExchangeRate(DbDataReader reader, Func<DbDataReader, int, TokenAmount> amount)
    {
        ArgumentNullException.ThrowIfNull(reader);
        ArgumentNullException.ThrowIfNull(amount);
        return new ExchangeRate
        {
            EffectiveAt = new DateTimeOffset(reader.GetInt64(0), TimeSpan.Zero),
            Credits = amount(reader, 1),
            TokenUnits = amount(reader, 2),
            SetBy = Address.Parse(reader.GetString(3)),
            SetAt = new DateTimeOffset(reader.GetInt64(4), TimeSpan.Zero),
        };
    }

    /// <summary>The system state columns, in the order <see cref="ReadSystemState"/> expects.</summary>
    public const string SystemStateColumns = "paused, changed_at_ticks, changed_by, reason, version";

    /// <summary>Reads the system state from a row in <see cref="SystemStateColumns"/> order (paused as 0/1 or a boolean).</summary>
    /// <exception cref="FormatException">A stored address is not valid: the store is corrupt.</exception>
    public static SystemState ReadSystemState(DbDataReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        return new SystemState
        {
            Paused = Convert.ToBoolean(reader.GetValue(0), System.Globalization.CultureInfo.InvariantCulture),
            ChangedAt = new DateTimeOffset(reader.GetInt64(1), TimeSpan.Zero),
            ChangedBy = reader.IsDBNull(2) ? null : Address.Parse(reader.GetString(2)),
            Reason = reader.GetString(3),
            Version = reader.GetInt64(4),
        };
    }

    /// <summary>Reads an account from a row in <see cref="AccountColumns"/> order; times are UTC ticks.</summary>
    /// <param name="reader">The reader, positioned on the row.</param>
    /// <param name="amount">Reads the amount at a column ordinal, as the store stores amounts.</param>
    /// <exception cref="FormatException">A stored id is not valid: the store is corrupt.</exception>
    public static LedgerAccount ReadAccount(DbDataReader reader, Func<DbDataReader, int, TokenAmount> amount)
    {
        ArgumentNullException.ThrowIfNull(reader);
        ArgumentNullException.ThrowIfNull(amount);
        return new LedgerAccount
        {
            Id = AccountId.Parse(reader.GetString(0)),
            Asset = AssetCode.Parse(reader.GetString(1)),
            Flags = (AccountFlags)reader.GetInt32(2),
            CreatedAt = new DateTimeOffset(reader.GetInt64(3), TimeSpan.Zero),
            Version = reader.GetInt64(4),
            DebitsPosted = amount(reader, 5),
            CreditsPosted = amount(reader, 6),
            DebitsPending = amount(reader, 7),
            CreditsPending = amount(reader, 8),
        };
    }

    /// <summary>Reads a transfer and its sequence from a row in <see cref="TransferColumns"/> order; times are UTC ticks.</summary>
    /// <param name="reader">The reader, positioned on the row.</param>
    /// <param name="amount">Reads the amount at a column ordinal, as the store stores amounts.</param>
    /// <exception cref="FormatException">A stored id is not valid: the store is corrupt.</exception>
    public static LedgerEntry ReadTransfer(DbDataReader reader, Func<DbDataReader, int, TokenAmount> amount)
    {
        ArgumentNullException.ThrowIfNull(reader);
        ArgumentNullException.ThrowIfNull(amount);
        return new LedgerEntry(reader.GetInt64(0), new Transfer
        {
            Id = TransferId.Parse(reader.GetString(1)),
            DebitAccountId = AccountId.Parse(reader.GetString(2)),
            CreditAccountId = AccountId.Parse(reader.GetString(3)),
            Asset = AssetCode.Parse(reader.GetString(4)),
            Amount = amount(reader, 5),
            Kind = TransferKind.Parse(reader.GetString(6)),
            Reference = reader.GetString(7),
            Flags = (TransferFlags)reader.GetInt32(8),
            PendingId = reader.IsDBNull(9) ? default : TransferId.Parse(reader.GetString(9)),
            TimeoutSeconds = (uint)reader.GetInt64(10),
            Timestamp = new DateTimeOffset(reader.GetInt64(11), TimeSpan.Zero),
            ExpiresAt = reader.IsDBNull(12) ? null : new DateTimeOffset(reader.GetInt64(12), TimeSpan.Zero),
            State = (PendingTransferState)reader.GetInt32(13),
        });
    }
}
