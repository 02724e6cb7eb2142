// `ygg etcd-setup` end to end on a private etcd (auth must never be turned on in the shared one):
// it turns auth on, then a real controller and a real agent, each with only its own credential file,
// converge the fleet; `ygg status` reads with the read-only one; a host revoked by a re-run loses
// its heartbeat and endpoints at once, while its job keeps running (fail static).
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { readCredentialFile } from '../../src/authz/credential-files.js';
import { agentRootDir, ECHO_ARTIFACT, REPO_ROOT, echoJobYaml, httpStatus, spawnAgent, tearDownAgentTest, trackPid, waitForStatus } from '../fixtures/agent-harness.js';
import { FleetView, spawnController, waitUntil, type ControllerProcess } from '../fixtures/controller-harness.js';
import { createTestCertificates, freePort, issueClientCertificate, startEtcd, type EtcdServer } from '../fixtures/etcd-server.js';
import type { EtcdConnectionOptions } from '../../src/store/etcd-connection.js';
import { createGitFleet } from '../fixtures/git-fleet.js';
import { removeDir, writeFleet } from '../fixtures/small-fleet.js';
import { runCli } from './run-cli.js';

const HOST = 'web-a1';
const HOST_IP = '127.0.0.27';
const OTHER = 'web-a2';
const OTHER_IP = '127.0.0.28';
const SERVICE = 'acme.shop.www';

/** The given hosts under one tree node, one echo-server job on all of them, one Service naming it. */
function fleetFiles(hosts: readonly (readonly [string, string])[], port: number): Record<string, string | null> {
  return {
    'hosts.yaml': hosts.map(([name, ip]) => `apiVersion: ygg/v1\nkind: Host\nmetadata: { name: ${name} }\nspec: { ip: ${ip}, labels: { idc: a } }\n`).join('---\n'),
    'tree.yaml': `apiVersion: ygg/v1
kind: TreeNode
metadata:
  tag: cop.acme_owt.shop_pdl.web_cluster.prod
spec:
  owners: [web-ops]
  hosts: [${hosts.map(([name]) => name).join(', ')}]
`,
    'jobs/frontend.yaml': echoJobYaml('frontend', 'cop.acme_owt.shop_pdl.web_cluster.prod_service.www_job.frontend', port),
    'jobs/search.yaml': null,
    'services.yaml': `apiVersion: ygg/v1\nkind: Service\nmetadata: { name: ${SERVICE} }\nspec: { job: frontend, port: http }\n`,
    'artifacts/app.tar.gz': null,
  };
}

const servers: EtcdServer[] = [];
const views: FleetView[] = [];
const processes: ControllerProcess[] = [];
const certificateDirs: string[] = [];
after(async () => {
  for (const running of processes) await running.kill();
  for (const dir of certificateDirs) removeDir(dir);
  await tearDownAgentTest(
    { close: async () => void (await Promise.all(views.map((view) => view.close()))) },
    { stop: async () => void (await Promise.all(servers.map((server) => server.stop()))) },
  );
});

/** How each process logs in: the credential file etcd-setup wrote for it, or a client certificate naming its user. */
interface Login {
  readonly etcd: EtcdServer;
  /** The flags of etcd-setup's root login. */
  readonly root: string[];
  /** The flags a process of `user` (whose credential file is `file`) logs in with. */
  as(user: string, file: string): string[];
  readonly view: Pick<EtcdConnectionOptions, 'auth' | 'tls'>;
}

async function withPasswords(workDir: string, out: string): Promise<Login> {
  const etcd = await startEtcd();
  const rootPasswordFile = path.join(workDir, 'root-password');
  writeFileSync(rootPasswordFile, 'root-password-from-a-vault\n', { mode: 0o600 });
  return {
    etcd,
    root: ['--root-password-file', rootPasswordFile],
    as: (_user, file) => ['--etcd-credentials', path.join(out, file)],
    view: { auth: { user: 'root', password: 'root-password-from-a-vault' } },
  };
}

async function withCertificates(): Promise<Login> {
  const certificates = createTestCertificates();
  certificateDirs.push(certificates.dir);
  const etcd = await startEtcd({ tls: certificates, clientCertAuth: true });
  const tls = (user: string) => ({ caFile: certificates.caFile, ...issueClientCertificate(certificates.dir, user) });
  const flags = (user: string) => {
    const { caFile, certFile, keyFile } = tls(user);
    return ['--etcd-ca', caFile, '--etcd-cert', certFile, '--etcd-key', keyFile];
  };
  return { etcd, root: flags('root'), as: (user) => flags(user), view: { tls: tls('root') } };
}

