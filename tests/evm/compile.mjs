// Compiles Solidity sources with solc-js (imports from @openzeppelin/contracts in node_modules) and prints, as JSON,
// each contract's ABI and creation bytecode: {"Name": {"abi": [...], "bytecode": "0x..."}}. Errors fail with exit 1.
// Usage: node compile.mjs file.sol [file.sol ...]
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const solc = require('solc');
const here = path.dirname(new URL(import.meta.url).pathname);

const sources = {};
for (const file of process.argv.slice(2)) {
  sources[path.basename(file)] = { content: fs.readFileSync(file, 'utf8') };
}

const input = {
  language: 'Solidity',
  sources,
  settings: {
    optimizer: { enabled: true, runs: 200 },
    evmVersion: 'cancun',
    outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object'] } },
  },
};

function findImports(name) {
  const file = path.join(here, 'node_modules', name);
  return fs.existsSync(file) ? { contents: fs.readFileSync(file, 'utf8') } : { error: `not found: ${name}` };
}

const output = JSON.parse(solc.compile(JSON.stringify(input), { import: findImports }));
const errors = (output.errors ?? []).filter((e) => e.severity === 'error');
if (errors.length > 0) {
  console.error(errors.map((e) => e.formattedMessage).join('\n'));
  process.exit(1);
}

const contracts = {};
for (const file of Object.keys(sources)) {
  for (const [name, contract] of Object.entries(output.contracts[file] ?? {})) {
    contracts[name] = { abi: contract.abi, bytecode: '0x' + contract.evm.bytecode.object };
  }
}

process.stdout.write(JSON.stringify(contracts));
