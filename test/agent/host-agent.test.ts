// The host agent end to end on a real etcd with real processes: deploy and register, refuse bad
// input while the old release keeps running, and drain on removal. Faults (crashes, kills, etcd
// away, failing health) are in host-agent-faults.test.ts; the controller round trip in
// host-agent-controller.test.ts.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readlink } from 'node:fs/promises';
import path from 'node:path';
import { jobPaths } from '../../src/agent/agent-layout.js';
import type { AgentRecord, AssignmentRecord, NamingRecord } from '../../src/store/records.js';
import {
  agentRootDir,
  echoAssignment,
  HOST_IP,
  httpStatus,
  isAlive,
  namingKeys,
  startAgent,
  statusOf,
  trackPid,
  waitForStatus,
  tearDownAgentTest,
} from '../fixtures/agent-harness.js';
import { removalRecord } from '../../src/controller/removal-records.js';
import { FleetView, sleep, waitUntil } from '../fixtures/controller-harness.js';
import { freePort, startEtcd, uniquePrefix, type EtcdServer } from '../fixtures/etcd-server.js';

const HOST = 'agent-a1';
let etcd: EtcdServer;
let view: FleetView;
let root: string;

before(async () => {
  etcd = await startEtcd();
  const prefix = uniquePrefix('host-agent');
  view = new FleetView(etcd.url, prefix);
  root = await agentRootDir();
  await startAgent({ host: HOST, root, etcdPrefix: prefix, etcdUrl: etcd.url });
});

after(() => tearDownAgentTest(view, etcd));

const assign = (record: AssignmentRecord) => view.store.applyBatch([{ put: view.layout.assignment(HOST, record.job), value: record }]);

/** Deploys `job` and waits until it is Healthy and registered; returns its status and naming key. */
async function deployHealthy(job: string, port: number): Promise<{ record: AssignmentRecord; pid: number; namingKey: string }> {
  const record = echoAssignment(HOST, job, { port });
  await assign(record);
  const status = await waitForStatus(view, HOST, job, (s) => s.state === 'Healthy' && s.specHash === record.specHash, `${job} Healthy`);
  const namingKey = view.layout.naming(`svc.${job}`, HOST, port);
  await waitUntil(async () => (await namingKeys(view, `svc.${job}`)).has(namingKey), `${job} in naming`);
  return { record, pid: status.pid!, namingKey };
}

/** The echo server's own start time: spawn to /health answering, without the agent. */
async function measureStartMs(agentRoot: string): Promise<number> {
  const port = await freePort();
  const startedAt = Date.now();
  const child = spawn(path.join(jobPaths(agentRoot, 'web').current, 'bin/server.js'), ['--port', String(port), '--host', HOST_IP], { stdio: 'ignore', detached: true });
  trackPid(child.pid);
  try {
    while ((await httpStatus(port)) !== 200) {
      if (Date.now() - startedAt > 5_000) throw new Error('the echo server alone did not start within 5 s');
      await sleep(5);
    }
    return Date.now() - startedAt;
  } finally {
    child.kill('SIGKILL');
  }
}

test('an assignment becomes a healthy instance: status with its pid, naming under the lease, the agent registered', async () => {
  const port = await freePort();
  const record = echoAssignment(HOST, 'web', { port });
  const namingKey = view.layout.naming('svc.web', HOST, port);
  const events = await view.record();
  const putAt = Date.now();
  await assign(record);
  const registered = await waitUntil(() => events.find((event) => event.type === 'put' && event.key === namingKey), 'naming entry');
  const healthyAt = await waitUntil(() => events.find((event) => event.type === 'put' && event.key === view.layout.status(HOST, 'web') && (event.value as { state?: string }).state === 'Healthy'), 'Healthy status');
  const startMs = await measureStartMs(root);
  console.log(`put → naming key present: ${registered.at - putAt} ms; put → Healthy status: ${healthyAt.at - putAt} ms; the job alone starts in ${startMs} ms`);
  const states = events.flatMap((event) => (event.type === 'put' && event.key === view.layout.status(HOST, 'web') ? [(event.value as { state: string }).state] : []));
  assert.ok(!states.includes('Unhealthy'), `a starting instance is not reported Unhealthy: ${states.join(' → ')}`);

  const status = await statusOf(view, HOST, 'web');
  assert.equal(status?.state, 'Healthy');
  assert.equal(status.specHash, record.specHash);
  assert.ok(status.pid !== undefined && isAlive(status.pid), 'the status names a live pid');
  assert.equal(await httpStatus(port), 200);
  assert.deepEqual((await namingKeys(view, 'svc.web')).get(namingKey) as NamingRecord, { ip: HOST_IP, port, weight: 1, host: HOST, job: 'web', specHash: record.specHash, tag: record.tag });

  const agentKey = view.layout.agent(HOST);
  const [agentValue] = (await view.store.client.get(agentKey).exec()).kvs;
  assert.ok(agentValue, 'agents/<host> exists');
  assert.notEqual(agentValue.lease, '0', 'agents/<host> is under a lease');
  const [namingValue] = (await view.store.client.get(namingKey).exec()).kvs;
  assert.equal(namingValue?.lease, agentValue.lease, 'the naming entry shares the agent lease');
  const facts = JSON.parse(agentValue.value.toString()) as AgentRecord;
  assert.equal(facts.host, HOST);
  assert.equal(facts.agentVersion, 'test');

  // What the issue budgets (300 ms plus the job's start time), measured here, asserted loosely.
  assert.ok(registered.at - putAt < 5_000, `registered after ${registered.at - putAt} ms`);
});

