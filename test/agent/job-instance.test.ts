// A stopping instance drains for its own assignment's rollout.drainSeconds (DESIGN.md §2 agents:
// deregister → wait → SIGTERM), on a real etcd with a real agent and real processes: the time is
// measured from its naming entry being gone to its process being gone.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { removalRecord } from '../../src/controller/removal-records.js';
import type { RolloutPolicy } from '../../src/model/types.js';
import type { AssignmentRecord } from '../../src/store/records.js';
import { readSavedAssignments } from '../../src/agent/saved-assignments.js';
import { agentRootDir, echoAssignment, isAlive, namingKeys, startAgent, waitForStatus, tearDownAgentTest } from '../fixtures/agent-harness.js';
import { FleetView, sleep, waitUntil } from '../fixtures/controller-harness.js';
import { freePort, startEtcd, uniquePrefix, type EtcdServer } from '../fixtures/etcd-server.js';

let etcd: EtcdServer;
let view: FleetView;
let prefix: string;

before(async () => {
  etcd = await startEtcd();
  prefix = uniquePrefix('agent-drain');
  view = new FleetView(etcd.url, prefix);
});

after(() => tearDownAgentTest(view, etcd));

const rollout = (drainSeconds: number): RolloutPolicy => ({ maxParallel: 1, minHealthySeconds: 0, autoRevert: true, progressDeadlineSeconds: 60, drainSeconds });
const put = (host: string, job: string, value: unknown) => view.store.applyBatch([{ put: view.layout.assignment(host, job), value }]);

async function deployHealthy(host: string, record: AssignmentRecord): Promise<number> {
  await put(host, record.job, record);
  const status = await waitForStatus(view, host, record.job, (s) => s.state === 'Healthy' && s.specHash === record.specHash, `${record.job} Healthy`);
  await waitUntil(async () => (await namingKeys(view, `svc.${record.job}`)).size > 0, `${record.job} in naming`);
  return status.pid!;
}

/** Polls every 10 ms from now: when the job's naming entry was first seen gone, and when the process was. */
async function timeDrain(job: string, pid: number): Promise<{ goneMs: number; exitMs: number }> {
  const startMs = Date.now();
  let goneAtMs: number | undefined;
  while (isAlive(pid)) {
    if (goneAtMs === undefined && (await namingKeys(view, `svc.${job}`)).size === 0) goneAtMs = Date.now();
    if (Date.now() - startMs > 8_000) throw new Error(`${job} (pid ${pid}) still running after 8 s`);
    await sleep(10);
  }
  const exitAtMs = Date.now();
  // With no drain both can happen between two polls: then the entry must be gone once the process is.
  if (goneAtMs === undefined) {
    assert.equal((await namingKeys(view, `svc.${job}`)).size, 0, 'the naming entry left before the process stopped');
    goneAtMs = exitAtMs;
  }
  return { goneMs: goneAtMs - startMs, exitMs: exitAtMs - goneAtMs };
}

test('drainSeconds 0, set by a record that restarts nothing, stops the instance as soon as it leaves naming', async () => {
  const host = 'drain-a1';
  const root = await agentRootDir();
  await startAgent({ host, root, etcdPrefix: prefix, etcdUrl: etcd.url });
  const record = echoAssignment(host, 'quick', { port: await freePort(), ip: '127.0.0.71', spec: { rollout: rollout(2) } });
  const pid = await deployHealthy(host, record);

  const undrained: AssignmentRecord = { ...record, spec: { ...record.spec, rollout: rollout(0) } };
  assert.equal(undrained.specHash, record.specHash);
  await put(host, 'quick', undrained);
  await waitUntil(async () => (await readSavedAssignments(root)).find((saved) => saved.job === 'quick')?.spec.rollout.drainSeconds === 0, 'the agent took the new record');
  assert.ok(isAlive(pid), 'a drain change restarts nothing');
  assert.equal((await namingKeys(view, 'svc.quick')).size, 1, 'and keeps it in naming');

  await put(host, 'quick', removalRecord('quick', 'c2', Date.now()));
  const { goneMs, exitMs } = await timeDrain('quick', pid);
  console.log(`drainSeconds 0: naming entry gone after ${goneMs} ms, process gone ${exitMs} ms later`);
  assert.ok(exitMs < 600, `stopped at once after leaving naming (${exitMs} ms)`);
});

test('drainSeconds 1 holds the old process ~1 s after its naming entry is gone, even when the spec replacing it says 0', async () => {
  const host = 'drain-a2';
  await startAgent({ host, root: await agentRootDir(), etcdPrefix: prefix, etcdUrl: etcd.url });
  const options = { port: await freePort(), ip: '127.0.0.72' };
  const old = echoAssignment(host, 'held', { ...options, spec: { rollout: rollout(1) } });
  const pid = await deployHealthy(host, old);

  const next = echoAssignment(host, 'held', { ...options, spec: { env: { RELEASE: '2' }, rollout: rollout(0) } });
  assert.notEqual(next.specHash, old.specHash);
  await put(host, 'held', next);
  const { goneMs, exitMs } = await timeDrain('held', pid);
  console.log(`drainSeconds 1: naming entry gone after ${goneMs} ms, process gone ${exitMs} ms later`);
  assert.ok(exitMs >= 900, `the old spec's drain was kept (${exitMs} ms)`);
  assert.ok(exitMs < 2_000, `and not the default 2 s (${exitMs} ms)`);
  await waitForStatus(view, host, 'held', (s) => s.state === 'Healthy' && s.specHash === next.specHash, 'the new spec Healthy');
});
