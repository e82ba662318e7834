// Pools: the list with status, price and statistics; one pool with its info, how to use its AI, credits, consume
// history and task statistics with a chart.
import { config, get, signed, credits, creditAmount, tokens } from '../api.js';
import { wallet } from '../wallet.js';
import { h, card, field, message, act, table, code, short, refreshSoon } from '../ui.js';

function prices(pool) {
  const models = pool.config.inference?.models ?? [];
  return models.length ? models.map(m => `${m.id}: ${credits(m.price)}`).join(', ') : '—';
}

function kinds(pool) {
  return ['contribution', 'staking', 'inference'].filter(k => pool.config[k]).join(', ');
}

/** What Anpm is and where to start, for a person who has not read the README. */
function welcome(cfg) {
  const token = cfg.token.symbol;
  const get = cfg.devToken ? h('li', {}, h('a', { href: '#/credits' }, 'Credits'), `: get test ${token} from the faucet (this is a development host), then buy credits with them.`)
    : h('li', {}, h('a', { href: '#/credits' }, 'Credits'), `: buy credits with ${token}${cfg.evm ? ' from your wallet' : ''}.`);
  return card('Welcome to Anpm',
    h('p', {}, `Anpm runs AI compute pools: you pay for AI inference with credits bought with ${token}, GPU oracle nodes run the models and sign every result, `
      + 'and investors stake or contribute to pools and are paid from what they earn. Every move is signed by your wallet and kept in one ledger.'),
    h('ol', { testid: 'start-steps' },
      get,
      h('li', {}, 'Pools: open a pool below and move credits into it.'),
      h('li', {}, h('a', { href: '#/try' }, 'Try it'), ': draw a digit and let a model read it; the oracle\'s signed result is checked in your browser.'),
      h('li', {}, h('a', { href: '#/stake' }, 'Stake'), ` ${token} in a pool to earn a share of its daily reward, or `, h('a', { href: '#/contributions' }, 'contribute'), ' to a campaign pool.')));
}

export async function poolsPage() {
  const [cfg, pools] = await Promise.all([config(), get('/api/v1/pools')]);
  const stats = await Promise.all(pools.map(p => p.config.inference ? get(`/api/v1/pools/${p.poolId}/stats`) : null));
  return [
    h('h1', {}, 'Pools'),
    welcome(cfg),
    card(null, table(['pool', 'status', 'kind', 'price per task', 'tasks done'], pools.map((p, i) => [
      h('a', { href: `#/pools/${p.poolId}`, testid: `pool-link-${p.poolId}` }, p.config.name ?? p.poolId),
      h('span', { class: 'badge', testid: `pool-status-${p.poolId}` }, p.status),
      kinds(p),
      prices(p),
      stats[i] ? String(stats[i].counts.Done) : '—',
    ]), 'pools')),
  ];
}

/** A bar chart of task counts by status, drawn on a canvas. */
function chart(counts) {
  const canvas = h('canvas', { width: 560, height: 200, testid: 'stats-chart', 'aria-label': 'Tasks by status' });
  const context = canvas.getContext('2d');
  const entries = Object.entries(counts);
  const most = Math.max(1, ...entries.map(([, n]) => n));
  const colors = { Pending: '#9aa6b2', Processing: '#2457c5', Done: '#1d7a3e', Failed: '#b3261e' };
  entries.forEach(([status, n], i) => {
    const width = 560 / entries.length;
    const height = Math.round(150 * n / most);
    context.fillStyle = colors[status] ?? '#666';
    context.fillRect(i * width + 20, 170 - height, width - 40, height);
    context.fillStyle = '#1c2430';
    context.font = '13px system-ui';
    context.fillText(`${status} ${n}`, i * width + 20, 190);
  });
  return canvas;
}

