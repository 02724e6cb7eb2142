import assert from 'node:assert/strict';
import http from 'node:http';
import type net from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { Etcd3 } from 'etcd3';
import { HealthMonitor } from '../../src/agent/health-monitor.js';
import { NamingRegistration } from '../../src/agent/naming-registration.js';
import { createEtcdClient } from '../../src/store/etcd-connection.js';
import { keyLayout, type KeyLayout } from '../../src/store/keys.js';
import { anyJson, EtcdStateStore, type LeaseHandle } from '../../src/store/state-store.js';
import { sharedEtcd, startTcpProxy, uniquePrefix, type SharedEtcd } from '../fixtures/etcd-server.js';
import { waitFor } from '../store/wait-for.js';

const web = { job: 'web', specHash: 'a'.repeat(64) };

describe('NamingRegistration on a real etcd', () => {
  let etcd: SharedEtcd;
  let client: Etcd3;
  let layout: KeyLayout;
  let store: EtcdStateStore;
  const leases: LeaseHandle[] = [];

  const grant = async () => {
    const lease = await store.grantLease(10);
    leases.push(lease);
    return lease;
  };
  const read = (key: string) => store.getJson(key, anyJson).then((result) => result.entry);
  const keys = async (service?: string) => [...(await store.getPrefixJson(layout.namings(service), anyJson)).entries.keys()];

  before(async () => {
    etcd = await sharedEtcd();
    client = createEtcdClient({ endpoints: [etcd.url] });
    layout = keyLayout(uniquePrefix('naming'));
    store = new EtcdStateStore(client, layout);
  });
  after(async () => {
    await Promise.all(leases.filter((lease) => !lease.lost).map((lease) => lease.revoke().catch(() => {})));
    await client.delete().prefix(layout.prefix);
    client.close();
    await etcd.stop();
  });

  test('healthy: each service of the job is registered under the lease; unhealthy: gone', async () => {
    const lease = await grant();
    const naming = new NamingRegistration({ store, host: 'h1', ip: '10.0.0.1', leaseId: lease.id });
    const endpoints = [{ service: 'svc.http', port: 8080 }, { service: 'svc.admin', port: 9090 }];
    await naming.setHealthy(web, endpoints, true);

    const entry = await read(layout.naming('svc.http', 'h1', 8080));
    assert.deepEqual(entry?.value, { ip: '10.0.0.1', port: 8080, weight: 1, host: 'h1', job: 'web', specHash: web.specHash });
    assert.equal(entry?.lease, lease.id);
    assert.deepEqual(await keys(), [layout.naming('svc.admin', 'h1', 9090), layout.naming('svc.http', 'h1', 8080)]);
    assert.deepEqual([...naming.expected().keys()], await keys());

    // still healthy, nothing changed: no rewrite (watchers are not woken for nothing)
    await naming.setHealthy(web, endpoints, true);
    assert.equal((await read(layout.naming('svc.http', 'h1', 8080)))?.modRevision, entry?.modRevision);

    await naming.setHealthy(web, endpoints, false);
    assert.deepEqual(await keys(), []);
    assert.equal(naming.expected().size, 0);
  });

  test('a new spec rewrites the record; a service dropped from the job is deleted; deregister removes all', async () => {
    const lease = await grant();
    const naming = new NamingRegistration({ store, host: 'h2', ip: '10.0.0.2', leaseId: lease.id, weight: 5 });
    await naming.setHealthy(web, [{ service: 'one', port: 1001 }, { service: 'two', port: 1002 }], true);
    const updated = { job: 'web', specHash: 'b'.repeat(64), weight: 3 };
    await naming.setHealthy(updated, [{ service: 'one', port: 1001 }], true);
    assert.deepEqual(await keys('two'), []);
    assert.deepEqual((await read(layout.naming('one', 'h2', 1001)))?.value, { ip: '10.0.0.2', port: 1001, weight: 3, host: 'h2', job: 'web', specHash: 'b'.repeat(64) });
    await naming.setHealthy({ job: 'api', specHash: 'c'.repeat(64) }, [{ service: 'api', port: 7000 }], true);
    assert.equal((await read(layout.naming('api', 'h2', 7000)) as { value: { weight: number } } | undefined)?.value.weight, 5);

    await naming.deregister('web');
    assert.deepEqual(await keys('one'), []);
    assert.deepEqual([...naming.expected().keys()], [layout.naming('api', 'h2', 7000)]);
  });

  test('health check failing → endpoint gone within one interval; recovery restores it', async () => {
    let healthy = true;
    const server = http.createServer((_request, response) => response.writeHead(healthy ? 200 : 503).end());
    // the host's own loopback IP: the address naming registers is the one the check probes
    const hostIp = '127.0.0.43';
    const port = await new Promise<number>((resolve) => server.listen(0, hostIp, () => resolve((server.address() as net.AddressInfo).port)));
    const lease = await grant();
    const naming = new NamingRegistration({ store, host: 'h3', ip: hostIp, leaseId: lease.id });
    const intervalSeconds = 0.2;
    // threshold 1: the bound is one interval; with the default of 2 it is two
    const monitor = new HealthMonitor({ check: { http: { port: 'http', path: '/health' }, intervalSeconds, timeoutSeconds: 1 }, ports: { http: port }, context: { hostIp }, unhealthyThreshold: 1 });
    const key = layout.naming('svc3', 'h3', port);
    monitor.onTransition(({ to }) => void naming.setHealthy(web, [{ service: 'svc3', port }], to === 'healthy'));
    monitor.start();
    try {
      await waitFor(() => naming.expected().has(key), 'expected');
      await waitForKey(key, true);
      healthy = false;
      const failingSince = Date.now();
      await waitForKey(key, false);
      const goneAfterMs = Date.now() - failingSince;
      assert.ok(goneAfterMs <= intervalSeconds * 1000 + 150, `gone after ${goneAfterMs} ms`);
      healthy = true;
      await waitForKey(key, true);
    } finally {
      await monitor.stop();
      server.closeAllConnections();
      server.close();
    }
  });

  test('etcd forgets the lease → keys gone; reassert with a new lease puts them back', async () => {
    const first = await grant();
    const naming = new NamingRegistration({ store, host: 'h4', ip: '10.0.0.4', leaseId: first.id });
    await naming.setHealthy(web, [{ service: 'svc4', port: 80 }], true);
    await naming.setHealthy({ job: 'sick', specHash: 'd'.repeat(64) }, [{ service: 'svc4', port: 81 }], false);
    const key = layout.naming('svc4', 'h4', 80);
    assert.ok(await read(key));

    await first.revoke(); // what etcd does to an agent it has not heard from for a TTL
    assert.equal(await read(key), undefined);

    const second = await grant();
    await naming.reassert(second.id);
    assert.equal(naming.leaseId, second.id);
    const entry = await read(key);
    assert.equal(entry?.lease, second.id);
    assert.deepEqual(await keys('svc4'), [key], 'the unhealthy job stays unregistered');
  });

  test('a write that fails while etcd is away is repaired by reassert', async () => {
    const proxy = await startTcpProxy(etcd.url);
    const cutClient = createEtcdClient({ endpoints: [proxy.url], dialTimeoutMs: 1000 });
    try {
      const cutStore = new EtcdStateStore(cutClient, layout);
      const lease = await grant();
      const naming = new NamingRegistration({ store: cutStore, host: 'h5', ip: '10.0.0.5', leaseId: lease.id });
      const key = layout.naming('svc5', 'h5', 80);
      await naming.setHealthy(web, [{ service: 'svc5', port: 80 }], true);
      assert.ok(await read(key));

      await proxy.cut();
      await assert.rejects(naming.setHealthy(web, [{ service: 'svc5', port: 80 }], false), (error: unknown) => (error as { code?: string }).code === 'E_ETCD_UNAVAILABLE');
      assert.ok(await read(key), 'etcd still has the endpoint: the delete never arrived');

      await proxy.restore();
      await naming.reassert();
      assert.equal(await read(key), undefined);
    } finally {
      cutClient.close();
      await proxy.close();
    }
  });

  async function waitForKey(key: string, present: boolean): Promise<void> {
    const deadline = Date.now() + 5000;
    while (Boolean(await read(key)) !== present) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${key} to be ${present ? 'present' : 'gone'}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
});
