import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Host, Job, JobSpec, Service, Vip } from '../../src/model/types.js';
import { computePlan, type Action } from '../../src/plan/compute-plan.js';
import { CLUSTER_TAG, DEFAULT_VIP, desiredState, host, job, model, service, treeNode } from '../fixtures/model-builder.js';

const API_TEMPLATE = 'listen: {{host.ip}}:{{ports.http}}\nworkers: 4\n';
const WORKER_TEMPLATE = 'threads: 2\nlog: {{dirs.log}}\n';

interface Fleet {
  hosts: Host[];
  nodeHosts: string[];
  jobs: Job[];
  services: Service[];
}

/** Two workers h1/h2 under one tree node; api (with a VIP on lvs1, lvs2) and worker (no VIP, no host.ip) run on both. */
function fleet(): Fleet {
  return {
    hosts: [host('h1', { ip: '10.0.0.1' }), host('h2', { ip: '10.0.0.2' }), host('lvs1', { ip: '10.0.9.1' }), host('lvs2', { ip: '10.0.9.2' })],
    nodeHosts: ['h1', 'h2'],
    jobs: [apiJob(), workerJob()],
    services: [service('api-svc', 'api', { vip: DEFAULT_VIP, directors: ['lvs1', 'lvs2'] }), service('worker-svc', 'worker')],
  };
}

function apiJob(overrides: Partial<JobSpec> = {}): Job {
  return job('api', { ports: { http: 8080 }, configs: [{ path: 'conf/app.yaml', template: API_TEMPLATE }], env: { LOG_LEVEL: 'info' }, ...overrides });
}

function workerJob(overrides: Partial<JobSpec> = {}): Job {
  return job('worker', { ports: { admin: 9000 }, configs: [{ path: 'conf/worker.yaml', template: WORKER_TEMPLATE }], ...overrides });
}

function build(parts: Fleet) {
  return model({ hosts: parts.hosts, treeNodes: [treeNode(CLUSTER_TAG, { hosts: parts.nodeHosts })], jobs: parts.jobs, services: parts.services });
}

/** Plans base → head, placing head with base's placement as the previous one. */
function plan(baseFleet: Fleet | undefined, headFleet: Fleet): Action[] {
  const base = baseFleet && desiredState(build(baseFleet));
  const head = desiredState(build(headFleet), base?.placement);
  return [...computePlan(base, head).actions];
}

const replaceJob = (parts: Fleet, replacement: Job): Fleet => ({ ...parts, jobs: parts.jobs.map((item) => (item.name === replacement.name ? replacement : item)) });
const replaceService = (parts: Fleet, replacement: Service): Fleet => ({
  ...parts,
  services: parts.services.map((item) => (item.name === replacement.name ? replacement : item)),
});
const withVip = (changes: Partial<Vip>): Vip => ({ ...DEFAULT_VIP, ...changes });

test('the very same desired state gives no actions', () => {
  const state = desiredState(build(fleet()));
  assert.deepEqual(computePlan(state, state).actions, []);
});

test('equal models built from separate objects give no actions', () => {
  assert.deepEqual(plan(fleet(), fleet()), []);
});

test('without a base every instance, VIP and director is an add', () => {
  assert.deepEqual(plan(undefined, fleet()), [
    { type: 'instance.add', host: 'h1', job: 'api', version: '1.0.0' },
    { type: 'instance.add', host: 'h2', job: 'api', version: '1.0.0' },
    { type: 'instance.add', host: 'h1', job: 'worker', version: '1.0.0' },
    { type: 'instance.add', host: 'h2', job: 'worker', version: '1.0.0' },
    { type: 'vip.add', service: 'api-svc', vip: '10.1.100.10:80/TCP' },
    { type: 'director.update', director: 'lvs1', services: ['api-svc'] },
    { type: 'director.update', director: 'lvs2', services: ['api-svc'] },
  ]);
});

test('a version bump updates every instance of the job with exactly `version` changed', () => {
  const head = replaceJob(fleet(), apiJob({ version: '1.1.0' }));
  const updates = plan(fleet(), head).filter((action) => action.type.startsWith('instance.'));
  assert.deepEqual(updates, [
    { type: 'instance.update', host: 'h1', job: 'api', fromVersion: '1.0.0', version: '1.1.0', changes: ['version'], configDiffs: [] },
    { type: 'instance.update', host: 'h2', job: 'api', fromVersion: '1.0.0', version: '1.1.0', changes: ['version'], configDiffs: [] },
  ]);
});

