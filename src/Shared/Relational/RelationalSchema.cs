using Anpm.Abstractions;

namespace Anpm.Storage;

/// <summary>
/// The relational schema of every dialect in one place: each feature's store class (which reads and writes its tables)
/// and the versioned migrations that create them, SQLite's and PostgreSQL's statements side by side. Adding a feature
/// store is a line in <see cref="Stores"/> and a migration at the end of <see cref="Migrations"/>, beside its class in
/// this folder.
/// </summary>
internal static class RelationalSchema
{
    /// <summary>
    /// The feature stores a relational unit of work hands out (<see cref="IAnpmUnitOfWork.GetStore{TStore}"/>), each created
    /// on first use over the unit of work's session. The ledger is not here: each dialect writes its own.
    /// </summary>
    public static readonly RelationalStore[] Stores =
    [
        RelationalStore.Of<IPoolStore>(session => new RelationalPoolStore(session)),
        RelationalStore.Of<IOutboxStore>(session => new RelationalOutboxStore(session)),
        RelationalStore.Of<IContributionStore>(session => new RelationalContributionStore(session)),
        RelationalStore.Of<INoticeStore>(session => new RelationalNoticeStore(session)),
        RelationalStore.Of<ISystemStateStore>(session => new RelationalSystemStateStore(session)),
        RelationalStore.Of<IExchangeRateStore>(session => new RelationalExchangeRateStore(session)),
        RelationalStore.Of<ICheckpointStore>(session => new RelationalCheckpointStore(session)),
        RelationalStore.Of<IStakingStore>(session => new RelationalStakingStore(session)),
        RelationalStore.Of<IInferenceStore>(session => new RelationalInferenceStore(session)),
        RelationalStore.Of<IRequestStore>(session => new RelationalRequestStore(session)),
        RelationalStore.Of<IChainStore>(session => new RelationalChainStore(session)),
        RelationalStore.Of<ISessionKeyStore>(session => new RelationalSessionKeyStore(session)),
        RelationalStore.Of<IEventStore>(session => new RelationalEventStore(session)),
        RelationalStore.Of<IBalanceAlertStore>(session => new RelationalBalanceAlertStore(session)),
        RelationalStore.Of<ICreditGrantStore>(session => new RelationalCreditGrantStore(session)),
    ];

