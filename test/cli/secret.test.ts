import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { connectEtcd } from '../../src/store/etcd-connection.js';
import { keyLayout } from '../../src/store/keys.js';
import { secretKeys } from '../../src/store/secret-store.js';
import { EtcdStateStore } from '../../src/store/state-store.js';
import { sharedEtcd, uniquePrefix, type SharedEtcd } from '../fixtures/etcd-server.js';
import { runCli } from './run-cli.js';

let etcd: SharedEtcd;
let dir: string;
const prefix = uniquePrefix('secret-cli');
const flags = () => ['--etcd', etcd.url, '--etcd-prefix', prefix];
const VALUE = 'hunter2-0b7c1f';

before(async () => {
  etcd = await sharedEtcd();
  dir = await mkdtemp(path.join(tmpdir(), 'ygg-secret-cli-'));
  await writeFile(path.join(dir, 'value'), VALUE);
  await writeFile(path.join(dir, 'empty'), '');
});

after(async () => {
  await etcd.stop();
});

test('set stores the value outside the fleet prefix and counts versions; list shows names and versions, never values', async () => {
  const first = await runCli('secret', 'set', 'db-password', '--from-file', path.join(dir, 'value'), ...flags());
  assert.equal(first.code, 0, first.stderr);
  assert.equal(first.stdout, 'secret db-password: version 1');
  assert.equal((await runCli('secret', 'set', 'db-password', '--from-file', path.join(dir, 'value'), ...flags())).stdout, 'secret db-password: version 2');

  const client = await connectEtcd({ endpoints: [etcd.url] });
  try {
    const keys = secretKeys(keyLayout(prefix).prefix);
    assert.equal(keys.prefix, `${prefix}-secrets/`);
    assert.equal(await client.get(keys.value('db-password')).string(), VALUE);
    assert.equal(await client.getAll().prefix(keyLayout(prefix).prefix).count(), 0, 'nothing under the fleet prefix');
    // an assignment in force that references the secret makes it "used"
    const layout = keyLayout(prefix);
    const spec = { version: '1', artifact: { sha256: 'a'.repeat(64), url: 'http://x/a.tgz' }, command: ['x'], env: {}, ports: {}, configs: [], dependencies: [], cron: [], rollout: { maxParallel: 1, minHealthySeconds: 0, autoRevert: false }, secretVersions: { 'db-password': { version: 2, revision: '1' } } };
    await new EtcdStateStore(client, layout).applyBatch([{ put: layout.assignment('h1', 'api'), value: { job: 'api', tag: 't', host: { name: 'h1', ip: '127.0.0.1', labels: {} }, spec, specHash: 'b'.repeat(64), commit: 'c', assignedAt: 'now' } }]);
  } finally {
    client.close();
  }

  const listed = await runCli('secret', 'list', '--output', 'json', ...flags());
  assert.equal(listed.code, 0, listed.stderr);
  const { secrets } = JSON.parse(listed.stdout) as { secrets: { name: string; version: number; jobs: string[] }[] };
  assert.deepEqual(secrets.map(({ name, version, jobs }) => ({ name, version, jobs })), [{ name: 'db-password', version: 2, jobs: ['api'] }]);
  const text = await runCli('secret', 'list', ...flags());
  assert.match(text.stdout, /^db-password\s+2\s+\S+\s+api$/m);
  assert.ok(!text.stdout.includes(VALUE) && !listed.stdout.includes(VALUE));

  const refused = await runCli('secret', 'rm', 'db-password', ...flags());
  assert.equal(refused.code, 1);
  assert.equal(refused.stderr, 'secret db-password is used by api: remove the references from the repo first, or pass --force');
  const forced = await runCli('secret', 'rm', 'db-password', '--force', ...flags());
  assert.equal(forced.code, 0, forced.stderr);
  assert.equal((await runCli('secret', 'rm', 'db-password', '--force', ...flags())).stderr, 'secret db-password does not exist');
});

test('set refuses an empty file, a value on the command line and a bad name, each in one line', async () => {
  const empty = await runCli('secret', 'set', 'api-token', '--from-file', path.join(dir, 'empty'), ...flags());
  assert.equal(empty.code, 1);
  assert.equal(empty.stderr.split('\n')[0], `ygg secret: secret api-token: ${path.join(dir, 'empty')} is empty, nothing set`);
  const noFile = await runCli('secret', 'set', 'api-token', ...flags());
  assert.equal(noFile.code, 2);
  assert.match(noFile.stderr, /needs --from-file FILE/);
  const argv = await runCli('secret', 'set', 'api-token', 'the-value', ...flags());
  assert.equal(argv.code, 2);
  assert.match(argv.stderr, /unexpected argument: a value is never taken from the command line/);
  assert.doesNotMatch(argv.stderr, /the-value/, 'a value typed on the command line is not echoed back');
  const badName = await runCli('secret', 'set', 'Bad/Name', '--from-file', path.join(dir, 'value'), ...flags());
  assert.equal(badName.code, 2);
  assert.match(badName.stderr, /secret name "Bad\/Name" is invalid/);
  const help = await runCli('secret', '--help');
  assert.equal(help.code, 0);
  assert.match(help.stdout, /--from-file FILE/);
});
