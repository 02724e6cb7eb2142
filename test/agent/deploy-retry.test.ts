import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEPLOY_RETRY, deployRetryDelayMs } from '../../src/agent/deploy-retry.js';

test('a failed deploy is retried after 0.5–1 s, then twice as long each time, up to 30 s', () => {
  const low = (failures: number) => deployRetryDelayMs(failures, () => 0);
  const high = (failures: number) => deployRetryDelayMs(failures, () => 1);
  assert.deepEqual([1, 2, 3, 4, 5, 6, 7, 20].map(high), [1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000]);
  assert.deepEqual([1, 2, 6].map(low), [500, 1_000, 15_000]);
  assert.equal(high(1), DEPLOY_RETRY.initialMs);
});

test('agents failing together retry spread out, not in step', () => {
  const delays = Array.from({ length: 200 }, () => deployRetryDelayMs(3));
  assert.ok(delays.every((delay) => delay >= 2_000 && delay <= 4_000), 'within the upper half of 4 s');
  assert.ok(new Set(delays).size > 100, `${new Set(delays).size} distinct delays of 200`);
});
