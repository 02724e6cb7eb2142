import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rollJob, type JobInput, type JobStep } from '../../src/controller/roll-job.js';
import { hashInstanceSpec, hashJobSpec, type HashedSpec } from '../../src/controller/spec-hash.js';
import type { HealthCheck, Job, RolloutPolicy } from '../../src/model/types.js';
import type { AssignmentRecord, InstanceState, RolloutRecord, StatusRecord } from '../../src/store/records.js';
import { host, job } from '../fixtures/model-builder.js';
import { assignmentRecord, currentAssignments, iso, statusRecord, T0 } from '../fixtures/observed-builder.js';

const HEALTH: HealthCheck = { http: { port: 'http', path: '/health' }, intervalSeconds: 5, timeoutSeconds: 2 };
const POLICY: RolloutPolicy = { maxParallel: 2, minHealthySeconds: 10, autoRevert: true, progressDeadlineSeconds: 60 };
const DEADLINE_MS = 60_000;
const HOUR_MS = 3_600_000;

const HOSTS = ['h1', 'h2', 'h3', 'h4', 'h5'].map((name, index) =>
  host(name, { ip: `10.0.0.${11 + index}`, labels: { idc: index < 3 ? 'lg' : 'zw' } }),
);
const ALL = HOSTS.map((item) => item.name);
const hostNamed = (name: string) => HOSTS.find((item) => item.name === name)!;

const webJob = (version: string) => job('web', { version, ports: { http: 8080 }, health: HEALTH, rollout: POLICY });
const V1 = webJob('1.0.0');
const V2 = webJob('2.0.0');
const V3 = webJob('3.0.0');

const hashOf = (target: Job, name: string) => hashInstanceSpec(target, hostNamed(name)).specHash;
const desiredOf = (target: Job, names: readonly string[]): Map<string, HashedSpec> =>
  new Map(names.map((name) => [name, hashInstanceSpec(target, hostNamed(name))]));
const recordOf = (target: Job, name: string, commit: string, assignedAtMs: number, previous?: AssignmentRecord) =>
  assignmentRecord(target, hostNamed(name), { commit, assignedAtMs, ...(previous ? { previous } : {}) });

/** v1 everywhere since an hour before T0, from commit c1. */
const V1_RECORDS = ALL.map((name) => recordOf(V1, name, 'c1', T0 - HOUR_MS));
const v1Record = (name: string) => V1_RECORDS.find((item) => item.host.name === name)!;
/** The record an update to `target` from commit `commit` writes over v1 on `name`. */
const updatedRecord = (target: Job, name: string, commit: string, atMs: number) => recordOf(target, name, commit, atMs, v1Record(name));

const statuses = (entries: Record<string, StatusRecord>) => new Map(Object.entries(entries));
const V1_HEALTHY = Object.fromEntries(ALL.map((name) => [name, statusRecord(hashOf(V1, name), 'Healthy', T0 - HOUR_MS)]));

function input(overrides: Partial<JobInput>): JobInput {
  return {
    job: 'web',
    tag: V1.tag,
    policy: POLICY,
    hasHealthCheck: true,
    desired: new Map(),
    current: new Map(),
    statuses: undefined,
    failed: undefined,
    jobSpecHash: hashJobSpec(V2),
    commit: 'c2',
    nowMs: T0,
    ...overrides,
  };
}

/** Rolling v1 → v2 from commit c2: `updated` hosts got v2 at `atMs`, the rest still run v1. */
function midRollout(updated: Record<string, number>, overrides: Partial<JobInput> = {}): JobInput {
  const records = ALL.map((name) => (name in updated ? updatedRecord(V2, name, 'c2', updated[name]!) : v1Record(name)));
  return input({ desired: desiredOf(V2, ALL), current: currentAssignments(records), ...overrides });
}

test('new hosts are assigned at once, all of them whatever maxParallel says, without a previous spec', () => {
  const step = rollJob(
    input({ policy: { ...POLICY, maxParallel: 1 }, desired: desiredOf(V1, ['h1', 'h2', 'h3']), commit: 'c1', jobSpecHash: hashJobSpec(V1) }),
  );
  assert.deepEqual(step, {
    changes: ['h1', 'h2', 'h3'].map((name) => ({ kind: 'assign', host: name, record: recordOf(V1, name, 'c1', T0) })),
    health: 'Missing',
    rolling: false,
    desired: 3,
    healthy: 0,
  } satisfies JobStep);
});

