// Instances, a page at a time (the server sends one page of at most a few hundred rows), for the
// job page (one row per host) and the host page (one row per job).
import { badge, h, hostHref, jobHref, link, shortSha, time } from './dom.js';

export const PAGE_SIZE = 200;


/** `by` is 'host' on a job page, 'job' on a host page: the column that names the other side. */
function pager(page, onPage) {
  const pages = Math.max(1, Math.ceil(page.total / page.limit));
  const at = Math.floor(page.offset / page.limit) + 1;
  return h(
    'p',
    { class: 'pager' },
    h('button', { type: 'button', class: 'previous', disabled: page.offset === 0, onclick: () => onPage(Math.max(0, page.offset - page.limit)) }, '‹ previous'),
    ` page ${at} of ${pages} (${page.total} instance${page.total === 1 ? '' : 's'}) `,
    h('button', { type: 'button', class: 'next', disabled: page.offset + page.limit >= page.total, onclick: () => onPage(page.offset + page.limit) }, 'next ›'),
  );
}

function instanceRow(row, by) {
  return h(
    'tr',
    { 'data-host': row.host, 'data-job': row.job },
    h('td', {}, by === 'host' ? link(hostHref(row.host), row.host) : link(jobHref(row.job), row.job), row.ip ? h('span', { class: 'muted' }, ` ${row.ip}`) : null),
    h('td', { class: 'state' }, badge(row.state), row.agentLive ? null : [' ', badge('no agent', { class: 'badge bad', title: 'no live agent: this report is stale' })], row.orphaned ? [' ', h('span', { class: 'muted', title: row.orphaned.reason }, 'orphaned')] : null),
    h('td', {}, row.version ?? '', row.upToDate ? null : h('span', { class: 'muted', title: 'the agent does not report the assigned spec yet' }, ' (not yet)')),
    h('td', {}, h('code', {}, row.release ?? '')),
    h('td', { class: 'n' }, String(row.restarts)),
    h('td', { class: 'error' }, row.lastError ?? (row.lastExit ? `exit ${row.lastExit.code ?? row.lastExit.signal}` : '')),
    h('td', {}, row.since ? time(row.since) : ''),
    h('td', {}, h('code', { title: row.specHash ?? '' }, shortSha(row.specHash)), row.commit ? [' from ', h('code', { title: row.commit }, shortSha(row.commit))] : null),
  );
}

/** `by` is 'host' on a job page, 'job' on a host page: the column that names the other side. */
export function instanceTable(page, by, onPage) {
  const paged = page.total > page.limit;
  return [
    paged ? pager(page, onPage) : h('p', { class: 'muted' }, `${page.total} instance${page.total === 1 ? '' : 's'}`),
    h('table', { class: 'instances' },
      h('thead', {}, h('tr', {}, [by === 'host' ? 'Host' : 'Job', 'State', 'Version', 'Release', 'Restarts', 'Last error', 'Since', 'Spec (commit)'].map((label) => h('th', {}, label)))),
      h('tbody', {}, page.items.map((row) => instanceRow(row, by)))),
    paged ? pager(page, onPage) : null,
  ];
}

export function stateCounts(states) {
  return h('p', { class: 'counts' }, Object.entries(states).sort().map(([state, count]) => [badge(state), ` ${count} `]));
}
