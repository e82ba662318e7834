// Reads cases from the file named by argv[2] and answers, for each, what ethers 6 computes:
//   typed-data cases: the EIP-712 digest, ethers' signature with the case's key, and the address that recovers from
//   Anpm's signature; personal cases: the EIP-191 hash, ethers' signature, and the recovered address of Anpm's signature.
import { readFileSync } from 'node:fs';
import { TypedDataEncoder, Wallet, hashMessage, getBytes, verifyMessage, verifyTypedData } from 'ethers';

const cases = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const results = [];
for (const c of cases) {
  const wallet = new Wallet(c.key);
  try {
    if (c.kind === 'typed') {
      const types = { ...c.document.types };
      delete types.EIP712Domain;
      const { domain, message } = c.document;
      results.push({
        digest: TypedDataEncoder.hash(domain, types, message),
        signature: wallet.signingKey.sign(TypedDataEncoder.hash(domain, types, message)).serialized,
        recovered: verifyTypedData(domain, types, message, c.anpmSignature),
        address: wallet.address,
      });
    } else {
      const message = getBytes(c.message);
      results.push({
        digest: hashMessage(message),
        signature: wallet.signMessageSync(message),
        recovered: verifyMessage(message, c.anpmSignature),
        address: wallet.address,
      });
    }
  } catch (error) {
    results.push({ error: String(error && error.message || error) });
  }
}
process.stdout.write(JSON.stringify(results));
