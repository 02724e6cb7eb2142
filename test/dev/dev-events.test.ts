import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fleetEvents, isSettled, type FleetReading } from '../../src/dev/dev-events.js';
import type { ControllerStatus, JobHealth } from '../../src/server/controller-status.js';

const job = (name: string, healthy: number, desired: number, state: JobHealth['state']): JobHealth => ({ name, healthy, desired, progressing: desired - healthy, state, version: '1.0.0' });

function reading(jobs: JobHealth[], extra: Partial<ControllerStatus> = {}, rollouts: FleetReading['rollouts'] = new Map()): FleetReading {
  const status: ControllerStatus = {
    commit: { sha: 'a'.repeat(40), author: 'Ada', message: 'Import the fleet', time: '2026-01-01T00:00:00.000Z' },
    result: 'Synced',
    jobs,
    lostHosts: [],
    history: [],
    ...extra,
  };
  return { status, rollouts };
}

describe('fleetEvents', () => {
  it('reports every job and the commit in force on the first reading', () => {
    const events = fleetEvents(undefined, reading([job('web', 0, 2, 'Progressing')]));
    assert.deepEqual(events, [
      { event: 'job', progress: { job: 'web', state: 'Progressing', healthy: 0, desired: 2, version: '1.0.0' } },
      { event: 'commit_applied', sha: 'a'.repeat(40), message: 'Import the fleet' },
    ]);
  });

  it('reports only the jobs whose progress changed, and a rollout with its commit', () => {
    const first = reading([job('web', 1, 2, 'Progressing'), job('db', 1, 1, 'Healthy')]);
    const rollouts = new Map([['web', { job: 'web', jobSpecHash: 'h', state: 'InProgress' as const, commit: 'b'.repeat(40), startedAt: 'now' }]]);
    const events = fleetEvents(first, reading([job('web', 1, 2, 'Degraded'), job('db', 1, 1, 'Healthy')], {}, rollouts));
    assert.deepEqual(events, [{ event: 'job', progress: { job: 'web', state: 'Degraded', healthy: 1, desired: 2, version: '1.0.0', rollout: { state: 'InProgress', commit: 'b'.repeat(40) } } }]);
  });

  it('reports a new rejection once, with its errors', () => {
    const rejected = { sha: 'c'.repeat(40), errors: ['jobs/web.yaml:2:7: bad', 'jobs/web.yaml:3:1: worse'] };
    const before = reading([job('web', 2, 2, 'Healthy')]);
    const after = reading([job('web', 2, 2, 'Healthy')], { result: 'Rejected', rejected });
    assert.deepEqual(fleetEvents(before, after), [{ event: 'commit_rejected', sha: 'c'.repeat(40), errors: rejected.errors }]);
    assert.deepEqual(fleetEvents(after, after), []);
  });
});

describe('isSettled', () => {
  it('needs a synced commit and every job healthy', () => {
    assert.equal(isSettled(reading([job('web', 2, 2, 'Healthy')]).status), true);
    assert.equal(isSettled(reading([job('web', 1, 2, 'Progressing')]).status), false);
    assert.equal(isSettled(reading([job('web', 2, 2, 'Healthy')], { result: 'Progressing' }).status), false);
    assert.equal(isSettled(reading([]).status), false);
  });
});

describe('jobProgress', () => {
  it('takes batches and progress from the rollout the status carries, its failure reason included', () => {
    const view = { commit: 'b'.repeat(40), state: 'Failed' as const, startedAt: 't', batch: 1, batches: 2, done: 0, total: 2, failure: { reason: 'not healthy in time', failedAt: 't', hosts: ['h1'] } };
    const events = fleetEvents(undefined, reading([{ ...job('web', 1, 2, 'Degraded'), rollout: view }]));
    assert.deepEqual(events[0], { event: 'job', progress: { job: 'web', state: 'Degraded', healthy: 1, desired: 2, version: '1.0.0', rollout: { state: 'Failed', commit: 'b'.repeat(40), reason: 'not healthy in time', batch: 1, batches: 2, done: 0, total: 2 } } });
  });
});
