import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Etcd3 } from 'etcd3';
import { createEtcdClient } from '../../src/store/etcd-connection.js';
import { keyLayout, type KeyLayout } from '../../src/store/keys.js';
import { LeaderElection } from '../../src/store/leader-election.js';
import { anyJson, EtcdStateStore } from '../../src/store/state-store.js';
import { GuardFailedError } from '../../src/store/store-errors.js';
import { sharedEtcd, startTcpProxy, uniquePrefix, type SharedEtcd, type TcpProxy } from '../fixtures/etcd-server.js';
import { waitFor } from './wait-for.js';

const TTL_SECONDS = 2;

interface Candidate {
  readonly client: Etcd3;
  readonly store: EtcdStateStore;
  readonly election: LeaderElection;
  readonly events: string[];
}

describe('LeaderElection', () => {
  let etcd: SharedEtcd;
  let proxy: TcpProxy;
  const candidates: Candidate[] = [];

  before(async () => {
    etcd = await sharedEtcd();
    proxy = await startTcpProxy(etcd.url);
  });
  after(async () => {
    for (const { election, client } of candidates) {
      await election.resign().catch(() => {});
      client.close();
    }
    await proxy.close();
    await etcd.stop();
  });

  function candidate(id: string, layout: KeyLayout, url = etcd.url): Candidate {
    const client = createEtcdClient({ endpoints: [url], reconnectMaxMs: 200, dialTimeoutMs: 1000 });
    const store = new EtcdStateStore(client, layout);
    const election = new LeaderElection(store, { id, leaseTtlSeconds: TTL_SECONDS, retry: { initialMs: 50, maxMs: 200 } });
    const events: string[] = [];
    election.on('elected', () => events.push('elected'));
    election.on('deposed', (reason) => events.push(`deposed: ${reason}`));
    const made = { client, store, election, events };
    candidates.push(made);
    return made;
  }

  const write = (who: Candidate, layout: KeyLayout) => who.store.applyBatch([{ put: layout.syncCurrent, value: who.election.id }], who.election.guard());

  test('of two candidates exactly one leads, and only its guarded writes succeed', async () => {
    const layout = keyLayout(uniquePrefix('election'));
    const a = candidate('controller-a', layout);
    const b = candidate('controller-b', layout);
    await Promise.all([a.election.campaign(), b.election.campaign()]);

    const [leader, standby] = a.election.isLeader ? [a, b] : [b, a];
    assert.equal(leader.election.isLeader, true);
    assert.equal(standby.election.isLeader, false);
    assert.deepEqual([leader.events, standby.events], [['elected'], []]);
    assert.equal((await leader.store.getJson(layout.leader, anyJson)).entry?.value, leader.election.id);

    assert.deepEqual(await write(leader, layout), { ops: 1, txns: 1 });
    await assert.rejects(write(standby, layout), GuardFailedError);
    assert.equal((await leader.store.getJson(layout.syncCurrent, anyJson)).entry?.value, leader.election.id);
  });

  test('when the leader stops renewing, it steps down and the standby takes over within TTL + 1 s', async () => {
    const layout = keyLayout(uniquePrefix('election'));
    const leader = candidate('controller-cut-off', layout, proxy.url);
    await leader.election.campaign();
    assert.ok(leader.election.isLeader);
    const standby = candidate('controller-standby', layout);
    await standby.election.campaign();
    assert.equal(standby.election.isLeader, false);

    const cutAt = Date.now();
    await proxy.cut(); // the leader can no longer renew its lease (a partition, or a stalled process)
    await waitFor(() => leader.events.some((event) => event.startsWith('deposed')), 'the old leader to step down', 3000);
    const deposedAfterMs = Date.now() - cutAt;
    await waitFor(() => standby.election.isLeader, 'the standby to be elected', (TTL_SECONDS + 1) * 1000);
    const takeoverMs = Date.now() - cutAt;
    assert.ok(deposedAfterMs < TTL_SECONDS * 1000, `stepped down after ${deposedAfterMs} ms, before its lease expired`);
    assert.ok(takeoverMs <= (TTL_SECONDS + 1) * 1000, `took over after ${takeoverMs} ms`);
    assert.match(leader.events.at(-1)!, /^deposed: lease .* lost: not renewed/);

    await proxy.restore(); // the old leader comes back: it is a standby now, and cannot write
    await assert.rejects(
      waitFor(() => leader.election.isLeader, 'never', 300),
      /timed out/,
    );
    await assert.rejects(write(leader, layout), GuardFailedError);
    assert.deepEqual(await write(standby, layout), { ops: 1, txns: 1 });
  });

  test('a revoked lease deposes the leader at once, and exactly one candidate leads again', async () => {
    const layout = keyLayout(uniquePrefix('election'));
    const leader = candidate('controller-revoked', layout);
    const standby = candidate('controller-next', layout);
    await leader.election.campaign();
    await standby.election.campaign();
    const revoked = (await leader.store.getJson(layout.leader, anyJson)).entry!.lease;
    await standby.client.leaseClient.leaseRevoke({ ID: revoked });

    await waitFor(() => leader.events.length >= 2, 'the leader to step down', 2000);
    assert.match(leader.events[1]!, /^deposed: (leader key deleted|lease .* lost)/);
    // both saw the key vanish and campaigned: either may win, never both
    const winner = await waitFor(
      () => leader.election.isLeader !== standby.election.isLeader && (leader.election.isLeader ? leader : standby),
      'one leader again',
      2000,
    );
    const holder = (await leader.store.getJson(layout.leader, anyJson)).entry;
    assert.equal(holder?.value, winner.election.id);
    assert.notEqual(holder?.lease, revoked);
  });

  test('resign hands leadership over at once', async () => {
    const layout = keyLayout(uniquePrefix('election'));
    const first = candidate('controller-first', layout);
    const second = candidate('controller-second', layout);
    await first.election.campaign();
    await second.election.campaign();
    assert.ok(first.election.isLeader);

    const resignedAt = Date.now();
    await first.election.resign();
    assert.deepEqual(first.events, ['elected', 'deposed: resigned']);
    await waitFor(() => second.election.isLeader, 'the second candidate to be elected', 1000);
    assert.ok(Date.now() - resignedAt < 1000);
    assert.equal((await second.store.getJson(layout.leader, anyJson)).entry?.value, 'controller-second');
    await assert.rejects(write(first, layout), GuardFailedError);
  });
});
