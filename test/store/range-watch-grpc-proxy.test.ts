// Watches through a real `etcd grpc-proxy`: the proxy folds a watch on a key another client already
// watches into that one, and answers it with a "created" response of its own making, whose header
// has no cluster id ("0"). Taking that for another cluster made every such watch resync at its first
// event, and again at each re-attach: agents behind a proxy never saw changes to a shared key.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { createEtcdClient } from '../../src/store/etcd-connection.js';
import { keyLayout } from '../../src/store/keys.js';
import { anyJson, EtcdStateStore, type WatchEvent, type WatchHandle } from '../../src/store/state-store.js';
import { startGrpcProxy, type GrpcProxy } from '../fixtures/etcd-grpc-proxy.js';
import { readEtcdMetrics } from '../fixtures/etcd-metrics.js';
import { startEtcd, type EtcdServer } from '../fixtures/etcd-server.js';
import { waitFor } from './wait-for.js';

// A private etcd: its watcher count shows what the proxy coalesced.
let etcd: EtcdServer;
let proxy: GrpcProxy;
let workDir: string;
const stores: EtcdStateStore[] = [];
const watches: WatchHandle[] = [];

before(async () => {
  etcd = await startEtcd();
  workDir = mkdtempSync(path.join(os.tmpdir(), 'ygg-grpc-proxy-'));
  proxy = await startGrpcProxy(etcd.url, workDir);
});

after(async () => {
  await Promise.all(watches.map((watch) => watch.close()));
  for (const store of stores) store.client.close();
  await proxy.stop();
  await etcd.stop();
  rmSync(workDir, { recursive: true, force: true });
});

function storeVia(url: string): EtcdStateStore {
  const store = new EtcdStateStore(createEtcdClient({ endpoints: [url] }), keyLayout('/ygg/v1'));
  stores.push(store);
  return store;
}

/** A watch on `key` from a fresh read, recording what it delivers. */
async function watchFromNow(store: EtcdStateStore, key: string) {
  const events: WatchEvent<unknown>[] = [];
  const { revision } = await store.getJson(key, anyJson);
  watches.push(store.watchKey(key, revision, (event) => void events.push(event)));
  return events;
}

test('a watch the proxy coalesces into another client\'s gets the change, without a resync', async () => {
  const prefix = '/grpc-proxy';
  const key = `${prefix}/shared`;
  const watchersBefore = (await readEtcdMetrics(etcd.url)).watchers;
  const writer = storeVia(etcd.url);
  const first = await watchFromNow(storeVia(proxy.url), key);
  // The first watch is established once it has delivered an event: the proxy then has a broadcast
  // for the key that later watches join (a fresh one would be created by etcd itself).
  await writer.applyBatch([{ put: key, value: 'one' }]);
  await waitFor(() => first.some((event) => event.type === 'put'), 'the first watch to see "one"');
  // Other keys move the revision on: the second watch starts past the broadcast's and joins it.
  await writer.applyBatch([{ put: `${prefix}/other`, value: 1 }]);
  await writer.applyBatch([{ put: `${prefix}/other`, value: 2 }]);
  const second = await watchFromNow(storeVia(proxy.url), key);

  await writer.applyBatch([{ put: key, value: 'two' }]);
  await waitFor(() => second.some((event) => event.type === 'put' || event.type === 'resync'), 'the second watch to deliver something');
  assert.deepEqual(second.map((event) => [event.type, event.type === 'put' ? event.value : undefined]), [['put', 'two']]);
  // What makes this test mean something: both watches are served by one watcher on etcd.
  assert.equal((await readEtcdMetrics(etcd.url)).watchers, watchersBefore + 1);
});

