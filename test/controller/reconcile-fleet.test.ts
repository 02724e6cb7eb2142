import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EMPTY_OBSERVED, type ObservedAssignment, type ObservedState } from '../../src/controller/observed-state.js';
import { PRUNE_OVERRIDE_TOKEN, reconcileFleet, type ReconcileOutput, type StoreOp } from '../../src/controller/reconcile-fleet.js';
import { removalRecord } from '../../src/controller/removal-records.js';
import { describePartition } from '../../src/controller/reschedule-lost-hosts.js';
import { hashInstanceSpec, hashJobSpec } from '../../src/controller/spec-hash.js';
import { buildFleetIndex } from '../../src/model/fleet-index.js';
import type { HealthCheck, Job, Model, RepoConfig, Service } from '../../src/model/types.js';
import { keyLayout, keySegments } from '../../src/store/keys.js';
import { isRemovalRecord } from '../../src/store/record-checks.js';
import type { AssignmentRecord, CommitRef, LostHostRecord, RemovalRecord, RolloutRecord, StatusRecord, VipRecord } from '../../src/store/records.js';
import { CLUSTER_TAG, DEFAULT_VIP, host, job, model, placementObject, service, treeNode } from '../fixtures/model-builder.js';
import { assignmentRecord, iso, statusRecord, T0 } from '../fixtures/observed-builder.js';

const LAYOUT = keyLayout();
const HEALTH: HealthCheck = { http: { port: 'http', path: '/health' }, intervalSeconds: 5, timeoutSeconds: 2 };
const HOUR_MS = 3_600_000;
/** The fixture's default rollout: maxParallel 1, minHealthySeconds 10, autoRevert, 300 s deadline. */
const DEADLINE_MS = 300_000;

/** 4 hosts in 2 idcs, all bound to one tree node. */
const HOSTS = [
  host('lg-1', { ip: '10.0.0.11', labels: { idc: 'lg' } }),
  host('lg-2', { ip: '10.0.0.12', labels: { idc: 'lg' } }),
  host('zw-1', { ip: '10.0.0.21', labels: { idc: 'zw' } }),
  host('zw-2', { ip: '10.0.0.22', labels: { idc: 'zw' } }),
];
const hostNamed = (name: string) => HOSTS.find((item) => item.name === name)!;
const HOST_NAMES = HOSTS.map((item) => item.name);
const NODE = treeNode(CLUSTER_TAG, { hosts: HOSTS.map((item) => item.name) });

const apiJob = (version: string) => job('api', { version, ports: { http: 8080 }, health: HEALTH });
const API_V1 = apiJob('1.0.0');
const API_V2 = apiJob('2.0.0');
const API_V3 = apiJob('3.0.0');
/** Two replicas spread over the idcs; no health check, so Running is up. */
const WORKER = job('worker', { replicas: 2 });
const API_TAG = apiJob('1.0.0').tag;
/** Where WORKER's two replicas land on the full fleet (one per idc). */
const WORKER_HOSTS = ['lg-1', 'zw-2'];

const SERVICE_NAME = 'xiaomi.miliao.im.api';
const API_SERVICE = service(SERVICE_NAME, 'api', { vip: DEFAULT_VIP, directors: ['lg-lvs-01', 'lg-lvs-02'] });

function fleet(parts: { jobs?: readonly Job[]; services?: readonly Service[]; config?: Partial<RepoConfig> } = {}): Model {
  return model({
    hosts: HOSTS,
    treeNodes: [NODE],
    jobs: parts.jobs ?? [API_V1, WORKER],
    services: parts.services ?? [API_SERVICE],
    ...(parts.config ? { config: parts.config } : {}),
  });
}

const commitRef = (sha: string, message = `change ${sha}`): CommitRef => ({ sha, author: 'Ada', email: 'ada@example.com', message, timestamp: T0 / 1000 });

function reconcile(built: Model, observed: ObservedState, options: { nowMs: number; sha?: string; allowPrune?: boolean }): ReconcileOutput {
  return reconcileFleet({
    model: built,
    index: buildFleetIndex(built),
    commit: commitRef(options.sha ?? 'c1'),
    observed,
    layout: LAYOUT,
    nowMs: options.nowMs,
    allowPrune: options.allowPrune ?? false,
  });
}

const assignKey = (hostName: string, jobName: string) => `/ygg/v1/assign/${hostName}/${jobName}`;
const VIP_KEY = `/ygg/v1/vips/${SERVICE_NAME}`;
const hashOf = (target: Job, hostName: string) => hashInstanceSpec(target, hostNamed(hostName)).specHash;
/** The api job is named by the Service, so its assignments carry it for the agents' naming. */
const servicesOf = (target: Job) => (target.name === 'api' ? [{ name: SERVICE_NAME, port: 'http' }] : []);
const recordOf = (target: Job, hostName: string, commit: string, assignedAtMs: number, previous?: AssignmentRecord) =>
  assignmentRecord(target, hostNamed(hostName), { commit, assignedAtMs, services: servicesOf(target), ...(previous ? { previous } : {}) });

const VIP_RECORD: VipRecord = { service: SERVICE_NAME, job: 'api', port: 'http', vip: DEFAULT_VIP, directors: ['lg-lvs-01', 'lg-lvs-02'], commit: 'c1' };

const keyOf = (op: StoreOp): string => ('put' in op ? op.put : op.delete);
/** The controller stops a job on a host by writing a RemovalRecord, never by deleting the key. */
const removalOp = (hostName: string, jobName: string, sha: string, nowMs: number) => ({ put: assignKey(hostName, jobName), value: removalRecord(jobName, sha, nowMs) });

/** What etcd holds after `ops` land on `observed`: the controller's writes are intact by construction. */
function applyOps(observed: ObservedState, ops: readonly StoreOp[]): ObservedState {
  const assignments = new Map([...observed.assignments].map(([hostName, jobs]) => [hostName, new Map(jobs)]));
  const removals = new Map([...(observed.removals ?? [])].map(([hostName, jobs]) => [hostName, new Map(jobs)]));
  const rollouts = new Map(observed.rollouts);
  const vips = new Map(observed.vips);
  const lostSince = new Map(observed.lostSince);
  const rescheduledAt = new Map(observed.rescheduledAt);
  const partitionedHosts = new Set(observed.partitionedHosts);
  for (const op of ops) {
    const key = keyOf(op);
    const [kind, first, second] = keySegments(key, LAYOUT.prefix);
    if (kind === 'assign') {
      const jobs = assignments.get(first!) ?? new Map<string, ObservedAssignment>();
      const removed = removals.get(first!) ?? new Map<string, RemovalRecord>();
      jobs.delete(second!);
      removed.delete(second!);
      if ('put' in op && isRemovalRecord(op.value)) removed.set(second!, op.value);
      else if ('put' in op) jobs.set(second!, { record: op.value as AssignmentRecord, intact: true });
      assignments.set(first!, jobs);
      removals.set(first!, removed);
    } else if (kind === 'rollouts') {
      if ('put' in op) rollouts.set(first!, op.value as RolloutRecord);
      else rollouts.delete(first!);
    } else if (kind === 'vips') {
      if ('put' in op) vips.set(first!, op.value as VipRecord);
      else vips.delete(first!);
    } else if (kind === 'lost') {
      // What the informer makes of lost/<host>: since and rescheduledAt as ms.
      const record = 'put' in op ? (op.value as LostHostRecord) : undefined;
      lostSince.delete(first!);
      rescheduledAt.delete(first!);
      partitionedHosts.delete(first!);
      if (record?.partitioned) partitionedHosts.add(first!);
      if (record) lostSince.set(first!, Date.parse(record.since));
      if (record?.rescheduledAt) rescheduledAt.set(first!, Date.parse(record.rescheduledAt));
    } else {
      assert.fail(`unexpected key ${key}`);
    }
  }
  return { ...observed, assignments, removals, rollouts, vips, lostSince, rescheduledAt, partitionedHosts };
}

