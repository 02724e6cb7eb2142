// The host agent when its jobs misbehave, on a real etcd with real processes: a job that exits at
// once (crash loop with growing backoff), a job killed with SIGKILL (restarted), a health check that
// starts failing (out of naming within one interval, back on recovery).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { HostAgent } from '../../src/agent/host-agent.js';
import type { AssignmentRecord } from '../../src/store/records.js';
import {
  agentRootDir,
  buildTarball,
  echoAssignment,
  httpStatus,
  isAlive,
  namingKeys,
  startAgent,
  trackPid,
  waitForStatus,
  tearDownAgentTest,
} from '../fixtures/agent-harness.js';
import { FleetView, sleep, waitUntil } from '../fixtures/controller-harness.js';
import { freePort, sharedEtcd, uniquePrefix, type SharedEtcd } from '../fixtures/etcd-server.js';

const HOST = 'agent-f1';
/** Short backoff, so a crash loop shows within seconds; a crash loop from the 4th exit in 30 s. */
const POLICY = { initialBackoffMs: 100, maxBackoffMs: 1_600, resetAfterMs: 10_000, crashLoopExits: 3, crashLoopWindowMs: 30_000 };
let etcd: SharedEtcd;
let view: FleetView;
let root: string;
let agent: HostAgent;

before(async () => {
  etcd = await sharedEtcd();
  const prefix = uniquePrefix('host-agent-faults');
  view = new FleetView(etcd.url, prefix);
  root = await agentRootDir();
  ({ agent } = await startAgent({ host: HOST, root, etcdPrefix: prefix, etcdUrl: etcd.url, restartPolicy: POLICY }));
});

after(() => tearDownAgentTest(view, etcd));

const assign = (record: AssignmentRecord) => view.store.applyBatch([{ put: view.layout.assignment(HOST, record.job), value: record }]);

test('a job that exits at once goes into CrashLoop, restarted with growing backoff, not in a busy loop', async () => {
  const artifact = await buildTarball(root, 'exits-at-once', 'process.exit(1);');
  const port = await freePort();
  const record = echoAssignment(HOST, 'crasher', { port, spec: { artifact: { url: pathToFileURL(artifact.file).href, sha256: artifact.sha256 } } });
  await assign(record);

  // Every exit the supervisor saw, from the instance's own status, for the backoff's shape.
  const exits: number[] = [];
  const watchedMs = 4_000;
  const instance = await waitUntil(() => agent.instancesByJob().get('crasher'), 'the instance');
  const deadline = Date.now() + watchedMs;
  while (Date.now() < deadline) {
    const at = instance.status().lastExit?.at;
    if (at !== undefined && !exits.includes(Date.parse(at))) exits.push(Date.parse(at));
    await sleep(10);
  }
  const gaps = exits.slice(1).map((at, index) => at - exits[index]!);
  console.log(`crash loop: ${exits.length} exits in ${watchedMs} ms, gaps ${gaps.join(', ')} ms`);
  // 100, 200, 400, 800, 1600 ms of backoff (plus node's start): about 5; a busy loop would be hundreds.
  assert.ok(exits.length >= 4 && exits.length <= 8, `${exits.length} exits in ${watchedMs} ms`);
  assert.ok(gaps.at(-1)! > 3 * gaps[0]!, `the backoff grows: gaps ${gaps.join(', ')}`);

  const status = await waitForStatus(view, HOST, 'crasher', (s) => s.state === 'CrashLoop', 'CrashLoop in status');
  assert.ok(status.restarts >= 3, `restarts ${status.restarts}`);
  assert.equal(status.lastExit?.code, 1);
  assert.equal((await namingKeys(view, 'svc.crasher')).size, 0, 'a crashing instance is not in naming');
  await view.store.applyBatch([{ delete: view.layout.assignment(HOST, 'crasher') }]);
});

