// Pays through Anpm's deposit router, as the reference host's pages do: approve the router for the amount, then
// deposit(ref, poolId, action, amount). The pool id and the reference are bytes32: ASCII text padded with zeros on the
// right (ethers' encodeBytes32String; at most 31 characters), or 0x + 64 hex digits as they are.
//
//   node deposit.mjs --rpc URL --key-file FILE --router ROUTER --action Buy-Credits|Contribute|Stake|Fund-Rewards|Distribute
//                    --amount BASE_UNITS [--pool POOL_ID] [--ref REFERENCE]
//
// The action codes are the listener's defaults (EvmDepositOptions.RouterActions): 0 Buy-Credits, 1 Contribute, 2 Stake,
// 3 Fund-Rewards, 4 Distribute. Prints {"transaction", "block", "ref"} as JSON.
import fs from 'node:fs';
import { Contract, JsonRpcProvider, NonceManager, Wallet, encodeBytes32String, hexlify, randomBytes } from 'ethers';

const actions = { 'Buy-Credits': 0, Contribute: 1, Stake: 2, 'Fund-Rewards': 3, Distribute: 4 };
const named = {};
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i += 2) named[argv[i].replace(/^--/, '')] = argv[i + 1];
for (const required of ['rpc', 'key-file', 'router', 'action', 'amount']) {
  if (!named[required]) {
    console.error(`--${required} is required.`);
    process.exit(1);
  }
}

if (!(named.action in actions)) {
  console.error(`--action must be one of ${Object.keys(actions).join(', ')}, not '${named.action}'.`);
  process.exit(1);
}

const bytes32 = text => /^0x[0-9a-fA-F]{64}$/.test(text) ? text : encodeBytes32String(text);
const key = fs.readFileSync(named['key-file'], 'utf8').trim();
// One nonce after the other (the provider's short cache could hand the approval's nonce to the deposit too).
const payer = new NonceManager(new Wallet(key.startsWith('0x') ? key : '0x' + key, new JsonRpcProvider(named.rpc, undefined, { staticNetwork: true })));
const router = new Contract(named.router, ['function token() view returns (address)', 'function deposit(bytes32,bytes32,uint8,uint256)'], payer);
const token = new Contract(await router.token(), ['function approve(address,uint256) returns (bool)'], payer);
const ref = named.ref ? bytes32(named.ref) : hexlify(randomBytes(32));
try {
  await (await token.approve(named.router, BigInt(named.amount))).wait();
  const receipt = await (await router.deposit(ref, bytes32(named.pool ?? ''), actions[named.action], BigInt(named.amount))).wait();
  console.log(JSON.stringify({ transaction: receipt.hash, block: receipt.blockNumber, ref }));
} catch (error) {
  console.error(`The deposit failed: ${error.shortMessage ?? error.message}`); // e.g. a reference used before (ReferenceUsed), a paused router
  process.exit(1);
}
