import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { Etcd3 } from 'etcd3';
import { keepalivedCheck } from '../../src/render/check-commands.js';
import { DebouncedRenderer } from '../../src/render/debounced-renderer.js';
import { EndpointView, type RenderSource, type ViewFacts } from '../../src/render/endpoint-view.js';
import type { RenderData } from '../../src/render/render-data.js';
import { connectEtcd } from '../../src/store/etcd-connection.js';
import { keyLayout } from '../../src/store/keys.js';
import { EtcdStateStore } from '../../src/store/state-store.js';
import { startEtcd, uniquePrefix, type EtcdServer } from '../fixtures/etcd-server.js';
import { waitFor } from '../store/wait-for.js';
import { namingRecord, vipRecord } from './render-records.js';

const TEMPLATE = readFileSync(new URL('../../templates/keepalived.conf.hbs', import.meta.url), 'utf8');
const directory = mkdtempSync(path.join(os.tmpdir(), 'ygg-render-'));
let etcd: EtcdServer;
let client: Etcd3;

before(async () => {
  etcd = await startEtcd();
  client = await connectEtcd({ endpoints: [etcd.url], dialTimeoutMs: 1000 });
});

after(async () => {
  client.close();
  await etcd.stop();
});

async function setup(name: string, options: { minWaitMs?: number; maxWaitMs?: number } = {}) {
  const layout = keyLayout(uniquePrefix(name));
  const store = new EtcdStateStore(client, layout);
  await store.applyBatch([
    { put: layout.vip('web'), value: vipRecord('web', '192.0.2.10', ['lb1']) },
    { put: layout.naming('web', 'h1', 80), value: namingRecord('h1', '10.0.0.1') },
    { put: layout.naming('web', 'h2', 80), value: namingRecord('h2', '10.0.0.2') },
  ]);
  const view = new EndpointView(store, layout);
  await view.start();
  const target = path.join(directory, `${name}.conf`);
  let reloads = 0;
  const renderer = new DebouncedRenderer({
    view, director: 'lb1', templateText: TEMPLATE, target, minWaitMs: options.minWaitMs ?? 200, maxWaitMs: options.maxWaitMs ?? 2000,
    write: { check: keepalivedCheck(), reload: async () => void reloads++ },
    status: { store, key: layout.status('lb1', 'render-keepalived') },
  });
  await renderer.start();
  const close = async () => {
    await renderer.stop();
    await view.close();
  };
  return { layout, store, view, renderer, target, reloads: () => reloads, read: () => readFileSync(target, 'utf8'), close };
}

const realServers = (text: string) => [...text.matchAll(/real_server (\S+) (\d+)/g)].map((match) => `${match[1]}:${match[2]}`);

test('the rendered config passes keepalived -t, its state is in status/, and identical input gives identical bytes', async () => {
  const first = await setup('check');
  try {
    assert.deepEqual(realServers(first.read()), ['10.0.0.1:80', '10.0.0.2:80']);
    execFileSync('keepalived', ['-t', '-f', first.target], { stdio: 'pipe' });
    const status = await first.store.getJson(first.layout.status('lb1', 'render-keepalived'), (value): value is { checksum: string; lastRenderRevision: string } => typeof value === 'object');
    assert.equal(status.entry?.value.checksum, first.renderer.status.checksum);
    assert.equal(status.entry?.value.lastRenderRevision, first.view.current('lb1').revision);
    // a second renderer over the same data: same bytes (the revision is in the header, so same etcd state)
    const again = new DebouncedRenderer({ view: first.view, director: 'lb1', templateText: TEMPLATE, target: `${first.target}.again` });
    await again.renderNow();
    assert.equal(readFileSync(`${first.target}.again`, 'utf8'), first.read());
  } finally {
    await first.close();
  }
});

test('an endpoint whose lease is revoked or expires while its agent lives leaves within TTL + debounce', async () => {
  const run = await setup('lease');
  try {
    // The agents are alive (an endpoint of a host whose agent is gone is kept: see render-inputs).
    for (const host of ['h3', 'h4']) await client.put(run.layout.agent(host)).value(JSON.stringify({ host }));
    const revoked = client.lease(2, { autoKeepAlive: false });
    await revoked.put(run.layout.naming('web', 'h3', 80)).value(JSON.stringify(namingRecord('h3', '10.0.0.3')));
    const expiring = client.lease(2, { autoKeepAlive: false });
    await expiring.put(run.layout.naming('web', 'h4', 80)).value(JSON.stringify(namingRecord('h4', '10.0.0.4')));
    await waitFor(() => realServers(run.read()).length === 4, 'both leased endpoints to be rendered');
    const started = Date.now();
    await revoked.revoke();
    await waitFor(() => !realServers(run.read()).includes('10.0.0.3:80'), 'the revoked endpoint to go', 2000);
    await waitFor(() => !realServers(run.read()).includes('10.0.0.4:80'), 'the expired endpoint to go', 2000 + 200 + 1500);
    assert.ok(Date.now() - started < 2000 + 200 + 1500);
    assert.deepEqual(realServers(run.read()), ['10.0.0.1:80', '10.0.0.2:80']);
  } finally {
    await run.close();
  }
});

