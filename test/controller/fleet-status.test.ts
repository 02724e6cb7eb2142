import assert from 'node:assert/strict';
import { test } from 'node:test';
import { summarizeJobs } from '../../src/controller/fleet-status.js';
import type { ObservedState } from '../../src/controller/observed-state.js';
import { hashInstanceSpec } from '../../src/controller/spec-hash.js';
import type { HealthCheck, Job } from '../../src/model/types.js';
import type { JobHealth } from '../../src/server/controller-status.js';
import type { AssignmentRecord, InstanceState, RolloutRecord } from '../../src/store/records.js';
import { host, job } from '../fixtures/model-builder.js';
import { assignmentRecord, iso, observedState, statusRecord, T0 } from '../fixtures/observed-builder.js';

const HEALTH: HealthCheck = { http: { port: 'http', path: '/health' }, intervalSeconds: 5, timeoutSeconds: 2 };
const HOSTS = ['h1', 'h2', 'h3'].map((name, index) => host(name, { ip: `10.0.0.${11 + index}` }));
const HOST_NAMES = HOSTS.map((item) => item.name);
const V1 = job('web', { version: '1.0.0', ports: { http: 8080 }, health: HEALTH });
const V2 = job('web', { version: '2.0.0', ports: { http: 8080 }, health: HEALTH });

const v1Record = (index: number) => assignmentRecord(V1, HOSTS[index]!, { commit: 'c1', assignedAtMs: T0 - 3_600_000 });
/** An update to v2 from c2 at `atMs`, remembering v1. */
const v2Record = (index: number, atMs: number) => assignmentRecord(V2, HOSTS[index]!, { commit: 'c2', assignedAtMs: atMs, previous: v1Record(index) });
const reporting = (target: Job, index: number, state: InstanceState) => ({ host: HOSTS[index]!.name, job: target.name, status: statusRecord(hashInstanceSpec(target, HOSTS[index]!).specHash, state, T0) });

function webOf(observed: ObservedState, inForce?: Parameters<typeof summarizeJobs>[2]): JobHealth | undefined {
  return summarizeJobs(observed, observed.rollouts, inForce).find((item) => item.name === 'web');
}

test('a job whose every instance is down stays listed: Degraded, 0 healthy, with its tag', () => {
  const observed = observedState({ assignments: [0, 1, 2].map(v1Record), statuses: [0, 1, 2].map((index) => reporting(V1, index, 'CrashLoop')), liveAgents: HOST_NAMES });
  assert.deepEqual(webOf(observed), { name: 'web', tag: V1.tag, desired: 3, healthy: 0, progressing: 0, state: 'Degraded', version: '1.0.0' });
});

test('a job whose assignments are all missing while agents still run it is listed Missing', () => {
  const observed = observedState({ statuses: [0, 1].map((index) => reporting(V1, index, 'Healthy')), liveAgents: HOST_NAMES });
  assert.deepEqual(webOf(observed), { name: 'web', desired: 0, healthy: 0, progressing: 0, state: 'Missing', version: '' });
  assert.deepEqual(webOf(observed, new Map([['web', { tag: V1.tag, desired: 2, version: '1.0.0' }]])), {
    name: 'web',
    tag: V1.tag,
    desired: 2,
    healthy: 0,
    progressing: 0,
    state: 'Missing',
    version: '1.0.0',
  });
});

test('a job of the commit in force with nothing assigned yet is listed Missing; one being removed is not listed', () => {
  const inForce = new Map([['web', { tag: V1.tag, desired: 3, version: '1.0.0' }]]);
  assert.deepEqual(summarizeJobs(observedState({ liveAgents: HOST_NAMES }), new Map(), inForce), [
    { name: 'web', tag: V1.tag, desired: 3, healthy: 0, progressing: 0, state: 'Missing', version: '1.0.0' },
  ]);
  const removing: ObservedState = {
    ...observedState({ statuses: [reporting(V1, 0, 'Running')], liveAgents: HOST_NAMES }),
    removals: new Map([['h1', new Map([['web', { job: 'web', removed: true as const, commit: 'c3', removedAt: iso(T0) }]])]]),
  };
  assert.deepEqual(summarizeJobs(removing, new Map()), []);
});

test('a rollout in progress is Progressing, not Degraded, and its view counts the rolled instances up on the new spec', () => {
  const rollout: RolloutRecord = { job: 'web', jobSpecHash: 'x', state: 'InProgress', commit: 'c2', startedAt: iso(T0), batch: 2, batches: 3, total: 3, deadline: iso(T0 + 80_000) };
  const assignments: AssignmentRecord[] = [v2Record(0, T0), v2Record(1, T0 + 20_000), v1Record(2)];
  const observed = observedState({
    assignments,
    statuses: [reporting(V2, 0, 'Healthy'), reporting(V2, 1, 'Starting'), reporting(V1, 2, 'Healthy')],
    liveAgents: HOST_NAMES,
    rollouts: [rollout],
  });
  assert.deepEqual(webOf(observed), {
    name: 'web',
    tag: V1.tag,
    rollout: { commit: 'c2', state: 'InProgress', startedAt: iso(T0), batch: 2, batches: 3, done: 1, total: 3, deadline: iso(T0 + 80_000) },
    desired: 3,
    healthy: 2,
    progressing: 1,
    state: 'Progressing',
    version: '1.0.0, 2.0.0',
  });
});

test('a failed rollout leaves its job Degraded, its view saying at which batch, on which hosts, why and what was reverted', () => {
  const rollout: RolloutRecord = {
    job: 'web',
    jobSpecHash: 'x',
    state: 'Failed',
    commit: 'c2',
    startedAt: iso(T0),
    batch: 1,
    batches: 3,
    total: 3,
    deadline: iso(T0 + 60_000),
    reason: 'h1 not healthy within 60s (CrashLoop: exit 1)',
    failedAt: iso(T0 + 60_001),
    failedHosts: ['h1'],
    done: 0,
    revertedHosts: ['h1'],
    revertedTo: 'c1',
  };
  const observed = observedState({ assignments: [0, 1, 2].map(v1Record), statuses: [0, 1, 2].map((index) => reporting(V1, index, 'Healthy')), liveAgents: HOST_NAMES, rollouts: [rollout] });
  const web = webOf(observed)!;
  assert.equal(web.state, 'Degraded');
  assert.deepEqual(web.rollout, {
    commit: 'c2',
    state: 'Failed',
    startedAt: iso(T0),
    batch: 1,
    batches: 3,
    done: 0,
    total: 3,
    failure: { reason: 'h1 not healthy within 60s (CrashLoop: exit 1)', failedAt: iso(T0 + 60_001), hosts: ['h1'], revertedTo: 'c1', revertedHosts: ['h1'] },
  });
});

test('a rollout record from before batches were kept reads as one batch of every assigned instance', () => {
  const old: RolloutRecord = { job: 'web', jobSpecHash: 'x', state: 'Failed', commit: 'c2', startedAt: iso(T0), reason: 'batch not healthy within 60s on h1', failedAt: iso(T0 + 60_001) };
  const observed = observedState({ assignments: [0, 1, 2].map(v1Record), statuses: [0, 1, 2].map((index) => reporting(V1, index, 'Healthy')), liveAgents: HOST_NAMES, rollouts: [old] });
  assert.deepEqual(webOf(observed)?.rollout, {
    commit: 'c2',
    state: 'Failed',
    startedAt: iso(T0),
    batch: 1,
    batches: 1,
    done: 0,
    total: 3,
    failure: { reason: 'batch not healthy within 60s on h1', failedAt: iso(T0 + 60_001), hosts: [] },
  });
});
