import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ReconcileLoop } from '../../src/controller/reconcile-loop.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A loop whose runs are recorded with the time they started, relative to `t0`. */
function recordingLoop(options: { settleQuietMs: number; settleMaxMs: number }) {
  const runs: { atMs: number; reasons: readonly string[] }[] = [];
  const t0 = Date.now();
  const loop = new ReconcileLoop({
    ...options,
    run: async (reasons) => {
      runs.push({ atMs: Date.now() - t0, reasons });
      return {};
    },
    onError: (error) => assert.fail(String(error)),
  });
  return { loop, runs, elapsed: () => Date.now() - t0 };
}

test('a burst of observed changes is one reconcile, soon after its last change', async () => {
  const { loop, runs, elapsed } = recordingLoop({ settleQuietMs: 60, settleMaxMs: 1000 });
  try {
    for (let change = 0; change < 10; change++) {
      loop.observe('observed');
      await sleep(10);
    }
    const lastChangeAt = elapsed();
    await sleep(300);
    assert.equal(runs.length, 1, JSON.stringify(runs));
    assert.deepEqual(runs[0]!.reasons, ['observed']);
    // the quiet edge, not the 1 s cap: this is what hands a rollout batch on after its last Healthy
    assert.ok(runs[0]!.atMs >= lastChangeAt + 40 && runs[0]!.atMs < lastChangeAt + 250, `ran at ${runs[0]!.atMs} ms, last change at ${lastChangeAt} ms`);
  } finally {
    await loop.stop();
  }
});

test('a steady trickle of changes cannot hold a reconcile back past settleMaxMs from its first change', async () => {
  const { loop, runs } = recordingLoop({ settleQuietMs: 100, settleMaxMs: 300 });
  try {
    for (let change = 0; change < 40; change++) {
      loop.observe('observed');
      await sleep(20);
    }
    // 40 changes 20 ms apart (~800+ ms): never quiet for 100 ms, so the cap decides: a run about every 300 ms
    assert.ok(runs.length >= 2 && runs.length <= 4, JSON.stringify(runs));
    assert.ok(runs[0]!.atMs >= 250 && runs[0]!.atMs < 550, `first run at ${runs[0]!.atMs} ms`);
  } finally {
    await loop.stop();
  }
});

test('stop cancels a burst being settled', async () => {
  const { loop, runs } = recordingLoop({ settleQuietMs: 50, settleMaxMs: 100 });
  loop.observe('observed');
  await loop.stop();
  await sleep(150);
  assert.equal(runs.length, 0);
  loop.observe('observed');
  await sleep(150);
  assert.equal(runs.length, 0);
});
