import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  isAgentRecord,
  isAssignmentRecord,
  isNamingRecord,
  isRolloutRecord,
  isStatusRecord,
  isSyncCurrentRecord,
  isSyncHistoryRecord,
  isVipRecord,
} from '../../src/store/record-checks.js';
import type { AgentRecord, NamingRecord, RolloutRecord, StatusRecord, SyncCurrentRecord, VipRecord } from '../../src/store/records.js';
import { DEFAULT_VIP, job } from '../fixtures/model-builder.js';

const commit = { sha: 'abc', author: 'Alice', email: 'alice@example.com', message: 'm', timestamp: 1 };

const valid = {
  assignment: { job: 'web', tag: 't', host: { name: 'h1', ip: '10.0.0.1', labels: {} }, spec: job('web').spec, specHash: 's', commit: 'c', assignedAt: 'now' },
  status: { specHash: 's', state: 'CrashLoop', restarts: 3, lastExit: { code: null, signal: 'SIGKILL', at: 'now' }, since: 'now', updatedAt: 'now' } satisfies StatusRecord,
  agent: { host: 'h1', hostname: 'h1', ips: ['10.0.0.1'], cpus: 2, memoryBytes: 1, diskFreeBytes: 1, os: 'linux', agentVersion: '1', startedAt: 'now', updatedAt: 'now' } satisfies AgentRecord,
  naming: { ip: '10.0.0.1', port: 8080, weight: 1, host: 'h1', job: 'web', specHash: 's' } satisfies NamingRecord,
  vip: { service: 'svc', job: 'web', port: 'http', vip: DEFAULT_VIP, directors: ['lvs-1'], commit: 'c' } satisfies VipRecord,
  sync: { commit, result: 'Rejected', time: 'now', rejected: { commit, errors: ['a.yaml:1:1: bad'] } } satisfies SyncCurrentRecord,
  rollout: { job: 'web', jobSpecHash: 'x', state: 'InProgress', commit: 'c', startedAt: 'now' } satisfies RolloutRecord,
  failedRollout: { job: 'web', jobSpecHash: 'x', state: 'Failed', commit: 'c', startedAt: 'now', reason: 'unhealthy', failedAt: 'later' } satisfies RolloutRecord,
};

describe('record checks', () => {
  test('accept well-formed records', () => {
    assert.ok(isAssignmentRecord(valid.assignment));
    assert.ok(isStatusRecord(valid.status));
    assert.ok(isAgentRecord(valid.agent));
    assert.ok(isNamingRecord(valid.naming));
    assert.ok(isVipRecord(valid.vip));
    assert.ok(isSyncCurrentRecord(valid.sync));
    assert.ok(isRolloutRecord(valid.rollout));
    assert.ok(isRolloutRecord(valid.failedRollout));
  });

  test('rollouts/<job> may name its batch, deadline, failed hosts and revert; records written before them still pass', () => {
    const batch = { batch: 2, batches: 3, total: 6, deadline: 'soon' };
    assert.ok(isRolloutRecord({ ...valid.rollout, ...batch }));
    const failure = { failedHosts: ['h1'], done: 2, revertedHosts: ['h1', 'h2'], revertedTo: 'c0' };
    assert.ok(isRolloutRecord({ ...valid.failedRollout, ...batch, ...failure }));
    assert.deepEqual(isRolloutRecord.problems({ ...valid.failedRollout, batch: '2', failedHosts: 'h1' }), [
      'batch: expected a number, got "2"',
      'failedHosts: expected an array, got "h1"',
    ]);
  });

  test('an audit record may say a rollout failed', () => {
    const audit = { commit, time: 'now', trigger: 'timer', actions: [], outcome: 'RolloutFailed', note: 'web: failed at batch 1: ...' };
    assert.ok(isSyncHistoryRecord(audit));
    assert.equal(isSyncHistoryRecord({ ...audit, outcome: 'Exploded' }), false);
  });

  test('an assignment may carry the record it replaced, with its tag and host facts', () => {
    const { job: _job, assignedAt: _assignedAt, ...previous } = valid.assignment;
    assert.ok(isAssignmentRecord({ ...valid.assignment, previous }));
    // The old shape (spec, specHash and commit only) cannot be put back intact: it is rejected.
    assert.deepEqual(isAssignmentRecord.problems({ ...valid.assignment, previous: { spec: previous.spec, specHash: 's0', commit: 'c0' } }), [
      'previous.tag: missing',
      'previous.host: missing',
    ]);
    assert.deepEqual(isAssignmentRecord.problems({ ...valid.assignment, previous: { ...previous, host: { ...previous.host, ip: 7 } } }), [
      'previous.host.ip: expected a string, got number 7',
    ]);
  });

  test('reject malformed ones, listing every problem with its path', () => {
    assert.equal(isStatusRecord({ ...valid.status, state: 'Sleeping', restarts: '3' }), false);
    assert.deepEqual(isStatusRecord.problems({ ...valid.status, state: 'Sleeping', restarts: '3' }), [
      'state: expected one of Starting, Running, Healthy, Unhealthy, CrashLoop, Stopped, Failed, got "Sleeping"',
      'restarts: expected a number, got "3"',
    ]);
    assert.deepEqual(isNamingRecord.problems({ ...valid.naming, port: undefined }), ['port: missing']);
    assert.deepEqual(isAgentRecord.problems({ ...valid.agent, ips: ['10.0.0.1', 7] }), ['ips[1]: expected a string, got number 7']);
    assert.deepEqual(isVipRecord.problems({ ...valid.vip, vip: { ...DEFAULT_VIP, lbKind: 'XX' } }), ['vip.lbKind: expected one of DR, NAT, TUN, got "XX"']);
    assert.deepEqual(isAssignmentRecord.problems({ ...valid.assignment, spec: { ...valid.assignment.spec, env: { A: 1 } } }), ['spec.env.A: expected a string, got number 1']);
    // the agent connects to a health check's host: anything but a string is not an address
    const health = { http: { port: 'http', path: '/health', host: 7 }, intervalSeconds: 1, timeoutSeconds: 1 };
    assert.deepEqual(isAssignmentRecord.problems({ ...valid.assignment, spec: { ...valid.assignment.spec, health } }), ['spec.health.http.host: expected a string, got number 7']);
    assert.deepEqual(isSyncCurrentRecord.problems(null), ['value: expected an object, got null']);
    assert.deepEqual(isRolloutRecord.problems([]), ['value: expected an object, got an array']);
    assert.deepEqual(isRolloutRecord.problems({ ...valid.rollout, state: 'Done', startedAt: undefined }), [
      'state: expected one of InProgress, Failed, got "Done"',
      'startedAt: missing',
    ]);
    // The old shape of rollouts/<job> (failedSpecHash, revertedTo, time) is not a RolloutRecord.
    assert.equal(isRolloutRecord({ job: 'web', failedSpecHash: 'x', revertedTo: 'y', commit: 'c', reason: 'unhealthy', time: 'now' }), false);
  });
});