test('a host that joins during a rollout gets the new spec at once, beside the batch', () => {
  const step = rollJob(
    input({
      policy: { ...POLICY, maxParallel: 1 },
      desired: desiredOf(V2, ['h1', 'h2', 'h3']),
      current: currentAssignments([v1Record('h1'), v1Record('h2')]),
      statuses: statuses({ h1: V1_HEALTHY.h1!, h2: V1_HEALTHY.h2! }),
    }),
  );
  assert.deepEqual(step, {
    changes: [
      { kind: 'assign', host: 'h3', record: recordOf(V2, 'h3', 'c2', T0) },
      { kind: 'update', host: 'h1', record: updatedRecord(V2, 'h1', 'c2', T0) },
    ],
    health: 'Progressing',
    rolling: true,
    wakeAtMs: T0 + DEADLINE_MS + 1,
    desired: 3,
    healthy: 0,
  } satisfies JobStep);
});

test('a host no longer desired gets a remove carrying the spec hash it ran', () => {
  const step = rollJob(
    input({
      desired: desiredOf(V1, ['h1', 'h2']),
      current: currentAssignments([v1Record('h1'), v1Record('h2'), v1Record('h3')]),
      statuses: statuses({ h1: V1_HEALTHY.h1!, h2: V1_HEALTHY.h2!, h3: V1_HEALTHY.h3! }),
      jobSpecHash: hashJobSpec(V1),
    }),
  );
  assert.deepEqual(step, {
    changes: [{ kind: 'remove', host: 'h3', specHash: hashOf(V1, 'h3') }],
    health: 'Healthy',
    rolling: false,
    desired: 2,
    healthy: 2,
  } satisfies JobStep);
});

test('a job gone from the repo loses every instance at once', () => {
  const step = rollJob(
    input({ policy: undefined, desired: new Map(), current: currentAssignments(V1_RECORDS), statuses: new Map(), jobSpecHash: '' }),
  );
  assert.deepEqual(
    step.changes,
    ALL.map((name) => ({ kind: 'remove', host: name, specHash: hashOf(V1, name) })),
  );
  assert.equal(step.desired, 0);
  assert.equal(step.rolling, false);
  assert.equal(step.failedRollout, undefined);
  assert.equal(step.wakeAtMs, undefined);
});

test('a hand-edited assignment is restored at once to the desired record', () => {
  const edited: AssignmentRecord = { ...v1Record('h2'), spec: { ...V1.spec, env: { EXTRA: '1' } } };
  const step = rollJob(
    input({
      desired: desiredOf(V1, ALL),
      current: currentAssignments([...V1_RECORDS.filter((item) => item.host.name !== 'h2'), edited], ['h2']),
      statuses: statuses(V1_HEALTHY),
      commit: 'c1',
      jobSpecHash: hashJobSpec(V1),
    }),
  );
  assert.deepEqual(step, {
    changes: [{ kind: 'restore', host: 'h2', record: recordOf(V1, 'h2', 'c1', T0) }],
    health: 'Progressing',
    rolling: false,
    desired: 5,
    healthy: 5,
  } satisfies JobStep);
});

test('an update rolls the first maxParallel hosts, sorted by name, each record carrying the spec it replaces', () => {
  const shuffled = ['h4', 'h2', 'h5', 'h1', 'h3'];
  const step = rollJob(
    input({
      desired: desiredOf(V2, shuffled),
      current: currentAssignments(shuffled.map(v1Record)),
      statuses: statuses(V1_HEALTHY),
    }),
  );
  assert.deepEqual(step, {
    changes: [
      { kind: 'update', host: 'h1', record: updatedRecord(V2, 'h1', 'c2', T0) },
      { kind: 'update', host: 'h2', record: updatedRecord(V2, 'h2', 'c2', T0) },
    ],
    health: 'Progressing',
    rolling: true,
    wakeAtMs: T0 + DEADLINE_MS + 1,
    desired: 5,
    healthy: 0,
  } satisfies JobStep);
  const first = step.changes[0]!;
  assert.ok(first.kind === 'update');
  assert.deepEqual(first.record.previous, { spec: V1.spec, specHash: hashOf(V1, 'h1'), commit: 'c1' });
});

