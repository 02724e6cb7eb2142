// Strings from git and etcd reach the operator's terminal as text, never as escape sequences: a
// commit message, an author, a value written into etcd by hand, a file name in a finding.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connectEtcd } from '../../src/store/etcd-connection.js';
import { keyLayout } from '../../src/store/keys.js';
import type { NamingRecord } from '../../src/store/records.js';
import { EtcdStateStore } from '../../src/store/state-store.js';
import { reconcileNow, startInProcess, type InProcessController } from '../fixtures/controller-harness.js';
import { sharedEtcd, uniquePrefix, type SharedEtcd } from '../fixtures/etcd-server.js';
import { createGitFleet } from '../fixtures/git-fleet.js';
import { edit, removeDir, writeFleet } from '../fixtures/small-fleet.js';
import { runCli } from './run-cli.js';
import { runYgg } from './ygg-process.js';

/** What a terminal would act on: C0 controls but newline and tab, DEL, C1, bidi overrides. */
const RAW_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;
const MESSAGE = '\x1b[31mred\x1b[0m\x1b]0;pwned\x07 \u202eevil';
const AUTHOR = 'Mal\x1b[2Jlory <mallory@example.com>';

const fleet = createGitFleet();
const hostile = fleet.commit(`${MESSAGE}\n\nbody \x1b[5m`, edit('jobs/search.yaml', 'version: 2.1.0', 'version: 2.2.0'), AUTHOR);
const prefix = uniquePrefix('hostile');
let etcd: SharedEtcd;
let controller: InProcessController;
const etcdFlags = () => ['--etcd', etcd.url, '--etcd-prefix', prefix];

before(async () => {
  etcd = await sharedEtcd();
  controller = await startInProcess({ repo: fleet.dir, etcdPrefix: prefix, etcdUrl: etcd.url });
  await reconcileNow(controller);
  const client = await connectEtcd({ endpoints: [etcd.url] });
  const layout = keyLayout(prefix);
  const record: NamingRecord = { ip: '10.0.0.1', port: 8080, weight: 1, host: 'web-a1\x1b[8m', job: 'frontend\x1b]8;;http://evil\x07', specHash: 'abc\x1b[2J' };
  await new EtcdStateStore(client, layout).applyBatch([{ put: layout.naming('www', 'web-a1', 8080), value: record }]);
  client.close();
});

after(async () => {
  await controller.close();
  await etcd.stop();
  removeDir(fleet.dir);
});

describe('printed text carries no control characters from git or etcd', () => {
  it('status, as a real process: the commit message shows escaped', async () => {
    const result = await runYgg(['status', ...etcdFlags()]);
    assert.doesNotMatch(result.stdout + result.stderr, RAW_CONTROL);
    assert.ok(result.stdout.includes(`${hostile.slice(0, 12)} "\\u001b[31mred\\u001b[0m\\u001b]0;pwned\\u0007 \\u202eevil" by Mal\\u001b[2Jlory`), result.stdout);
  });

  it('status --output json stays faithful JSON', async () => {
    const result = await runYgg(['status', '--output', 'json', ...etcdFlags()]);
    assert.doesNotMatch(result.stdout, RAW_CONTROL);
    const status = JSON.parse(result.stdout) as { commit: { message: string; author: string } };
    assert.equal(status.commit.message, MESSAGE);
    assert.equal(status.commit.author, 'Mal\x1b[2Jlory');
  });

  it('history and blame', async () => {
    const history = await runCli('history', '--repo', fleet.dir, '--limit', '1');
    assert.equal(history.code, 0, history.stderr);
    assert.doesNotMatch(history.stdout, RAW_CONTROL);
    assert.match(history.stdout, /Mal\\u001b\[2Jlory <mallory@example\.com>  \\u001b\[31mred/);
    const blame = await runCli('blame', 'web-a1/frontend', '--repo', fleet.dir, ...etcdFlags());
    assert.equal(blame.code, 0, blame.stderr);
    assert.doesNotMatch(blame.stdout, RAW_CONTROL);
    assert.match(blame.stdout, /message \\u001b\[31mred/);
  });

  it('resolve: values written into etcd by hand', async () => {
    const result = await runCli('resolve', 'www', ...etcdFlags());
    assert.equal(result.code, 0, result.stderr);
    assert.doesNotMatch(result.stdout, RAW_CONTROL);
    assert.match(result.stdout, /web-a1\\u001b\[8m\s+frontend\\u001b\]8;;http:\/\/evil\\u0007/);
  });

  it('validate: a file name and a value in a finding', async () => {
    const dir = writeFleet({ 'jobs/search.yaml': null });
    try {
      mkdirSync(path.join(dir, 'jobs'), { recursive: true });
      writeFileSync(path.join(dir, 'jobs', 'x\x1b[2J.yaml'), 'apiVersion: ygg/v1\nkind: Job\nmetadata: { name: "bad\x1b[31m" }\n');
      const result = await runCli('validate', '--repo', dir);
      assert.equal(result.code, 1);
      assert.doesNotMatch(result.stdout + result.stderr, RAW_CONTROL);
      assert.match(result.stdout, /^jobs\/x\\u001b\[2J\.yaml:/m);
    } finally {
      removeDir(dir);
    }
  });
});
