// Proof on a real etcd with authentication on (a private one: auth must never be turned on in the
// shared test etcd): what each credential etcd-setup makes may and may not do, and that re-runs
// change exactly the difference.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { EtcdAuthenticationFailedError, type Etcd3 } from 'etcd3';
import { planAccess } from '../../src/authz/access-plan.js';
import { applyAccess, MassRevocationError, type AccessChanges } from '../../src/authz/apply-access.js';
import { CredentialDirectory, readCredentialFile } from '../../src/authz/credential-files.js';
import { connectAsRoot } from '../../src/authz/etcd-root.js';
import { buildFleetIndex } from '../../src/model/fleet-index.js';
import type { Host, Service } from '../../src/model/types.js';
import { createEtcdClient } from '../../src/store/etcd-connection.js';
import { keyLayout, RENDERER_STATUS_NAME } from '../../src/store/keys.js';
import { keepalivedCheck } from '../../src/render/check-commands.js';
import { runRenderer } from '../../src/render/run-renderer.js';
import pino from 'pino';
import { assertDenied, assertHostConfined, assertWritesNothing } from '../fixtures/access-proof.js';
import { startEtcd, type EtcdServer } from '../fixtures/etcd-server.js';
import { CLUSTER_TAG, host, job, model, service, treeNode } from '../fixtures/model-builder.js';
import { removeDir } from '../fixtures/small-fleet.js';
import { hostRecord, namingRecord, syncCurrentRecord, vipRecord } from '../render/render-records.js';
import { waitUntil } from '../fixtures/controller-harness.js';

const PREFIX = '/ygg/v1';
const layout = keyLayout(PREFIX);
const ROOT_PASSWORD = 'root-of-all-trust';
const HOSTS = ['web-1', 'web-10', 'lvs-1'];

function fleetModel(hostNames: readonly string[], services: readonly Service[] = [service('acme.web', 'web', { directors: ['lvs-1'] })]) {
  const hosts: Host[] = hostNames.map((name) => host(name));
  const built = model({
    hosts,
    treeNodes: [treeNode(CLUSTER_TAG, { hosts: hostNames.filter((name) => name.startsWith('web-')) })],
    jobs: [job('web', { ports: { http: 8080 } })],
    services,
  });
  return built;
}

