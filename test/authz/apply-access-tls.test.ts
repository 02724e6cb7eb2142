// The client-certificate variant, on a private etcd with TLS and --client-cert-auth: root runs the
// setup by certificate (no password anywhere), and a host's certificate (common name
// ygg-host-<host>) is confined exactly as its password would be. etcd answers a certificate naming
// no user (any more) "permission denied", not an authentication failure.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { EtcdPermissionDeniedError, type Etcd3 } from 'etcd3';
import { hostPrincipal, planAccess, READONLY_ROLE } from '../../src/authz/access-plan.js';
import { applyAccess } from '../../src/authz/apply-access.js';
import { CredentialDirectory } from '../../src/authz/credential-files.js';
import { connectAsRoot, ROOT_USER } from '../../src/authz/etcd-root.js';
import { buildFleetIndex } from '../../src/model/fleet-index.js';
import { createEtcdClient, type EtcdConnectionOptions } from '../../src/store/etcd-connection.js';
import { keyLayout } from '../../src/store/keys.js';
import { assertHostConfined, assertWritesNothing } from '../fixtures/access-proof.js';
import { createTestCertificates, issueClientCertificate, startEtcd, type EtcdServer, type TestCertificates } from '../fixtures/etcd-server.js';
import { CLUSTER_TAG, host, job, model, service, treeNode } from '../fixtures/model-builder.js';
import { removeDir } from '../fixtures/small-fleet.js';

const PREFIX = '/ygg/v1';
const layout = keyLayout(PREFIX);

function applyFor(root: Etcd3, hostNames: readonly string[], credentials: CredentialDirectory) {
  const built = model({
    hosts: hostNames.map((name) => host(name)),
    treeNodes: [treeNode(CLUSTER_TAG, { hosts: hostNames })],
    jobs: [job('web', { ports: { http: 8080 } })],
    services: [service('acme.web', 'web')],
  });
  return applyAccess({ client: root, plan: planAccess(built, buildFleetIndex(built), PREFIX), layout, credentials });
}

describe('etcd-setup with client certificates (TLS, --client-cert-auth)', () => {
  let certificates: TestCertificates;
  let server: EtcdServer;
  let root: Etcd3;
  const outDir = mkdtempSync(path.join(tmpdir(), 'ygg-credentials-tls-'));
  const credentials = new CredentialDirectory(outDir);
  const clients: Etcd3[] = [];
  /** Connection options presenting a certificate whose common name is `user`. */
  const as = (user: string): EtcdConnectionOptions => {
    const { certFile, keyFile } = issueClientCertificate(certificates.dir, user);
    return { endpoints: [server.url], tls: { caFile: certificates.caFile, certFile, keyFile } };
  };
  const clientAs = (user: string) => {
    const client = createEtcdClient(as(user));
    clients.push(client);
    return client;
  };

  before(async () => {
    certificates = createTestCertificates();
    server = await startEtcd({ tls: certificates, clientCertAuth: true });
    const connected = await connectAsRoot(as(ROOT_USER), undefined);
    assert.equal(connected.enabledAuth, true, 'root created and auth turned on, by certificate alone');
    root = connected.client;
    await applyFor(root, ['web-1', 'web-10'], credentials);
  });
  after(async () => {
    for (const client of clients) client.close();
    root?.close();
    await server?.stop();
    removeDir(outDir);
    if (certificates) removeDir(certificates.dir);
  });

  it('auth is on: a certificate naming no user is refused; a second run as root finds root in place', async () => {
    await assert.rejects(clientAs('someone-else').put(layout.leader).value('me').exec(), EtcdPermissionDeniedError);
    const again = await connectAsRoot(as(ROOT_USER), undefined);
    again.client.close();
    assert.equal(again.enabledAuth, false);
    await assert.rejects(connectAsRoot(as(hostPrincipal('web-1')), undefined), { code: 'E_ETCD_ROOT_LOGIN', message: 'etcd refuses root: the client certificate (--etcd-cert) must have the common name root' });
  });

  it("a host's certificate writes its own records and nothing of anyone else's", async () => {
    const agent = clientAs(hostPrincipal('web-1'));
    const lease = agent.lease(10, { autoKeepAlive: false });
    await lease.put(layout.agent('web-1')).value('{}').exec();
    await lease.put(layout.naming('acme.web', 'web-1', 8080)).value('{}').exec();
    await agent.put(layout.status('web-1', 'web')).value('{}').exec();
    await assertHostConfined(agent, layout, 'web-1', 'web-10', 'web', 'acme.web');
    await lease.revoke();
  });

  it('the read-only certificate writes nothing', async () => {
    await assertWritesNothing(clientAs(READONLY_ROLE), layout, 'web-1', 'web', 'acme.web');
  });

  it("a revoked host's certificate is refused at once", async () => {
    const agent = clientAs(hostPrincipal('web-10'));
    await agent.put(layout.agent('web-10')).value('{}').exec();
    const changes = await applyFor(root, ['web-1'], credentials);
    assert.deepEqual(changes.usersDeleted, [hostPrincipal('web-10')]);
    await assert.rejects(agent.put(layout.agent('web-10')).value('{}').exec(), EtcdPermissionDeniedError);
  });
});
