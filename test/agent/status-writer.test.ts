import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Etcd3 } from 'etcd3';
import { StatusWriter, type StatusStore } from '../../src/agent/status-writer.js';
import { createEtcdClient } from '../../src/store/etcd-connection.js';
import { keyLayout } from '../../src/store/keys.js';
import type { InstanceState, StatusRecord } from '../../src/store/records.js';
import { anyJson, EtcdStateStore, type BatchOp } from '../../src/store/state-store.js';
import { sharedEtcd, uniquePrefix, type SharedEtcd } from '../fixtures/etcd-server.js';

/** Long enough that "at once" and "after the window" cannot be confused on a loaded machine. */
const WINDOW_MS = 1500;
/** How long a step on the way waits (longer than a window, as in the agent). */
const STEP_MS = 3000;
const OLD = 'a'.repeat(64);
const NEW = 'b'.repeat(64);

/** Polls an async condition (a read from etcd) every 20 ms. */
async function until(probe: () => Promise<boolean> | boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await probe())) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function status(specHash: string, state: InstanceState, extra: Partial<StatusRecord> = {}): StatusRecord {
  const now = new Date().toISOString();
  return { specHash, release: specHash, state, restarts: 0, since: now, updatedAt: now, ...extra };
}

describe('StatusWriter on a real etcd', () => {
  let etcd: SharedEtcd;
  let client: Etcd3;
  let store: EtcdStateStore;
  const writers: StatusWriter[] = [];

  before(async () => {
    etcd = await sharedEtcd();
    client = createEtcdClient({ endpoints: [etcd.url] });
    store = new EtcdStateStore(client, keyLayout(uniquePrefix('status-writer')));
  });
  after(async () => {
    await Promise.all(writers.map((writer) => writer.close()));
    await client.delete().prefix(store.layout.prefix);
    client.close();
    await etcd.stop();
  });

  /** A writer for its own host, the batches it sent, and when each went out (ms since it was made). */
  function writer(host: string, fail: { times: number } = { times: 0 }) {
    const made = performance.now();
    const batches: { at: number; ops: readonly BatchOp[] }[] = [];
    const counting: StatusStore = {
      layout: store.layout,
      applyBatch: async (ops) => {
        batches.push({ at: performance.now() - made, ops });
        if (fail.times-- > 0) throw new Error('etcd unavailable (injected)');
        return store.applyBatch(ops);
      },
    };
    const created = new StatusWriter(host, () => counting, { debounceMs: WINDOW_MS, stepDelayMs: STEP_MS });
    writers.push(created);
    const read = async (job: string) => (await store.getJson(store.layout.status(host, job), anyJson)).entry?.value as StatusRecord | undefined;
    return { writer: created, batches, read, since: () => performance.now() - made };
  }

  test('an instance healthy on a new spec is written at once, with what came before it in one write', async () => {
    const { writer: statuses, batches, read } = writer('h1');
    statuses.set('web', status(OLD, 'Stopped'));
    statuses.set('web', status(NEW, 'Starting'));
    statuses.set('web', status(NEW, 'Healthy'));
    await until(async () => (await read('web'))?.state === 'Healthy', 'the write', WINDOW_MS / 2);
    assert.equal(batches.length, 1);
    assert.ok(batches[0]!.at < WINDOW_MS / 2, `written after ${batches[0]!.at.toFixed(0)} ms`);
  });

  test('a step on the way (Starting, Running before its check) waits the step delay', async () => {
    const { writer: statuses, batches, read, since } = writer('h2');
    statuses.set('web', status(NEW, 'Starting'));
    statuses.set('api', status(NEW, 'Running'));
    await until(async () => (await read('api'))?.state === 'Running', 'the write', STEP_MS * 2);
    assert.equal(batches.length, 1);
    assert.ok(batches[0]!.at >= STEP_MS - 5, `written after ${batches[0]!.at.toFixed(0)} ms`);
    assert.ok(since() >= STEP_MS);
    assert.equal((await read('web'))?.state, 'Starting');
  });

  test('a decisive change right after a write goes out at the end of that window, not before', async () => {
    const { writer: statuses, batches, read } = writer('h3');
    statuses.set('web', status(OLD, 'Healthy'));
    await until(async () => (await read('web'))?.specHash === OLD, 'the first write');
    statuses.set('web', status(NEW, 'Healthy'));
    statuses.set('api', status(NEW, 'Failed', { lastError: 'deploy failed' }));
    await until(async () => (await read('web'))?.specHash === NEW, 'the write', WINDOW_MS * 3);
    assert.equal(batches.length, 2);
    assert.ok(batches[1]!.at - batches[0]!.at >= WINDOW_MS - 5, `second write ${(batches[1]!.at - batches[0]!.at).toFixed(0)} ms after the first`);
    assert.equal((await read('api'))?.state, 'Failed');
  });

  test('the same state again (a metrics refresh) is no news: it waits the step delay', async () => {
    const { writer: statuses, batches, read } = writer('h4');
    statuses.set('web', status(NEW, 'Healthy'));
    await until(async () => (await read('web'))?.state === 'Healthy', 'the first write');
    await new Promise((resolve) => setTimeout(resolve, WINDOW_MS));
    statuses.set('web', status(NEW, 'Healthy', { metrics: { cpuSeconds: 1, rssBytes: 2, openFds: 3, uptimeSeconds: 4 } }));
    const refreshedAt = performance.now();
    await until(async () => (await read('web'))?.metrics !== undefined, 'the write', STEP_MS * 2);
    assert.equal(batches.length, 2);
    assert.ok(performance.now() - refreshedAt >= STEP_MS - 5);
  });

  test('a decisive write carries only what is due: a job still on its way waits, and its step is never written', async () => {
    const { writer: statuses, batches, read } = writer('h6');
    statuses.set('api', status(NEW, 'Starting'));
    statuses.set('web', status(NEW, 'Healthy'));
    await until(async () => (await read('web'))?.state === 'Healthy', 'the first write', WINDOW_MS / 2);
    assert.deepEqual(batches.map((batch) => batch.ops.length), [1]);
    assert.equal(await read('api'), undefined);
    statuses.set('api', status(NEW, 'Healthy'));
    await until(async () => (await read('api'))?.state === 'Healthy', 'the second write', WINDOW_MS * 3);
    assert.deepEqual(batches.map((batch) => batch.ops.length), [1, 1]);
    assert.ok(batches[1]!.at - batches[0]!.at >= WINDOW_MS - 5 && batches[1]!.at < STEP_MS, `second write at ${batches[1]!.at.toFixed(0)} ms`);
  });

  test('the key of a removed job is deleted after one window, not the step delay', async () => {
    const { writer: statuses, batches, read } = writer('h7');
    statuses.set('web', status(NEW, 'Healthy'));
    await until(async () => (await read('web'))?.state === 'Healthy', 'the first write', WINDOW_MS / 2);
    statuses.set('api', status(NEW, 'Starting'));
    statuses.set('web', null);
    await until(async () => (await read('web')) === undefined, 'the delete', STEP_MS);
    assert.equal(batches.length, 2);
    assert.ok(batches[1]!.at - batches[0]!.at >= WINDOW_MS - 5 && batches[1]!.at < STEP_MS - 5, `delete at ${batches[1]!.at.toFixed(0)} ms`);
    assert.equal(await read('api'), undefined);
  });

  test('after a failed write the backoff stands, even for a decisive change', async () => {
    const { writer: statuses, batches, read } = writer('h5', { times: 1 });
    statuses.set('web', status(NEW, 'Starting'));
    await until(() => batches.length === 1, 'the write', WINDOW_MS * 3);
    statuses.set('web', status(NEW, 'Healthy'));
    // the retry comes after 500 ms (250 · 2¹), not at once
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(batches.length, 1);
    await until(async () => (await read('web'))?.state === 'Healthy', 'the write', 3000);
    assert.equal(batches.length, 2);
  });
});
