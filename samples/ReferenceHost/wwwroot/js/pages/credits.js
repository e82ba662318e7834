// Credits: balance, buying with the token at the exchange rate, the dev token's faucet, transaction history.
import { config, get, post, signed, tokens, tokenUnits, credits } from '../api.js';
import { payWithToken, pendingText } from '../token.js';
import { wallet } from '../wallet.js';
import { h, card, field, message, act, table, refreshSoon } from '../ui.js';


export async function creditsPage() {
  const me = await wallet.address();
  const [cfg, account, rate, history, alerts] = await Promise.all([
    config(), get(`/api/v1/accounts/${me}`), get('/api/v1/exchange-rate'), get(`/api/v1/accounts/${me}/history?limit=50`), get(`/api/v1/accounts/${me}/alerts`),
  ]);
  const deposits = cfg.evm ? await get(`/api/v1/evm/deposits?address=${me}`) : null;
  const current = rate.current;
  const perToken = current ? BigInt(current.credits) * 10n ** BigInt(cfg.token.decimals) / BigInt(current.tokenUnits) : 0n;

  const amount = h('input', { inputmode: 'decimal', value: '1', testid: 'buy-amount' });
  const preview = h('p', { class: 'muted', testid: 'buy-preview' });
  const updatePreview = async () => {
    try {
      const units = BigInt(await tokenUnits(amount.value));
      preview.textContent = current ? `You get ${credits(units * BigInt(current.credits) / BigInt(current.tokenUnits))}.` : 'No exchange rate is set yet.';
    } catch (error) {
      preview.textContent = error.message;
    }
  };
  amount.addEventListener('input', updatePreview);
  await updatePreview();
  const buyResult = message('buy-result');
  const buy = h('button', { testid: 'buy', onclick: () => act(buy, buyResult, async () => {
    const answer = await payWithToken(await tokenUnits(amount.value), 'Buy-Credits');
    refreshSoon(answer.final ? 800 : 3000);
    if (!answer.final) return pendingText(answer, `${amount.value} ${cfg.token.symbol}`);
    return `Bought: ${answer.notice.replace('credits-bought:', '')} credits. Your token balance is ${await tokens(answer.token)}.`;
  }) }, 'Buy credits');

  const faucetResult = message('faucet-result');
  const faucet = h('button', { class: 'secondary', testid: 'faucet', onclick: () => act(faucet, faucetResult, async () => {
    const answer = await post('/api/v1/dev-token/faucet', { address: me, quantity: await tokenUnits('100') });
    refreshSoon();
    return `You now hold ${await tokens(answer.token)}.`;
  }) }, `Get 100 ${cfg.token.symbol} (dev)`);

  // Low-balance alerts: per pool a threshold; the pool's credits falling to it writes one balance.low event (webhooks).
  const alertResult = message('alert-result');
  const alertPools = [...new Set([...account.pools.map(p => p.poolId), ...alerts.alerts.map(a => a.poolId)])].sort();
  const alertRow = poolId => {
    const alert = alerts.alerts.find(a => a.poolId === poolId);
    const inPool = account.pools.find(p => p.poolId === poolId)?.credits ?? '0';
    const threshold = h('input', { inputmode: 'numeric', value: alert ? alert.threshold : '', placeholder: 'none', testid: `alert-threshold-${poolId}` });
    const save = h('button', { class: 'secondary', testid: `alert-save-${poolId}`, onclick: () => act(save, alertResult, async () => {
      const text = threshold.value.trim() === '' ? '0' : threshold.value.trim();
      if (!/^\d+$/.test(text)) throw new Error(`"${threshold.value}" is not a whole number of credits.`);
      const answer = await signed(`/api/v1/pools/${poolId}/alerts`, 'SetBalanceAlert', { poolId, threshold: BigInt(text).toString() });
      refreshSoon();
      return answer.threshold === '0' ? `No alert in ${poolId}.` : `Alert in ${poolId} at ${credits(answer.threshold)}${answer.low ? ': your credits there are low now.' : '.'}`;
    }) }, 'Save');
    const state = alert ? h('span', { class: 'badge', testid: `alert-state-${poolId}` }, alert.low ? 'low' : 'ok') : '—';
    return [poolId, credits(inPool), h('div', { class: 'row' }, threshold, save), state];
  };

  return [
    h('h1', {}, 'Credits'),
    h('div', { class: 'grid' },
      card('Your balance',
        h('p', { class: 'figure', testid: 'credit-balance' }, credits(account.credits)),
        h('p', { class: 'muted' }, 'Credits in pools: ', account.pools.length ? account.pools.map(p => `${p.poolId} ${credits(p.credits)}`).join(', ') : 'none'),
        cfg.devToken || cfg.evm ? h('p', {}, 'Token: ', h('strong', { testid: 'token-balance' }, await tokens(account.token))) : null),
      card('Exchange rate',
        h('p', { class: 'figure', testid: 'exchange-rate' }, current ? `${credits(perToken)} per ${cfg.token.symbol}` : 'not set'),
        current ? h('p', { class: 'muted' }, `in force since ${new Date(current.effectiveAt).toLocaleString()}`) : null)),
    card('Buy credits',
      h('p', { class: 'muted' }, cfg.evm
        ? `Pay ${cfg.token.symbol} with your wallet (two transactions: approve, then deposit); the credits arrive once the deposit is final.`
        : `Send ${cfg.token.symbol} to the pool manager; the credits arrive as soon as the token's notice does.`),
      h('div', { class: 'row' }, field(`Amount (${cfg.token.symbol})`, amount), buy), preview, buyResult,
      cfg.devToken ? h('div', { class: 'row' }, faucet) : null, faucetResult),
    deposits ? card('Pending deposits',
      h('p', { class: 'muted' }, `Deposits on chain ${deposits.chainId} count once final (${deposits.finality}); until then they move nothing.`),
      deposits.pending.length
        ? table(['block', 'what', 'amount', 'confirmations'], await Promise.all(deposits.pending.map(async d =>
          [String(d.blockNumber), d.action + (d.poolId ? ` · ${d.poolId}` : ''), await tokens(d.quantity), d.confirmationsRequired ? `${d.confirmations} of ${d.confirmationsRequired}` : `${d.confirmations}`])), 'pending-deposits')
        : h('p', { class: 'muted', testid: 'pending-deposits-none' }, 'None.')) : null,
    account.grants?.length ? card('Your credit grants',
      h('p', { class: 'muted' }, 'Tasks spend promotional credits first, then the ones that expire soonest. What is left of a grant at its expiry is removed.'),
      table(['grant', 'kind', 'left', 'held by tasks', 'expired', 'expires'], account.grants.map(g => [
        g.grantId.startsWith('paid:') ? 'purchased' : g.grantId, g.category, credits(g.remaining), credits(g.held), credits(g.expired),
        g.expiresAt ? new Date(g.expiresAt).toLocaleString() : 'never']), 'grants')) : null,
    alertPools.length ? card('Low-balance alerts',
      h('p', { class: 'muted' }, 'Be told when your credits in a pool fall to a level: one event each time they fall through it (delivered to the webhooks an operator registered).'),
      table(['pool', 'credits there', 'alert at (credits)', 'now'], alertPools.map(alertRow), 'alerts'), alertResult) : null,
    card('History', table(['when', 'what', 'amount', 'reference'],
      history.entries.map(e => [new Date(e.timestamp).toLocaleString(), e.kind + (e.pending ? ' (held)' : ''), `${e.direction === 'in' ? '+' : '−'}${credits(e.amount)}`, e.reference]),
      'history')),
  ];
}
