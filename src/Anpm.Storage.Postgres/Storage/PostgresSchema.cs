using Anpm.Abstractions;
using Npgsql;

namespace Anpm.Storage.Postgres;

/// <summary>
/// The versioned schema. Migrations run in one transaction under an advisory lock, so instances starting together
/// apply each migration once; a database whose version is newer than the newest migration here is refused.
/// </summary>
internal static class PostgresSchema
{
    public static readonly (int Version, string Description, string Sql)[] Migrations =
    [
        (1, "ledger accounts and transfers", """
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
        (2, "pools", """
            CREATE TABLE pools (
                id text COLLATE "C" NOT NULL PRIMARY KEY,
                owner text NOT NULL,
                config text NOT NULL,
                status integer NOT NULL,
                paused_from integer,
                created_at_ticks bigint NOT NULL,
                version bigint NOT NULL);
            """),
        (3, "outbox of outgoing token transfers", """
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
        (4, "contributions", """
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
        (5, "token notices", """
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
        (6, "pool status times, contribution counts by status, system state", """
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
        (7, "exchange rates and job checkpoints", """
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
        (8, "staking: pool state, eligibility schedule, epochs, lots, stakers", """
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
        (9, "inference tasks, leases and oracle allow-lists", """
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
        (10, "processed signed requests", """
            CREATE TABLE requests (
                signer text COLLATE "C" NOT NULL,
                nonce text COLLATE "C" NOT NULL,
                digest text NOT NULL,
                status integer NOT NULL,
                response text NOT NULL,
                processed_at_ticks bigint NOT NULL,
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
                chain_id bigint NOT NULL CHECK (chain_id > 0),
                number bigint NOT NULL CHECK (number >= 0),
                hash text COLLATE "C" NOT NULL CHECK (length(hash) = 66),
                parent_hash text COLLATE "C" NOT NULL CHECK (length(parent_hash) = 66),
                timestamp_ticks bigint NOT NULL,
                PRIMARY KEY (chain_id, number));
            """),
        (14, "failed outgoing transfers by state; hot wallets' nonces and signed transactions", """
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
        (15, "hot wallets' nonces by the time they were reserved (daily payout limits)", """
            CREATE INDEX chain_nonces_by_time ON chain_nonces (chain_id, wallet, reserved_at_ticks);
            """),
        (16, "session keys (delegates with spend caps); the session key that added a task", """
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
        (17, "events (a transactional outbox) and their webhook endpoints and deliveries", """
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
        (18, "low-balance alerts per account and pool", """
            CREATE TABLE balance_alerts (
                account text COLLATE "C" NOT NULL CHECK (length(account) = 42),
                pool_id text COLLATE "C" NOT NULL,
                threshold numeric(39, 0) NOT NULL CHECK (threshold >= 0),
                armed integer NOT NULL,
                changed_at_ticks bigint NOT NULL,
                version bigint NOT NULL,
                PRIMARY KEY (account, pool_id));
            """),
        (19, "credit grants (category, expiry, priority) and what holds took from them", """
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
        (20, "webhook deliveries by event (pruning ended events)", """
            CREATE INDEX webhook_deliveries_by_event ON webhook_deliveries (event_id, state);
            CREATE INDEX events_by_time ON events (created_at_ticks) WHERE fanned_out = 1;
            """),
    ];

    public static int LatestVersion => Migrations[^1].Version;

    /// <summary>Creates the schema if needed and applies the missing migrations; refuses a database newer than this code.</summary>
    /// <exception cref="AnpmException">The schema's version is newer than <see cref="LatestVersion"/>.</exception>
    public static async Task MigrateAsync(NpgsqlDataSource dataSource, string schema, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            await using (transaction.ConfigureAwait(false))
            {
                await ExecuteAsync(connection, $"SELECT pg_advisory_xact_lock({PostgresJobLocks.KeyOf("anpm-migrate:" + schema)})", cancellationToken).ConfigureAwait(false);
                await ExecuteAsync(connection, $"""
                    CREATE SCHEMA IF NOT EXISTS "{schema}";
                    CREATE TABLE IF NOT EXISTS "{schema}".anpm_schema_version (
                        version integer NOT NULL PRIMARY KEY,
                        description text NOT NULL,
                        applied_at_ticks bigint NOT NULL)
                    """, cancellationToken).ConfigureAwait(false);
                await using var read = new NpgsqlCommand($"""SELECT coalesce(max(version), 0) FROM "{schema}".anpm_schema_version""", connection);
                var current = (int)(await read.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
                if (current > LatestVersion)
                {
                    throw new AnpmException(
                        $"The PostgreSQL schema '{schema}' has version {current}, newer than version {LatestVersion} that this Anpm knows. " +
                        "Run a newer Anpm against it; this one refuses to touch it.");
                }

                foreach (var (version, description, sql) in Migrations.Where(m => m.Version > current))
                {
                    await ExecuteAsync(connection, $"SET LOCAL search_path TO \"{schema}\";\n" + sql, cancellationToken).ConfigureAwait(false);
                    await using var record = new NpgsqlCommand(
                        $"""INSERT INTO "{schema}".anpm_schema_version (version, description, applied_at_ticks) VALUES ($1, $2, $3)""", connection);
                    record.Parameters.Add(new NpgsqlParameter<int> { TypedValue = version });
                    record.Parameters.Add(new NpgsqlParameter<string> { TypedValue = description });
                    record.Parameters.Add(new NpgsqlParameter<long> { TypedValue = now.UtcTicks });
                    await record.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                }

                await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }
}
