import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeFailure, describeRollout } from '../../src/controller/rollout-text.js';
import type { JobHealth, RolloutView } from '../../src/server/controller-status.js';
import { iso, T0 } from '../fixtures/observed-builder.js';

const rolling: RolloutView = { commit: 'c2', state: 'InProgress', startedAt: iso(T0), batch: 2, batches: 4, done: 3, total: 8, deadline: iso(T0 + 252_000) };
const jobWith = (rollout?: RolloutView): JobHealth => ({ name: 'im-presence', ...(rollout ? { rollout } : {}), desired: 8, healthy: 5, progressing: 3, state: 'Progressing', version: '2.0.0' });

test('a rolling job: batch of batches, instances updated and healthy, time to the deadline', () => {
  assert.equal(describeRollout(jobWith(rolling), T0), 'rolling 2/4 batches, 3/8 updated, 5/8 healthy, deadline in 4m12s');
  assert.equal(describeRollout(jobWith(rolling), T0 + 250_500), 'rolling 2/4 batches, 3/8 updated, 5/8 healthy, deadline in 2s');
  assert.equal(describeRollout(jobWith({ ...rolling, deadline: iso(T0 + 2 * 3_600_000 + 60_000) }), T0), 'rolling 2/4 batches, 3/8 updated, 5/8 healthy, deadline in 2h01m');
  // Held past its deadline by a host whose agent is gone: said so, not a negative time.
  assert.equal(describeRollout(jobWith(rolling), T0 + 300_000), 'rolling 2/4 batches, 3/8 updated, 5/8 healthy, deadline passed');
  assert.equal(describeRollout(jobWith(), T0), undefined);
});

test('a failed rollout: the batch, the reason, and how many hosts went back to which commit', () => {
  const failure = { reason: 'lg-im-02 not healthy within 300s (CrashLoop: exit 1)', failedAt: iso(T0), hosts: ['lg-im-02'], revertedTo: 'a1b2c3d4e5f6', revertedHosts: ['lg-im-02'] };
  assert.equal(
    describeRollout(jobWith({ ...rolling, batch: 1, state: 'Failed', failure }), T0),
    'failed at batch 1: lg-im-02 not healthy within 300s (CrashLoop: exit 1); reverted 1 host to a1b2c3d',
  );
  assert.equal(describeFailure({ batch: 3, reason: 'r', revertedHosts: ['a', 'b'], revertedTo: 'c1' }), 'failed at batch 3: r; reverted 2 hosts to c1');
  assert.equal(describeFailure({ reason: 'r' }), 'failed: r; nothing reverted');
});
