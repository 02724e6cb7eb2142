// Proof on a real etcd with authentication on (a private one): a host reads exactly the secrets its
// jobs reference, another host and the read-only user read none, the controller reads versions but
// no value, and a grant goes when the reference does.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Etcd3 } from 'etcd3';
import { planAccess } from '../../src/authz/access-plan.js';
import { applyAccess } from '../../src/authz/apply-access.js';
import { CredentialDirectory, readCredentialFile } from '../../src/authz/credential-files.js';
import { connectAsRoot } from '../../src/authz/etcd-root.js';
import { buildFleetIndex } from '../../src/model/fleet-index.js';
import { createEtcdClient } from '../../src/store/etcd-connection.js';
import { keyLayout } from '../../src/store/keys.js';
import { readSecretVersions, secretKeys, setSecret } from '../../src/store/secret-store.js';
import { assertDenied } from '../fixtures/access-proof.js';
import { startEtcd, type EtcdServer } from '../fixtures/etcd-server.js';
import { CLUSTER_TAG, host, job, model, treeNode } from '../fixtures/model-builder.js';
import { removeDir } from '../fixtures/small-fleet.js';

const PREFIX = '/ygg/v1';
const layout = keyLayout(PREFIX);
const keys = secretKeys(PREFIX);
const OTHER_TAG = 'cop.xiaomi_owt.miliao_pdl.search_cluster.production-lg';
const VALUE = 'correct-horse-battery-staple';

/** web-a runs `web` (takes db-password when `referenced`); search-b runs `search` (takes none). */
function fleet(referenced: boolean) {
  return model({
    hosts: [host('web-a'), host('search-b')],
    treeNodes: [treeNode(CLUSTER_TAG, { hosts: ['web-a'] }), treeNode(OTHER_TAG, { hosts: ['search-b'] })],
    jobs: [job('web', referenced ? { env: { DB_PASSWORD: '{{secret "db-password"}}' } } : {}), job('search', { tag: `${OTHER_TAG}_service.search_job.search` })],
  });
}

describe('secret grants on a real etcd with auth', () => {
  let server: EtcdServer;
  let root: Etcd3;
  const outDir = mkdtempSync(path.join(tmpdir(), 'ygg-secret-credentials-'));
  const credentials = new CredentialDirectory(outDir);
  const clients: Etcd3[] = [];
  const apply = async (referenced: boolean) => {
    const built = fleet(referenced);
    return applyAccess({ client: root, plan: planAccess(built, buildFleetIndex(built), PREFIX), layout, credentials });
  };
  const clientFor = async (file: string) => {
    const { user, password } = await readCredentialFile(credentials.file(file));
    const client = createEtcdClient({ endpoints: [server.url], auth: { user, password } });
    clients.push(client);
    return client;
  };

  before(async () => {
    server = await startEtcd();
    root = (await connectAsRoot({ endpoints: [server.url] }, 'root-password')).client;
    await apply(true);
    await setSecret(root, keys, 'db-password', Buffer.from(VALUE), new Date());
    await setSecret(root, keys, 'other', Buffer.from('not-for-anyone'), new Date());
  });
  after(async () => {
    for (const client of clients) client.close();
    root?.close();
    await server?.stop();
    removeDir(outDir);
  });

  it('the host whose job references db-password reads it, and nothing else of the secrets', async () => {
    const webA = await clientFor('web-a');
    assert.equal(await webA.get(keys.value('db-password')).string(), VALUE);
    await assertDenied('web-a reads a secret its jobs do not reference', webA.get(keys.value('other')).string());
    await assertDenied('web-a lists the secrets', webA.getAll().prefix(keys.prefix).keys());
    await assertDenied('web-a writes its own secret', webA.put(keys.value('db-password')).value('x').exec());
  });

  it('another host, the read-only user and the controller read no value; the controller reads versions', async () => {
    const searchB = await clientFor('search-b');
    await assertDenied('search-b reads db-password', searchB.get(keys.value('db-password')).string());
    const readonly = await clientFor('_readonly');
    await assertDenied('read-only reads db-password', readonly.get(keys.value('db-password')).string());
    await assertDenied('read-only reads versions', readonly.getAll().prefix(keys.versions).keys());
    const controller = await clientFor('_controller');
    await assertDenied('the controller reads a value', controller.get(keys.value('db-password')).string());
    const { versions } = await readSecretVersions(controller, keys);
    assert.deepEqual([...versions.keys()].sort(), ['db-password', 'other']);
  });

  it('a reference the repo drops loses its grant on the next run', async () => {
    const changes = await apply(false);
    assert.equal(changes.grantsRevoked, 1);
    const webA = await clientFor('web-a');
    await assertDenied('web-a reads db-password after the reference went', webA.get(keys.value('db-password')).string());
    assert.equal((await apply(false)).grantsRevoked, 0, 'a re-run changes nothing');
  });
});
