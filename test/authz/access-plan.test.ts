import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hostPrincipal, planAccess, principalHost, type AccessPlan } from '../../src/authz/access-plan.js';
import { buildFleetIndex } from '../../src/model/fleet-index.js';
import { CLUSTER_TAG, host, job, model, service, treeNode } from '../fixtures/model-builder.js';

const OTHER_TAG = 'cop.xiaomi_owt.miliao_pdl.search_cluster.production-lg';

/** web-1 and web-10 (one name a prefix of the other) run `web` (2 replicas of 3 hosts); lvs-1 directs its VIP. */
function fleet() {
  const built = model({
    hosts: [host('web-1'), host('web-10'), host('web-2', { state: 'spare' }), host('lvs-1'), host('search-1')],
    treeNodes: [treeNode(CLUSTER_TAG, { hosts: ['web-1', 'web-10', 'web-2'] }), treeNode(OTHER_TAG, { hosts: ['search-1'] })],
    jobs: [job('web', { replicas: 2, ports: { http: 8080 } }), job('search', { tag: `${OTHER_TAG}_service.search_job.search`, ports: { http: 9000 } })],
    services: [service('acme.web', 'web', { directors: ['lvs-1'] }), service('acme.web.internal', 'web'), service('acme.search', 'search')],
  });
  return planAccess(built, buildFleetIndex(built), '/ygg/v1');
}

const grantsOf = (plan: AccessPlan, role: string) =>
  plan.roles.find((candidate) => candidate.name === role)?.grants.map((grant) => `${grant.permission} ${grant.key}${grant.prefix ? '*' : ''}`);

