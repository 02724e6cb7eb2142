import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Etcd3 } from 'etcd3';
import { HostWriteBatcher, type BatchStore } from '../../src/agent/host-write-batcher.js';
import { NamingRegistration } from '../../src/agent/naming-registration.js';
import { StatusWriter } from '../../src/agent/status-writer.js';
import { createEtcdClient } from '../../src/store/etcd-connection.js';
import { keyLayout } from '../../src/store/keys.js';
import type { InstanceState, StatusRecord } from '../../src/store/records.js';
import { anyJson, EtcdStateStore, type BatchOp, type LeaseHandle } from '../../src/store/state-store.js';
import { sharedEtcd, uniquePrefix, type SharedEtcd } from '../fixtures/etcd-server.js';

const SPEC = 'c'.repeat(64);

function status(state: InstanceState): StatusRecord {
  const now = new Date().toISOString();
  return { specHash: SPEC, release: SPEC, state, restarts: 0, since: now, updatedAt: now };
}

/** Polls an async condition (a read from etcd) every 20 ms. */
async function until(probe: () => Promise<boolean>, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await probe())) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('HostWriteBatcher on a real etcd', () => {
  let etcd: SharedEtcd;
  let client: Etcd3;
  let store: EtcdStateStore;
  const leases: LeaseHandle[] = [];
  const writers: StatusWriter[] = [];

  before(async () => {
    etcd = await sharedEtcd();
    client = createEtcdClient({ endpoints: [etcd.url] });
    store = new EtcdStateStore(client, keyLayout(uniquePrefix('write-batcher')));
  });
  after(async () => {
    await Promise.all(writers.map((writer) => writer.close()));
    await Promise.all(leases.map((lease) => lease.revoke().catch(() => {})));
    await client.delete().prefix(store.layout.prefix);
    client.close();
    await etcd.stop();
  });

  const read = (key: string) => store.getJson(key, anyJson).then((result) => result.entry);

  /**
   * The real store behind a recorder: every transaction's ops, in the order sent. `hold` makes the
   * next transaction wait until released, then fail (`fail: true`) or go to etcd.
   */
  function recording() {
    const sent: (readonly BatchOp[])[] = [];
    let held: { release: Promise<{ fail: boolean }> } | undefined;
    const inner: BatchStore = {
      layout: store.layout,
      applyBatch: async (ops) => {
        sent.push(ops);
        const hold = held;
        held = undefined;
        if (hold && (await hold.release).fail) throw new Error('etcd unavailable (injected)');
        return store.applyBatch(ops);
      },
    };
    const hold = () => {
      let release!: (outcome: { fail: boolean }) => void;
      held = { release: new Promise((resolve) => (release = resolve)) };
      return release;
    };
    return { batcher: new HostWriteBatcher(inner), sent, hold };
  }

  function statusWriter(host: string, batcher: HostWriteBatcher) {
    const writer = new StatusWriter(host, () => batcher, { debounceMs: 1000, stepDelayMs: 3000 });
    writers.push(writer);
    batcher.addRider((busy) => writer.takeAlong(busy));
    return writer;
  }

  test('an instance turning healthy: its naming entry (under the lease) and its status go in one transaction', async () => {
    const { batcher, sent } = recording();
    const lease = await store.grantLease(10);
    leases.push(lease);
    const statuses = statusWriter('h1', batcher);
    const naming = new NamingRegistration({ store: batcher, host: 'h1', ip: '10.0.0.1', leaseId: lease.id });
    const namingKey = store.layout.naming('svc1', 'h1', 80);
    const statusKey = store.layout.status('h1', 'web');

    // What a health transition does: naming first, then the status, in one turn of the event loop.
    const registered = naming.setHealthy({ job: 'web', specHash: SPEC }, [{ service: 'svc1', port: 80 }], true);
    statuses.set('web', status('Healthy'));
    await registered;

    assert.equal(sent.length, 1, `transactions: ${JSON.stringify(sent)}`);
    const [endpoint, written] = [await read(namingKey), await read(statusKey)];
    assert.equal(endpoint?.lease, lease.id, 'the naming entry is under the agent lease');
    assert.equal((written?.value as StatusRecord | undefined)?.state, 'Healthy');
    assert.equal(written?.lease, '0', 'the status outlives the lease');
    assert.equal(endpoint?.modRevision, written?.modRevision, 'one revision for both');

    // The status writer's own timer finds nothing left to write.
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(sent.length, 1);
  });

  test('a put handed over while a transaction is in flight is sent after it: a later delete is never overtaken', async () => {
    const { batcher, sent, hold } = recording();
    const key = store.layout.naming('svc2', 'h2', 80);
    const release = hold();
    const put = batcher.applyBatch([{ put: key, value: { n: 1 } }]);
    await until(async () => sent.length === 1, 'the put in flight');
    const deleted = batcher.applyBatch([{ delete: key }]);
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(sent.length, 1, 'the delete waits for the transaction in flight');
    release({ fail: false });
    await Promise.all([put, deleted]);
    assert.deepEqual(
      sent.map((ops) => ops.map((op) => ('put' in op ? 'put' : 'delete'))),
      [['put'], ['delete']],
    );
    assert.equal(await read(key), undefined, 'the delete came last');
  });

  test('ops on other keys do not wait for a transaction in flight; a status whose key is in flight does not ride', async () => {
    const { batcher, sent, hold } = recording();
    const statuses = statusWriter('h5', batcher);
    const statusKey = store.layout.status('h5', 'web');
    const release = hold();
    statuses.set('web', status('Healthy'));
    await until(async () => sent.length === 1, 'Healthy in flight');
    statuses.set('web', status('Unhealthy'));
    const other = store.layout.naming('svc5', 'h5', 80);
    await batcher.applyBatch([{ put: other, value: { n: 5 } }]);
    assert.deepEqual(
      sent[1]!.map((op) => ('put' in op ? op.put : op.delete)),
      [other],
      'the naming put went past the slow transaction, without the status of the key in flight',
    );
    release({ fail: false });
    await until(async () => ((await read(statusKey))?.value as StatusRecord | undefined)?.state === 'Unhealthy', 'the newer status, after the older');
  });

  test('a failed transaction rejects every writer in it; each retries on its own and nothing is lost', async () => {
    const { batcher, sent, hold } = recording();
    const lease = await store.grantLease(10);
    leases.push(lease);
    const statuses = statusWriter('h3', batcher);
    const naming = new NamingRegistration({ store: batcher, host: 'h3', ip: '10.0.0.3', leaseId: lease.id });
    const namingKey = store.layout.naming('svc3', 'h3', 80);
    const statusKey = store.layout.status('h3', 'web');

    const release = hold();
    const registered = naming.setHealthy({ job: 'web', specHash: SPEC }, [{ service: 'svc3', port: 80 }], true);
    statuses.set('web', status('Healthy'));
    await until(async () => sent.length === 1, 'the shared transaction');
    release({ fail: true });
    await assert.rejects(registered, /injected/);
    assert.equal(sent[0]!.length, 2, 'naming and status were in the failed transaction');
    assert.equal(await read(namingKey), undefined);

    // The status writer retries by itself (backoff); naming is put back by reassert, as after an outage.
    await until(async () => (await read(statusKey)) !== undefined, 'the status retried');
    await naming.reassert();
    assert.equal((await read(namingKey))?.lease, lease.id);
  });

  test('a status that failed in flight is not put back over a newer one another transaction carried', async () => {
    const { batcher, sent, hold } = recording();
    const statuses = statusWriter('h4', batcher);
    const statusKey = store.layout.status('h4', 'web');

    const release = hold();
    statuses.set('web', status('Healthy'));
    await until(async () => sent.length === 1, 'Healthy in flight');
    statuses.set('web', status('Unhealthy'));
    // Another writer's transaction carries the newer status while the first is still in flight.
    const ride = statuses.takeAlong(() => false);
    assert.ok(ride, 'the newer status may ride');
    await store.applyBatch(ride.ops);
    ride.written();
    release({ fail: true });
    await until(async () => sent.length === 1 && (await read(statusKey)) !== undefined, 'the newer status');
    // Past the retry backoff (500 ms): the failed Healthy must not have been written again.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    assert.equal(((await read(statusKey))?.value as StatusRecord).state, 'Unhealthy');
    assert.equal(sent.length, 1, `nothing resent: ${JSON.stringify(sent.slice(1))}`);
  });
});
