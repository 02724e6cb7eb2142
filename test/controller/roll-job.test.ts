import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rollJob, type JobInput, type JobStep } from '../../src/controller/roll-job.js';
import { computeSpecHash, hashInstanceSpec, hashJobSpec, type HashedSpec } from '../../src/controller/spec-hash.js';
import type { HealthCheck, Job, RolloutPolicy } from '../../src/model/types.js';
import type { AssignmentRecord, InstanceState, RolloutRecord, StatusRecord } from '../../src/store/records.js';
import { host, job } from '../fixtures/model-builder.js';
import { assignmentRecord, currentAssignments, iso, statusRecord, T0 } from '../fixtures/observed-builder.js';

const HEALTH: HealthCheck = { http: { port: 'http', path: '/health' }, intervalSeconds: 5, timeoutSeconds: 2 };
const POLICY: RolloutPolicy = { maxParallel: 2, minHealthySeconds: 10, autoRevert: true, progressDeadlineSeconds: 60, drainSeconds: 2 };
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
    lost: new Set(),
    rollout: undefined,
    jobSpecHash: hashJobSpec(V2),
    services: [],
    commit: 'c2',
    nowMs: T0,
    ...overrides,
  };
}

/** rollouts/web as a rollout of `target` from `commit` started at `startedAtMs` writes it. */
const inProgress = (target: Job, commit: string, startedAtMs: number): RolloutRecord => ({
  job: 'web',
  jobSpecHash: hashJobSpec(target),
  state: 'InProgress',
  commit,
  startedAt: iso(startedAtMs),
});
/** The v1 → v2 rollout from commit c2, started at T0. */
const ROLLING_V2 = inProgress(V2, 'c2', T0);
/** `record` as the step that starts its batch `batch` of `batches` (`total` instances to roll) at `atMs` writes it. */
const batchOf = (record: RolloutRecord, batch: number, batches: number, total: number, atMs: number): RolloutRecord => ({
  ...record,
  batch,
  batches,
  total,
  deadline: iso(atMs + DEADLINE_MS),
});
/** The v2 rollout (from a record without batches) failed at `failedAtMs`, as `failure` says. */
const failedV2 = (failedAtMs: number, failure: Partial<RolloutRecord>): RolloutRecord => ({ ...ROLLING_V2, state: 'Failed', failedAt: iso(failedAtMs), ...failure });
/** h1 and h2 rolled at T0; h2 crash-looped past the deadline, h1 was up: both go back to v1 from c1. */
const FAILED_V2: RolloutRecord = failedV2(T0 + DEADLINE_MS + 1, {
  reason: 'h2 not healthy within 60s (CrashLoop)',
  failedHosts: ['h2'],
  done: 1,
  revertedHosts: ['h1', 'h2'],
  revertedTo: 'c1',
});

/** Rolling v1 → v2 from commit c2 (rollouts/web InProgress): `updated` hosts got v2 at `atMs`, the rest still run v1. */
function midRollout(updated: Record<string, number>, overrides: Partial<JobInput> = {}): JobInput {
  const records = ALL.map((name) => (name in updated ? updatedRecord(V2, name, 'c2', updated[name]!) : v1Record(name)));
  return input({ desired: desiredOf(V2, ALL), current: currentAssignments(records), rollout: ROLLING_V2, ...overrides });
}

/** The record a revert writes on `name`: v1 from c1 exactly as it was, assigned again at `atMs`, without a previous. */
const revertedTo = (name: string, atMs: number): AssignmentRecord => ({
  job: 'web',
  tag: V1.tag,
  host: { name, ip: hostNamed(name).ip, labels: hostNamed(name).labels },
  spec: V1.spec,
  specHash: hashOf(V1, name),
  commit: 'c1',
  assignedAt: iso(atMs),
});
const intact = (record: AssignmentRecord) => computeSpecHash(record.job, record.tag, record.host, record.spec) === record.specHash;
const summary = (step: JobStep) => step.changes.map((change) => `${change.kind} ${change.host}`);

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

test('a host that joins as a rollout starts gets the new spec at once, beside the first batch', () => {
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
    rollout: batchOf(ROLLING_V2, 1, 2, 2, T0),
    health: 'Progressing',
    rolling: true,
    wakeAtMs: T0 + DEADLINE_MS + 1,
    desired: 3,
    healthy: 0,
  } satisfies JobStep);
});

