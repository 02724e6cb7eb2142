// Secrets end to end with real parts: a git fleet whose job takes a secret in a config file and in
// env, a controller and a host agent on its own loopback IP, one etcd. The value reaches the job
// (file 0600, release dir not world-readable), rotating it rolls the job to a new spec, a commit
// naming a secret nobody set is rejected until it is set, and the value is nowhere else: not in
// the logs, not under the fleet prefix (assignments, status, naming, audit), not in the console API.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { copyFileSync, readFileSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { jobPaths } from '../../src/agent/agent-layout.js';
import { connectEtcd } from '../../src/store/etcd-connection.js';
import { keyLayout } from '../../src/store/keys.js';
import { secretKeys, setSecret } from '../../src/store/secret-store.js';
import { agentRootDir, ECHO_ARTIFACT, echoJobYaml, startAgent, useControllerAndAgents, waitForStatus } from '../fixtures/agent-harness.js';
import { FleetView, startInProcess, waitUntil } from '../fixtures/controller-harness.js';
import { freePort, uniquePrefix } from '../fixtures/etcd-server.js';
import { createGitFleet } from '../fixtures/git-fleet.js';
import { runCli } from '../cli/run-cli.js';

const HOST = 'db-a1';
const HOST_IP = '127.0.0.27';
const setup = useControllerAndAgents();

function fleet(port: number, extraEnv = ''): Record<string, string | null> {
  return {
    'hosts.yaml': `apiVersion: ygg/v1
kind: Host
metadata: { name: ${HOST} }
spec: { ip: ${HOST_IP}, labels: { idc: a } }
`,
    'tree.yaml': `apiVersion: ygg/v1
kind: TreeNode
metadata: { tag: cop.acme_owt.shop_pdl.db_cluster.prod }
spec: { owners: [db-ops], hosts: [${HOST}] }
`,
    'jobs/api.yaml': echoJobYaml(
      'api',
      'cop.acme_owt.shop_pdl.db_cluster.prod_service.api_job.api',
      port,
      `  env: { DB_PASSWORD: '{{secret "db-password"}}'${extraEnv} }
  configs:
    - path: conf/db.yaml
      template: |
        user: api
        password: {{secret "db-password"}}
`,
    ),
  };
}

const secretValue = () => `v-${randomBytes(12).toString('hex')}`;

