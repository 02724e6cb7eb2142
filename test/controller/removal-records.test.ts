import { test } from 'node:test';
import assert from 'node:assert/strict';
import { removalRecord, settleRemovals } from '../../src/controller/removal-records.js';
import { keyLayout } from '../../src/store/keys.js';
import { statusRecord, T0 } from '../fixtures/observed-builder.js';

const layout = keyLayout();
const running = statusRecord('a'.repeat(64), 'Healthy', T0);
const base = { job: 'web', current: new Map(), commit: 'c9', nowMs: T0, layout };

test('an instance an agent reports with nothing assigning it there, and not wanted there, gets a removal record', () => {
  const writes = settleRemovals({ ...base, desiredHosts: new Set(['h2']), statuses: new Map([['h1', running], ['h2', running]]), removals: undefined });
  assert.deepEqual(writes, [{ op: { put: layout.assignment('h1', 'web'), value: removalRecord('web', 'c9', T0) }, host: 'h1', specHash: running.specHash }]);
});

test('a removal record stays while the agent still reports the instance, and is deleted once it stopped reporting it', () => {
  const removals = new Map([['h1', removalRecord('web', 'c8', T0 - 1000)]]);
  assert.deepEqual(settleRemovals({ ...base, desiredHosts: new Set(), statuses: new Map([['h1', running]]), removals }), []);
  assert.deepEqual(settleRemovals({ ...base, desiredHosts: new Set(), statuses: undefined, removals }), [{ op: { delete: layout.assignment('h1', 'web') }, host: 'h1' }]);
});

test('a removal record on a host the job is placed on again is left for the new assignment to overwrite', () => {
  const removals = new Map([['h1', removalRecord('web', 'c8', T0 - 1000)]]);
  assert.deepEqual(settleRemovals({ ...base, desiredHosts: new Set(['h1']), statuses: undefined, removals }), []);
});
