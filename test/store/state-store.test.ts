import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Etcd3 } from 'etcd3';
import { createEtcdClient } from '../../src/store/etcd-connection.js';
import { keyLayout, type KeyLayout } from '../../src/store/keys.js';
import { isAssignmentRecord, isStatusRecord } from '../../src/store/record-checks.js';
import type { AssignmentRecord, StatusRecord } from '../../src/store/records.js';
import { retryWithBackoff } from '../../src/store/retry-with-backoff.js';
import { anyJson, EtcdStateStore, type WatchEvent, type WatchHandle } from '../../src/store/state-store.js';
import { GuardFailedError } from '../../src/store/store-errors.js';
import { job } from '../fixtures/model-builder.js';
import { sharedEtcd, startEtcd, startTcpProxy, uniquePrefix, type EtcdServer, type SharedEtcd, type TcpProxy } from '../fixtures/etcd-server.js';
import { waitFor } from './wait-for.js';

function assignment(host: string, jobName: string): AssignmentRecord {
  const { tag, spec } = job(jobName);
  return { job: jobName, tag, host: { name: host, ip: '10.0.0.1', labels: { idc: 'lg' } }, spec, specHash: `hash-${jobName}`, commit: 'abc123', assignedAt: '2024-01-01T00:00:00.000Z' };
}

const status: StatusRecord = { specHash: 'hash-web', state: 'Healthy', restarts: 0, since: '2024-01-01T00:00:00.000Z', updatedAt: '2024-01-01T00:00:01.000Z' };