/** Every assignment reports its own spec: `Healthy` for api (health-checked), `Running` for worker. */
function upStatuses(observed: ObservedState, sinceMs: number): ObservedState {
  const statuses = new Map<string, Map<string, StatusRecord>>();
  for (const [hostName, jobs] of observed.assignments) {
    statuses.set(hostName, new Map([...jobs].map(([jobName, { record }]) => [jobName, statusRecord(record.specHash, jobName === 'api' ? 'Healthy' : 'Running', sinceMs)])));
  }
  return { ...observed, statuses };
}

function withStatus(observed: ObservedState, hostName: string, jobName: string, status: StatusRecord): ObservedState {
  const statuses = new Map([...observed.statuses].map(([name, jobs]) => [name, new Map(jobs)]));
  const jobs = statuses.get(hostName) ?? new Map<string, StatusRecord>();
  jobs.set(jobName, status);
  statuses.set(hostName, jobs);
  return { ...observed, statuses };
}

function withoutAssignment(observed: ObservedState, hostName: string, jobName: string): ObservedState {
  return applyOps(observed, [{ delete: assignKey(hostName, jobName) }]);
}

/** The fleet after the first reconcile at T0 landed and every instance has been up since T0 + 5 s. */
function steadyCluster(built = fleet()): ObservedState {
  const first = reconcile(built, EMPTY_OBSERVED, { nowMs: T0 });
  const written = applyOps(EMPTY_OBSERVED, first.ops);
  return { ...upStatuses(written, T0 + 5_000), liveAgents: new Set(built.hosts.keys()) };
}
const LATER = T0 + HOUR_MS;

test('an empty cluster gets one assignment put per placed instance and the VIP, in a stable order', () => {
  const out = reconcile(fleet(), EMPTY_OBSERVED, { nowMs: T0 });
  const apiHosts = ['lg-1', 'lg-2', 'zw-1', 'zw-2'];
  assert.deepEqual(out.ops, [
    ...apiHosts.map((name) => ({ put: LAYOUT.assignment(name, 'api'), value: recordOf(API_V1, name, 'c1', T0) })),
    ...WORKER_HOSTS.map((name) => ({ put: LAYOUT.assignment(name, 'worker'), value: recordOf(WORKER, name, 'c1', T0) })),
    { put: VIP_KEY, value: VIP_RECORD },
  ]);
  // The keys are the layout of DESIGN.md §3 under the default prefix.
  assert.deepEqual(
    (out.ops as readonly StoreOp[]).map(keyOf),
    [...apiHosts.map((name) => assignKey(name, 'api')), assignKey('lg-1', 'worker'), assignKey('zw-2', 'worker'), VIP_KEY],
  );
  assert.deepEqual(out.actions, [
    ...apiHosts.map((name) => ({ type: 'assign', job: 'api', host: name, specHash: hashOf(API_V1, name) })),
    ...WORKER_HOSTS.map((name) => ({ type: 'assign', job: 'worker', host: name, specHash: hashOf(WORKER, name) })),
    { type: 'vip.put', service: SERVICE_NAME },
  ]);
  assert.deepEqual(out.opActions, out.actions.map((action) => [action]));
  assert.deepEqual(placementObject(out.placement), { api: apiHosts, worker: WORKER_HOSTS });
  assert.deepEqual(Object.fromEntries(out.jobs), {
    api: { tag: API_TAG, health: 'Missing', desired: 4, healthy: 0, version: '1.0.0', rolling: false, outOfSync: 4 },
    worker: { tag: WORKER.tag, health: 'Missing', desired: 2, healthy: 0, version: '1.0.0', rolling: false, outOfSync: 2 },
  });
  assert.equal(out.pruneRefused, undefined);
  assert.equal(out.wakeAtMs, undefined);
});

test('the written records fed back, with or without statuses yet, write nothing more', () => {
  const written = { ...applyOps(EMPTY_OBSERVED, reconcile(fleet(), EMPTY_OBSERVED, { nowMs: T0 }).ops), liveAgents: new Set(HOSTS.map((item) => item.name)) };
  const starting = reconcile(fleet(), written, { nowMs: T0 + 1_000 });
  assert.deepEqual(starting.ops, []);
  assert.deepEqual(starting.actions, []);
  assert.equal(starting.jobs.get('api')?.health, 'Missing');
});

test('a converged fleet with healthy statuses gives zero ops, every time, whatever commit is in force', () => {
  const steady = steadyCluster();
  for (const sha of ['c1', 'c1', 'c2']) {
    const out = reconcile(fleet(), steady, { nowMs: LATER, sha });
    assert.deepEqual(out.ops, []);
    assert.deepEqual(out.actions, []);
    assert.deepEqual(Object.fromEntries(out.jobs), {
      api: { tag: API_TAG, health: 'Healthy', desired: 4, healthy: 4, version: '1.0.0', rolling: false, outOfSync: 0 },
      worker: { tag: WORKER.tag, health: 'Healthy', desired: 2, healthy: 2, version: '1.0.0', rolling: false, outOfSync: 0 },
    });
  }
});

test('a hand-deleted assignment is put back, and only it', () => {
  const out = reconcile(fleet(), withoutAssignment(steadyCluster(), 'lg-2', 'api'), { nowMs: LATER });
  assert.deepEqual(out.ops, [{ put: assignKey('lg-2', 'api'), value: recordOf(API_V1, 'lg-2', 'c1', LATER) }]);
  assert.deepEqual(out.actions, [{ type: 'assign', job: 'api', host: 'lg-2', specHash: hashOf(API_V1, 'lg-2') }]);
});

test('a hand-edited assignment is restored', () => {
  const steady = steadyCluster();
  const original = steady.assignments.get('zw-1')!.get('api')!.record;
  const edited = { record: { ...original, spec: { ...original.spec, command: ['bin/sh', '-c', 'evil'] } }, intact: false };
  const assignments = new Map(steady.assignments);
  assignments.set('zw-1', new Map([['api', edited]]));
  const out = reconcile(fleet(), { ...steady, assignments }, { nowMs: LATER });
  assert.deepEqual(out.ops, [{ put: assignKey('zw-1', 'api'), value: recordOf(API_V1, 'zw-1', 'c1', LATER) }]);
  assert.deepEqual(out.actions, [{ type: 'restore', job: 'api', host: 'zw-1', specHash: hashOf(API_V1, 'zw-1') }]);
});

