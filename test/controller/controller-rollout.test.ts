// Rolling updates through the real controller, etcd and git: batches gated on the agents' health
// reports, and the automatic revert of a batch that never gets healthy. Agents are simulated the
// way real ones behave: a heartbeat under a lease and status records with the specHash they run.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { computeSpecHash } from '../../src/controller/spec-hash.js';
import type { AssignmentRecord, RolloutRecord } from '../../src/store/records.js';
import { FleetView, putsByKey, reconcileNow, sleep, startInProcess, waitUntil, type InProcessController, type RecordedEvent } from '../fixtures/controller-harness.js';
import { uniquePrefix, useSharedEtcd } from '../fixtures/etcd-server.js';
import { FRONTEND_HOSTS, frontendAt } from '../fixtures/fleet-changes.js';
import { createGitFleet, type GitFleet } from '../fixtures/git-fleet.js';

describe('controller rollouts', () => {
  const etcd = useSharedEtcd();
  const { cleanups } = etcd;

  /** frontend (3 hosts) at 1.0.0 with a fast rollout policy, assigned, and reported healthy long ago. */
  async function setUp(label: string): Promise<{ fleet: GitFleet; view: FleetView; controller: InProcessController; v1: Map<string, AssignmentRecord> }> {
    const prefix = uniquePrefix(label);
    const fleet = createGitFleet();
    const sha = fleet.commit('Fast rollouts for frontend', frontendAt('1.0.0'));
    const view = new FleetView(etcd.url, prefix);
    await view.registerAgents(FRONTEND_HOSTS);
    const controller = await startInProcess({ repo: fleet.dir, etcdPrefix: prefix, etcdUrl: etcd.url });
    cleanups.push(() => view.close(), () => controller.close());
    await waitUntil(async () => (await view.current())?.commit.sha === sha, 'the first commit in force');
    await view.reportAllHealthy(new Date(Date.now() - 60_000));
    const v1 = frontendOf(await view.assignments());
    assert.equal(v1.size, 3);
    return { fleet, view, controller, v1 };
  }

  test('maxParallel 1: one host at a time, each next one only after the last reports the new spec healthy for minHealthySeconds', async () => {
    const { fleet, view, controller, v1 } = await setUp('rolling');
    const events = await view.record();
    const sha = fleet.commit('frontend 1.1.0', frontendAt('1.1.0'));
    await reconcileNow(controller);

    const order: string[] = [];
    let reportedAt = 0;
    for (let batch = 1; batch <= 3; batch++) {
      const updated = await waitUntil(() => {
        const hosts = updatedHosts(events);
        return hosts.length >= batch ? hosts : undefined;
      }, `batch ${batch}`, 5000);
      assert.equal(updated.length, batch, `exactly ${batch} updated so far`);
      const host = updated.at(-1)!;
      order.push(host);
      if (batch > 1) {
        const changedAt = events.find((event) => event.type === 'put' && event.key.endsWith(`/assign/${host}/frontend`))!.at;
        assert.ok(changedAt - reportedAt >= 1000, `batch ${batch} started ${changedAt - reportedAt} ms after the previous one was reported healthy`);
      }
      const record = frontendOf(await view.assignments()).get(host)!;
      const rollout = (await view.values(view.layout.rollout('frontend'))).get(view.layout.rollout('frontend')) as RolloutRecord | undefined;
      assert.deepEqual([rollout?.state, rollout?.commit, rollout?.batch, rollout?.batches, rollout?.total], ['InProgress', sha, batch, 3, 3]);
      assert.equal(record.spec.version, '1.1.0');
      assert.equal(record.commit, sha);
      assert.equal(record.previous?.specHash, v1.get(host)!.specHash, 'the old spec is kept for a revert');
      // Without a health report for the new spec the rollout waits, however often it reconciles.
      await sleep(batch === 1 ? 1200 : 300);
      await reconcileNow(controller);
      assert.equal(updatedHosts(events).length, batch, `batch ${batch + 1} waits for batch ${batch} to be healthy`);
      reportedAt = Date.now();
      await view.reportHealthy(host, 'frontend', record.specHash, new Date(reportedAt));
    }
    assert.deepEqual(order, [...FRONTEND_HOSTS]);
    await waitUntil(async () => (await view.current())?.result === 'Synced', 'Synced once the last batch settles', 4000);
    assert.equal((await view.values(view.layout.rollouts)).size, 0, 'a finished rollout leaves no record');
    for (const [key, puts] of putsByKey(events, '/assign/')) assert.equal(puts.length, 1, `${key} written once`);
    const updates = (await view.history()).flatMap((record) => record.actions).filter((action) => (action as { type: string }).type === 'update');
    assert.equal(updates.length, 3, 'one audited update per host');
  });

  test("a reconcile's own writes coming back through the watch wake no reconcile; a hand edit of one does", async () => {
    const { fleet, view, controller, v1 } = await setUp('own-echoes');
    const reconciles = () => controller.logs.filter((line) => line.event === 'reconciled') as { writes?: number; reasons?: string[] }[];
    await sleep(300); // the agents' reports of setUp settled and reconciled
    fleet.commit('frontend 1.1.0', frontendAt('1.1.0'));
    await reconcileNow(controller);
    const seen = reconciles().length;
    assert.ok(reconciles().at(-1)!.writes! > 0, 'the commit wrote the first batch');
    await sleep(500); // 25 times the settle delay: an echo would have woken the loop by now
    assert.deepEqual(reconciles().slice(seen), [], 'no reconcile for its own writes');

    const now = frontendOf(await view.assignments());
    const untouched = [...v1.values()].find((record) => now.get(record.host.name)?.specHash === record.specHash)!;
    const edited = { ...untouched, spec: { ...untouched.spec, command: ['bin/other'] } };
    await view.store.applyBatch([{ put: view.layout.assignment(untouched.host.name, 'frontend'), value: edited }]);
    await waitUntil(() => reconciles().slice(seen).some((line) => line.reasons?.includes('observed') && line.writes! > 0), 'the hand edit reconciled');
    const restored = frontendOf(await view.assignments()).get(untouched.host.name);
    assert.deepEqual(restored?.spec.command, untouched.spec.command, 'and put right');
    assert.equal(computeSpecHash('frontend', restored!.tag, restored!.host, restored!.spec), restored!.specHash);
  });

  test('a batch not healthy within progressDeadlineSeconds is reverted, recorded in rollouts/, and not retried until the job changes', async () => {
    const { fleet, view, controller, v1 } = await setUp('revert');
    const events = await view.record();
    const badSha = fleet.commit('frontend 2.0.0 (crashes)', frontendAt('2.0.0'));
    await reconcileNow(controller);
    const [first] = await waitUntil(() => (updatedHosts(events).length > 0 ? updatedHosts(events) : undefined), 'the first batch');
    assert.equal(first, 'web-a1');
    const bad = frontendOf(await view.assignments()).get('web-a1')!;
    const startedAt = Date.now();
    await view.reportStatus('web-a1', 'frontend', bad.specHash, 'CrashLoop');

    const rolloutKey = view.layout.rollout('frontend');
    const failure = await waitUntil(async () => {
      const record = (await view.values(rolloutKey)).get(rolloutKey) as RolloutRecord | undefined;
      return record?.state === 'Failed' ? record : undefined;
    }, 'the failed rollout record', 9000);
    assert.ok(Date.now() - startedAt >= 4000, `failed after ${Date.now() - startedAt} ms, not before the 5 s deadline`);
    assert.equal(failure.commit, badSha);
    assert.equal(failure.reason, 'web-a1 not healthy within 5s (CrashLoop)');
    assert.ok(failure.failedAt);
    assert.deepEqual([failure.batch, failure.batches, failure.failedHosts, failure.revertedHosts, failure.revertedTo], [1, 3, ['web-a1'], ['web-a1'], v1.get('web-a1')!.commit]);
    const reverted = frontendOf(await view.assignments());
    for (const host of FRONTEND_HOSTS) assert.equal(reverted.get(host)!.specHash, v1.get(host)!.specHash, `${host} runs the previous spec`);
    assert.equal(reverted.get('web-a1')!.spec.version, '1.0.0');
    const audit = (await view.history()).flatMap((record) => record.actions) as { type: string; host?: string }[];
    assert.ok(audit.some((action) => action.type === 'revert' && action.host === 'web-a1'));
    assert.ok(audit.some((action) => action.type === 'rollout-failed'));
    const reverts = (await view.history()).filter((record) => record.outcome === 'RolloutFailed');
    assert.deepEqual(reverts.map((record) => record.commit.sha), [badSha], 'the revert is audited under the commit that failed');

    // The agent goes back to the old release; the controller must not try 2.0.0 again.
    await view.reportHealthy('web-a1', 'frontend', v1.get('web-a1')!.specHash, new Date(Date.now() - 60_000));
    const puts = events.length;
    for (let poll = 0; poll < 4; poll++) {
      await sleep(400);
      await reconcileNow(controller);
    }
    assert.deepEqual(
      events.slice(puts).filter((event) => event.type !== 'resync' && event.key.includes('/assign/')),
      [],
      'the failed spec is not retried',
    );

    const fixSha = fleet.commit('frontend 2.0.1', frontendAt('2.0.1'));
    await reconcileNow(controller);
    const retried = await waitUntil(async () => {
      const record = frontendOf(await view.assignments()).get('web-a1')!;
      return record.spec.version === '2.0.1' ? record : undefined;
    }, 'the new spec rolling');
    assert.equal(retried.commit, fixSha);
    const fresh = (await view.values(rolloutKey)).get(rolloutKey) as RolloutRecord;
    assert.deepEqual([fresh.state, fresh.commit], ['InProgress', fixSha], 'a new spec replaces the failure with a new rollout');
    assert.equal(frontendOf(await view.assignments()).get('web-a2')!.spec.version, '1.0.0', 'still one batch at a time');
  });
});

function frontendOf(assignments: Map<string, AssignmentRecord>): Map<string, AssignmentRecord> {
  return new Map([...assignments].filter(([, record]) => record.job === 'frontend').map(([, record]) => [record.host.name, record]));
}

/** Hosts whose frontend assignment was put (a new spec), in the order they were. */
function updatedHosts(events: readonly RecordedEvent[]): string[] {
  const hosts: string[] = [];
  for (const event of events) {
    const match = event.type === 'put' ? /\/assign\/([^/]+)\/frontend$/.exec(event.key) : null;
    if (match && !hosts.includes(match[1]!)) hosts.push(match[1]!);
  }
  return hosts;
}