test('a job killed with SIGKILL is restarted: new pid, restarts counted, healthy and registered again', async () => {
  const port = await freePort();
  const record = echoAssignment(HOST, 'victim', { port });
  await assign(record);
  const before = await waitForStatus(view, HOST, 'victim', (s) => s.state === 'Healthy', 'victim Healthy');
  const namingKey = view.layout.naming('svc.victim', HOST, port);
  const pid = before.pid!;
  trackPid(pid);
  process.kill(pid, 'SIGKILL');

  const after = await waitForStatus(view, HOST, 'victim', (s) => s.state === 'Healthy' && s.pid !== undefined && s.pid !== pid, 'victim Healthy on a new pid');
  assert.ok(!isAlive(pid));
  assert.ok(isAlive(after.pid!));
  assert.equal(after.restarts, before.restarts + 1);
  assert.equal(after.lastExit?.signal, 'SIGKILL');
  assert.equal(after.specHash, record.specHash);
  assert.equal(await httpStatus(port), 200);
  await waitUntil(async () => (await namingKeys(view, 'svc.victim')).has(namingKey), 'victim back in naming');
});

test('a failing health check takes the endpoint out of naming within one interval, and recovery puts it back', async () => {
  const flag = path.join(root, 'healthy-flag');
  await writeFile(flag, '');
  const port = await freePort();
  const intervalSeconds = 1;
  const record = echoAssignment(HOST, 'flaky', { port, spec: { health: { exec: { command: ['test', '-f', flag] }, intervalSeconds, timeoutSeconds: 1 } } });
  await assign(record);
  const healthy = await waitForStatus(view, HOST, 'flaky', (s) => s.state === 'Healthy', 'flaky Healthy');
  const namingKey = view.layout.naming('svc.flaky', HOST, port);
  await waitUntil(async () => (await namingKeys(view, 'svc.flaky')).has(namingKey), 'flaky in naming');

  const failedAt = Date.now();
  await rm(flag);
  await waitUntil(async () => !(await namingKeys(view, 'svc.flaky')).has(namingKey), 'flaky out of naming', 5_000);
  const removedMs = Date.now() - failedAt;
  const unhealthy = await waitForStatus(view, HOST, 'flaky', (s) => s.state === 'Unhealthy', 'flaky Unhealthy');
  assert.match(unhealthy.lastError ?? '', /health check: exit 1/);
  assert.equal(unhealthy.pid, healthy.pid, 'an unhealthy instance is not restarted');

  const recoveredAt = Date.now();
  await writeFile(flag, '');
  await waitUntil(async () => (await namingKeys(view, 'svc.flaky')).has(namingKey), 'flaky back in naming', 5_000);
  const restoredMs = Date.now() - recoveredAt;
  console.log(`health: out of naming ${removedMs} ms after the check started failing, back ${restoredMs} ms after it passed (interval ${intervalSeconds * 1000} ms)`);
  // One interval, plus a poll of this test and a probe's run time.
  assert.ok(removedMs <= intervalSeconds * 1000 + 500, `removed after ${removedMs} ms`);
  assert.ok(restoredMs <= intervalSeconds * 1000 + 500, `restored after ${restoredMs} ms`);
  const back = await waitForStatus(view, HOST, 'flaky', (s) => s.state === 'Healthy', 'flaky Healthy again');
  assert.equal(back.pid, healthy.pid);
  assert.equal(back.lastError, undefined);
});

test('a status key deleted or garbled by hand is written again at once, and nothing restarts', async () => {
  const port = await freePort();
  const record = echoAssignment(HOST, 'reported', { port });
  await assign(record);
  const healthy = await waitForStatus(view, HOST, 'reported', (s) => s.state === 'Healthy', 'reported Healthy');
  const statusKey = view.layout.status(HOST, 'reported');

  for (const tamper of [() => view.store.client.delete().key(statusKey).exec(), () => view.store.client.put(statusKey).value('not json').exec()]) {
    const tamperedAt = performance.now();
    await tamper();
    const back = await waitForStatus(view, HOST, 'reported', (s) => s.state === 'Healthy', 'reported status written again', 5_000);
    const restoredMs = performance.now() - tamperedAt;
    // A rollout waiting on this instance would otherwise count it as not up (and revert on its deadline).
    assert.ok(restoredMs < 1_000, `status back after ${restoredMs.toFixed(0)} ms`);
    assert.equal(back.pid, healthy.pid);
    assert.equal(back.restarts, healthy.restarts);
    assert.equal(back.specHash, record.specHash);
  }
  assert.equal(await httpStatus(port), 200);
});