test('a job removed from the model has its assignments deleted', () => {
  const out = reconcile(fleet({ jobs: [API_V1], config: { pruneGuard: { maxDeletePercent: 50 } } }), steadyCluster(), { nowMs: LATER, sha: 'c2' });
  assert.deepEqual(out.ops, WORKER_HOSTS.map((name) => removalOp(name, 'worker', 'c2', LATER)));
  assert.deepEqual(
    out.actions,
    WORKER_HOSTS.map((name) => ({ type: 'remove', job: 'worker', host: name, specHash: hashOf(WORKER, name) })),
  );
  assert.deepEqual([...out.jobs.keys()], ['api']);
  assert.equal(out.pruneRefused, undefined);
});

test('the prune guard refuses a commit that removes more than maxDeletePercent of the instances: no ops at all', () => {
  // Removing worker drops 2 of 6 instances (33 %); its VIP change would be written otherwise.
  const refused = reconcile(fleet({ jobs: [API_V1], services: [service(SERVICE_NAME, 'api')] }), steadyCluster(), { nowMs: LATER, sha: 'c2' });
  assert.deepEqual(refused.ops, []);
  assert.deepEqual(refused.actions, []);
  assert.deepEqual(refused.opActions, []);
  assert.deepEqual(refused.pruneRefused, { removing: 2, total: 6, maxPercent: 30 });
  assert.equal(refused.wakeAtMs, undefined);
});

test('the prune guard lets the deletes through with the override, or under the configured percent', () => {
  const deletes = (sha: string) => WORKER_HOSTS.map((name) => removalOp(name, 'worker', sha, LATER));
  const overridden = reconcile(fleet({ jobs: [API_V1] }), steadyCluster(), { nowMs: LATER, sha: 'c2', allowPrune: true });
  assert.deepEqual(overridden.ops, deletes('c2'));
  assert.equal(overridden.pruneRefused, undefined);
  const looser = reconcile(fleet({ jobs: [API_V1], config: { pruneGuard: { maxDeletePercent: 34 } } }), steadyCluster(), { nowMs: LATER });
  assert.deepEqual(looser.ops, deletes('c1'));
  const stricter = reconcile(fleet({ jobs: [API_V1], config: { pruneGuard: { maxDeletePercent: 33 } } }), steadyCluster(), { nowMs: LATER });
  assert.deepEqual(stricter.pruneRefused, { removing: 2, total: 6, maxPercent: 33 });
});

test('PRUNE_OVERRIDE_TOKEN is a fixed, quotable token', () => {
  assert.equal(PRUNE_OVERRIDE_TOKEN, '[ygg:allow-prune]');
  assert.match(PRUNE_OVERRIDE_TOKEN, /^\S+$/);
});

/** The agents of `lostSince` are gone; lost/<host> records say since when. */
function withLost(observed: ObservedState, lostSince: Record<string, number>): ObservedState {
  const liveAgents = new Set([...observed.liveAgents].filter((name) => !(name in lostSince)));
  return { ...observed, liveAgents, lostSince: new Map(Object.entries(lostSince)), rescheduledAt: new Map() };
}

/** lg-1's agent has been gone since `lostAtMs`. */
function lostLg1(observed: ObservedState, lostAtMs: number): ObservedState {
  return withLost(observed, { 'lg-1': lostAtMs });
}

const LOST_PREFIX = '/ygg/v1/lost/';
/** lost/<host> once its replicas were released to move at `rescheduledAtMs`. */
const rescheduledRecord = (hostName: string, sinceMs: number, rescheduledAtMs: number) => ({
  put: `${LOST_PREFIX}${hostName}`,
  value: { host: hostName, since: iso(sinceMs), rescheduledAt: iso(rescheduledAtMs) } satisfies LostHostRecord,
});
const rescheduleAction = (hostName: string, sinceMs: number) => ({ type: 'host.reschedule', host: hostName, lostSince: iso(sinceMs) });

test('a replica on a host lost for rescheduleAfterSeconds moves to another online host, as one audited move', () => {
  const out = reconcile(fleet(), lostLg1(steadyCluster(), LATER - 300_000), { nowMs: LATER });
  assert.deepEqual(out.ops, [
    // The release is recorded first, so the rate limit counts it even if the moves are cut off.
    rescheduledRecord('lg-1', LATER - 300_000, LATER),
    { put: assignKey('lg-2', 'worker'), value: recordOf(WORKER, 'lg-2', 'c1', LATER) },
    removalOp('lg-1', 'worker', 'c1', LATER),
  ]);
  assert.deepEqual(out.actions, [
    rescheduleAction('lg-1', LATER - 300_000),
    { type: 'assign', job: 'worker', host: 'lg-2', specHash: hashOf(WORKER, 'lg-2') },
    { type: 'remove', job: 'worker', host: 'lg-1', specHash: hashOf(WORKER, 'lg-1') },
    { type: 'reschedule', job: 'worker', from: 'lg-1', to: 'lg-2' },
  ]);
  assert.equal(out.opActions.length, out.ops.length);
  assert.deepEqual(out.opActions[2]?.map((action) => action.type), ['remove', 'reschedule']);
  // The job on every host of the node stays on lg-1.
  assert.deepEqual(placementObject(out.placement), { api: ['lg-1', 'lg-2', 'zw-1', 'zw-2'], worker: ['lg-2', 'zw-2'] });
  assert.equal(out.pruneRefused, undefined);
});

test('a replica on a lost host is not moved before rescheduleAfterSeconds; the step wakes when it is due', () => {
  const out = reconcile(fleet(), lostLg1(steadyCluster(), LATER - 299_999), { nowMs: LATER });
  assert.deepEqual(out.ops, []);
  assert.deepEqual(out.actions, []);
  assert.deepEqual(placementObject(out.placement), { api: ['lg-1', 'lg-2', 'zw-1', 'zw-2'], worker: WORKER_HOSTS });
  assert.equal(out.wakeAtMs, LATER + 1);
});

test('rescheduleAfterSeconds comes from the repo config', () => {
  const quick = fleet({ config: { rescheduleAfterSeconds: 60 } });
  assert.deepEqual(reconcile(quick, lostLg1(steadyCluster(), LATER - 59_999), { nowMs: LATER }).ops, []);
  assert.deepEqual(
    reconcile(quick, lostLg1(steadyCluster(), LATER - 60_000), { nowMs: LATER }).actions.filter((action) => action.type === 'reschedule'),
    [{ type: 'reschedule', job: 'worker', from: 'lg-1', to: 'lg-2' }],
  );
});

test('a job without replicas is never moved off a lost host, however long it is gone', () => {
  const onlyApi = fleet({ jobs: [API_V1] });
  const steady = steadyCluster(onlyApi);
  const out = reconcile(onlyApi, lostLg1(steady, LATER - 30 * 24 * HOUR_MS), { nowMs: LATER });
  assert.deepEqual(out.ops, []);
  assert.deepEqual(out.actions, []);
});

