// `ygg controller` as real processes on one etcd: leader election between two of them and takeover
// when the leader is SIGKILLed, and a controller SIGKILLed in the middle of a rollout and restarted.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { GuardFailedError } from '../../src/store/store-errors.js';
import { FleetView, putsByKey, sleep, spawnController, tempDir, waitUntil, type ControllerProcess } from '../fixtures/controller-harness.js';
import { sharedEtcd, uniquePrefix, type SharedEtcd } from '../fixtures/etcd-server.js';
import { FRONTEND_HOSTS, frontendAt, jobFile } from '../fixtures/fleet-changes.js';
import { createGitFleet } from '../fixtures/git-fleet.js';
import { repeatedKeys } from '../fixtures/json-keys.js';

const LEASE_TTL_SECONDS = 2;

describe('ygg controller processes', () => {
  let etcd: SharedEtcd;
  const processes: ControllerProcess[] = [];
  const cleanups: (() => Promise<void>)[] = [];

  before(async () => {
    etcd = await sharedEtcd();
  });
  after(async () => {
    for (const running of processes) await running.kill();
    for (const cleanup of cleanups.reverse()) await cleanup();
    await etcd.stop();
  });

  function start(id: string, repo: string, prefix: string, cacheDir: string): ControllerProcess {
    const args = ['--repo', repo, '--branch', 'main', '--etcd', etcd.url, '--etcd-prefix', prefix, '--interval', '1s',
      '--lease-ttl', `${LEASE_TTL_SECONDS}s`, '--listen', '127.0.0.1:0', '--cache-dir', cacheDir, '--id', id];
    const controller = spawnController(args);
    processes.push(controller);
    return controller;
  }

  const reconciled = (controller: ControllerProcess) => controller.logs.filter((line) => line.event === 'reconciled');

  test('two controllers: exactly one leads and writes; SIGKILL the leader and the standby takes over and continues', async () => {
    const prefix = uniquePrefix('two-controllers');
    const fleet = createGitFleet();
    const view = new FleetView(etcd.url, prefix);
    cleanups.push(() => view.close());
    const a = start('ctl-a', fleet.dir, prefix, tempDir('cache-a'));
    await a.waitForLog((line) => line.event === 'elected', 'ctl-a elected', 15_000);
    const b = start('ctl-b', fleet.dir, prefix, tempDir('cache-b'));
    const started = await b.waitForLog((line) => line.event === 'controller_started', 'ctl-b started', 15_000);
    assert.equal(started.leader, false, 'ctl-b is standby');
    assert.equal((await view.values(view.layout.leader)).get(view.layout.leader), 'ctl-a');

    await sleep(2500); // two polls of each
    assert.ok(reconciled(a).length >= 2, 'the leader reconciles');
    assert.deepEqual(reconciled(b), [], 'the standby does not reconcile');
    assert.equal(b.logs.filter((line) => line.event === 'elected').length, 0);
    // ctl-b's writes carry this guard: etcd refuses them while ctl-a holds the leader key.
    await assert.rejects(
      view.store.applyBatch([{ put: view.layout.syncCurrent, value: 'ctl-b was here' }], { key: view.layout.leader, value: 'ctl-b' }),
      GuardFailedError,
    );

    const killedAt = Date.now();
    await a.kill();
    await b.waitForLog((line) => line.event === 'elected', 'ctl-b elected', (LEASE_TTL_SECONDS + 5) * 1000);
    const takeoverMs = Date.now() - killedAt;
    assert.ok(takeoverMs <= (LEASE_TTL_SECONDS + 3) * 1000, `took over after ${takeoverMs} ms`);
    assert.equal((await view.values(view.layout.leader)).get(view.layout.leader), 'ctl-b');

    const sha = fleet.commit('Add worker', jobFile('worker'));
    await waitUntil(async () => (await view.current())?.commit.sha === sha, 'the new leader applying a new commit', 5000);
    const workers = [...(await view.assignments()).values()].filter((record) => record.job === 'worker');
    assert.deepEqual(workers.map((record) => record.host.name).sort(), [...FRONTEND_HOSTS]);
    // sync/current can land before the log line is read from ctl-b's stdout: wait for it too.
    await b.waitForLog((line) => line.event === 'reconciled' && line.commit === sha && (line.writes as number) > 0, 'ctl-b logging the writes', 5000);
    for (const line of [...a.lines, ...b.lines]) assert.deepEqual(repeatedKeys(line), [], `each key once: ${line}`);
  });

  test('SIGKILL in the middle of a rollout, then restart: the rollout continues where etcd says, nothing twice, nothing lost', async () => {
    const prefix = uniquePrefix('kill-mid-rollout');
    const fleet = createGitFleet();
    const firstSha = fleet.commit('Fast rollouts for frontend', frontendAt('1.0.0', '{ maxParallel: 1, minHealthySeconds: 1, progressDeadlineSeconds: 30 }'));
    const view = new FleetView(etcd.url, prefix);
    await view.registerAgents(FRONTEND_HOSTS);
    const stopAgents = view.autoHealthy();
    cleanups.push(() => view.close(), stopAgents);
    const cacheDir = tempDir('cache');
    const first = start('ctl-1', fleet.dir, prefix, cacheDir);
    await waitUntil(async () => (await view.current())?.result === 'Synced', 'version 1 deployed and healthy', 15_000);
    assert.equal((await view.current())!.commit.sha, firstSha);

    const events = await view.record();
    const sha = fleet.commit('frontend 1.1.0', frontendAt('1.1.0', '{ maxParallel: 1, minHealthySeconds: 1, progressDeadlineSeconds: 30 }'));
    const frontendPuts = () => [...putsByKey(events, '/assign/')].filter(([key]) => key.endsWith('/frontend'));
    await waitUntil(() => frontendPuts().length >= 2, 'the second batch', 10_000);
    await first.kill();
    assert.equal(frontendPuts().length, 2, 'killed with one host still to go');

    const second = start('ctl-2', fleet.dir, prefix, cacheDir);
    await second.waitForLog((line) => line.event === 'elected', 'the restarted controller elected', 15_000);
    await waitUntil(async () => {
      const current = await view.current();
      return current?.commit.sha === sha && current.result === 'Synced';
    }, 'the rollout finished by the restarted controller', 15_000);
    await sleep(300);

    const puts = putsByKey(events);
    for (const host of FRONTEND_HOSTS) {
      const values = puts.get(view.layout.assignment(host, 'frontend')) ?? [];
      assert.equal(values.length, 1, `${host}/frontend written exactly once`);
      assert.equal((values[0] as { spec: { version: string } }).spec.version, '1.1.0');
    }
    for (const [key, values] of puts) {
      for (let index = 1; index < values.length; index++) assert.notDeepEqual(values[index], values[index - 1], `${key} got the same value twice`);
    }
    assert.deepEqual([...puts.keys()].filter((key) => key.includes('/assign/') && !key.endsWith('/frontend')), [], 'other jobs untouched');
    const history = (await view.history()).filter((record) => record.commit.sha === sha);
    const updates = history.flatMap((record) => record.actions as { type: string; host: string }[]).filter((action) => action.type === 'update');
    assert.deepEqual(updates.map((action) => action.host).sort(), [...FRONTEND_HOSTS], 'each update audited once');
    assert.ok(history.every((record) => record.note === undefined), 'a restart is not a force-push');
    assert.ok(reconciled(second).some((line) => line.commit === sha && (line.writes as number) > 0), 'the restarted controller did the last batch');
  });
});
