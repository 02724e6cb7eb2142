// Building the page: elements and text nodes only. Every value from the server (names, messages,
// errors, configs — all of it editable by whoever can push to the repo or write to etcd) goes in
// as text, never as markup; nothing here touches innerHTML.

/** h('td', { class: 'n', title: 'x' }, 'text', child, …): attributes as attributes, children as nodes or text. */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') element.addEventListener(name.slice(2), value);
    else element.setAttribute(name, value === true ? '' : String(value));
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replaces what `element` shows. */
export function show(element, ...children) {
  element.replaceChildren();
  append(element, children);
}

const TONES = {
  Synced: 'good', Healthy: 'good', Running: 'good',
  Progressing: 'busy', Starting: 'busy', InProgress: 'busy', NoStatus: 'busy',
  OutOfSync: 'warn', Missing: 'warn', Unknown: 'none', Stopped: 'none', Removing: 'none',
  Rejected: 'bad', Failed: 'bad', Degraded: 'bad', Unhealthy: 'bad', CrashLoop: 'bad',
};

export function tone(state) {
  return TONES[state] ?? 'none';
}

export function badge(text, extra = {}) {
  return h('span', { class: `badge ${tone(text)}`, ...extra }, text);
}

export function link(href, text) {
  return h('a', { href }, text);
}

export const jobHref = (name) => `#/jobs/${encodeURIComponent(name)}`;
export const hostHref = (name) => `#/hosts/${encodeURIComponent(name)}`;

export function shortSha(sha) {
  return sha ? String(sha).slice(0, 10) : '';
}

export function firstLine(text) {
  return String(text ?? '').split('\n', 1)[0];
}

/** "3 min ago"; the exact time goes in a title. */
export function ago(time) {
  const then = Date.parse(time);
  if (Number.isNaN(then)) return String(time ?? '');
  const seconds = Math.round((Date.now() - then) / 1000);
  if (seconds < 5) return 'just now';
  if (seconds < 60) return `${seconds} s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)} h ago`;
  return `${Math.floor(seconds / 86400)} d ago`;
}

export function time(value) {
  return h('time', { datetime: value, title: value }, ago(value));
}

/** A table: header labels and rows of cells (each a node, text, or [attributes, …children]). */
export function table(headers, rows, attributes = {}) {
  return h(
    'table',
    attributes,
    h('thead', {}, h('tr', {}, headers.map((label) => h('th', {}, label)))),
    h('tbody', {}, rows),
  );
}

/** A definition list of [label, value] pairs, skipping empty values. */
export function facts(pairs) {
  return h('dl', { class: 'facts' }, pairs.filter(([, value]) => value !== undefined && value !== null && value !== '').map(([label, value]) => [h('dt', {}, label), h('dd', {}, value)]));
}
