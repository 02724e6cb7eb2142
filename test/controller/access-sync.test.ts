// The controller keeps etcd access following the commits, end to end on a private etcd with auth on
// (never the shared one): a real controller given the root password, real agents each with only its
// own credential. A commit adding a Host: its credential file exists before its assignment is
// written, and its agent converges with it. A commit removing a Host: its job is removed first (the
// RemovalRecord processed, its status gone), and only then is its credential revoked.
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import type { Etcd3, IKeyValue } from 'etcd3';
import { hostsInFlight } from '../../src/controller/access-sync.js';
import { EMPTY_OBSERVED } from '../../src/controller/observed-state.js';
import { buildFleetIndex } from '../../src/model/fleet-index.js';
import { createEtcdClient } from '../../src/store/etcd-connection.js';
import { keyLayout } from '../../src/store/keys.js';
import { agentRootDir, ECHO_ARTIFACT, echoJobYaml, spawnAgent, tearDownAgentTest, trackPid, waitForStatus } from '../fixtures/agent-harness.js';
import { FleetView, spawnController, waitUntil, type ControllerProcess } from '../fixtures/controller-harness.js';
import { freePort, startEtcd, type EtcdServer } from '../fixtures/etcd-server.js';
import { createGitFleet } from '../fixtures/git-fleet.js';
import { CLUSTER_TAG, host, job, model, treeNode } from '../fixtures/model-builder.js';
import { runCli } from '../cli/run-cli.js';

const ROOT_PASSWORD = 'root-password-from-a-vault';
const layout = keyLayout('/ygg/v1');
const A = ['acc-a', '127.0.0.51'] as const;
const B = ['acc-b', '127.0.0.52'] as const;

function fleetFiles(hosts: readonly (readonly [string, string])[], port: number): Record<string, string | null> {
  return {
    'hosts.yaml': hosts.map(([name, ip]) => `apiVersion: ygg/v1\nkind: Host\nmetadata: { name: ${name} }\nspec: { ip: ${ip}, labels: { idc: a } }\n`).join('---\n'),
    'tree.yaml': `apiVersion: ygg/v1\nkind: TreeNode\nmetadata:\n  tag: cop.acme_owt.shop_pdl.web_cluster.prod\nspec:\n  owners: [web-ops]\n  hosts: [${hosts.map(([name]) => name).join(', ')}]\n`,
    'jobs/frontend.yaml': echoJobYaml('frontend', 'cop.acme_owt.shop_pdl.web_cluster.prod_service.www_job.frontend', port),
    'services.yaml': `apiVersion: ygg/v1\nkind: Service\nmetadata: { name: acme.shop.www }\nspec: { job: frontend, port: http }\n`,
  };
}

test('hostsInFlight: a live host still running or removing a job the commit does not place on it; not a dead one, not one at rest', () => {
  const built = model({ hosts: [host('h1'), host('h2')], treeNodes: [treeNode(CLUSTER_TAG, { hosts: ['h1'] })], jobs: [job('web')] });
  const status = { job: 'web' } as never;
  const observed = {
    ...EMPTY_OBSERVED,
    statuses: new Map([['h1', new Map([['web', status]])], ['h2', new Map([['web', status]])], ['gone', new Map([['web', status]])], ['dead', new Map([['web', status]])]]),
    removals: new Map([['h3', new Map([['web', { job: 'web', removed: true, commit: 'c', removedAt: 'x' } as const]])]]),
    liveAgents: new Set(['h1', 'h2', 'gone', 'h3', 'idle']),
  };
  // h1: placed there; h2: in the repo, but the job's node no longer binds it; gone and h3: left the repo
  // with a status or a RemovalRecord; dead: its agent is gone (lost); idle: nothing on it
  assert.deepEqual([...hostsInFlight(built, buildFleetIndex(built), observed)].sort(), ['gone', 'h2', 'h3']);
});

