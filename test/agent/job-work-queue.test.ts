import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { JobWorkQueue } from '../../src/agent/job-work-queue.js';

/** A reconcile that records when each run of a job starts and ends, and takes `runMs`. */
function recorder(runMs: number) {
  const log: string[] = [];
  const running = new Set<string>();
  let overlapped = false;
  const reconcile = async (job: string) => {
    if (running.has(job)) overlapped = true;
    running.add(job);
    log.push(`start ${job}`);
    await sleep(runMs);
    log.push(`end ${job}`);
    running.delete(job);
  };
  return { log, reconcile, overlapped: () => overlapped };
}

test('one run at a time per job, jobs in parallel', async () => {
  const { log, reconcile, overlapped } = recorder(30);
  const queue = new JobWorkQueue(reconcile, () => assert.fail('no error expected'));
  queue.schedule('a');
  queue.schedule('b');
  queue.schedule('a');
  await queue.onIdle();
  assert.equal(overlapped(), false, 'two runs of one job never overlap');
  assert.deepEqual(log.slice(0, 2), ['start a', 'start b'], 'b does not wait for a');
  assert.deepEqual(log.filter((line) => line.endsWith(' a')), ['start a', 'end a', 'start a', 'end a'], 'a runs again after its first run');
});

test('requests made while a run waits to start are folded into it: the run in flight plus one', async () => {
  const { log, reconcile } = recorder(30);
  const queue = new JobWorkQueue(reconcile, () => assert.fail('no error expected'));
  for (let i = 0; i < 10; i++) queue.schedule('a');
  await queue.onIdle();
  assert.deepEqual(log, ['start a', 'end a', 'start a', 'end a']);
  queue.schedule('a');
  await queue.onIdle();
  assert.equal(log.length, 6, 'a request after the job went idle runs again');
});

test('a failed run is reported with its job and the next request runs', async () => {
  const errors: string[] = [];
  let calls = 0;
  const queue = new JobWorkQueue(
    async (job) => {
      calls++;
      if (calls === 1) throw new Error(`${job} broke`);
    },
    (job, error) => errors.push(`${job}: ${(error as Error).message}`),
  );
  queue.schedule('a');
  await queue.onIdle();
  queue.schedule('a');
  await queue.onIdle();
  assert.deepEqual(errors, ['a: a broke']);
  assert.equal(calls, 2);
});

test('onIdle waits for work scheduled by a run itself', async () => {
  const log: string[] = [];
  const queue: JobWorkQueue = new JobWorkQueue(async (job) => {
    await sleep(10);
    log.push(job);
    if (job === 'a') queue.schedule('b');
  }, () => undefined);
  queue.schedule('a');
  await queue.onIdle();
  assert.deepEqual(log, ['a', 'b']);
});