describe('planAccess', () => {
  it('gives a host write access to its own heartbeat, statuses and naming entries only, and read access to its assignments', () => {
    assert.deepEqual(grantsOf(fleet(), 'ygg-host-web-1'), [
      'Readwrite /ygg/v1/agents/web-1',
      'Read /ygg/v1/assign/web-1/*',
      'Read /ygg/v1/hosts/*',
      'Readwrite /ygg/v1/naming/acme.web.internal/web-1:*',
      'Readwrite /ygg/v1/naming/acme.web/web-1:*',
      'Readwrite /ygg/v1/status/web-1/*',
      'Read /ygg/v1/sync/current',
    ]);
  });

  it("grants naming on every host the job may run on (spare and unplaced too), so moving a replica needs no new grant", () => {
    const plan = fleet();
    for (const name of ['web-10', 'web-2']) {
      assert.ok(grantsOf(plan, hostPrincipal(name))!.includes(`Readwrite /ygg/v1/naming/acme.web/${name}:*`), name);
    }
    assert.deepEqual(
      grantsOf(plan, 'ygg-host-search-1')!.filter((grant) => grant.includes('naming')),
      ['Readwrite /ygg/v1/naming/acme.search/search-1:*'],
    );
    assert.equal(grantsOf(plan, 'ygg-host-lvs-1')!.filter((grant) => grant.includes('naming')).length, 0, 'no job runs on the director');
  });

  it('never lets one host write under another host\'s key (web-1 is a prefix of web-10)', () => {
    const plan = fleet();
    const writable = (name: string) => plan.roles.find((role) => role.name === hostPrincipal(name))!.grants.filter((grant) => grant.permission !== 'Read');
    for (const grant of writable('web-1')) {
      for (const other of ['web-10', 'web-2', 'lvs-1', 'search-1']) {
        const otherKeys = [`/ygg/v1/agents/${other}`, `/ygg/v1/status/${other}/web`, `/ygg/v1/naming/acme.web/${other}:8080`];
        for (const key of otherKeys) assert.ok(!(grant.prefix ? key.startsWith(grant.key) : key === grant.key), `${grant.key} covers ${key}`);
      }
    }
  });

  it('adds the director role to a director (what its renderer reads, no assignment) and makes the fleet-wide users', () => {
    const plan = fleet();
    const users = Object.fromEntries(plan.users.map((user) => [user.name, `${user.file}: ${user.roles.join(',')}`]));
    assert.deepEqual(users, {
      'ygg-controller': '_controller: ygg-controller',
      'ygg-readonly': '_readonly: ygg-readonly',
      'ygg-renderer': '_renderer: ygg-director,ygg-renderer',
      'ygg-host-lvs-1': 'lvs-1: ygg-director,ygg-host-lvs-1',
      'ygg-host-search-1': 'search-1: ygg-host-search-1',
      'ygg-host-web-1': 'web-1: ygg-host-web-1',
      'ygg-host-web-10': 'web-10: ygg-host-web-10',
      'ygg-host-web-2': 'web-2: ygg-host-web-2',
    });
    // secret versions, never values: the controller hashes versions into specs
    assert.deepEqual(grantsOf(plan, 'ygg-controller'), ['Read /ygg/v1-secrets/versions/*', 'Readwrite /ygg/v1/*']);
    assert.deepEqual(grantsOf(plan, 'ygg-readonly'), ['Read /ygg/v1/*']);
    assert.deepEqual(grantsOf(plan, 'ygg-director'), [
      'Read /ygg/v1/agents/*',
      'Read /ygg/v1/hosts/*',
      'Read /ygg/v1/lost/*',
      'Read /ygg/v1/naming/*',
      'Read /ygg/v1/sync/current',
      'Read /ygg/v1/vips/*',
      'Read /ygg/v1/zones/*',
    ]);
    assert.deepEqual(grantsOf(plan, 'ygg-renderer'), [], 'every director is a Host: their agents write their own render status');
  });

  it('lets the renderer user write the render status of a director that is no Host, and nothing else', () => {
    const built = model({ hosts: [host('web-1')], treeNodes: [treeNode(CLUSTER_TAG, { hosts: ['web-1'] })], jobs: [job('web')], services: [service('acme.web', 'web', { directors: ['lb-9'] })] });
    assert.deepEqual(grantsOf(planAccess(built, buildFleetIndex(built), '/ygg/v1'), 'ygg-renderer'), ['Readwrite /ygg/v1/status/lb-9/_render']);
  });

  it('lets a host read exactly the secrets its tree node\'s jobs reference, each by its exact key', () => {
    const built = model({
      hosts: [host('web-1'), host('web-2', { state: 'spare' }), host('search-1')],
      treeNodes: [treeNode(CLUSTER_TAG, { hosts: ['web-1', 'web-2'] }), treeNode(OTHER_TAG, { hosts: ['search-1'] })],
      jobs: [
        job('web', { env: { DB_PASSWORD: '{{secret "db-password"}}' }, configs: [{ path: 'conf/a', template: '{{secret "api-token"}}' }] }),
        job('search', { tag: `${OTHER_TAG}_service.search_job.search` }),
      ],
    });
    const plan = planAccess(built, buildFleetIndex(built), '/ygg/v1');
    const secretGrants = (role: string) => grantsOf(plan, role)!.filter((grant) => grant.includes('-secrets/'));
    assert.deepEqual(secretGrants('ygg-host-web-1'), ['Read /ygg/v1-secrets/values/api-token', 'Read /ygg/v1-secrets/values/db-password']);
    assert.deepEqual(secretGrants('ygg-host-web-2'), ['Read /ygg/v1-secrets/values/api-token', 'Read /ygg/v1-secrets/values/db-password']);
    assert.deepEqual(secretGrants('ygg-host-search-1'), []);
    assert.deepEqual(secretGrants('ygg-readonly'), []);
  });

  it('names a host by its principal and back; the fleet-wide users are no host', () => {
    assert.equal(principalHost(hostPrincipal('web-1')), 'web-1');
    assert.equal(principalHost('ygg-controller'), undefined);
    assert.equal(principalHost('root'), undefined);
  });
});
