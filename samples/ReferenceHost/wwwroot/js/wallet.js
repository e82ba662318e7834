// The wallet that signs requests: the browser's injected EIP-1193 wallet (window.ethereum) when there is one, otherwise a
// built-in development wallet whose private key is kept in this browser's local storage. Both sign Anpm's EIP-712 types
// with eth_signTypedData_v4 semantics.
import { Wallet } from '/lib/ethers.min.js';

const storageKey = 'anpm.devWallet.key';

class InjectedWallet {
  constructor(provider) {
    this.provider = provider;
    this.kind = 'injected';
    this.label = 'Browser wallet';
  }

  async address() {
    const [account] = await this.provider.request({ method: 'eth_requestAccounts' });
    return account.toLowerCase();
  }

  async signTypedData(domain, primaryType, fields, message) {
    const typedData = {
      types: {
        EIP712Domain: [
          { name: 'name', type: 'string' }, { name: 'version', type: 'string' },
          { name: 'chainId', type: 'uint256' }, { name: 'verifyingContract', type: 'address' },
        ],
        [primaryType]: fields,
      },
      domain,
      primaryType,
      message,
    };
    return this.provider.request({ method: 'eth_signTypedData_v4', params: [await this.address(), JSON.stringify(typedData)] });
  }
}

class DevelopmentWallet {
  constructor() {
    this.kind = 'development';
    this.label = 'Development wallet (key kept in this browser — for testing only)';
    let key = localStorage.getItem(storageKey);
    if (!key) {
      key = Wallet.createRandom().privateKey;
      localStorage.setItem(storageKey, key);
    }

    this.key = new Wallet(key);
  }

  async address() {
    return this.key.address.toLowerCase();
  }

  async signTypedData(domain, primaryType, fields, message) {
    return this.key.signTypedData(domain, { [primaryType]: fields }, message);
  }

  /** Replaces the key (e.g. with a development role key from the host's data/dev-keys.json). */
  use(privateKey) {
    this.key = new Wallet(privateKey.trim());
    localStorage.setItem(storageKey, this.key.privateKey);
  }

  reset() {
    localStorage.removeItem(storageKey);
    this.key = new Wallet(Wallet.createRandom().privateKey);
    localStorage.setItem(storageKey, this.key.privateKey);
  }
}

export const wallet = window.ethereum ? new InjectedWallet(window.ethereum) : new DevelopmentWallet();