export async function poolPage(poolId) {
  const me = await wallet.address();
  const [cfg, pool, account] = await Promise.all([config(), get(`/api/v1/pools/${poolId}`), get(`/api/v1/accounts/${me}`)]);
  const inference = pool.config.inference;
  const [stats, mine, sessionKeys] = inference
    ? await Promise.all([get(`/api/v1/pools/${poolId}/stats`), get(`/api/v1/pools/${poolId}/tasks?account=${me}&limit=20`), get(`/api/v1/accounts/${me}/session-keys`)])
    : [null, null, null];
  const inPool = account.pools.find(p => p.poolId === poolId)?.credits ?? '0';
  const origin = location.origin;
  const model = inference?.models[0];

  const amount = h('input', { inputmode: 'numeric', value: '10', testid: 'move-amount' });
  const moved = message('move-result');
  const move = (type, path, label, testid) => {
    const button = h('button', { class: type === 'WithdrawCredits' ? 'secondary' : null, testid, onclick: () => act(button, moved, async () => {
      const answer = await signed(path, type, { poolId, amount: creditAmount(amount.value) });
      refreshSoon();
      return `Your credits: ${credits(answer.credits)}; in ${poolId}: ${credits(answer.poolCredits)}.`;
    }) }, label);
    return button;
  };

  const curl = `# Read the pool, its price and statistics
curl ${origin}/api/v1/pools/${poolId}
curl ${origin}/api/v1/pools/${poolId}/stats

# Add a task: the body is signed with EIP-712 (types at ${origin}/api/v1/eip712)
curl -X POST ${origin}/api/v1/pools/${poolId}/tasks -H 'content-type: application/json' -d '{
  "message": {"account": "0xYOU", "poolId": "${poolId}", "model": "${model?.id ?? 'MODEL'}",
              "inputHash": "keccak256(input)", "maxCredits": "${model?.price ?? '10'}", "nonce": "1", "deadline": "UNIX+600"},
  "signature": "0x…", "input": "{\\"inputs\\":{…}}"}'

# Then poll the task until it is Done and read its output and attestation
curl ${origin}/api/v1/tasks/TASK_ID`;
  const csharp = `using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Anpm.Abstractions;
using Anpm.Signing;
using Microsoft.Extensions.Options;

var http = new HttpClient { BaseAddress = new Uri("${origin}/") };
var domain = new SignedRequestVerifier(Options.Create(new SignedRequestOptions
{
    ChainId = ${cfg.chainId}, VerifyingContract = "${cfg.managerAddress}",
}), TimeProvider.System);
using var key = EthereumKey.FromFile("my.key");
var input = "{\\"inputs\\":{\\"pixels\\":{\\"type\\":\\"float32\\",\\"shape\\":[1,64],\\"data\\":[/* 64 numbers 0-16 */]}}}";
var message = new Dictionary<string, string>
{
    ["account"] = key.Address.ToString(), ["poolId"] = "${poolId}", ["model"] = "${model?.id ?? 'MODEL'}",
    ["inputHash"] = "0x" + Convert.ToHexStringLower(Keccak256.Hash(Encoding.UTF8.GetBytes(input))),
    ["maxCredits"] = "${model?.price ?? '10'}", ["nonce"] = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds().ToString(),
    ["deadline"] = DateTimeOffset.UtcNow.AddMinutes(10).ToUnixTimeSeconds().ToString(),
};
var signature = key.SignHash(domain.Digest("AddTask", JsonSerializer.SerializeToElement(message)));
var added = await http.PostAsJsonAsync("api/v1/pools/${poolId}/tasks", new { message, signature = signature.ToString(), input });
Console.WriteLine(await added.Content.ReadAsStringAsync()); // {"taskId": …, "status": "Pending", "creditsHeld": …}`;

  // Session keys: the wallet lets a backend's key sign AddTask for it in this pool, up to a cap, until an expiry.
  const delegate = h('input', { placeholder: '0x… (the backend key\'s address)', testid: 'session-delegate' });
  const cap = h('input', { inputmode: 'numeric', value: '100', testid: 'session-cap' });
  const hours = h('input', { inputmode: 'numeric', value: '24', testid: 'session-hours' });
  const granted = message('session-result');
  const grant = h('button', { testid: 'session-grant', onclick: () => act(grant, granted, async () => {
    if (!/^0x[0-9a-fA-F]{40}$/.test(delegate.value.trim())) throw new Error('The backend key address must be 0x and 40 hex digits.');
    if (!/^\d+$/.test(hours.value.trim()) || Number(hours.value) < 1 || Number(hours.value) > 8760) throw new Error('Hours must be a whole number from 1 to 8760.');
    const key = await signed('/api/v1/session-keys', 'Delegate', {
      delegate: delegate.value.trim(), poolId, actions: 'AddTask', spendCap: creditAmount(cap.value),
      expiresAt: String(Math.floor(Date.now() / 1000) + Number(hours.value) * 3600),
    });
    refreshSoon();
    return `Session key ${short(key.delegate)} may spend ${credits(key.spendCap)} here until ${new Date(key.expiresAt).toLocaleString()}.`;
  }) }, 'Allow this key');
  const revokeButton = key => {
    const button = h('button', { class: 'secondary', testid: `session-revoke-${key.delegate}`, onclick: () => act(button, granted, async () => {
      await signed('/api/v1/session-keys/revoke', 'RevokeDelegate', { delegate: key.delegate });
      refreshSoon();
      return `Session key ${short(key.delegate)} revoked.`;
    }) }, 'Revoke');
    return button;
  };
  const keysHere = (sessionKeys?.sessionKeys ?? []).filter(k => k.poolId === poolId || k.poolId === '');
  const backend = `// A backend holding a session key (not the wallet's key) adds tasks for the wallet's account.
using var sessionKey = EthereumKey.FromFile("session.key");
var message = new Dictionary<string, string>
{
    ["account"] = "${me}", // the wallet that allowed the key: its credits pay
    ["poolId"] = "${poolId}", ["model"] = "${model?.id ?? 'MODEL'}",
    ["inputHash"] = "0x" + Convert.ToHexStringLower(Keccak256.Hash(Encoding.UTF8.GetBytes(input))),
    ["maxCredits"] = "${model?.price ?? '10'}", ["nonce"] = RandomNumberGenerator.GetInt32(int.MaxValue).ToString(),
    ["deadline"] = DateTimeOffset.UtcNow.AddMinutes(10).ToUnixTimeSeconds().ToString(),
};
var signature = sessionKey.SignHash(domain.Digest("AddTask", JsonSerializer.SerializeToElement(message)));
var added = await http.PostAsJsonAsync("api/v1/pools/${poolId}/tasks", new { message, signature = signature.ToString(), input });
// 202 while the key is allowed; 403 spend_cap_reached, session_key_revoked or session_key_expired when not.`;

  return [
    h('h1', {}, pool.config.name ?? poolId),
    h('div', { class: 'grid' },
      card('About',
        h('p', {}, pool.config.description ?? ''),
        h('p', {}, 'Status: ', h('span', { class: 'badge', testid: 'pool-status' }, pool.status)),
        h('p', { class: 'muted' }, `Owner ${short(pool.owner)} · ${kinds(pool)}`),
        pool.config.staking ? h('p', {}, `Daily reward ${await tokens(pool.config.staking.dailyReward)} shared by the stakers. `, h('a', { href: '#/stake' }, 'Stake')) : null),
      inference ? card('Price', h('p', { class: 'figure', testid: 'pool-price' }, prices(pool)), h('p', { class: 'muted' }, 'Held when you add a task, charged when its result is verified, returned if it fails.')) : null,
      inference ? card('Your credits here',
        h('p', { class: 'figure', testid: 'pool-credits' }, credits(inPool)),
        h('p', { class: 'muted' }, `In your account: ${credits(account.credits)}`),
        h('div', { class: 'row' }, field('Credits', amount), move('TransferCredits', `/api/v1/pools/${poolId}/credits`, 'Move into the pool', 'move-in'),
          move('WithdrawCredits', `/api/v1/pools/${poolId}/credits/withdraw`, 'Take out', 'move-out')),
        moved) : null),
    inference ? card('How to use this AI',
      h('p', {}, 'Put credits into the pool, then send signed tasks; an oracle node runs the model and signs the result. ', h('a', { href: '#/try' }, 'Try it in the browser.')),
      h('h3', {}, 'curl'), code(curl, 'snippet-curl'), h('h3', {}, 'C# (Anpm.Signing)'), code(csharp, 'snippet-csharp'),
      h('h3', {}, 'From a backend, with a session key'),
      h('p', {}, 'Let a backend run tasks for you without your wallet: allow its key to spend up to a cap of your credits in this pool, until it expires or you revoke it.'),
      h('div', { class: 'row' }, field('Backend key address', delegate), field('Spend cap (credits)', cap), field('Valid for (hours)', hours), grant), granted,
      keysHere.length ? table(['key', 'spent', 'cap', 'expires', 'status', ''], keysHere.map(k => [short(k.delegate), credits(k.spent), credits(k.spendCap),
        new Date(k.expiresAt).toLocaleString(), k.status, k.status === 'Active' ? revokeButton(k) : '']), 'session-keys') : null,
      code(backend, 'snippet-session-key')) : null,
    stats ? card('Task statistics',
      chart(stats.counts),
      h('p', { testid: 'stats-latency' }, `Latency p50 ${fmt(stats.latencyMs.p50)}, p95 ${fmt(stats.latencyMs.p95)}, p99 ${fmt(stats.latencyMs.p99)} · credits consumed ${credits(stats.creditsConsumed)}`),
      table(['oracle', 'leases', 'results', 'failures', 'dissents'], stats.oracles.map(o => [short(o.oracle), o.leases, o.results, o.failures, o.dissents]), 'oracle-stats')) : null,
    mine ? card('Your tasks', table(['when', 'model', 'status', 'charged'],
      mine.tasks.map(t => [new Date(t.createdAt).toLocaleString(), t.model, t.status, credits(t.creditsCharged)]), 'consume-history')) : null,
  ];
}

function fmt(ms) {
  return ms == null ? '—' : `${Math.round(ms)} ms`;
}