describe('EtcdStateStore on the shared etcd', () => {
  let etcd: SharedEtcd;
  let client: Etcd3;
  let layout: KeyLayout;
  let store: EtcdStateStore;
  const watches: WatchHandle[] = [];

  before(async () => {
    etcd = await sharedEtcd();
    client = createEtcdClient({ endpoints: [etcd.url] });
    layout = keyLayout(uniquePrefix('state-store'));
    store = new EtcdStateStore(client, layout);
  });
  after(async () => {
    await Promise.all(watches.map((watch) => watch.close()));
    await client.delete().prefix(layout.prefix);
    client.close();
    await etcd.stop();
  });

  test('records round-trip with revisions, serialized with sorted keys', async () => {
    const record = assignment('h1', 'web');
    await store.applyBatch([{ put: layout.assignment('h1', 'web'), value: record }, { put: layout.status('h1', 'web'), value: status }]);

    const read = await store.getJson(layout.assignment('h1', 'web'), isAssignmentRecord);
    assert.deepEqual(read.entry?.value, record);
    assert.equal(read.entry?.lease, '0');
    assert.equal(read.entry?.createRevision, read.entry?.modRevision);
    assert.ok(BigInt(read.revision) >= BigInt(read.entry!.modRevision));
    assert.deepEqual(read.skipped, []);

    const stored = await client.get(layout.status('h1', 'web')).string();
    assert.equal(stored, '{"restarts":0,"since":"2024-01-01T00:00:00.000Z","specHash":"hash-web","state":"Healthy","updatedAt":"2024-01-01T00:00:01.000Z"}');
    assert.equal((await store.getJson(layout.status('h1', 'nothing'), isStatusRecord)).entry, undefined);
  });

  test('malformed values are skipped and reported, never thrown', async () => {
    const prefix = layout.assignments('h2');
    await client.put(layout.assignment('h2', 'broken-json')).value('{"job": ');
    await client.put(layout.assignment('h2', 'wrong-shape')).value(JSON.stringify({ ...assignment('h2', 'wrong-shape'), specHash: 7, spec: { version: '1' } }));
    await store.applyBatch([{ put: layout.assignment('h2', 'good'), value: assignment('h2', 'good') }]);

    const read = await store.getPrefixJson(prefix, isAssignmentRecord);
    assert.deepEqual([...read.entries.keys()], [layout.assignment('h2', 'good')]);
    const problems = new Map(read.skipped.map((entry) => [entry.key, entry.problem]));
    assert.match(problems.get(layout.assignment('h2', 'broken-json'))!, /^not JSON/);
    const shape = problems.get(layout.assignment('h2', 'wrong-shape'))!;
    assert.match(shape, /^not a valid AssignmentRecord: /);
    assert.match(shape, /spec\.artifact: missing/);
    assert.match(shape, /specHash: expected a string, got number 7/);
  });

  test('a batch of 200 ops is written in transactions of at most 64 ops', async () => {
    const ops = Array.from({ length: 200 }, (_, index) => ({ put: layout.assignment('bulk', `job-${index}`), value: assignment('bulk', `job-${index}`) }));
    assert.deepEqual(await store.applyBatch(ops), { ops: 200, txns: 4 });
    assert.equal((await store.getPrefixJson(layout.assignments('bulk'), isAssignmentRecord)).entries.size, 200);

    const deletes = Array.from({ length: 70 }, (_, index) => ({ delete: layout.assignment('bulk', `job-${index}`) }));
    // the same key twice collapses to its last op: etcd refuses a transaction naming a key twice
    const twice = [{ put: layout.assignment('bulk', 'job-199'), value: assignment('bulk', 'x') }, { delete: layout.assignment('bulk', 'job-199') }];
    assert.deepEqual(await store.applyBatch([...deletes, ...twice]), { ops: 71, txns: 2 });
    assert.equal((await store.getPrefixJson(layout.assignments('bulk'), isAssignmentRecord)).entries.size, 129);
  });

  test('a batch whose guard fails writes nothing', async () => {
    await store.applyBatch([{ put: layout.leader, value: 'controller-a' }]);
    const ops = Array.from({ length: 100 }, (_, index) => ({ put: layout.vip(`svc-${index}`), value: { index } }));

    await assert.rejects(store.applyBatch(ops, { key: layout.leader, value: 'controller-b' }), (error: unknown) => {
      assert.ok(error instanceof GuardFailedError);
      assert.equal(error.code, 'E_GUARD_FAILED');
      assert.equal(error.opsWritten, 0);
      return true;
    });
    assert.equal((await store.getPrefixJson(layout.vips, anyJson)).entries.size, 0);

    assert.deepEqual(await store.applyBatch(ops, { key: layout.leader, value: 'controller-a' }), { ops: 100, txns: 2 });
  });

  test('a watch sees puts and deletes in order, from the revision of a read', async () => {
    const prefix = layout.statuses('h3');
    await store.applyBatch([{ put: layout.status('h3', 'old'), value: status }]);
    const read = await store.getPrefixJson(prefix, isStatusRecord);
    const events: WatchEvent<StatusRecord>[] = [];
    watches.push(store.watchPrefix(prefix, read.revision, (event) => void events.push(event), { check: isStatusRecord }));

    await store.applyBatch([{ put: layout.status('h3', 'a'), value: status }]);
    await store.applyBatch([{ put: layout.status('h3', 'a'), value: { ...status, restarts: 1 } }, { delete: layout.status('h3', 'old') }]);
    await client.put(layout.status('h3', 'b')).value('garbage');
    await store.applyBatch([{ delete: layout.status('h3', 'a') }]);

    await waitFor(() => events.length >= 5, '5 events');
    const summary = events.map((event) => (event.type === 'put' ? `put ${event.key} ${event.value.restarts}` : `${event.type} ${'key' in event ? event.key : ''}`));
    assert.deepEqual(summary, [
      `put ${layout.status('h3', 'a')} 0`,
      `put ${layout.status('h3', 'a')} 1`,
      `delete ${layout.status('h3', 'old')}`,
      `skipped ${layout.status('h3', 'b')}`,
      `delete ${layout.status('h3', 'a')}`,
    ]);
    const revisions = events.map((event) => BigInt((event as { modRevision: string }).modRevision));
    assert.deepEqual(revisions, [...revisions].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
  });

  test('a lease keeps its key alive, and losing it is noticed', async () => {
    const lease = await store.grantLease(1);
    await store.applyBatch([{ put: layout.agent('h4'), value: { alive: true }, lease: lease.id }]);
    await new Promise((resolve) => setTimeout(resolve, 1500)); // longer than the TTL: keep-alive works
    assert.equal((await store.getJson(layout.agent('h4'), anyJson)).entry?.lease, lease.id);

    const lost = new Promise<Error>((resolve) => lease.onLost(resolve));
    await client.leaseClient.leaseRevoke({ ID: lease.id }); // someone else revokes it
    const error = await lost;
    assert.equal((error as { code?: string }).code, 'E_LEASE_LOST');
    assert.ok(lease.lost);
    assert.equal((await store.getJson(layout.agent('h4'), anyJson)).entry, undefined);
  });
});

describe('EtcdStateStore watches across an etcd restart and a compaction (private etcd)', () => {
  let server: EtcdServer;
  let proxy: TcpProxy;
  let writer: Etcd3;
  let watcherClient: Etcd3;
  let store: EtcdStateStore;
  const layout = keyLayout('/ygg/v1');
  const watches: WatchHandle[] = [];

  before(async () => {
    server = await startEtcd();
    proxy = await startTcpProxy(server.url);
    writer = createEtcdClient({ endpoints: [server.url], reconnectMaxMs: 200 });
    watcherClient = createEtcdClient({ endpoints: [proxy.url], reconnectMaxMs: 200 });
    store = new EtcdStateStore(watcherClient, layout);
  });
  after(async () => {
    await Promise.all(watches.map((watch) => watch.close()));
    watcherClient.close();
    writer.close();
    await proxy.close();
    await server.stop();
  });

  const write = (ops: Parameters<EtcdStateStore['applyBatch']>[0]) =>
    retryWithBackoff(() => new EtcdStateStore(writer, layout).applyBatch(ops), { initialMs: 50, maxMs: 200 });

  test('resumes from the last seen revision after etcd restarts, seeing what happened meanwhile', async () => {
    const prefix = layout.namings('web');
    const events: WatchEvent<unknown>[] = [];
    const read = await store.getPrefixJson(prefix, anyJson);
    watches.push(store.watchPrefix(prefix, read.revision, (event) => void events.push(event)));
    await write([{ put: layout.naming('web', 'h1', 80), value: 1 }]);
    await waitFor(() => events.length === 1, 'the first put');

    await proxy.cut(); // the watcher is cut off ...
    await server.restart(); // ... while etcd restarts ...
    await write([{ put: layout.naming('web', 'h2', 80), value: 2 }]); // ... and changes go on
    await write([{ delete: layout.naming('web', 'h1', 80) }]);
    await proxy.restore();

    await waitFor(() => events.length >= 3, 'the changes made during the outage');
    await new Promise((resolve) => setTimeout(resolve, 200)); // nothing replayed twice
    assert.deepEqual(
      events.map((event) => `${event.type} ${'key' in event ? event.key : ''}`),
      [`put ${layout.naming('web', 'h1', 80)}`, `put ${layout.naming('web', 'h2', 80)}`, `delete ${layout.naming('web', 'h1', 80)}`],
    );
  });

  test('a compaction while disconnected leads to a resync with the current entries', async () => {
    const prefix = layout.vips;
    const events: WatchEvent<unknown>[] = [];
    const read = await store.getPrefixJson(prefix, anyJson);
    watches.push(store.watchPrefix(prefix, read.revision, (event) => void events.push(event)));
    await write([{ put: layout.vip('a'), value: 'a1' }, { put: layout.vip('b'), value: 'b1' }]);
    await waitFor(() => events.length === 2, 'the first puts');

    await proxy.cut();
    await write([{ put: layout.vip('a'), value: 'a2' }]);
    await write([{ delete: layout.vip('b') }, { put: layout.vip('c'), value: 'c1' }]);
    const { header } = await writer.get(layout.vip('a')).exec();
    await writer.kv.compact({ revision: header.revision, physical: true });
    await proxy.restore();

    const resync = await waitFor(() => events.find((event) => event.type === 'resync'), 'a resync');
    assert.equal(resync.reason, 'compacted');
    assert.equal(resync.revision, String(header.revision));
    assert.deepEqual(
      [...resync.entries].map(([key, entry]) => [key, entry.value]),
      [[layout.vip('a'), 'a2'], [layout.vip('c'), 'c1']],
    );
    await write([{ put: layout.vip('d'), value: 'd1' }]);
    const after = await waitFor(() => events.at(-1)?.type === 'put' && events.at(-1), 'a put after the resync');
    assert.deepEqual([after.type, 'key' in after && after.key], ['put', layout.vip('d')]);
    assert.equal(events.length, 4, 'no stale events from before the compaction');
  });
});