test('a commit that takes a lost host out of the node moves its jobs, and only replicas count as reschedules', () => {
  const lg3 = host('lg-3', { ip: '10.0.0.13', labels: { idc: 'lg' } });
  const replaced = model({
    hosts: [...HOSTS, lg3],
    treeNodes: [treeNode(CLUSTER_TAG, { hosts: ['lg-2', 'lg-3', 'zw-1', 'zw-2'] })],
    jobs: [API_V1, WORKER],
    services: [API_SERVICE],
  });
  const out = reconcile(replaced, lostLg1(steadyCluster(), LATER - 300_000), { nowMs: LATER, sha: 'c2' });
  assert.deepEqual(out.ops, [
    rescheduledRecord('lg-1', LATER - 300_000, LATER),
    { put: assignKey('lg-3', 'api'), value: assignmentRecord(API_V1, lg3, { commit: 'c2', assignedAtMs: LATER, services: servicesOf(API_V1) }) },
    removalOp('lg-1', 'api', 'c2', LATER),
    { put: assignKey('lg-2', 'worker'), value: recordOf(WORKER, 'lg-2', 'c2', LATER) },
    removalOp('lg-1', 'worker', 'c2', LATER),
  ]);
  // Each op carries its own audit actions; a reschedule rides with the last op of the move.
  assert.deepEqual(out.opActions, [
    [rescheduleAction('lg-1', LATER - 300_000)],
    [{ type: 'assign', job: 'api', host: 'lg-3', specHash: hashInstanceSpec(API_V1, lg3).specHash }],
    [{ type: 'remove', job: 'api', host: 'lg-1', specHash: hashOf(API_V1, 'lg-1') }],
    [{ type: 'assign', job: 'worker', host: 'lg-2', specHash: hashOf(WORKER, 'lg-2') }],
    [
      { type: 'remove', job: 'worker', host: 'lg-1', specHash: hashOf(WORKER, 'lg-1') },
      { type: 'reschedule', job: 'worker', from: 'lg-1', to: 'lg-2' },
    ],
  ]);
  assert.deepEqual(out.actions, out.opActions.flat());
});

test('a moved replica stays where it went when the lost host comes back, and lost/<host> is deleted', () => {
  const lost = lostLg1(steadyCluster(), LATER - 300_000);
  const moved = reconcile(fleet(), lost, { nowMs: LATER });
  const afterMove = withStatus(applyOps(lost, moved.ops), 'lg-2', 'worker', statusRecord(hashOf(WORKER, 'lg-2'), 'Running', LATER + 1_000));
  const back = { ...afterMove, liveAgents: new Set(HOST_NAMES) };
  const out = reconcile(fleet(), back, { nowMs: LATER + HOUR_MS });
  assert.deepEqual(out.ops, [{ delete: `${LOST_PREFIX}lg-1` }]);
  assert.deepEqual(out.actions, [{ type: 'host.back', host: 'lg-1' }]);
  assert.deepEqual(out.placement.get('worker'), ['lg-2', 'zw-2']);
  assert.deepEqual(reconcile(fleet(), applyOps(back, out.ops), { nowMs: LATER + HOUR_MS }).ops, []);
});

test('a host first seen assigned without a live agent gets lost/<host> since now; its instances count as down', () => {
  const out = reconcile(fleet(), { ...steadyCluster(), liveAgents: new Set(['lg-2', 'zw-1', 'zw-2']) }, { nowMs: LATER });
  assert.deepEqual(out.ops, [{ put: `${LOST_PREFIX}lg-1`, value: { host: 'lg-1', since: iso(LATER) } satisfies LostHostRecord }]);
  assert.deepEqual(out.actions, [{ type: 'host.lost', host: 'lg-1' }]);
  // Its statuses still say Healthy and Running, but nobody is there to vouch for them.
  assert.deepEqual(Object.fromEntries(out.jobs), {
    api: { tag: API_TAG, health: 'Degraded', desired: 4, healthy: 3, version: '1.0.0', rolling: false, outOfSync: 0 },
    worker: { tag: WORKER.tag, health: 'Degraded', desired: 2, healthy: 1, version: '1.0.0', rolling: false, outOfSync: 0 },
  });
  assert.equal(out.wakeAtMs, LATER + 300_000);
  // The record is the clock: fed back, it is not written again, and the move comes 300 s after it.
  const recorded = applyOps({ ...steadyCluster(), liveAgents: new Set(['lg-2', 'zw-1', 'zw-2']) }, out.ops);
  assert.deepEqual(reconcile(fleet(), recorded, { nowMs: LATER + 299_999 }).ops, []);
  const due = reconcile(fleet(), recorded, { nowMs: LATER + 300_000 });
  assert.deepEqual(due.actions.filter((action) => action.type === 'reschedule'), [{ type: 'reschedule', job: 'worker', from: 'lg-1', to: 'lg-2' }]);
});

/** Every host lost an hour before LATER; moves limited to `maxHostsPercentPerMinute`. */
function everyHostLost(maxHostsPercentPerMinute: number) {
  // Every host lost would be a partition at any lower threshold: this is about having nowhere to go.
  const built = fleet({ config: { reschedule: { maxHostsPercentPerMinute, unhealthyIdcThresholdPercent: 100 } } });
  return { built, observed: withLost(steadyCluster(), Object.fromEntries(HOST_NAMES.map((name) => [name, LATER - HOUR_MS]))) };
}

test('a replica with nowhere to go stays assigned to its lost host, the job Degraded with 0 healthy; it moves once a host can take it', () => {
  const { built, observed } = everyHostLost(100);
  const out = reconcile(built, observed, { nowMs: LATER });
  // lg-1 and zw-2 hold worker's replicas: released to move, but no host can take them. Nothing is unassigned.
  assert.deepEqual(out.ops, [rescheduledRecord('lg-1', LATER - HOUR_MS, LATER), rescheduledRecord('zw-2', LATER - HOUR_MS, LATER)]);
  assert.deepEqual(placementObject(out.placement), { api: HOST_NAMES, worker: WORKER_HOSTS });
  assert.deepEqual(Object.fromEntries(out.jobs), {
    api: { tag: API_TAG, health: 'Degraded', desired: 4, healthy: 0, version: '1.0.0', rolling: false, outOfSync: 0 },
    worker: { tag: WORKER.tag, health: 'Degraded', desired: 2, healthy: 0, version: '1.0.0', rolling: false, outOfSync: 0 },
  });
  assert.equal(out.pruneRefused, undefined);
  const released = applyOps(observed, out.ops);
  assert.deepEqual(reconcile(built, released, { nowMs: LATER + HOUR_MS }).ops, []);

  // lg-2's agent is back: one replica moves there; the other still has nowhere to go and stays.
  const lg2Back = { ...released, liveAgents: new Set(['lg-2']) };
  const moved = reconcile(built, lg2Back, { nowMs: LATER + HOUR_MS });
  assert.deepEqual(moved.ops, [
    { delete: `${LOST_PREFIX}lg-2` },
    { put: assignKey('lg-2', 'worker'), value: recordOf(WORKER, 'lg-2', 'c1', LATER + HOUR_MS) },
    removalOp('lg-1', 'worker', 'c1', LATER + HOUR_MS),
  ]);
  assert.deepEqual(moved.actions.at(-1), { type: 'reschedule', job: 'worker', from: 'lg-1', to: 'lg-2' });
  assert.deepEqual(moved.placement.get('worker'), ['lg-2', 'zw-2']);
});