test('a host that joins in the middle of a rollout gets the new spec at once, beside the batch in flight', () => {
  const lateJoiner = recordOf(V2, 'h3', 'c2', T0 + 30_000);
  const step = rollJob(
    input({
      policy: { ...POLICY, maxParallel: 1 },
      desired: desiredOf(V2, ['h1', 'h2', 'h3', 'h4']),
      current: currentAssignments([updatedRecord(V2, 'h1', 'c2', T0), v1Record('h2'), lateJoiner]),
      statuses: statuses({
        h1: statusRecord(hashOf(V2, 'h1'), 'Starting', T0 + 2_000),
        h2: V1_HEALTHY.h2!,
        h3: statusRecord(hashOf(V2, 'h3'), 'Starting', T0 + 31_000),
      }),
      rollout: ROLLING_V2,
      nowMs: T0 + 40_000,
    }),
  );
  assert.deepEqual(step, {
    changes: [{ kind: 'assign', host: 'h4', record: recordOf(V2, 'h4', 'c2', T0 + 40_000) }],
    health: 'Progressing',
    rolling: true,
    wakeAtMs: T0 + DEADLINE_MS + 1,
    desired: 4,
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
  assert.equal(step.rollout, undefined);
  assert.equal(step.wakeAtMs, undefined);
});

test('another drainSeconds alone rewrites every record with it, restarting nothing; other rollout fields rewrite none', () => {
  const drained = (drainSeconds: number) => job('web', { ...V1.spec, rollout: { ...POLICY, drainSeconds } });
  const run = (target: Job) =>
    rollJob(input({ desired: desiredOf(target, ALL), current: currentAssignments(V1_RECORDS), statuses: statuses(V1_HEALTHY), jobSpecHash: hashJobSpec(target) }));
  const step = run(drained(0));
  assert.deepEqual(
    step.changes,
    V1_RECORDS.map((current) => ({ kind: 'refresh', host: current.host.name, record: { ...current, spec: { ...current.spec, rollout: { ...POLICY, drainSeconds: 0 } } } })),
  );
  assert.equal(step.rolling, false);
  assert.deepEqual(run(job('web', { ...V1.spec, rollout: { ...POLICY, maxParallel: 5, minHealthySeconds: 0 } })).changes, []);
  // A record from a controller that predates drainSeconds means the default, 2 s: no rewrite.
  const { drainSeconds: _drain, ...older } = POLICY;
  const olderRecords = V1_RECORDS.map((current) => ({ ...current, spec: { ...current.spec, rollout: older as RolloutPolicy } }));
  const fromOlder = rollJob(input({ desired: desiredOf(V1, ALL), current: currentAssignments(olderRecords), statuses: statuses(V1_HEALTHY), jobSpecHash: hashJobSpec(V1) }));
  assert.deepEqual(fromOlder.changes, []);
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

test('an update starts a rollout: rollouts/<job> InProgress and the first maxParallel hosts, sorted by name, each record carrying the one it replaces', () => {
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
    rollout: { job: 'web', jobSpecHash: hashJobSpec(V2), state: 'InProgress', commit: 'c2', startedAt: iso(T0), batch: 1, batches: 3, total: 5, deadline: iso(T0 + DEADLINE_MS) },
    health: 'Progressing',
    rolling: true,
    wakeAtMs: T0 + DEADLINE_MS + 1,
    desired: 5,
    healthy: 0,
  } satisfies JobStep);
  const first = step.changes[0]!;
  assert.ok(first.kind === 'update');
  assert.deepEqual(first.record.previous, {
    tag: V1.tag,
    host: { name: 'h1', ip: '10.0.0.11', labels: { idc: 'lg' } },
    spec: V1.spec,
    specHash: hashOf(V1, 'h1'),
    commit: 'c1',
  });
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
  assert.deepEqual(change.record.previous, { tag: V2.tag, host: onV2.host, spec: V2.spec, specHash: hashOf(V2, 'h1'), commit: 'c2' });
  assert.equal(step.rollout?.jobSpecHash, hashJobSpec(V3));
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
    rollout: batchOf(ROLLING_V2, 2, 3, 5, T0 + 35_000),
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
  assert.deepEqual(step, {
    changes: [
      { kind: 'revert', host: 'h1', record: revertedTo('h1', nowMs) },
      { kind: 'revert', host: 'h2', record: revertedTo('h2', nowMs) },
    ],
    rollout: {
      job: 'web',
      jobSpecHash: hashJobSpec(V2),
      state: 'Failed',
      commit: 'c2',
      startedAt: iso(T0),
      reason: 'h2 not healthy within 60s (CrashLoop)',
      failedAt: iso(nowMs),
      failedHosts: ['h2'],
      done: 1,
      revertedHosts: ['h1', 'h2'],
      revertedTo: 'c1',
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
  assert.equal(step.rollout?.reason, 'h1, h2 not healthy within 60s (h1 still on its previous spec; h2 still on its previous spec)');
  assert.deepEqual(step.rollout?.failedHosts, ['h1', 'h2']);
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
  assert.equal(step.rollout?.reason, 'h3, h4 not healthy within 60s (h3 Starting; h4 Unhealthy)');
  assert.deepEqual([step.rollout?.done, step.rollout?.revertedHosts, step.rollout?.revertedTo], [2, ['h1', 'h2', 'h3', 'h4'], 'c1'], 'the settled batch counts as done, and goes back too');
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
      rollout: ROLLING_V2,
      nowMs,
    }),
  );
  assert.deepEqual(
    step.changes.map((change) => (change.kind === 'remove' ? change : { kind: change.kind, host: change.host, specHash: change.record.specHash })),
    ['h2', 'h3'].map((name) => ({ kind: 'revert', host: name, specHash: hashOf(V1, name) })),
  );
  // h1 was assigned fresh: it is neither done (a rolled update) nor reverted.
  assert.deepEqual(step.rollout, failedV2(nowMs, { reason: 'h2 not healthy within 60s (CrashLoop)', failedHosts: ['h2'], done: 1, revertedHosts: ['h2', 'h3'], revertedTo: 'c1' }));
});

test('without autoRevert a failed batch is recorded but nothing is reverted', () => {
  const nowMs = T0 + DEADLINE_MS + 1;
  const step = rollJob(midRollout({ h1: T0, h2: T0 }, { statuses: crashingBatch, nowMs, policy: { ...POLICY, autoRevert: false } }));
  assert.deepEqual(step, {
    changes: [],
    rollout: failedV2(nowMs, { reason: 'h2 not healthy within 60s (CrashLoop)', failedHosts: ['h2'], done: 1 }),
    health: 'Degraded',
    rolling: false,
    desired: 5,
    healthy: 1,
  } satisfies JobStep);
});

/** After the v2 rollout failed and h1, h2 were reverted to v1. */
const REVERTED = ALL.map((name) => (name === 'h1' || name === 'h2' ? recordOf(V1, name, 'c1', T0 + DEADLINE_MS + 1) : v1Record(name)));

test('a spec whose rollout failed is held: no updates, health Degraded', () => {
  const step = rollJob(
    input({
      desired: desiredOf(V2, ALL),
      current: currentAssignments(REVERTED),
      statuses: statuses(V1_HEALTHY),
      rollout: FAILED_V2,
      nowMs: T0 + 2 * HOUR_MS,
    }),
  );
  assert.deepEqual(step, { changes: [], health: 'Degraded', rolling: false, desired: 5, healthy: 0 } satisfies JobStep);
});

test('a different spec after a failed one rolls again, its InProgress record replacing the failure', () => {
  const nowMs = T0 + 2 * HOUR_MS;
  const step = rollJob(
    input({
      desired: desiredOf(V3, ALL),
      current: currentAssignments(REVERTED),
      statuses: statuses(V1_HEALTHY),
      rollout: FAILED_V2,
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
    rollout: batchOf(inProgress(V3, 'c3', nowMs), 1, 3, 5, nowMs),
    health: 'Progressing',
    rolling: true,
    wakeAtMs: nowMs + DEADLINE_MS + 1,
    desired: 5,
    healthy: 0,
  } satisfies JobStep);
});

/** Job health when every instance already has the desired v1 assignment. */
function healthWith(reported: Record<string, StatusRecord>, hasHealthCheck = true, lost: readonly string[] = []): JobStep {
  return rollJob(
    input({
      desired: desiredOf(V1, ['h1', 'h2']),
      current: currentAssignments([v1Record('h1'), v1Record('h2')]),
      statuses: statuses(reported),
      lost: new Set(lost),
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

test('an instance on a lost host is down whatever its last status said: the job is Degraded, not Missing', () => {
  const bothHealthy = { h1: v1Status('h1', 'Healthy'), h2: v1Status('h2', 'Healthy') };
  assert.deepEqual(healthWith(bothHealthy, true, ['h2']), { changes: [], health: 'Degraded', rolling: false, desired: 2, healthy: 1 } satisfies JobStep);
  assert.deepEqual(healthWith(bothHealthy, true, ['h1', 'h2']), { changes: [], health: 'Degraded', rolling: false, desired: 2, healthy: 0 } satisfies JobStep);
  assert.equal(healthWith({}, true, ['h1', 'h2']).health, 'Degraded');
  // A lost host that holds nothing of the job changes nothing.
  assert.equal(healthWith(bothHealthy, true, ['h3']).health, 'Healthy');
});

test('a single-host job starts its rollout with the one host and the InProgress record', () => {
  const step = rollJob(input({ desired: desiredOf(V2, ['h1']), current: currentAssignments([v1Record('h1')]), statuses: statuses({ h1: V1_HEALTHY.h1! }) }));
  assert.deepEqual(step, {
    changes: [{ kind: 'update', host: 'h1', record: updatedRecord(V2, 'h1', 'c2', T0) }],
    rollout: batchOf(ROLLING_V2, 1, 1, 1, T0),
    health: 'Progressing',
    rolling: true,
    wakeAtMs: T0 + DEADLINE_MS + 1,
    desired: 1,
    healthy: 0,
  } satisfies JobStep);
});

test('a single-host rollout that misses its deadline is reverted and recorded as Failed', () => {
  const singleHost = (overrides: Partial<JobInput>) =>
    input({ desired: desiredOf(V2, ['h1']), current: currentAssignments([updatedRecord(V2, 'h1', 'c2', T0)]), rollout: ROLLING_V2, ...overrides });
  const crashing = statuses({ h1: statusRecord(hashOf(V2, 'h1'), 'CrashLoop', T0 + 3_000) });
  assert.deepEqual(rollJob(singleHost({ statuses: crashing, nowMs: T0 + DEADLINE_MS })), {
    changes: [],
    health: 'Progressing',
    rolling: true,
    wakeAtMs: T0 + DEADLINE_MS + 1,
    desired: 1,
    healthy: 0,
  } satisfies JobStep);
  const nowMs = T0 + DEADLINE_MS + 1;
  assert.deepEqual(rollJob(singleHost({ statuses: crashing, nowMs })), {
    changes: [{ kind: 'revert', host: 'h1', record: revertedTo('h1', nowMs) }],
    rollout: failedV2(nowMs, { reason: 'h1 not healthy within 60s (CrashLoop)', failedHosts: ['h1'], done: 0, revertedHosts: ['h1'], revertedTo: 'c1' }),
    health: 'Degraded',
    rolling: false,
    desired: 1,
    healthy: 0,
  } satisfies JobStep);
  // A host that never reports the new spec at all fails the same way.
  assert.deepEqual(summary(rollJob(singleHost({ statuses: statuses({ h1: V1_HEALTHY.h1! }), nowMs }))), ['revert h1']);
});

test('a rollout of one batch (maxParallel ≥ hosts) that misses its deadline reverts every host', () => {
  const wide = { ...POLICY, maxParallel: 5 };
  const first = rollJob(input({ policy: wide, desired: desiredOf(V2, ALL), current: currentAssignments(V1_RECORDS), statuses: statuses(V1_HEALTHY) }));
  assert.deepEqual(summary(first), ALL.map((name) => `update ${name}`));
  assert.deepEqual(first.rollout, batchOf(ROLLING_V2, 1, 1, 5, T0));
  const nowMs = T0 + DEADLINE_MS + 1;
  const step = rollJob(
    midRollout(Object.fromEntries(ALL.map((name) => [name, T0])), {
      policy: wide,
      statuses: statuses(Object.fromEntries(ALL.map((name) => [name, statusRecord(hashOf(V2, name), name === 'h4' ? 'Unhealthy' : 'Healthy', T0 + 5_000)]))),
      nowMs,
    }),
  );
  assert.deepEqual(step, {
    changes: ALL.map((name) => ({ kind: 'revert', host: name, record: revertedTo(name, nowMs) })),
    rollout: failedV2(nowMs, { reason: 'h4 not healthy within 60s (Unhealthy)', failedHosts: ['h4'], done: 4, revertedHosts: ALL, revertedTo: 'c1' }),
    health: 'Degraded',
    rolling: false,
    desired: 5,
    healthy: 4,
  } satisfies JobStep);
});

const THREE = ['h1', 'h2', 'h3'];
const ONE_AT_A_TIME: RolloutPolicy = { ...POLICY, maxParallel: 1 };
/** A 3-host maxParallel-1 rollout of v2 whose three batches went out at T0, T0 + 15 s and T0 + 30 s. */
function lastBatch(h3: StatusRecord | undefined, nowMs: number): JobInput {
  const records = [updatedRecord(V2, 'h1', 'c2', T0), updatedRecord(V2, 'h2', 'c2', T0 + 15_000), updatedRecord(V2, 'h3', 'c2', T0 + 30_000)];
  return input({
    policy: ONE_AT_A_TIME,
    desired: desiredOf(V2, THREE),
    current: currentAssignments(records),
    statuses: statuses({
      h1: statusRecord(hashOf(V2, 'h1'), 'Healthy', T0 + 3_000),
      h2: statusRecord(hashOf(V2, 'h2'), 'Healthy', T0 + 18_000),
      ...(h3 ? { h3 } : {}),
    }),
    rollout: ROLLING_V2,
    nowMs,
  });
}

test('the last batch of a rollout waits for its own deadline: no update is left, but the rollout is not complete', () => {
  const step = rollJob(lastBatch(statusRecord(hashOf(V2, 'h3'), 'Starting', T0 + 31_000), T0 + 30_000 + DEADLINE_MS));
  assert.deepEqual(step, { changes: [], health: 'Progressing', rolling: true, wakeAtMs: T0 + 30_000 + DEADLINE_MS + 1, desired: 3, healthy: 2 } satisfies JobStep);
});

test('the last batch of a rollout that misses its deadline fails it and reverts all three hosts', () => {
  const input = lastBatch(statusRecord(hashOf(V2, 'h3'), 'CrashLoop', T0 + 35_000), T0 + 30_000 + DEADLINE_MS + 1);
  for (const name of THREE) assert.ok(input.current.get(name)!.record.previous, `${name} on the new spec has a previous`);
  const nowMs = input.nowMs;
  assert.deepEqual(rollJob(input), {
    changes: THREE.map((name) => ({ kind: 'revert', host: name, record: revertedTo(name, nowMs) })),
    rollout: failedV2(nowMs, { reason: 'h3 not healthy within 60s (CrashLoop)', failedHosts: ['h3'], done: 2, revertedHosts: THREE, revertedTo: 'c1' }),
    health: 'Degraded',
    rolling: false,
    desired: 3,
    healthy: 2,
  } satisfies JobStep);
});

test('a rollout completes when its last batch has been healthy for minHealthySeconds: rollouts/<job> is deleted', () => {
  const h3Healthy = statusRecord(hashOf(V2, 'h3'), 'Healthy', T0 + 32_000);
  assert.deepEqual(rollJob(lastBatch(h3Healthy, T0 + 41_999)), {
    changes: [],
    health: 'Progressing',
    rolling: true,
    wakeAtMs: T0 + 42_000,
    desired: 3,
    healthy: 3,
  } satisfies JobStep);
  assert.deepEqual(rollJob(lastBatch(h3Healthy, T0 + 42_000)), { changes: [], rollout: null, health: 'Healthy', rolling: false, desired: 3, healthy: 3 } satisfies JobStep);
});

test('a completed rollout whose host crashes much later reverts nothing: without a record it is only Degraded', () => {
  const completed = lastBatch(statusRecord(hashOf(V2, 'h3'), 'CrashLoop', T0 + 5 * HOUR_MS), T0 + 6 * HOUR_MS);
  assert.deepEqual(rollJob({ ...completed, rollout: undefined }), { changes: [], health: 'Degraded', rolling: false, desired: 3, healthy: 2 } satisfies JobStep);
});

test('a rollout of the same spec to one host changed since leaves the hosts of the completed one out: not waited for, not reverted', () => {
  // v2 rolled out and completed long ago; a commit moved h3 (new ip), which changes only h3's instance spec.
  const moved = host('h3', { ip: '10.0.0.99', labels: { idc: 'lg' } });
  const desired = new Map([...desiredOf(V2, ['h1', 'h2']), ['h3', hashInstanceSpec(V2, moved)] as const]);
  const onV2 = THREE.map((name) => updatedRecord(V2, name, 'c2', T0 - HOUR_MS));
  const started = rollJob(
    input({ policy: ONE_AT_A_TIME, desired, current: currentAssignments(onV2), statuses: statuses({}), commit: 'c3', nowMs: T0 }),
  );
  const rollout = inProgress(V2, 'c3', T0);
  assert.deepEqual(summary(started), ['update h3']);
  assert.deepEqual(started.rollout, batchOf(rollout, 1, 1, 1, T0));
  const h3Moved = assignmentRecord(V2, moved, { commit: 'c3', assignedAtMs: T0, previous: onV2[2] });
  // h1 crash-loops on v2 (since the last rollout) and h3 never gets healthy: only h3 fails the rollout, and only it goes back.
  const nowMs = T0 + DEADLINE_MS + 1;
  const step = rollJob(
    input({
      policy: ONE_AT_A_TIME,
      desired,
      current: currentAssignments([onV2[0]!, onV2[1]!, h3Moved]),
      statuses: statuses({ h1: statusRecord(hashOf(V2, 'h1'), 'CrashLoop', T0 - 1_000), h2: statusRecord(hashOf(V2, 'h2'), 'Healthy', T0 - HOUR_MS) }),
      rollout,
      commit: 'c3',
      nowMs,
    }),
  );
  const { previous: _previous, ...h3Before } = onV2[2]!;
  assert.deepEqual(step.changes, [{ kind: 'revert', host: 'h3', record: { ...h3Before, assignedAt: iso(nowMs) } }]);
  assert.equal(step.rollout?.reason, 'h3 not healthy within 60s (no status reported)');
  assert.deepEqual([step.rollout?.done, step.rollout?.revertedHosts], [0, ['h3']], 'h1 and h2 were not rolled by this rollout');
  // h1 crash-looping neither fails the rollout of h3 nor holds it: once h3 settled, it completes.
  const h3Up = (nowMs: number) =>
    rollJob(
      input({
        policy: ONE_AT_A_TIME,
        desired,
        current: currentAssignments([onV2[0]!, onV2[1]!, h3Moved]),
        statuses: statuses({ h1: statusRecord(hashOf(V2, 'h1'), 'CrashLoop', T0 - 1_000), h3: statusRecord(h3Moved.specHash, 'Healthy', T0 + 1_000) }),
        rollout,
        commit: 'c3',
        nowMs,
      }),
    );
  assert.deepEqual(h3Up(T0 + 5_000), { changes: [], health: 'Progressing', rolling: true, wakeAtMs: T0 + 11_000, desired: 3, healthy: 1 } satisfies JobStep);
  assert.deepEqual(h3Up(T0 + 11_000), { changes: [], rollout: null, health: 'Degraded', rolling: false, desired: 3, healthy: 1 } satisfies JobStep);
});

test('a revert after a commit that changed the job’s tag and a host’s ip puts back an intact record', () => {
  const retagged = job('web', { tag: `${V1.tag}-moved`, version: '2.0.0', ports: { http: 8080 }, health: HEALTH, rollout: POLICY });
  const moved = host('h1', { ip: '10.0.0.99', labels: { idc: 'lg', rack: 'r7' } });
  const onNew = assignmentRecord(retagged, moved, { commit: 'c2', assignedAtMs: T0, previous: v1Record('h1') });
  assert.ok(intact(onNew));
  const nowMs = T0 + DEADLINE_MS + 1;
  const step = rollJob(
    input({
      tag: retagged.tag,
      desired: new Map([['h1', hashInstanceSpec(retagged, moved)]]),
      current: currentAssignments([onNew]),
      statuses: statuses({ h1: statusRecord(onNew.specHash, 'CrashLoop', T0 + 2_000) }),
      rollout: inProgress(retagged, 'c2', T0),
      jobSpecHash: hashJobSpec(retagged),
      nowMs,
    }),
  );
  assert.equal(step.rollout?.state, 'Failed');
  assert.deepEqual(step.changes, [{ kind: 'revert', host: 'h1', record: revertedTo('h1', nowMs) }]);
  const change = step.changes[0]!;
  assert.ok(change.kind === 'revert');
  assert.equal(change.record.tag, V1.tag);
  assert.equal(change.record.host.ip, '10.0.0.11');
  assert.ok(intact(change.record), 'the reverted record hashes to its own specHash');
  // What a revert of the spec alone would have written: the informer would see it as edited by hand.
  assert.equal(intact({ ...change.record, tag: retagged.tag, host: onNew.host }), false);
});

test('a Failed record of the desired spec is kept, and holds the job even when every host runs that spec', () => {
  const nowMs = T0 + 2 * HOUR_MS;
  const failed = failedV2(T0 + DEADLINE_MS + 1, { reason: 'h1 not healthy within 60s (CrashLoop)', failedHosts: ['h1'], done: 0 });
  const step = rollJob(
    input({
      policy: { ...POLICY, autoRevert: false },
      desired: desiredOf(V2, ['h1']),
      current: currentAssignments([updatedRecord(V2, 'h1', 'c2', T0)]),
      statuses: statuses({ h1: statusRecord(hashOf(V2, 'h1'), 'CrashLoop', T0 + 2_000) }),
      rollout: failed,
      nowMs,
    }),
  );
  assert.deepEqual(step, { changes: [], health: 'Degraded', rolling: false, desired: 1, healthy: 0 } satisfies JobStep);
  assert.ok(!('rollout' in step), 'the record is left as it is');
});

test('a stale Failed record of another spec is deleted when nothing else is to be done', () => {
  const step = rollJob(
    input({
      desired: desiredOf(V1, ALL),
      current: currentAssignments(V1_RECORDS),
      statuses: statuses(V1_HEALTHY),
      rollout: FAILED_V2,
      jobSpecHash: hashJobSpec(V1),
      commit: 'c4',
      nowMs: T0 + 2 * HOUR_MS,
    }),
  );
  assert.deepEqual(step, { changes: [], rollout: null, health: 'Healthy', rolling: false, desired: 5, healthy: 5 } satisfies JobStep);
});

test('a stale InProgress record of another spec is replaced by the new rollout’s own, from its first batch', () => {
  // v2 was half rolled out when a commit went back to v1: the hosts on v2 roll back as a new rollout.
  const nowMs = T0 + 20_000;
  const records = [updatedRecord(V2, 'h1', 'c2', T0), updatedRecord(V2, 'h2', 'c2', T0), ...V1_RECORDS.slice(2)];
  const step = rollJob(
    input({
      desired: desiredOf(V1, ALL),
      current: currentAssignments(records),
      statuses: statuses({
        ...V1_HEALTHY,
        h1: statusRecord(hashOf(V2, 'h1'), 'Starting', T0 + 2_000),
        h2: statusRecord(hashOf(V2, 'h2'), 'Starting', T0 + 2_000),
      }),
      rollout: ROLLING_V2,
      jobSpecHash: hashJobSpec(V1),
      commit: 'c3',
      nowMs,
    }),
  );
  assert.deepEqual(step, {
    changes: [
      { kind: 'update', host: 'h1', record: recordOf(V1, 'h1', 'c3', nowMs, records[0]) },
      { kind: 'update', host: 'h2', record: recordOf(V1, 'h2', 'c3', nowMs, records[1]) },
    ],
    rollout: batchOf(inProgress(V1, 'c3', nowMs), 1, 1, 2, nowMs),
    health: 'Progressing',
    rolling: true,
    wakeAtMs: nowMs + DEADLINE_MS + 1,
    desired: 5,
    healthy: 3,
  } satisfies JobStep);
});

test('a host assigned in the step that completes a rollout leaves the job Progressing, not Healthy', () => {
  const completed = lastBatch(statusRecord(hashOf(V2, 'h3'), 'Healthy', T0 + 32_000), T0 + 50_000);
  const step = rollJob({ ...completed, desired: desiredOf(V2, [...THREE, 'h4']) });
  assert.deepEqual(step, {
    changes: [{ kind: 'assign', host: 'h4', record: recordOf(V2, 'h4', 'c2', T0 + 50_000) }],
    rollout: null,
    health: 'Progressing',
    rolling: false,
    desired: 4,
    healthy: 3,
  } satisfies JobStep);
});

test('a rolled host whose agent is gone for a moment neither unsettles its batch nor fails the rollout: it holds it', () => {
  const settled = statuses({ ...V1_HEALTHY, h1: statusRecord(hashOf(V2, 'h1'), 'Healthy', T0 + 5_000), h2: statusRecord(hashOf(V2, 'h2'), 'Healthy', T0 + 5_000) });
  // The first batch settled long ago; h1's agent restarts: the next batch goes on as before.
  const onward = rollJob(midRollout({ h1: T0, h2: T0 }, { statuses: settled, lost: new Set(['h1']), nowMs: T0 + DEADLINE_MS * 3 }));
  assert.deepEqual(onward.rollout, batchOf(ROLLING_V2, 2, 3, 5, T0 + DEADLINE_MS * 3));
  assert.deepEqual(summary(onward), ['update h3', 'update h4']);
  // A batch that never got healthy on a host whose agent is gone, long past its deadline: held, nothing reverted.
  const starting = statuses({ ...V1_HEALTHY, h1: statusRecord(hashOf(V2, 'h1'), 'Starting', T0 + 1_000), h2: statusRecord(hashOf(V2, 'h2'), 'Healthy', T0 + 5_000) });
  const held = rollJob(midRollout({ h1: T0, h2: T0 }, { statuses: starting, lost: new Set(['h1']), nowMs: T0 + DEADLINE_MS * 3 }));
  assert.equal(held.rollout, undefined, 'not Failed');
  assert.deepEqual(held.changes, []);
  assert.equal(held.rolling, true);
});

test('rollouts/<job> names each batch as it starts (out of how many, of how many instances, until when) and keeps it when the batch fails', () => {
  const policy = { ...POLICY, maxParallel: 2 };
  // Batch 1 of 3 (h1, h2) started at T0 and settled; h5 joined fresh meanwhile and is no batch of it.
  const records = [updatedRecord(V2, 'h1', 'c2', T0), updatedRecord(V2, 'h2', 'c2', T0), v1Record('h3'), v1Record('h4'), recordOf(V2, 'h5', 'c2', T0 + 5_000)];
  const upSince = (name: string, atMs: number) => statusRecord(hashOf(V2, name), 'Healthy', atMs);
  const batch1 = batchOf(ROLLING_V2, 1, 3, 4, T0);
  const second = rollJob(
    input({ policy, desired: desiredOf(V2, ALL), current: currentAssignments(records), statuses: statuses({ h1: upSince('h1', T0 + 2_000), h2: upSince('h2', T0 + 2_000), h5: upSince('h5', T0 + 6_000) }), rollout: batch1, nowMs: T0 + 20_000 }),
  );
  assert.deepEqual(summary(second), ['update h3', 'update h4']);
  const batch2 = batchOf(ROLLING_V2, 2, 2, 4, T0 + 20_000);
  assert.deepEqual(second.rollout, batch2, 'h5 counts in no batch: 2 of 2, 4 instances');
  // Waiting for batch 2 writes nothing, however often it runs.
  const rolled = [...records.slice(0, 2), updatedRecord(V2, 'h3', 'c2', T0 + 20_000), updatedRecord(V2, 'h4', 'c2', T0 + 20_000), records[4]!];
  const exited = { ...statusRecord(hashOf(V2, 'h3'), 'CrashLoop', T0 + 25_000), lastExit: { code: 1, signal: null, at: iso(T0 + 25_000) } };
  const killed = { ...statusRecord(hashOf(V2, 'h4'), 'CrashLoop', T0 + 25_000), lastExit: { code: null, signal: 'SIGKILL', at: iso(T0 + 25_000) } };
  const batch2Statuses = statuses({ h1: upSince('h1', T0 + 2_000), h2: upSince('h2', T0 + 2_000), h3: exited, h4: killed, h5: upSince('h5', T0 + 6_000) });
  const waiting = rollJob(input({ policy, desired: desiredOf(V2, ALL), current: currentAssignments(rolled), statuses: batch2Statuses, rollout: batch2, nowMs: T0 + 30_000 }));
  assert.equal(waiting.rollout, undefined);
  const nowMs = T0 + 20_000 + DEADLINE_MS + 1;
  const failed = rollJob(input({ policy, desired: desiredOf(V2, ALL), current: currentAssignments(rolled), statuses: batch2Statuses, rollout: batch2, nowMs }));
  assert.deepEqual(failed.rollout, {
    ...batch2,
    state: 'Failed',
    reason: 'h3, h4 not healthy within 60s (h3 CrashLoop: exit 1; h4 CrashLoop: killed by SIGKILL)',
    failedAt: iso(nowMs),
    failedHosts: ['h3', 'h4'],
    done: 2,
    revertedHosts: ['h1', 'h2', 'h3', 'h4'],
    revertedTo: 'c1',
  } satisfies RolloutRecord);
});

test('a failure reason says what a late instance was doing: its last error, or up but not yet for minHealthySeconds; many hosts are cut short', () => {
  const nowMs = T0 + DEADLINE_MS + 1;
  const withError = { ...statusRecord(hashOf(V2, 'h1'), 'Unhealthy', T0 + 2_000), lastError: `health check: ${'x'.repeat(300)}` };
  const step = rollJob(midRollout({ h1: T0 }, { statuses: statuses({ ...V1_HEALTHY, h1: withError }), nowMs }));
  assert.equal(step.rollout?.reason, `h1 not healthy within 60s (Unhealthy: health check: ${'x'.repeat(120 - 'health check: '.length - 3)}...)`);
  const justUp = rollJob(midRollout({ h1: T0 }, { statuses: statuses({ ...V1_HEALTHY, h1: statusRecord(hashOf(V2, 'h1'), 'Healthy', T0 + 57_000) }), nowMs }));
  assert.equal(justUp.rollout?.reason, 'h1 not healthy within 60s (Healthy for 3s of 10s)');
  const wide = { ...POLICY, maxParallel: 5 };
  const all = rollJob(midRollout(Object.fromEntries(ALL.map((name) => [name, T0])), { policy: wide, statuses: statuses({}), nowMs }));
  assert.match(all.rollout?.reason ?? '', /^h1, h2, h3, h4, h5 not healthy within 60s \(h1 no status reported; /);
  const six = ['h1', 'h2', 'h3', 'h4', 'h5', 'h6'];
  const sixHosts = [...HOSTS, host('h6', { ip: '10.0.0.16', labels: { idc: 'zw' } })];
  const sixInput = input({
    policy: { ...POLICY, maxParallel: 6 },
    desired: new Map(sixHosts.map((item) => [item.name, hashInstanceSpec(V2, item)])),
    current: currentAssignments(sixHosts.map((item) => assignmentRecord(V2, item, { commit: 'c2', assignedAtMs: T0, previous: assignmentRecord(V1, item, { commit: 'c1', assignedAtMs: T0 - HOUR_MS }) }))),
    statuses: statuses({}),
    rollout: ROLLING_V2,
    nowMs,
  });
  const cut = rollJob(sixInput).rollout;
  assert.match(cut?.reason ?? '', /^h1, h2, h3, h4, h5 and 1 more not healthy within 60s /);
  assert.deepEqual(cut?.failedHosts, six, 'the record names them all');
});