test('an update keeps only the replaced record as previous, not that record’s own previous', () => {
  const onV2 = updatedRecord(V2, 'h1', 'c2', T0 - HOUR_MS);
  assert.ok(onV2.previous);
  const step = rollJob(
    input({
      desired: desiredOf(V3, ['h1']),
      current: currentAssignments([onV2]),
      statuses: statuses({ h1: statusRecord(hashOf(V2, 'h1'), 'Healthy', T0 - HOUR_MS) }),
      jobSpecHash: hashJobSpec(V3),
      commit: 'c3',
    }),
  );
  assert.deepEqual(step.changes, [{ kind: 'update', host: 'h1', record: recordOf(V3, 'h1', 'c3', T0, onV2) }]);
  const change = step.changes[0]!;
  assert.ok(change.kind === 'update');
  assert.deepEqual(change.record.previous, { spec: V2.spec, specHash: hashOf(V2, 'h1'), commit: 'c2' });
});

test('the next batch waits while an instance of the current batch is not up on the new spec', () => {
  const step = rollJob(
    midRollout(
      { h1: T0, h2: T0 },
      {
        statuses: statuses({
          ...V1_HEALTHY,
          h1: statusRecord(hashOf(V2, 'h1'), 'Healthy', T0 + 5_000),
          h2: statusRecord(hashOf(V2, 'h2'), 'Starting', T0 + 2_000),
        }),
        nowMs: T0 + 30_000,
      },
    ),
  );
  assert.deepEqual(step, { changes: [], health: 'Progressing', rolling: true, wakeAtMs: T0 + DEADLINE_MS + 1, desired: 5, healthy: 1 } satisfies JobStep);
});

test('a healthy status for the old spec does not count as the batch being up', () => {
  const step = rollJob(
    midRollout(
      { h1: T0, h2: T0 },
      { statuses: statuses({ ...V1_HEALTHY, h1: statusRecord(hashOf(V2, 'h1'), 'Healthy', T0 + 5_000) }), nowMs: T0 + 30_000 },
    ),
  );
  assert.deepEqual(step.changes, []);
  assert.equal(step.healthy, 1);
  assert.equal(step.wakeAtMs, T0 + DEADLINE_MS + 1);
});

test('the batch must stay up for minHealthySeconds; the step wakes when it will have, then the next batch starts', () => {
  const batchUp = statuses({
    ...V1_HEALTHY,
    h1: statusRecord(hashOf(V2, 'h1'), 'Healthy', T0 + 5_000),
    h2: statusRecord(hashOf(V2, 'h2'), 'Healthy', T0 + 25_000),
  });
  for (const nowMs of [T0 + 30_000, T0 + 34_999]) {
    const waiting = rollJob(midRollout({ h1: T0, h2: T0 }, { statuses: batchUp, nowMs }));
    assert.deepEqual(waiting, { changes: [], health: 'Progressing', rolling: true, wakeAtMs: T0 + 35_000, desired: 5, healthy: 2 } satisfies JobStep);
  }
  const next = rollJob(midRollout({ h1: T0, h2: T0 }, { statuses: batchUp, nowMs: T0 + 35_000 }));
  assert.deepEqual(next, {
    changes: [
      { kind: 'update', host: 'h3', record: updatedRecord(V2, 'h3', 'c2', T0 + 35_000) },
      { kind: 'update', host: 'h4', record: updatedRecord(V2, 'h4', 'c2', T0 + 35_000) },
    ],
    health: 'Progressing',
    rolling: true,
    wakeAtMs: T0 + 35_000 + DEADLINE_MS + 1,
    desired: 5,
    healthy: 2,
  } satisfies JobStep);
});

