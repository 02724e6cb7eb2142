// The console's API against a real controller on a real etcd following a real git repo: what the
// tree, job, host, naming and history endpoints say, 404s with suggestions, and the event stream.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { reconcileNow, waitUntil } from '../../fixtures/controller-harness.js';
import { startConsoleFleet } from '../../fixtures/console-harness.js';
import { useSharedEtcd } from '../../fixtures/etcd-server.js';
import { openEventStream } from '../../fixtures/sse-client.js';
import { SMALL_FLEET } from '../../fixtures/small-fleet.js';
import type { NamingRecord } from '../../../src/store/records.js';

const CLUSTER = 'cop.acme_owt.shop_pdl.web_cluster.prod';

function findNode(nodes: any[], tag: string): any {
  for (const node of nodes) {
    if (node.tag === tag) return node;
    const found = findNode(node.children, tag);
    if (found) return found;
  }
  return undefined;
}

describe('console API on a real controller', () => {
  const etcd = useSharedEtcd();

  test('/api/tree counts jobs, hosts, instances and healthy ones per node, and rolls the worst state up', async () => {
    const { getJson, view, firstSha } = await startConsoleFleet(etcd, 'console-tree');
    const { status, body: tree } = await getJson('/api/tree');
    assert.equal(status, 200);
    assert.equal(tree.commit, firstSha);
    assert.deepEqual(tree.roots.map((root: any) => root.tag), ['cop.acme']);
    const cluster = findNode(tree.roots, CLUSTER);
    // frontend on web-a1, web-a2, web-b1 (web-b2 is spare); search (replicas 2) on two of them.
    assert.deepEqual({ jobs: cluster.jobs, hosts: cluster.hosts, instances: cluster.instances, healthy: cluster.healthy }, { jobs: 2, hosts: 4, instances: 5, healthy: 5 });
    assert.equal(cluster.health, 'Healthy');
    assert.equal(cluster.sync, 'Synced');
    const frontend = findNode(tree.roots, `${CLUSTER}_service.www_job.frontend`);
    assert.deepEqual(frontend.job, { name: 'frontend', version: '1.0.0', state: 'Healthy', sync: 'Synced', desired: 3, healthy: 3 });
    assert.deepEqual(frontend.services, ['acme.shop.www']);
    assert.deepEqual(tree.unlisted, []);

    const hash = (await view.assignments()).get('web-a1/frontend')!.specHash;
    await view.reportStatus('web-a1', 'frontend', hash, 'CrashLoop');
    const degraded = await waitUntil(async () => {
      const { body } = await getJson('/api/tree');
      return body.roots[0].health === 'Degraded' && body;
    }, 'the crash to reach the root');
    assert.equal(findNode(degraded.roots, CLUSTER).healthy, 4);
    assert.equal(findNode(degraded.roots, `${CLUSTER}_service.search`).health, 'Healthy', 'a sibling branch keeps its own colour');
  });

  test('/api/jobs/<name>: instances per host with state, release, restarts, last error, spec hash, the spec and its commit; paginated', async () => {
    const { getJson, view, firstSha } = await startConsoleFleet(etcd, 'console-job');
    const assignments = await view.assignments();
    const hash = assignments.get('web-a2/frontend')!.specHash;
    await view.store.applyBatch([
      { put: view.layout.status('web-a2', 'frontend'), value: { specHash: hash, release: 'r-1234', pid: 4321, state: 'Unhealthy', restarts: 3, lastError: 'GET /health: 500 <b>oops</b>', since: new Date().toISOString(), updatedAt: new Date().toISOString() } },
    ]);
    const job = await waitUntil(async () => {
      const { body } = await getJson('/api/jobs/frontend');
      return body.states.Unhealthy === 1 && body;
    }, 'the unhealthy report');
    assert.equal(job.name, 'frontend');
    assert.equal(job.tag, `${CLUSTER}_service.www_job.frontend`);
    assert.equal(job.file, 'jobs/frontend.yaml');
    assert.equal(job.commitInForce, firstSha);
    assert.deepEqual(job.assignedBy, [{ commit: firstSha, instances: 3 }]);
    assert.equal(job.spec.version, '1.0.0');
    assert.deepEqual(job.spec.env, { MODE: 'production' });
    assert.deepEqual(job.services, [{ name: 'acme.shop.www', port: 'http', vip: '10.0.100.1:80' }]);
    assert.deepEqual(job.states, { Healthy: 2, Unhealthy: 1 });
    assert.deepEqual(job.instances.items.map((row: any) => row.host), ['web-a1', 'web-a2', 'web-b1']);
    const row = job.instances.items[1];
    assert.deepEqual(
      { state: row.state, release: row.release, pid: row.pid, restarts: row.restarts, lastError: row.lastError, specHash: row.specHash, upToDate: row.upToDate, commit: row.commit, ip: row.ip, agentLive: row.agentLive },
      { state: 'Unhealthy', release: 'r-1234', pid: 4321, restarts: 3, lastError: 'GET /health: 500 <b>oops</b>', specHash: hash, upToDate: true, commit: firstSha, ip: '10.0.0.2', agentLive: true },
    );

    const first = (await getJson('/api/jobs/frontend?limit=2')).body.instances;
    const second = (await getJson('/api/jobs/frontend?limit=2&offset=2')).body.instances;
    assert.deepEqual([first.total, first.items.length, second.items.length], [3, 2, 1]);
    assert.deepEqual([...first.items, ...second.items].map((item: any) => item.host), ['web-a1', 'web-a2', 'web-b1']);
    const unhealthy = (await getJson('/api/jobs/frontend?state=Unhealthy')).body.instances;
    assert.deepEqual(unhealthy.items.map((item: any) => item.host), ['web-a2']);
  });

  test('unknown names answer 404 JSON with the closest names; /api/hosts/<name> shows facts and instances', async () => {
    const { getJson } = await startConsoleFleet(etcd, 'console-404');
    const job = await getJson('/api/jobs/frontnd');
    assert.equal(job.status, 404);
    assert.equal(job.body.kind, 'job');
    assert.deepEqual(job.body.suggestions, ['frontend']);
    const host = await getJson('/api/hosts/web-a9');
    assert.equal(host.status, 404);
    // Every web host is one or two letters off web-a9, the nearest first; lvs-a1 is too far to be a typo.
    assert.deepEqual(host.body.suggestions.slice(0, 2).sort(), ['web-a1', 'web-a2']);
    assert.deepEqual([...host.body.suggestions].sort(), ['web-a1', 'web-a2', 'web-b1', 'web-b2']);
    assert.equal((await getJson('/api/nothing-here')).status, 404);

    const { status, body } = await getJson('/api/hosts/web-a2');
    assert.equal(status, 200);
    assert.deepEqual(body.declared, { ip: '10.0.0.2', labels: { idc: 'a', rack: 'r2' }, state: 'online' });
    assert.equal(body.agent.host, 'web-a2');
    assert.equal(body.lost, null);
    assert.deepEqual(body.instances.items.map((row: any) => [row.job, row.state]), [['frontend', 'Healthy'], ['search', 'Healthy']]);
    const spare = (await getJson('/api/hosts/web-b2')).body;
    assert.equal(spare.declared.state, 'spare');
    assert.equal(spare.agent, null);
    assert.equal(spare.instances.total, 0);
  });

  test('/api/naming: services with VIPs and live endpoints, directors with their render status and checked config', async () => {
    const { getJson, view } = await startConsoleFleet(etcd, 'console-naming');
    const endpoint: NamingRecord = { ip: '10.0.0.1', port: 8080, weight: 1, host: 'web-a1', job: 'frontend', specHash: (await view.assignments()).get('web-a1/frontend')!.specHash };
    const config = 'virtual_server 10.0.100.1 80 {\n  real_server 10.0.0.1 8080 {}\n}\n';
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'ygg-console-')), 'keepalived.conf');
    writeFileSync(file, config);
    const render = { target: file, checksum: createHash('sha256').update(config).digest('hex'), lastRenderAt: new Date().toISOString(), lastRenderRevision: '7', holds: 0, skipped: 0, renders: 1, writes: 1, updatedAt: new Date().toISOString() };
    await view.store.applyBatch([
      { put: view.layout.naming('acme.shop.www', 'web-a1', 8080), value: endpoint },
      { put: view.layout.status('lvs-a1', '_render'), value: render },
    ]);
    const naming = await waitUntil(async () => {
      const { body } = await getJson('/api/naming');
      return body.services[0]?.endpointCount === 1 && body.directors[0]?.render && body;
    }, 'the endpoint and the render status');
    const [service] = naming.services;
    assert.equal(service.name, 'acme.shop.www');
    assert.equal(service.job, 'frontend');
    assert.equal(service.vip.address, '10.0.100.1');
    assert.deepEqual(service.directors, ['lvs-a1']);
    assert.deepEqual(service.endpoints, [endpoint]);
    assert.equal(naming.directors.length, 1);
    assert.equal(naming.directors[0].name, 'lvs-a1');
    assert.equal(naming.directors[0].agentLive, true);
    assert.deepEqual(naming.directors[0].config, { text: config });

    // A record naming some other file (its checksum cannot match) does not make the controller serve it.
    await view.store.applyBatch([{ put: view.layout.status('lvs-a1', '_render'), value: { ...render, target: '/etc/passwd' } }]);
    const refused = await waitUntil(async () => {
      const { body } = await getJson('/api/naming');
      return body.directors[0].render.target === '/etc/passwd' && body.directors[0];
    }, 'the changed render status');
    assert.match(refused.config.unavailable, /not the one the renderer recorded/);
  });

  test('/api/history pages through the audit records, newest first', async () => {
    const { getJson, fleet, view, firstSha, controller } = await startConsoleFleet(etcd, 'console-history');
    const second = fleet.commit('Bump frontend <to> 1.0.1', { 'jobs/frontend.yaml': SMALL_FLEET['jobs/frontend.yaml']!.replace('version: 1.0.0', 'version: 1.0.1') }, 'Bob Ops <bob@example.com>');
    await reconcileNow(controller, 'webhook');
    await waitUntil(async () => (await view.current())?.commit.sha === second, 'the second commit in force');
    const all = (await getJson('/api/history?limit=200')).body;
    assert.ok(all.records.length >= 2);
    assert.equal(all.next, null);
    const times = all.records.map((record: any) => record.time);
    assert.deepEqual(times, [...times].sort().reverse(), 'newest first');
    const newest = all.records.find((record: any) => record.commit.sha === second);
    assert.equal(newest.commit.author, 'Bob Ops');
    assert.equal(newest.commit.message.trim(), 'Bump frontend <to> 1.0.1');
    assert.ok(newest.actionCount >= 1 && newest.actions.length === newest.actionCount);
    assert.equal(all.records.at(-1).commit.sha, firstSha);

    const pages: string[] = [];
    let cursor: string | null | undefined;
    do {
      const page = (await getJson(`/api/history?limit=1${cursor ? `&before=${encodeURIComponent(cursor)}` : ''}`)).body;
      pages.push(...page.records.map((record: any) => record.key));
      cursor = page.next;
    } while (cursor && pages.length < 100);
    assert.deepEqual(pages, all.records.map((record: any) => record.key), 'one record a page, the same records in the same order');
    assert.deepEqual((await getJson(`/api/history?before=${encodeURIComponent(view.layout.prefix + 'vips/')}`)).body.records, [], 'a cursor outside the history reads nothing');
  });

  test('/api/history pages past a hand-written audit value instead of stopping at it', async () => {
    const { getJson, view, firstSha } = await startConsoleFleet(etcd, 'console-history-garbled');
    const all = (await getJson('/api/history?limit=200')).body.records.map((record: any) => record.key);
    // Newer than every record: the first page of one holds nothing the console can show.
    await view.store.applyBatch([{ put: view.layout.syncHistory(new Date(Date.now() + 60_000), firstSha), value: { hand: 'edited' } }]);
    const pages: string[] = [];
    let cursor: string | null | undefined;
    let requests = 0;
    do {
      const page = (await getJson(`/api/history?limit=1${cursor ? `&before=${encodeURIComponent(cursor)}` : ''}`)).body;
      pages.push(...page.records.map((record: any) => record.key));
      cursor = page.next;
      requests++;
    } while (cursor && requests < 100);
    assert.deepEqual(pages, all, 'every record, the garbled value left out');
  });

  test('/api/events: a snapshot on connect, then a coalesced change within 1 s of an etcd change', async () => {
    const { url, view, firstSha } = await startConsoleFleet(etcd, 'console-events');
    const stream = await openEventStream(`${url}/api/events`);
    etcd.cleanups.push(async () => stream.close());
    const snapshot = await stream.next((event) => event.event === 'snapshot');
    assert.equal((snapshot.data as any).status.commit.sha, firstSha);
    assert.equal((snapshot.data as any).status.result, 'Synced');

    const hash = (await view.assignments()).get('web-b1/frontend')!.specHash;
    const seen = stream.events.length;
    const started = performance.now();
    await view.reportStatus('web-b1', 'frontend', hash, 'Unhealthy');
    await view.reportStatus('web-b1', 'search', (await view.assignments()).get('web-b1/search')!.specHash, 'Unhealthy');
    const change = await stream.next((event) => event.event === 'change' && (event.data as any).changed.jobs.includes('frontend'), 1000, seen);
    assert.ok(change.at - started < 1000, `arrived after ${(change.at - started).toFixed(0)} ms`);
    const data = change.data as any;
    assert.ok(data.changed.hosts.includes('web-b1'));
    assert.equal(data.status.commit.sha, firstSha);
    assert.equal(data.jobs.find((job: any) => job.name === 'frontend')?.healthy, 2);
    // Both writes within the debounce window arrive as one event, or as few: never one per key.
    const changes = stream.events.slice(seen).filter((event) => event.event === 'change');
    assert.ok(changes.length <= 2, `${changes.length} change events for two writes`);
    assert.ok(Number(change.id) > Number(snapshot.id));
  });

  test('the console page and its modules are served with a strict CSP; nothing outside console/ is', async () => {
    const { url } = await startConsoleFleet(etcd, 'console-static');
    const page = await fetch(`${url}/`);
    assert.equal(page.status, 200);
    assert.equal(page.headers.get('content-type'), 'text/html; charset=utf-8');
    assert.match(page.headers.get('content-security-policy')!, /script-src 'self';/);
    assert.doesNotMatch(page.headers.get('content-security-policy')!, /unsafe/);
    assert.equal(page.headers.get('x-content-type-options'), 'nosniff');
    assert.match(await page.text(), /<script type="module" src="\/console\/js\/app.js"><\/script>/);
    const script = await fetch(`${url}/console/js/app.js`);
    assert.equal(script.headers.get('content-type'), 'text/javascript; charset=utf-8');
    assert.match(await script.text(), /EventSource/);
    for (const probe of ['/console/../package.json', '/console/%2e%2e/package.json', '/console/js/missing.js']) assert.equal((await fetch(`${url}${probe}`)).status, 404, probe);
    const api = await fetch(`${url}/api/tree`);
    assert.equal(api.headers.get('cache-control'), 'no-store');
  });
});
