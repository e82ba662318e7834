// Signs one Anpm request with ethers 6, as a wallet would (eth_signTypedData_v4 semantics). Reads from the file named by
// argv[2]: {key, domain, types, primaryType, message} where domain and types are GET /api/v1/eip712's answer; prints the
// signature. Only the primary type is handed to ethers (Anpm's types have no nested structs).
import { readFileSync } from 'node:fs';
import { Wallet } from 'ethers';

const request = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const wallet = new Wallet(request.key);
const types = { [request.primaryType]: request.types[request.primaryType] };
process.stdout.write(await wallet.signTypedData(request.domain, types, request.message));