    /// <summary>
    /// Every migration, in version order. Each runs once, inside the transaction that records it in
    /// <c>anpm_schema_version</c>; a shipped migration never changes (a change is a new one at the end).
    /// SQLite keeps amounts as TEXT of exactly 39 digits (zero-padded: exact for every UInt128, and ordered like the
    /// numbers); PostgreSQL as <c>numeric(39, 0)</c>.
    /// </summary>
    public static readonly RelationalMigration[] Migrations =
    [
        new(1, "ledger accounts and transfers",
            Sqlite: """
            CREATE TABLE ledger_accounts (
                id TEXT NOT NULL PRIMARY KEY,
                asset TEXT NOT NULL,
                flags INTEGER NOT NULL,
                created_at_ticks INTEGER NOT NULL,
                version INTEGER NOT NULL,
                debits_posted TEXT NOT NULL CHECK (length(debits_posted) = 39),
                credits_posted TEXT NOT NULL CHECK (length(credits_posted) = 39),
                debits_pending TEXT NOT NULL CHECK (length(debits_pending) = 39),
                credits_pending TEXT NOT NULL CHECK (length(credits_pending) = 39));
            CREATE TABLE ledger_transfers (
                seq INTEGER PRIMARY KEY AUTOINCREMENT,
                id TEXT NOT NULL UNIQUE,
                debit_account_id TEXT NOT NULL REFERENCES ledger_accounts (id),
                credit_account_id TEXT NOT NULL REFERENCES ledger_accounts (id),
                asset TEXT NOT NULL,
                amount TEXT NOT NULL CHECK (length(amount) = 39),
                kind TEXT NOT NULL,
                reference TEXT NOT NULL,
                flags INTEGER NOT NULL,
                pending_id TEXT,
                timeout_seconds INTEGER NOT NULL,
                timestamp_ticks INTEGER NOT NULL,
                expires_at_ticks INTEGER,
                state INTEGER NOT NULL);
            CREATE INDEX ledger_transfers_by_debit ON ledger_transfers (debit_account_id, seq);
            CREATE INDEX ledger_transfers_by_credit ON ledger_transfers (credit_account_id, seq);
            CREATE INDEX ledger_transfers_pending_expiry ON ledger_transfers (expires_at_ticks, id)
                WHERE state = 1 AND expires_at_ticks IS NOT NULL;
            """,
            Postgres: """
            CREATE TABLE ledger_accounts (
                id text COLLATE "C" NOT NULL PRIMARY KEY,
                asset text COLLATE "C" NOT NULL,
                flags integer NOT NULL,
                created_at_ticks bigint NOT NULL,
                version bigint NOT NULL,
                debits_posted numeric(39, 0) NOT NULL CHECK (debits_posted >= 0),
                credits_posted numeric(39, 0) NOT NULL CHECK (credits_posted >= 0),
                debits_pending numeric(39, 0) NOT NULL CHECK (debits_pending >= 0),
                credits_pending numeric(39, 0) NOT NULL CHECK (credits_pending >= 0));
            CREATE TABLE ledger_transfers (
                seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                id text COLLATE "C" NOT NULL UNIQUE,
                debit_account_id text COLLATE "C" NOT NULL REFERENCES ledger_accounts (id),
                credit_account_id text COLLATE "C" NOT NULL REFERENCES ledger_accounts (id),
                asset text COLLATE "C" NOT NULL,
                amount numeric(39, 0) NOT NULL CHECK (amount > 0),
                kind text NOT NULL,
                reference text NOT NULL,
                flags integer NOT NULL,
                pending_id text COLLATE "C",
                timeout_seconds bigint NOT NULL,
                timestamp_ticks bigint NOT NULL,
                expires_at_ticks bigint,
                state integer NOT NULL);
            CREATE INDEX ledger_transfers_by_debit ON ledger_transfers (debit_account_id, seq);
            CREATE INDEX ledger_transfers_by_credit ON ledger_transfers (credit_account_id, seq);
            CREATE INDEX ledger_transfers_pending_expiry ON ledger_transfers (expires_at_ticks, id)
                WHERE state = 1 AND expires_at_ticks IS NOT NULL;
            """),
        new(2, "pools",
            Sqlite: """
            CREATE TABLE pools (
                id TEXT NOT NULL PRIMARY KEY,
                owner TEXT NOT NULL,
                config TEXT NOT NULL,
                status INTEGER NOT NULL,
                paused_from INTEGER,
                created_at_ticks INTEGER NOT NULL,
                version INTEGER NOT NULL);
            """,
            Postgres: """
            CREATE TABLE pools (
                id text COLLATE "C" NOT NULL PRIMARY KEY,
                owner text NOT NULL,
                config text NOT NULL,
                status integer NOT NULL,
                paused_from integer,
                created_at_ticks bigint NOT NULL,
                version bigint NOT NULL);
            """),
        new(3, "outbox of outgoing token transfers",
            Sqlite: """
            CREATE TABLE outbox (
                id TEXT NOT NULL PRIMARY KEY,
                to_address TEXT NOT NULL,
                asset TEXT NOT NULL,
                amount TEXT NOT NULL CHECK (length(amount) = 39),
                kind TEXT NOT NULL,
                reference TEXT NOT NULL,
                state INTEGER NOT NULL,
                attempts INTEGER NOT NULL,
                created_at_ticks INTEGER NOT NULL,
                next_attempt_ticks INTEGER NOT NULL,
                external_reference TEXT NOT NULL,
                version INTEGER NOT NULL);
            CREATE INDEX outbox_due ON outbox (next_attempt_ticks, id) WHERE state <> 3;
            """,
            Postgres: """
            CREATE TABLE outbox (
                id text COLLATE "C" NOT NULL PRIMARY KEY,
                to_address text NOT NULL,
                asset text NOT NULL,
                amount numeric(39, 0) NOT NULL CHECK (amount > 0),
                kind text NOT NULL,
                reference text NOT NULL,
                state integer NOT NULL,
                attempts integer NOT NULL,
                created_at_ticks bigint NOT NULL,
                next_attempt_ticks bigint NOT NULL,
                external_reference text NOT NULL,
                version bigint NOT NULL);
            CREATE INDEX outbox_due ON outbox (next_attempt_ticks, id) WHERE state <> 3;
            """),
        new(4, "contributions",
            Sqlite: """
            CREATE TABLE contributions (
                id TEXT NOT NULL PRIMARY KEY,
                pool_id TEXT NOT NULL REFERENCES pools (id),
                owner TEXT NOT NULL,
                amount TEXT NOT NULL CHECK (length(amount) = 39),
                status INTEGER NOT NULL,
                created_at_ticks INTEGER NOT NULL,
                pay_before_ticks INTEGER,
                paidout TEXT NOT NULL CHECK (length(paidout) = 39),
                version INTEGER NOT NULL);
            CREATE INDEX contributions_by_pool ON contributions (pool_id, id);
            CREATE INDEX contributions_overdue ON contributions (pay_before_ticks, id) WHERE status = 1;
            """,
            Postgres: """
            CREATE TABLE contributions (
                id text COLLATE "C" NOT NULL PRIMARY KEY,
                pool_id text COLLATE "C" NOT NULL REFERENCES pools (id),
                owner text NOT NULL,
                amount numeric(39, 0) NOT NULL CHECK (amount >= 0),
                status integer NOT NULL,
                created_at_ticks bigint NOT NULL,
                pay_before_ticks bigint,
                paidout numeric(39, 0) NOT NULL CHECK (paidout >= 0),
                version bigint NOT NULL);
            CREATE INDEX contributions_by_pool ON contributions (pool_id, id);
            CREATE INDEX contributions_overdue ON contributions (pay_before_ticks, id) WHERE status = 1;
            """),
        new(5, "token notices",
            Sqlite: """
            CREATE TABLE notices (
                message_id TEXT NOT NULL PRIMARY KEY,
                sender TEXT NOT NULL,
                quantity TEXT NOT NULL CHECK (length(quantity) = 39),
                action TEXT NOT NULL,
                pool_id TEXT NOT NULL,
                reference TEXT NOT NULL,
                received_at_ticks INTEGER NOT NULL,
                outcome TEXT NOT NULL);
            """,
            Postgres: """
            CREATE TABLE notices (
                message_id text COLLATE "C" NOT NULL PRIMARY KEY,
                sender text NOT NULL,
                quantity numeric(39, 0) NOT NULL CHECK (quantity >= 0),
                action text NOT NULL,
                pool_id text NOT NULL,
                reference text NOT NULL,
                received_at_ticks bigint NOT NULL,
                outcome text NOT NULL);
            """),
        new(6, "pool status times, contribution counts by status, system state",
            Sqlite: """
            ALTER TABLE pools ADD COLUMN status_changed_at_ticks INTEGER NOT NULL DEFAULT 0;
            UPDATE pools SET status_changed_at_ticks = created_at_ticks;
            CREATE INDEX contributions_by_pool_status ON contributions (pool_id, status);
            CREATE TABLE system_state (
                id INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
                paused INTEGER NOT NULL CHECK (paused IN (0, 1)),
                changed_at_ticks INTEGER NOT NULL,
                changed_by TEXT,
                reason TEXT NOT NULL,
                version INTEGER NOT NULL);
            """,
            Postgres: """
            ALTER TABLE pools ADD COLUMN status_changed_at_ticks bigint;
            UPDATE pools SET status_changed_at_ticks = created_at_ticks;
            ALTER TABLE pools ALTER COLUMN status_changed_at_ticks SET NOT NULL;
            CREATE INDEX contributions_by_pool_status ON contributions (pool_id, status);
            CREATE TABLE system_state (
                id integer NOT NULL PRIMARY KEY CHECK (id = 1),
                paused boolean NOT NULL,
                changed_at_ticks bigint NOT NULL,
                changed_by text,
                reason text NOT NULL,
                version bigint NOT NULL);
            """),
        new(7, "exchange rates and job checkpoints",
            Sqlite: """
            CREATE TABLE exchange_rates (
                effective_at_ticks INTEGER NOT NULL PRIMARY KEY,
                credits TEXT NOT NULL CHECK (length(credits) = 39),
                token_units TEXT NOT NULL CHECK (length(token_units) = 39),
                set_by TEXT NOT NULL,
                set_at_ticks INTEGER NOT NULL);
            CREATE TABLE checkpoints (
                name TEXT NOT NULL PRIMARY KEY,
                value INTEGER NOT NULL,
                version INTEGER NOT NULL);
            """,
            Postgres: """
            CREATE TABLE exchange_rates (
                effective_at_ticks bigint NOT NULL PRIMARY KEY,
                credits numeric(39, 0) NOT NULL CHECK (credits > 0),
                token_units numeric(39, 0) NOT NULL CHECK (token_units > 0),
                set_by text NOT NULL,
                set_at_ticks bigint NOT NULL);
            CREATE TABLE checkpoints (
                name text COLLATE "C" NOT NULL PRIMARY KEY,
                value bigint NOT NULL,
                version bigint NOT NULL);
            """),
        new(8, "staking: pool state, eligibility schedule, epochs, lots, stakers",
            Sqlite: """
            CREATE TABLE pool_staking (
                pool_id TEXT NOT NULL PRIMARY KEY REFERENCES pools (id),
                staked TEXT NOT NULL CHECK (length(staked) = 39),
                eligible TEXT NOT NULL CHECK (length(eligible) = 39),
                reward_per_token TEXT NOT NULL,
                last_epoch_day INTEGER NOT NULL,
                version INTEGER NOT NULL);
            CREATE TABLE stake_schedule (
                pool_id TEXT NOT NULL,
                day INTEGER NOT NULL,
                amount TEXT NOT NULL CHECK (length(amount) = 39),
                PRIMARY KEY (pool_id, day));
            CREATE TABLE stake_epochs (
                pool_id TEXT NOT NULL,
                day INTEGER NOT NULL,
                eligible TEXT NOT NULL CHECK (length(eligible) = 39),
                budget TEXT NOT NULL CHECK (length(budget) = 39),
                paid TEXT NOT NULL CHECK (length(paid) = 39),
                shortfall TEXT NOT NULL CHECK (length(shortfall) = 39),
                reward_per_token_after TEXT NOT NULL,
                processed_at_ticks INTEGER NOT NULL,
                PRIMARY KEY (pool_id, day));
            CREATE TABLE stake_lots (
                pool_id TEXT NOT NULL,
                staker TEXT NOT NULL,
                id TEXT NOT NULL,
                amount TEXT NOT NULL CHECK (length(amount) = 39),
                staked_at_ticks INTEGER NOT NULL,
                eligible_day INTEGER NOT NULL,
                version INTEGER NOT NULL,
                PRIMARY KEY (pool_id, staker, id));
            CREATE TABLE stakers (
                pool_id TEXT NOT NULL,
                staker TEXT NOT NULL,
                settled_reward TEXT NOT NULL,
                settled_stake_days TEXT NOT NULL,
                claimed TEXT NOT NULL CHECK (length(claimed) = 39),
                version INTEGER NOT NULL,
                PRIMARY KEY (pool_id, staker));
            """,
            Postgres: """
            CREATE TABLE pool_staking (
                pool_id text COLLATE "C" NOT NULL PRIMARY KEY REFERENCES pools (id),
                staked numeric(39, 0) NOT NULL CHECK (staked >= 0),
                eligible numeric(39, 0) NOT NULL CHECK (eligible >= 0),
                reward_per_token numeric NOT NULL CHECK (reward_per_token >= 0),
                last_epoch_day integer NOT NULL,
                version bigint NOT NULL);
            CREATE TABLE stake_schedule (
                pool_id text COLLATE "C" NOT NULL,
                day integer NOT NULL,
                amount numeric(39, 0) NOT NULL CHECK (amount > 0),
                PRIMARY KEY (pool_id, day));
            CREATE TABLE stake_epochs (
                pool_id text COLLATE "C" NOT NULL,
                day integer NOT NULL,
                eligible numeric(39, 0) NOT NULL,
                budget numeric(39, 0) NOT NULL,
                paid numeric(39, 0) NOT NULL,
                shortfall numeric(39, 0) NOT NULL,
                reward_per_token_after numeric NOT NULL,
                processed_at_ticks bigint NOT NULL,
                PRIMARY KEY (pool_id, day));
            CREATE TABLE stake_lots (
                pool_id text COLLATE "C" NOT NULL,
                staker text COLLATE "C" NOT NULL,
                id text COLLATE "C" NOT NULL,
                amount numeric(39, 0) NOT NULL CHECK (amount > 0),
                staked_at_ticks bigint NOT NULL,
                eligible_day integer NOT NULL,
                version bigint NOT NULL,
                PRIMARY KEY (pool_id, staker, id));
            CREATE TABLE stakers (
                pool_id text COLLATE "C" NOT NULL,
                staker text COLLATE "C" NOT NULL,
                settled_reward numeric NOT NULL,
                settled_stake_days numeric NOT NULL,
                claimed numeric(39, 0) NOT NULL,
                version bigint NOT NULL,
                PRIMARY KEY (pool_id, staker));
            """),
        new(9, "inference tasks, leases and oracle allow-lists",
            Sqlite: """
            CREATE TABLE inference_tasks (
                id TEXT NOT NULL PRIMARY KEY,
                pool_id TEXT NOT NULL REFERENCES pools (id),
                account TEXT NOT NULL,
                model TEXT NOT NULL,
                model_hash TEXT NOT NULL,
                input TEXT NOT NULL,
                price TEXT NOT NULL CHECK (length(price) = 39),
                status INTEGER NOT NULL,
                replication INTEGER NOT NULL,
                quorum INTEGER NOT NULL,
                max_attempts INTEGER NOT NULL,
                open_slots INTEGER NOT NULL,
                failed_attempts INTEGER NOT NULL,
                created_at_ticks INTEGER NOT NULL,
                completed_at_ticks INTEGER,
                output TEXT,
                output_hash TEXT,
                failure_reason TEXT,
                version INTEGER NOT NULL);
            CREATE INDEX inference_tasks_queue ON inference_tasks (pool_id, status, created_at_ticks, id);
            CREATE INDEX inference_tasks_by_account ON inference_tasks (pool_id, account, created_at_ticks);
            CREATE INDEX inference_tasks_pending ON inference_tasks (created_at_ticks, id) WHERE status = 1;
            CREATE TABLE task_leases (
                id TEXT NOT NULL PRIMARY KEY,
                task_id TEXT NOT NULL REFERENCES inference_tasks (id),
                pool_id TEXT NOT NULL,
                oracle TEXT NOT NULL,
                state INTEGER NOT NULL,
                leased_at_ticks INTEGER NOT NULL,
                expires_at_ticks INTEGER NOT NULL,
                ended_at_ticks INTEGER,
                output_hash TEXT,
                output TEXT,
                signature TEXT,
                reason TEXT,
                dissent INTEGER NOT NULL,
                version INTEGER NOT NULL);
            CREATE INDEX task_leases_by_task ON task_leases (task_id, oracle);
            CREATE INDEX task_leases_expiry ON task_leases (expires_at_ticks, id) WHERE state = 1;
            CREATE INDEX task_leases_by_pool ON task_leases (pool_id, oracle);
            CREATE TABLE pool_oracles (
                pool_id TEXT NOT NULL,
                oracle TEXT NOT NULL,
                active INTEGER NOT NULL,
                changed_at_ticks INTEGER NOT NULL,
                PRIMARY KEY (pool_id, oracle));
            """,
            Postgres: """
            CREATE TABLE inference_tasks (
                id text COLLATE "C" NOT NULL PRIMARY KEY,
                pool_id text COLLATE "C" NOT NULL REFERENCES pools (id),
                account text NOT NULL,
                model text NOT NULL,
                model_hash text NOT NULL,
                input text NOT NULL,
                price numeric(39, 0) NOT NULL,
                status integer NOT NULL,
                replication integer NOT NULL,
                quorum integer NOT NULL,
                max_attempts integer NOT NULL,
                open_slots integer NOT NULL,
                failed_attempts integer NOT NULL,
                created_at_ticks bigint NOT NULL,
                completed_at_ticks bigint,
                output text,
                output_hash text,
                failure_reason text,
                version bigint NOT NULL);
            CREATE INDEX inference_tasks_queue ON inference_tasks (pool_id, status, created_at_ticks, id);
            CREATE INDEX inference_tasks_by_account ON inference_tasks (pool_id, account, created_at_ticks);
            CREATE INDEX inference_tasks_pending ON inference_tasks (created_at_ticks, id) WHERE status = 1;
            CREATE TABLE task_leases (
                id text COLLATE "C" NOT NULL PRIMARY KEY,
                task_id text COLLATE "C" NOT NULL REFERENCES inference_tasks (id),
                pool_id text COLLATE "C" NOT NULL,
                oracle text COLLATE "C" NOT NULL,
                state integer NOT NULL,
                leased_at_ticks bigint NOT NULL,
                expires_at_ticks bigint NOT NULL,
                ended_at_ticks bigint,
                output_hash text,
                output text,
                signature text,
                reason text,
                dissent boolean NOT NULL,
                version bigint NOT NULL);
            CREATE INDEX task_leases_by_task ON task_leases (task_id, oracle);
            CREATE INDEX task_leases_expiry ON task_leases (expires_at_ticks, id) WHERE state = 1;
            CREATE INDEX task_leases_by_pool ON task_leases (pool_id, oracle);
            CREATE TABLE pool_oracles (
                pool_id text COLLATE "C" NOT NULL,
                oracle text COLLATE "C" NOT NULL,
                active boolean NOT NULL,
                changed_at_ticks bigint NOT NULL,
                PRIMARY KEY (pool_id, oracle));
            """),
        new(10, "processed signed requests",
            Sqlite: """
            CREATE TABLE requests (
                signer TEXT NOT NULL,
                nonce TEXT NOT NULL,
                digest TEXT NOT NULL,
                status INTEGER NOT NULL,
                response TEXT NOT NULL,
                processed_at_ticks INTEGER NOT NULL,
                PRIMARY KEY (signer, nonce));
            """,
            Postgres: """
            CREATE TABLE requests (
                signer text COLLATE "C" NOT NULL,
                nonce text COLLATE "C" NOT NULL,
                digest text NOT NULL,
                status integer NOT NULL,
                response text NOT NULL,
                processed_at_ticks bigint NOT NULL,
                PRIMARY KEY (signer, nonce));
            """),
        new(11, "contributions by owner",
            Sqlite: """
            CREATE INDEX contributions_by_owner ON contributions (owner, id);
            """,
            Postgres: """
            CREATE INDEX contributions_by_owner ON contributions (owner, id);
            """),
        new(12, "pools forget the unused paused-from status (only Active pools pause)",
            Sqlite: """
            ALTER TABLE pools DROP COLUMN paused_from;
            """,
            Postgres: """
            ALTER TABLE pools DROP COLUMN paused_from;
            """),
        new(13, "outside chains' processed blocks",
            Sqlite: """
            CREATE TABLE chain_blocks (
                chain_id INTEGER NOT NULL CHECK (chain_id > 0),
                number INTEGER NOT NULL CHECK (number >= 0),
                hash TEXT NOT NULL CHECK (length(hash) = 66),
                parent_hash TEXT NOT NULL CHECK (length(parent_hash) = 66),
                timestamp_ticks INTEGER NOT NULL,
                PRIMARY KEY (chain_id, number)) WITHOUT ROWID;
            """,
            Postgres: """
            CREATE TABLE chain_blocks (
                chain_id bigint NOT NULL CHECK (chain_id > 0),
                number bigint NOT NULL CHECK (number >= 0),
                hash text COLLATE "C" NOT NULL CHECK (length(hash) = 66),
                parent_hash text COLLATE "C" NOT NULL CHECK (length(parent_hash) = 66),
                timestamp_ticks bigint NOT NULL,
                PRIMARY KEY (chain_id, number));
            """),
        new(14, "failed outgoing transfers by state; hot wallets' nonces and signed transactions",
            Sqlite: """
            CREATE INDEX outbox_by_state ON outbox (state, id);
            CREATE TABLE chain_nonces (
                chain_id INTEGER NOT NULL CHECK (chain_id > 0),
                wallet TEXT NOT NULL CHECK (length(wallet) = 42),
                nonce INTEGER NOT NULL CHECK (nonce >= 0),
                transfer_id TEXT NOT NULL,
                round INTEGER NOT NULL CHECK (round >= 0),
                state INTEGER NOT NULL,
                final_hash TEXT NOT NULL,
                reserved_at_ticks INTEGER NOT NULL,
                version INTEGER NOT NULL,
                PRIMARY KEY (chain_id, wallet, nonce),
                UNIQUE (chain_id, transfer_id, round)) WITHOUT ROWID;
            CREATE INDEX chain_nonces_open ON chain_nonces (chain_id, wallet, nonce) WHERE state = 1;
            CREATE TABLE chain_transactions (
                chain_id INTEGER NOT NULL CHECK (chain_id > 0),
                wallet TEXT NOT NULL,
                nonce INTEGER NOT NULL,
                attempt INTEGER NOT NULL CHECK (attempt >= 0),
                kind INTEGER NOT NULL,
                hash TEXT NOT NULL CHECK (length(hash) = 66),
                raw TEXT NOT NULL,
                max_fee_per_gas TEXT NOT NULL,
                max_priority_fee_per_gas TEXT NOT NULL,
                signed_at_ticks INTEGER NOT NULL,
                PRIMARY KEY (chain_id, wallet, nonce, attempt),
                UNIQUE (chain_id, hash)) WITHOUT ROWID;
            """,
            Postgres: """
            CREATE INDEX outbox_by_state ON outbox (state, id);
            CREATE TABLE chain_nonces (
                chain_id bigint NOT NULL CHECK (chain_id > 0),
                wallet text COLLATE "C" NOT NULL CHECK (length(wallet) = 42),
                nonce bigint NOT NULL CHECK (nonce >= 0),
                transfer_id text COLLATE "C" NOT NULL,
                round integer NOT NULL CHECK (round >= 0),
                state integer NOT NULL,
                final_hash text COLLATE "C" NOT NULL,
                reserved_at_ticks bigint NOT NULL,
                version bigint NOT NULL,
                PRIMARY KEY (chain_id, wallet, nonce),
                UNIQUE (chain_id, transfer_id, round));
            CREATE INDEX chain_nonces_open ON chain_nonces (chain_id, wallet, nonce) WHERE state = 1;
            CREATE TABLE chain_transactions (
                chain_id bigint NOT NULL CHECK (chain_id > 0),
                wallet text COLLATE "C" NOT NULL,
                nonce bigint NOT NULL,
                attempt integer NOT NULL CHECK (attempt >= 0),
                kind integer NOT NULL,
                hash text COLLATE "C" NOT NULL CHECK (length(hash) = 66),
                raw text COLLATE "C" NOT NULL,
                max_fee_per_gas text COLLATE "C" NOT NULL,
                max_priority_fee_per_gas text COLLATE "C" NOT NULL,
                signed_at_ticks bigint NOT NULL,
                PRIMARY KEY (chain_id, wallet, nonce, attempt),
                UNIQUE (chain_id, hash));
            """),
        new(15, "hot wallets' nonces by the time they were reserved (daily payout limits)",
            Sqlite: """
            CREATE INDEX chain_nonces_by_time ON chain_nonces (chain_id, wallet, reserved_at_ticks);
            """,
            Postgres: """
            CREATE INDEX chain_nonces_by_time ON chain_nonces (chain_id, wallet, reserved_at_ticks);
            """),
        new(16, "session keys (delegates with spend caps); the session key that added a task",
            Sqlite: """
            CREATE TABLE session_keys (
                id TEXT NOT NULL PRIMARY KEY,
                account TEXT NOT NULL CHECK (length(account) = 42),
                delegate TEXT NOT NULL CHECK (length(delegate) = 42),
                pool_id TEXT NOT NULL,
                actions INTEGER NOT NULL CHECK (actions > 0),
                spend_cap TEXT NOT NULL CHECK (length(spend_cap) = 39),
                spent TEXT NOT NULL CHECK (length(spent) = 39),
                expires_at_ticks INTEGER NOT NULL,
                created_at_ticks INTEGER NOT NULL,
                revoked_at_ticks INTEGER,
                version INTEGER NOT NULL) WITHOUT ROWID;
            CREATE UNIQUE INDEX session_keys_active ON session_keys (account, delegate) WHERE revoked_at_ticks IS NULL;
            CREATE INDEX session_keys_by_account ON session_keys (account, created_at_ticks);
            ALTER TABLE inference_tasks ADD COLUMN session_key_id TEXT;
            """,
            Postgres: """
            CREATE TABLE session_keys (
                id text COLLATE "C" NOT NULL PRIMARY KEY,
                account text COLLATE "C" NOT NULL CHECK (length(account) = 42),
                delegate text COLLATE "C" NOT NULL CHECK (length(delegate) = 42),
                pool_id text COLLATE "C" NOT NULL,
                actions integer NOT NULL CHECK (actions > 0),
                spend_cap numeric(39, 0) NOT NULL CHECK (spend_cap >= 0),
                spent numeric(39, 0) NOT NULL CHECK (spent >= 0),
                expires_at_ticks bigint NOT NULL,
                created_at_ticks bigint NOT NULL,
                revoked_at_ticks bigint,
                version bigint NOT NULL);
            CREATE UNIQUE INDEX session_keys_active ON session_keys (account, delegate) WHERE revoked_at_ticks IS NULL;
            CREATE INDEX session_keys_by_account ON session_keys (account, created_at_ticks);
            ALTER TABLE inference_tasks ADD COLUMN session_key_id text COLLATE "C";
            """),
        new(17, "events (a transactional outbox) and their webhook endpoints and deliveries",
            Sqlite: """
            CREATE TABLE events (
                sequence INTEGER PRIMARY KEY AUTOINCREMENT,
                id TEXT NOT NULL UNIQUE,
                type TEXT NOT NULL,
                data TEXT NOT NULL,
                created_at_ticks INTEGER NOT NULL,
                fanned_out INTEGER NOT NULL DEFAULT 0);
            CREATE INDEX events_to_fan_out ON events (sequence) WHERE fanned_out = 0;
            CREATE TABLE webhook_endpoints (
                id TEXT NOT NULL PRIMARY KEY,
                url TEXT NOT NULL,
                secret TEXT NOT NULL,
                event_types TEXT NOT NULL,
                created_at_ticks INTEGER NOT NULL,
                disabled_at_ticks INTEGER,
                version INTEGER NOT NULL) WITHOUT ROWID;
            CREATE TABLE webhook_deliveries (
                event_id TEXT NOT NULL,
                endpoint_id TEXT NOT NULL,
                event_sequence INTEGER NOT NULL,
                state INTEGER NOT NULL,
                attempts INTEGER NOT NULL,
                next_attempt_at_ticks INTEGER NOT NULL,
                last_attempt_at_ticks INTEGER,
                last_status INTEGER,
                last_error TEXT,
                version INTEGER NOT NULL,
                PRIMARY KEY (endpoint_id, event_id)) WITHOUT ROWID;
            CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at_ticks, event_sequence) WHERE state = 1;
            CREATE INDEX webhook_deliveries_by_endpoint ON webhook_deliveries (endpoint_id, event_sequence);
            """,
            Postgres: """
            CREATE TABLE events (
                sequence bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                id text COLLATE "C" NOT NULL UNIQUE,
                type text COLLATE "C" NOT NULL,
                data text NOT NULL,
                created_at_ticks bigint NOT NULL,
                fanned_out integer NOT NULL DEFAULT 0);
            CREATE INDEX events_to_fan_out ON events (sequence) WHERE fanned_out = 0;
            CREATE TABLE webhook_endpoints (
                id text COLLATE "C" NOT NULL PRIMARY KEY,
                url text NOT NULL,
                secret text NOT NULL,
                event_types text COLLATE "C" NOT NULL,
                created_at_ticks bigint NOT NULL,
                disabled_at_ticks bigint,
                version bigint NOT NULL);
            CREATE TABLE webhook_deliveries (
                event_id text COLLATE "C" NOT NULL,
                endpoint_id text COLLATE "C" NOT NULL,
                event_sequence bigint NOT NULL,
                state integer NOT NULL,
                attempts integer NOT NULL,
                next_attempt_at_ticks bigint NOT NULL,
                last_attempt_at_ticks bigint,
                last_status integer,
                last_error text,
                version bigint NOT NULL,
                PRIMARY KEY (endpoint_id, event_id));
            CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at_ticks, event_sequence) WHERE state = 1;
            CREATE INDEX webhook_deliveries_by_endpoint ON webhook_deliveries (endpoint_id, event_sequence);
            """),
        new(18, "low-balance alerts per account and pool",
            Sqlite: """
            CREATE TABLE balance_alerts (
                account TEXT NOT NULL CHECK (length(account) = 42),
                pool_id TEXT NOT NULL,
                threshold TEXT NOT NULL CHECK (length(threshold) = 39),
                armed INTEGER NOT NULL,
                changed_at_ticks INTEGER NOT NULL,
                version INTEGER NOT NULL,
                PRIMARY KEY (account, pool_id)) WITHOUT ROWID;
            """,
            Postgres: """
            CREATE TABLE balance_alerts (
                account text COLLATE "C" NOT NULL CHECK (length(account) = 42),
                pool_id text COLLATE "C" NOT NULL,
                threshold numeric(39, 0) NOT NULL CHECK (threshold >= 0),
                armed integer NOT NULL,
                changed_at_ticks bigint NOT NULL,
                version bigint NOT NULL,
                PRIMARY KEY (account, pool_id));
            """),
        new(19, "credit grants (category, expiry, priority) and what holds took from them",
            Sqlite: """
            CREATE TABLE credit_grants (
                id TEXT NOT NULL PRIMARY KEY,
                account TEXT NOT NULL CHECK (length(account) = 42),
                category INTEGER NOT NULL,
                amount TEXT NOT NULL CHECK (length(amount) = 39),
                remaining TEXT NOT NULL CHECK (length(remaining) = 39),
                held TEXT NOT NULL CHECK (length(held) = 39),
                expired TEXT NOT NULL CHECK (length(expired) = 39),
                expires_at_ticks INTEGER,
                priority INTEGER NOT NULL CHECK (priority BETWEEN 0 AND 100),
                created_at_ticks INTEGER NOT NULL,
                version INTEGER NOT NULL) WITHOUT ROWID;
            CREATE INDEX credit_grants_by_account ON credit_grants (account, created_at_ticks);
            CREATE INDEX credit_grants_expiring ON credit_grants (expires_at_ticks) WHERE expires_at_ticks IS NOT NULL;
            CREATE TABLE credit_grant_holds (
                reference TEXT NOT NULL,
                grant_id TEXT NOT NULL,
                amount TEXT NOT NULL CHECK (length(amount) = 39),
                PRIMARY KEY (reference, grant_id)) WITHOUT ROWID;
            """,
            Postgres: """
            CREATE TABLE credit_grants (
                id text COLLATE "C" NOT NULL PRIMARY KEY,
                account text COLLATE "C" NOT NULL CHECK (length(account) = 42),
                category integer NOT NULL,
                amount numeric(39, 0) NOT NULL CHECK (amount >= 0),
                remaining numeric(39, 0) NOT NULL CHECK (remaining >= 0),
                held numeric(39, 0) NOT NULL CHECK (held >= 0),
                expired numeric(39, 0) NOT NULL CHECK (expired >= 0),
                expires_at_ticks bigint,
                priority integer NOT NULL CHECK (priority BETWEEN 0 AND 100),
                created_at_ticks bigint NOT NULL,
                version bigint NOT NULL);
            CREATE INDEX credit_grants_by_account ON credit_grants (account, created_at_ticks);
            CREATE INDEX credit_grants_expiring ON credit_grants (expires_at_ticks) WHERE expires_at_ticks IS NOT NULL;
            CREATE TABLE credit_grant_holds (
                reference text COLLATE "C" NOT NULL,
                grant_id text COLLATE "C" NOT NULL,
                amount numeric(39, 0) NOT NULL CHECK (amount > 0),
                PRIMARY KEY (reference, grant_id));
            """),
        new(20, "webhook deliveries by event (pruning ended events)",
            Sqlite: """
            CREATE INDEX webhook_deliveries_by_event ON webhook_deliveries (event_id, state);
            CREATE INDEX events_by_time ON events (created_at_ticks) WHERE fanned_out = 1;
            """,
            Postgres: """
            CREATE INDEX webhook_deliveries_by_event ON webhook_deliveries (event_id, state);
            CREATE INDEX events_by_time ON events (created_at_ticks) WHERE fanned_out = 1;
            """),
    ];