test('a version bump of a VIP job does not touch the VIP nor, since its real servers stay, the directors', () => {
  const head = replaceJob(fleet(), apiJob({ version: '1.1.0' }));
  assert.deepEqual(
    plan(fleet(), head).filter((action) => !action.type.startsWith('instance.')),
    [],
  );
});

test('an env change lists only `env`', () => {
  const head = replaceJob(fleet(), workerJob({ env: { LOG_LEVEL: 'debug' } }));
  assert.deepEqual(plan(fleet(), head), [
    { type: 'instance.update', host: 'h1', job: 'worker', fromVersion: '1.0.0', version: '1.0.0', changes: ['env'], configDiffs: [] },
    { type: 'instance.update', host: 'h2', job: 'worker', fromVersion: '1.0.0', version: '1.0.0', changes: ['env'], configDiffs: [] },
  ]);
});

test('several changed fields are listed in spec order', () => {
  const head = replaceJob(fleet(), workerJob({ version: '2.0.0', env: { A: 'b' }, command: ['bin/worker', '--fast'], rollout: { maxParallel: 2, minHealthySeconds: 10, autoRevert: true, progressDeadlineSeconds: 300, drainSeconds: 2 } }));
  const [first] = plan(fleet(), head);
  assert.equal(first!.type, 'instance.update');
  assert.deepEqual(first!.type === 'instance.update' && first!.changes, ['version', 'command', 'env', 'rollout']);
});

test('a template change lists `configs` with a unified diff of the rendered file', () => {
  const head = replaceJob(fleet(), apiJob({ configs: [{ path: 'conf/app.yaml', template: API_TEMPLATE.replace('workers: 4', 'workers: 8') }] }));
  const actions = plan(fleet(), head);
  const updates = actions.filter((action) => action.type === 'instance.update');
  assert.equal(updates.length, 2);
  for (const update of updates) {
    assert.ok(update.type === 'instance.update');
    assert.deepEqual(update.changes, ['configs']);
    assert.equal(update.configDiffs.length, 1);
    const { path, diff } = update.configDiffs[0]!;
    assert.equal(path, 'conf/app.yaml');
    const lines = diff.split('\n');
    assert.equal(lines[0], '--- a/conf/app.yaml');
    assert.equal(lines[1], '+++ b/conf/app.yaml');
    assert.ok(lines.includes('-workers: 4'), diff);
    assert.ok(lines.includes('+workers: 8'), diff);
    // The unchanged rendered line is context, with this host's ip.
    const ip = update.host === 'h1' ? '10.0.0.1' : '10.0.0.2';
    assert.ok(lines.includes(` listen: ${ip}:8080`), diff);
    assert.ok(!lines.some((line) => line.startsWith('Index:') || line.startsWith('===')), diff);
  }
  assert.ok(!actions.some((action) => action.type === 'director.update'), 'a config change moves no real server');
});

test('a new config file is diffed against /dev/null', () => {
  const head = replaceJob(fleet(), workerJob({ configs: [{ path: 'conf/worker.yaml', template: WORKER_TEMPLATE }, { path: 'conf/extra.ini', template: 'a=1\n' }] }));
  const [first] = plan(fleet(), head);
  assert.ok(first?.type === 'instance.update');
  assert.deepEqual(first.changes, ['configs']);
  assert.deepEqual(
    first.configDiffs.map((configDiff) => configDiff.path),
    ['conf/extra.ini'],
  );
  const lines = first.configDiffs[0]!.diff.split('\n');
  assert.equal(lines[0], '--- /dev/null');
  assert.equal(lines[1], '+++ b/conf/extra.ini');
  assert.ok(lines.includes('+a=1'));
});

test('a host ip change updates the configs that render {{host.ip}} on that host only', () => {
  const base = fleet();
  const head = { ...base, hosts: base.hosts.map((item) => (item.name === 'h1' ? host('h1', { ip: '10.0.0.99' }) : item)) };
  const updates = plan(base, head).filter((action) => action.type.startsWith('instance.'));
  assert.equal(updates.length, 1);
  const [update] = updates;
  assert.ok(update?.type === 'instance.update');
  assert.equal(update.host, 'h1');
  assert.equal(update.job, 'api');
  assert.deepEqual(update.changes, ['configs']);
  const lines = update.configDiffs[0]!.diff.split('\n');
  assert.ok(lines.includes('-listen: 10.0.0.1:8080'), update.configDiffs[0]!.diff);
  assert.ok(lines.includes('+listen: 10.0.0.99:8080'), update.configDiffs[0]!.diff);
  assert.ok(lines.includes(' workers: 4'));
});

