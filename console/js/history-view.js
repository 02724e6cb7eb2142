// The audit trail: every reconcile that changed something and every rejection — commit, author,
// message, what triggered it, what it did and how it ended — newest first, a page at a time.
import { getJson } from './api.js';
import { badge, firstLine, h, show, shortSha, time } from './dom.js';

const PAGE = 50;

export function historyView(main) {
  /** Cursors of the pages seen, so "newer" can go back; [undefined] is the newest page. */
  const cursors = [undefined];
  const load = async () => {
    const before = cursors[cursors.length - 1];
    const page = await getJson(`/api/history?limit=${PAGE}${before ? `&before=${encodeURIComponent(before)}` : ''}`);
    show(main, render(page, cursors.length > 1, {
      newer: () => { cursors.pop(); void load(); },
      older: () => { cursors.push(page.next); void load(); },
    }));
  };
  // Only the newest page grows: older pages do not change.
  return { load, wants: (changed) => cursors.length === 1 && (changed.history || changed.full) };
}

function render(page, hasNewer, { newer, older }) {
  const rows = page.records.map((record) => h('tr', {},
    h('td', {}, time(record.time)),
    h('td', {}, h('code', { title: record.commit.sha }, shortSha(record.commit.sha))),
    h('td', {}, record.commit.author),
    h('td', {}, firstLine(record.commit.message), record.note ? h('div', { class: 'muted' }, record.note) : null),
    h('td', {}, record.trigger),
    h('td', {}, badge(record.outcome)),
    h('td', {}, record.actionCount === 0 ? '0' : h('details', {},
      h('summary', {}, `${record.actionCount} action${record.actionCount === 1 ? '' : 's'}`),
      h('ul', { class: 'actions' }, record.actions.map((action) => h('li', {}, h('code', {}, describe(action))))),
      record.actionCount > record.actions.length ? h('p', { class: 'muted' }, `and ${record.actionCount - record.actions.length} more`) : null)),
  ));
  return [
    h('h1', {}, 'History'),
    page.records.length === 0 ? h('p', { class: 'muted' }, 'No audit records.') : h('table', { class: 'history' },
      h('thead', {}, h('tr', {}, ['When', 'Commit', 'Author', 'Message', 'Trigger', 'Outcome', 'Actions'].map((label) => h('th', {}, label)))),
      h('tbody', {}, rows)),
    h('p', { class: 'pager' },
      h('button', { type: 'button', disabled: !hasNewer, onclick: newer }, '‹ newer'), ' ',
      h('button', { type: 'button', disabled: !page.next, onclick: older }, 'older ›')),
  ];
}

/** An audit action as one line: its type, then its fields. */
function describe(action) {
  if (typeof action !== 'object' || action === null) return String(action);
  const { type, ...rest } = action;
  return [type, ...Object.entries(rest).map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`)].join(' ');
}