test('at most maxHostsPercentPerMinute of the fleet’s hosts (at least one) start moving per minute; the next waits for the minute to pass', () => {
  const since = LATER - HOUR_MS;
  const lost = withLost(steadyCluster(), { 'lg-1': since, 'zw-2': since });
  const moves = (out: ReconcileOutput) => out.actions.filter((action) => action.type === 'host.reschedule' || action.type === 'reschedule');
  // 10 % of 4 hosts is less than one: one host a minute. Lost at the same time, they go by name.
  const first = reconcile(fleet(), lost, { nowMs: LATER });
  assert.deepEqual(moves(first), [rescheduleAction('lg-1', since), { type: 'reschedule', job: 'worker', from: 'lg-1', to: 'lg-2' }]);
  assert.equal(first.wakeAtMs, LATER + 60_000);
  const afterFirst = applyOps(lost, first.ops);
  const early = reconcile(fleet(), afterFirst, { nowMs: LATER + 59_999 });
  assert.deepEqual(early.ops, []);
  assert.equal(early.wakeAtMs, LATER + 60_000);
  const next = reconcile(fleet(), afterFirst, { nowMs: LATER + 60_000 });
  assert.deepEqual(moves(next), [rescheduleAction('zw-2', since), { type: 'reschedule', job: 'worker', from: 'zw-2', to: 'zw-1' }]);
  assert.equal(next.wakeAtMs, undefined);

  // 50 % of 4 hosts: both move in the same minute.
  const wider = fleet({ config: { reschedule: { maxHostsPercentPerMinute: 50, unhealthyIdcThresholdPercent: 30 } } });
  assert.deepEqual(moves(reconcile(wider, lost, { nowMs: LATER })), [
    rescheduleAction('lg-1', since),
    rescheduleAction('zw-2', since),
    { type: 'reschedule', job: 'worker', from: 'lg-1', to: 'lg-2' },
    { type: 'reschedule', job: 'worker', from: 'zw-2', to: 'zw-1' },
  ]);
});

test('a host whose replicas all moved away keeps lost/<host> while it counts against the rate limit, then it is cleared', () => {
  const since = LATER - HOUR_MS;
  const onlyWorker = fleet({ jobs: [WORKER] });
  const lost = withLost(steadyCluster(onlyWorker), { 'lg-1': since, 'zw-2': since });
  const first = reconcile(onlyWorker, lost, { nowMs: LATER });
  assert.deepEqual(first.actions.at(-1), { type: 'reschedule', job: 'worker', from: 'lg-1', to: 'lg-2' });
  // lg-1 holds nothing now, but its move still counts: zw-2 waits for the minute.
  const emptied = applyOps(lost, first.ops);
  const soon = reconcile(onlyWorker, emptied, { nowMs: LATER + 1_000 });
  assert.deepEqual(soon.ops, []);
  assert.equal(soon.wakeAtMs, LATER + 60_000);
  const later = reconcile(onlyWorker, emptied, { nowMs: LATER + 60_000 });
  assert.deepEqual(later.opActions.slice(0, 2), [[{ type: 'host.cleared', host: 'lg-1' }], [rescheduleAction('zw-2', since)]]);
  assert.deepEqual(later.ops[0], { delete: `${LOST_PREFIX}lg-1` });
});

/** 5 hosts in each of 2 idcs, one job with 6 replicas (3 per idc). */
const BIG_HOSTS = ['lg', 'zw'].flatMap((idc, idcIndex) => [1, 2, 3, 4, 5].map((number) => host(`${idc}-${number}`, { ip: `10.0.${idcIndex + 1}.${number}`, labels: { idc } })));
const SPREAD = job('spread', { replicas: 6 });
function bigFleet(reschedule: RepoConfig['reschedule']): Model {
  return model({ hosts: BIG_HOSTS, treeNodes: [treeNode(CLUSTER_TAG, { hosts: BIG_HOSTS.map((item) => item.name) })], jobs: [SPREAD], config: { reschedule } });
}

test('more than unhealthyIdcThresholdPercent of one idc’s hosts lost at once is a partition: nothing moves, lost/ still records them', () => {
  const built = bigFleet({ maxHostsPercentPerMinute: 100, unhealthyIdcThresholdPercent: 30 });
  const steady = steadyCluster(built);
  const lgSpread = [...steady.assignments].filter(([name, jobs]) => name.startsWith('lg-') && jobs.has('spread')).map(([name]) => name).sort();
  assert.equal(lgSpread.length, 3);
  const live = BIG_HOSTS.map((item) => item.name).filter((name) => !lgSpread.includes(name));
  const firstSeen = reconcile(built, { ...steady, liveAgents: new Set(live) }, { nowMs: LATER });
  assert.deepEqual(firstSeen.actions, lgSpread.map((name) => ({ type: 'host.lost', host: name })));
  assert.deepEqual(firstSeen.partition, [{ idc: 'lg', lost: 3, hosts: 5 }]);
  assert.equal(describePartition(firstSeen.partition!), 'idc lg: 3/5 hosts lost — treated as a partition; not rescheduling');

  // Long past rescheduleAfterSeconds, with room in the rate limit: still nothing moves.
  const longLost = withLost(steady, Object.fromEntries(lgSpread.map((name) => [name, LATER - HOUR_MS])));
  const held = reconcile(built, longLost, { nowMs: LATER });
  // The partition marks its lost hosts once, so their clocks can restart when it heals.
  const marked = lgSpread.map((name) => ({ put: `${LOST_PREFIX}${name}`, value: { host: name, since: iso(LATER - HOUR_MS), partitioned: true } }));
  assert.deepEqual(held.ops, marked);
  assert.deepEqual(held.partition, [{ idc: 'lg', lost: 3, hosts: 5 }]);
  assert.equal(held.wakeAtMs, undefined);
  assert.deepEqual(held.placement.get('spread'), [...steady.assignments].filter(([, jobs]) => jobs.has('spread')).map(([name]) => name).sort());
  const heldLater = applyOps(longLost, held.ops);
  assert.deepEqual(reconcile(built, heldLater, { nowMs: LATER + 1000 }).ops, []);

  // Healing host by host: with two back, the last one lost is no partition, but it does not look an
  // hour dead either — its clock starts again now, and it moves only rescheduleAfterSeconds later.
  const healing = { ...heldLater, liveAgents: new Set([...heldLater.liveAgents, lgSpread[0]!, lgSpread[1]!]) };
  const restarted = reconcile(built, healing, { nowMs: LATER + 2000 });
  assert.equal(restarted.partition, undefined);
  assert.equal(restarted.actions.filter((action) => action.type === 'reschedule').length, 0);
  assert.deepEqual(restarted.ops.find((op) => keyOf(op) === `${LOST_PREFIX}${lgSpread[2]}`), { put: `${LOST_PREFIX}${lgSpread[2]}`, value: { host: lgSpread[2], since: iso(LATER + 2000) } });
  assert.equal(restarted.wakeAtMs, LATER + 2000 + 300_000);

  // 3 of 5 is not more than a 60 % threshold, and one lost host is a host failure: the replicas move.
  const looser = reconcile(bigFleet({ maxHostsPercentPerMinute: 100, unhealthyIdcThresholdPercent: 60 }), longLost, { nowMs: LATER });
  assert.equal(looser.partition, undefined);
  assert.equal(looser.actions.filter((action) => action.type === 'reschedule').length, 3);
  const oneLost = withLost(steady, { [lgSpread[0]!]: LATER - HOUR_MS });
  const failure = reconcile(built, oneLost, { nowMs: LATER });
  assert.equal(failure.partition, undefined);
  assert.equal(failure.actions.filter((action) => action.type === 'reschedule').length, 1);
  // Two of five (40 %) at once is past the 30 % threshold: a partition.
  const twoLost = withLost(steady, Object.fromEntries(lgSpread.slice(0, 2).map((name) => [name, LATER - HOUR_MS])));
  assert.deepEqual(reconcile(built, twoLost, { nowMs: LATER }).partition, [{ idc: 'lg', lost: 2, hosts: 5 }]);
});

