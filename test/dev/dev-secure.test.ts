// `ygg dev --secure` on real parts: the example fleet converges with etcd's authentication on, every
// agent logged in as its own host; the credentials each process got are confined as etcd-setup's are.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Etcd3 } from 'etcd3';
import { processIdentity } from '../../src/agent/process-identity.js';
import { readCredentialFile } from '../../src/authz/credential-files.js';
import { createEtcdClient } from '../../src/store/etcd-connection.js';
import { keyLayout } from '../../src/store/keys.js';
import { assertHostConfined, assertWritesNothing } from '../fixtures/access-proof.js';
import { waitUntil, type ControllerProcess } from '../fixtures/controller-harness.js';
import { devSandbox, git, killAll, recordedPids, removeSandbox, startDev, waitForEvent } from '../fixtures/dev-harness.js';
import { runYgg } from '../cli/ygg-process.js';

/** Other addresses than dev.test.ts's and the demo's, so that they can run beside this one. */
const SUBNET = '127.0.10';
const layout = keyLayout('/ygg/v1');

describe('ygg dev --secure', { timeout: 150_000 }, () => {
  const sandbox = devSandbox((source) => {
    for (const hosts of ['hosts/lg.yaml', 'hosts/c3.yaml']) {
      const file = path.join(source, hosts);
      writeFileSync(file, readFileSync(file, 'utf8').replaceAll('ip: 127.0.0.', `ip: ${SUBNET}.`));
    }
  });
  const seen = new Set<number>();
  const clients: Etcd3[] = [];
  let dev: ControllerProcess;
  let etcdUrl: string;
  let readonlyCredentials: string;
  const clientOf = async (login: string) => {
    const { user, password } = await readCredentialFile(path.join(sandbox.layout.credentialsDir, login));
    const client = createEtcdClient({ endpoints: [etcdUrl], auth: { user, password } });
    clients.push(client);
    return client;
  };

  before(async () => {
    dev = startDev(sandbox, '--secure');
    const converged = await waitForEvent(dev, 'converged', 90_000);
    etcdUrl = converged.etcdUrl as string;
    readonlyCredentials = converged.etcdCredentials as string;
    console.log(`# converged with auth on in ${(converged.seconds as number).toFixed(1)} s`);
  });
  after(async () => {
    for (const client of clients) client.close();
    for (const pid of recordedPids(sandbox.layout)) seen.add(pid);
    await dev?.kill();
    killAll(seen);
    removeSandbox(sandbox);
  });

  it('converged with auth on: etcd refuses a client without credentials; one 0600 credential file per host', async () => {
    assert.ok(dev.logs.some((line) => line.event === 'started' && line.what === 'auth'));
    const anonymous = createEtcdClient({ endpoints: [etcdUrl] });
    clients.push(anonymous);
    await assert.rejects(anonymous.get(layout.syncCurrent).string(), /user name is empty/);
    const files = readdirSync(sandbox.layout.credentialsDir).sort();
    assert.equal(files.filter((file) => !file.startsWith('_')).length, 19);
    assert.deepEqual(files.filter((file) => file.startsWith('_')), ['_controller', '_readonly', '_renderer', '_root', '_root.password']);
    for (const file of files) assert.equal(statSync(path.join(sandbox.layout.credentialsDir, file)).mode & 0o777, 0o600, file);
    // The `ygg status` the run suggests works as printed: with the read-only credential it names.
    assert.equal(readonlyCredentials, path.join(sandbox.layout.credentialsDir, '_readonly'));
    const status = await runYgg(['status', '--etcd', etcdUrl, '--etcd-credentials', readonlyCredentials], { timeoutMs: 20_000 });
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /Sync: Synced/);
  });

  it("every agent is logged in as its host: its heartbeat is there, and its credential cannot touch another host's keys", async () => {
    const root = await clientOf('_root');
    const agents = await root.getAll().prefix(layout.agents).keys();
    assert.equal(agents.length, 19);
    await assertHostConfined(await clientOf('lg-im-01'), layout, 'lg-im-01', 'lg-im-03', 'alias-job-dispatcher', 'xiaomi.miliao.im.dispatcher');
    await assertWritesNothing(await clientOf('_readonly'), layout, 'lg-im-01', 'alias-job-dispatcher', 'xiaomi.miliao.im.dispatcher');
  });

  it('a Host that a commit adds gets its credential before its agent starts, and its agent registers with it', async () => {
    const from = dev.logs.length;
    const hosts = path.join(sandbox.layout.repo, 'hosts/c3.yaml');
    writeFileSync(hosts, `${readFileSync(hosts, 'utf8')}\n---\napiVersion: ygg/v1\nkind: Host\nmetadata: { name: c3-spare-05 }\nspec: { ip: ${SUBNET}.39, labels: { idc: c3 }, state: spare }\n`);
    git(sandbox, 'commit', '-qam', 'A spare host for c3');
    await waitForEvent(dev, 'started', 15_000, (line) => line.what === 'agents' && line.detail === 'c3-spare-05 (new hosts)', from);
    assert.equal((await readCredentialFile(path.join(sandbox.layout.credentialsDir, 'c3-spare-05'))).user, 'ygg-host-c3-spare-05');
    const root = await clientOf('_root');
    await waitUntil(async () => (await root.get(layout.agent('c3-spare-05')).string()) !== null, 'the agent of c3-spare-05 registered', 15_000);
  });

  it('a Host that a commit removes is revoked by the controller: its credential file goes and etcd refuses it', async () => {
    const credential = await readCredentialFile(path.join(sandbox.layout.credentialsDir, 'c3-spare-05'));
    git(sandbox, 'revert', '--no-edit', 'HEAD');
    await waitUntil(async () => !existsSync(path.join(sandbox.layout.credentialsDir, 'c3-spare-05')), 'the credential of c3-spare-05 removed', 20_000);
    const revoked = createEtcdClient({ endpoints: [etcdUrl], auth: { user: credential.user, password: credential.password } });
    clients.push(revoked);
    await assert.rejects(revoked.get(layout.agent('c3-spare-05')).string(), /authentication failed|invalid auth|user name not found/i);
  });

  it('stops everything on Ctrl-C', async () => {
    for (const pid of recordedPids(sandbox.layout)) seen.add(pid);
    dev.child.kill('SIGINT');
    assert.equal(await new Promise((resolve) => dev.child.once('exit', resolve)), 0);
    assert.deepEqual([...seen].filter((pid) => processIdentity(pid) !== undefined), []);
  });
});