test('a new online host in the node adds an instance of every job there and re-renders the VIP directors', () => {
  const base = fleet();
  const head = { ...base, hosts: [...base.hosts, host('h3', { ip: '10.0.0.3' })], nodeHosts: [...base.nodeHosts, 'h3'] };
  assert.deepEqual(plan(base, head), [
    { type: 'instance.add', host: 'h3', job: 'api', version: '1.0.0' },
    { type: 'instance.add', host: 'h3', job: 'worker', version: '1.0.0' },
    { type: 'director.update', director: 'lvs1', services: ['api-svc'] },
    { type: 'director.update', director: 'lvs2', services: ['api-svc'] },
  ]);
});

test('a host leaving the node removes its instances with the base version', () => {
  const base = replaceJob(fleet(), workerJob({ version: '0.9.0' }));
  const head = { ...fleet(), nodeHosts: ['h1'] };
  assert.deepEqual(plan(base, head), [
    { type: 'instance.update', host: 'h1', job: 'worker', fromVersion: '0.9.0', version: '1.0.0', changes: ['version'], configDiffs: [] },
    { type: 'instance.remove', host: 'h2', job: 'api', version: '1.0.0' },
    { type: 'instance.remove', host: 'h2', job: 'worker', version: '0.9.0' },
    { type: 'director.update', director: 'lvs1', services: ['api-svc'] },
    { type: 'director.update', director: 'lvs2', services: ['api-svc'] },
  ]);
});

test('adding and removing instances of a job without a VIP touches no director', () => {
  const base = fleet();
  const head = { ...base, jobs: [apiJob(), workerJob({ replicas: 1 })] };
  const actions = plan(base, head);
  assert.equal(actions.length, 1);
  assert.equal(actions[0]!.type, 'instance.remove');
  assert.equal(actions[0]!.type === 'instance.remove' && actions[0]!.job, 'worker');
});

test('a job deleted from the repo removes all its instances', () => {
  const base = fleet();
  const head = { ...base, jobs: [apiJob()], services: [base.services[0]!] };
  assert.deepEqual(plan(base, head), [
    { type: 'instance.remove', host: 'h1', job: 'worker', version: '1.0.0' },
    { type: 'instance.remove', host: 'h2', job: 'worker', version: '1.0.0' },
  ]);
});

test('a changed VIP field gives vip.update listing exactly that field, and re-renders its directors', () => {
  const head = replaceService(fleet(), service('api-svc', 'api', { vip: withVip({ lbAlgo: 'rr' }), directors: ['lvs1', 'lvs2'] }));
  assert.deepEqual(plan(fleet(), head), [
    { type: 'vip.update', service: 'api-svc', vip: '10.1.100.10:80/TCP', changes: ['lbAlgo'] },
    { type: 'director.update', director: 'lvs1', services: ['api-svc'] },
    { type: 'director.update', director: 'lvs2', services: ['api-svc'] },
  ]);
});

test('vip.update labels the VIP with its new address and lists every changed field in order', () => {
  const vip = withVip({ port: 8080, persistenceSeconds: 300, check: { http: { path: '/health' }, connectTimeoutSeconds: 3, delayLoopSeconds: 6 } });
  const head = replaceService(fleet(), service('api-svc', 'api', { vip, directors: ['lvs1', 'lvs2'] }));
  const [first] = plan(fleet(), head);
  assert.deepEqual(first, { type: 'vip.update', service: 'api-svc', vip: '10.1.100.10:8080/TCP', changes: ['port', 'persistenceSeconds', 'check'] });
});

test('a VIP added to a service gives vip.add and a director update for its directors', () => {
  const head = replaceService(fleet(), service('worker-svc', 'worker', { port: 'admin', vip: withVip({ address: '10.1.100.11' }), directors: ['lvs2'] }));
  assert.deepEqual(plan(fleet(), head), [
    { type: 'vip.add', service: 'worker-svc', vip: '10.1.100.11:80/TCP' },
    { type: 'director.update', director: 'lvs2', services: ['worker-svc'] },
  ]);
});

