// Small DOM helpers: element building, forms, and actions that show progress and errors in plain words.

/** Builds an element: h('button', { class: 'primary', onclick }, 'Buy'). */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on')) element.addEventListener(name.slice(2), value);
    else if (name === 'testid') element.dataset.testid = value;
    else element.setAttribute(name, value === true ? '' : value);
  }

  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }

  return element;
}

/** A labelled input. */
export function field(label, input) {
  return h('label', { class: 'field' }, h('span', {}, label), input);
}

/** A section with a title. */
export function card(title, ...children) {
  return h('section', { class: 'card' }, title ? h('h2', {}, title) : null, ...children);
}

// The outcome of the last action per message line, shown again when the page is drawn anew (refreshSoon).
const remembered = new Map();

/** A message line whose text and tone an action sets (kept across the page's refresh after the action). */
export function message(testid) {
  const line = h('p', { class: 'message', role: 'status', 'aria-live': 'polite', testid });
  const last = remembered.get(testid);
  if (last && last.hash === location.hash && Date.now() - last.at < 5000) {
    line.className = last.className;
    line.textContent = last.text;
  }

  remembered.delete(testid);
  return line;
}

/**
 * Runs `work` for a button: the button is disabled and says "Working…" meanwhile, `output` says what happened (the
 * result of `work`, a string) or what went wrong in plain words.
 */
export async function act(button, output, work) {
  const text = button.textContent;
  button.disabled = true;
  button.textContent = 'Working…';
  output.className = 'message busy';
  output.textContent = 'Working…';
  try {
    const done = await work();
    output.className = 'message ok';
    output.textContent = done ?? 'Done.';
  } catch (error) {
    output.className = 'message error';
    output.textContent = error.message;
  } finally {
    button.disabled = false;
    button.textContent = text;
    if (output.dataset.testid) {
      remembered.set(output.dataset.testid, { hash: location.hash, at: Date.now(), className: output.className, text: output.textContent });
    }
  }
}

/** A table from rows of cells. */
export function table(headings, rows, testid) {
  return h('div', { class: 'table-wrap' }, h('table', { testid },
    h('thead', {}, h('tr', {}, headings.map(x => h('th', {}, x)))),
    h('tbody', {}, rows.length ? rows.map(r => h('tr', {}, r.map(c => h('td', {}, c)))) : h('tr', {}, h('td', { colspan: headings.length, class: 'muted' }, 'Nothing yet.')))));
}

/** A copy-to-clipboard code block. */
export function code(text, testid) {
  const pre = h('pre', { testid }, h('code', {}, text));
  const copy = h('button', { class: 'copy', type: 'button', onclick: async () => {
    try {
      await navigator.clipboard.writeText(text);
      copy.textContent = 'Copied';
    } catch {
      copy.textContent = 'Select and copy';
    }
  } }, 'Copy');
  return h('div', { class: 'code' }, copy, pre);
}

export function short(address) {
  return address ? `${address.slice(0, 6)}…${address.slice(-4)}` : '';
}

/** Shows the current page again after `ms` milliseconds (fresh balances), unless the user has moved to another page. */
export function refreshSoon(ms = 800) {
  const here = location.hash;
  setTimeout(() => {
    if (location.hash === here) window.dispatchEvent(new HashChangeEvent('hashchange'));
  }, ms);
}

/** Waits `ms` milliseconds. */
export const sleep = ms => new Promise(resolve => setTimeout(resolve, ms));
