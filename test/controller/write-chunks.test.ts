// How a reconcile's writes are cut into audited transactions, and which earlier transaction each
// must wait for now that several go at once; then the writer doing it on a real etcd.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import pino from 'pino';
import { AuditedWriter } from '../../src/controller/audited-writer.js';
import { FleetInformer } from '../../src/controller/fleet-informer.js';
import type { AuditAction, StoreOp } from '../../src/controller/reconcile-fleet.js';
import { chunkWrites, OPS_PER_TRANSACTION } from '../../src/controller/write-chunks.js';
import type { ControllerSource } from '../../src/repo/controller-source.js';
import { keyLayout, type KeyLayout } from '../../src/store/keys.js';
import { unreadCommit } from '../../src/controller/commit-rejection.js';
import { FleetView } from '../fixtures/controller-harness.js';
import { uniquePrefix, useSharedEtcd } from '../fixtures/etcd-server.js';

const removal = (job: string) => ({ job, removed: true, commit: 'c1', removedAt: '2026-01-01T00:00:00.000Z' });

/** `count` removal records of `job` on hosts h0, h1, … (any value will do: the writer does not look). */
function jobOps(layout: KeyLayout, job: string, count: number, withRollout = false): StoreOp[] {
  const ops: StoreOp[] = withRollout ? [{ put: layout.rollout(job), value: { job, state: 'InProgress' } }] : [];
  for (let host = 0; host < count; host++) ops.push({ put: layout.assignment(`h${host}`, job), value: removal(job) });
  return ops;
}

function chunksOf(layout: KeyLayout, ops: readonly StoreOp[]) {
  const actions: AuditAction[][] = ops.map(() => []);
  return chunkWrites(ops, actions, { layout, commit: unreadCommit('c1'), trigger: 'test', outcome: 'Synced', nowMs: Date.parse('2026-01-01T00:00:00Z') });
}

test('a chunk waits for the earlier chunks holding writes of its jobs, and for every chunk about the whole fleet', () => {
  const layout = keyLayout('/t');
  const lost: StoreOp = { put: layout.lostHost('h9'), value: { host: 'h9', since: '2026-01-01T00:00:00.000Z' } };
  // chunk 0: lost/ and job a; 1: the rest of a, job b; 2: b, c; 3: c alone; 4: the rest of c, a VIP
  const ops = [lost, ...jobOps(layout, 'a', 80, true), ...jobOps(layout, 'b', 100), ...jobOps(layout, 'c', 100), { put: layout.vip('svc'), value: {} }];
  const chunks = chunksOf(layout, ops);
  assert.equal(chunks.length, Math.ceil(ops.length / OPS_PER_TRANSACTION));
  assert.deepEqual(
    chunks.map((chunk) => chunk.after),
    [[], [0], [0, 1], [0, 2], [0, 1, 2, 3]],
  );
  assert.deepEqual(chunks.flatMap((chunk) => chunk.ops), ops, 'every op once, in order');
  assert.equal(new Set(chunks.map((chunk) => chunk.audit.time)).size, chunks.length, 'one audit key per chunk');
});

test('chunks of unrelated jobs wait for nothing', () => {
  const layout = keyLayout('/t');
  const ops = [...jobOps(layout, 'a', OPS_PER_TRANSACTION), ...jobOps(layout, 'b', OPS_PER_TRANSACTION), ...jobOps(layout, 'c', OPS_PER_TRANSACTION)];
  assert.deepEqual(
    chunksOf(layout, ops).map((chunk) => chunk.after),
    [[], [], []],
  );
});

describe('AuditedWriter on a real etcd', () => {
  const etcd = useSharedEtcd();

  function writerFor(view: FleetView, guard: () => { key: string; value: unknown }) {
    const informer = new FleetInformer(view.store, view.layout, { onChange: () => {} });
    const writer = new AuditedWriter({ store: view.store, layout: view.layout, informer, leadership: { isLeader: () => true, guard }, source: {} as ControllerSource, logger: pino({ level: 'silent' }) });
    return { writer, informer };
  }

  test('many transactions in flight: every op lands, in the mirror too, each chunk with its one audit record', async () => {
    const view = new FleetView(etcd.url, uniquePrefix('writer-many'));
    etcd.cleanups.push(() => view.close());
    const { layout, store } = view;
    await store.applyBatch([{ put: layout.leader, value: 'me' }]);
    const jobs = Array.from({ length: 12 }, (_, index) => `j${index}`);
    const ops = jobs.flatMap((job) => jobOps(layout, job, 50, true));
    const chunks = chunksOf(layout, ops);
    const { writer, informer } = writerFor(view, () => ({ key: layout.leader, value: 'me' }));
    assert.equal(await writer.write(chunks), ops.length);
    const assigned = await view.values(layout.assignments());
    assert.equal(assigned.size, 12 * 50);
    assert.equal([...informer.observed().removals!.values()].reduce((sum, byJob) => sum + byJob.size, 0), 12 * 50, 'the mirror took in every write');
    assert.equal((await view.values(layout.syncHistories)).size, chunks.length);
  });

  test('after a failed transaction nothing that must follow it is written, and every transaction written carries its audit record', async () => {
    const view = new FleetView(etcd.url, uniquePrefix('writer-fails'));
    etcd.cleanups.push(() => view.close());
    const { layout, store } = view;
    await store.applyBatch([{ put: layout.leader, value: 'me' }]);
    // One long job: each chunk must follow the one before it. The 3rd transaction's guard fails.
    const ops = jobOps(layout, 'long', 6 * OPS_PER_TRANSACTION);
    const chunks = chunksOf(layout, ops);
    let guards = 0;
    const { writer } = writerFor(view, () => ({ key: layout.leader, value: ++guards === 3 ? 'someone else' : 'me' }));
    await assert.rejects(writer.write(chunks), { code: 'E_GUARD_FAILED' });
    const assigned = await view.values(layout.assignments());
    assert.equal(assigned.size, 2 * OPS_PER_TRANSACTION, 'the two transactions before the failed one, nothing after it');
    assert.ok(assigned.has(layout.assignment(`h${2 * OPS_PER_TRANSACTION - 1}`, 'long')));
    assert.equal((await view.values(layout.syncHistories)).size, 2, 'one audit record per transaction written');
  });
});
