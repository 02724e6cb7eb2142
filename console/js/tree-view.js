// The service tree: one row per node (level.value), coloured by the worst health and sync below
// it, with counts. Collapsed below the cluster level at first; what is open stays open across live
// updates. Children are built only when their node is open, so a 10,000-job tree costs what shows.
import { getJson } from './api.js';
import { badge, h, jobHref, link, show, shortSha } from './dom.js';

const LEVELS = ['cop', 'owt', 'pdl', 'cluster', 'servicegroup', 'service', 'job'];
/** Tags the user opened or closed, kept while the page lives. */
const opened = new Set();
const closed = new Set();
let openDepth = LEVELS.indexOf('pdl');

function isOpen(node) {
  if (opened.has(node.tag)) return true;
  if (closed.has(node.tag)) return false;
  return LEVELS.indexOf(node.level) <= openDepth;
}

export function treeView(main) {
  let tree;
  const draw = () => show(main, render(tree, draw));
  return {
    async load() {
      tree = await getJson('/api/tree');
      draw();
    },
    wants: (changed) => changed.full || changed.jobs.length > 0 || changed.hosts.length > 0 || changed.status,
  };
}

function render(tree, draw) {
  const levelButtons = LEVELS.map((level, index) =>
    h('button', { type: 'button', class: index === openDepth ? 'active' : null, 'data-level': level, onclick: () => { openDepth = index; opened.clear(); closed.clear(); draw(); } }, level),
  );
  return [
    h('h1', {}, 'Service tree', tree.commit ? h('small', { class: 'muted' }, ` at ${shortSha(tree.commit)}`) : null),
    h('p', { class: 'toolbar' }, 'Open down to: ', levelButtons),
    tree.roots.length === 0 ? h('p', { class: 'muted' }, tree.commit ? 'The commit in force declares no TreeNode and no Job.' : 'No commit in force on this controller yet (or it is a standby).') : null,
    h('ul', { class: 'tree', id: 'tree' }, tree.roots.map((root) => renderNode(root, draw))),
    tree.unlisted.length
      ? [h('h2', {}, 'Assigned but not in the commit in force'), h('ul', { class: 'tree' }, tree.unlisted.map((job) => h('li', {}, h('div', { class: 'node' }, link(jobHref(job.name), job.name), ' ', badge(job.state), ' ', badge(job.sync)))))]
      : null,
  ];
}

function renderNode(node, draw) {
  const open = isOpen(node);
  const toggle = () => {
    if (open) { closed.add(node.tag); opened.delete(node.tag); } else { opened.add(node.tag); closed.delete(node.tag); }
    draw();
  };
  const label = node.job ? link(jobHref(node.job.name), `${node.level}.${node.value}`) : `${node.level}.${node.value}`;
  const counts = node.job
    ? `v${node.job.version} · ${node.job.healthy}/${node.job.desired} healthy`
    : `jobs ${node.jobs} · hosts ${node.hosts} · instances ${node.healthy}/${node.instances} healthy`;
  const row = h(
    'div',
    { class: `node tone-${node.health ? toneOf(node.health) : 'none'}`, title: node.tag },
    node.children.length ? h('button', { type: 'button', class: 'toggle', 'aria-expanded': String(open), onclick: toggle }, open ? '▾' : '▸') : h('span', { class: 'toggle-space' }),
    label, ' ',
    node.health ? badge(node.health) : null, ' ',
    node.sync ? badge(node.sync) : null, ' ',
    h('span', { class: 'muted' }, counts),
    node.services ? h('span', { class: 'muted' }, ` · services ${node.services.join(', ')}`) : null,
  );
  return h('li', { class: 'tree-node', 'data-tag': node.tag }, row, open && node.children.length ? h('ul', {}, node.children.map((child) => renderNode(child, draw))) : null);
}

function toneOf(state) {
  return { Healthy: 'good', Progressing: 'busy', Missing: 'warn', Degraded: 'bad' }[state] ?? 'none';
}
