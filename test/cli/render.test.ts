import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { keyLayout } from '../../src/store/keys.js';
import { EtcdStateStore } from '../../src/store/state-store.js';
import { uniquePrefix, useSharedEtcd } from '../fixtures/etcd-server.js';
import { hostRecord, namingRecord, syncCurrentRecord, vipRecord } from '../render/render-records.js';
import { runCli } from './run-cli.js';
import { runYgg } from './ygg-process.js';

const directory = mkdtempSync(path.join(os.tmpdir(), 'ygg-cli-render-'));
const etcd = useSharedEtcd();

async function fleet(name: string, director: string, hosts: readonly string[], endpoints: number) {
  const prefix = uniquePrefix(name);
  const layout = keyLayout(prefix);
  const store = new EtcdStateStore(etcd.client, layout);
  await store.applyBatch([
    { put: layout.vip('web'), value: vipRecord('web', '192.0.2.10', [director]) },
    { put: layout.syncCurrent, value: syncCurrentRecord('c1') },
    ...hosts.map((host) => ({ put: `${layout.prefix}hosts/${host}`, value: hostRecord(host, '10.0.9.1') })),
    ...Array.from({ length: endpoints }, (_, index) => ({ put: layout.naming('web', `h${index + 1}`, 80), value: namingRecord(`h${index + 1}`, `10.0.0.${index + 1}`) })),
  ]);
  const target = path.join(directory, `${name}.conf`);
  const render = (...flags: string[]) => runCli('render', 'keepalived', '--etcd', etcd.url, '--etcd-prefix', prefix, '--out', target, '--once', '--reload', 'true', '--log-level', 'error', ...flags);
  return { layout, store, target, render, prefix };
}

const realServers = (text: string) => [...text.matchAll(/^\s+real_server (\S+) (\d+)/gm)].map((match) => `${match[1]}:${match[2]}`);

test('a director nobody names is exit 1 with the known directors, closest first, and the file is not touched', async () => {
  const run = await fleet('typo', 'c3-lvs-01', ['a1-lvs-01', 'c3-lvs-02'], 2);
  const good = await run.render('--director', 'c3-lvs-01');
  assert.equal(good.code, 0, good.stderr);
  const before = readFileSync(run.target);
  assert.match(before.toString(), /^virtual_server 192\.0\.2\.10 80 \{$/m);
  execFileSync('keepalived', ['-t', '-f', run.target], { stdio: 'pipe' });

  const typo = await run.render('--director', 'c3-lvs01');
  assert.equal(typo.code, 1);
  assert.match(typo.stderr, /unknown director "c3-lvs01" \(did you mean c3-lvs-01\?\).*known directors: c3-lvs-01, a1-lvs-01, c3-lvs-02$/m);
  assert.ok(readFileSync(run.target).equals(before), 'byte-identical');

  // Running as a service (no --once) it does not wait for ever on a director that will never render.
  const service = await runYgg(['render', 'keepalived', '--etcd', etcd.url, '--etcd-prefix', run.prefix, '--out', run.target, '--director', 'c3-lvs01', '--reload', 'true', '--log-level', 'error'], { timeoutMs: 20_000 });
  assert.equal(service.code, 1, `still running after ${service.elapsedMs} ms`);
  assert.match(service.stderr, /^ygg render: unknown director "c3-lvs01" \(did you mean c3-lvs-01\?\)/m);
  assert.ok(readFileSync(run.target).equals(before), 'byte-identical');
});

test('most real servers vanishing at once is held (exit 1, file untouched); --allow-mass-removal applies it', async () => {
  const run = await fleet('mass', 'lb1', [], 4);
  assert.equal((await run.render('--director', 'lb1')).code, 0);
  const before = readFileSync(run.target);
  assert.deepEqual(realServers(before.toString()), ['10.0.0.1:80', '10.0.0.2:80', '10.0.0.3:80', '10.0.0.4:80']);
  await run.store.applyBatch([2, 3, 4].map((index) => ({ delete: run.layout.naming('web', `h${index}`, 80) })));

  const held = await run.render('--director', 'lb1');
  assert.equal(held.code, 1);
  assert.match(held.stderr, /held, .* not changed: .*remove 3 of 4 real servers \(75% > 50%\)/);
  assert.ok(readFileSync(run.target).equals(before), 'byte-identical');

  const allowed = await run.render('--director', 'lb1', '--allow-mass-removal');
  assert.equal(allowed.code, 0, allowed.stderr);
  assert.deepEqual(realServers(readFileSync(run.target, 'utf8')), ['10.0.0.1:80']);
  execFileSync('keepalived', ['-t', '-f', run.target], { stdio: 'pipe' });
});

test('--max-removed-percent is a number from 0 to 100', async () => {
  const result = await runCli('render', 'keepalived', '--director', 'lb1', '--out', path.join(directory, 'never.conf'), '--max-removed-percent', 'lots');
  assert.equal(result.code, 2);
  assert.match(result.stderr, /--max-removed-percent must be a number from 0 to 100, got "lots"/);
});