for (const [mode, login] of [['passwords', withPasswords], ['client certificates', withCertificates]] as const) {
  test(`etcd-setup turns auth on; controller and agent converge with their own ${mode}; a revoked host is cut off at once`, async () => {
    const workDir = await agentRootDir();
    const out = path.join(workDir, 'credentials');
    await convergeAndRevoke(workDir, out, await login(workDir, out));
  });
}

async function convergeAndRevoke(workDir: string, out: string, login: Login): Promise<void> {
  const { etcd } = login;
  servers.push(etcd);
  const port = await freePort();
  const fleet = createGitFleet(path.join(workDir, 'fleet'));
  copyFileSync(ECHO_ARTIFACT, path.join(fleet.dir, 'artifacts/echo-server-1.1.0.tar.gz'));
  fleet.commit('Two hosts, one echo job', fleetFiles([[HOST, HOST_IP], [OTHER, OTHER_IP]], port));
  const setup = (repo: string) => runCli('etcd-setup', '--repo', repo, '--etcd', etcd.url, ...login.root, '--out', out);

  const first = await setup(fleet.dir);
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stdout, /^Authentication turned on \(root created\)\.\nUsers: 5 created, 0 revoked, 0 given a new password\./);
  const view = new FleetView(etcd.url, '/ygg/v1', login.view);
  views.push(view);

  const controller = spawnController(['--repo', fleet.dir, '--branch', 'main', '--etcd', etcd.url, ...login.as('ygg-controller', '_controller'),
    '--interval', '1s', '--lease-ttl', '2s', '--listen', '127.0.0.1:0', '--cache-dir', path.join(workDir, 'cache'), '--id', 'ctl-authz']);
  processes.push(controller);
  const listening = await controller.waitForLog((line) => line.event === 'http_listening', 'the controller listening', 30_000);
  const agentRoot = path.join(workDir, 'agent');
  const agent = spawnAgent(['--host', HOST, '--root', agentRoot, '--etcd', etcd.url, ...login.as(`ygg-host-${HOST}`, HOST), '--controller', String(listening.url),
    '--metrics-listen', `${HOST_IP}:0`, '--lease-ttl', '2s', '--no-watchdog']);
  processes.push(agent);

  const status = await waitForStatus(view, HOST, 'frontend', (record) => record.state === 'Healthy', 'frontend Healthy on web-a1 with its own credential', 30_000);
  trackPid(status.pid);
  assert.equal(await httpStatus(port, '/health', HOST_IP), 200);
  const namingKey = view.layout.naming(SERVICE, HOST, port);
  await waitUntil(async () => (await view.values(view.layout.namings(SERVICE))).has(namingKey), 'the naming entry', 10_000);

  const readonly = await runCli('status', '--etcd', etcd.url, ...login.as('ygg-readonly', '_readonly'), '--output', 'json');
  assert.equal(JSON.parse(readonly.stdout).jobs.find((job: { name: string }) => job.name === 'frontend')?.healthy, 1, readonly.stderr);
  const hostUser = (await readCredentialFile(path.join(out, HOST))).user;
  assert.equal(hostUser, `ygg-host-${HOST}`);

  // The same fleet without web-a1, in a plain folder: etcd-setup revokes exactly that host.
  const without = writeFleet(fleetFiles([[OTHER, OTHER_IP]], port), mkdtempSync(path.join(workDir, 'without-')));
  mkdirSync(path.join(without, 'artifacts'));
  copyFileSync(ECHO_ARTIFACT, path.join(without, 'artifacts/echo-server-1.1.0.tar.gz'));
  const revoked = Date.now();
  const second = await setup(without);
  assert.equal(second.code, 0, second.stderr);
  assert.match(second.stdout, /Users: 0 created, 1 revoked, 0 given a new password\.[\s\S]*revoked ygg-host-web-a1/);
  assert.equal((await view.values(view.layout.agents)).has(view.layout.agent(HOST)), false, 'heartbeat gone with the revoked lease');
  assert.equal((await view.values(view.layout.namings(SERVICE))).has(namingKey), false, 'endpoint gone with it');
  assert.ok(Date.now() - revoked < 10_000);
  // Refused: the agent cannot put its heartbeat back, however long it tries.
  await new Promise((resolve) => setTimeout(resolve, 3000));
  assert.equal((await view.values(view.layout.agents)).has(view.layout.agent(HOST)), false, 'the revoked agent could not register again');
  assert.ok(agent.logs.some((line) => line.event === 'lease_lost' && Number(line.time) >= revoked), 'the agent saw its lease revoked');
  assert.ok(agent.logs.some((line) => line.event === 'agent_register_refused' && Number(line.time) >= revoked), 'and says etcd refuses it');
  assert.equal(agent.child.exitCode, null, 'the agent keeps running (fail static)');
  const again = await runCli('etcd-setup', '--repo', without, '--etcd', etcd.url, ...login.root, '--out', out, '--output', 'json');
  const changes = JSON.parse(again.stdout) as Record<string, unknown>;
  assert.deepEqual([changes.enabledAuth, changes.usersCreated, changes.usersDeleted, changes.grantsAdded, changes.grantsRevoked], [false, [], [], 0, 0], 'a re-run changes nothing');
  assert.equal(await httpStatus(port, '/health', HOST_IP), 200, 'and so does its job');
}

