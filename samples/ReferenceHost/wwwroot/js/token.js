// Paying with the token. With the development token: a signed transfer to the manager that settles at once. In Evm mode:
// the token on its chain, through Anpm's deposit router with the browser wallet (approve, then deposit); it is credited
// once final and shows as a pending deposit until then.
import { Interface, hexlify, randomBytes, toUtf8Bytes, zeroPadBytes } from '/lib/ethers.min.js';
import { config, get, signed } from './api.js';
import { wallet } from './wallet.js';
import { sleep } from './ui.js';

const actionCodes = { 'Buy-Credits': 0, Contribute: 1, Stake: 2, 'Fund-Rewards': 3, Distribute: 4 };
const erc20 = new Interface(['function approve(address spender, uint256 amount) returns (bool)']);
const router = new Interface(['function deposit(bytes32 ref, bytes32 poolId, uint8 action, uint256 amount)']);

/**
 * Pays `quantity` token base units for `action` (pool and reference where they apply). Answers `{ final: true, notice,
 * token }` when the payment settled (the development token), or `{ final: false, hash, finality }` when it was sent on
 * chain and waits for finality.
 */
export async function payWithToken(quantity, action, poolId = '', reference = '') {
  const cfg = await config();
  if (cfg.devToken) {
    const answer = await signed('/api/v1/dev-token/transfers', 'TokenTransfer', { to: cfg.managerAddress, quantity, action, poolId, reference });
    return { ...answer, final: true };
  }

  if (!cfg.evm) throw new Error('This host takes the token through its own gateway: send the tokens to the manager address with your token\'s wallet.');
  const evm = await get('/api/v1/evm/deposits');
  if (!evm.router) throw new Error(`This host has no deposit router: send ${cfg.token.symbol} to ${evm.custody} with your wallet (it buys credits).`);
  if (!wallet.provider) throw new Error('Paying on chain needs a browser wallet (e.g. MetaMask): none is connected to this page.');
  const from = await wallet.address();
  const chainId = BigInt(await wallet.provider.request({ method: 'eth_chainId' }));
  if (chainId !== BigInt(evm.chainId)) throw new Error(`Your wallet is on chain ${chainId}; switch it to chain ${evm.chainId} and try again.`);
  if (!(action in actionCodes)) throw new Error(`The router does not take ${action}.`);
  if (toUtf8Bytes(reference).length > 32 || toUtf8Bytes(poolId).length > 32) throw new Error('A pool id or reference longer than 32 bytes does not fit the router.');

  await send(from, evm.token, erc20.encodeFunctionData('approve', [evm.router, quantity]));
  // A reference (a contribution id: 32 characters) as its bytes, zero-padded; none: 32 random bytes, only a once-only key.
  const ref = reference ? zeroPadBytes(toUtf8Bytes(reference), 32) : hexlify(randomBytes(32));
  const hash = await send(from, evm.router, router.encodeFunctionData('deposit', [ref, zeroPadBytes(toUtf8Bytes(poolId), 32), actionCodes[action], quantity]));
  return { final: false, hash, finality: evm.finality };
}

/** What a payment that is not final yet means, for people. */
export function pendingText(paid, what) {
  return `${what} sent on chain (${paid.hash.slice(0, 10)}…); it counts once final (${paid.finality}) and shows under Pending deposits until then.`;
}

// Sends a transaction with the wallet and waits (up to two minutes) until it is mined and succeeded.
async function send(from, to, data) {
  const hash = await wallet.provider.request({ method: 'eth_sendTransaction', params: [{ from, to, data }] });
  for (let i = 0; i < 120; i++) {
    const receipt = await wallet.provider.request({ method: 'eth_getTransactionReceipt', params: [hash] });
    if (receipt) {
      if (BigInt(receipt.status) !== 1n) throw new Error(`The transaction ${hash} failed on chain.`);
      return hash;
    }

    await sleep(1000);
  }

  throw new Error(`The transaction ${hash} was not mined within two minutes; it may still be.`);
}
