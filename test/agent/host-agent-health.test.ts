// Health is probed where traffic arrives (DESIGN §3a): a host agent's http check connects to the
// host's IP from the assignment, the address naming registers. Real agents, processes and etcd; each
// host on its own loopback address, as in a local fleet.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { JobSpec } from '../../src/model/types.js';
import type { NamingRecord } from '../../src/store/records.js';
import { agentRootDir, echoAssignment, httpStatus, isAlive, namingKeys, startAgent, statusOf, waitForStatus, tearDownAgentTest } from '../fixtures/agent-harness.js';
import { FleetView, sleep, waitUntil } from '../fixtures/controller-harness.js';
import { freePort, sharedEtcd, uniquePrefix, type SharedEtcd } from '../fixtures/etcd-server.js';

let etcd: SharedEtcd;
let view: FleetView;
let prefix: string;

before(async () => {
  etcd = await sharedEtcd();
  prefix = uniquePrefix('host-agent-health');
  view = new FleetView(etcd.url, prefix);
});

after(() => tearDownAgentTest(view, etcd));

/** An agent for `host` at `ip`, running the echo job `job` (spec overrides in `spec`); returns its port and naming key. */
async function deploy(host: string, ip: string, job: string, spec: Partial<JobSpec> = {}) {
  const port = await freePort();
  const record = echoAssignment(host, job, { port, ip, spec });
  await startAgent({ host, root: await agentRootDir(), etcdPrefix: prefix, etcdUrl: etcd.url });
  const events = await view.record();
  await view.store.applyBatch([{ put: view.layout.assignment(host, job), value: record }]);
  return { port, record, events, namingKey: view.layout.naming(`svc.${job}`, host, port) };
}

test('a job bound to its host IP becomes healthy and is registered at that IP', async () => {
  const { port, record, namingKey } = await deploy('health-a', '127.0.0.21', 'bound');
  const status = await waitForStatus(view, 'health-a', 'bound', (s) => s.state === 'Healthy' && s.specHash === record.specHash, 'bound Healthy');
  const naming = await waitUntil(async () => (await namingKeys(view, 'svc.bound')).get(namingKey) as NamingRecord | undefined, 'bound in naming');
  assert.equal(naming.ip, '127.0.0.21');
  assert.equal(status.lastError, undefined);
  // The job really listens only there: loopback itself has nothing on the port.
  assert.equal(await httpStatus(port, '/health', '127.0.0.21'), 200);
  assert.equal(await httpStatus(port, '/health', '127.0.0.1'), 0);
});

test('a job bound to 127.0.0.1 only stays unhealthy, says why, and never enters naming', async () => {
  const command = ['bin/server.js', '--port', '{{ports.http}}', '--host', '127.0.0.1'];
  const { port, record, events, namingKey } = await deploy('health-b', '127.0.0.22', 'loopback', { command });
  const status = await waitForStatus(view, 'health-b', 'loopback', (s) => s.state === 'Unhealthy' && s.specHash === record.specHash, 'loopback Unhealthy');
  assert.equal(
    status.lastError,
    `health check: connect ECONNREFUSED 127.0.0.22:${port} — the check probes the host IP (the address naming registers); 127.0.0.1:${port} accepts: is the job bound to 127.0.0.1 only?`,
  );
  assert.ok(status.pid !== undefined && isAlive(status.pid), 'the process runs; only its address is wrong');
  assert.equal(await httpStatus(port, '/health', '127.0.0.1'), 200, 'the job answers on loopback');
  // Two more check intervals (1 s each): still out of naming, never written there at all.
  await sleep(2_200);
  assert.equal((await statusOf(view, 'health-b', 'loopback'))?.state, 'Unhealthy');
  assert.deepEqual([...(await namingKeys(view, 'svc.loopback')).keys()], []);
  assert.deepEqual(events.filter((event) => event.type === 'put' && event.key === namingKey), []);
});

test('a per-check host override probes the address it names', async () => {
  // Bound to neither the host IP nor loopback: only a check that goes where the override says passes.
  const command = ['bin/server.js', '--port', '{{ports.http}}', '--host', '127.0.0.24'];
  const health = { http: { port: 'http', path: '/health', host: '127.0.0.24' }, intervalSeconds: 1, timeoutSeconds: 1 };
  const { record, namingKey } = await deploy('health-c', '127.0.0.23', 'override', { command, health });
  await waitForStatus(view, 'health-c', 'override', (s) => s.state === 'Healthy' && s.specHash === record.specHash, 'override Healthy');
  const naming = await waitUntil(async () => (await namingKeys(view, 'svc.override')).get(namingKey) as NamingRecord | undefined, 'override in naming');
  assert.equal(naming.ip, '127.0.0.23', 'naming still registers the host IP');
});