test('usage: --etcd-credentials that cannot be used, or with --etcd-user, and etcd-setup without its files exit 2 before connecting', async () => {
  const dir = await agentRootDir();
  const malformed = path.join(dir, 'malformed');
  writeFileSync(malformed, 'no colon here\n');
  const unreachable = 'http://127.0.0.1:1';
  const cases: [string[], RegExp][] = [
    [['status', '--etcd', unreachable, '--etcd-credentials', malformed], /--etcd-credentials: credential file .*malformed: expected one line "user:password"/],
    [['status', '--etcd', unreachable, '--etcd-credentials', path.join(dir, 'missing')], /--etcd-credentials: cannot read .*missing: ENOENT/],
    [['status', '--etcd', unreachable, '--etcd-credentials', malformed, '--etcd-user', 'x'], /--etcd-credentials names the user and password: drop --etcd-user/],
    [['etcd-setup', '--etcd', unreachable, '--out', dir], /--root-password-file is required/],
    [['etcd-setup', '--etcd', unreachable, '--root-password-file', malformed], /--out is required/],
    // --out names a file: refused before etcd is touched (auth would be on, no credential saved).
    [['etcd-setup', '--repo', path.join(REPO_ROOT, 'example-repo'), '--etcd', unreachable, '--root-password-file', malformed, '--out', malformed], /--out: cannot write credential files in .*malformed \(EEXIST\)/],
  ];
  for (const [argv, message] of cases) {
    const result = await runCli(...argv);
    assert.equal(result.code, 2, `${argv.join(' ')}: ${result.stderr}`);
    assert.match(result.stderr, message);
  }
});

test('etcd-setup with another --etcd-prefix than it granted before (a typo) changes nothing and says so; an empty prefix is noted', async () => {
  const workDir = await agentRootDir();
  const out = path.join(workDir, 'credentials');
  const login = await withPasswords(workDir, out);
  servers.push(login.etcd);
  const fleet = createGitFleet(path.join(workDir, 'fleet'));
  copyFileSync(ECHO_ARTIFACT, path.join(fleet.dir, 'artifacts/echo-server-1.1.0.tar.gz'));
  fleet.commit('Two hosts', fleetFiles([[HOST, HOST_IP], [OTHER, OTHER_IP]], 8080));
  const setup = (...extra: string[]) => runCli('etcd-setup', '--repo', fleet.dir, '--etcd', login.etcd.url, ...login.root, '--out', out, ...extra);
  const first = await setup();
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stderr, /^Note: no fleet under \/ygg\/v1\/ yet \(no sync\/current\); if one runs, check --etcd-prefix\.$/m);
  const typo = await setup('--etcd-prefix', '/ygg/v11');
  assert.equal(typo.code, 2, typo.stderr);
  assert.match(typo.stderr, /--etcd-prefix: the grants are for \/ygg\/v1\/, not \/ygg\/v11\/; nothing changed/);
  const again = await setup('--output', 'json');
  assert.deepEqual(JSON.parse(again.stdout).grantsAdded, 0, 'the grants stayed on /ygg/v1/');
  const moved = await setup('--etcd-prefix', '/ygg/v2', '--allow-prefix-change', '--output', 'json');
  assert.equal(moved.code, 0, moved.stderr);
  assert.ok(JSON.parse(moved.stdout).grantsAdded > 0);
});
