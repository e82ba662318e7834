// The reference host's API (docs/reference/wire-contract.md): reads, signed writes, and errors in plain words.
import { formatUnits, parseUnits } from '/lib/ethers.min.js';
import { wallet } from './wallet.js';

let configPromise;
let eip712Promise;

/** GET /api/v1/config, once (a failure is not kept: the next call asks again). */
export function config() {
  configPromise ??= get('/api/v1/config').catch(error => { configPromise = undefined; throw error; });
  return configPromise;
}

/** GET /api/v1/eip712, once: the domain and types to sign with (a failure is not kept). */
export function eip712() {
  eip712Promise ??= get('/api/v1/eip712').catch(error => { eip712Promise = undefined; throw error; });
  return eip712Promise;
}

/** What an API error code means, for people. */
const plainWords = {
  invalid_request: 'The request was not accepted',
  invalid_signature: 'The signature does not match your account',
  signature_expired: 'The signed request expired; try again',
  forbidden: 'Your account may not do this',
  not_found: 'Not found',
  conflict: 'This was already done differently',
  invalid_state: 'Not possible right now',
  payload_too_large: 'Too large',
  insufficient_balance: 'Not enough balance',
  limit_exceeded: 'Over the limit',
  window_closed: 'Outside the contribution window',
  paused: 'Paused: nothing can move right now',
  signature_required: 'Only an admin may read this',
};

/** An API error: `code` from the problem details, and a message in plain words. */
export class ApiError extends Error {
  constructor(status, problem) {
    const code = problem?.code;
    const lead = plainWords[code] ?? `The host answered ${status}`;
    super(problem?.detail ? `${lead}: ${problem.detail}` : `${lead}.`);
    this.status = status;
    this.code = code;
  }
}

async function answer(response) {
  const text = await response.text();
  let body = null;
  try {
    body = text.length ? JSON.parse(text) : null;
  } catch {
    // A proxy's or server's error page: the status says what happened.
    if (response.ok) throw new Error(`The host answered ${response.status} with something that is not JSON.`);
  }

  if (!response.ok) {
    throw new ApiError(response.status, body);
  }

  return body;
}

export async function get(path) {
  return answer(await fetch(path, { headers: { accept: 'application/json' } }));
}

export async function post(path, body) {
  return answer(await fetch(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }));
}

let readToken;

/**
 * GET of an operator's read (under /api/v1/admin): with a read token, an EIP-712 `ReadAccess` the wallet signs once and
 * the page reuses until a minute before its deadline (10 minutes).
 */
export async function getSigned(path) {
  const me = await wallet.address();
  if (!readToken || readToken.reader !== me || readToken.deadline - 60 < Date.now() / 1000) {
    const { domain, types } = await eip712();
    const message = { reader: me, deadline: String(Math.floor(Date.now() / 1000) + 600) };
    const signature = await wallet.signTypedData(domain, 'ReadAccess', types.ReadAccess, message);
    const json = new TextEncoder().encode(JSON.stringify({ message, signature }));
    const token = btoa(String.fromCharCode(...json)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
    readToken = { reader: me, deadline: Number(message.deadline), header: `Anpm ${token}` };
  }

  return answer(await fetch(path, { headers: { accept: 'application/json', authorization: readToken.header } }));
}

let counter = 0;

/** A fresh nonce: milliseconds since 1970 times 1000 plus a counter (unique per wallet and tab in practice). */
function nonce() {
  counter = (counter + 1) % 1000;
  return (BigInt(Date.now()) * 1000n + BigInt(counter)).toString();
}

/**
 * Signs `message` as `type` with the wallet (the actor field is filled with the wallet's address; nonce and deadline
 * too where the type has them), posts `{message, signature, ...extra}` to `path` and returns the answer.
 */
export async function signed(path, type, message, extra = {}) {
  const { domain, types } = await eip712();
  const fields = types[type];
  const full = { [fields[0].name]: await wallet.address(), ...message };
  if (fields.some(f => f.name === 'nonce')) full.nonce = nonce();
  if (fields.some(f => f.name === 'deadline')) full.deadline = String(Math.floor(Date.now() / 1000) + 600);
  const signature = await wallet.signTypedData(domain, type, fields, full);
  return post(path, { message: full, signature, ...extra });
}

/** Token base units as "1.5 APUS". */
export async function tokens(units) {
  const { token } = await config();
  return `${trim(formatUnits(BigInt(units ?? 0), token.decimals))} ${token.symbol}`;
}

/** Whole tokens typed by a person ("1.5") as base units; throws a plain error when it is not a positive amount. */
export async function tokenUnits(text) {
  const { token } = await config();
  let units;
  try {
    units = parseUnits(String(text).trim(), token.decimals);
  } catch {
    throw new Error(`"${text}" is not an amount of ${token.symbol}.`);
  }

  if (units <= 0n) throw new Error('The amount must be more than zero.');
  return units.toString();
}

/** A whole number of credits typed by a person. */
export function creditAmount(text) {
  if (!/^\d+$/.test(String(text).trim()) || BigInt(text) <= 0n) throw new Error(`"${text}" is not a whole number of credits.`);
  return BigInt(text).toString();
}

export function credits(amount) {
  return `${BigInt(amount ?? 0).toLocaleString('en-US')} credits`;
}

function trim(decimal) {
  return decimal.includes('.') ? decimal.replace(/\.?0+$/, '') : decimal;
}
