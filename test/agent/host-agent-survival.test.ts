// "Never stops": jobs outlive their agent (SIGKILLed `ygg agent` process; the next one adopts the
// same pids) and outlive etcd (away for 10 s: nothing is stopped, naming and status come back).
// A private etcd, because this file kills and restarts it.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { StatusRecord } from '../../src/store/records.js';
import {
  agentRootDir,
  cleanUp,
  closeAgents,
  echoAssignment,
  httpStatus,
  isAlive,
  spawnAgent,
  startAgent,
  waitForStatus,
  type AgentProcess,
} from '../fixtures/agent-harness.js';
import { FleetView, sleep, waitUntil } from '../fixtures/controller-harness.js';
import { freePort, startEtcd, uniquePrefix, type EtcdServer } from '../fixtures/etcd-server.js';

let etcd: EtcdServer;
let view: FleetView;
let prefix: string;
const agentProcesses: AgentProcess[] = [];

before(async () => {
  etcd = await startEtcd();
  prefix = uniquePrefix('host-agent-survival');
  view = new FleetView(etcd.url, prefix);
});

after(async () => {
  try {
    for (const agent of agentProcesses) await agent.kill();
    await closeAgents();
  } finally {
    // Whatever failed above: no job, etcd or temp dir of this file outlives it.
    cleanUp();
    await view?.close().catch(() => undefined);
    await etcd?.stop();
  }
});

/** The lease a key is attached to ('0': none), or undefined when the key is absent. */
async function leaseOf(key: string): Promise<string | undefined> {
  const [kv] = (await view.store.client.get(key).exec()).kvs;
  return kv?.lease;
}

const freshHealthy = (pid: number, sinceMs: number) => (status: StatusRecord) => status.state === 'Healthy' && status.pid === pid && Date.parse(status.updatedAt) >= sinceMs;

test('a SIGKILLed agent leaves its jobs running; the restarted agent adopts them (same pids) and re-registers them', async () => {
  const host = 'agent-s1';
  const root = await agentRootDir();
  const port = await freePort();
  // No twin watchdog: here the test restarts the agent, so that the adoption is what is tested.
  const args = ['--host', host, '--root', root, '--etcd', etcd.url, '--etcd-prefix', prefix, '--metrics-listen', '127.0.0.1:0', '--lease-ttl', '2s', '--no-watchdog'];
  const first = spawnAgent(args);
  agentProcesses.push(first);
  const record = echoAssignment(host, 'survivor', { port });
  await view.store.applyBatch([{ put: view.layout.assignment(host, 'survivor'), value: record }]);
  const started = await waitForStatus(view, host, 'survivor', (s) => s.state === 'Healthy', 'survivor Healthy', 15_000);
  const pid = started.pid!;
  await first.waitForLog((line) => line.event === 'instance_started' && line.job === 'survivor', 'instance_started');
  const namingKey = view.layout.naming('svc.survivor', host, port);
  const firstLease = await waitUntil(() => leaseOf(namingKey), 'naming entry of the first agent');

  await first.kill();
  for (let probe = 0; probe < 4; probe++) {
    await sleep(250);
    assert.ok(isAlive(pid), 'the job outlives its agent');
    assert.equal(await httpStatus(port), 200);
  }

  const restartedAt = Date.now();
  const second = spawnAgent(args);
  agentProcesses.push(second);
  const adopted = await second.waitForLog((line) => line.event === 'instance_adopted' && line.job === 'survivor', 'instance_adopted', 15_000);
  assert.equal(adopted.pid, pid);
  assert.equal(second.logs.some((line) => line.event === 'instance_started'), false, 'nothing was restarted');
  const status = await waitForStatus(view, host, 'survivor', freshHealthy(pid, restartedAt), 'Healthy from the second agent');
  assert.equal(status.specHash, record.specHash);
  assert.ok(isAlive(pid));
  // The endpoint is held by the new agent's lease, not the dead one's (which expires by itself).
  const secondLease = await waitUntil(async () => {
    const [naming, agent] = [await leaseOf(namingKey), await leaseOf(view.layout.agent(host))];
    return naming !== undefined && naming !== firstLease && naming === agent ? naming : undefined;
  }, 'naming under the second agent lease');
  console.log(`agent restart: adopted pid ${pid} ${Number(adopted.time) - restartedAt} ms after the restart; lease ${firstLease} → ${secondLease}`);
  await second.kill();
});

test('etcd away for 10 s stops no job; when it returns, the agent re-registers and naming and status come back', async () => {
  const host = 'agent-s2';
  const root = await agentRootDir();
  const port = await freePort();
  const { logs } = await startAgent({ host, root, etcdPrefix: prefix, etcdUrl: etcd.url, leaseTtlSeconds: 2 });
  await view.store.applyBatch([{ put: view.layout.assignment(host, 'steady'), value: echoAssignment(host, 'steady', { port }) }]);
  const { pid } = await waitForStatus(view, host, 'steady', (s) => s.state === 'Healthy', 'steady Healthy');
  const namingKey = view.layout.naming('svc.steady', host, port);
  const leaseBefore = await waitUntil(() => leaseOf(namingKey), 'naming entry');

  // SIGKILL keeps etcd's data (stop() would delete it): an outage, not a new cluster.
  await etcd.kill();
  const outageMs = 10_000;
  const downUntil = Date.now() + outageMs;
  let probes = 0;
  while (Date.now() < downUntil) {
    await sleep(500);
    assert.ok(isAlive(pid!), 'the job keeps running while etcd is away');
    assert.equal(await httpStatus(port), 200);
    probes++;
  }
  assert.ok(logs.some((line) => line.event === 'lease_lost'), 'the agent noticed its lease was lost');
  const backAt = Date.now();
  await etcd.restart();

  const leaseAfter = await waitUntil(async () => {
    const [naming, agent] = [await leaseOf(namingKey), await leaseOf(view.layout.agent(host))];
    return naming !== undefined && naming !== leaseBefore && naming === agent ? naming : undefined;
  }, 'naming and agents/<host> under a new lease', 15_000);
  const recoveredMs = Date.now() - backAt;
  console.log(`etcd outage: ${probes} probes in ${outageMs} ms all served by pid ${pid}; back in naming ${recoveredMs} ms after etcd returned (lease ${leaseBefore} → ${leaseAfter})`);
  // Status is not leased: it outlived the outage, and still tells the truth.
  const status = await waitForStatus(view, host, 'steady', (s) => s.state === 'Healthy', 'Healthy status');
  assert.equal(status.pid, pid);
  // Past the old lease's TTL: had anything stayed on it, it would vanish now.
  await sleep(2_500);
  assert.equal(await leaseOf(namingKey), leaseAfter, 'naming entry still there after the old lease expired');
  assert.equal(await leaseOf(view.layout.agent(host)), leaseAfter);
  assert.ok(isAlive(pid!));
});
