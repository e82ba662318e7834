using Anpm.Abstractions;
using Microsoft.Data.Sqlite;

namespace Anpm.Storage.Sqlite;

/// <summary>
/// One transaction (<c>BEGIN IMMEDIATE</c>) on the store's connection, rolled back unless committed; or, with a reader,
/// a read-only deferred transaction on the reader's own connection.
/// </summary>
internal sealed class SqliteUnitOfWork(SqliteAnpmStore store, SqliteStatements statements, SqliteReader? reader = null, string? savepoint = null) : IAnpmUnitOfWork, IRelationalSession
{
    private SqliteStatements? _statements = statements;
    private bool _committed;
    private SqliteLedgerStore? _ledger;
    private RelationalPoolStore? _pools;
    private RelationalOutboxStore? _outbox;
    private RelationalContributionStore? _contributions;
    private RelationalNoticeStore? _notices;
    private RelationalSystemStateStore? _system;
    private RelationalExchangeRateStore? _rates;
    private RelationalCheckpointStore? _checkpoints;
    private RelationalStakingStore? _staking;
    private RelationalInferenceStore? _inference;
    private RelationalRequestStore? _requests;

    /// <summary>Whether writes are refused (a read-only unit of work).</summary>
    public bool ReadOnly { get; set; } = reader is not null;

    public ILedgerStore Ledger => _ledger ??= new SqliteLedgerStore(this);

    public IPoolStore Pools => _pools ??= new RelationalPoolStore(this);

    public IOutboxStore Outbox => _outbox ??= new RelationalOutboxStore(this);

    public IContributionStore Contributions => _contributions ??= new RelationalContributionStore(this);

    public INoticeStore Notices => _notices ??= new RelationalNoticeStore(this);

    public ISystemStateStore System => _system ??= new RelationalSystemStateStore(this);

    public IExchangeRateStore ExchangeRates => _rates ??= new RelationalExchangeRateStore(this);

    public ICheckpointStore Checkpoints => _checkpoints ??= new RelationalCheckpointStore(this);

    public IStakingStore Staking => _staking ??= new RelationalStakingStore(this);

    public IInferenceStore Inference => _inference ??= new RelationalInferenceStore(this);

    public IRequestStore Requests => _requests ??= new RelationalRequestStore(this);

    public ValueTask<int> WriteAsync(string sql, CancellationToken cancellationToken, params object[] values) =>
        new(SqliteAnpmStore.Translate(Bind(Writable.Cached(sql, values.Length), values).ExecuteNonQuery));

    public async ValueTask UpdateOneAsync(string sql, Func<CancellationToken, ValueTask<Exception>> refused, CancellationToken cancellationToken, params object[] values)
    {
        if (await WriteAsync(sql, cancellationToken, values).ConfigureAwait(false) != 1)
        {
            throw await refused(cancellationToken).ConfigureAwait(false);
        }
    }

    public ValueTask<List<T>> ReadAsync<T>(string sql, Func<System.Data.Common.DbDataReader, T> read, CancellationToken cancellationToken, params object[] values) =>
        new(ReadAll(Bind(Statements.Cached(sql, values.Length), values), read));

    internal SqliteStatements Statements => _statements ?? throw new ObjectDisposedException(nameof(IAnpmUnitOfWork));

    internal SqliteStatements Writable =>
        _committed ? throw new InvalidOperationException("The unit of work was committed; begin a new one.")
        : ReadOnly ? throw new InvalidOperationException("This unit of work is read-only (BeginReadAsync); begin a writing one to change anything.")
        : Statements;

    public ValueTask CommitAsync(CancellationToken cancellationToken = default)
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

    public ValueTask DisposeAsync()
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
        else if (savepoint is not null)
        {
            return store.EndInGroup(savepoint, commit);
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
