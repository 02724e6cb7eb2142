// The renderer process end to end against a real etcd and the real `keepalived -t`: what it does to
// keepalived.conf when etcd is wiped, reset or replaced, when a commit removes a VIP, when most
// real servers vanish at once, and when a naming entry is garbage.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import pino from 'pino';
import { Registry } from 'prom-client';
import { keepalivedCheck } from '../../src/render/check-commands.js';
import { registerRenderMetrics } from '../../src/render/render-metrics.js';
import type { RenderStatusRecord } from '../../src/render/render-status.js';
import { runRenderer, type RunningRenderer } from '../../src/render/run-renderer.js';
import { connectEtcd } from '../../src/store/etcd-connection.js';
import { keyLayout, RENDERER_STATUS_NAME, type KeyLayout } from '../../src/store/keys.js';
import { anyJson, EtcdStateStore, type BatchOp } from '../../src/store/state-store.js';
import { startEtcd, uniquePrefix, useSharedEtcd } from '../fixtures/etcd-server.js';
import { waitFor } from '../store/wait-for.js';
import { waitUntil } from '../fixtures/controller-harness.js';
import { hostRecord, namingRecord, syncCurrentRecord, vipRecord } from './render-records.js';

const TEMPLATE = readFileSync(new URL('../../templates/keepalived.conf.hbs', import.meta.url), 'utf8');
const directory = mkdtempSync(path.join(os.tmpdir(), 'ygg-run-renderer-'));
const etcd = useSharedEtcd();

/** web (h1-h3) and api (h4, h5) on director lb1, commit c1: what the controller and agents write. */
function fleetOps(layout: KeyLayout, commit = 'c1'): { controller: BatchOp[]; agents: BatchOp[] } {
  return {
    controller: [
      { put: layout.vip('web'), value: vipRecord('web', '192.0.2.10', ['lb1']) },
      { put: layout.vip('api'), value: vipRecord('api', '192.0.2.20', ['lb1']) },
      { put: `${layout.prefix}hosts/lb1`, value: hostRecord('lb1', '10.0.9.1') },
      { put: layout.syncCurrent, value: syncCurrentRecord(commit) },
    ],
    agents: [1, 2, 3, 4, 5].map((index) => {
      const service = index <= 3 ? 'web' : 'api';
      return { put: layout.naming(service, `h${index}`, 80), value: namingRecord(`h${index}`, `10.0.0.${index}`, 80, service) };
    }),
  };
}

interface Started {
  readonly running: RunningRenderer;
  readonly logs: { level: number; msg: string; event?: string }[];
  read(): string;
  status(): RenderStatusRecord;
}

async function startRenderer(url: string, layout: KeyLayout, target: string): Promise<Started> {
  const logs: Started['logs'] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void logs.push(JSON.parse(line) as Started['logs'][number]) });
  const running = await runRenderer({
    kind: 'keepalived',
    etcd: { endpoints: [url], dialTimeoutMs: 2000 },
    etcdPrefix: layout.prefix,
    director: 'lb1',
    target,
    templateText: TEMPLATE,
    write: { check: keepalivedCheck(), reload: async () => {} },
    minWaitMs: 50,
    maxWaitMs: 300,
    logger,
  });
  await running.renderer.start();
  return { running, logs, read: () => readFileSync(target, 'utf8'), status: () => running.renderer.status };
}

