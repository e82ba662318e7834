// The web pages of the reference host: a hash router over the pages, and the wallet panel.
import { config } from './api.js';
import { wallet } from './wallet.js';
import { h, short } from './ui.js';
import { creditsPage } from './pages/credits.js';
import { poolsPage, poolPage } from './pages/pools.js';
import { stakePage } from './pages/stake.js';
import { tryPage } from './pages/try.js';
import { contributionsPage } from './pages/contributions.js';
import { adminPage } from './pages/admin.js';

const routes = [
  [/^#\/credits$/, () => creditsPage()],
  [/^#\/pools$/, () => poolsPage()],
  [/^#\/pools\/([A-Za-z0-9._:-]+)$/, id => poolPage(id)],
  [/^#\/stake$/, () => stakePage()],
  [/^#\/try$/, () => tryPage()],
  [/^#\/contributions$/, () => contributionsPage()],
  [/^#\/admin$/, () => adminPage()],
];

async function render() {
  const hash = location.hash || '#/pools';
  const view = document.getElementById('view');
  for (const link of document.querySelectorAll('#nav a')) {
    link.classList.toggle('active', hash.startsWith(link.getAttribute('href')));
  }

  for (const [pattern, page] of routes) {
    const match = hash.match(pattern);
    if (match) {
      view.replaceChildren(h('p', { class: 'muted' }, 'Loading…'));
      try {
        // A page returns nodes, text and (for cards it hides) null or false: those are left out, never shown as "null".
        view.replaceChildren(...[await page(...match.slice(1))].flat(Infinity).filter(child => child !== null && child !== undefined && child !== false));
      } catch (error) {
        view.replaceChildren(h('section', { class: 'card' }, h('h2', {}, 'Something went wrong'), h('p', { class: 'message error', testid: 'page-error' }, error.message)));
      }

      view.dataset.page = hash.slice(2).split('/')[0];
      return;
    }
  }

  view.replaceChildren(h('section', { class: 'card' }, h('h2', {}, 'No such page'), h('a', { href: '#/pools' }, 'See the pools')));
}

async function renderWallet() {
  const panel = document.getElementById('wallet');
  const address = await wallet.address();
  const children = [h('span', { class: 'kind', testid: 'wallet-kind' }, wallet.label), h('code', { testid: 'wallet-address', title: address }, short(address))];
  if (wallet.kind === 'development') {
    const use = h('button', { class: 'secondary', type: 'button', testid: 'wallet-use-key', onclick: () => {
      const key = prompt('Private key to use (hex, e.g. a development role key from the host\'s data/dev-keys.json):');
      if (key) {
        try {
          wallet.use(key);
          location.reload();
        } catch {
          alert('That is not a private key.');
        }
      }
    } }, 'Use a key');
    children.push(use);
  }

  panel.replaceChildren(...children);
  const { admins, feeder } = await config();
  document.querySelector('[data-testid="nav-admin"]').hidden = !(admins.includes(address) || feeder === address);
}

// Starts the app: the wallet panel (which needs /config and the wallet's account), then the page. When either fails —
// the host unreachable, the wallet refusing — the page says why and offers to try again instead of loading forever.
async function start() {
  try {
    await renderWallet();
  } catch (error) {
    const reason = error?.code === 4001 ? `The wallet refused: ${error.message}` : (error?.message ?? String(error));
    document.getElementById('view').replaceChildren(h('section', { class: 'card' },
      h('h2', {}, 'The app could not start'),
      h('p', { class: 'message error', testid: 'start-error' }, reason),
      h('button', { type: 'button', testid: 'start-retry', onclick: () => start() }, 'Try again')));
    return;
  }

  await render();
}

window.addEventListener('hashchange', render);
await start();
