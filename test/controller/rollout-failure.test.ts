// A rollout that fails, end to end on real parts: a git fleet, the controller (in-process, with its
// HTTP face), two host agents on their own loopback addresses running the real echo server, and a
// commit whose release exits 1. The rollout is seen rolling, then failing; the batch goes back to the
// previous spec; `/api/status`, `ygg status` and `ygg history` say which batch, which host, why and
// what was reverted, and the audit record of the revert is filed under the commit that failed, not
// under the unrelated commit in force by then.
import assert from 'node:assert/strict';
import { copyFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import type { ControllerStatus, JobHealth } from '../../src/server/controller-status.js';
import type { AssignmentRecord } from '../../src/store/records.js';
import { runCli } from '../cli/run-cli.js';
import { agentRootDir, buildTarball, ECHO_ARTIFACT, ECHO_SHA256, runTestController, startAgent, useControllerAndAgents, waitForStatus } from '../fixtures/agent-harness.js';
import { FleetView, waitUntil } from '../fixtures/controller-harness.js';
import { freePort, uniquePrefix } from '../fixtures/etcd-server.js';
import { createGitFleet } from '../fixtures/git-fleet.js';

/** Each host on its own loopback address: both instances bind the same port without clashing. */
const HOSTS = [
  { name: 'web-a1', ip: '127.0.0.41' },
  { name: 'web-a2', ip: '127.0.0.42' },
] as const;
const DEADLINE_SECONDS = 5;

const setup = useControllerAndAgents();

/** The small fleet's own jobs, gone in the first commit. */
const REMOVED = { 'jobs/search.yaml': null, 'artifacts/app.tar.gz': null };

function fleetFiles(port: number, artifact: { path: string; sha256: string }, owners = '[web-ops]'): Record<string, string> {
  return {
    'hosts.yaml': HOSTS.map((host) => `apiVersion: ygg/v1\nkind: Host\nmetadata: { name: ${host.name} }\nspec: { ip: ${host.ip}, labels: { idc: a, rack: r1 } }\n`).join('---\n'),
    'tree.yaml': `apiVersion: ygg/v1
kind: TreeNode
metadata:
  tag: cop.acme_owt.shop_pdl.web_cluster.prod
spec:
  owners: ${owners}
  hosts: [${HOSTS.map((host) => host.name).join(', ')}]
`,
    'jobs/frontend.yaml': `apiVersion: ygg/v1
kind: Job
metadata:
  name: frontend
  tag: cop.acme_owt.shop_pdl.web_cluster.prod_service.www_job.frontend
spec:
  version: ${artifact.path.includes('broken') ? '2.0.0' : '1.1.0'}
  artifact: { path: ${artifact.path}, sha256: ${artifact.sha256} }
  command: [bin/server.js, --port, "{{ports.http}}", --host, "{{host.ip}}"]
  ports: { http: ${port} }
  health: { http: { port: http, path: /health }, intervalSeconds: 1, timeoutSeconds: 1 }
  rollout: { maxParallel: 1, minHealthySeconds: 1, progressDeadlineSeconds: ${DEADLINE_SECONDS}, autoRevert: true }
`,
    'services.yaml': `apiVersion: ygg/v1
kind: Service
metadata: { name: acme.shop.www }
spec: { job: frontend, port: http }
`,
  };
}

async function apiStatus(url: string): Promise<ControllerStatus> {
  const response = await fetch(`${url}/api/status`);
  assert.equal(response.status, 200);
  return (await response.json()) as ControllerStatus;
}

const frontendOf = (status: ControllerStatus): JobHealth | undefined => status.jobs.find((job) => job.name === 'frontend');

test('a release that exits 1 fails its rollout at batch 1; the batch is reverted, and status, /api/status and history say where, why and to what', async () => {
  const workDir = await agentRootDir();
  const fleet = createGitFleet(path.join(workDir, 'fleet'));
  const port = await freePort();
  copyFileSync(ECHO_ARTIFACT, path.join(fleet.dir, 'artifacts/echo-server-1.1.0.tar.gz'));
  const good = { path: 'artifacts/echo-server-1.1.0.tar.gz', sha256: ECHO_SHA256 };
  const goodSha = fleet.commit('frontend 1.1.0 on two hosts', { ...fleetFiles(port, good), ...REMOVED });
  const broken = await buildTarball(workDir, 'broken-2.0.0', "console.error('cannot open the database'); process.exit(1);");
  copyFileSync(broken.file, path.join(fleet.dir, 'artifacts/broken-2.0.0.tar.gz'));
  const brokenArtifact = { path: 'artifacts/broken-2.0.0.tar.gz', sha256: broken.sha256 };

  const prefix = uniquePrefix('rollout-failure');
  const view = (setup.view = new FleetView(setup.etcd.url, prefix));
  const controller = (setup.controller = await runTestController({ repo: fleet.dir, cacheDir: path.join(workDir, 'cache'), etcdUrl: setup.etcd.url, etcdPrefix: prefix, id: 'rollout-failure-test' }));
  const url = controller.url!;
  for (const host of HOSTS) await startAgent({ host: host.name, root: path.join(workDir, host.name), etcdPrefix: prefix, etcdUrl: setup.etcd.url, controllerUrl: url });
  const v1 = await waitUntil(async () => {
    const assigned = await view.assignments();
    return HOSTS.every((host) => assigned.has(`${host.name}/frontend`)) ? assigned : undefined;
  }, 'v1 assigned on both hosts', 15_000);
  for (const host of HOSTS) {
    const specHash = v1.get(`${host.name}/frontend`)!.specHash;
    await waitForStatus(view, host.name, 'frontend', (s) => s.state === 'Healthy' && s.specHash === specHash, `${host.name} healthy on v1`, 15_000);
  }
  await waitUntil(async () => frontendOf(await apiStatus(url))?.state === 'Healthy', 'frontend Healthy in /api/status');

  const badSha = fleet.commit('frontend 2.0.0 (exits 1)', fleetFiles(port, brokenArtifact), 'Bob Breaker <bob@example.com>');
  controller.loop.trigger('webhook');
  // While batch 1 (web-a1) runs: rolling, batch 1 of 2, its deadline ahead.
  const rolling = await waitUntil(async () => {
    const job = frontendOf(await apiStatus(url));
    return job?.rollout?.state === 'InProgress' ? job : undefined;
  }, 'the rollout in progress', 10_000);
  assert.deepEqual([rolling.rollout!.commit, rolling.rollout!.batch, rolling.rollout!.batches, rolling.rollout!.total], [badSha, 1, 2, 2]);
  assert.ok(rolling.rollout!.deadline && Date.parse(rolling.rollout!.deadline) > Date.now(), `deadline ${rolling.rollout!.deadline} ahead`);
  assert.equal(rolling.state === 'Degraded' || rolling.state === 'Progressing', true, `a rolling job is ${rolling.state}`);
  assert.equal(rolling.tag, 'cop.acme_owt.shop_pdl.web_cluster.prod_service.www_job.frontend');

  // An unrelated commit lands while the batch is failing: it is the commit in force when the revert happens.
  const laterSha = fleet.commit('add sre as owners', fleetFiles(port, brokenArtifact, '[web-ops, sre]'), 'Carol Owner <carol@example.com>');
  controller.loop.trigger('webhook');
  await waitUntil(async () => (await view.current())?.commit.sha === laterSha, 'the later commit in force');

  const failed = await waitUntil(async () => {
    const job = frontendOf(await apiStatus(url));
    return job?.rollout?.state === 'Failed' ? job : undefined;
  }, 'the failed rollout in /api/status', (DEADLINE_SECONDS + 10) * 1000);
  const rollout = failed.rollout!;
  assert.deepEqual([rollout.commit, rollout.batch, rollout.batches, rollout.total, rollout.done], [badSha, 1, 2, 2, 0]);
  assert.deepEqual(rollout.failure?.hosts, ['web-a1']);
  assert.match(rollout.failure!.reason, new RegExp(`^web-a1 not healthy within ${DEADLINE_SECONDS}s \\(\\w+: exit 1\\)$`));
  assert.equal(rollout.failure?.revertedTo, goodSha);
  assert.deepEqual(rollout.failure?.revertedHosts, ['web-a1']);
  assert.equal(rollout.deadline, undefined, 'a failed rollout has no deadline left');
  assert.equal(failed.state, 'Degraded');

  // The batch went back to v1 exactly, web-a2 never left it, and both are healthy on it again.
  const after = await view.assignments();
  for (const host of HOSTS) {
    const record = after.get(`${host.name}/frontend`) as AssignmentRecord;
    assert.equal(record.specHash, v1.get(`${host.name}/frontend`)!.specHash, `${host.name} on v1`);
    await waitForStatus(view, host.name, 'frontend', (s) => s.state === 'Healthy' && s.specHash === record.specHash, `${host.name} healthy on v1 again`, 15_000);
  }

  // The audit record of the revert: under the failed commit (its author and message), outcome RolloutFailed.
  const audits = await view.history();
  const reverts = audits.filter((record) => record.outcome === 'RolloutFailed');
  assert.equal(reverts.length, 1);
  const revert = reverts[0]!;
  assert.deepEqual([revert.commit.sha, revert.commit.author, revert.commit.message.trim()], [badSha, 'Bob Breaker', 'frontend 2.0.0 (exits 1)']);
  assert.deepEqual(
    revert.actions.map((action) => (action as { type: string }).type),
    ['revert', 'rollout-failed'],
  );
  assert.deepEqual((revert.actions[1] as { hosts: string[]; reverted: string[]; revertedTo: string; batch: number }).reverted, ['web-a1']);
  assert.match(revert.note ?? '', new RegExp(`^frontend: failed at batch 1: web-a1 not healthy .*; reverted 1 host to ${goodSha.slice(0, 7)}$`));
  assert.ok(!audits.some((record) => record.commit.sha === laterSha && record.actions.some((action) => (action as { type: string }).type === 'revert')), 'nothing of the revert under the later commit');

  // ygg status: one line for the failed rollout, exit 1 (a degraded fleet); --output json carries the view.
  const etcdFlags = ['--etcd', setup.etcd.url, '--etcd-prefix', prefix];
  const text = await runCli('status', ...etcdFlags);
  assert.equal(text.code, 1, text.stdout);
  assert.match(text.stdout, new RegExp(`\\nfrontend +failed at batch 1: web-a1 not healthy within ${DEADLINE_SECONDS}s \\(\\w+: exit 1\\); reverted 1 host to ${goodSha.slice(0, 7)}\\n`));
  const json = await runCli('status', ...etcdFlags, '--output', 'json');
  assert.equal(json.code, 1);
  assert.deepEqual(frontendOf(JSON.parse(json.stdout) as ControllerStatus)?.rollout, rollout);

  // ygg history: the failed commit shows it was rolled back and why.
  const history = await runCli('history', '--repo', fleet.dir, ...etcdFlags);
  assert.equal(history.code, 0, history.stderr);
  const entry = history.stdout.split(/\n(?=\S)/).find((block) => block.startsWith(badSha.slice(0, 10)));
  assert.ok(entry, history.stdout);
  assert.match(entry, /rolled back .*: 2 action\(s\), RolloutFailed — frontend: failed at batch 1: web-a1 not healthy/);
});