test('the step wakes at the deadline when that comes before the batch can settle', () => {
  const step = rollJob(
    midRollout(
      { h1: T0, h2: T0 },
      {
        statuses: statuses({
          ...V1_HEALTHY,
          h1: statusRecord(hashOf(V2, 'h1'), 'Healthy', T0 + 5_000),
          h2: statusRecord(hashOf(V2, 'h2'), 'Healthy', T0 + 55_000),
        }),
        nowMs: T0 + 56_000,
      },
    ),
  );
  assert.deepEqual(step.changes, []);
  assert.equal(step.wakeAtMs, T0 + DEADLINE_MS + 1);
});

test('Running counts as up only for a job without a health check', () => {
  const running = statuses({
    ...V1_HEALTHY,
    h1: statusRecord(hashOf(V2, 'h1'), 'Running', T0 + 5_000),
    h2: statusRecord(hashOf(V2, 'h2'), 'Running', T0 + 5_000),
  });
  const checked = rollJob(midRollout({ h1: T0, h2: T0 }, { statuses: running, nowMs: T0 + 20_000 }));
  assert.deepEqual(checked.changes, []);
  assert.equal(checked.healthy, 0);
  const unchecked = rollJob(midRollout({ h1: T0, h2: T0 }, { statuses: running, nowMs: T0 + 20_000, hasHealthCheck: false }));
  assert.deepEqual(
    unchecked.changes.map((change) => `${change.kind} ${change.host}`),
    ['update h3', 'update h4'],
  );
  assert.equal(unchecked.healthy, 2);
});

const crashingBatch = statuses({
  ...V1_HEALTHY,
  h1: statusRecord(hashOf(V2, 'h1'), 'Healthy', T0 + 5_000),
  h2: statusRecord(hashOf(V2, 'h2'), 'CrashLoop', T0 + 10_000),
});

test('a batch is given until exactly progressDeadlineSeconds after its assignment', () => {
  const step = rollJob(midRollout({ h1: T0, h2: T0 }, { statuses: crashingBatch, nowMs: T0 + DEADLINE_MS }));
  assert.deepEqual(step, { changes: [], health: 'Progressing', rolling: true, wakeAtMs: T0 + DEADLINE_MS + 1, desired: 5, healthy: 1 } satisfies JobStep);
});

test('a batch past its deadline fails the rollout; autoRevert puts the previous spec back on the hosts that run the new one', () => {
  const nowMs = T0 + DEADLINE_MS + 1;
  const step = rollJob(midRollout({ h1: T0, h2: T0 }, { statuses: crashingBatch, nowMs }));
  const reverted = (name: string): AssignmentRecord => ({
    job: 'web',
    tag: V1.tag,
    host: { name, ip: hostNamed(name).ip, labels: hostNamed(name).labels },
    spec: V1.spec,
    specHash: hashOf(V1, name),
    commit: 'c1',
    assignedAt: iso(nowMs),
  });
  assert.deepEqual(step, {
    changes: [
      { kind: 'revert', host: 'h1', record: reverted('h1') },
      { kind: 'revert', host: 'h2', record: reverted('h2') },
    ],
    failedRollout: {
      job: 'web',
      failedSpecHash: hashJobSpec(V2),
      revertedTo: hashOf(V1, 'h1'),
      commit: 'c2',
      reason: 'batch not healthy within 60s on h2',
      time: iso(nowMs),
    },
    health: 'Degraded',
    rolling: false,
    desired: 5,
    healthy: 1,
  } satisfies JobStep);
});

test('hosts that never reported fail the batch at its deadline too, named in sorted order', () => {
  const reversed = [...ALL].reverse();
  const step = rollJob(
    midRollout({ h1: T0, h2: T0 }, { desired: desiredOf(V2, reversed), statuses: statuses(V1_HEALTHY), nowMs: T0 + DEADLINE_MS + 1 }),
  );
  assert.equal(step.failedRollout?.reason, 'batch not healthy within 60s on h1, h2');
  assert.deepEqual(
    step.changes.map((change) => `${change.kind} ${change.host}`),
    ['revert h2', 'revert h1'],
  );
});