const virtualServers = (text: string) => [...text.matchAll(/^virtual_server (\S+) (\d+) \{$/gm)].map((match) => `${match[1]}:${match[2]}`);
const realServers = (text: string) => [...text.matchAll(/^\s+real_server (\S+) (\d+) \{$/gm)].map((match) => `${match[1]}:${match[2]}`).sort();
const ALL_REAL_SERVERS = ['10.0.0.1:80', '10.0.0.2:80', '10.0.0.3:80', '10.0.0.4:80', '10.0.0.5:80'];

async function publishedStatus(store: EtcdStateStore, layout: KeyLayout): Promise<RenderStatusRecord | undefined> {
  return (await store.getJson(layout.status('lb1', RENDERER_STATUS_NAME), anyJson)).entry?.value as RenderStatusRecord | undefined;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

test('etcdctl del --prefix: the file never loses a virtual or real server, from the wipe until agents and controller have put everything back', async () => {
  const layout = keyLayout(uniquePrefix('wipe'));
  const store = new EtcdStateStore(etcd.client, layout);
  const ops = fleetOps(layout);
  await store.applyBatch([...ops.controller, ...ops.agents]);
  const target = path.join(directory, 'wipe.conf');
  const run = await startRenderer(etcd.url, layout, target);
  const samples: { virtual: number; real: number }[] = [];
  const sampler = setInterval(() => samples.push({ virtual: virtualServers(run.read()).length, real: realServers(run.read()).length }), 50);
  try {
    assert.deepEqual(realServers(run.read()), ALL_REAL_SERVERS);
    assert.match(run.read(), /from commit c1, etcd revision \d+\./);
    execFileSync('etcdctl', ['--endpoints', etcd.url, 'del', '--prefix', layout.prefix], { stdio: 'pipe' });
    await waitFor(() => run.status().held, 'the render to be held');
    assert.match(run.status().heldReason ?? '', /no VIP record and no host record/);
    await sleep(500);
    const published = await publishedStatus(store, layout);
    assert.equal(published?.held, true);
    assert.match(published?.heldReason ?? '', /wiped/);
    assert.ok(run.logs.some((line) => line.level >= 50 && line.msg.startsWith('RENDER HELD')), 'an error line says so');

    // The controller puts its records back, then agents re-register one by one.
    await store.applyBatch(ops.controller);
    for (const op of [ops.agents[0]!, ops.agents[3]!, ops.agents[1]!, ops.agents[2]!]) {
      await store.applyBatch([op]);
      await sleep(400);
      assert.equal(run.status().held, true, 'held while the store does not show the whole file');
    }
    await store.applyBatch([ops.agents[4]!]);
    await waitFor(() => !run.status().held, 'the hold to end once everything is back', 5000);
    await sleep(200);
  } finally {
    clearInterval(sampler);
    await run.running.close();
  }
  assert.ok(samples.length > 20, `${samples.length} samples`);
  assert.equal(Math.min(...samples.map((sample) => sample.virtual)), 2, 'never fewer than 2 virtual servers');
  assert.equal(Math.min(...samples.map((sample) => sample.real)), 5, 'never fewer than 5 real servers');
  assert.deepEqual(realServers(readFileSync(target, 'utf8')), ALL_REAL_SERVERS);
  execFileSync('keepalived', ['-t', '-f', target], { stdio: 'pipe' });
});

test('a renderer restarted onto a wiped etcd leaves the file untouched and reports the hold', async () => {
  const layout = keyLayout(uniquePrefix('restart-wiped'));
  const store = new EtcdStateStore(etcd.client, layout);
  const ops = fleetOps(layout);
  await store.applyBatch([...ops.controller, ...ops.agents]);
  const target = path.join(directory, 'restart-wiped.conf');
  const first = await startRenderer(etcd.url, layout, target);
  await first.running.close();
  const before = readFileSync(target);
  execFileSync('etcdctl', ['--endpoints', etcd.url, 'del', '--prefix', layout.prefix], { stdio: 'pipe' });

  const second = await startRenderer(etcd.url, layout, target);
  try {
    assert.equal(second.status().held, true);
    const published = await publishedStatus(store, layout);
    assert.equal(published?.held, true);
    assert.match(published?.heldReason ?? '', /no VIP record and no host record/);
    await sleep(700);
    assert.ok(readFileSync(target).equals(before), 'byte-identical');
  } finally {
    await second.running.close();
  }
});

test('a renderer restarted onto a fresh etcd (revision below the file’s, sync/current and most endpoints missing) holds, then applies once the data is back', async () => {
  const layout = keyLayout(uniquePrefix('fresh'));
  const store = new EtcdStateStore(etcd.client, layout);
  const ops = fleetOps(layout);
  // push the shared etcd's revision well past what a fresh one will reach in this test
  await store.applyBatch(Array.from({ length: 40 }, (_, index) => ({ put: `${layout.prefix}status/filler/${index}`, value: {} })));
  for (let index = 0; index < 40; index++) await etcd.client.put(`${layout.prefix}status/filler/again`).value(String(index));
  await store.applyBatch([...ops.controller, ...ops.agents]);
  const target = path.join(directory, 'fresh.conf');
  const first = await startRenderer(etcd.url, layout, target);
  await first.running.close();
  const before = readFileSync(target);

  const fresh = await startEtcd();
  const freshClient = await connectEtcd({ endpoints: [fresh.url] });
  const freshStore = new EtcdStateStore(freshClient, layout);
  try {
    // a restore in progress: VIPs and one agent back, sync/current not yet
    await freshStore.applyBatch([...ops.controller.filter((op) => 'put' in op && op.put !== layout.syncCurrent), ops.agents[0]!]);
    const second = await startRenderer(fresh.url, layout, target);
    try {
      assert.equal(second.status().held, true);
      assert.match(second.status().heldReason ?? '', /sync\/current is missing while the file names commit c1/);
      assert.match(second.status().heldReason ?? '', /etcd is at revision \d+, below the file's \d+/);
      assert.equal((await publishedStatus(freshStore, layout))?.held, true);
      await sleep(500);
      assert.ok(readFileSync(target).equals(before), 'byte-identical');
      await freshStore.applyBatch([{ put: layout.syncCurrent, value: syncCurrentRecord('c1') }, ...ops.agents.slice(1)]);
      await waitFor(() => !second.status().held, 'the hold to end');
      assert.deepEqual(realServers(second.read()), ALL_REAL_SERVERS);
    } finally {
      await second.running.close();
    }
  } finally {
    freshClient.close();
    await fresh.stop();
  }
});

test('a VIP removed by a commit loses its block once sync/current names the new commit; the header names the commit in force', async () => {
  const layout = keyLayout(uniquePrefix('commit'));
  const store = new EtcdStateStore(etcd.client, layout);
  const ops = fleetOps(layout);
  // api is another director's VIP: the store still holds VIP records after web's goes
  await store.applyBatch([...ops.controller, { put: layout.vip('api'), value: vipRecord('api', '192.0.2.20', ['lb2']) }, ...ops.agents.slice(0, 3)]);
  const target = path.join(directory, 'commit.conf');
  const run = await startRenderer(etcd.url, layout, target);
  try {
    assert.deepEqual(virtualServers(run.read()), ['192.0.2.10:80']);
    assert.match(run.read(), /^# Rendered by Yggdrasil from commit c1, etcd revision \d+\.$/m);
    // the controller deletes the VIP first and moves sync/current after: held in between
    await store.applyBatch([{ delete: layout.vip('web') }]);
    await waitFor(() => run.status().held, 'the removal to be held until a commit explains it');
    assert.match(run.status().heldReason ?? '', /all virtual servers of the file \(192\.0\.2\.10 80 TCP\) without a commit/);
    assert.deepEqual(virtualServers(run.read()), ['192.0.2.10:80']);
    await store.applyBatch([{ put: layout.syncCurrent, value: syncCurrentRecord('c2') }]);
    await waitFor(() => !run.status().held && virtualServers(run.read()).length === 0, 'the block to go');
    assert.match(run.read(), /^# Rendered by Yggdrasil from commit c2, etcd revision \d+\.$/m);
    assert.equal(run.status().lastRenderCommit, 'c2');
    execFileSync('keepalived', ['-t', '-f', target], { stdio: 'pipe' });
  } finally {
    await run.running.close();
  }
});

test('most real servers vanishing at once is held, loudly (status, log, metrics), and applied when they come back', async () => {
  const layout = keyLayout(uniquePrefix('mass'));
  const store = new EtcdStateStore(etcd.client, layout);
  const ops = fleetOps(layout);
  await store.applyBatch([...ops.controller, ...ops.agents]);
  const target = path.join(directory, 'mass.conf');
  const run = await startRenderer(etcd.url, layout, target);
  const registry = new Registry();
  registerRenderMetrics(registry, () => run.status());
  try {
    const before = readFileSync(target);
    // one agent's lease expires: the fleet's own reason, applied
    await store.applyBatch([{ delete: layout.naming('web', 'h3', 80) }]);
    await waitFor(() => realServers(run.read()).length === 4, 'one real server to go');
    const afterOne = readFileSync(target);
    assert.notDeepEqual(afterOne, before);
    // three of the remaining four at once: held
    await store.applyBatch([{ delete: layout.naming('web', 'h1', 80) }, { delete: layout.naming('api', 'h4', 80) }, { delete: layout.naming('api', 'h5', 80) }]);
    await waitFor(() => run.status().held, 'the mass removal to be held');
    assert.match(run.status().heldReason ?? '', /remove 3 of 4 real servers \(75% > 50%\)/);
    assert.ok(readFileSync(target).equals(afterOne), 'byte-identical');
    const metrics = await registry.metrics();
    assert.match(metrics, /^ygg_render_held 1$/m);
    assert.match(metrics, /^ygg_render_held_total 1$/m);
    // the status record is written after the hold, asynchronously
    await waitUntil(async () => (await publishedStatus(store, layout))?.held === true || undefined, 'the held status published');
    assert.ok(run.logs.some((line) => line.event === 'render_held'));
    // they come back (e.g. the partition heals): applied by itself
    await store.applyBatch([ops.agents[0]!, ops.agents[3]!]);
    await waitFor(() => !run.status().held, 'the hold to end');
    assert.deepEqual(realServers(run.read()), ['10.0.0.1:80', '10.0.0.2:80', '10.0.0.4:80']);
    assert.match(await registry.metrics(), /^ygg_render_held 0$/m);
  } finally {
    await run.running.close();
  }
});

test('invalid naming entries are skipped and counted; the rest renders, and a later valid change still renders', async () => {
  const layout = keyLayout(uniquePrefix('invalid'));
  const store = new EtcdStateStore(etcd.client, layout);
  const ops = fleetOps(layout);
  await store.applyBatch([...ops.controller, ...ops.agents]);
  const target = path.join(directory, 'invalid.conf');
  const run = await startRenderer(etcd.url, layout, target);
  const registry = new Registry();
  registerRenderMetrics(registry, () => run.status());
  try {
    await store.applyBatch([
      { put: layout.naming('web', 'h7', 80), value: namingRecord('h7', '10.0.0.999') },
      { put: layout.naming('web', 'h8', 80), value: namingRecord('h8', '1.2.3.4\n}\nvirtual_server 6.6.6.6 80 {') },
      { put: layout.naming('web', 'h9', 8080), value: namingRecord('h9', '10.0.0.9', 8080) },
      { put: layout.naming('web', 'h10', 80), value: { ip: '10.0.0.10' } },
    ]);
    await etcd.client.put(layout.naming('web', 'h11', 80)).value('{not json');
    await waitFor(() => run.status().skipped === 5, 'five entries skipped');
    const keys = (run.status().skippedInputs ?? []).map((entry) => entry.key);
    assert.deepEqual(keys.sort(), ['naming/web/h10:80', 'naming/web/h11:80', 'naming/web/h7:80', 'naming/web/h8:80', 'naming/web/h9:8080']);
    assert.equal(run.status().lastError, undefined);
    assert.match(await registry.metrics(), /^ygg_render_skipped_inputs 5$/m);
    assert.ok(run.logs.some((line) => line.event === 'render_skipped'));
    assert.deepEqual(realServers(run.read()), ALL_REAL_SERVERS);
    assert.doesNotMatch(run.read(), /6\.6\.6\.6|999/);

    await store.applyBatch([{ put: layout.naming('web', 'h6', 80), value: namingRecord('h6', '10.0.0.6') }]);
    await waitFor(() => realServers(run.read()).includes('10.0.0.6:80'), 'a valid endpoint added later to render');
    execFileSync('keepalived', ['-t', '-f', target], { stdio: 'pipe' });
    assert.equal((await publishedStatus(store, layout))?.skipped, 5);
  } finally {
    await run.running.close();
  }
});
