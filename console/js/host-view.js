// A host: what the repo declares (ip, labels, online/spare/maintenance), what its agent reports
// about the machine, whether the controller counts it lost, and its instances.
import { getJson } from './api.js';
import { badge, facts, h, show, time } from './dom.js';
import { instanceTable, PAGE_SIZE, stateCounts } from './instance-table.js';

const GIB = 1024 ** 3;

export function hostView(main, name) {
  let offset = 0;
  const load = async () => {
    const host = await getJson(`/api/hosts/${encodeURIComponent(name)}?offset=${offset}&limit=${PAGE_SIZE}`);
    show(main, render(host, (next) => { offset = next; void load(); }));
  };
  return { load, wants: (changed) => changed.full || changed.hosts.includes(name) };
}

function render(host, onPage) {
  const declared = host.declared;
  const agent = host.agent;
  return [
    h('h1', {}, 'Host ', host.name, ' ', declared ? badge(declared.state, { class: `badge ${declared.state === 'online' ? 'good' : 'none'}` }) : null, ' ', agent ? badge('agent live', { class: 'badge good', title: 'the agent holds its lease' }) : badge('no agent', { class: 'badge bad', title: 'no agent holds this host\'s lease' })),
    facts([
      ['IP', declared?.ip],
      ['Labels', declared ? Object.entries(declared.labels).map(([key, value]) => `${key}=${value}`).join(', ') : 'not declared in the commit in force'],
      ['Declared in', host.file ? h('code', {}, host.file) : null],
      ['Lost', host.lost ? ['since ', time(host.lost.since), host.lost.rescheduledAt ? [', replicas moving since ', time(host.lost.rescheduledAt)] : null, host.lost.partitioned ? ' (its idc looks partitioned: nothing moves)' : null] : null],
    ]),
    h('h2', {}, 'Machine'),
    agent
      ? facts([
          ['Hostname', agent.hostname],
          ['Addresses', agent.ips.join(', ')],
          ['CPUs', String(agent.cpus)],
          ['Memory', `${(agent.memoryBytes / GIB).toFixed(1)} GiB`],
          ['Disk free', `${(agent.diskFreeBytes / GIB).toFixed(1)} GiB`],
          ['OS', agent.os],
          ['Agent', agent.agentVersion],
          ['Agent up since', time(agent.startedAt)],
          ['Last heartbeat', time(agent.updatedAt)],
        ])
      : h('p', { class: 'muted' }, 'No agent holds this host\'s lease: its facts are unknown and its instances\' reports are stale.'),
    h('h2', {}, 'Instances'),
    stateCounts(host.states),
    instanceTable(host.instances, 'job', onPage),
  ];
}