test('a later batch that misses its deadline reverts the earlier, settled batches too', () => {
  const nowMs = T0 + 40_000 + DEADLINE_MS + 1;
  const step = rollJob(
    midRollout(
      { h1: T0, h2: T0, h3: T0 + 40_000, h4: T0 + 40_000 },
      {
        statuses: statuses({
          ...V1_HEALTHY,
          h1: statusRecord(hashOf(V2, 'h1'), 'Healthy', T0 + 5_000),
          h2: statusRecord(hashOf(V2, 'h2'), 'Healthy', T0 + 5_000),
          h3: statusRecord(hashOf(V2, 'h3'), 'Starting', T0 + 41_000),
          h4: statusRecord(hashOf(V2, 'h4'), 'Unhealthy', T0 + 45_000),
        }),
        nowMs,
      },
    ),
  );
  assert.equal(step.failedRollout?.reason, 'batch not healthy within 60s on h3, h4');
  assert.deepEqual(
    step.changes.map((change) => (change.kind === 'remove' ? change : { kind: change.kind, host: change.host, specHash: change.record.specHash, commit: change.record.commit })),
    ['h1', 'h2', 'h3', 'h4'].map((name) => ({ kind: 'revert', host: name, specHash: hashOf(V1, name), commit: 'c1' })),
  );
});

test('a host assigned fresh during the rollout has nothing to revert to and keeps the new spec', () => {
  const nowMs = T0 + DEADLINE_MS + 1;
  const records = [
    recordOf(V2, 'h1', 'c2', T0),
    updatedRecord(V2, 'h2', 'c2', T0),
    updatedRecord(V2, 'h3', 'c2', T0),
    v1Record('h4'),
    v1Record('h5'),
  ];
  const step = rollJob(
    input({
      desired: desiredOf(V2, ALL),
      current: currentAssignments(records),
      statuses: statuses({
        ...V1_HEALTHY,
        h1: statusRecord(hashOf(V2, 'h1'), 'Healthy', T0 + 5_000),
        h2: statusRecord(hashOf(V2, 'h2'), 'CrashLoop', T0 + 5_000),
        h3: statusRecord(hashOf(V2, 'h3'), 'Healthy', T0 + 5_000),
      }),
      nowMs,
    }),
  );
  assert.deepEqual(
    step.changes.map((change) => (change.kind === 'remove' ? change : { kind: change.kind, host: change.host, specHash: change.record.specHash })),
    ['h2', 'h3'].map((name) => ({ kind: 'revert', host: name, specHash: hashOf(V1, name) })),
  );
  assert.equal(step.failedRollout?.revertedTo, hashOf(V1, 'h2'));
  assert.equal(step.failedRollout?.reason, 'batch not healthy within 60s on h2');
});

test('without autoRevert a failed batch is recorded but nothing is reverted', () => {
  const nowMs = T0 + DEADLINE_MS + 1;
  const step = rollJob(midRollout({ h1: T0, h2: T0 }, { statuses: crashingBatch, nowMs, policy: { ...POLICY, autoRevert: false } }));
  assert.deepEqual(step, {
    changes: [],
    failedRollout: {
      job: 'web',
      failedSpecHash: hashJobSpec(V2),
      revertedTo: '',
      commit: 'c2',
      reason: 'batch not healthy within 60s on h2',
      time: iso(nowMs),
    },
    health: 'Degraded',
    rolling: false,
    desired: 5,
    healthy: 1,
  } satisfies JobStep);
});

/** After the v2 rollout failed and h1, h2 were reverted to v1. */
const FAILED_V2: RolloutRecord = {
  job: 'web',
  failedSpecHash: hashJobSpec(V2),
  revertedTo: hashOf(V1, 'h1'),
  commit: 'c2',
  reason: 'batch not healthy within 60s on h2',
  time: iso(T0 + DEADLINE_MS + 1),
};
const REVERTED = ALL.map((name) => (name === 'h1' || name === 'h2' ? recordOf(V1, name, 'c1', T0 + DEADLINE_MS + 1) : v1Record(name)));

test('a spec whose rollout failed is held: no updates, health Degraded', () => {
  const step = rollJob(
    input({
      desired: desiredOf(V2, ALL),
      current: currentAssignments(REVERTED),
      statuses: statuses(V1_HEALTHY),
      failed: FAILED_V2,
      nowMs: T0 + 2 * HOUR_MS,
    }),
  );
  assert.deepEqual(step, { changes: [], health: 'Degraded', rolling: false, desired: 5, healthy: 0 } satisfies JobStep);
});

