import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import type { Etcd3 } from 'etcd3';
import { createConnectionLog } from '../../src/store/connection-log.js';
import { createEtcdClient } from '../../src/store/etcd-connection.js';
import { keyLayout } from '../../src/store/keys.js';
import { anyJson, EtcdStateStore, type WatchEvent } from '../../src/store/state-store.js';
import { freePort, restoreEtcdSnapshot, sharedEtcd, startEtcd, startTcpProxy, uniquePrefix, type EtcdServer } from '../fixtures/etcd-server.js';
import { waitFor } from './wait-for.js';

const layout = keyLayout('/ygg/v1');
const prefix = layout.vips;

/** A watch on `prefix` from a fresh read, recording what it delivers and its connection changes. */
async function watchVips(store: EtcdStateStore, onConnectionChange?: (connected: boolean) => void) {
  const events: WatchEvent<unknown>[] = [];
  const changes: boolean[] = [];
  const read = await store.getPrefixJson(prefix, anyJson);
  const handle = store.watchPrefix(prefix, read.revision, (event) => void events.push(event), {
    onConnectionChange: (connected) => {
      changes.push(connected);
      onConnectionChange?.(connected);
    },
  });
  return { events, changes, handle };
}

async function putVips(client: Etcd3, count: number, label: string): Promise<void> {
  for (let i = 0; i < count; i++) await client.put(layout.vip(`${label}${i % 5}`)).value(JSON.stringify(`${label}-${i}`));
}

function resyncOf(events: readonly WatchEvent<unknown>[]) {
  const resync = events.find((event) => event.type === 'resync');
  return resync?.type === 'resync' ? resync : undefined;
}

function entriesOf(resync: NonNullable<ReturnType<typeof resyncOf>>): [string, unknown][] {
  return [...resync.entries].map(([key, entry]) => [key, entry.value]);
}

describe('a watch and a lease while etcd is killed for 15 s (private etcd)', () => {
  test('one line down, one line up, no reconnect storm, and the watch resumes within ~2 s (the backoff cap)', async (t) => {
    const server = await startEtcd();
    const client = createEtcdClient({ endpoints: [server.url] }); // production backoff: up to 2 s
    const store = new EtcdStateStore(client, layout);
    const lines: string[] = [];
    const logger = { info: (_: object, message: string) => void lines.push(message), warn: (_: object, message: string) => void lines.push(message) };
    const connectionLog = createConnectionLog(logger, { consequence: 'jobs keep running' });
    const watch = await watchVips(store, connectionLog.report);
    const lease = await store.grantLease(30);
    try {
      await client.put(layout.vip('before')).value('1');
      await waitFor(() => watch.events.length === 1, 'the first put');
      const rssBefore = process.memoryUsage().rss;

      await server.kill();
      const cpuBefore = process.cpuUsage();
      const outageStartedAt = Date.now();
      await new Promise((resolve) => setTimeout(resolve, 15_000));
      const cpu = process.cpuUsage(cpuBefore);
      const cpuPercent = ((cpu.user + cpu.system) / 1000 / (Date.now() - outageStartedAt)) * 100;
      const rssDuring = process.memoryUsage().rss;

      await server.restart();
      const restartedAt = Date.now();
      await waitFor(() => watch.changes.at(-1) === true, 'the watch to reconnect', 5000);
      const resumedMs = Date.now() - restartedAt;
      await client.put(layout.vip('after')).value('2');
      await waitFor(() => watch.events.length === 2, 'a put after the restart');
      const renewedAfterRestart = await waitFor(() => lease.renewedAt > restartedAt, 'the lease renewed after the restart', 15_000);
      const rssAfter = process.memoryUsage().rss;
      const mb = (bytes: number) => (bytes / 1e6).toFixed(0);
      t.diagnostic(`outage 15 s: cpu ${cpuPercent.toFixed(2)} %, rss ${mb(rssBefore)} → ${mb(rssDuring)} → ${mb(rssAfter)} MB, resumed ${resumedMs} ms after etcd was healthy, log: ${JSON.stringify(lines)}`);

      assert.deepEqual(watch.changes, [false, true], 'one change each way, not one per reconnect attempt');
      assert.equal(lines.length, 2);
      assert.match(lines[0]!, /^etcd unreachable; jobs keep running$/);
      assert.match(lines[1]!, /^etcd reachable again after 1\d s$/);
      assert.ok(cpuPercent < 2, `cpu ${cpuPercent.toFixed(2)} % while etcd was down`);
      assert.ok(rssDuring - rssBefore < 25e6, `rss grew by ${mb(rssDuring - rssBefore)} MB while etcd was down`);
      assert.ok(resumedMs < 3000, `resumed ${resumedMs} ms after etcd came back`);
      assert.ok(renewedAfterRestart && !lease.lost, 'a 30 s lease outlives a 15 s outage');
      assert.deepEqual(watch.events.map((event) => event.type), ['put', 'put']);
    } finally {
      connectionLog.close();
      await lease.revoke().catch(() => undefined);
      await watch.handle.close();
      client.close();
      await server.stop();
    }
  });
});

