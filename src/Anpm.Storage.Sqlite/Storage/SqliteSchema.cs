using Anpm.Abstractions;
using Microsoft.Data.Sqlite;

namespace Anpm.Storage.Sqlite;

/// <summary>
/// The versioned schema. Each migration runs once, in order, inside the transaction that records it in
/// <c>anpm_schema_version</c>; a database whose version is newer than the newest migration here is refused.
/// </summary>
internal static class SqliteSchema
{
    // Amounts are TEXT of exactly 39 digits (zero-padded): exact for every UInt128, and ordered like the numbers.
    public static readonly (int Version, string Description, string Sql)[] Migrations =
    [
        (1, "ledger accounts and transfers", """
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
            """),
        (2, "pools", """
            CREATE TABLE pools (
                id TEXT NOT NULL PRIMARY KEY,
                owner TEXT NOT NULL,
                config TEXT NOT NULL,
                status INTEGER NOT NULL,
                paused_from INTEGER,
                created_at_ticks INTEGER NOT NULL,
                version INTEGER NOT NULL);
            """),
        (3, "outbox of outgoing token transfers", """
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
            """),
        (4, "contributions", """
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
            """),
        (5, "token notices", """
            CREATE TABLE notices (
                message_id TEXT NOT NULL PRIMARY KEY,
                sender TEXT NOT NULL,
                quantity TEXT NOT NULL CHECK (length(quantity) = 39),
                action TEXT NOT NULL,
                pool_id TEXT NOT NULL,
                reference TEXT NOT NULL,
                received_at_ticks INTEGER NOT NULL,
                outcome TEXT NOT NULL);
            """),
        (6, "pool status times, contribution counts by status, system state", """
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
            """),
        (7, "exchange rates and job checkpoints", """
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
            """),
        (8, "staking: pool state, eligibility schedule, epochs, lots, stakers", """
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
            """),
        (9, "inference tasks, leases and oracle allow-lists", """
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
            """),
        (10, "processed signed requests", """
            CREATE TABLE requests (
                signer TEXT NOT NULL,
                nonce TEXT NOT NULL,
                digest TEXT NOT NULL,
                status INTEGER NOT NULL,
                response TEXT NOT NULL,
                processed_at_ticks INTEGER NOT NULL,
                PRIMARY KEY (signer, nonce));
            """),
        (11, "contributions by owner", """
            CREATE INDEX contributions_by_owner ON contributions (owner, id);
            """),
        (12, "pools forget the unused paused-from status (only Active pools pause)", """
            ALTER TABLE pools DROP COLUMN paused_from;
            """),
        (13, "outside chains' processed blocks", """
            CREATE TABLE chain_blocks (
                chain_id INTEGER NOT NULL CHECK (chain_id > 0),
                number INTEGER NOT NULL CHECK (number >= 0),
                hash TEXT NOT NULL CHECK (length(hash) = 66),
                parent_hash TEXT NOT NULL CHECK (length(parent_hash) = 66),
                timestamp_ticks INTEGER NOT NULL,
                PRIMARY KEY (chain_id, number)) WITHOUT ROWID;
            """),
        (14, "failed outgoing transfers by state; hot wallets' nonces and signed transactions", """
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
            """),
        (15, "hot wallets' nonces by the time they were reserved (daily payout limits)", """
            CREATE INDEX chain_nonces_by_time ON chain_nonces (chain_id, wallet, reserved_at_ticks);
            """),
        (16, "session keys (delegates with spend caps); the session key that added a task", """
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
            """),
        (17, "events (a transactional outbox) and their webhook endpoints and deliveries", """
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
            """),
        (18, "low-balance alerts per account and pool", """
            CREATE TABLE balance_alerts (
                account TEXT NOT NULL CHECK (length(account) = 42),
                pool_id TEXT NOT NULL,
                threshold TEXT NOT NULL CHECK (length(threshold) = 39),
                armed INTEGER NOT NULL,
                changed_at_ticks INTEGER NOT NULL,
                version INTEGER NOT NULL,
                PRIMARY KEY (account, pool_id)) WITHOUT ROWID;
            """),
        (19, "credit grants (category, expiry, priority) and what holds took from them", """
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
            """),
        (20, "webhook deliveries by event (pruning ended events)", """
            CREATE INDEX webhook_deliveries_by_event ON webhook_deliveries (event_id, state);
            CREATE INDEX events_by_time ON events (created_at_ticks) WHERE fanned_out = 1;
            """),
    ];

    public static int LatestVersion => Migrations[^1].Version;

    /// <summary>Applies the missing migrations; refuses a database newer than this code.</summary>
    /// <exception cref="AnpmException">The database's schema is newer than <see cref="LatestVersion"/>.</exception>
    public static void Migrate(SqliteConnection connection, DateTimeOffset now)
    {
        Execute(connection, "BEGIN IMMEDIATE");
        try
        {
            Execute(connection, """
                CREATE TABLE IF NOT EXISTS anpm_schema_version (
                    version INTEGER NOT NULL PRIMARY KEY,
                    description TEXT NOT NULL,
                    applied_at_ticks INTEGER NOT NULL)
                """);
            using var read = connection.CreateCommand();
            read.CommandText = "SELECT coalesce(max(version), 0) FROM anpm_schema_version";
            var current = Convert.ToInt32(read.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
            if (current > LatestVersion)
            {
                throw new AnpmException(
                    $"The SQLite database has schema version {current}, newer than version {LatestVersion} that this Anpm knows. " +
                    "Run a newer Anpm against it; this one refuses to touch it.");
            }

            foreach (var (version, description, sql) in Migrations.Where(m => m.Version > current))
            {
                Execute(connection, sql);
                using var record = connection.CreateCommand();
                record.CommandText = "INSERT INTO anpm_schema_version (version, description, applied_at_ticks) VALUES ($v, $d, $t)";
                record.Parameters.AddWithValue("$v", version);
                record.Parameters.AddWithValue("$d", description);
                record.Parameters.AddWithValue("$t", now.UtcTicks);
                record.ExecuteNonQuery();
            }

            Execute(connection, "COMMIT");
        }
        catch
        {
            Execute(connection, "ROLLBACK");
            throw;
        }
    }

    public static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
