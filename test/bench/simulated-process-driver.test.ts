// The fleet simulator's seam, end to end, so it cannot rot: five real HostAgents whose only
// difference from production is the SimulatedProcessDriver, a real controller and a real etcd. The
// controller assigns a job, every agent prepares the release, "starts" it, reports it Healthy and
// registers it in naming; a version bump then rolls through the same real code (stop, start).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { SimulatedProcessDriver } from '../../bench/simulated-process-driver.js';
import { commitSimFleet, hostIp, hostName, jobName, serviceName, type SimFleetShape } from '../../bench/sim-fleet-repo.js';
import type { NamingRecord, StatusRecord } from '../../src/store/records.js';
import { agentRootDir, ECHO_ARTIFACT, ECHO_SHA256, namingKeys, runTestController, startAgent, useControllerAndAgents, waitForStatus } from '../fixtures/agent-harness.js';
import { FleetView, waitUntil } from '../fixtures/controller-harness.js';
import { uniquePrefix } from '../fixtures/etcd-server.js';

const HOSTS = 5;
const SHAPE: SimFleetShape = { hosts: HOSTS, jobsPerCluster: 1, clusterSize: HOSTS, artifact: { file: ECHO_ARTIFACT, sha256: ECHO_SHA256 } };
const JOB = jobName(0, 0);
const SERVICE = serviceName(0, 0);
const setup = useControllerAndAgents();

test('simulated hosts run the real agent: assignment → Healthy status → naming, and a version bump rolls', async () => {
  const workDir = await agentRootDir();
  const repo = path.join(workDir, 'fleet');
  commitSimFleet(repo, SHAPE, 'five simulated hosts');
  const prefix = uniquePrefix('simulated-driver');
  const view = (setup.view = new FleetView(setup.etcd.url, prefix));
  const controller = (setup.controller = await runTestController({ repo, cacheDir: path.join(workDir, 'cache'), etcdUrl: setup.etcd.url, etcdPrefix: prefix, id: 'sim-test' }));
  const driver = new SimulatedProcessDriver({ healthyAfterMs: 50 });
  const agents = [];
  for (let index = 0; index < HOSTS; index++) {
    agents[index] = await startAgent({ host: hostName(index), root: path.join(workDir, hostName(index)), etcdPrefix: prefix, etcdUrl: setup.etcd.url, controllerUrl: controller.url!, processDriver: driver });
  }

  /** Waits for an assignment per host that `fresh` accepts, then for each to run Healthy and be in naming. */
  const healthyEverywhere = async (what: string, fresh: (index: number, specHash: string) => boolean) => {
    const assignments = await waitUntil(async () => {
      const all = await view.assignments();
      const hashes = Array.from({ length: HOSTS }, (_, index) => all.get(`${hostName(index)}/${JOB}`)?.specHash);
      return hashes.every((hash, index) => hash !== undefined && fresh(index, hash)) ? all : undefined;
    }, `${what}: ${HOSTS} assignments`, 15_000);
    const statuses: StatusRecord[] = [];
    for (let index = 0; index < HOSTS; index++) {
      const wanted = assignments.get(`${hostName(index)}/${JOB}`)!;
      statuses.push(await waitForStatus(view, hostName(index), JOB, (s) => s.state === 'Healthy' && s.specHash === wanted.specHash, `${what}: ${hostName(index)} Healthy`, 15_000));
    }
    // A spec hash is per host (the host is part of the rendered spec): each entry names its host's.
    const specHashOf = new Map(statuses.map((status, index) => [hostName(index), status.specHash]));
    const naming = await waitUntil(async () => {
      const entries = [...(await namingKeys(view, SERVICE)).values()] as NamingRecord[];
      return entries.length === HOSTS && entries.every((entry) => entry.specHash === specHashOf.get(entry.host)) ? entries : undefined;
    }, `${what}: ${HOSTS} naming entries of the assigned spec`);
    assert.deepEqual(naming.map((entry) => entry.ip).sort(), Array.from({ length: HOSTS }, (_, index) => hostIp(index)).sort());
    return statuses;
  };

  const first = await healthyEverywhere('first deploy', () => true);
  assert.ok(first.every((status) => status.pid! > 2 ** 22), 'simulated pids, beyond any real pid');
  assert.equal(driver.running, HOSTS);
  // /metrics figures come from the driver's table, not from a /proc that has no such pid.
  const figures = await agents[0]!.agent.instancesByJob().get(JOB)!.processMetrics();
  assert.equal(figures?.pid, first[0]!.pid);
  assert.ok(figures!.uptimeSeconds >= 0 && figures!.uptimeSeconds < 60, `uptime ${figures!.uptimeSeconds}`);

  commitSimFleet(repo, SHAPE, 'bump every job', () => '1.0.1');
  controller.loop.trigger('webhook');
  await healthyEverywhere('after the bump', (index, specHash) => specHash !== first[index]!.specHash);
  assert.equal(driver.running, HOSTS, 'the old simulated processes were stopped, one new each');
});
