import assert from 'node:assert/strict';
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import type { Service, Zone } from '../../src/model/types.js';
import { computePlan } from '../../src/plan/compute-plan.js';
import { formatPlan, MAX_MARKDOWN_CHARS } from '../../src/plan/format-plan.js';
import { plannedFiles, type PlanTemplates } from '../../src/plan/planned-files.js';
import { keepalivedCheck, namedCheckzone } from '../../src/render/check-commands.js';
import { CLUSTER_TAG, DEFAULT_VIP, desiredState, host, job, model, service, treeNode } from '../fixtures/model-builder.js';
import { tempDir } from '../fixtures/controller-harness.js';

const templates: PlanTemplates = {
  keepalived: await readFile(new URL('../../templates/keepalived.conf.hbs', import.meta.url), 'utf8'),
  zone: await readFile(new URL('../../templates/dns-zone.hbs', import.meta.url), 'utf8'),
};

const ZONE: Zone = {
  name: 'svc.acme.test',
  ttlSeconds: 60,
  soa: { refreshSeconds: 3600, retrySeconds: 600, expireSeconds: 604800, negativeTtlSeconds: 60 },
  nameServers: [{ name: 'ns1.svc.acme.test', addresses: ['10.0.9.53'] }],
  publish: [{ service: 'acme.*', name: '*' }],
  origin: { file: 'zone.yaml', docIndex: 0 },
};

/** Web on the hosts named, behind a VIP on director lb1 (DR, port 8080); search without VIP; one zone naming acme.*. */
function fleet(webHosts: readonly string[], options: { services?: readonly Service[]; directors?: readonly string[] } = {}) {
  const hosts = ['h1', 'h2', 'h3', 'lb1', 'lb2'].map((name, index) => host(name, { ip: `10.0.0.${index + 1}` }));
  return model({
    hosts,
    treeNodes: [treeNode(CLUSTER_TAG, { hosts: webHosts })],
    jobs: [job('web', { ports: { http: 8080 } })],
    services: options.services ?? [service('acme.web', 'web', { vip: { ...DEFAULT_VIP, port: 8080 }, directors: options.directors ?? ['lb1'] })],
    zones: [ZONE],
  });
}

const dirs: string[] = [];
after(() => Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true }))));

/** Writes each file to a temp dir and runs the real checker on it. */
async function check(files: readonly { name: string; text: string }[], checker: (name: string) => (file: string) => Promise<void>): Promise<void> {
  const dir = tempDir('planned-files');
  dirs.push(dir);
  for (const { name, text } of files) {
    const file = path.join(dir, name);
    await writeFile(file, text);
    await checker(name)(file);
  }
}