describe('a watch over an etcd that is replaced behind the same URL (private etcds)', () => {
  const cleanup: (() => Promise<void> | void)[] = [];
  after(async () => {
    for (const step of cleanup.reverse()) await step();
  });

  /** An etcd on fixed ports, a client to write to it, and a watcher behind a proxy that can cut it off. */
  async function setUp() {
    const clientPort = await freePort();
    const peerPort = await freePort();
    const first = await startEtcd({ clientPort, peerPort });
    const proxy = await startTcpProxy(first.url);
    cleanup.push(() => proxy.close());
    const writer = createEtcdClient({ endpoints: [first.url] });
    cleanup.push(() => writer.close());
    const watcherClient = createEtcdClient({ endpoints: [proxy.url], reconnectMaxMs: 200 });
    cleanup.push(() => watcherClient.close());
    const watch = await watchVips(new EtcdStateStore(watcherClient, layout));
    cleanup.push(() => watch.handle.close());
    const clusterId = async () => (await writer.get('/').exec()).header.cluster_id;
    /** Replaces the running etcd while the watcher is cut off, and lets `prepare` write to the new one first. */
    const replace = async (server: EtcdServer, options: { peerPort?: number; dataDir?: string }, prepare: () => Promise<void> = async () => {}) => {
      await proxy.cut();
      await server.stop();
      const next = await startEtcd({ clientPort, ...options });
      cleanup.push(() => next.stop());
      await prepare();
      await proxy.restore();
      return next;
    };
    return { first, peerPort, writer, watch, clusterId, replace };
  }

  test('a fresh etcd (lower revision, same cluster id) → resync, reason reset, with its contents', async () => {
    const { first, peerPort, writer, watch, clusterId, replace } = await setUp();
    await putVips(writer, 50, 'a');
    await waitFor(() => watch.events.length === 50, '50 puts');
    assert.ok(BigInt(watch.handle.lastRevision) > 50n);
    const clusterBefore = await clusterId();

    await replace(first, { peerPort }, async () => {
      await writer.put(layout.vip('b')).value('"b"');
    });
    assert.equal(await clusterId(), clusterBefore, 'same name and peer URL: only the revision tells');
    const resync = await waitFor(() => resyncOf(watch.events), 'a resync', 8000);
    assert.equal(resync.reason, 'reset');
    assert.deepEqual(entriesOf(resync), [[layout.vip('b'), 'b']]);
    assert.equal(resync.revision, '2');

    await writer.put(layout.vip('c')).value('"c"');
    await waitFor(() => watch.events.length === 52, 'a put after the resync');
    assert.deepEqual(watch.events.slice(50).map((event) => [event.type, 'key' in event ? event.key : event.revision]), [['resync', '2'], ['put', layout.vip('c')]]);
  });

  test('etcd restored from an older snapshot (same cluster id, older revision) → resync, reason reset', async () => {
    const { first, peerPort, writer, watch, clusterId, replace } = await setUp();
    await putVips(writer, 10, 's');
    const snapshotDir = mkdtempSync(path.join(os.tmpdir(), 'ygg-snapshot-'));
    cleanup.push(() => rmSync(snapshotDir, { recursive: true, force: true }));
    const snapshotFile = path.join(snapshotDir, 'snapshot.db');
    execFileSync('etcdctl', ['--endpoints', first.url, 'snapshot', 'save', snapshotFile], { stdio: 'pipe', env: { ...process.env, ETCDCTL_API: '3' } });
    const atSnapshot = await new EtcdStateStore(writer, layout).getPrefixJson(prefix, anyJson);
    await putVips(writer, 20, 'later');
    await waitFor(() => watch.events.length === 30, '30 puts');
    const clusterBefore = await clusterId();

    await replace(first, { peerPort, dataDir: restoreEtcdSnapshot(snapshotFile, peerPort) });
    assert.equal(await clusterId(), clusterBefore);
    const resync = await waitFor(() => resyncOf(watch.events), 'a resync', 8000);
    assert.equal(resync.reason, 'reset');
    assert.equal(resync.revision, atSnapshot.revision, 'etcd 3.4 restores the revision of the snapshot');
    assert.deepEqual(entriesOf(resync), [...atSnapshot.entries].map(([key, entry]) => [key, entry.value]));
    await writer.put(layout.vip('new')).value('"new"');
    await waitFor(() => watch.events.length === 32, 'a put after the resync');
    assert.deepEqual(watch.events.slice(30).map((event) => event.type), ['resync', 'put']);
  });

  test('another cluster already past our revision (different cluster id) → resync, reason reset', async () => {
    const { first, writer, watch, clusterId, replace } = await setUp();
    await putVips(writer, 3, 'one');
    await waitFor(() => watch.events.length === 3, '3 puts');
    const clusterBefore = await clusterId();

    // another peer port: another cluster id; and it is ahead before the watcher sees it
    await replace(first, {}, () => putVips(writer, 20, 'two'));
    assert.notEqual(await clusterId(), clusterBefore);
    assert.ok(BigInt((await writer.get('/').exec()).header.revision) > BigInt(watch.handle.lastRevision));
    const resync = await waitFor(() => resyncOf(watch.events), 'a resync', 8000);
    assert.equal(resync.reason, 'reset');
    assert.deepEqual(entriesOf(resync).map(([key]) => key), [0, 1, 2, 3, 4].map((i) => layout.vip(`two${i}`)));
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(watch.events.length, 4, 'nothing of the new cluster’s history replayed as events');
  });
});

