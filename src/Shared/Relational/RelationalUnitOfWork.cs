using System.Data.Common;
using Anpm.Abstractions;

namespace Anpm.Storage;

/// <summary>
/// The part of a relational unit of work every dialect shares: the feature stores of the template, created on first
/// use over this unit of work's session. A dialect supplies the session (how statements run in its transaction), its
/// ledger store, and the commit.
/// </summary>
internal abstract class RelationalUnitOfWork : IAnpmUnitOfWork, IRelationalSession
{
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
    private RelationalChainStore? _chain;
    private RelationalSessionKeyStore? _sessionKeys;
    private RelationalEventStore? _events;
    private RelationalBalanceAlertStore? _balanceAlerts;
    private RelationalCreditGrantStore? _creditGrants;

    public abstract ILedgerStore Ledger { get; }

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

    public IChainStore Chain => _chain ??= new RelationalChainStore(this);

    public ISessionKeyStore SessionKeys => _sessionKeys ??= new RelationalSessionKeyStore(this);

    public IEventStore Events => _events ??= new RelationalEventStore(this);

    public IBalanceAlertStore BalanceAlerts => _balanceAlerts ??= new RelationalBalanceAlertStore(this);

    public ICreditGrantStore CreditGrants => _creditGrants ??= new RelationalCreditGrantStore(this);

    public abstract ValueTask<int> WriteAsync(string sql, CancellationToken cancellationToken, params object[] values);

    public abstract ValueTask UpdateOneAsync(string sql, Func<CancellationToken, ValueTask<Exception>> refused, CancellationToken cancellationToken, params object[] values);

    public abstract ValueTask<List<T>> ReadAsync<T>(string sql, Func<DbDataReader, T> read, CancellationToken cancellationToken, params object[] values);

    public abstract ValueTask CommitAsync(CancellationToken cancellationToken = default);

    public abstract ValueTask DisposeAsync();
}