test('100 endpoint changes within 1 s cause at most a few renders and reloads', async () => {
  const run = await setup('burst');
  try {
    const writesBefore = run.renderer.status.writes;
    const reloadsBefore = run.reloads();
    for (let index = 0; index < 100; index++) {
      const host = `b${index % 20}`;
      const key = run.layout.naming('web', host, 80);
      if (index < 20 || index % 3 !== 0) await client.put(key).value(JSON.stringify(namingRecord(host, `10.1.0.${index % 20}`)));
      else await client.delete().key(key);
      await new Promise((resolve) => setTimeout(resolve, 8));
    }
    await new Promise((resolve) => setTimeout(resolve, 800));
    const writes = run.renderer.status.writes - writesBefore;
    const reloads = run.reloads() - reloadsBefore;
    assert.ok(writes >= 1 && writes <= 3, `writes: ${writes}`);
    assert.ok(reloads <= writes, `reloads: ${reloads}`);
    execFileSync('keepalived', ['-t', '-f', run.target], { stdio: 'pipe' });
  } finally {
    await run.close();
  }
});

test('a removed VIP loses its block', async () => {
  const run = await setup('vip-removed');
  try {
    await run.store.applyBatch([{ put: run.layout.vip('api'), value: { ...vipRecord('api', '192.0.2.20', ['lb1']) } }, { put: run.layout.naming('api', 'h9', 80), value: namingRecord('h9', '10.0.0.9', 80, 'api') }]);
    await waitFor(() => run.read().includes('virtual_server 192.0.2.20 80'), 'the api block');
    await client.delete().key(run.layout.vip('api'));
    await waitFor(() => !run.read().includes('192.0.2.20'), 'the api block to go');
    assert.match(run.read(), /virtual_server 192\.0\.2\.10 80/);
  } finally {
    await run.close();
  }
});

test('etcd unreachable: the file stays byte-identical', async () => {
  const run = await setup('outage');
  try {
    const before = run.read();
    await etcd.kill();
    await waitFor(() => !run.view.connected, 'the view to notice', 15_000);
    await run.renderer.renderNow();
    await new Promise((resolve) => setTimeout(resolve, 2500));
    assert.equal(run.read(), before);
  } finally {
    await etcd.restart();
    await run.close();
  }
});

/** The render gate on plain data: a source whose store we can cut off, wipe and move at will. */
class FakeSource extends EventEmitter implements RenderSource {
  store: ViewFacts = { connected: true, revision: '10', syncCommit: 'c1', vipRecords: 1, namingRecords: 1, directors: new Set(['lb1']), liveAddresses: new Set<string>() };
  constructor(public data: RenderData) {
    super();
  }
  current(): RenderData {
    return this.data;
  }
  facts(): ViewFacts {
    return this.store;
  }
}

test('render gate: fail static when disconnected or wiped, and a lost last real server needs a commit or the flag', async () => {
  const vip = vipRecord('web', '192.0.2.10', ['lb1']);
  const service = (endpoints: RenderData['services'][number]['endpoints']) => ({ name: 'web', job: 'web', port: 'http', vip: vip.vip, directors: ['lb1'], endpoints });
  const full: RenderData = { director: 'lb1', commit: 'c1', revision: '10', services: [service([{ host: 'h1', ip: '10.0.0.1', port: 80, weight: 1, job: 'web' }])] };
  const empty: RenderData = { director: 'lb1', commit: 'c1', revision: '11', services: [service([])] };
  const source = new FakeSource(full);
  const target = path.join(directory, 'guard.conf');
  const renderer = new DebouncedRenderer({ view: source, director: 'lb1', templateText: TEMPLATE, target });
  await renderer.renderNow();
  const good = readFileSync(target, 'utf8');
  assert.match(good, /from commit c1, etcd revision 10\./);

  source.data = empty;
  source.store = { ...source.store, connected: false };
  assert.match((await renderer.renderNow()).heldReason ?? '', /unreachable/);
  assert.equal(readFileSync(target, 'utf8'), good);

  // a wipe: no sync/current, no VIP record, no host
  source.store = { connected: true, revision: '12', vipRecords: 0, namingRecords: 0, directors: new Set(), liveAddresses: new Set<string>() };
  source.data = { director: 'lb1', revision: '12', services: [] };
  assert.match((await renderer.renderNow()).heldReason ?? '', /no VIP record and no host/);
  assert.equal(readFileSync(target, 'utf8'), good);

  // back, same commit, but the job's only real server is missing: still recovering from the wipe
  source.store = { connected: true, revision: '13', syncCommit: 'c1', vipRecords: 1, namingRecords: 0, directors: new Set(['lb1']), liveAddresses: new Set<string>() };
  source.data = empty;
  const recovering = await renderer.renderNow();
  assert.equal(recovering.held, true);
  assert.equal(recovering.holds, 1, 'one hold, whatever its reasons, until a render is written');
  assert.match(recovering.heldReason ?? '', /does not show everything in the file again/);
  // a renderer that saw no wipe: the file's last real server going is still held (rule 2a)
  const restarted = await new DebouncedRenderer({ view: source, director: 'lb1', templateText: TEMPLATE, target }).renderNow();
  assert.match(restarted.heldReason ?? '', /all virtual servers of the file/);
  assert.equal(readFileSync(target, 'utf8'), good);

  const allowed = new DebouncedRenderer({ view: source, director: 'lb1', templateText: TEMPLATE, target, allowMassRemoval: true });
  const status = await allowed.renderNow();
  assert.equal(status.held, undefined);
  assert.deepEqual(realServers(readFileSync(target, 'utf8')), []);
});
