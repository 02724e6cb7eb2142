// A request that races a change of etcd's users or roles fails with "revision of auth store is old"
// (etcd checked the permission against an older auth revision than the store's, and applied
// nothing). The controller changes access on every commit that adds or removes hosts, so agents'
// writes meet this; the client retries it (etcd-fault-handling.ts), as etcd's own Go client does.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Etcd3 } from 'etcd3';
import { connectAsRoot } from '../../src/authz/etcd-root.js';
import { createEtcdClient } from '../../src/store/etcd-connection.js';
import { startEtcd, type EtcdServer } from '../fixtures/etcd-server.js';

let server: EtcdServer;
let root: Etcd3;
let writer: Etcd3;

before(async () => {
  server = await startEtcd();
  root = (await connectAsRoot({ endpoints: [server.url] }, 'root-password')).client;
  await root.role('race-writer').create();
  await root.role('race-writer').grant({ permission: 'Readwrite', range: root.range({ prefix: '/race/' }) });
  await root.user('race-writer').create('writer-password');
  await root.user('race-writer').addRole('race-writer');
  await root.role('race-churn').create();
  writer = createEtcdClient({ endpoints: [server.url], auth: { user: 'race-writer', password: 'writer-password' } });
});
after(async () => {
  writer?.close();
  root?.close();
  await server?.stop();
});

test('writes racing changes of users and roles all succeed', { timeout: 60_000 }, async () => {
  // Logged in first, as a running agent is: etcd 3.4 checks a password again whenever the auth
  // revision moved during the check, so a log-in during non-stop changes would wait them out.
  await writer.put('/race/logged-in').value('yes').exec();
  let churning = true;
  let rounds = 0;
  const churn = (async () => {
    for (; churning; rounds++) {
      const round = rounds;
      const range = root.range({ prefix: `/churn/${round}/` });
      await root.role('race-churn').grant({ permission: 'Read', range });
      await root.role('race-churn').revoke({ permission: 'Read', range });
      await sleep(20);
    }
  })();
  const failures: string[] = [];
  try {
    for (let i = 0; i < 150; i++) {
      await writer
        .put(`/race/${i % 20}`)
        .value(String(i))
        .exec()
        .catch((error: Error) => failures.push(error.message));
    }
  } finally {
    churning = false;
    await churn;
  }
  assert.deepEqual(failures, []);
  assert.ok(rounds >= 5, `only ${rounds} rounds of grants raced the writes`);
});
