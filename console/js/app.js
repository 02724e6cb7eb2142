// The console: a header with the commit in force and the sync result, and one view at a time
// chosen by the URL's hash. Live: one EventSource on /api/events; each `change` event says which
// jobs, hosts and naming entries changed, and the view on screen refetches only if it shows one.
import { ApiError } from './api.js';
import { badge, h, link, show, shortSha, firstLine, time } from './dom.js';
import { historyView } from './history-view.js';
import { hostView } from './host-view.js';
import { jobView } from './job-view.js';
import { namingView } from './naming-view.js';
import { treeView } from './tree-view.js';

const main = document.getElementById('main');
const headline = document.getElementById('headline');
const connection = document.getElementById('connection');

/** The view on screen: { load(): Promise, wants(change): boolean }. */
let current;
let loading = Promise.resolve();

function route() {
  const hash = decodeHash(location.hash.replace(/^#\/?/, ''));
  const [page, ...rest] = hash.split('/');
  const name = rest.join('/');
  if (page === 'jobs' && name) return jobView(main, name);
  if (page === 'hosts' && name) return hostView(main, name);
  if (page === 'naming') return namingView(main);
  if (page === 'history') return historyView(main);
  return treeView(main);
}

/** A hand-typed hash with a stray % is taken as it is rather than breaking the page. */
function decodeHash(text) {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function navigate() {
  current = route();
  for (const anchor of document.querySelectorAll('header nav a')) anchor.classList.toggle('active', anchor.getAttribute('href') === (location.hash || '#/'));
  refresh();
}

/** Loads one at a time: a burst of changes while a load runs ends in one more load, not many. */
let again = false;
function refresh() {
  if (again) return;
  again = true;
  loading = loading.then(async () => {
    again = false;
    const view = current;
    try {
      await view.load();
    } catch (error) {
      if (view === current) showError(error);
    }
  });
}

function showError(error) {
  if (error instanceof ApiError && error.status === 404 && error.body) {
    const suggestions = error.body.suggestions ?? [];
    const href = (name) => `#/${error.body.kind === 'host' ? 'hosts' : 'jobs'}/${encodeURIComponent(name)}`;
    show(main, h('div', { class: 'box bad-box' }, h('p', {}, error.message), suggestions.length ? h('p', {}, 'Did you mean: ', suggestions.map((name, index) => [index ? ', ' : '', link(href(name), name)])) : null));
    return;
  }
  show(main, h('div', { class: 'box bad-box' }, h('p', {}, `Could not load: ${error.message}`)));
}

function renderHeadline(status) {
  const commit = status.commit;
  const states = Object.entries(status.jobStates ?? countStates(status.jobs ?? [])).sort();
  const lost = status.lostHosts ?? [];
  show(
    headline,
    h('div', { class: 'headline' },
      h('span', { id: 'sync-result' }, badge(status.result)),
      commit
        ? h('span', {}, 'commit in force ', h('code', { title: commit.sha }, shortSha(commit.sha)), ' ', h('q', {}, firstLine(commit.message)), ' by ', commit.author, ', ', time(commit.time))
        : h('span', { class: 'muted' }, 'no commit in force yet'),
      h('span', { class: 'counts' }, states.map(([state, count]) => [badge(state), ` ${count} `])),
      lost.length ? h('span', {}, badge(`${lost.length} lost`, { class: 'badge bad', title: 'hosts assigned work whose agent holds no lease' }), ' hosts: ', lost.slice(0, 5).map((host, index) => [index ? ', ' : '', link(`#/hosts/${encodeURIComponent(host)}`, host)]), lost.length > 5 ? ' …' : '') : null,
    ),
    status.rejected
      ? h('div', { class: 'box bad-box', id: 'rejected' },
          h('p', {}, 'Rejected commit ', h('code', { title: status.rejected.sha }, shortSha(status.rejected.sha)), ': not applied, the commit above stays in force.'),
          h('ul', {}, status.rejected.errors.slice(0, 20).map((error) => h('li', {}, h('code', {}, error)))),
          status.rejected.errors.length > 20 ? h('p', { class: 'muted' }, `and ${status.rejected.errors.length - 20} more`) : null)
      : null,
  );
}

function countStates(jobs) {
  const counts = {};
  for (const job of jobs) counts[job.state] = (counts[job.state] ?? 0) + 1;
  return counts;
}

function connect() {
  const events = new EventSource('/api/events');
  events.addEventListener('open', () => {
    connection.textContent = 'live';
    connection.className = 'connection live';
  });
  events.addEventListener('error', () => {
    connection.textContent = 'reconnecting…';
    connection.className = 'connection down';
  });
  events.addEventListener('snapshot', (event) => {
    renderHeadline(JSON.parse(event.data).status);
    // Whatever happened while disconnected: the view starts over from the server's state.
    refresh();
  });
  events.addEventListener('change', (event) => {
    const change = JSON.parse(event.data);
    renderHeadline(change.status);
    if (current.wants(change.changed)) refresh();
  });
}

window.addEventListener('hashchange', navigate);
navigate();
connect();
