// A job: health and sync, the rollout (progress, deadline, and why it failed and what was put
// back), the spec in force and the commits that put it in place, and its instances page by page.
import { getJson } from './api.js';
import { badge, facts, h, show, shortSha, time } from './dom.js';
import { instanceTable, PAGE_SIZE, stateCounts } from './instance-table.js';

export function jobView(main, name) {
  let offset = 0;
  let onlyState = '';
  let job;
  const load = async () => {
    const query = new URLSearchParams({ offset: String(offset), limit: String(PAGE_SIZE) });
    if (onlyState) query.set('state', onlyState);
    job = await getJson(`/api/jobs/${encodeURIComponent(name)}?${query}`);
    show(main, render(job, { onPage: (next) => { offset = next; void load(); }, onState: (state) => { onlyState = state; offset = 0; void load(); }, onlyState }));
  };
  return { load, wants: (changed) => changed.full || changed.jobs.includes(name) };
}

function render(job, { onPage, onState, onlyState }) {
  const health = job.health;
  const filter = h('select', { 'aria-label': 'show instances in state', onchange: (event) => onState(event.target.value) },
    h('option', { value: '' }, 'all states'),
    Object.keys(job.states).sort().map((state) => h('option', { value: state, selected: state === onlyState }, state)));
  return [
    h('h1', {}, 'Job ', h('span', { id: 'job-name' }, job.name), ' ', badge(job.state, { id: 'job-state' }), ' ', badge(job.sync, { id: 'job-sync' })),
    facts([
      ['Tag', job.tag ? h('code', {}, job.tag) : null],
      ['Healthy', health ? `${health.healthy} of ${health.desired} (${health.progressing} pending)` : null],
      ['Version', health?.version],
      ['Declared in', job.file ? h('code', {}, job.file) : 'not in the commit in force (being removed)'],
      ['Assigned by', job.assignedBy.length ? job.assignedBy.map(({ commit, instances }, index) => [index ? ', ' : '', h('code', { title: commit }, shortSha(commit)), ` (${instances})`]) : null],
      ['Services', job.services.length ? job.services.map((service) => `${service.name} → ${service.port}${service.vip ? ` (VIP ${service.vip})` : ''}`).join(', ') : null],
    ]),
    rollout(job),
    h('h2', {}, 'Instances'),
    stateCounts(job.states),
    h('p', { class: 'toolbar' }, 'Show: ', filter),
    instanceTable(job.instances, 'host', onPage),
    job.spec ? h('details', {}, h('summary', {}, 'Spec in force', job.commitInForce ? [' (commit ', h('code', {}, shortSha(job.commitInForce)), ')'] : null), h('pre', { class: 'spec' }, JSON.stringify(job.spec, null, 2))) : null,
  ];
}

/** The rollout as /api/status reports it when present; the bare rollouts/ record otherwise. */
function rollout(job) {
  const view = job.rollout;
  if (view) {
    const failure = view.failure;
    return h('div', { class: `box ${view.state === 'Failed' ? 'bad-box' : ''}`, id: 'rollout' },
      h('p', {}, 'Rollout of ', h('code', {}, shortSha(view.commit)), ' ', badge(view.state), ` batch ${view.batch} of ${view.batches}, ${view.done} of ${view.total} instances done`, view.deadline ? [', batch deadline ', time(view.deadline)] : null),
      h('progress', { max: String(Math.max(1, view.total)), value: String(view.done) }),
      failure
        ? h('p', {}, 'Failed ', time(failure.failedAt), ': ', failure.reason, failure.hosts.length ? ` (hosts: ${failure.hosts.join(', ')})` : '', failure.revertedTo ? [' — reverted to ', h('code', {}, shortSha(failure.revertedTo))] : ' — nothing reverted')
        : null);
  }
  const record = job.rolloutRecord;
  if (!record) return null;
  return h('div', { class: `box ${record.state === 'Failed' ? 'bad-box' : ''}`, id: 'rollout' },
    h('p', {}, 'Rollout of ', h('code', {}, shortSha(record.commit)), ' ', badge(record.state), ' started ', time(record.startedAt)),
    record.reason ? h('p', {}, 'Failed ', record.failedAt ? time(record.failedAt) : '', ': ', record.reason) : null);
}
