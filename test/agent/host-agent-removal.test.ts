// Removal is an explicit act, and one agent serves a host (DESIGN.md §3a), on a real etcd with real
// processes: a vanished or garbled assign key, or a wipe of the whole prefix, never stops or
// restarts a job; only a RemovalRecord does. A second agent for a host is refused.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { removalRecord } from '../../src/controller/removal-records.js';
import type { AssignmentRecord } from '../../src/store/records.js';
import { anyJson } from '../../src/store/state-store.js';
import { agentRootDir, echoAssignment, httpStatus, isAlive, namingKeys, spawnAgent, startAgent, statusOf, waitForStatus, tearDownAgentTest } from '../fixtures/agent-harness.js';
import { FleetView, sleep, waitUntil } from '../fixtures/controller-harness.js';
import { freePort, startEtcd, uniquePrefix, type EtcdServer } from '../fixtures/etcd-server.js';

let etcd: EtcdServer;
let view: FleetView;
let prefix: string;

before(async () => {
  etcd = await startEtcd();
  prefix = uniquePrefix('agent-removal');
  view = new FleetView(etcd.url, prefix);
});

after(() => tearDownAgentTest(view, etcd));

const put = (host: string, job: string, value: unknown) => view.store.applyBatch([{ put: view.layout.assignment(host, job), value }]);

async function deployHealthy(host: string, job: string): Promise<{ record: AssignmentRecord; pid: number; port: number }> {
  const port = await freePort();
  const record = echoAssignment(host, job, { port });
  await put(host, job, record);
  const status = await waitForStatus(view, host, job, (s) => s.state === 'Healthy' && s.specHash === record.specHash, `${job} Healthy`);
  await waitUntil(async () => (await namingKeys(view, `svc.${job}`)).size > 0, `${job} in naming`);
  return { record, pid: status.pid!, port };
}

test('a deleted or garbled assign key leaves the job running and orphaned; restoring it changes nothing; a removal record stops it within 2 s', async () => {
  const host = 'rm-a1';
  await startAgent({ host, root: await agentRootDir(), etcdPrefix: prefix, etcdUrl: etcd.url });
  const { record, pid, port } = await deployHealthy(host, 'keep');

  await view.store.applyBatch([{ delete: view.layout.assignment(host, 'keep') }]);
  const orphaned = await waitForStatus(view, host, 'keep', (s) => s.orphaned !== undefined, 'orphaned status');
  assert.match(orphaned.orphaned!.reason, /deleted/);
  assert.equal(orphaned.pid, pid);
  await sleep(1500);
  assert.ok(isAlive(pid), 'still running after the key vanished');
  assert.equal(await httpStatus(port), 200);
  assert.equal((await namingKeys(view, 'svc.keep')).size, 1, 'still in naming');

  await view.store.client.put(view.layout.assignment(host, 'keep')).value('{ not json');
  await waitForStatus(view, host, 'keep', (s) => /invalid value/.test(s.orphaned?.reason ?? ''), 'orphaned by a garbled value');
  assert.ok(isAlive(pid), 'still running with a garbled value');

  await put(host, 'keep', { ...record, assignedAt: new Date().toISOString() });
  const restored = await waitForStatus(view, host, 'keep', (s) => s.orphaned === undefined, 'no longer orphaned');
  assert.equal(restored.pid, pid, 'restoring the same spec restarts nothing');

  const removedAt = Date.now();
  await put(host, 'keep', removalRecord('keep', 'c2', removedAt));
  await waitUntil(() => !isAlive(pid), 'stopped by the removal record', 5_000);
  const stopMs = Date.now() - removedAt;
  console.log(`removal record → process stopped in ${stopMs} ms`);
  assert.ok(stopMs <= 2_000 + 1_000, `stopped within the drain budget (${stopMs} ms)`);
  await waitUntil(async () => (await statusOf(view, host, 'keep')) === undefined, 'status deleted');
});

test('an etcd wipe (del --prefix) restarts nothing: the agent registers again, rewrites its status and naming', async () => {
  const host = 'rm-a2';
  await startAgent({ host, root: await agentRootDir(), etcdPrefix: prefix, etcdUrl: etcd.url });
  const { pid, port } = await deployHealthy(host, 'wiped');
  await view.store.client.delete().prefix(`${prefix}/`).exec();

  await waitUntil(async () => (await view.store.getJson(view.layout.agent(host), anyJson)).entry !== undefined, 'agents/<host> back');
  const status = await waitForStatus(view, host, 'wiped', (s) => s.orphaned !== undefined, 'status rewritten, orphaned');
  assert.equal(status.pid, pid);
  await waitUntil(async () => (await namingKeys(view, 'svc.wiped')).size === 1, 'naming back');
  assert.ok(isAlive(pid));
  assert.equal(await httpStatus(port), 200);
});

test('a second agent for a host exits 1 naming the first: with the same root at once, with another root too', async () => {
  const host = 'rm-a3';
  const root = await agentRootDir();
  const args = (agentRoot: string) => ['--host', host, '--root', agentRoot, '--etcd', etcd.url, '--etcd-prefix', prefix, '--metrics-listen', '127.0.0.1:0', '--lease-ttl', '2s', '--no-watchdog'];
  const first = spawnAgent(args(root));
  try {
    await first.waitForLog((line) => line.event === 'agent_registered', 'first agent registered', 15_000);
    for (const agentRoot of [root, await agentRootDir()]) {
      const second = spawnAgent(args(agentRoot));
      const code = await new Promise<number | null>((resolve) => second.child.once('exit', resolve));
      assert.equal(code, 1, `a second agent on ${agentRoot === root ? 'the same' : 'another'} root exits 1`);
      assert.match(second.stderr.join(''), new RegExp(`another agent already runs for host ${host}: .*pid ${first.child.pid}`));
    }
    assert.equal(first.child.exitCode, null, 'the first agent keeps running');
  } finally {
    await first.kill();
  }
});

test('an agent whose --host is not a Host of the commit in force says so, naming the closest host, and keeps running', async () => {
  await view.store.applyBatch(
    ['lg-im-01', 'lg-im-02'].map((name) => ({ put: view.layout.host(name), value: { name, ip: '127.0.0.40', labels: {}, state: 'online', commit: 'c1' } })),
  );
  const { logs } = await startAgent({ host: 'lg-im-10', root: await agentRootDir(), etcdPrefix: prefix, etcdUrl: etcd.url });
  const line = await waitUntil(() => logs.find((entry) => entry.event === 'host_unknown'), 'host_unknown logged');
  assert.match(String(line.msg), /host lg-im-10 is not a Host \(2 hosts known; did you mean lg-im-01\?\)/);
  const known = await startAgent({ host: 'lg-im-02', root: await agentRootDir(), etcdPrefix: prefix, etcdUrl: etcd.url });
  await waitUntil(() => known.logs.find((entry) => entry.event === 'agent_registered'), 'known host registered');
  await sleep(300);
  assert.equal(known.logs.some((entry) => entry.event === 'host_unknown'), false);
});