test('a secret reaches the job in a 0600 file and env, rotating it rolls the job, and it is nowhere else', async () => {
  const workDir = await agentRootDir();
  const repo = createGitFleet(path.join(workDir, 'fleet'));
  const port = await freePort();
  copyFileSync(ECHO_ARTIFACT, path.join(repo.dir, 'artifacts/echo-server-1.1.0.tar.gz'));
  repo.commit('api takes db-password', { ...fleet(port), 'jobs/frontend.yaml': null, 'jobs/search.yaml': null, 'services.yaml': null, 'artifacts/app.tar.gz': null });
  const prefix = uniquePrefix('secret-rotation');
  const keys = secretKeys(keyLayout(prefix).prefix);
  const client = await connectEtcd({ endpoints: [setup.etcd.url] });
  const first = secretValue();
  const second = secretValue();
  const third = secretValue();
  try {
    await setSecret(client, keys, 'db-password', Buffer.from(first), new Date());
    const view = (setup.view = new FleetView(setup.etcd.url, prefix));
    const controller = await startInProcess({ repo: repo.dir, etcdUrl: setup.etcd.url, etcdPrefix: prefix, listen: { host: '127.0.0.1', port: 0 } });
    setup.controller = controller;
    const root = path.join(workDir, 'agent');
    const agent = await startAgent({ host: HOST, root, etcdPrefix: prefix, etcdUrl: setup.etcd.url, controllerUrl: controller.url! });

    const assigned = await waitUntil(async () => (await view.assignments()).get(`${HOST}/api`), 'the assignment', 15_000);
    assert.equal(assigned.spec.secretVersions?.['db-password']?.version, 1);
    const running = await waitForStatus(view, HOST, 'api', (s) => s.state === 'Healthy' && s.specHash === assigned.specHash, 'api Healthy', 15_000);
    const current = jobPaths(root, 'api').current;
    const file = path.join(current, 'conf/db.yaml');
    assert.equal(readFileSync(file, 'utf8'), `user: api\npassword: ${first}\n`);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(statSync(realpathSync(current)).mode & 0o007, 0, 'the release directory is not world-readable');
    assert.ok(readFileSync(`/proc/${running.pid}/environ`, 'utf8').split('\0').includes(`DB_PASSWORD=${first}`));

    // Rotation: a new version, a new spec hash, the new value in the new release.
    await setSecret(client, keys, 'db-password', Buffer.from(second), new Date());
    const rotated = await waitUntil(async () => {
      const record = (await view.assignments()).get(`${HOST}/api`);
      return record && record.specHash !== assigned.specHash ? record : undefined;
    }, 'the rotated assignment', 15_000);
    assert.equal(rotated.spec.secretVersions?.['db-password']?.version, 2);
    await waitForStatus(view, HOST, 'api', (s) => s.state === 'Healthy' && s.specHash === rotated.specHash, 'api Healthy on version 2', 15_000);
    assert.equal(readFileSync(path.join(current, 'conf/db.yaml'), 'utf8'), `user: api\npassword: ${second}\n`);

    // A commit naming a secret nobody set is rejected whole, and goes in once it is set.
    repo.commit('api also takes api-token', fleet(port, `, API_TOKEN: '{{secret "api-token"}}'`));
    controller.loop.trigger('poll');
    const rejected = await waitUntil(async () => ((await view.current())?.rejected ? await view.current() : undefined), 'the rejection', 15_000);
    assert.deepEqual(rejected!.rejected!.errors, ['job api references secret api-token, which is not in the store: ygg secret set api-token --from-file FILE']);
    assert.equal((await view.assignments()).get(`${HOST}/api`)!.specHash, rotated.specHash, 'nothing of the rejected commit applied');
    await setSecret(client, keys, 'api-token', Buffer.from(third), new Date());
    const withToken = await waitUntil(async () => {
      const record = (await view.assignments()).get(`${HOST}/api`);
      return record?.spec.secretVersions?.['api-token'] ? record : undefined;
    }, 'the commit applied once api-token is set', 15_000);
    const final = await waitForStatus(view, HOST, 'api', (s) => s.state === 'Healthy' && s.specHash === withToken.specHash, 'api Healthy with api-token', 15_000);
    assert.equal((await view.current())?.rejected, undefined);
    assert.ok(readFileSync(`/proc/${final.pid}/environ`, 'utf8').split('\0').includes(`API_TOKEN=${third}`));

    // Nowhere else: logs, every key under the fleet prefix, the console API.
    const values = [first, second, third];
    const leaks = (text: string) => values.filter((value) => text.includes(value));
    assert.ok(controller.logs.length > 0 && agent.logs.some((line) => line.event === 'instance_started'), 'the logs are there to search');
    assert.deepEqual(leaks(JSON.stringify(controller.logs)), [], 'controller logs');
    assert.deepEqual(leaks(JSON.stringify(agent.logs)), [], 'agent logs');
    const fleetKeys = await client.getAll().prefix(keyLayout(prefix).prefix).strings();
    assert.ok(Object.keys(fleetKeys).some((key) => key.includes('/sync/history/')), 'the audit is there to search');
    assert.deepEqual(leaks(JSON.stringify(fleetKeys)), [], 'assign/, status/, naming/, sync/ keys');
    for (const api of ['/api/status', '/api/jobs/api', `/api/hosts/${HOST}`, '/api/tree', '/api/naming', '/api/history']) {
      const response = await fetch(`${controller.url}${api}`);
      assert.equal(response.status, 200, api);
      assert.deepEqual(leaks(await response.text()), [], api);
    }

    // A rotation planned against the cluster (no controller to apply it): versions, no value.
    await controller.close();
    setup.controller = undefined;
    const fourth = secretValue();
    await setSecret(client, keys, 'db-password', Buffer.from(fourth), new Date());
    const plan = await runCli('plan', '--repo', repo.dir, '--etcd', setup.etcd.url, '--etcd-prefix', prefix);
    assert.equal(plan.code, 0, plan.stderr);
    assert.match(plan.stdout, /~ secret db-password: version 2 → version 3/);
    assert.match(plan.stdout, /^~ api on db-a1: changed secrets$/m);
    assert.deepEqual(leaks(plan.stdout + (await runCli('plan', '--repo', repo.dir, '--etcd', setup.etcd.url, '--etcd-prefix', prefix, '--format', 'json')).stdout), [], 'ygg plan');
    assert.ok(!plan.stdout.includes(fourth));
  } finally {
    client.close();
  }
});
