import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { removeDir, writeFleet } from '../fixtures/small-fleet.js';
import { runCli } from './run-cli.js';

const dir = writeFleet();
after(() => removeDir(dir));

describe('ygg tree', () => {
  it('draws the tree derived from tags with counts', async () => {
    const result = await runCli('tree', '--repo', dir);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(
      result.stdout,
      [
        'cop.acme  jobs 2, hosts 4, instances 5',
        '└─ owt.shop  jobs 2, hosts 4, instances 5',
        '   └─ pdl.web  jobs 2, hosts 4, instances 5',
        '      └─ cluster.prod  jobs 2, hosts 4, instances 5  [4 host(s), owners: web-ops]',
        '         ├─ service.search  jobs 1, hosts 2, instances 2',
        '         │  └─ job.search  v2.1.0  2 instance(s) (replicas 2)',
        '         └─ service.www  jobs 1, hosts 3, instances 3',
        '            └─ job.frontend  v1.0.0  3 instance(s) (every host)  services: acme.shop.www',
      ].join('\n'),
    );
  });

  it('filters by tag glob, keeping ancestors for context', async () => {
    const result = await runCli('tree', '--repo', dir, '--match', '*_job.front*');
    assert.deepEqual(result.stdout.split('\n').map((line) => line.trim().split('  ')[0]), [
      'cop.acme',
      '└─ owt.shop',
      '└─ pdl.web',
      '└─ cluster.prod',
      '└─ service.www',
      '└─ job.frontend',
    ]);
    const none = await runCli('tree', '--repo', dir, '--match', 'cop.other');
    assert.equal(none.stdout, 'no node matches cop.other');
  });

  it('gives the tree as JSON', async () => {
    const [root] = JSON.parse((await runCli('tree', '--repo', dir, '-o', 'json')).stdout);
    assert.equal(root.tag, 'cop.acme');
    const cluster = root.children[0].children[0].children[0];
    assert.deepEqual([cluster.tag, cluster.owners, cluster.boundHosts], ['cop.acme_owt.shop_pdl.web_cluster.prod', ['web-ops'], 4]);
  });
});

describe('ygg tree on a folder that is no fleet', () => {
  it('with no YAML at all: the error says so, exit 1', async () => {
    const empty = mkdtempSync(path.join(tmpdir(), 'ygg-empty-'));
    after(() => removeDir(empty));
    const result = await runCli('tree', '--repo', empty);
    assert.equal(result.code, 1);
    assert.equal(result.stdout, '');
    assert.match(result.stderr, /^ygg\.yaml:1:1: no YAML files here: a fleet repo has ygg\.yaml with a Repo document/m);
    assert.doesNotMatch(result.stderr, /undefined/);
  });

  it('with only a Repo document: the tree is empty, said in words', async () => {
    const bare = writeFleet({ 'hosts.yaml': null, 'tree.yaml': null, 'jobs/frontend.yaml': null, 'jobs/search.yaml': null, 'services.yaml': null });
    after(() => removeDir(bare));
    const result = await runCli('tree', '--repo', bare);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, 'the service tree is empty: the repo declares no TreeNode and no Job');
  });
});