const servers: EtcdServer[] = [];
const processes: ControllerProcess[] = [];
const views: FleetView[] = [];
const clients: Etcd3[] = [];
after(async () => {
  for (const running of processes) await running.kill();
  for (const client of clients) client.close();
  await tearDownAgentTest(
    { close: async () => void (await Promise.all(views.map((view) => view.close()))) },
    { stop: async () => void (await Promise.all(servers.map((server) => server.stop()))) },
  );
});

test('a commit adding a Host: its credential comes before its assignment and its agent converges; removing it: its job goes first, then its credential', async () => {
  const workDir = await agentRootDir();
  const out = path.join(workDir, 'credentials');
  const etcd = await startEtcd();
  servers.push(etcd);
  const port = await freePort();
  const fleet = createGitFleet(path.join(workDir, 'fleet'));
  copyFileSync(ECHO_ARTIFACT, path.join(fleet.dir, 'artifacts/echo-server-1.1.0.tar.gz'));
  fleet.commit('One host', fleetFiles([A], port));
  const rootPasswordFile = path.join(workDir, 'root-password');
  writeFileSync(rootPasswordFile, `${ROOT_PASSWORD}\n`, { mode: 0o600 });
  const setup = await runCli('etcd-setup', '--repo', fleet.dir, '--etcd', etcd.url, '--root-password-file', rootPasswordFile, '--out', out);
  assert.equal(setup.code, 0, setup.stderr);

  const root = createEtcdClient({ endpoints: [etcd.url], auth: { user: 'root', password: ROOT_PASSWORD } });
  clients.push(root);
  const view = new FleetView(etcd.url, '/ygg/v1', { auth: { user: 'root', password: ROOT_PASSWORD } });
  views.push(view);
  // What happened to B's keys, in order, and whether its credential file existed then.
  const seen: { what: string; at: number; credential: boolean }[] = [];
  const watcher = await root.watch().prefix(layout.prefix).create();
  const note = (what: string) => (kv: IKeyValue) => {
    const key = kv.key.toString();
    if (key === layout.assignment(B[0], 'frontend') || key === layout.status(B[0], 'frontend')) seen.push({ what: `${what} ${key.slice(layout.prefix.length)}`, at: Date.now(), credential: existsSync(path.join(out, B[0])) });
  };
  watcher.on('put', note('put'));
  watcher.on('delete', note('delete'));

  const controller = spawnController(['--repo', fleet.dir, '--branch', 'main', '--etcd', etcd.url, '--etcd-credentials', path.join(out, '_controller'),
    '--root-password-file', rootPasswordFile, '--credentials-out', out,
    '--interval', '1s', '--lease-ttl', '2s', '--listen', '127.0.0.1:0', '--cache-dir', path.join(workDir, 'cache'), '--id', 'ctl-access']);
  processes.push(controller);
  const listening = await controller.waitForLog((line) => line.event === 'http_listening', 'the controller listening', 30_000);
  const agentOf = ([name, ip]: readonly [string, string]) => {
    const agent = spawnAgent(['--host', name, '--root', path.join(workDir, `agent-${name}`), '--etcd', etcd.url, '--etcd-credentials', path.join(out, name),
      '--controller', String(listening.url), '--metrics-listen', `${ip}:0`, '--lease-ttl', '2s', '--no-watchdog']);
    processes.push(agent);
    return agent;
  };
  agentOf(A);
  trackPid((await waitForStatus(view, A[0], 'frontend', (record) => record.state === 'Healthy', 'frontend Healthy on acc-a', 30_000)).pid);

  // Added: the controller makes its user and file, then assigns; its agent logs in with the file.
  assert.equal(existsSync(path.join(out, B[0])), false);
  fleet.commit('Add acc-b', fleetFiles([A, B], port));
  await waitUntil(() => existsSync(path.join(out, B[0])), 'the credential file of acc-b', 30_000);
  const created = await controller.waitForLog((line) => line.event === 'access_applied' && (line.usersCreated as string[] | undefined)?.includes('ygg-host-acc-b') === true, 'the controller creating acc-b', 10_000);
  assert.deepEqual(created.held, []);
  agentOf(B);
  trackPid((await waitForStatus(view, B[0], 'frontend', (record) => record.state === 'Healthy', 'frontend Healthy on acc-b with its new credential', 30_000)).pid);
  const assigned = seen.find((event) => event.what === 'put assign/acc-b/frontend');
  assert.equal(assigned?.credential, true, `acc-b's credential existed when its assignment was written: ${JSON.stringify(seen)}`);

  // Removed: RemovalRecord → the agent stops the job and drops its status → the record goes → revoked.
  fleet.commit('Remove acc-b [ygg:allow-prune]', fleetFiles([A], port));
  const revoked = await controller.waitForLog((line) => line.event === 'access_applied' && (line.usersDeleted as string[] | undefined)?.includes('ygg-host-acc-b') === true, 'the controller revoking acc-b', 30_000);
  const revokedAt = Number(revoked.time);
  const steps = seen.filter((event) => event.at >= Number(created.time)).map((event) => event.what);
  assert.deepEqual(steps.slice(-3), ['put assign/acc-b/frontend', 'delete status/acc-b/frontend', 'delete assign/acc-b/frontend'], JSON.stringify(seen));
  const jobGone = seen.find((event) => event.what === 'delete assign/acc-b/frontend')!;
  assert.ok(jobGone.credential, 'its credential was still there while its job was being removed');
  assert.ok(revokedAt >= jobGone.at, `revoked (${revokedAt}) after its last assignment went (${jobGone.at})`);
  assert.equal(existsSync(path.join(out, B[0])), false, 'its credential file is gone');
  assert.ok(!(await root.getUsers()).some((user) => user.name === 'ygg-host-acc-b'));
  const history = await view.history();
  assert.ok(!history.some((record) => record.note?.includes('access not applied')), 'no access failure audited');
  await watcher.cancel();
});

