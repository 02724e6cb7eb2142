import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { promtoolCheck } from '../../src/render/check-commands.js';
import { AGENTS_GROUP, renderTargets, targetGroups, targetsInventory } from '../../src/render/prometheus-targets.js';
import { PROMETHEUS_FORMAT } from '../../src/render/render-formats.js';
import { judgeRender } from '../../src/render/render-gate.js';
import { RenderInputs } from '../../src/render/render-inputs.js';
import { RenderCheckError } from '../../src/render/render-errors.js';
import { hostRecord, namingRecord, syncCurrentRecord, vipRecord } from './render-records.js';

const WEB_TAG = 'cop.acme_owt.shop_pdl.web_cluster.prod_service.www_job.web';
const API_TAG = 'cop.acme_owt.shop_pdl.web_cluster.prod_servicegroup.edge_service.api_job.api';

/** Two hosts in idc lg, web on both (named by two Services), api on h2, agents on both. */
function fleetInputs(): RenderInputs {
  const inputs = new RenderInputs();
  inputs.put('sync/current', syncCurrentRecord('c9'));
  inputs.put('hosts/h1', { ...hostRecord('h1', '10.0.0.1'), labels: { idc: 'lg', rack: 'r1' } });
  inputs.put('hosts/h2', { ...hostRecord('h2', '10.0.0.2'), labels: { idc: 'lg' } });
  inputs.put('vips/www', vipRecord('www', '192.0.2.10', ['lb1']));
  for (const service of ['www', 'www-internal']) {
    inputs.put(`naming/${service}/h1:8080`, { ...namingRecord('h1', '10.0.0.1', 8080, 'web'), tag: WEB_TAG });
    inputs.put(`naming/${service}/h2:8080`, { ...namingRecord('h2', '10.0.0.2', 8080, 'web'), tag: WEB_TAG });
  }
  inputs.put('naming/api/h2:9000', { ...namingRecord('h2', '10.0.0.2', 9000, 'api'), tag: API_TAG });
  inputs.put('agents/h1', { host: 'h1', metricsAddress: '10.0.0.1:9102' });
  // listening on every address: the target is the Host's ip
  inputs.put('agents/h2', { host: 'h2', metricsAddress: '0.0.0.0:9102' });
  return inputs;
}

test('one group per instance endpoint and per agent, labelled by tree levels, host and idc; a header group with no targets', () => {
  const groups = targetGroups(fleetInputs().current(undefined, '42'));
  assert.deepEqual(groups, [
    { targets: [], labels: { __meta_ygg_commit: 'c9', __meta_ygg_revision: '42' } },
    {
      targets: ['10.0.0.2:9000'],
      labels: { __meta_ygg_services: 'api', __meta_ygg_target: 'instance', cluster: 'prod', cop: 'acme', host: 'h2', idc: 'lg', job: 'api', owt: 'shop', pdl: 'web', service: 'api', servicegroup: 'edge' },
    },
    ...['h1', 'h2'].map((host, index) => ({
      targets: [`10.0.0.${index + 1}:8080`],
      labels: { __meta_ygg_services: 'www,www-internal', __meta_ygg_target: 'instance', cluster: 'prod', cop: 'acme', host, idc: 'lg', job: 'web', owt: 'shop', pdl: 'web', service: 'www' },
    })),
    { targets: ['10.0.0.1:9102'], labels: { __meta_ygg_target: 'agent', host: 'h1', idc: 'lg' } },
    { targets: ['10.0.0.2:9102'], labels: { __meta_ygg_target: 'agent', host: 'h2', idc: 'lg' } },
  ]);
});