test('a VIP removed from a service gives vip.remove with the old label and updates the old directors', () => {
  const head = replaceService(fleet(), service('api-svc', 'api'));
  assert.deepEqual(plan(fleet(), head), [
    { type: 'vip.remove', service: 'api-svc', vip: '10.1.100.10:80/TCP' },
    { type: 'director.update', director: 'lvs1', services: ['api-svc'] },
    { type: 'director.update', director: 'lvs2', services: ['api-svc'] },
  ]);
});

test('a deleted service with a VIP is a vip.remove', () => {
  const base = fleet();
  const head = { ...base, services: [base.services[1]!] };
  assert.deepEqual(plan(base, head), [
    { type: 'vip.remove', service: 'api-svc', vip: '10.1.100.10:80/TCP' },
    { type: 'director.update', director: 'lvs1', services: ['api-svc'] },
    { type: 'director.update', director: 'lvs2', services: ['api-svc'] },
  ]);
});

test('a director serving several changed VIPs lists them all, sorted, once', () => {
  const base = fleet();
  base.services.push(service('b-svc', 'api', { vip: withVip({ address: '10.1.100.12' }), directors: ['lvs1'] }));
  const head = { ...base, hosts: [...base.hosts, host('h3', { ip: '10.0.0.3' })], nodeHosts: [...base.nodeHosts, 'h3'] };
  const directors = plan(base, head).filter((action) => action.type === 'director.update');
  assert.deepEqual(directors, [
    { type: 'director.update', director: 'lvs1', services: ['api-svc', 'b-svc'] },
    { type: 'director.update', director: 'lvs2', services: ['api-svc'] },
  ]);
});

test('actions are sorted: adds, updates, removes, VIP adds, updates, removes, directors; then by job and host', () => {
  const base = fleet();
  base.jobs.push(job('zeta', { ports: { http: 1 } }), job('alpha-old'));
  base.services.push(service('gone-svc', 'zeta', { vip: withVip({ address: '10.1.100.30' }), directors: ['lvs1'] }));
  const head: Fleet = {
    hosts: [...base.hosts, host('h0', { ip: '10.0.0.100' })],
    nodeHosts: ['h0', 'h1', 'h2'],
    jobs: [apiJob({ version: '2.0.0' }), workerJob(), job('zeta', { ports: { http: 1 } }), job('alpha-new')],
    services: [
      service('api-svc', 'api', { vip: withVip({ lbKind: 'NAT' }), directors: ['lvs1', 'lvs2'] }),
      service('worker-svc', 'worker', { port: 'admin', vip: withVip({ address: '10.1.100.20' }), directors: ['lvs2'] }),
    ],
  };
  const summary = plan(base, head).map((action) => {
    switch (action.type) {
      case 'instance.add':
      case 'instance.update':
      case 'instance.remove':
        return `${action.type} ${action.job}@${action.host}`;
      case 'director.update':
        return `${action.type} ${action.director} ${action.services.join(',')}`;
      default:
        return `${action.type} ${action.service}`;
    }
  });
  assert.deepEqual(summary, [
    'instance.add alpha-new@h0',
    'instance.add alpha-new@h1',
    'instance.add alpha-new@h2',
    'instance.add api@h0',
    'instance.add worker@h0',
    'instance.add zeta@h0',
    'instance.update api@h1',
    'instance.update api@h2',
    'instance.remove alpha-old@h1',
    'instance.remove alpha-old@h2',
    'vip.add worker-svc',
    'vip.update api-svc',
    'vip.remove gone-svc',
    'director.update lvs1 api-svc,gone-svc',
    'director.update lvs2 api-svc,worker-svc',
  ]);
});

test('a host ip change re-renders the directors of a VIP whose job does not render {{host.ip}}, even with unchanged service objects', () => {
  // As when loading: unchanged documents give the very same objects in base and head.
  const worker = workerJob();
  const workerService = service('worker-svc', 'worker', { port: 'admin', vip: DEFAULT_VIP, directors: ['lvs1'] });
  const base: Fleet = { ...fleet(), jobs: [worker], services: [workerService] };
  const head: Fleet = { ...base, hosts: base.hosts.map((item) => (item.name === 'h1' ? host('h1', { ip: '10.0.0.99' }) : item)) };
  assert.deepEqual(plan(base, head), [{ type: 'director.update', director: 'lvs1', services: ['worker-svc'] }]);
});
