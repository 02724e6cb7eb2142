// The controller end to end on a real etcd and a real git repository: what a commit writes, what
// it must not write (an invalid commit, a second reconcile, a prune the guard stops, a commit whose
// load throws), drift repair and force-pushes. The controller runs in-process; each test has its
// own key prefix and fleet repo.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { canonicalJson } from '../../src/plan/canonical-json.js';
import type { AssignmentRecord, SyncHistoryRecord } from '../../src/store/records.js';
import { FleetView, putsByKey, reconcileNow, sleep, startInProcess, waitUntil, type InProcessController } from '../fixtures/controller-harness.js';
import { uniquePrefix, useSharedEtcd } from '../fixtures/etcd-server.js';
import { BROKEN_SEARCH, FRONTEND_HOSTS, jobFile } from '../fixtures/fleet-changes.js';
import { createGitFleet, type GitFleet } from '../fixtures/git-fleet.js';
import { edit, SMALL_FLEET } from '../fixtures/small-fleet.js';

describe('controller on a real etcd and git repo', () => {
  const etcd = useSharedEtcd();
  const { cleanups } = etcd;

  /** A fleet repo, a view on a fresh prefix, live agents on the job hosts and a controller following the repo's main branch. */
  async function setUp(label: string): Promise<{ fleet: GitFleet; view: FleetView; controller: InProcessController; firstSha: string }> {
    const prefix = uniquePrefix(label);
    const fleet = createGitFleet();
    const view = new FleetView(etcd.url, prefix);
    // Without them every assigned host is lost, and the controller records that (lost/<host>, audited).
    await view.registerAgents(FRONTEND_HOSTS);
    const controller = await startInProcess({ repo: fleet.dir, etcdPrefix: prefix, etcdUrl: etcd.url, listen: { host: '127.0.0.1', port: 0 } });
    cleanups.push(() => view.close(), () => controller.close());
    const firstSha = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: fleet.dir, encoding: 'utf8' }).trim();
    await waitUntil(async () => (await view.current())?.commit.sha === firstSha, 'the first commit in force');
    return { fleet, view, controller, firstSha };
  }

  test('a first commit writes every assignment, the VIP, an audit record and sync/current; a second reconcile writes nothing', async () => {
    const { view, controller, firstSha } = await setUp('first-commit');
    const assignments = await view.assignments();
    assert.deepEqual([...assignments.keys()].sort(), ['web-a1/frontend', 'web-a2/frontend', 'web-a2/search', 'web-b1/frontend', 'web-b1/search']);
    for (const [key, record] of assignments) {
      assert.equal(record.commit, firstSha, key);
      assert.match(record.specHash, /^[0-9a-f]{64}$/);
      assert.equal(`${record.host.name}/${record.job}`, key);
    }
    const vip = (await view.values(view.layout.vip('acme.shop.www'))).get(view.layout.vip('acme.shop.www')) as { vip: { address: string }; job: string };
    assert.equal(vip.vip.address, '10.0.100.1');
    assert.equal(vip.job, 'frontend');

    const history = await view.history();
    assert.equal(history.length, 1);
    const [audit] = history;
    assert.equal(audit!.commit.sha, firstSha);
    assert.equal(audit!.commit.author, 'Alice Ops');
    assert.equal(audit!.commit.email, 'alice@example.com');
    assert.equal(audit!.commit.message.trim(), 'Initial fleet');
    const hosts = [...(await view.values(view.layout.hosts)).keys()].map((key) => key.slice(view.layout.hosts.length));
    assert.deepEqual(hosts.sort(), ['lvs-a1', 'web-a1', 'web-a2', 'web-b1', 'web-b2'], 'hosts/ holds every Host of the commit');
    const expectedActions = [
      ...[...assignments].map(([, record]) => ({ type: 'assign', job: record.job, host: record.host.name, specHash: record.specHash })),
      { type: 'vip.put', service: 'acme.shop.www' },
      ...hosts.map((host) => ({ type: 'host.put', host })),
    ];
    assert.deepEqual(sortActions(audit!.actions), sortActions(expectedActions));
    assert.equal((await view.current())!.commit.sha, firstSha);

    const events = await view.record();
    await reconcileNow(controller);
    await reconcileNow(controller, 'webhook');
    await sleep(300);
    assert.deepEqual(events, [], 'a reconcile with nothing to do writes nothing to etcd');
    const reconciled = controller.logs.filter((line) => line.event === 'reconciled');
    assert.ok(reconciled.length >= 3);
    assert.deepEqual(reconciled.slice(-2).map((line) => line.writes), [0, 0]);
  });

  test('an invalid commit is rejected whole, with file:line:col; fixing it later applies', async () => {
    const { fleet, view, controller, firstSha } = await setUp('invalid-commit');
    const before = await view.assignments();
    const events = await view.record();

    const badSha = fleet.commit('Break search and add worker', { ...BROKEN_SEARCH, ...jobFile('worker') }, 'Bob Dev <bob@example.com>');
    await reconcileNow(controller);
    const current = await waitUntil(async () => {
      const record = await view.current();
      return record?.rejected ? record : undefined;
    }, 'the rejection in sync/current');
    assert.equal(current.commit.sha, firstSha, 'the last good commit stays in force');
    assert.equal(current.result, 'Rejected');
    assert.equal(current.rejected!.commit.sha, badSha);
    assert.equal(current.rejected!.commit.author, 'Bob Dev');
    assert.ok(current.rejected!.errors.length > 0);
    assert.match(current.rejected!.errors[0]!, /^jobs\/search\.yaml:\d+:\d+: /);
    await reconcileNow(controller);
    assert.deepEqual(await view.assignments(), before, 'nothing under assign/ changed');
    assert.deepEqual(events.filter((event) => event.type !== 'resync' && event.key.startsWith(view.layout.assignments())), []);
    const audits = await view.history();
    assert.deepEqual(audits.map((record) => record.commit.sha).sort(), [firstSha, badSha].sort(), 'the rejection has its own audit record');
    const rejection = audits.find((record) => record.commit.sha === badSha)!;
    assert.deepEqual([rejection.outcome, rejection.actions], ['Rejected', []]);

    const fixSha = fleet.commit('Fix the search port', { 'jobs/search.yaml': SMALL_FLEET['jobs/search.yaml']! });
    await reconcileNow(controller);
    const fixed = await view.current();
    assert.equal(fixed!.commit.sha, fixSha);
    assert.equal(fixed!.rejected, undefined);
    const after = await view.assignments();
    for (const host of FRONTEND_HOSTS) assert.equal(after.get(`${host}/worker`)?.commit, fixSha);
    for (const [key, record] of before) assert.equal(after.get(key)?.specHash, record.specHash, `${key} untouched`);
  });

  test('drift: an assignment deleted by hand and one edited by hand are both restored', async () => {
    const { view, controller } = await setUp('drift');
    const before = await view.assignments();
    const edited = before.get('web-a2/frontend')!;
    const tampered: AssignmentRecord = { ...edited, spec: { ...edited.spec, env: { MODE: 'debug' } } };
    await view.store.applyBatch([{ delete: view.layout.assignment('web-a1', 'frontend') }, { put: view.layout.assignment('web-a2', 'frontend'), value: tampered }]);

    // The controller's watch sees the hand edits and reconciles at once; no poll needed.
    const restored = await waitUntil(async () => {
      const now = await view.assignments();
      return now.get('web-a1/frontend') && now.get('web-a2/frontend')?.spec.env?.MODE === 'production' ? now : undefined;
    }, 'both assignments restored', 5000);
    for (const [key, record] of before) {
      assert.equal(restored.get(key)?.specHash, record.specHash, key);
      assert.deepEqual(restored.get(key)?.spec, record.spec, key);
    }
    await controller.loop.idle();
    const audit = (await view.history()).find((record) => record.trigger.includes('observed'));
    assert.ok(audit, 'the repair is audited');
    assert.deepEqual(sortActions(audit.actions.map((action) => pick(action, 'type', 'job', 'host'))), [
      { type: 'assign', job: 'frontend', host: 'web-a1' },
      { type: 'restore', job: 'frontend', host: 'web-a2' },
    ]);
  });

  test('prune guard: a commit removing more than maxDeletePercent is rejected unless it says [ygg:allow-prune]', async () => {
    const { fleet, view, controller, firstSha } = await setUp('prune');
    const before = await view.assignments();
    // frontend is 3 of the 5 instances (60% > the fleet's 50%); its Service goes with it.
    const pruneSha = fleet.commit('Retire frontend', { 'jobs/frontend.yaml': null, 'services.yaml': null });
    await reconcileNow(controller);
    const current = await view.current();
    assert.equal(current!.commit.sha, firstSha);
    assert.equal(current!.rejected?.commit.sha, pruneSha);
    assert.match(current!.rejected!.errors[0]!, /remove 3 of 5 instances .*pruneGuard\.maxDeletePercent 50%.*\[ygg:allow-prune\]/);
    assert.deepEqual(await view.assignments(), before, 'nothing deleted');
    assert.equal((await view.values(view.layout.vips)).size, 1, 'the VIP stays');

    const allowSha = fleet.commit('Retire frontend for good [ygg:allow-prune]', { 'ygg.yaml': `${SMALL_FLEET['ygg.yaml']}# frontend is retired\n` });
    await reconcileNow(controller);
    const applied = await view.current();
    assert.equal(applied!.commit.sha, allowSha);
    assert.equal(applied!.rejected, undefined);
    assert.deepEqual([...(await view.assignments()).keys()].sort(), ['web-a2/search', 'web-b1/search']);
    assert.equal((await view.values(view.layout.vips)).size, 0);
    const audit = (await view.history()).find((record) => record.commit.sha === allowSha);
    assert.equal(audit!.actions.filter((action) => (action as { type: string }).type === 'remove').length, 3);
  });

  test('a force-pushed branch: the controller follows the new head and the audit record says force-push', async () => {
    const { fleet, view, controller, firstSha } = await setUp('force-push');
    const workerSha = fleet.commit('Add worker', jobFile('worker'));
    await reconcileNow(controller);
    assert.equal((await view.current())!.commit.sha, workerSha);

    execFileSync('git', ['reset', '-q', '--hard', firstSha], { cwd: fleet.dir });
    const indexerSha = fleet.commit('Add indexer instead', jobFile('indexer'), 'Carol Ops <carol@example.com>');
    const events = await view.record();
    await reconcileNow(controller);
    assert.equal((await view.current())!.commit.sha, indexerSha);
    const jobs = new Set([...(await view.assignments()).values()].map((record) => record.job));
    assert.deepEqual([...jobs].sort(), ['frontend', 'indexer', 'search']);
    // Later records of the commit only settle removal records (no agent reports worker here).
    const settling = (record: SyncHistoryRecord) => record.actions.every((action) => (action as { type: string }).type === 'removal.settled');
    const audit = (await view.history()).filter((record) => record.commit.sha === indexerSha && !settling(record));
    assert.equal(audit.length, 1);
    assert.match(audit[0]!.note ?? '', /force-push: main moved from [0-9a-f]{12} to [0-9a-f]{12}/);
    assert.ok(audit[0]!.note!.includes(workerSha.slice(0, 12)) && audit[0]!.note!.includes(indexerSha.slice(0, 12)));
    assert.equal(audit[0]!.actions.length, 6, '3 removes of worker, 3 assigns of indexer');
    await sleep(200);
    for (const [key, puts] of putsByKey(events, '/assign/')) assert.equal(puts.length, 1, `${key} written once`);
  });

  async function readyz(controller: InProcessController): Promise<{ status: number; body: string }> {
    const response = await fetch(`${controller.url}/readyz`);
    return { status: response.status, body: await response.text() };
  }

  /** Deletes an assignment by hand and waits for the controller to put it back. */
  async function assertDriftRepaired(view: FleetView): Promise<void> {
    const before = (await view.assignments()).get('web-a1/frontend')!;
    await view.store.applyBatch([{ delete: view.layout.assignment('web-a1', 'frontend') }]);
    const restored = await waitUntil(async () => (await view.assignments()).get('web-a1/frontend'), 'the deleted assignment restored', 5000);
    assert.equal(restored.specHash, before.specHash);
    assert.equal(restored.commit, before.commit);
  }

  test('{{constructor}} in a template: rejected with its file:line, audited once, drift still repaired', async () => {
    const { fleet, view, controller, firstSha } = await setUp('proto-template');
    const badSha = fleet.commit('Print the constructor', edit('jobs/frontend.yaml', 'listen: {{host.ip}}', 'listen: {{constructor}}'), 'Bob Dev <bob@example.com>');
    await reconcileNow(controller);
    const current = (await view.current())!;
    assert.equal(current.commit.sha, firstSha, 'the last good commit stays in force');
    assert.equal(current.result, 'Rejected');
    assert.equal(current.rejected?.commit.sha, badSha);
    assert.deepEqual(current.rejected?.errors, ['jobs/frontend.yaml:14:17: unknown template variable "constructor" (known: host, job, dirs, tags, ports)']);
    await reconcileNow(controller);
    const audits = (await view.history()).filter((record) => record.commit.sha === badSha);
    assert.equal(audits.length, 1, 'one audit record for the rejection, however many reconciles follow');
    assert.equal(audits[0]!.outcome, 'Rejected');
    assert.match(audits[0]!.note ?? '', /unknown template variable "constructor"/);

    await assertDriftRepaired(view);
    assert.deepEqual(controller.logs.filter((line) => line.event === 'reconcile_failed'), [], 'no reconcile failed');
    assert.deepEqual(await readyz(controller), { status: 200, body: 'ready\n' }, 'a commit with findings was loaded: the controller is ready');
  });

  test('a commit whose load throws: rejected with the reason, /readyz 503, drift repaired; readable again, it applies', async () => {
    const { fleet, view, controller, firstSha } = await setUp('load-throws');
    const badSha = fleet.commit('Add worker', jobFile('worker'), 'Bob Dev <bob@example.com>');
    // A blob missing from the object store (a corrupt or half-copied repository): reading it throws.
    const blob = execFileSync('git', ['rev-parse', `${badSha}:jobs/worker.yaml`], { cwd: fleet.dir, encoding: 'utf8' }).trim();
    const objectFile = path.join(fleet.dir, '.git/objects', blob.slice(0, 2), blob.slice(2));
    const objectBytes = readFileSync(objectFile);
    rmSync(objectFile);

    await reconcileNow(controller);
    const current = (await view.current())!;
    assert.equal(current.commit.sha, firstSha);
    assert.equal(current.result, 'Rejected');
    assert.equal(current.rejected?.commit.sha, badSha);
    assert.equal(current.rejected?.commit.author, 'Bob Dev');
    assert.equal(current.rejected?.errors.length, 1);
    assert.match(current.rejected!.errors[0]!, /^the controller failed to load this commit: \w+/);
    const ready = await readyz(controller);
    assert.equal(ready.status, 503);
    assert.equal(ready.body, `not ready: commit ${badSha.slice(0, 12)}: ${current.rejected!.errors[0]}\n`);
    const audit = (await view.history()).find((record) => record.commit.sha === badSha);
    assert.equal(audit?.outcome, 'Rejected');
    assert.equal(audit?.note, `rejected: ${current.rejected!.errors[0]}`);
    assert.equal(controller.logs.filter((line) => line.event === 'commit_load_failed').length, 1);

    await assertDriftRepaired(view);
    assert.equal(controller.logs.filter((line) => line.event === 'commit_load_failed').length, 1, 'etcd changes do not retry the load');
    assert.deepEqual(controller.logs.filter((line) => line.event === 'reconcile_failed'), []);

    writeFileSync(objectFile, objectBytes);
    await reconcileNow(controller);
    const applied = (await view.current())!;
    assert.equal(applied.commit.sha, badSha, 'the next fetch tries the commit again');
    assert.equal(applied.rejected, undefined);
    for (const host of FRONTEND_HOSTS) assert.equal((await view.assignments()).get(`${host}/worker`)?.commit, badSha);
    assert.equal((await readyz(controller)).status, 200);
  });
});

function sortActions(actions: readonly unknown[]): unknown[] {
  return [...actions].sort((a, b) => (canonicalJson(a) < canonicalJson(b) ? -1 : 1));
}

function pick(value: unknown, ...keys: string[]): Record<string, unknown> {
  return Object.fromEntries(keys.map((key) => [key, (value as Record<string, unknown>)[key]]));
}