test('an endpoint without a tag (an older agent) is labelled by job and host; IPv6 targets are bracketed; an agent without an address is no target', () => {
  const inputs = new RenderInputs();
  inputs.put('hosts/v6', { ...hostRecord('v6', '2001:db8::6'), labels: {} });
  inputs.put('hosts/quiet', hostRecord('quiet', '10.0.0.9'));
  inputs.put('naming/web/v6:80', namingRecord('v6', '2001:db8::6', 80, 'web'));
  inputs.put('agents/v6', { host: 'v6', metricsAddress: '[::]:9102' });
  inputs.put('agents/quiet', { host: 'quiet' });
  const groups = targetGroups(inputs.current(undefined, '1')).slice(1);
  assert.deepEqual(groups, [
    { targets: ['[2001:db8::6]:80'], labels: { __meta_ygg_services: 'web', __meta_ygg_target: 'instance', host: 'v6', job: 'web' } },
    { targets: ['[2001:db8::6]:9102'], labels: { __meta_ygg_target: 'agent', host: 'v6' } },
  ]);
});

test("a dead agent stays a target (so Prometheus sees it down) until its host leaves the fleet; a new address is a change", () => {
  const inputs = fleetInputs();
  const agents = () => (inputs.current(undefined, '1').hosts ?? []).map((host) => [host.name, host.metricsAddress]);
  inputs.remove('agents/h1', '10');
  assert.deepEqual(agents(), [['h1', '10.0.0.1:9102'], ['h2', '0.0.0.0:9102']]);
  const version = inputs.version;
  inputs.put('agents/h1', { host: 'h1', metricsAddress: '10.0.0.1:9200' });
  assert.ok(inputs.version > version);
  const refreshed = inputs.version;
  inputs.put('agents/h1', { host: 'h1', metricsAddress: '10.0.0.1:9200', updatedAt: 'later' });
  assert.equal(inputs.version, refreshed, 'refreshed facts are no change');
  inputs.remove('hosts/h1', '11');
  assert.deepEqual(agents(), [['h2', '0.0.0.0:9102']]);
});

test('the file read back: jobs and the agents as groups, their targets as members, the header commit and revision', () => {
  const text = renderTargets(fleetInputs().current(undefined, '42'));
  const inventory = targetsInventory(text);
  assert.equal(inventory.commit, 'c9');
  assert.equal(inventory.revision, '42');
  assert.deepEqual(Object.fromEntries([...inventory.groups].map(([group, members]) => [group, [...members]])), {
    api: ['10.0.0.2:9000'],
    web: ['10.0.0.1:8080', '10.0.0.2:8080'],
    [AGENTS_GROUP]: ['10.0.0.1:9102', '10.0.0.2:9102'],
  });
  assert.deepEqual(targetsInventory('not json').groups.size, 0);
  assert.deepEqual(targetsInventory('{"targets": []}').groups.size, 0);
});

test('the render gate holds a target file whose store looks wiped', () => {
  const before = fleetInputs().current(undefined, '42');
  const wiped = new RenderInputs().current(undefined, '3');
  const verdict = judgeRender({
    reference: PROMETHEUS_FORMAT.inventory(PROMETHEUS_FORMAT.render('', before, '')),
    proposed: PROMETHEUS_FORMAT.inventory(PROMETHEUS_FORMAT.render('', wiped, '')),
    declared: PROMETHEUS_FORMAT.declaredGroups(wiped),
    store: { connected: true, revision: '3', sourceRecords: 0 },
    nouns: PROMETHEUS_FORMAT.nouns,
  });
  assert.equal(verdict.write, false);
  assert.match(verdict.write ? '' : verdict.reason, /would remove 5 targets and sync\/current is missing while the file names commit c9; etcd holds none of the records/);
});

test('promtool check config passes a rendered file and refuses a broken one, with its reason', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ygg-promtool-test-'));
  const good = path.join(dir, '.targets.json.1.tmp');
  writeFileSync(good, renderTargets(fleetInputs().current(undefined, '42')));
  await promtoolCheck()(good);
  const bad = path.join(dir, '.bad.json.1.tmp');
  writeFileSync(bad, JSON.stringify([{ targets: ['10.0.0.1:80'], labels: { 'not-a-label': 'x' } }]));
  await assert.rejects(promtoolCheck()(bad), (error: unknown) => error instanceof RenderCheckError && /"not-a-label" is not a valid label name/.test(error.message) && error.file === bad);
});
