// Try it: draw a digit on an 8x8 pad, send it as a signed task to the demo pool, watch it run, and read the result with
// its attestation verified here in the page (the output's Keccak-256, the model hash, and the oracle's EIP-712 signature).
import { config, eip712, get, signed, credits } from '../api.js';
import { wallet } from '../wallet.js';
import { h, card, message, act, sleep, short } from '../ui.js';
import { keccak256, toUtf8Bytes, verifyTypedData } from '/lib/ethers.min.js';

const poolId = 'demo';

function decode(tensor, kind) {
  if (Array.isArray(tensor.data)) return tensor.data.map(Number);
  const bytes = Uint8Array.from(atob(tensor.data), c => c.charCodeAt(0));
  const view = new DataView(bytes.buffer);
  const values = [];
  const size = kind === 'int64' ? 8 : 4;
  for (let offset = 0; offset < bytes.length; offset += size) {
    values.push(kind === 'int64' ? Number(view.getBigInt64(offset, true)) : view.getFloat32(offset, true));
  }

  return values;
}

/** Checks an attestation: the output's hash, the model's hash, and the signature recovering to the oracle. */
export async function verifyAttestation(attestation, output, modelHash) {
  const { domain, types } = await eip712();
  const message = attestation.message;
  const outputHash = keccak256(toUtf8Bytes(output));
  const signer = verifyTypedData(domain, { TaskResult: types.TaskResult }, message, attestation.signature).toLowerCase();
  const problems = [];
  if (outputHash !== message.outputHash.toLowerCase()) problems.push(`the output hashes to ${outputHash}, not the attested ${message.outputHash}`);
  if (modelHash && modelHash.toLowerCase() !== message.modelHash.toLowerCase()) problems.push('the attested model is not the pool\'s');
  if (signer !== message.oracle.toLowerCase()) problems.push(`the signature recovers to ${signer}, not the oracle ${message.oracle}`);
  return { ok: problems.length === 0, signer, problems };
}

export async function tryPage() {
  const me = await wallet.address();
  const [pool, account] = await Promise.all([get(`/api/v1/pools/${poolId}`), get(`/api/v1/accounts/${me}`)]);
  const model = pool.config.inference.models[0];
  const inPool = BigInt(account.pools.find(p => p.poolId === poolId)?.credits ?? '0');

  const pixels = new Array(64).fill(0);
  const cells = pixels.map((_, i) => h('div', { 'data-cell': i, testid: `cell-${i}` }));
  const pad = h('div', { class: 'pad', testid: 'pad', 'aria-label': 'Drawing pad, 8 by 8' }, cells);
  let drawing = false;
  const paint = event => {
    const target = document.elementFromPoint(event.clientX, event.clientY);
    const index = target?.dataset?.cell;
    if (index !== undefined) {
      pixels[index] = 16;
      cells[index].classList.add('on');
    }
  };
  pad.addEventListener('pointerdown', event => { drawing = true; paint(event); });
  pad.addEventListener('pointermove', event => { if (drawing) paint(event); });
  window.addEventListener('pointerup', () => { drawing = false; });
  const clear = h('button', { class: 'secondary', type: 'button', testid: 'clear', onclick: () => {
    pixels.fill(0);
    cells.forEach(c => c.classList.remove('on'));
  } }, 'Clear');

  // The pool balance shown: read again after each charge (the hold, then the charge or the refund), never left stale.
  const balance = inPool < BigInt(model.price)
    ? h('p', { class: 'message error', testid: 'need-credits' }, `You have ${credits(inPool)} in this pool. `, h('a', { href: `#/pools/${poolId}` }, 'Move credits into it'), ' first (buy them on the ', h('a', { href: '#/credits' }, 'Credits'), ' page).')
    : h('p', { class: 'muted', testid: 'pool-credits' }, `You have ${credits(inPool)} in this pool.`);
  const showBalance = async () => {
    const now = await get(`/api/v1/accounts/${me}`);
    const credit = BigInt(now.pools.find(p => p.poolId === poolId)?.credits ?? '0');
    balance.className = 'muted';
    balance.dataset.testid = 'pool-credits';
    balance.replaceChildren(`You have ${credits(credit)} in this pool.`);
  };

  const steps = message('task-progress');
  const result = h('div', { testid: 'task-result' });
  const send = h('button', { testid: 'send-task', onclick: () => act(send, steps, async () => {
    if (pixels.every(p => p === 0)) throw new Error('Draw a digit first.');
    const input = JSON.stringify({ inputs: { pixels: { type: 'float32', shape: [1, 64], data: pixels } } });
    result.replaceChildren();
    const added = await signed(`/api/v1/pools/${poolId}/tasks`, 'AddTask',
      { poolId, model: model.id, inputHash: keccak256(toUtf8Bytes(input)), maxCredits: model.price }, { input });
    steps.textContent = `Task ${added.taskId} added; ${credits(added.creditsHeld)} held. Waiting for an oracle…`;
    await showBalance();
    let task;
    for (let polls = 0; polls < 300; polls++) {
      task = await get(`/api/v1/tasks/${added.taskId}`);
      if (task.status === 'Done' || task.status === 'Failed') break;
      steps.textContent = task.status === 'Processing' ? 'An oracle is running the model…' : 'Waiting for an oracle…';
      await sleep(300);
    }

    await showBalance();

    if (task.status !== 'Done') throw new Error(task.status === 'Failed' ? 'The task failed; its credits were returned.' : 'No oracle answered yet; the task is still queued.');
    const outputs = JSON.parse(task.output).outputs;
    const label = decode(outputs.label, outputs.label.type)[0];
    const probabilities = decode(outputs.probabilities, outputs.probabilities.type);
    const checks = await Promise.all(task.attestations.map(a => verifyAttestation(a, task.output, model.sha256)));
    const verified = checks.length > 0 && checks.every(c => c.ok);
    result.replaceChildren(
      h('p', {}, 'The model reads: ', h('span', { class: 'label', testid: 'digit-label' }, String(label))),
      h('p', { class: 'muted' }, 'Most likely: ', probabilities.map((p, d) => [d, p]).sort((a, b) => b[1] - a[1]).slice(0, 3).map(([d, p]) => `${d} (${(p * 100).toFixed(1)} %)`).join(', ')),
      h('p', {}, h('span', { class: `badge ${verified ? 'ok' : 'bad'}`, testid: 'attestation-verified' }, verified ? 'Attestation verified' : 'Attestation NOT verified'),
        ' ', checks.map(c => c.ok ? `signed by oracle ${short(c.signer)}, output and model hashes match` : c.problems.join('; ')).join(' · ')),
      h('details', {}, h('summary', {}, 'The attestation'), h('pre', {}, JSON.stringify(task.attestations, null, 2))));
    return `Done: ${credits(task.creditsCharged)} charged.`;
  }) }, `Send (${credits(model.price)})`);

  return [
    h('h1', {}, 'Try it'),
    card('Draw a digit',
      h('p', { class: 'muted' }, `Draw with the mouse or a finger. The ${model.id} model of pool "${pool.config.name ?? poolId}" reads it; a task costs ${credits(model.price)}.`),
      balance,
      pad, h('div', { class: 'row' }, send, clear), steps, result),
  ];
}
