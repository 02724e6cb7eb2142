import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { removeDir, writeFleet } from '../fixtures/small-fleet.js';
import { runCli } from './run-cli.js';

const dir = writeFleet();
after(() => removeDir(dir));

describe('ygg hosts', () => {
  it('lists hosts with state, labels and placed jobs', async () => {
    const result = await runCli('hosts', '--repo', dir);
    assert.equal(result.code, 0, result.stderr);
    const rows = result.stdout.split('\n').map((line) => line.split(/\s{2,}/));
    assert.deepEqual(rows[0], ['HOST', 'IP', 'STATE', 'LABELS', 'INSTANCES', 'JOBS']);
    assert.deepEqual(rows.map((row) => row[0]), ['HOST', 'lvs-a1', 'web-a1', 'web-a2', 'web-b1', 'web-b2']);
    const spare = rows.find((row) => row[0] === 'web-b2')!;
    assert.deepEqual(spare.slice(2), ['spare', 'idc=b,rack=r1', '0', '-']);
    const instances = rows.slice(1).reduce((sum, row) => sum + Number(row[4]), 0);
    assert.equal(instances, 5);
  });

  it('filters by state and selector, as JSON', async () => {
    const result = await runCli('hosts', '--repo', dir, '--state', 'online', '--selector', 'idc=a', '--output', 'json');
    const hosts = JSON.parse(result.stdout);
    assert.deepEqual(hosts.map((host: { name: string }) => host.name), ['lvs-a1', 'web-a1', 'web-a2']);
    assert.deepEqual(hosts[1].treeNodes, ['cop.acme_owt.shop_pdl.web_cluster.prod']);
    assert.ok(hosts[1].jobs.includes('frontend'));
  });

  it('rejects a malformed selector', async () => {
    const result = await runCli('hosts', '--repo', dir, '--selector', 'idc');
    assert.equal(result.code, 2);
    assert.match(result.stderr, /--selector takes key=value pairs/);
  });
});
