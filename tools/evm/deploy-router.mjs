// Deploys Anpm's deposit router: compiles src/Anpm.Gateway.Evm/Contracts/AnpmDepositRouter.sol with solc-js (optimizer on,
// EVM version cancun, OpenZeppelin 5.7 from node_modules) and sends its creation with the deployer's key.
//
//   node deploy-router.mjs --rpc URL --key-file FILE --token TOKEN --custody HOT_WALLET [--owner OWNER]
//
// --custody is where deposits go: the host's hot wallet (the address of Anpm:Evm:KeyFile), the address the deposit
// listener watches. --owner (default: the deployer) may pause deposits and takes ownership in two steps. The key file
// holds 64 hex digits (0x optional). Prints {"router", "transaction", "block", "chainId"} as JSON on success.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { ContractFactory, JsonRpcProvider, Wallet, getAddress } from 'ethers';

const require = createRequire(import.meta.url);
const here = path.dirname(new URL(import.meta.url).pathname);
const source = path.join(here, '..', '..', 'src', 'Anpm.Gateway.Evm', 'Contracts', 'AnpmDepositRouter.sol');

function options(argv) {
  const named = {};
  for (let i = 0; i < argv.length; i += 2) {
    if (!argv[i].startsWith('--') || argv[i + 1] === undefined) fail(`Arguments come in pairs like --rpc URL; '${argv[i]}' has no value.`);
    named[argv[i].slice(2)] = argv[i + 1];
  }

  for (const required of ['rpc', 'key-file', 'token', 'custody']) {
    if (!named[required]) fail(`--${required} is required. Usage: node deploy-router.mjs --rpc URL --key-file FILE --token TOKEN --custody HOT_WALLET [--owner OWNER]`);
  }

  return named;
}

function fail(message) {
  console.error(message);
  process.exit(1);
}

function address(name, value) {
  try {
    return getAddress(value.toLowerCase());
  } catch {
    return fail(`--${name} is not an address: '${value}'.`);
  }
}

function compileRouter() {
  const solc = require('solc');
  const input = {
    language: 'Solidity',
    sources: { 'AnpmDepositRouter.sol': { content: fs.readFileSync(source, 'utf8') } },
    settings: { optimizer: { enabled: true, runs: 200 }, evmVersion: 'cancun', outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object'] } } },
  };
  const findImports = name => {
    const file = path.join(here, 'node_modules', name);
    return fs.existsSync(file) ? { contents: fs.readFileSync(file, 'utf8') } : { error: `not found: ${name}` };
  };
  const output = JSON.parse(solc.compile(JSON.stringify(input), { import: findImports }));
  const errors = (output.errors ?? []).filter(e => e.severity === 'error');
  if (errors.length > 0) fail(errors.map(e => e.formattedMessage).join('\n'));
  const router = output.contracts['AnpmDepositRouter.sol'].AnpmDepositRouter;
  return { abi: router.abi, bytecode: '0x' + router.evm.bytecode.object };
}

const named = options(process.argv.slice(2));
const key = fs.readFileSync(named['key-file'], 'utf8').trim();
const provider = new JsonRpcProvider(named.rpc, undefined, { staticNetwork: true });
let deployer;
try {
  deployer = new Wallet(key.startsWith('0x') ? key : '0x' + key, provider);
} catch {
  fail(`The key file '${named['key-file']}' does not hold 64 hex digits.`);
}

const token = address('token', named.token);
const custody = address('custody', named.custody);
const owner = named.owner ? address('owner', named.owner) : deployer.address;
const { chainId } = await provider.getNetwork();
if ((await provider.getCode(token)) === '0x') fail(`--token ${token} holds no contract on chain ${chainId}.`);

const { abi, bytecode } = compileRouter();
try {
  const router = await new ContractFactory(abi, bytecode, deployer).deploy(token, custody, owner);
  const receipt = await router.deploymentTransaction().wait();
  console.log(JSON.stringify({ router: (await router.getAddress()).toLowerCase(), transaction: receipt.hash, block: receipt.blockNumber, chainId: chainId.toString() }));
} catch (error) {
  fail(`The deployment failed: ${error.shortMessage ?? error.message}`);
}
