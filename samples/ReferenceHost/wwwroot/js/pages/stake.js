// Stake: the guide, stake and profit status per pool, stake, withdraw (unstake) and claim rewards.
import { config, get, signed, tokens, tokenUnits } from '../api.js';
import { wallet } from '../wallet.js';
import { h, card, field, message, act, refreshSoon } from '../ui.js';
import { payWithToken, pendingText } from '../token.js';

export async function stakePage() {
  const me = await wallet.address();
  const [cfg, pools, account] = await Promise.all([config(), get('/api/v1/pools'), get(`/api/v1/accounts/${me}`)]);
  const staking = pools.filter(p => p.config.staking);
  const sections = [];
  for (const pool of staking) {
    const status = await get(`/api/v1/pools/${pool.poolId}/stakes/${me}`);
    const amount = h('input', { inputmode: 'decimal', value: '1', testid: `stake-amount-${pool.poolId}` });
    const result = message(`stake-result-${pool.poolId}`);
    const whatIf = h('p', { class: 'muted', testid: `whatif-${pool.poolId}` });
    const updateWhatIf = async () => {
      try {
        const units = await tokenUnits(amount.value);
        const p = await get(`/api/v1/pools/${pool.poolId}/stakes/projection?amount=${units}`);
        whatIf.textContent = p.apr == null
          ? 'The pool is full: nothing can be staked now.'
          : `What if: staking ${await tokens(p.amount)} now earns about ${(p.apr * 100).toFixed(2)} % a year (${await tokens(p.projectedRewards)}), `
            + `from ${p.earnsFrom}; the reward reserve pays ${p.runwayDays} more days at today's rate.`;
      } catch (error) {
        whatIf.textContent = error.message;
      }
    };
    amount.addEventListener('input', updateWhatIf);
    await updateWhatIf();
    const reload = () => refreshSoon(1500);
    const stake = h('button', { testid: `stake-${pool.poolId}`, onclick: () => act(stake, result, async () => {
      const answer = await payWithToken(await tokenUnits(amount.value), 'Stake', pool.poolId);
      reload();
      if (!answer.final) return pendingText(answer, `A stake of ${amount.value} ${cfg.token.symbol}`);
      return answer.notice === 'staked' ? `Staked ${amount.value} ${cfg.token.symbol}.` : `The token came back: ${answer.notice}.`;
    }) }, 'Stake');
    const withdraw = h('button', { class: 'secondary', testid: `unstake-${pool.poolId}`, onclick: () => act(withdraw, result, async () => {
      const answer = await signed(`/api/v1/pools/${pool.poolId}/stakes/unstake`, 'Unstake', { poolId: pool.poolId, amount: await tokenUnits(amount.value) });
      reload();
      return `Withdrawn: ${await tokens(answer.amount)} is on its way back to you. Still staked: ${await tokens(answer.staked)}.`;
    }) }, 'Withdraw');
    const claim = h('button', { class: 'secondary', testid: `claim-rewards-${pool.poolId}`, onclick: () => act(claim, result, async () => {
      const answer = await signed(`/api/v1/pools/${pool.poolId}/stakes/claim`, 'ClaimRewards', { poolId: pool.poolId });
      reload();
      return `Claimed ${await tokens(answer.amount)}.`;
    }) }, 'Claim rewards');
    sections.push(card(pool.config.name ?? pool.poolId,
      h('div', { class: 'grid' },
        h('div', {}, h('p', { class: 'muted' }, 'Staked'), h('p', { class: 'figure', testid: `staked-${pool.poolId}` }, await tokens(status.staked))),
        h('div', {}, h('p', { class: 'muted' }, 'Earning (aged)'), h('p', { class: 'figure' }, await tokens(status.eligible))),
        h('div', {}, h('p', { class: 'muted' }, 'Rewards to claim'), h('p', { class: 'figure', testid: `pending-${pool.poolId}` }, await tokens(status.pending))),
        h('div', {}, h('p', { class: 'muted' }, 'Claimed · realised APR'), h('p', { class: 'figure' }, `${await tokens(status.claimed)} · ${status.apr == null ? '—' : `${(status.apr * 100).toFixed(2)} %`}`))),
      h('p', { class: 'muted' }, `Daily reward ${await tokens(pool.config.staking.dailyReward)}, capacity ${await tokens(pool.config.staking.capacity)}, a stake earns after ${Math.round((pool.config.staking.minStakeAgeSeconds ?? 86400) / 3600)} h.`),
      h('div', { class: 'row' }, field(`Amount (${cfg.token.symbol})`, amount), stake, withdraw, claim), whatIf, result));
  }

  return [
    h('h1', {}, 'Stake'),
    card('How staking works',
      h('ol', {},
        h('li', {}, `Stake ${cfg.token.symbol} into a pool: the tokens go to the pool manager and are counted as your stake.`),
        h('li', {}, 'Once your stake is old enough it earns a share of the pool\'s daily reward, pro rata to every eligible stake; a day is a UTC day.'),
        h('li', {}, 'Claim your rewards at any time; withdraw your stake whenever you like — the newest part leaves first, so your aged stake keeps earning.'),
        h('li', {}, 'Rewards are paid from a reserve the treasury funds; a day the reserve cannot cover pays what it can.')),
      cfg.devToken ? h('p', { class: 'muted' }, `Your ${cfg.token.symbol} (dev): `, h('strong', { testid: 'stake-token-balance' }, await tokens(account.token)), ' — get some on the ', h('a', { href: '#/credits' }, 'Credits'), ' page.') : null),
    ...(sections.length ? sections : [card(null, h('p', { class: 'muted' }, 'No pool takes stakes yet.'))]),
  ];
}