test('a different spec after a failed one rolls again', () => {
  const nowMs = T0 + 2 * HOUR_MS;
  const step = rollJob(
    input({
      desired: desiredOf(V3, ALL),
      current: currentAssignments(REVERTED),
      statuses: statuses(V1_HEALTHY),
      failed: FAILED_V2,
      jobSpecHash: hashJobSpec(V3),
      commit: 'c3',
      nowMs,
    }),
  );
  assert.deepEqual(step, {
    changes: [
      { kind: 'update', host: 'h1', record: recordOf(V3, 'h1', 'c3', nowMs, REVERTED[0]) },
      { kind: 'update', host: 'h2', record: recordOf(V3, 'h2', 'c3', nowMs, REVERTED[1]) },
    ],
    health: 'Progressing',
    rolling: true,
    wakeAtMs: nowMs + DEADLINE_MS + 1,
    desired: 5,
    healthy: 0,
  } satisfies JobStep);
});

/** Job health when every instance already has the desired v1 assignment. */
function healthWith(reported: Record<string, StatusRecord>, hasHealthCheck = true): JobStep {
  return rollJob(
    input({
      desired: desiredOf(V1, ['h1', 'h2']),
      current: currentAssignments([v1Record('h1'), v1Record('h2')]),
      statuses: statuses(reported),
      hasHealthCheck,
      jobSpecHash: hashJobSpec(V1),
    }),
  );
}
const v1Status = (name: string, state: InstanceState) => statusRecord(hashOf(V1, name), state, T0 - 1_000);

test('health is Healthy when every desired instance is up on its spec', () => {
  assert.deepEqual(healthWith({ h1: v1Status('h1', 'Healthy'), h2: v1Status('h2', 'Healthy') }), {
    changes: [],
    health: 'Healthy',
    rolling: false,
    desired: 2,
    healthy: 2,
  } satisfies JobStep);
  assert.equal(healthWith({ h1: v1Status('h1', 'Running'), h2: v1Status('h2', 'Running') }, false).health, 'Healthy');
});

test('health is Progressing while an instance starts, runs unchecked by its health check, or runs an old spec', () => {
  assert.equal(healthWith({ h1: v1Status('h1', 'Healthy'), h2: v1Status('h2', 'Starting') }).health, 'Progressing');
  assert.equal(healthWith({ h1: v1Status('h1', 'Healthy'), h2: v1Status('h2', 'Running') }).health, 'Progressing');
  assert.equal(healthWith({ h1: v1Status('h1', 'Healthy') }).health, 'Progressing');
  const oldSpec = statusRecord(hashOf(V2, 'h2'), 'Healthy', T0 - 1_000);
  assert.deepEqual(healthWith({ h1: v1Status('h1', 'Healthy'), h2: oldSpec }), {
    changes: [],
    health: 'Progressing',
    rolling: false,
    desired: 2,
    healthy: 1,
  } satisfies JobStep);
});

test('health is Degraded when an instance crash-loops, failed or is unhealthy', () => {
  for (const state of ['CrashLoop', 'Failed', 'Unhealthy'] as const) {
    assert.equal(healthWith({ h1: v1Status('h1', 'Healthy'), h2: v1Status('h2', state) }).health, 'Degraded', state);
  }
  assert.equal(healthWith({ h1: v1Status('h1', 'Starting'), h2: v1Status('h2', 'CrashLoop') }).health, 'Degraded');
});

test('health is Missing when no desired instance reports a status', () => {
  assert.deepEqual(healthWith({}), { changes: [], health: 'Missing', rolling: false, desired: 2, healthy: 0 } satisfies JobStep);
  const noStatuses = rollJob(
    input({ desired: desiredOf(V1, ['h1']), current: currentAssignments([v1Record('h1')]), statuses: undefined, jobSpecHash: hashJobSpec(V1) }),
  );
  assert.equal(noStatuses.health, 'Missing');
  // A status from a host the job no longer runs on does not count.
  assert.equal(healthWith({ h3: v1Status('h3', 'Healthy') }).health, 'Missing');
});
