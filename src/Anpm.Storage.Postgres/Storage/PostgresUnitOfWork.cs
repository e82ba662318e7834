using System.Numerics;
using Anpm.Abstractions;
using Npgsql;
using NpgsqlTypes;

namespace Anpm.Storage.Postgres;

/// <summary>
/// One READ COMMITTED transaction on a pooled connection, rolled back unless committed; or a REPEATABLE READ, READ ONLY
/// transaction for a read-only unit of work (one snapshot for all its reads, no row locks).
/// </summary>
internal sealed class PostgresUnitOfWork(NpgsqlConnection connection, NpgsqlTransaction transaction, bool readOnly = false) : RelationalUnitOfWork
{
    private readonly List<(NpgsqlBatchCommand Command, Func<CancellationToken, ValueTask<Exception>> Refused)> _deferred = [];
    private NpgsqlConnection? _connection = connection;
    private bool _committed;
    private PostgresLedgerStore? _ledger;

    public override ILedgerStore Ledger => _ledger ??= new PostgresLedgerStore(this);

    public override async ValueTask<int> WriteAsync(string sql, CancellationToken cancellationToken, params object[] values)
    {
        await using var command = Command(Writable, sql, Parameters(values));
        return await ExecuteAsync(command, cancellationToken).ConfigureAwait(false);
    }

    public override ValueTask UpdateOneAsync(string sql, Func<CancellationToken, ValueTask<Exception>> refused, CancellationToken cancellationToken, params object[] values)
    {
        using var command = Command(Writable, sql, Parameters(values));
        Defer(command, refused);
        return ValueTask.CompletedTask;
    }

    public override async ValueTask<List<T>> ReadAsync<T>(string sql, Func<System.Data.Common.DbDataReader, T> read, CancellationToken cancellationToken, params object[] values)
    {
        await using var command = Command(Connection, sql, Parameters(values));
        return await ReadAsync(command, read, cancellationToken).ConfigureAwait(false);
    }

    // The shared feature stores' plain values as typed parameters; a null goes untyped, and the server takes the type of
    // the column it is compared with or written to.
    private static NpgsqlParameter[] Parameters(object[] values)
    {
        var parameters = new NpgsqlParameter[values.Length];
        for (var i = 0; i < values.Length; i++)
        {
            parameters[i] = values[i] switch
            {
                string text => Text(text),
                int number => Int(number),
                long number => Long(number),
                bool flag => new NpgsqlParameter<bool> { TypedValue = flag },
                BigInteger big => new NpgsqlParameter<BigInteger> { TypedValue = big, NpgsqlDbType = NpgsqlDbType.Numeric },
                DBNull => new NpgsqlParameter { Value = DBNull.Value },
                var other => throw new ArgumentException($"A {other?.GetType().Name ?? "null"} is not a value the shared stores bind.", nameof(values)),
            };
        }

        return parameters;
    }

    internal NpgsqlConnection Connection => _connection ?? throw new ObjectDisposedException(nameof(IAnpmUnitOfWork));

    internal NpgsqlConnection Writable =>
        _committed ? throw new InvalidOperationException("The unit of work was committed; begin a new one.")
        : readOnly ? throw new InvalidOperationException("This unit of work is read-only (BeginReadAsync); begin a writing one to change anything.")
        : Connection;

    public override async ValueTask CommitAsync(CancellationToken cancellationToken = default)
    {
        if (_committed)
        {
            throw new InvalidOperationException("The unit of work was committed; begin a new one.");
        }

        await FlushDeferredAsync(cancellationToken).ConfigureAwait(false);
        await PostgresAnpmStore.Translate(() => transaction.CommitAsync(cancellationToken)).ConfigureAwait(false);
        _committed = true;
    }

    public override async ValueTask DisposeAsync()
    {
        var open = _connection;
        if (open is null)
        {
            return;
        }

        _connection = null;
        _deferred.Clear();
        await transaction.DisposeAsync().ConfigureAwait(false);
        await open.DisposeAsync().ConfigureAwait(false);
    }

    internal static string Required(string? id) => id ?? throw new ArgumentException("The default id cannot be stored.", nameof(id));

    internal static NpgsqlParameter Text(string value) => new NpgsqlParameter<string> { TypedValue = value, NpgsqlDbType = NpgsqlDbType.Text };

    internal static NpgsqlParameter Int(int value) => new NpgsqlParameter<int> { TypedValue = value };

    internal static NpgsqlParameter Long(long value) => new NpgsqlParameter<long> { TypedValue = value };

    internal static NpgsqlParameter Amount(TokenAmount amount) =>
        new NpgsqlParameter<BigInteger> { TypedValue = amount.BaseUnits, NpgsqlDbType = NpgsqlDbType.Numeric };

