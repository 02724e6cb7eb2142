import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { createEtcdClient } from '../../src/store/etcd-connection.js';
import { keyLayout } from '../../src/store/keys.js';
import type { SyncHistoryRecord } from '../../src/store/records.js';
import { EtcdStateStore } from '../../src/store/state-store.js';
import { sharedEtcd, uniquePrefix } from '../fixtures/etcd-server.js';
import { createGitFleet } from '../fixtures/git-fleet.js';
import { edit, removeDir } from '../fixtures/small-fleet.js';
import { runCli } from './run-cli.js';

const fleet = createGitFleet();
after(() => removeDir(fleet.dir));
const bump = fleet.commit('Search 2.2.0', edit('jobs/search.yaml', 'version: 2.1.0', 'version: 2.2.0'), 'Bob Dev <bob@example.com>');
fleet.commit('Frontend env', edit('jobs/frontend.yaml', 'MODE: production', 'MODE: canary'), 'Carol Ops <carol@example.com>');
const unbind = fleet.commit('Take web-b2 out of the web cluster', edit('tree.yaml', ', web-b2]', ']'), 'Dave Ops <dave@example.com>');
// Moving a document to another file is not a change of the document.
fleet.commit('Move search', { 'jobs/search.yaml': null, 'jobs/search-moved.yaml': edit('jobs/search.yaml', 'version: 2.1.0', 'version: 2.2.0')['jobs/search.yaml']! });

describe('ygg history', () => {
  it('lists the commits that changed a job, with author and field changes', async () => {
    const result = await runCli('history', '--repo', fleet.dir, '--job', 'search');
    assert.equal(result.code, 0, result.stderr);
    const lines = result.stdout.split('\n');
    assert.equal(lines.length, 4);
    assert.match(lines[0]!, new RegExp(`^${bump.slice(0, 10)}  \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d  Bob Dev <bob@example.com>  Search 2.2.0$`));
    assert.equal(lines[1], '    Job search: spec.version 2.1.0 → 2.2.0');
    assert.match(lines[2]!, /Alice Ops <alice@example.com>  Initial fleet$/);
    assert.equal(lines[3], '    Job added: search');
  });

  it('lists changes to a host, including tree nodes that unbind it', async () => {
    const result = await runCli('history', '--repo', fleet.dir, '--host', 'web-b2', '--output', 'json');
    const entries = JSON.parse(result.stdout);
    assert.deepEqual(entries.map((entry: { sha: string }) => entry.sha), [unbind, entries[1].sha]);
    assert.equal(entries[0].author, 'Dave Ops');
    assert.deepEqual(entries[0].changes[0].kind, 'TreeNode');
    assert.deepEqual(entries[0].changes[0].fields.map((field: { field: string }) => field.field), ['spec.hosts']);
    assert.equal(entries[1].message, 'Initial fleet');
  });

  it('limits the number of commits', async () => {
    const result = await runCli('history', '--repo', fleet.dir, '--limit', '2');
    assert.equal(result.stdout.split('\n').filter((line) => !line.startsWith(' ')).length, 2);
  });
});

describe('ygg history --etcd', () => {
  it('says "rejected", not "applied", for the audit record of a rejected commit', async () => {
    const etcd = await sharedEtcd();
    const prefix = uniquePrefix('history-audit');
    const layout = keyLayout(prefix);
    const store = new EtcdStateStore(createEtcdClient({ endpoints: [etcd.url] }), layout);
    try {
      const commit = { sha: unbind, author: 'Dave Ops', email: 'dave@example.com', message: 'Take web-b2 out of the web cluster', timestamp: 0 };
      const audit = (time: string, outcome: SyncHistoryRecord['outcome']): SyncHistoryRecord => ({ commit, time, trigger: 'poll', actions: [], outcome });
      await store.applyBatch([
        { put: layout.syncHistory(new Date('2026-01-01T00:00:00Z'), unbind), value: audit('2026-01-01T00:00:00.000Z', 'Rejected') },
        { put: layout.syncHistory(new Date('2026-01-01T00:01:00Z'), unbind), value: audit('2026-01-01T00:01:00.000Z', 'Synced') },
      ]);
      const result = await runCli('history', '--repo', fleet.dir, '--limit', '2', '--etcd', etcd.url, '--etcd-prefix', prefix);
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /^ {4}rejected 2026-01-01T00:00:00\.000Z \(poll\): 0 action\(s\), Rejected$/m);
      assert.match(result.stdout, /^ {4}applied 2026-01-01T00:01:00\.000Z \(poll\): 0 action\(s\), Synced$/m);
    } finally {
      store.client.close();
      await etcd.stop();
    }
  });
});

describe('ygg history on hostile commits', () => {
  it('a YAML alias bomb changed across commits is read within the loader’s bounds: no stall, no crash', async () => {
    const levels = ['a: &a [x, x, x, x, x, x, x, x, x]'];
    for (let level = 1; level < 9; level++) {
      const [name, previous] = [String.fromCharCode(97 + level), String.fromCharCode(96 + level)];
      levels.push(`${name}: &${name} [${Array.from({ length: 9 }, () => `*${previous}`).join(', ')}]`);
    }
    const bomb = (first: string) => `kind: Job\nmetadata: { name: boom }\n${levels.join('\n').replace('[x,', `[${first},`)}\n`;
    const hostile = createGitFleet();
    try {
      hostile.commit('Bomb', { 'jobs/boom.yaml': bomb('x') });
      hostile.commit('Bomb again', { 'jobs/boom.yaml': bomb('y') });
      const started = Date.now();
      const result = await runCli('history', '--repo', hostile.dir, '--limit', '3');
      assert.equal(result.code, 0, result.stderr);
      assert.ok(Date.now() - started < 10_000, `took ${Date.now() - started} ms`);
      assert.match(result.stdout, /Initial fleet/);
    } finally {
      removeDir(hostile.dir);
    }
  });
});
