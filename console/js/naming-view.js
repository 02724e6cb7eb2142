// Naming: every service with its VIP and live endpoints, and every director with its renderer's
// last status and the keepalived.conf in place (when the controller can read it).
import { getJson } from './api.js';
import { badge, facts, h, hostHref, jobHref, link, show, shortSha, time } from './dom.js';

export function namingView(main) {
  return {
    async load() {
      show(main, render(await getJson('/api/naming')));
    },
    wants: (changed) => changed.full || changed.naming.length > 0,
  };
}

function render(naming) {
  return [
    h('h1', {}, 'Naming'),
    h('h2', {}, 'Services'),
    naming.services.length === 0 ? h('p', { class: 'muted' }, 'No services.') : h('table', { class: 'services' },
      h('thead', {}, h('tr', {}, ['Service', 'Job', 'VIP', 'Directors', 'Live endpoints'].map((label) => h('th', {}, label)))),
      h('tbody', {}, naming.services.map((service) => h('tr', { 'data-service': service.name },
        h('td', {}, service.name),
        h('td', {}, service.job ? link(jobHref(service.job), service.job) : '', service.port ? ` :${service.port}` : ''),
        h('td', {}, service.vip ? `${service.vip.address}:${service.vip.port}/${service.vip.protocol} ${service.vip.lbAlgo} ${service.vip.lbKind}` : h('span', { class: 'muted' }, 'none')),
        h('td', {}, service.directors.map((director, index) => [index ? ', ' : '', link(hostHref(director), director)])),
        h('td', {},
          badge(service.endpointCount > 0 ? 'Healthy' : 'Missing', { title: 'healthy instances registered in naming' }), ` ${service.endpointCount} `,
          h('span', { class: 'endpoints' }, service.endpoints.map((endpoint, index) => [index ? ', ' : '', link(hostHref(endpoint.host), `${endpoint.ip}:${endpoint.port}`)])),
          service.endpointCount > service.endpoints.length ? ` … and ${service.endpointCount - service.endpoints.length} more` : ''),
      )))),
    h('h2', {}, 'Directors'),
    naming.directors.length === 0 ? h('p', { class: 'muted' }, 'No directors.') : naming.directors.map(director),
  ];
}

function director(view) {
  const render = view.render;
  const state = !render ? 'Unknown' : render.held ? 'Degraded' : render.lastError && (!render.lastRenderAt || render.lastErrorAt > render.lastRenderAt) ? 'Failed' : 'Synced';
  return h('section', { class: 'box director', 'data-director': view.name },
    h('h3', {}, link(hostHref(view.name), view.name), ' ', badge(state), view.agentLive ? null : [' ', badge('no agent', { class: 'badge bad', title: 'no live agent on this director' })]),
    render
      ? facts([
          ['File', h('code', {}, render.target)],
          ['Rendered', render.lastRenderAt ? [time(render.lastRenderAt), render.lastRenderCommit ? [' from ', h('code', {}, shortSha(render.lastRenderCommit))] : null, ` (etcd revision ${render.lastRenderRevision})`] : 'never'],
          ['Checksum', render.checksum ? h('code', {}, render.checksum) : null],
          ['Held', render.held ? [render.heldReason ?? '', ' since ', time(render.heldSince)] : null],
          ['Last error', render.lastError ? [render.lastError, ' ', time(render.lastErrorAt)] : null],
          ['Skipped inputs', render.skipped ? String(render.skipped) : null],
          ['Renders / writes', `${render.renders} / ${render.writes}`],
        ])
      : h('p', { class: 'muted' }, 'This director has not reported a render.'),
    'text' in view.config
      ? h('details', {}, h('summary', {}, 'Rendered config'), h('pre', { class: 'config' }, view.config.text))
      : h('p', { class: 'muted' }, `Config not shown: ${view.config.unavailable}.`),
  );
}
