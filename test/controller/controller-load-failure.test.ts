// A commit the controller cannot take must never wedge it: rejected with the reason in sync/current
// and one audit record, the last good commit kept in force and its drift repaired, /readyz saying
// why while the newest commit cannot be loaded. Real etcd, real git repository, in-process controller.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { FleetView, reconcileNow, startInProcess, waitUntil, type InProcessController } from '../fixtures/controller-harness.js';
import { sharedEtcd, uniquePrefix, type SharedEtcd } from '../fixtures/etcd-server.js';
import { FRONTEND_HOSTS, jobFile } from '../fixtures/fleet-changes.js';
import { createGitFleet, type GitFleet } from '../fixtures/git-fleet.js';
import { edit } from '../fixtures/small-fleet.js';

describe('a commit the controller cannot take', () => {
  let etcd: SharedEtcd;
  const cleanups: (() => Promise<void>)[] = [];

  before(async () => {
    etcd = await sharedEtcd();
  });
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
    await etcd.stop();
  });

  async function setUp(label: string): Promise<{ fleet: GitFleet; view: FleetView; controller: InProcessController; firstSha: string }> {
    const prefix = uniquePrefix(label);
    const fleet = createGitFleet();
    const view = new FleetView(etcd.url, prefix);
    await view.registerAgents(FRONTEND_HOSTS);
    const controller = await startInProcess({ repo: fleet.dir, etcdPrefix: prefix, etcdUrl: etcd.url, listen: { host: '127.0.0.1', port: 0 } });
    cleanups.push(() => view.close(), () => controller.close(), async () => rmSync(fleet.dir, { recursive: true, force: true }));
    const firstSha = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: fleet.dir, encoding: 'utf8' }).trim();
    await waitUntil(async () => (await view.current())?.commit.sha === firstSha, 'the first commit in force');
    return { fleet, view, controller, firstSha };
  }

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
