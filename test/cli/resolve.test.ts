import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { connectEtcd } from '../../src/store/etcd-connection.js';
import { keyLayout } from '../../src/store/keys.js';
import type { NamingRecord } from '../../src/store/records.js';
import { EtcdStateStore } from '../../src/store/state-store.js';
import { sharedEtcd, uniquePrefix, type SharedEtcd } from '../fixtures/etcd-server.js';
import { runCli } from './run-cli.js';

let etcd: SharedEtcd;
const prefix = uniquePrefix('resolve');

const endpoint = (host: string, ip: string, port: number): NamingRecord => ({ ip, port, weight: 1, host, job: 'web', specHash: `hash-${host}-${port}` });

before(async () => {
  etcd = await sharedEtcd();
  const client = await connectEtcd({ endpoints: [etcd.url] });
  const layout = keyLayout(prefix);
  const records = [endpoint('h10', '10.0.0.10', 8080), endpoint('h9', '10.0.0.9', 8081), endpoint('h9', '10.0.0.9', 8080), endpoint('h2', '10.0.0.2', 9000)];
  await new EtcdStateStore(client, layout).applyBatch([
    ...records.map((record) => ({ put: layout.naming('web', record.host, record.port), value: record })),
    { put: layout.naming('web-other', 'h1', 1), value: endpoint('h1', '10.9.9.9', 1) },
  ]);
  client.close();
});

after(async () => {
  await etcd.stop();
});

test('resolve prints the live endpoints sorted by ip then port', async () => {
  const result = await runCli('resolve', 'web', '--etcd', etcd.url, '--etcd-prefix', prefix);
  assert.equal(result.code, 0, result.stderr);
  const lines = result.stdout.split('\n');
  assert.match(lines[0]!, /^ENDPOINT\s+HOST\s+JOB\s+SPEC$/);
  assert.deepEqual(
    lines.slice(1).map((line) => line.split(/\s+/).slice(0, 3).join(' ')),
    ['10.0.0.2:9000 h2 web', '10.0.0.9:8080 h9 web', '10.0.0.9:8081 h9 web', '10.0.0.10:8080 h10 web'],
  );
});

test('resolve --output json gives address, host, job and specHash', async () => {
  const result = await runCli('resolve', 'web', '--etcd', etcd.url, '--etcd-prefix', prefix, '--output', 'json');
  assert.equal(result.code, 0, result.stderr);
  const parsed = JSON.parse(result.stdout) as { service: string; endpoints: { address: string; host: string; job: string; specHash: string }[] };
  assert.equal(parsed.service, 'web');
  assert.deepEqual(parsed.endpoints.map((entry) => entry.address), ['10.0.0.2:9000', '10.0.0.9:8080', '10.0.0.9:8081', '10.0.0.10:8080']);
  assert.deepEqual(parsed.endpoints[0], { address: '10.0.0.2:9000', ip: '10.0.0.2', port: 9000, host: 'h2', job: 'web', specHash: 'hash-h2-9000', weight: 1 });
});

test('resolve exits 1 for a service without endpoints', async () => {
  const result = await runCli('resolve', 'nope', '--etcd', etcd.url, '--etcd-prefix', prefix);
  assert.equal(result.code, 1);
  assert.match(result.stderr, /no live endpoint/);
  const json = await runCli('resolve', 'nope', '--etcd', etcd.url, '--etcd-prefix', prefix, '--output', 'json');
  assert.equal(json.code, 1);
  assert.deepEqual(JSON.parse(json.stdout), { service: 'nope', endpoints: [] });
});

test('resolve without SERVICE is a usage error', async () => {
  const result = await runCli('resolve', '--etcd', etcd.url);
  assert.equal(result.code, 2);
});
