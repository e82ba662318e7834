using Anpm.Abstractions;
using Microsoft.Data.Sqlite;

namespace Anpm.Storage.Sqlite;

/// <summary>
/// One transaction (<c>BEGIN IMMEDIATE</c>) on the store's connection, rolled back unless committed; or, with a reader,
/// a read-only deferred transaction on the reader's own connection.
/// </summary>
internal sealed class SqliteUnitOfWork(SqliteAnpmStore store, SqliteStatements statements, SqliteReader? reader = null, bool grouped = false) : RelationalUnitOfWork
{
    private SqliteStatements? _statements = statements;
    private bool _committed;
    private SqliteLedgerStore? _ledger;

    /// <summary>Whether writes are refused (a read-only unit of work).</summary>
    public bool ReadOnly { get; set; } = reader is not null;

    public override ILedgerStore Ledger => _ledger ??= new SqliteLedgerStore(this);

    public override ValueTask<int> WriteAsync(string sql, CancellationToken cancellationToken, params object[] values) =>
        new(SqliteAnpmStore.Translate(Bind(Writable.Cached(sql, values.Length), values).ExecuteNonQuery));

    public override async ValueTask UpdateOneAsync(string sql, Func<CancellationToken, ValueTask<Exception>> refused, CancellationToken cancellationToken, params object[] values)
    {
        if (await WriteAsync(sql, cancellationToken, values).ConfigureAwait(false) != 1)
        {
            throw await refused(cancellationToken).ConfigureAwait(false);
        }
    }

    public override ValueTask<List<T>> ReadAsync<T>(string sql, Func<System.Data.Common.DbDataReader, T> read, CancellationToken cancellationToken, params object[] values) =>
        new(ReadAll(Bind(Statements.Cached(sql, values.Length), values), read));

    internal SqliteStatements Statements => _statements ?? throw new ObjectDisposedException(nameof(IAnpmUnitOfWork));

    internal SqliteStatements Writable =>
        _committed ? throw new InvalidOperationException("The unit of work was committed; begin a new one.")
        : ReadOnly ? throw new InvalidOperationException("This unit of work is read-only (BeginReadAsync); begin a writing one to change anything.")
        : Statements;

    public override ValueTask CommitAsync(CancellationToken cancellationToken = default)
    {
        _ = Statements;
        if (_committed)
        {
            throw new InvalidOperationException("The unit of work was committed; begin a new one.");
        }

        cancellationToken.ThrowIfCancellationRequested();
        _committed = true;
        _statements = null;
        return End(commit: !ReadOnly);
    }

    public override ValueTask DisposeAsync()
    {
        if (_statements is not null)
        {
            _statements = null;
            return End(commit: false);
        }

        return ValueTask.CompletedTask;
    }

    // A group's unit of work returns once its group is on disk (an acknowledged commit is durable).
    private ValueTask End(bool commit)
    {
        if (reader is not null)
        {
            store.EndRead(reader);
        }
        else if (grouped)
        {
            return store.EndInGroup(commit);
        }
        else
        {
            store.End(commit);
        }

        return ValueTask.CompletedTask;
    }

    private static SqliteCommand Bind(SqliteCommand command, object[] values)
    {
        for (var i = 0; i < values.Length; i++)
        {
            command.Parameters[i].Value = values[i];
        }

        return command;
    }

    internal static string Required(string? id) => id ?? throw new ArgumentException("The default id cannot be stored.", nameof(id));

    internal static T? ReadOne<T>(SqliteCommand command, string? id, Func<SqliteDataReader, T> read)
        where T : class
    {
        if (id is null)
        {
            return null;
        }

        command.Parameters[0].Value = id;
        return SqliteAnpmStore.Translate(() =>
        {
            using var reader = command.ExecuteReader();
            return reader.Read() ? read(reader) : null;
        });
    }

    internal static List<T> ReadAll<T>(SqliteCommand command, Func<SqliteDataReader, T> read) => SqliteAnpmStore.Translate(() =>
    {
        var rows = new List<T>();
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            rows.Add(read(reader));
        }

        return rows;
    });
}