describe('a wipe with etcdctl del --prefix (shared etcd)', () => {
  test('arrives as one delete event per key, not as a reset', async () => {
    const etcd = await sharedEtcd();
    const wiped = keyLayout(uniquePrefix('wipe'));
    const client = createEtcdClient({ endpoints: [etcd.url] });
    const store = new EtcdStateStore(client, wiped);
    const events: WatchEvent<unknown>[] = [];
    const read = await store.getPrefixJson(wiped.prefix, anyJson);
    const handle = store.watchPrefix(wiped.prefix, read.revision, (event) => void events.push(event));
    try {
      await store.applyBatch(['a', 'b', 'c'].map((name) => ({ put: wiped.vip(name), value: name })));
      await waitFor(() => events.length === 3, '3 puts');
      execFileSync('etcdctl', ['--endpoints', etcd.url, 'del', '--prefix', wiped.prefix], { stdio: 'pipe', env: { ...process.env, ETCDCTL_API: '3' } });
      await waitFor(() => events.length === 6, '3 deletes');
      await new Promise((resolve) => setTimeout(resolve, 200)); // and nothing after them
      assert.deepEqual(
        events.slice(3).map((event) => [event.type, 'key' in event && event.key]),
        ['a', 'b', 'c'].map((name) => ['delete', wiped.vip(name)]),
      );
      assert.equal(events.length, 6);
    } finally {
      await handle.close();
      client.close();
      await etcd.stop();
    }
  });
});