describe('etcd-setup access on a real etcd with auth', () => {
  let server: EtcdServer;
  let root: Etcd3;
  const outDir = mkdtempSync(path.join(tmpdir(), 'ygg-credentials-'));
  const credentials = new CredentialDirectory(outDir);
  const clients: Etcd3[] = [];

  const apply = (hostNames: readonly string[], services?: readonly Service[], verifyPasswords = false): Promise<AccessChanges> => {
    const built = fleetModel(hostNames, services);
    return applyAccess({ client: root, plan: planAccess(built, buildFleetIndex(built), PREFIX), layout, credentials, verifyPasswords });
  };
  /** A client logged in with the credential file etcd-setup wrote. */
  const clientFor = async (file: string) => {
    const { user, password } = await readCredentialFile(credentials.file(file));
    const client = createEtcdClient({ endpoints: [server.url], auth: { user, password } });
    clients.push(client);
    return client;
  };

  before(async () => {
    server = await startEtcd();
    const connected = await connectAsRoot({ endpoints: [server.url] }, ROOT_PASSWORD);
    assert.equal(connected.enabledAuth, true);
    root = connected.client;
    const first = await apply(HOSTS);
    assert.deepEqual(first.usersCreated, ['ygg-controller', 'ygg-host-lvs-1', 'ygg-host-web-1', 'ygg-host-web-10', 'ygg-readonly', 'ygg-renderer']);
  });
  after(async () => {
    for (const client of clients) client.close();
    root?.close();
    await server?.stop();
    removeDir(outDir);
  });

  it('turned auth on: without credentials etcd refuses; files are user:password, mode 0600', async () => {
    const anonymous = createEtcdClient({ endpoints: [server.url] });
    clients.push(anonymous);
    await assert.rejects(anonymous.put(layout.leader).value('me').exec(), /user name is empty/);
    for (const file of ['web-1', 'lvs-1', '_controller', '_readonly']) {
      assert.equal(statSync(credentials.file(file)).mode & 0o777, 0o600, file);
      assert.match(readFileSync(credentials.file(file), 'utf8'), /^ygg-[a-z0-9.-]+:[A-Za-z0-9_-]{32}\n$/);
    }
    assert.equal((await connectAsRoot({ endpoints: [server.url] }, ROOT_PASSWORD).then(({ client, enabledAuth }) => (client.close(), enabledAuth))), false);
    await assert.rejects(connectAsRoot({ endpoints: [server.url] }, 'not-the-root-password'), { code: 'E_ETCD_ROOT_LOGIN', message: 'etcd refuses root: wrong password in --root-password-file' });
  });

  it("a host's agent writes its own heartbeat, statuses and naming entries, and reads its assignments", async () => {
    const controller = await clientFor('_controller');
    await controller.put(layout.assignment('web-1', 'web')).value('{}').exec();
    const agent = await clientFor('web-1');
    const lease = agent.lease(10, { autoKeepAlive: false });
    await lease.put(layout.agent('web-1')).value('{}').exec();
    await lease.put(layout.naming('acme.web', 'web-1', 8080)).value('{}').exec();
    await agent.put(layout.status('web-1', 'web')).value('{}').exec();
    await agent.delete().key(layout.status('web-1', 'web')).exec();
    assert.deepEqual(await agent.getAll().prefix(layout.assignments('web-1')).keys(), [layout.assignment('web-1', 'web')]);
    assert.equal(await agent.get(layout.syncCurrent).string(), null);
    await lease.revoke();
  });

  it("a host's agent cannot put or delete another host's records, any assignment, VIP, leader or sync key", async () => {
    await assertHostConfined(await clientFor('web-1'), layout, 'web-1', 'web-10', 'web', 'acme.web');
  });

  it('the read-only user reads the prefix and can write nothing', async () => {
    const readonly = await clientFor('_readonly');
    assert.ok((await readonly.getAll().prefix(layout.prefix).keys()).includes(layout.assignment('web-1', 'web')));
    await assertWritesNothing(readonly, layout, 'lvs-1', 'web', 'acme.web');
  });

  it("a director's agent cannot read any assignment, status or audit record, yet its renderer renders (keepalived -t) and reports with it", async () => {
    const controller = await clientFor('_controller');
    await controller.put(layout.assignment('web-1', 'web')).value(JSON.stringify({ env: { DB_PASSWORD: 'hunter2' } })).exec();
    await controller.put(layout.vip('acme.web')).value(JSON.stringify(vipRecord('acme.web', '192.0.2.10', ['lvs-1']))).exec();
    await controller.put(layout.host('lvs-1')).value(JSON.stringify(hostRecord('lvs-1', '10.0.9.1'))).exec();
    await controller.put(layout.syncCurrent).value(JSON.stringify(syncCurrentRecord('c1'))).exec();
    const agent = await clientFor('web-1');
    const lease = agent.lease(30);
    await lease.put(layout.agent('web-1')).value(JSON.stringify({ host: 'web-1' })).exec();

    for (const file of ['lvs-1', '_renderer']) {
      const director = await clientFor(file);
      for (const range of [layout.prefix, layout.assignments(), layout.assignment('web-1', 'web'), layout.statuses(), layout.syncHistories, layout.rollouts, layout.leader]) {
        await assertDenied(`${file} reads ${range}`, director.getAll().prefix(range).keys());
      }
      await assertDenied(`${file} watches the prefix`, director.watch().prefix(layout.prefix).create().then((watcher) => watcher.cancel()));
      await assertWritesNothing(director, layout, 'web-1', 'web', 'acme.web');
      await assertDenied(`${file} puts a VIP`, director.put(layout.vip('acme.web')).value('{}').exec());
    }
    const { user, password } = await readCredentialFile(credentials.file('lvs-1'));
    const target = path.join(outDir, 'lvs-1.conf');
    const running = await runRenderer({
      kind: 'keepalived',
      etcd: { endpoints: [server.url], auth: { user, password } },
      etcdPrefix: PREFIX,
      director: 'lvs-1',
      target,
      templateText: readFileSync(new URL('../../templates/keepalived.conf.hbs', import.meta.url), 'utf8'),
      write: { check: keepalivedCheck(), reload: async () => {} },
      minWaitMs: 20,
      maxWaitMs: 200,
      logger: pino({ level: 'silent' }),
    });
    try {
      await running.renderer.start();
      await waitUntil(() => existsSync(target) && /virtual_server 192\.0\.2\.10 80/.test(readFileSync(target, 'utf8')), 'the VIP in lvs-1.conf');
      // an endpoint registered later arrives through the narrowed watches
      await lease.put(layout.naming('acme.web', 'web-1', 80)).value(JSON.stringify(namingRecord('web-1', '10.0.0.1', 80, 'acme.web'))).exec();
      await waitUntil(() => /real_server 10\.0\.0\.1 80/.test(readFileSync(target, 'utf8')), 'the endpoint in lvs-1.conf');
      await waitUntil(async () => JSON.parse((await root.get(layout.status('lvs-1', RENDERER_STATUS_NAME)).string()) ?? '{}').checksum !== undefined, 'the render status written with its credential');
    } finally {
      await running.close();
      await lease.revoke();
    }
  });

  it('a re-run with nothing changed changes nothing and keeps every password', async () => {
    const before = readFileSync(credentials.file('web-1'), 'utf8');
    const changes = await apply(HOSTS);
    assert.deepEqual(changes, { rolesCreated: [], rolesDeleted: [], grantsAdded: 0, grantsRevoked: 0, usersCreated: [], usersDeleted: [], passwordsSet: [], namingDeleted: 0, leasesRevoked: 0 });
    assert.equal(readFileSync(credentials.file('web-1'), 'utf8'), before);
  });

  it('a removed host is revoked at once: refused, its lease (heartbeat, endpoints) revoked, its file gone; others untouched', async () => {
    const revokedAgent = await clientFor('web-10');
    const lease = revokedAgent.lease(30);
    await lease.put(layout.agent('web-10')).value('{}').exec();
    await lease.put(layout.naming('acme.web', 'web-10', 8080)).value('{}').exec();
    const web1Before = readFileSync(credentials.file('web-1'), 'utf8');

    const changes = await apply(['web-1', 'lvs-1']);
    assert.deepEqual([changes.usersDeleted, changes.rolesDeleted, changes.usersCreated, changes.leasesRevoked], [['ygg-host-web-10'], ['ygg-host-web-10'], [], 1]);
    await assert.rejects(revokedAgent.put(layout.agent('web-10')).value('{}').exec(), EtcdAuthenticationFailedError);
    await assert.rejects(revokedAgent.get(layout.assignments('web-10')).string(), EtcdAuthenticationFailedError);
    assert.equal(await root.get(layout.agent('web-10')).string(), null, 'heartbeat gone with the lease');
    assert.equal(await root.get(layout.naming('acme.web', 'web-10', 8080)).string(), null, 'endpoint gone with the lease');
    await assert.rejects(readCredentialFile(credentials.file('web-10')), /cannot read it \(ENOENT\)/);
    assert.equal(readFileSync(credentials.file('web-1'), 'utf8'), web1Before);
    await (await clientFor('web-1')).put(layout.status('web-1', 'web')).value('{}').exec();
    lease.release();
  });

  it('an added host gets exactly its user, role and file', async () => {
    const changes = await apply(['web-1', 'web-2', 'lvs-1']);
    assert.deepEqual([changes.usersCreated, changes.rolesCreated, changes.usersDeleted], [['ygg-host-web-2'], ['ygg-host-web-2'], []]);
    await (await clientFor('web-2')).put(layout.agent('web-2')).value('{}').exec();
  });

  it('a run that would revoke most hosts at once (a wrong --repo or --ref) is refused whole: nothing changes', async () => {
    const before = readFileSync(credentials.file('web-1'), 'utf8');
    await assert.rejects(apply(['lvs-1']), (error: unknown) => {
      assert.ok(error instanceof MassRevocationError);
      assert.deepEqual([error.code, error.hosts, error.known], ['E_MASS_REVOCATION', ['web-1', 'web-2'], 3]);
      assert.match(error.message, /drops 2 of 3 hosts \(web-1, web-2\).*nothing changed.*--allow-mass-revocation/);
      return true;
    });
    assert.equal(readFileSync(credentials.file('web-1'), 'utf8'), before);
    await (await clientFor('web-1')).put(layout.status('web-1', 'web')).value('{}').exec();
    await (await clientFor('web-2')).put(layout.status('web-2', 'web')).value('{}').exec();
  });

  it("a service no longer routed to a host loses the grant and the entries, and the host's lease works again", async () => {
    const agent = await clientFor('web-1');
    const lease = agent.lease(30);
    const services = [service('acme.web', 'web', { directors: ['lvs-1'] }), service('acme.web.old', 'web')];
    await apply(['web-1', 'web-2', 'lvs-1'], services);
    await lease.put(layout.naming('acme.web.old', 'web-1', 8080)).value('{}').exec();

    const changes = await apply(['web-1', 'web-2', 'lvs-1']);
    assert.deepEqual([changes.grantsRevoked, changes.namingDeleted], [2, 1]);
    assert.equal(await root.get(layout.naming('acme.web.old', 'web-1', 8080)).string(), null);
    await assertDenied('re-register under the old service', agent.put(layout.naming('acme.web.old', 'web-1', 8080)).value('{}').exec());
    await lease.put(layout.agent('web-1')).value('{}').exec();
    await lease.revoke();
  });

  it('a credential file deleted by hand gets a new password; the old one stops working', async () => {
    const old = await clientFor('web-2');
    await credentials.remove('web-2');
    const changes = await apply(['web-1', 'web-2', 'lvs-1']);
    assert.deepEqual([changes.passwordsSet, changes.usersCreated], [['ygg-host-web-2'], []]);
    await assert.rejects(old.put(layout.agent('web-2')).value('{}').exec(), EtcdAuthenticationFailedError);
    await (await clientFor('web-2')).put(layout.agent('web-2')).value('{}').exec();
  });

  it('a credential file whose password no longer logs in gets a new password when passwords are verified (etcd-setup)', async () => {
    await credentials.write('web-2', { user: 'ygg-host-web-2', password: 'restored-from-an-old-backup' });
    const trusted = await apply(['web-1', 'web-2', 'lvs-1']);
    assert.deepEqual(trusted.passwordsSet, [], 'not verified: the file is trusted');
    const verified = await apply(['web-1', 'web-2', 'lvs-1'], undefined, true);
    assert.deepEqual(verified.passwordsSet, ['ygg-host-web-2']);
    assert.notEqual((await readCredentialFile(credentials.file('web-2'))).password, 'restored-from-an-old-backup');
    await (await clientFor('web-2')).put(layout.agent('web-2')).value('{}').exec();
    assert.deepEqual((await apply(['web-1', 'web-2', 'lvs-1'], undefined, true)).passwordsSet, [], 'every file logs in now');
  });
});