test('scaling replicas adds or removes instances without touching the ones that stay', () => {
  const up = job('worker', { replicas: 3 });
  const scaledUp = reconcile(fleet({ jobs: [API_V1, up] }), steadyCluster(), { nowMs: LATER, sha: 'c2' });
  assert.deepEqual(scaledUp.ops, [{ put: assignKey('lg-2', 'worker'), value: recordOf(up, 'lg-2', 'c2', LATER) }]);
  assert.deepEqual(scaledUp.actions, [{ type: 'assign', job: 'worker', host: 'lg-2', specHash: hashOf(WORKER, 'lg-2') }]);
  const down = job('worker', { replicas: 1 });
  const scaledDown = reconcile(fleet({ jobs: [API_V1, down] }), steadyCluster(), { nowMs: LATER, sha: 'c2' });
  assert.deepEqual(scaledDown.ops, [removalOp('zw-2', 'worker', 'c2', LATER)]);
  assert.deepEqual(scaledDown.actions, [{ type: 'remove', job: 'worker', host: 'zw-2', specHash: hashOf(WORKER, 'zw-2') }]);
});

test('a VIP removed from its Service, or the Service removed, deletes vips/<service>', () => {
  const withoutVip = reconcile(fleet({ services: [service(SERVICE_NAME, 'api')] }), steadyCluster(), { nowMs: LATER, sha: 'c2' });
  assert.deepEqual(withoutVip.ops, [{ delete: VIP_KEY }]);
  assert.deepEqual(withoutVip.actions, [{ type: 'vip.delete', service: SERVICE_NAME }]);
  const steady = steadyCluster();
  const withoutService = reconcile(fleet({ services: [] }), steady, { nowMs: LATER, sha: 'c2' });
  // The api instances are no longer named by the Service: their records lose it (no restart).
  const apiHosts = [...steady.assignments].filter(([, jobs]) => jobs.has('api')).map(([host]) => host).sort();
  const refreshes = apiHosts.map((host) => {
    const { services: _services, ...record } = steady.assignments.get(host)!.get('api')!.record;
    return { put: assignKey(host, 'api'), value: record };
  });
  assert.deepEqual(withoutService.ops, [...refreshes, { delete: VIP_KEY }]);
  assert.deepEqual(withoutService.actions.map((action) => action.type), [...apiHosts.map(() => 'refresh'), 'vip.delete']);
});

test('a changed VIP is put again with the new commit', () => {
  const vip = { ...DEFAULT_VIP, port: 8080 };
  const out = reconcile(fleet({ services: [service(SERVICE_NAME, 'api', { vip, directors: ['lg-lvs-01', 'lg-lvs-02'] })] }), steadyCluster(), {
    nowMs: LATER,
    sha: 'c2',
  });
  assert.deepEqual(out.ops, [{ put: VIP_KEY, value: { ...VIP_RECORD, vip, commit: 'c2' } }]);
  assert.deepEqual(out.actions, [{ type: 'vip.put', service: SERVICE_NAME }]);
});

const V2_FLEET = fleet({ jobs: [API_V2, WORKER] });
const v1ApiRecord = (steady: ObservedState, hostName: string) => steady.assignments.get(hostName)!.get('api')!.record;
const ROLLOUT_KEY = '/ygg/v1/rollouts/api';
/** rollouts/api as a rollout of `target` from `sha` started at `startedAtMs` writes it. */
const apiRollout = (target: Job, sha: string, startedAtMs: number): RolloutRecord => ({
  job: 'api',
  jobSpecHash: hashJobSpec(target),
  state: 'InProgress',
  commit: sha,
  startedAt: iso(startedAtMs),
});
/** rollouts/api as the step starting batch `batch` of the 4 (one host each) at `atMs` writes it. */
const apiBatch = (target: Job, sha: string, startedAtMs: number, batch: number, atMs = startedAtMs): RolloutRecord => ({
  ...apiRollout(target, sha, startedAtMs),
  batch,
  batches: 4,
  total: 4,
  deadline: iso(atMs + DEADLINE_MS),
});
/** Every write of a step, the failed rollouts' (audited under their own commit) after the rest. */
const allOps = (out: ReconcileOutput): StoreOp[] => [...out.ops, ...out.rolloutFailures.flatMap((failure) => failure.ops)];

test('a changed job rolls one batch of maxParallel and writes nothing more until the batch is healthy for minHealthySeconds', () => {
  const steady = steadyCluster();
  const first = reconcile(V2_FLEET, steady, { nowMs: LATER, sha: 'c2' });
  const lg1Update = recordOf(API_V2, 'lg-1', 'c2', LATER, v1ApiRecord(steady, 'lg-1'));
  // rollouts/api first: a batch is never in etcd without the rollout it belongs to.
  assert.deepEqual(first.ops, [
    { put: ROLLOUT_KEY, value: apiBatch(API_V2, 'c2', LATER, 1) },
    { put: assignKey('lg-1', 'api'), value: lg1Update },
  ]);
  assert.deepEqual(first.actions, [{ type: 'update', job: 'api', host: 'lg-1', specHash: hashOf(API_V2, 'lg-1'), from: hashOf(API_V1, 'lg-1') }]);
  assert.deepEqual(first.opActions, [[], first.actions]);
  assert.deepEqual(first.jobs.get('api'), { tag: API_TAG, health: 'Progressing', desired: 4, healthy: 0, version: '2.0.0', rolling: true, outOfSync: 4 });
  assert.equal(first.wakeAtMs, LATER + DEADLINE_MS + 1);

  const rolled = applyOps(steady, first.ops);
  const starting = reconcile(V2_FLEET, withStatus(rolled, 'lg-1', 'api', statusRecord(hashOf(API_V2, 'lg-1'), 'Starting', LATER + 1_000)), {
    nowMs: LATER + 2_000,
    sha: 'c2',
  });
  assert.deepEqual(starting.ops, []);
  assert.equal(starting.wakeAtMs, LATER + DEADLINE_MS + 1);

  const healthy = withStatus(rolled, 'lg-1', 'api', statusRecord(hashOf(API_V2, 'lg-1'), 'Healthy', LATER + 2_000));
  const settling = reconcile(V2_FLEET, healthy, { nowMs: LATER + 11_999, sha: 'c2' });
  assert.deepEqual(settling.ops, []);
  assert.deepEqual(settling.actions, []);
  assert.equal(settling.wakeAtMs, LATER + 12_000);

  const settled = reconcile(V2_FLEET, healthy, { nowMs: LATER + 12_000, sha: 'c2' });
  assert.deepEqual(settled.ops, [
    { put: ROLLOUT_KEY, value: apiBatch(API_V2, 'c2', LATER, 2, LATER + 12_000) },
    { put: assignKey('lg-2', 'api'), value: recordOf(API_V2, 'lg-2', 'c2', LATER + 12_000, v1ApiRecord(steady, 'lg-2')) },
  ]);
  assert.equal(settled.wakeAtMs, LATER + 12_000 + DEADLINE_MS + 1);
});