    /// <summary>The newest migration's version.</summary>
    public static int LatestVersion => Migrations[^1].Version;
}

/// <summary>One versioned schema change, in each dialect's SQL.</summary>
/// <param name="Version">Its version: one more than the migration before it.</param>
/// <param name="Description">What it adds, as recorded in <c>anpm_schema_version</c>.</param>
/// <param name="Sqlite">Its statements for SQLite.</param>
/// <param name="Postgres">Its statements for PostgreSQL (run with the store's schema as the search path).</param>
internal sealed record RelationalMigration(int Version, string Description, string Sqlite, string Postgres);

/// <summary>A feature store interface and how a relational unit of work creates the class that implements it.</summary>
internal sealed class RelationalStore
{
    private RelationalStore(Type contract, Func<IRelationalSession, object> create)
    {
        Contract = contract;
        Create = create;
    }

    /// <summary>The store interface, e.g. <see cref="IPoolStore"/>.</summary>
    public Type Contract { get; }

    /// <summary>Creates the store over a unit of work's session.</summary>
    public Func<IRelationalSession, object> Create { get; }

    /// <summary>The store <typeparamref name="TStore"/>, created by <paramref name="create"/>.</summary>
    public static RelationalStore Of<TStore>(Func<IRelationalSession, TStore> create)
        where TStore : class => new(typeof(TStore), create);

    /// <summary>The index of <typeparamref name="TStore"/> in <see cref="RelationalSchema.Stores"/>, or -1: looked up once per type.</summary>
    public static class IndexOf<TStore>
        where TStore : class
    {
        public static readonly int Value = Array.FindIndex(RelationalSchema.Stores, store => store.Contract == typeof(TStore));
    }
}