    private static readonly Func<System.Data.Common.DbDataReader, int, TokenAmount> ReadAmount =
        static (reader, ordinal) => new((UInt128)reader.GetFieldValue<BigInteger>(ordinal));

    internal static LedgerAccount ReadAccount(NpgsqlDataReader reader) => LedgerRows.ReadAccount(reader, ReadAmount);

    internal static LedgerEntry ReadTransfer(NpgsqlDataReader reader) => LedgerRows.ReadTransfer(reader, ReadAmount);

    internal NpgsqlCommand Command(NpgsqlConnection on, string sql, params NpgsqlParameter[] parameters)
    {
        var command = new NpgsqlCommand(sql, on, transaction);
        command.Parameters.AddRange(parameters);
        return command;
    }

    // Runs a statement, with the deferred versioned updates ahead of it in the same round trip.
    internal Task<int> ExecuteAsync(NpgsqlCommand command, CancellationToken cancellationToken) =>
        _deferred.Count == 0
            ? PostgresAnpmStore.Translate(() => command.ExecuteNonQueryAsync(cancellationToken))
            : PostgresAnpmStore.Translate(async () =>
            {
                var (batch, last) = BatchAfterDeferred(command);
                await using (batch.ConfigureAwait(false))
                {
                    await batch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                    await CheckDeferredAsync(batch, cancellationToken).ConfigureAwait(false);
                    return last.RecordsAffected;
                }
            });

    // Reads the rows of a query, with the deferred versioned updates ahead of it in the same round trip.
    internal Task<List<T>> ReadAsync<T>(NpgsqlCommand command, Func<NpgsqlDataReader, T> read, CancellationToken cancellationToken) =>
        PostgresAnpmStore.Translate(async () =>
        {
            var rows = new List<T>();
            var batch = _deferred.Count == 0 ? null : BatchAfterDeferred(command).Batch;
            await using (batch)
            {
                var reader = batch is null
                    ? await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false)
                    : await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                await using (reader.ConfigureAwait(false))
                {
                    // The updates ahead of the query return no rows; the query's rows are the last result.
                    while (reader.FieldCount == 0 && await reader.NextResultAsync(cancellationToken).ConfigureAwait(false))
                    {
                    }

                    while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                    {
                        rows.Add(read(reader));
                    }
                }

                if (batch is not null)
                {
                    await CheckDeferredAsync(batch, cancellationToken).ConfigureAwait(false);
                }
            }

            return rows;
        });

    // A versioned update whose outcome nobody reads at once: it goes to the server with the next statement, or the
    // commit, in one NpgsqlBatch — a transfer's two account updates cost no round trip of their own. An update that finds
    // no row at its version fails that next statement (or the commit) with what `refused` says, before anything commits.
    internal void Defer(NpgsqlCommand command, Func<CancellationToken, ValueTask<Exception>> refused) =>
        _deferred.Add((ToBatchCommand(command), refused));

    // The command's text and parameters as a batch's command (the parameters move: a parameter belongs to one collection).
    private static NpgsqlBatchCommand ToBatchCommand(NpgsqlCommand command)
    {
        var batchCommand = new NpgsqlBatchCommand(command.CommandText);
        var parameters = command.Parameters.ToArray();
        command.Parameters.Clear();
        batchCommand.Parameters.AddRange(parameters);
        return batchCommand;
    }

    // A batch holding the deferred updates, in the order they were made.
    private NpgsqlBatch DeferredBatch()
    {
        var batch = new NpgsqlBatch(Connection, transaction);
        foreach (var (deferred, _) in _deferred)
        {
            batch.BatchCommands.Add(deferred);
        }

        return batch;
    }

    private async Task FlushDeferredAsync(CancellationToken cancellationToken)
    {
        if (_deferred.Count == 0)
        {
            return;
        }

        var batch = DeferredBatch();
        await using (batch.ConfigureAwait(false))
        {
            await PostgresAnpmStore.Translate(() => batch.ExecuteNonQueryAsync(cancellationToken)).ConfigureAwait(false);
            await CheckDeferredAsync(batch, cancellationToken).ConfigureAwait(false);
        }
    }

    private (NpgsqlBatch Batch, NpgsqlBatchCommand Last) BatchAfterDeferred(NpgsqlCommand command)
    {
        var batch = DeferredBatch();
        var last = ToBatchCommand(command);
        batch.BatchCommands.Add(last);
        return (batch, last);
    }

    // After a batch ran: every deferred update must have changed its one row.
    private async Task CheckDeferredAsync(NpgsqlBatch batch, CancellationToken cancellationToken)
    {
        var deferred = _deferred.ToArray();
        _deferred.Clear();
        for (var i = 0; i < deferred.Length; i++)
        {
            if (batch.BatchCommands[i].RecordsAffected != 1)
            {
                throw await deferred[i].Refused(cancellationToken).ConfigureAwait(false);
            }
        }
    }
}
