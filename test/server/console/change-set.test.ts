import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ChangeSet } from '../../../src/server/console/change-set.js';
import { keyLayout } from '../../../src/store/keys.js';

const layout = keyLayout('/ygg/v1');

test('keys become the jobs, hosts and naming entries a client shows, sorted and de-duplicated', () => {
  const changes = new ChangeSet(layout);
  assert.equal(changes.empty, true);
  for (const key of [
    layout.status('h2', 'web'),
    layout.assignment('h1', 'web'),
    layout.status('h1', 'web'),
    layout.agent('h3'),
    layout.lostHost('h4'),
    layout.rollout('api'),
    layout.naming('svc.www', 'h1', 8080),
    layout.vip('svc.api'),
    layout.status('lvs1', '_render'),
  ]) changes.add({ key });
  assert.equal(changes.empty, false);
  assert.deepEqual(changes.take(), { jobs: ['api', 'web'], hosts: ['h1', 'h2', 'h3', 'h4'], naming: ['lvs1', 'svc.api', 'svc.www'], status: true, history: false, full: false });
  assert.equal(changes.empty, true, 'take() empties the set');
});

test('sync/current is the header, sync/history the history page, a resync everything; the leader key nothing', () => {
  const changes = new ChangeSet(layout);
  changes.add({ key: layout.leader });
  changes.add({ key: '/elsewhere/assign/h1/web' });
  assert.equal(changes.empty, true);
  changes.add({ key: layout.syncCurrent });
  changes.add({ key: layout.syncHistory(new Date(0), 'abc') });
  assert.deepEqual(changes.take(), { jobs: [], hosts: [], naming: [], status: true, history: true, full: false });
  changes.add({ resync: true });
  assert.equal(changes.take().full, true);
});