/** The v2 rollout's first batch (lg-1) crash-looping since just after LATER. */
function crashingRollout(): ObservedState {
  const steady = steadyCluster();
  const rolled = applyOps(steady, reconcile(V2_FLEET, steady, { nowMs: LATER, sha: 'c2' }).ops);
  return withStatus(rolled, 'lg-1', 'api', statusRecord(hashOf(API_V2, 'lg-1'), 'CrashLoop', LATER + 3_000));
}
const FAILED_AT = LATER + DEADLINE_MS + 1;
const FAILURE_REASON = 'lg-1 not healthy within 300s (CrashLoop)';
const FAILED_ACTION = { type: 'rollout-failed', job: 'api', reason: FAILURE_REASON, batch: 1, hosts: ['lg-1'], reverted: ['lg-1'], revertedTo: 'c1' };

test('a failed rollout reverts its batch and writes rollouts/<job>, apart from the other writes: audited under the commit that failed', () => {
  // A later commit (c3, another job's change) is in force when the rollout of c2 fails.
  const out = reconcile(V2_FLEET, crashingRollout(), { nowMs: FAILED_AT, sha: 'c3' });
  const reverted = recordOf(API_V1, 'lg-1', 'c1', FAILED_AT);
  assert.deepEqual(out.ops, []);
  assert.deepEqual(out.actions, []);
  assert.equal(out.rolloutFailures.length, 1);
  const failure = out.rolloutFailures[0]!;
  const record: RolloutRecord = {
    ...apiBatch(API_V2, 'c2', LATER, 1),
    state: 'Failed',
    reason: FAILURE_REASON,
    failedAt: iso(FAILED_AT),
    failedHosts: ['lg-1'],
    done: 0,
    revertedHosts: ['lg-1'],
    revertedTo: 'c1',
  };
  assert.deepEqual(failure.rollout, record);
  assert.equal(failure.rollout.commit, 'c2', 'the commit the audit goes under');
  assert.deepEqual(failure.ops, [
    { put: assignKey('lg-1', 'api'), value: reverted },
    { put: ROLLOUT_KEY, value: record },
  ]);
  // The failure rides with the record, after the revert: a cut between them leaves the rollout InProgress and late.
  assert.deepEqual(failure.opActions, [[{ type: 'revert', job: 'api', host: 'lg-1', specHash: hashOf(API_V1, 'lg-1') }], [FAILED_ACTION]]);
  assert.deepEqual(out.jobs.get('api'), { tag: API_TAG, health: 'Degraded', desired: 4, healthy: 0, version: '2.0.0', rolling: false, outOfSync: 3 });
});

/** After the revert landed and lg-1 runs v1 again. */
function revertedCluster(): ObservedState {
  const failed = reconcile(V2_FLEET, crashingRollout(), { nowMs: FAILED_AT, sha: 'c2' });
  return withStatus(applyOps(crashingRollout(), allOps(failed)), 'lg-1', 'api', statusRecord(hashOf(API_V1, 'lg-1'), 'Healthy', FAILED_AT + 5_000));
}

test('after the revert the failed spec is held: nothing is written and the job is Degraded', () => {
  const out = reconcile(V2_FLEET, revertedCluster(), { nowMs: FAILED_AT + HOUR_MS, sha: 'c2' });
  assert.deepEqual(out.ops, []);
  assert.deepEqual(out.actions, []);
  assert.deepEqual(out.jobs.get('api'), { tag: API_TAG, health: 'Degraded', desired: 4, healthy: 0, version: '2.0.0', rolling: false, outOfSync: 4 });
});

test('a later, different spec replaces the failed rollouts/<job> with its own InProgress record and rolls', () => {
  const reverted = revertedCluster();
  const nowMs = FAILED_AT + HOUR_MS;
  const out = reconcile(fleet({ jobs: [API_V3, WORKER] }), reverted, { nowMs, sha: 'c3' });
  const lg1 = reverted.assignments.get('lg-1')!.get('api')!.record;
  assert.deepEqual(out.ops, [
    { put: ROLLOUT_KEY, value: apiBatch(API_V3, 'c3', nowMs, 1) },
    { put: assignKey('lg-1', 'api'), value: recordOf(API_V3, 'lg-1', 'c3', nowMs, lg1) },
  ]);
  assert.deepEqual(out.actions, [{ type: 'update', job: 'api', host: 'lg-1', specHash: hashOf(API_V3, 'lg-1'), from: hashOf(API_V1, 'lg-1') }]);
});

test('going back to the old spec by a commit only deletes rollouts/<job>', () => {
  const out = reconcile(fleet(), revertedCluster(), { nowMs: FAILED_AT + HOUR_MS, sha: 'c4' });
  assert.deepEqual(out.ops, [{ delete: ROLLOUT_KEY }]);
  assert.deepEqual(out.actions, []);
  assert.equal(out.jobs.get('api')?.health, 'Healthy');
});

/**
 * Runs reconciles of `built` from `sha`, each one's writes landing and every instance it wrote reporting
 * healthy 1 s later, until a step writes nothing with nothing left to wait for. Returns each step's ops.
 */
function rollToTheEnd(built: Model, start: ObservedState, sha: string, startMs: number): { steps: { nowMs: number; ops: readonly StoreOp[] }[]; observed: ObservedState } {
  let observed = start;
  let nowMs = startMs;
  const steps: { nowMs: number; ops: readonly StoreOp[] }[] = [];
  for (let step = 0; step < 20; step++) {
    const out = reconcile(built, observed, { nowMs, sha });
    steps.push({ nowMs, ops: out.ops });
    observed = applyOps(observed, out.ops);
    for (const op of out.ops) {
      if (!('put' in op) || !op.put.includes('/assign/')) continue;
      const record = op.value as AssignmentRecord;
      observed = withStatus(observed, record.host.name, record.job, statusRecord(record.specHash, 'Healthy', nowMs + 1_000));
    }
    if (out.ops.length === 0 && out.wakeAtMs === undefined) return { steps, observed };
    // The health reports wake the controller; after them, the step's own wake-up time.
    nowMs = out.ops.length > 0 ? nowMs + 1_000 : out.wakeAtMs!;
  }
  return assert.fail('the rollout did not finish in 20 steps');
}

