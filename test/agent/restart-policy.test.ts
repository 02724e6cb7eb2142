import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_RESTART_POLICY, RestartBackoff } from '../../src/agent/restart-policy.js';

test('delays double from 1 s and stop at the 60 s cap', () => {
  const backoff = new RestartBackoff();
  const delays = Array.from({ length: 9 }, (_, index) => backoff.recordExit(index * 100_000).delayMs);
  assert.deepEqual(delays, [1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000, 60_000]);
});

test('more than crashLoopExits exits within the window is a crash loop; it persists until reset', () => {
  const backoff = new RestartBackoff({ ...DEFAULT_RESTART_POLICY, crashLoopExits: 5, crashLoopWindowMs: 60_000 });
  const loops = [0, 1_000, 3_000, 7_000, 15_000, 31_000].map((at) => backoff.recordExit(at).crashLoop);
  assert.deepEqual(loops, [false, false, false, false, false, true]);
  // Still labelled a crash loop when later exits are spread out: only a stable run clears it.
  assert.equal(backoff.recordExit(200_000).crashLoop, true);
  backoff.reset();
  assert.equal(backoff.crashLooping, false);
  assert.deepEqual(backoff.recordExit(300_000), { delayMs: 1_000, crashLoop: false });
});

test('exits spread wider than the window never make a crash loop', () => {
  const backoff = new RestartBackoff({ ...DEFAULT_RESTART_POLICY, crashLoopExits: 2, crashLoopWindowMs: 1_000 });
  for (let index = 0; index < 10; index += 1) assert.equal(backoff.recordExit(index * 600).crashLoop, false);
});

test('reset() starts the backoff over at initialBackoffMs', () => {
  const backoff = new RestartBackoff({ ...DEFAULT_RESTART_POLICY, initialBackoffMs: 50, maxBackoffMs: 1_000 });
  assert.deepEqual([0, 1, 2].map((at) => backoff.recordExit(at).delayMs), [50, 100, 200]);
  backoff.reset();
  assert.equal(backoff.recordExit(3).delayMs, 50);
});
