// Faults around the controller, with a real etcd and git repo: etcd down when `ygg controller`
// starts, etcd stopped and started again under a running controller, and webhooks (a signed one
// triggers a reconcile at once; a badly signed one is refused).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { FleetView, reconcileNow, sleep, spawnController, startInProcess, tempDir, waitUntil, type ControllerProcess } from '../fixtures/controller-harness.js';
import { freePort, sharedEtcd, startEtcd, startTcpProxy, uniquePrefix, type EtcdServer, type SharedEtcd } from '../fixtures/etcd-server.js';
import { FRONTEND_HOSTS, jobFile } from '../fixtures/fleet-changes.js';
import { createGitFleet } from '../fixtures/git-fleet.js';

const WEBHOOK_SECRET = 'webhook-secret-for-controller-tests';

describe('controller faults', () => {
  let shared: SharedEtcd;
  let privateEtcd: EtcdServer | undefined;
  const processes: ControllerProcess[] = [];
  const cleanups: (() => Promise<void>)[] = [];

  before(async () => {
    shared = await sharedEtcd();
  });
  after(async () => {
    for (const running of processes) await running.kill();
    for (const cleanup of cleanups.reverse()) await cleanup();
    await privateEtcd?.stop();
    await shared.stop();
  });

  test('webhook: a validly signed push reconciles the new commit at once; a bad or missing signature is 401', async () => {
    const prefix = uniquePrefix('webhook');
    const fleet = createGitFleet();
    const view = new FleetView(shared.url, prefix);
    const controller = await startInProcess({
      repo: fleet.dir, etcdPrefix: prefix, etcdUrl: shared.url, intervalMs: 30_000, webhookSecret: WEBHOOK_SECRET, listen: { host: '127.0.0.1', port: 0 },
    });
    cleanups.push(() => view.close(), () => controller.close());
    const firstSha = await waitUntil(async () => (await view.current())?.commit.sha, 'the first commit in force');

    const sha = fleet.commit('Add worker', jobFile('worker'));
    const body = JSON.stringify({ ref: 'refs/heads/main', before: firstSha, after: sha });
    const post = (headers: Record<string, string>) =>
      fetch(`${controller.url}/hooks/git`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-github-event': 'push', ...headers }, body });

    const forged = await post({ 'x-hub-signature-256': `sha256=${createHmac('sha256', 'not-the-secret').update(body).digest('hex')}` });
    assert.equal(forged.status, 401);
    assert.equal((await post({})).status, 401, 'unsigned');
    await sleep(1000);
    assert.equal((await view.current())!.commit.sha, firstSha, 'a refused webhook triggers nothing');
    assert.equal(controller.logs.filter((line) => line.event === 'webhook_rejected').length, 2);

    const sentAt = Date.now();
    const signed = await post({ 'x-hub-signature-256': `sha256=${createHmac('sha256', WEBHOOK_SECRET).update(body).digest('hex')}`, 'x-github-delivery': 'delivery-1' });
    assert.equal(signed.status, 202);
    await waitUntil(async () => (await view.current())?.commit.sha === sha, 'the pushed commit in force', 5000);
    const latencyMs = Date.now() - sentAt;
    assert.ok(latencyMs < 3000, `applied ${latencyMs} ms after the webhook, not at the next 30 s poll`);
    const workers = [...(await view.assignments()).values()].filter((record) => record.job === 'worker');
    assert.equal(workers.length, FRONTEND_HOSTS.length);
    assert.ok(controller.logs.some((line) => line.event === 'reconciled' && (line.reasons as string[]).includes('webhook') && line.commit === sha));
  });

  test('etcd down at start: ygg controller logs etcd_unavailable and retries; once etcd is up it converges, and again after an etcd restart', async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const prefix = uniquePrefix('etcd-faults');
    const fleet = createGitFleet();
    const controller = spawnController(['--repo', fleet.dir, '--branch', 'main', '--etcd', url, '--etcd-prefix', prefix, '--interval', '1s',
      '--lease-ttl', '2s', '--listen', '127.0.0.1:0', '--cache-dir', tempDir('cache'), '--id', 'ctl-faults']);
    processes.push(controller);

    const unavailable = await controller.waitForLog((line) => line.event === 'etcd_unavailable' && (line.attempt as number) >= 2, 'etcd_unavailable, retried', 15_000);
    assert.match(String(unavailable.error), /unreachable/);
    await sleep(500);
    assert.equal(controller.child.exitCode, null, 'still running');

    privateEtcd = await startEtcd({ clientPort: port });
    const view = new FleetView(url, prefix);
    cleanups.push(() => view.close());
    const firstSha = await waitUntil(async () => (await view.current().catch(() => undefined))?.commit.sha, 'convergence once etcd is up', 15_000);
    assert.equal((await view.assignments()).size, 5);

    // etcd goes away under the running controller; a commit lands meanwhile.
    await privateEtcd.kill();
    const sha = fleet.commit('Add worker during the outage', jobFile('worker'));
    await sleep(2500);
    assert.equal(controller.child.exitCode, null, 'the controller survives the outage');
    await privateEtcd.restart();
    await waitUntil(async () => (await view.current().catch(() => undefined))?.commit.sha === sha, 'the commit pushed during the outage applied', 20_000);
    assert.notEqual(sha, firstSha);
    const jobs = [...(await view.assignments()).values()].map((record) => record.job);
    assert.equal(jobs.filter((job) => job === 'worker').length, 3);
    assert.equal(jobs.length, 8);
    assert.equal(controller.child.exitCode, null);
  });

  test('a force-push seen by a reconcile that then fails to write (etcd down) is still audited as a force-push', async () => {
    const etcd = await startEtcd();
    const prefix = uniquePrefix('force-push-outage');
    const fleet = createGitFleet();
    const view = new FleetView(etcd.url, prefix);
    const controller = await startInProcess({ repo: fleet.dir, etcdPrefix: prefix, etcdUrl: etcd.url });
    cleanups.push(() => etcd.stop(), () => view.close(), () => controller.close());
    const firstSha = await waitUntil(async () => (await view.current())?.commit.sha, 'the first commit in force');
    const workerSha = fleet.commit('Add worker', jobFile('worker'));
    await reconcileNow(controller);
    assert.equal((await view.current())!.commit.sha, workerSha);

    execFileSync('git', ['reset', '-q', '--hard', firstSha], { cwd: fleet.dir });
    const indexerSha = fleet.commit('Add indexer instead', jobFile('indexer'));
    await etcd.kill();
    await reconcileNow(controller); // still leader for a moment: sees the force-push, cannot write it
    assert.ok(controller.logs.some((line) => line.event === 'reconcile_failed'), 'the write failed');
    await etcd.restart();
    await waitUntil(async () => (await view.current().catch(() => undefined))?.commit.sha === indexerSha, 'the new head applied after the outage', 15_000);
    // Later records of the commit (removal records settled once no agent reports worker) carry no note.
    const audit = (await view.history()).filter((record) => record.commit.sha === indexerSha && record.note !== undefined);
    assert.equal(audit.length, 1);
    assert.match(audit[0]!.note ?? '', /^force-push: main moved from [0-9a-f]{12} to [0-9a-f]{12}/);
  });

  test('a watch that missed events across a compaction resyncs: an assignment deleted meanwhile is restored', async () => {
    const etcd = await startEtcd();
    const proxy = await startTcpProxy(etcd.url);
    const prefix = uniquePrefix('compaction');
    const fleet = createGitFleet();
    const view = new FleetView(etcd.url, prefix);
    // A replica is only put back on a host whose agent is alive: a lost host gets no new instances.
    await view.registerAgents(FRONTEND_HOSTS);
    // Only the controller goes through the proxy, so only it can be made to miss events.
    const controller = await startInProcess({ repo: fleet.dir, etcdPrefix: prefix, etcdUrl: proxy.url });
    cleanups.push(() => etcd.stop(), () => proxy.close(), () => view.close(), () => controller.close());
    await waitUntil(async () => (await view.current())?.commit.sha, 'the first commit in force');
    const before = await view.assignments();

    await proxy.cut();
    await view.store.applyBatch([{ delete: view.layout.assignment('web-b1', 'search') }]);
    // Compacting at exactly the deletion's revision would hit etcd-io/etcd#18089 (etcd < 3.4.34 drops
    // that tombstone, and a watch resumed there misses the delete without being told it was compacted).
    await view.reportHealthy('web-a1', 'frontend', before.get('web-a1/frontend')!.specHash);
    const revision = await view.revision();
    await view.store.client.kv.compact({ revision, physical: true });
    await proxy.restore();

    const restored = await waitUntil(async () => (await view.assignments()).get('web-b1/search'), 'the deleted assignment restored after the resync', 10_000);
    assert.equal(restored.specHash, before.get('web-b1/search')!.specHash);
  });
});