test('a rollout writes rollouts/<job> InProgress with each batch (which batch, until when), and deletes it when the last batch settles', () => {
  const { steps, observed } = rollToTheEnd(V2_FLEET, steadyCluster(), 'c2', LATER);
  const written = steps.filter((step) => step.ops.length > 0);
  assert.deepEqual(
    written.map((step) => step.ops.map(keyOf)),
    [
      [ROLLOUT_KEY, assignKey('lg-1', 'api')],
      [ROLLOUT_KEY, assignKey('lg-2', 'api')],
      [ROLLOUT_KEY, assignKey('zw-1', 'api')],
      [ROLLOUT_KEY, assignKey('zw-2', 'api')],
      // The last batch settled: only now is the rollout complete.
      [ROLLOUT_KEY],
    ],
  );
  assert.deepEqual(
    written.slice(0, 4).map((step) => step.ops[0]),
    written.slice(0, 4).map((step, index) => ({ put: ROLLOUT_KEY, value: apiBatch(API_V2, 'c2', LATER, index + 1, step.nowMs) })),
  );
  assert.deepEqual(written.at(-1)!.ops, [{ delete: ROLLOUT_KEY }]);
  // Each batch after the first waited for the one before to be healthy for minHealthySeconds (10 s).
  const batchTimes = written.slice(0, 4).map((step) => step.nowMs);
  assert.deepEqual(batchTimes.slice(1).map((at, index) => at - batchTimes[index]!), [11_000, 11_000, 11_000]);
  assert.equal(written.at(-1)!.nowMs, batchTimes[3]! + 11_000);
  assert.equal(observed.rollouts.size, 0);
  for (const name of HOST_NAMES) assert.equal(observed.assignments.get(name)!.get('api')!.record.specHash, hashOf(API_V2, name));
  const done = reconcile(V2_FLEET, observed, { nowMs: written.at(-1)!.nowMs + HOUR_MS, sha: 'c2' });
  assert.deepEqual(done.ops, []);
  assert.equal(done.jobs.get('api')?.health, 'Healthy');
});

test('a single-batch rollout (maxParallel ≥ hosts) that misses its deadline is reverted and recorded as Failed', () => {
  const wide = apiJob('2.0.0');
  const allAtOnce: Job = { ...wide, spec: { ...wide.spec, rollout: { ...wide.spec.rollout, maxParallel: 4 } } };
  const built = fleet({ jobs: [allAtOnce, WORKER] });
  const steady = steadyCluster();
  const first = reconcile(built, steady, { nowMs: LATER, sha: 'c2' });
  assert.deepEqual(first.ops.map(keyOf), [ROLLOUT_KEY, ...HOST_NAMES.map((name) => assignKey(name, 'api'))]);
  let rolled = applyOps(steady, first.ops);
  for (const name of HOST_NAMES) rolled = withStatus(rolled, name, 'api', statusRecord(hashInstanceSpec(allAtOnce, hostNamed(name)).specHash, name === 'zw-1' ? 'CrashLoop' : 'Healthy', LATER + 3_000));
  assert.deepEqual(reconcile(built, rolled, { nowMs: LATER + DEADLINE_MS, sha: 'c2' }).ops, []);
  const failed = reconcile(built, rolled, { nowMs: FAILED_AT, sha: 'c2' });
  const record: RolloutRecord = {
    ...apiRollout(allAtOnce, 'c2', LATER),
    batch: 1,
    batches: 1,
    total: 4,
    deadline: iso(LATER + DEADLINE_MS),
    state: 'Failed',
    reason: 'zw-1 not healthy within 300s (CrashLoop)',
    failedAt: iso(FAILED_AT),
    failedHosts: ['zw-1'],
    done: 3,
    revertedHosts: HOST_NAMES,
    revertedTo: 'c1',
  };
  assert.deepEqual(failed.ops, []);
  assert.deepEqual(failed.rolloutFailures.flatMap((failure) => failure.ops), [
    ...HOST_NAMES.map((name) => ({ put: assignKey(name, 'api'), value: recordOf(API_V1, name, 'c1', FAILED_AT) })),
    { put: ROLLOUT_KEY, value: record },
  ]);
  assert.deepEqual(failed.rolloutFailures[0]!.opActions.at(-1), [{ type: 'rollout-failed', job: 'api', reason: record.reason, batch: 1, hosts: ['zw-1'], reverted: HOST_NAMES, revertedTo: 'c1' }]);
});

test('a crash of the new spec long after its rollout completed writes nothing', () => {
  const { observed } = rollToTheEnd(V2_FLEET, steadyCluster(), 'c2', LATER);
  const crashing = withStatus(observed, 'lg-2', 'api', statusRecord(hashOf(API_V2, 'lg-2'), 'CrashLoop', LATER + 2 * HOUR_MS));
  const out = reconcile(V2_FLEET, crashing, { nowMs: LATER + 3 * HOUR_MS, sha: 'c2' });
  assert.deepEqual(out.ops, []);
  assert.deepEqual(out.jobs.get('api'), { tag: API_TAG, health: 'Degraded', desired: 4, healthy: 3, version: '2.0.0', rolling: false, outOfSync: 0 });
});

test('a rollouts/<job> record of a job neither in the repo nor assigned anywhere is deleted', () => {
  const orphan: RolloutRecord = { job: 'gone', jobSpecHash: 'x', state: 'Failed', commit: 'c0', startedAt: iso(T0), reason: 'r', failedAt: iso(T0) };
  const steady = steadyCluster();
  const out = reconcile(fleet(), { ...steady, rollouts: new Map([['gone', orphan]]) }, { nowMs: LATER });
  assert.deepEqual(out.ops, [{ delete: '/ygg/v1/rollouts/gone' }]);
  assert.deepEqual(out.actions, []);
  assert.deepEqual([...out.jobs.keys()], ['api', 'worker']);
});

test('after a wipe, replicas stay where agents still report them: assigned back there, not placed afresh and moved', () => {
  const elsewhere = ['lg-2', 'zw-1'];
  assert.notDeepEqual(elsewhere, WORKER_HOSTS);
  const reported = new Map(elsewhere.map((name) => [name, new Map([['worker', statusRecord(hashOf(WORKER, name), 'Running', T0)]])]));
  const wiped = { ...EMPTY_OBSERVED, statuses: reported, liveAgents: new Set(HOST_NAMES) };
  const out = reconcile(fleet(), wiped, { nowMs: LATER });
  assert.deepEqual(out.placement.get('worker'), elsewhere);
  const workerOps = out.ops.filter((op) => keyOf(op).endsWith('/worker'));
  assert.deepEqual(workerOps, elsewhere.map((name) => ({ put: assignKey(name, 'worker'), value: recordOf(WORKER, name, 'c1', LATER) })));
});
