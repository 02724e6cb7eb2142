import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { createGitFleet } from '../fixtures/git-fleet.js';
import { edit, removeDir, SMALL_FLEET } from '../fixtures/small-fleet.js';
import { runCli } from './run-cli.js';

const fleet = createGitFleet();
after(() => removeDir(fleet.dir));
const initial = fleet.commit('Mark lvs host', edit('hosts.yaml', 'labels: { idc: a } }', 'labels: { idc: a, role: lvs } }'));
const upgraded = fleet.commit('Upgrade frontend and move its port', {
  ...edit('jobs/frontend.yaml', 'version: 1.0.0', 'version: 1.1.0'),
});
// The edit helper works on the pristine fixture: apply both edits to it.
const both = fleet.commit('Keep 1.1.0', { 'jobs/frontend.yaml': edit('jobs/frontend.yaml', 'version: 1.0.0', 'version: 1.1.0')['jobs/frontend.yaml']!.replace('http: 8080', 'http: 8081') });
const broken = fleet.commit('Break it', edit('services.yaml', 'job: frontend', 'job: backend'));

describe('ygg plan between two commits', () => {
  it('lists version updates on every instance and the one value that changed, nothing else', async () => {
    const result = await runCli('plan', '--repo', fleet.dir, '--base', initial, '--head', upgraded);
    assert.equal(result.code, 0, result.stderr);
    const lines = result.stdout.split('\n');
    assert.equal(lines[0], `Plan ${initial.slice(0, 12)} → ${upgraded.slice(0, 12)}`);
    assert.equal(lines[1], 'Instances: 0 to add, 3 to update, 0 to remove. VIPs: 0 changed. Director configs: 0 to re-render.');
    assert.deepEqual(lines.slice(3), [
      '~ frontend on web-a1: 1.0.0 → 1.1.0; changed version',
      '~ frontend on web-a2: 1.0.0 → 1.1.0; changed version',
      '~ frontend on web-b1: 1.0.0 → 1.1.0; changed version',
      '',
      '== Changed values',
      '',
      'frontend (1 value)',
      '~ version: 1.0.0 → 1.1.0',
    ]);
  });

  it('shows rendered config diffs once for all hosts and the director config that changes', async () => {
    const result = await runCli('plan', '--repo', fleet.dir, '--base', upgraded, '--head', both, '--format', 'markdown');
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^### ygg plan /);
    assert.match(result.stdout, /^~ frontend on web-a1: changed command, ports, configs$/m);
    assert.match(result.stdout, /-listen: 10\.0\.0\.1:8080\n\+listen: 10\.0\.0\.1:8081/);
    assert.match(result.stdout, /~ director lvs-a1: keepalived.conf changes \(acme\.shop\.www\)/);
    assert.match(result.stdout, /<details><summary>frontend: config diff on web-a1<\/summary>/);
  });

  it('gives the plan as JSON', async () => {
    const result = await runCli('plan', '--repo', fleet.dir, '--base', upgraded, '--head', both, '--output', 'json');
    const plan = JSON.parse(result.stdout);
    assert.equal(plan.head, both);
    assert.equal(plan.summary['instance.update'], 3);
    assert.equal(plan.summary['director.update'], 1);
    const update = plan.actions.find((action: { type: string; host: string }) => action.type === 'instance.update' && action.host === 'web-b1');
    assert.deepEqual(update.changes, ['command', 'ports', 'configs']);
    assert.equal(update.configDiffs[0].path, 'conf/app.yaml');
  });

  it('plans a first commit against an empty fleet', async () => {
    const result = await runCli('plan', '--repo', fleet.dir, '--base', 'none', '--head', initial, '--output', 'json');
    const plan = JSON.parse(result.stdout);
    assert.equal(plan.base, null);
    assert.equal(plan.summary['instance.add'], 5); // frontend on 3 online hosts, search replicas 2
    assert.equal(plan.summary['vip.add'], 1);
  });

  it('refuses an invalid head with its findings (exit 1)', async () => {
    const result = await runCli('plan', '--repo', fleet.dir, '--head', broken);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^services\.yaml:5:8: unknown job "backend"/m);
    assert.match(result.stderr, /nothing can be planned/);
    assert.equal(result.stdout, '');
  });

  it('rejects an unknown ref (exit 2)', async () => {
    const result = await runCli('plan', '--repo', fleet.dir, '--base', 'nope');
    assert.equal(result.code, 2);
    assert.match(result.stderr, /git ref "nope" not found/);
  });
});

describe('ygg plan --format markdown for a pull request', () => {
  const dnsFleet = createGitFleet();
  after(() => removeDir(dnsFleet.dir));
  const zone = dnsFleet.commit('Publish the shop in DNS', {
    'zone.yaml': 'apiVersion: ygg/v1\nkind: Zone\nmetadata: { name: svc.acme.test }\nspec:\n  nameServers: [{ name: ns1.svc.acme.test, addresses: [10.0.9.53] }]\n  publish: [{ service: "acme.shop.*", name: "*" }]\n',
  });
  const service = dnsFleet.commit('Name the search service', {
    'services.yaml': `${SMALL_FLEET['services.yaml']}---\napiVersion: ygg/v1\nkind: Service\nmetadata: { name: acme.shop.search }\nspec: { job: search, port: http }\n`,
    ...edit('jobs/frontend.yaml', 'env: { MODE: production }', 'env: { MODE: staging, SESSION_SECRET: hunter2 }'),
  });

  it('shows the zone diff of an added service, the changed values with the secret masked, and says endpoints are assumed live', async () => {
    const result = await runCli('plan', '--repo', dnsFleet.dir, '--base', zone, '--head', service, '--format', 'markdown');
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /<details open><summary>frontend \(2 values\)<\/summary>\n\n```diff\n~ env\.MODE: production → staging\n\+ env\.SESSION_SECRET: ••••\n```/);
    assert.ok(!result.stdout.includes('hunter2'));
    assert.match(result.stdout, /#### Zone files\n\nEndpoints as placement puts them: every placed instance's host ip:port counts as live\./);
    assert.match(result.stdout, /^\+search IN A 10\.0\.0\.2\n\+search IN A 10\.0\.1\.1$/m);
  });
});