test('usage: --root-password-file without --credentials-out, and a controller refused as root, exit 2 in one line', async () => {
  const workDir = await agentRootDir();
  const wrong = path.join(workDir, 'wrong');
  writeFileSync(wrong, 'not-the-root-password\n');
  const alone = await runCli('controller', '--repo', workDir, '--root-password-file', wrong);
  assert.equal(alone.code, 2, alone.stderr);
  assert.match(alone.stderr, /--root-password-file and --credentials-out go together/);

  const etcd = await startEtcd();
  servers.push(etcd);
  const fleet = createGitFleet(path.join(workDir, 'fleet'));
  fleet.commit('One host', fleetFiles([A], await freePort()));
  // auth still off: etcd-setup first
  const off = spawnController(['--repo', fleet.dir, '--etcd', etcd.url, '--root-password-file', wrong, '--credentials-out', path.join(workDir, 'out'), '--listen', '127.0.0.1:0', '--cache-dir', path.join(workDir, 'cache')]);
  processes.push(off);
  const code = await new Promise<number | null>((resolve) => off.child.once('exit', resolve));
  assert.equal(code, 2, off.stderr.join(''));
  assert.match(off.stderr.join(''), /--root-password-file: etcd refuses root: authentication is off in etcd: run ygg etcd-setup first/);
});

test('--allowed-signers without ssh-keygen on the PATH is a usage error at start, not a rejection of every commit', async () => {
  const workDir = await agentRootDir();
  const signers = path.join(workDir, 'allowed-signers');
  writeFileSync(signers, 'ops@example.net ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExample\n');
  const saved = process.env.PATH;
  process.env.PATH = workDir; // nothing to run there
  try {
    const result = await runCli('controller', '--repo', workDir, '--allowed-signers', signers, '--etcd', 'http://127.0.0.1:1');
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr.split('\n')[0]!, /^ygg controller: --allowed-signers: ssh-keygen is not installed/);
  } finally {
    process.env.PATH = saved;
  }
});
