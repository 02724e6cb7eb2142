// The whole path once: a git fleet whose job's artifact is a repo path, a controller (in-process,
// serving GET /content/<sha256>) that assigns it, and a host agent that fetches it from the
// controller, runs it and reports it Healthy, as `ygg status` then shows.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { jobPaths } from '../../src/agent/agent-layout.js';
import { withCluster } from '../../src/cli/cluster.js';
import { fleetStatus } from '../../src/controller/fleet-status.js';
import type { NamingRecord } from '../../src/store/records.js';
import { agentRootDir, ECHO_ARTIFACT, ECHO_SHA256, httpStatus, namingKeys, runTestController, startAgent, useControllerAndAgents, waitForStatus } from '../fixtures/agent-harness.js';
import { FleetView, waitUntil } from '../fixtures/controller-harness.js';
import { freePort, uniquePrefix } from '../fixtures/etcd-server.js';
import { createGitFleet } from '../fixtures/git-fleet.js';

const HOST = 'web-a1';
/** The host's own loopback address: the job binds it, the agent probes it, naming registers it. */
const HOST_IP = '127.0.0.25';
const setup = useControllerAndAgents();

/** One host, one echo-server job from a repo path, one Service naming it. */
function fleetChanges(port: number): Record<string, string | null> {
  return {
    'hosts.yaml': `apiVersion: ygg/v1
kind: Host
metadata: { name: ${HOST} }
spec: { ip: ${HOST_IP}, labels: { idc: a, rack: r1 } }
`,
    'tree.yaml': `apiVersion: ygg/v1
kind: TreeNode
metadata:
  tag: cop.acme_owt.shop_pdl.web_cluster.prod
spec:
  owners: [web-ops]
  hosts: [${HOST}]
`,
    'jobs/frontend.yaml': `apiVersion: ygg/v1
kind: Job
metadata:
  name: frontend
  tag: cop.acme_owt.shop_pdl.web_cluster.prod_service.www_job.frontend
spec:
  version: 1.1.0
  artifact: { path: artifacts/echo-server-1.1.0.tar.gz, sha256: ${ECHO_SHA256} }
  command: [bin/server.js, --port, "{{ports.http}}", --host, "{{host.ip}}", --config, conf/app.yaml]
  ports: { http: ${port} }
  configs:
    - path: conf/app.yaml
      template: |
        name: {{job.name}}
        listen: {{host.ip}}:{{ports.http}}
  health: { http: { port: http, path: /health }, intervalSeconds: 1, timeoutSeconds: 1 }
`,
    'jobs/search.yaml': null,
    'services.yaml': `apiVersion: ygg/v1
kind: Service
metadata: { name: acme.shop.www }
spec: { job: frontend, port: http }
`,
    'artifacts/app.tar.gz': null,
  };
}

test('controller assigns a repo-path artifact, the agent fetches it from /content, runs it, and the fleet is Healthy', async () => {
  const workDir = await agentRootDir();
  const fleet = createGitFleet(path.join(workDir, 'fleet'));
  const port = await freePort();
  copyFileSync(ECHO_ARTIFACT, path.join(fleet.dir, 'artifacts/echo-server-1.1.0.tar.gz'));
  fleet.commit('One echo-server job on web-a1', fleetChanges(port));

  const prefix = uniquePrefix('host-agent-controller');
  const view = (setup.view = new FleetView(setup.etcd.url, prefix));
  const controller = (setup.controller = await runTestController({ repo: fleet.dir, cacheDir: path.join(workDir, 'cache'), etcdUrl: setup.etcd.url, etcdPrefix: prefix, id: 'host-agent-test' }));
  assert.ok(controller.url);
  // Not made beforehand: on a fresh host the agent creates its root.
  const root = path.join(workDir, 'agent');
  await startAgent({ host: HOST, root, etcdPrefix: prefix, etcdUrl: setup.etcd.url, controllerUrl: controller.url });

  const assignment = await waitUntil(async () => (await view.assignments()).get(`${HOST}/frontend`), 'the assignment', 15_000);
  assert.equal(assignment.spec.artifact.path, 'artifacts/echo-server-1.1.0.tar.gz');
  assert.equal(assignment.spec.artifact.url, undefined, 'a repo path: only the controller can serve it');
  const status = await waitForStatus(view, HOST, 'frontend', (s) => s.state === 'Healthy' && s.specHash === assignment.specHash, 'frontend Healthy', 15_000);
  assert.equal(await httpStatus(port, '/health', HOST_IP), 200);
  assert.ok(existsSync(path.join(jobPaths(root, 'frontend').current, 'conf/app.yaml')), 'configs rendered into the release');
  const namingKey = view.layout.naming('acme.shop.www', HOST, port);
  const naming = await waitUntil(async () => (await namingKeys(view, 'acme.shop.www')).get(namingKey) as NamingRecord | undefined, 'naming entry');
  assert.equal(naming.ip, HOST_IP);
  assert.equal(naming.specHash, status.specHash);

  // What `ygg status` prints, computed the way it does (etcd alone).
  const fleetView = await waitUntil(
    async () => {
      const summary = await withCluster({ etcd: setup.etcd.url, 'etcd-prefix': prefix }, async ({ mirror }) => fleetStatus(mirror.current(), mirror.observed(), []));
      return summary.jobs.find((job) => job.name === 'frontend')?.state === 'Healthy' ? summary : undefined;
    },
    'ygg status: frontend Healthy',
    10_000,
  );
  assert.deepEqual(
    fleetView.jobs.map((job) => [job.name, job.state, job.desired, job.healthy]),
    [['frontend', 'Healthy', 1, 1]],
  );
});