describe('plannedFiles', () => {
  it('diffs the director config an added instance changes; both sides pass keepalived -t', async () => {
    const base = desiredState(fleet(['h1', 'h2']));
    const head = desiredState(fleet(['h1', 'h2', 'h3']), base.placement);
    const files = plannedFiles(base, head, templates);
    const director = files.find((file) => file.kind === 'keepalived')!;
    assert.equal(director.name, 'lb1');
    assert.match(director.diff!, /^--- a\/lb1\/keepalived\.conf\n\+\+\+ b\/lb1\/keepalived\.conf\n/);
    assert.deepEqual(director.diff!.split('\n').filter((line) => /^[-+]\s+real_server/.test(line)), ['+    real_server 10.0.0.3 8080 {']);
    await check([{ name: 'before.conf', text: director.before }, { name: 'after.conf', text: director.after }], () => keepalivedCheck());
  });

  it('a director the head no longer names loses its file, a new one gets one; the new file passes keepalived -t', async () => {
    const base = desiredState(fleet(['h1']));
    const head = desiredState(fleet(['h1'], { directors: ['lb2'] }), base.placement);
    const files = plannedFiles(base, head, templates).filter((file) => file.kind === 'keepalived');
    assert.deepEqual(files.map((file) => [file.name, file.before === '', file.after === '']), [['lb1', false, true], ['lb2', true, false]]);
    assert.match(files[0]!.diff!, /^--- a\/lb1\/keepalived\.conf\n\+\+\+ \/dev\/null/);
    await check([{ name: 'lb2.conf', text: files[1]!.after }], () => keepalivedCheck());
  });

  it('a service added under a zone glob shows in the zone file diff, which named-checkzone accepts', async () => {
    const web = service('acme.web', 'web', { vip: { ...DEFAULT_VIP, port: 8080 }, directors: ['lb1'] });
    const base = desiredState(fleet(['h1', 'h2'], { services: [web] }));
    const head = desiredState(fleet(['h1', 'h2'], { services: [web, service('acme.direct', 'web')] }), base.placement);
    const zone = plannedFiles(base, head, templates).find((file) => file.kind === 'zone')!;
    assert.equal(zone.name, 'svc.acme.test');
    assert.deepEqual(zone.diff!.split('\n').filter((line) => /^[-+][^-+]/.test(line)), ['+direct IN A 10.0.0.1', '+direct IN A 10.0.0.2']);
    await check([{ name: 'svc.acme.test', text: zone.after }], (name) => namedCheckzone(name));
    const text = formatPlan(computePlan(base, head), { head: 'c'.repeat(40) }, 'markdown', { values: [], files: [zone] });
    assert.match(text, /Zone files: 1 to re-render\./);
    assert.match(text, /#### Zone files\n\nEndpoints as placement puts them: every placed instance's host ip:port counts as live\.\n\n<details><summary>svc\.acme\.test: changes \+2 −0<\/summary>/);
    assert.match(text, /\n\+direct IN A 10\.0\.0\.1\n/);
  });

  it('nothing that renders the same is listed', () => {
    const base = desiredState(fleet(['h1', 'h2']));
    assert.deepEqual(plannedFiles(base, desiredState(fleet(['h1', 'h2']), base.placement), templates), []);
  });
});

describe('a huge change stays readable and fits in a PR comment', () => {
  it('cuts each diff and the lists, saying how much it left out, under the comment limit', () => {
    const hosts = Array.from({ length: 400 }, (_, index) => `h${index}`);
    const build = (count: number, address: string) =>
      model({
        hosts: hosts.map((name, index) => host(name, { ip: `10.1.${Math.floor(index / 200)}.${(index % 200) + 1}` })).concat(['lb1', 'lb2', 'lb3'].map((name, index) => host(name, { ip: `10.9.0.${index + 1}` }))),
        treeNodes: [treeNode(CLUSTER_TAG, { hosts: hosts.slice(0, count) })],
        jobs: [job('web', { ports: { http: 8080 } })],
        services: Array.from({ length: 40 }, (_, index) => service(`acme.web${index}`, 'web', { vip: { ...DEFAULT_VIP, address: `${address}.${index + 1}`, port: 8080 }, directors: [`lb${(index % 3) + 1}`] })),
        zones: [ZONE],
      });
    const base = desiredState(build(10, '10.1.100'));
    const head = desiredState(build(400, '10.2.100'), base.placement);
    const plan = computePlan(base, head);
    const files = plannedFiles(base, head, templates);
    assert.equal(files.length, 4);
    const markdown = formatPlan(plan, { base: 'a'.repeat(40), head: 'b'.repeat(40) }, 'markdown', { values: [], files });
    assert.ok(markdown.length <= MAX_MARKDOWN_CHARS, `${markdown.length} characters`);
    assert.ok(plan.actions.length > 200);
    assert.ok(markdown.includes(`\n… ${plan.actions.length - 200} more actions (ygg plan --format json lists them all)\n`));
    // 400 new real servers per VIP: too many edits to diff line by line, so the lines only one side has.
    assert.match(files[0]!.diff!, /^@@ over 1000 edits \(\d+ → \d+ lines\): the distinct lines only one side has @@$/m);
    assert.match(files[0]!.diff!, /^\+virtual_server 10\.2\.100\.1 8080 \{$/m);
    assert.match(markdown, /^… \d+ more lines$/m);
    const text = formatPlan(plan, { base: 'a'.repeat(40), head: 'b'.repeat(40) }, 'text', { values: [], files });
    assert.match(text, /^== Director configs \(keepalived\.conf\) \(Endpoints as placement puts them/m);
    assert.equal(text.split('\n').filter((line) => /^… \d+ more lines$/.test(line)).length, 4, 'every file diff is cut');
  });
});
