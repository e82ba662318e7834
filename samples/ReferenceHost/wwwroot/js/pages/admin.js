// Admin: create pools, change a pool's status, start a distribution, set the exchange rate, list oracles, pause.
import { config, get, getSigned, signed, tokenUnits, tokens, creditAmount } from '../api.js';
import { wallet } from '../wallet.js';
import { h, card, field, message, act, refreshSoon, table } from '../ui.js';
import { keccak256, toUtf8Bytes } from '/lib/ethers.min.js';
import { payWithToken, pendingText } from '../token.js';

const statuses = [['Paused', 4], ['Active (resume)', 1], ['Funding', 3], ['Canceled', 5], ['Closed', 7]];

function select(options, testid) {
  return h('select', { testid }, options.map(([label, value]) => h('option', { value }, label)));
}

function isoInput(date, testid) {
  return h('input', { type: 'datetime-local', value: date.toISOString().slice(0, 16), testid });
}

export async function adminPage() {
  const me = await wallet.address();
  const [cfg, pools] = await Promise.all([config(), get('/api/v1/pools')]);
  const isAdmin = cfg.admins.includes(me);
  if (!isAdmin && cfg.feeder !== me) {
    return [h('h1', {}, 'Admin'), card(null, h('p', { class: 'message error', testid: 'not-admin' },
      'Your account is not an admin or the feeder of this host. With the development wallet, use a role key from the host\'s data/dev-keys.json ("Use a key").'))];
  }

  const reload = () => refreshSoon(1000);
  const poolOptions = pools.map(p => [`${p.config.name ?? p.poolId} (${p.status})`, p.poolId]);

  // Create a campaign pool (or any pool from JSON).
  const id = h('input', { value: 'campaign-1', testid: 'new-pool-id' });
  const name = h('input', { value: 'Campaign', testid: 'new-pool-name' });
  const start = isoInput(new Date(Date.now() - 60_000), 'new-pool-start');
  const end = isoInput(new Date(Date.now() + 7 * 86_400_000), 'new-pool-end');
  const limit = h('input', { value: '1000', inputmode: 'decimal', testid: 'new-pool-limit' });
  const destination = h('input', { value: me, testid: 'new-pool-destination' });
  const json = h('textarea', { testid: 'new-pool-json', placeholder: 'Or paste a whole pool config (JSON, as in the wire contract); it wins when not empty.' });
  const created = message('create-result');
  const create = h('button', { testid: 'create-pool', onclick: () => act(create, created, async () => {
    const text = json.value.trim() || JSON.stringify({
      name: name.value,
      contribution: {
        startUtc: new Date(start.value).toISOString().replace(/\.\d{3}Z$/, 'Z'), endUtc: new Date(end.value).toISOString().replace(/\.\d{3}Z$/, 'Z'),
        amountLimit: await tokenUnits(limit.value), destination: destination.value.trim(), prizeCalculator: 'pro-rata',
      },
    });
    const pool = await signed('/api/v1/pools', 'CreatePool', { poolId: id.value.trim(), configHash: keccak256(toUtf8Bytes(text)) }, { config: text });
    reload();
    return `Pool ${pool.poolId} created (${pool.status}).`;
  }) }, 'Create pool');

  // Status and distribution.
  const statusPool = select(poolOptions, 'status-pool');
  const status = select(statuses, 'status-value');
  const reason = h('input', { value: '', placeholder: 'Reason', testid: 'status-reason' });
  const statusResult = message('status-result');
  const setStatus = h('button', { testid: 'set-status', onclick: () => act(setStatus, statusResult, async () => {
    const pool = await signed(`/api/v1/admin/pools/${statusPool.value}/status`, 'SetPoolStatus', { poolId: statusPool.value, status: Number(status.value), reason: reason.value });
    reload();
    return `Pool ${pool.poolId} is ${pool.status}.`;
  }) }, 'Set status');
  // The destination sends the pool's result back (a Distribute transfer, from this wallet through the dev token).
  const returnPool = select(poolOptions, 'return-pool');
  const returnAmount = h('input', { inputmode: 'decimal', testid: 'return-amount' });
  const returnResult = message('return-result');
  const sendBack = h('button', { class: 'secondary', testid: 'return-funds', onclick: () => act(sendBack, returnResult, async () => {
    const paid = await payWithToken(await tokenUnits(returnAmount.value), 'Distribute', returnPool.value);
    if (!paid.final) return pendingText(paid, `${returnAmount.value} ${cfg.token.symbol} for distribution`);
    return paid.notice === 'distribution-received' ? `Received ${returnAmount.value} ${cfg.token.symbol} for distribution.` : `The token came back: ${paid.notice}.`;
  }) }, 'Send back');
  const distributePool = select(poolOptions, 'distribute-pool');
  const distributeAmount = h('input', { inputmode: 'decimal', testid: 'distribute-amount' });
  const distributeResult = message('distribute-result');
  const distribute = h('button', { testid: 'distribute', onclick: () => act(distribute, distributeResult, async () => {
    const pool = await signed(`/api/v1/admin/pools/${distributePool.value}/distributing`, 'SetAmountDistributing', { poolId: distributePool.value, amount: await tokenUnits(distributeAmount.value) });
    reload();
    return `Pool ${pool.poolId} is ${pool.status}.`;
  }) }, 'Start distribution');

  // Exchange rate (the feeder, or an admin).
  const rate = h('input', { inputmode: 'numeric', value: '1000', testid: 'rate-credits' });
  const rateResult = message('rate-result');
  const setRate = h('button', { testid: 'set-rate', onclick: () => act(setRate, rateResult, async () => {
    const set = await signed('/api/v1/admin/exchange-rate', 'SetExchangeRate', { credits: creditAmount(rate.value), tokenUnits: await tokenUnits('1'), effectiveAt: '0' });
    return `Rate set: ${set.credits} credits per ${cfg.token.symbol}.`;
  }) }, 'Set rate');

  // Oracles.
  const oraclePool = select(poolOptions.filter((_, i) => pools[i].config.inference), 'oracle-pool');
  const oracle = h('input', { placeholder: '0x…', testid: 'oracle-address' });
  const oracleResult = message('oracle-result');
  const setOracle = (active, label) => {
    const button = h('button', { class: active ? null : 'secondary', testid: active ? 'oracle-add' : 'oracle-remove', onclick: () => act(button, oracleResult, async () => {
      const set = await signed(`/api/v1/pools/${oraclePool.value}/oracles`, 'SetOracle', { poolId: oraclePool.value, oracle: oracle.value.trim(), active });
      return `Oracle ${set.oracle} is ${set.active ? 'listed' : 'removed'} in ${set.poolId}.`;
    }) }, label);
    return button;
  };

  // Pause.
  const pauseResult = message('pause-result');
  const pause = paused => {
    const button = h('button', { class: paused ? null : 'secondary', testid: paused ? 'pause' : 'resume', onclick: () => act(button, pauseResult, async () => {
      const set = await signed('/api/v1/admin/pause', 'Pause', { paused });
      return set.paused ? 'Paused: no money moves until you resume.' : 'Resumed.';
    }) }, paused ? 'Pause everything' : 'Resume');
    return button;
  };

  // Payouts that failed on chain (the token refused them): retry once the cause is fixed, or return the tokens.
  const failed = isAdmin ? await getSigned('/api/v1/admin/outbox?state=FailedOnChain') : { transfers: [] };
  const payoutResult = message('payout-result');
  const payoutReason = h('input', { placeholder: 'Why (kept with the action)', testid: 'payout-reason' });
  const payoutAction = (transfer, verb) => {
    const button = h('button', { class: verb === 'retry' ? null : 'secondary', testid: `payout-${verb}-${transfer.transferId}`, onclick: () => act(button, payoutResult, async () => {
      if (!payoutReason.value.trim()) throw new Error('Say why first (the reason is kept with the action).');
      const done = await signed(`/api/v1/admin/outbox/${encodeURIComponent(transfer.transferId)}/${verb}`, verb === 'retry' ? 'RetryPayout' : 'ReturnPayout',
        { transferId: transfer.transferId, reason: payoutReason.value.trim() });
      reload();
      return verb === 'retry' ? `Payout ${done.transferId} is sent again (${done.state}).` : `Payout ${done.transferId} is returned to the account it came from.`;
    }) }, verb === 'retry' ? 'Retry' : 'Return');
    return button;
  };
  const failedRows = await Promise.all(failed.transfers.map(async t => [t.transferId, t.kind, await tokens(t.amount), h('code', {}, t.to), h('code', {}, t.externalReference || '—'),
    h('div', { class: 'row' }, payoutAction(t, 'retry'), payoutAction(t, 'return'))]));

  // Evm mode: deposits halted by a reorg below the credited height, and the resume.
  const chain = isAdmin && cfg.evm ? await get('/api/v1/evm/deposits') : null;
  const anchor = h('input', { inputmode: 'numeric', placeholder: 'Highest block still canonical', testid: 'resume-anchor' });
  const resumeReason = h('input', { placeholder: 'What was reconciled', testid: 'resume-reason' });
  const resumeResult = message('resume-result');
  const resumeDeposits = h('button', { testid: 'resume-deposits', onclick: () => act(resumeDeposits, resumeResult, async () => {
    if (!/^\d+$/.test(anchor.value.trim())) throw new Error(`"${anchor.value}" is not a block number.`);
    const done = await signed('/api/v1/admin/evm/deposits/resume', 'ResumeDeposits', { anchor: anchor.value.trim(), reason: resumeReason.value.trim() });
    reload();
    return `Deposits resume from block ${BigInt(done.anchor) + 1n} (block ${done.haltedAt} was replaced).`;
  }) }, 'Resume deposits');

  return [
    h('h1', {}, 'Admin'),
    isAdmin ? card('Create a campaign pool',
      h('div', { class: 'row' }, field('Pool id', id), field('Name', name)),
      h('div', { class: 'row' }, field('Opens', start), field('Closes', end)),
      h('div', { class: 'row' }, field(`Limit (${cfg.token.symbol})`, limit), field('Funds go to', destination)),
      field('Pool config (JSON, optional)', json), h('div', { class: 'row' }, create), created) : null,
    isAdmin ? card('Pool status',
      h('div', { class: 'row' }, field('Pool', statusPool), field('New status', status), field('Reason', reason), setStatus), statusResult,
      cfg.devToken || cfg.evm ? h('div', { class: 'row' }, field('Funded pool', returnPool), field(`Result sent back by its destination (${cfg.token.symbol})`, returnAmount), sendBack) : null, cfg.devToken || cfg.evm ? returnResult : null,
      h('div', { class: 'row' }, field('Pool', distributePool), field(`Amount to distribute (${cfg.token.symbol})`, distributeAmount), distribute), distributeResult) : null,
    card('Exchange rate', h('div', { class: 'row' }, field(`Credits per ${cfg.token.symbol}`, rate), setRate), rateResult),
    isAdmin ? card('Oracles', h('div', { class: 'row' }, field('Pool', oraclePool), field('Oracle address', oracle), setOracle(true, 'List'), setOracle(false, 'Remove')), oracleResult) : null,
    isAdmin ? card('Payouts that failed on chain',
      h('p', { class: 'muted' }, 'The token refused these transfers (reverted); their tokens wait in flight. Retry once the cause is fixed, or return them to the account they came from.'),
      table(['Transfer', 'Kind', 'Amount', 'To', 'Reverted transaction', ''], failedRows, 'failed-payouts'),
      h('div', { class: 'row' }, field('Reason', payoutReason)), payoutResult) : null,
    chain ? card('Deposits on chain',
      h('p', { testid: 'deposits-state', class: chain.halted ? 'message error' : 'muted' }, chain.halted ?? `Crediting runs: credited up to block ${chain.cursor ?? '—'}, final ${chain.lastFinal ?? '—'}.`),
      chain.halted ? h('div', { class: 'row' }, field('Anchor block', anchor), field('Reason', resumeReason), resumeDeposits) : null, resumeResult) : null,
    isAdmin ? card('Emergency', h('p', { class: 'muted' }, `The system is ${cfg.paused ? 'paused' : 'running'}.`), h('div', { class: 'row' }, pause(true), pause(false)), pauseResult) : null,
  ];
}
