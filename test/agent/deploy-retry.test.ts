import assert from 'node:assert/strict';
import { mock, test } from 'node:test';
import { DEPLOY_RETRY, DeployRetries, deployRetryDelayMs } from '../../src/agent/deploy-retry.js';

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

test('the backoff is per spec: a new assignment is tried again soon, a removed job leaves nothing behind', (t) => {
  mock.timers.enable({ apis: ['setTimeout'] });
  t.after(() => mock.timers.reset());
  const retries = new DeployRetries();
  let attempts = 0;
  const retry = () => attempts++;
  const within = (delay: number | undefined, low: number, high: number) => assert.ok(delay !== undefined && delay >= low && delay <= high, `${delay} in ${low}–${high}`);

  within(retries.failed('api', 'spec-1', true, retry), 500, 1_000);
  within(retries.failed('api', 'spec-1', true, retry), 1_000, 2_000);
  within(retries.failed('api', 'spec-1', true, retry), 2_000, 4_000);
  // only the last timer is armed: one retry, not three
  mock.timers.tick(4_000);
  assert.equal(attempts, 1);

  within(retries.failed('api', 'spec-2', true, retry), 500, 1_000);
  retries.forget('api');
  mock.timers.tick(30_000);
  assert.equal(attempts, 1, 'a forgotten job is not retried');
  within(retries.failed('api', 'spec-2', true, retry), 500, 1_000);

  assert.equal(retries.failed('web', 'spec-1', false, retry), undefined, 'not retryable: no timer');
  retries.close();
  mock.timers.tick(30_000);
  assert.equal(attempts, 1, 'close() stops every pending retry');
});
