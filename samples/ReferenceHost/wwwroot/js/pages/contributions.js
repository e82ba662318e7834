// Contributions: campaign pools, contribute (a pending contribution, then paid with the token), status, claim.
import { config, get, signed, tokens, tokenUnits } from '../api.js';
import { wallet } from '../wallet.js';
import { h, card, field, message, act, table, refreshSoon } from '../ui.js';
import { payWithToken, pendingText } from '../token.js';

export async function contributionsPage() {
  const me = await wallet.address();
  const [cfg, pools, account] = await Promise.all([config(), get('/api/v1/pools'), get(`/api/v1/accounts/${me}`)]);
  const campaigns = pools.filter(p => p.config.contribution);
  const reload = () => refreshSoon(1500);
  const sections = [];
  for (const pool of campaigns) {
    const c = pool.config.contribution;
    const amount = h('input', { inputmode: 'decimal', value: '1', testid: `contribute-amount-${pool.poolId}` });
    const result = message(`contribute-result-${pool.poolId}`);
    const contribute = h('button', { testid: `contribute-${pool.poolId}`, onclick: () => act(contribute, result, async () => {
      const units = await tokenUnits(amount.value);
      const created = await signed(`/api/v1/pools/${pool.poolId}/contributions`, 'CreateContribution', { poolId: pool.poolId, amount: units });
      result.textContent = `Contribution ${created.contributionId} created; paying it…`;
      const paid = await payWithToken(units, 'Contribute', pool.poolId, created.contributionId);
      reload();
      if (!paid.final) return pendingText(paid, `A contribution of ${amount.value} ${cfg.token.symbol}`);
      return paid.notice === 'contribution-paid' ? `Contributed ${amount.value} ${cfg.token.symbol}.` : `The token came back: ${paid.notice}.`;
    }) }, 'Contribute');
    sections.push(card(pool.config.name ?? pool.poolId,
      h('p', {}, 'Status: ', h('span', { class: 'badge', testid: `campaign-status-${pool.poolId}` }, pool.status),
        ` · collected ${await tokens(pool.totals?.collected ?? '0')} of ${await tokens(c.amountLimit)}`),
      h('p', { class: 'muted' }, `Open ${new Date(c.startUtc).toLocaleString()} – ${new Date(c.endUtc).toLocaleString()}. Unpaid contributions are canceled after an hour.`),
      pool.status === 'Active' ? h('div', { class: 'row' }, field(`Amount (${cfg.token.symbol})`, amount), contribute) : null, result));
  }

  const rows = [];
  for (const c of account.contributions) {
    const output = message(`claim-result-${c.contributionId}`);
    const claimable = ['Paid', 'AvailablePayout', 'AvailableRefund'].includes(c.status);
    const claim = h('button', { class: 'secondary', testid: `claim-${c.contributionId}`, onclick: () => act(claim, output, async () => {
      const answer = await signed(`/api/v1/contributions/${c.contributionId}/claim`, 'ClaimContribution', { contributionId: c.contributionId });
      reload();
      return `Claimed: ${answer.status}.`;
    }) }, 'Claim');
    rows.push([c.poolId, await tokens(c.amount), h('span', { testid: `contribution-status-${c.contributionId}` }, c.status), await tokens(c.paidout), claimable ? h('div', {}, claim, output) : '']);
  }

  return [
    h('h1', {}, 'Contributions'),
    ...(sections.length ? sections : [card(null, h('p', { class: 'muted' }, 'No campaign pool yet.'))]),
    card('Your contributions', table(['pool', 'amount', 'status', 'paid out', ''], rows, 'my-contributions')),
  ];
}