test('a new assignment with a wrong sha256 fails with the digest in lastError; the old release keeps running', async () => {
  const port = await freePort();
  const { record, pid } = await deployHealthy('digest', port);
  const current = await readlink(jobPaths(root, 'digest').current);
  const wrongSha = 'f'.repeat(64);
  const bad = echoAssignment(HOST, 'digest', { port, spec: { version: '1.1.1', artifact: { ...record.spec.artifact, sha256: wrongSha } } });
  await assign(bad);

  const status = await waitForStatus(view, HOST, 'digest', (s) => s.lastError?.includes(bad.specHash.slice(0, 12)) === true, 'the deploy error');
  assert.equal(status.state, 'Failed', 'the newer spec failed here: the controller sees it (and reverts)');
  assert.match(status.lastError!, /sha256 mismatch/);
  assert.ok(status.lastError!.includes(wrongSha), `lastError names the expected digest: ${status.lastError}`);
  assert.equal(status.specHash, record.specHash, 'the status still describes the release that runs');
  assert.equal(status.pid, pid);
  assert.ok(isAlive(pid));
  assert.equal(await httpStatus(port), 200);
  assert.equal(await readlink(jobPaths(root, 'digest').current), current, '`current` unchanged');
  assert.ok(!existsSync(path.join(jobPaths(root, 'digest').releasesDir, bad.specHash)), 'no release directory for the refused spec');
});

test('a config template with an unknown variable fails the deploy; the old release keeps running', async () => {
  const port = await freePort();
  const { record, pid, namingKey } = await deployHealthy('template', port);
  const current = await readlink(jobPaths(root, 'template').current);
  const bad = echoAssignment(HOST, 'template', { port, spec: { configs: [{ path: 'conf/app.yaml', template: 'listen: {{host.ip}}:{{ports.nope}}\n' }] } });
  await assign(bad);

  const status = await waitForStatus(view, HOST, 'template', (s) => s.lastError?.includes(bad.specHash.slice(0, 12)) === true, 'the deploy error');
  assert.match(status.lastError!, /conf\/app\.yaml/);
  assert.match(status.lastError!, /nope/);
  assert.equal(status.specHash, record.specHash);
  assert.equal(status.pid, pid);
  assert.ok(isAlive(pid));
  assert.equal(await readlink(jobPaths(root, 'template').current), current, '`current` unchanged');
  assert.ok((await namingKeys(view, 'svc.template')).has(namingKey), 'still registered');
});

test('a removal record drains the instance (naming first), stops it, keeps data and logs, deletes its status', async () => {
  const port = await freePort();
  const { pid, namingKey } = await deployHealthy('removal', port);
  const paths = jobPaths(root, 'removal');
  await view.store.applyBatch([{ put: view.layout.assignment(HOST, 'removal'), value: removalRecord('removal', 'c2', Date.now()) }]);

  await waitUntil(async () => !(await namingKeys(view, 'svc.removal')).has(namingKey), 'naming entry removed', 5_000);
  assert.ok(isAlive(pid), 'the process still runs while it drains');
  assert.equal(await httpStatus(port), 200);
  const goneAt = Date.now();
  await waitUntil(() => !isAlive(pid), 'the process stopped', 15_000);
  console.log(`removal: naming gone, process stopped ${Date.now() - goneAt} ms later`);
  await waitUntil(async () => (await statusOf(view, HOST, 'removal')) === undefined, 'status key deleted', 5_000);
  assert.ok(existsSync(paths.dataDir), 'data dir kept');
  assert.ok(existsSync(path.join(paths.logDir, 'stdout.log')), 'log dir kept');
});
