// The informer's console side on a real etcd: it mirrors live endpoints and render statuses, tells
// subscribers about every key (audit records included), and still wakes the reconcile loop only for
// what the controller acts on.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FleetInformer, type MirrorChange } from '../../src/controller/fleet-informer.js';
import { FleetView, waitUntil } from '../fixtures/controller-harness.js';
import { host, job } from '../fixtures/model-builder.js';
import { assignmentRecord, T0 } from '../fixtures/observed-builder.js';
import { uniquePrefix, useSharedEtcd } from '../fixtures/etcd-server.js';

describe('FleetInformer on a real etcd', () => {
  const etcd = useSharedEtcd();

  /** An informer on a fresh prefix (closed with the file), how often it woke the loop, and what it told subscribers. */
  async function startInformer(name: string, beforeStart: (view: FleetView) => Promise<unknown> = async () => {}) {
    const view = new FleetView(etcd.url, uniquePrefix(name));
    await beforeStart(view);
    let reconcileWakeups = 0;
    const informer = new FleetInformer(view.store, view.layout, { onChange: () => reconcileWakeups++ });
    etcd.cleanups.push(() => view.close(), () => informer.close());
    await informer.start();
    const changes: MirrorChange[] = [];
    informer.subscribe((change) => changes.push(change));
    return { view, layout: view.layout, store: view.store, informer, changes, wakeups: () => reconcileWakeups };
  }

  test('naming, render statuses and audit records reach subscribers and extras(), not the reconcile trigger', async () => {
    const endpoint = { ip: '10.0.0.1', port: 8080, weight: 1, host: 'h1', job: 'web', specHash: 'a'.repeat(64) };
    // One endpoint before the informer starts: load() reads naming too.
    const { view, layout, store, informer, changes, wakeups } = await startInformer('informer-extras', (fresh) =>
      fresh.store.applyBatch([{ put: fresh.layout.naming('svc.www', 'h1', 8080), value: endpoint }]),
    );
    assert.deepEqual(informer.extras().naming.get('svc.www')?.get('h1:8080'), endpoint);

    const render = { target: '/etc/keepalived/keepalived.conf', holds: 0, skipped: 0, renders: 1, writes: 1, updatedAt: new Date().toISOString() };
    await store.applyBatch([
      { put: layout.naming('svc.www', 'h2', 8080), value: { ...endpoint, host: 'h2' } },
      { put: layout.naming('svc.www', 'h3', 8080), value: { not: 'a naming record' } },
      { put: layout.status('lvs1', '_render'), value: render },
      { put: layout.syncHistory(new Date(), 'abc'), value: { anything: true } },
    ]);
    await waitUntil(() => changes.length >= 4, 'four changes');
    const keys = changes.map((change) => ('key' in change ? change.key : 'resync'));
    assert.deepEqual(keys.filter((key) => !key.startsWith(layout.syncHistories)).sort(), [layout.naming('svc.www', 'h2', 8080), layout.naming('svc.www', 'h3', 8080), layout.status('lvs1', '_render')].sort());
    assert.equal(keys.filter((key) => key.startsWith(layout.syncHistories)).length, 1, 'the audit record too');
    assert.deepEqual([...informer.extras().naming.get('svc.www')!.keys()].sort(), ['h1:8080', 'h2:8080'], 'a value that is not a naming record is left out');
    assert.deepEqual(informer.extras().renders.get('lvs1'), render);
    assert.equal(informer.observed().statuses.get('lvs1'), undefined, 'a render status is not a job status');
    assert.equal(wakeups(), 0, 'naming, render statuses and audit records do not wake the reconcile loop');

    await view.registerAgents(['h1']);
    await waitUntil(() => wakeups() > 0, 'an agent change to wake the loop');
    assert.ok(informer.extras().agents.has('h1'));
    await store.applyBatch([{ delete: layout.naming('svc.www', 'h1', 8080) }]);
    await waitUntil(() => !informer.extras().naming.get('svc.www')?.has('h1:8080'), 'the endpoint gone');
  });

  test('an agent coming or going wakes the reconcile loop; its facts refreshed do not', async () => {
    const { view, layout, store, informer, changes, wakeups } = await startInformer('informer-agents');
    await view.registerAgents(['h1', 'h2']);
    await waitUntil(() => wakeups() === 2, 'both agents seen');
    const refreshed = { ...informer.extras().agents.get('h1')!, diskFreeBytes: 1, updatedAt: new Date().toISOString() };
    await store.applyBatch([{ put: layout.agent('h1'), value: refreshed }]);
    await waitUntil(() => informer.extras().agents.get('h1')?.diskFreeBytes === 1, 'the new facts mirrored');
    assert.equal(wakeups(), 2, 'a facts refresh does not wake the loop');
    assert.equal(changes.length, 3, 'the console is told about it');
    await store.applyBatch([{ delete: layout.agent('h2') }]);
    await waitUntil(() => wakeups() === 3, 'an agent gone wakes the loop');
  });

  test("an instance's state changing wakes the reconcile loop; its metrics refreshed do not", async () => {
    const { view, layout, store, informer, wakeups } = await startInformer('informer-metrics');
    const since = new Date();
    await view.reportStatus('h1', 'web', 'a'.repeat(64), 'Running', since);
    await waitUntil(() => wakeups() === 1, 'the first status seen');
    const versionBefore = informer.observed().jobVersions!.get('web');
    const running = informer.observed().statuses.get('h1')!.get('web')!;
    const metrics = { cpuSeconds: 1, rssBytes: 2, openFds: 3, uptimeSeconds: 4 };
    await store.applyBatch([{ put: layout.status('h1', 'web'), value: { ...running, metrics, updatedAt: new Date().toISOString() } }]);
    await waitUntil(() => informer.observed().statuses.get('h1')?.get('web')?.metrics?.rssBytes === 2, 'the metrics mirrored');
    assert.equal(wakeups(), 1, 'a metrics refresh does not wake the loop');
    assert.equal(informer.observed().jobVersions!.get('web'), versionBefore, 'nor makes the job look changed');
    await view.reportStatus('h1', 'web', 'a'.repeat(64), 'Healthy', since);
    await waitUntil(() => wakeups() === 2, 'a new state wakes the loop');
  });

  test("the watch's echo of the controller's own write keeps the mirror's object; another value replaces it", async () => {
    const { layout, store, informer, changes } = await startInformer('informer-echo');
    const key = layout.assignment('h1', 'web');
    const held = () => informer.observed().assignments.get('h1')?.get('web');
    const web = job('web');
    const h1 = host('h1', { ip: '127.0.0.11' });
    const ops = [{ put: key, value: assignmentRecord(web, h1, { commit: 'c1', assignedAtMs: T0 }) }];
    await store.applyBatch(ops);
    informer.applyLocally(ops);
    const local = held();
    assert.ok(local?.intact, 'applied locally at once, and intact');
    await waitUntil(() => changes.length === 1, 'the echo');
    assert.equal(held(), local, 'the echo (the same value) keeps the object the controller applied');

    await store.applyBatch([{ put: key, value: assignmentRecord(web, h1, { commit: 'c2', assignedAtMs: T0 + 1000 }) }]);
    await waitUntil(() => changes.length === 2, 'the second write');
    assert.notEqual(held(), local);
    assert.equal(held()?.record.commit, 'c2');
    assert.ok(held()?.intact);
  });

  test('a hand edit of the spec or the host facts alone, hash, commit and time untouched, is no echo: it is taken in and seen as edited', async () => {
    const { layout, store, informer, changes } = await startInformer('informer-echo-edit');
    const key = layout.assignment('h1', 'web');
    const held = () => informer.observed().assignments.get('h1')?.get('web');
    const record = assignmentRecord(job('web'), host('h1', { ip: '127.0.0.11' }), { commit: 'c1', assignedAtMs: T0 });
    const ops = [{ put: key, value: record }];
    await store.applyBatch(ops);
    informer.applyLocally(ops);
    await waitUntil(() => changes.length === 1, 'the echo');
    assert.ok(held()?.intact);

    await store.applyBatch([{ put: key, value: { ...record, spec: { ...record.spec, command: ['bin/other'] } } }]);
    await waitUntil(() => changes.length === 2, 'the edited spec');
    assert.deepEqual(held()?.record.spec.command, ['bin/other']);
    assert.equal(held()?.intact, false, 'a spec that no longer hashes to its specHash');

    await store.applyBatch([{ put: key, value: record }]);
    await waitUntil(() => changes.length === 3, 'the record put back');
    assert.ok(held()?.intact);
    await store.applyBatch([{ put: key, value: { ...record, host: { ...record.host, ip: '127.0.0.99' } } }]);
    await waitUntil(() => changes.length === 4, 'the edited host facts');
    assert.equal(held()?.record.host.ip, '127.0.0.99');
    assert.equal(held()?.intact, false, 'host facts that no longer hash to the specHash');
  });

  test("the controller's own writes come back waking nothing; the same key written by hand, even to the bytes it wrote, is taken in and wakes the loop", async () => {
    const { layout, store, informer, changes, wakeups } = await startInformer('informer-own-writes');
    const key = layout.assignment('h1', 'web');
    const held = () => informer.observed().assignments.get('h1')?.get('web');
    const record = assignmentRecord(job('web'), host('h1', { ip: '127.0.0.11' }), { commit: 'c1', assignedAtMs: T0 });
    const audit = { put: layout.syncHistory(new Date(T0), 'c1'), value: { commit: 'c1' } };
    await informer.write([{ put: key, value: record }, { put: layout.rollout('web'), value: { job: 'web' } }], (ops) => store.applyBatch(ops), [audit]);
    const written = held();
    assert.ok(written?.intact, 'in the mirror once written');
    await waitUntil(() => changes.length === 3, 'the three echoes, told to the console');
    assert.equal(wakeups(), 0, 'no echo of its own writes wakes the reconcile loop');
    assert.equal(held(), written, 'nor replaces what the mirror holds');
    await informer.write([{ delete: layout.rollout('web') }], (ops) => store.applyBatch(ops));
    await waitUntil(() => changes.length === 4, "the delete's echo");
    assert.equal(wakeups(), 0, 'nor does the echo of its own delete');

    await store.applyBatch([{ put: key, value: { ...record, spec: { ...record.spec, command: ['bin/other'] } } }]);
    await waitUntil(() => wakeups() === 1, 'a hand edit wakes the loop');
    assert.equal(held()?.intact, false);
    await store.applyBatch([{ put: key, value: record }]);
    await waitUntil(() => wakeups() === 2, 'the bytes the controller once wrote, put back by hand, wake it too');
    assert.ok(held()?.intact);

    const refused = informer.write([{ put: key, value: { ...record, commit: 'c2' } }], (ops) => store.applyBatch(ops, { key: layout.leader, value: 'someone else' }));
    await assert.rejects(refused, { code: 'E_GUARD_FAILED' });
    await store.applyBatch([{ put: key, value: { ...record, commit: 'c2' } }]);
    await waitUntil(() => wakeups() === 3, 'a write that failed is forgotten: the same value written by another is taken in');
    assert.equal(held()?.record.commit, 'c2');
  });
  test('a hand edit that lands just before one of its writes, whichever reaches it first, leaves the mirror holding what etcd holds', async () => {
    const { store, layout, informer, changes } = await startInformer('informer-write-race');
    const key = layout.assignment('h1', 'web');
    const record = assignmentRecord(job('web'), host('h1', { ip: '127.0.0.11' }), { commit: 'c0', assignedAtMs: T0 });
    let events = 0;
    for (let round = 1; round <= 20; round++) {
      const ours = { ...record, commit: `ours-${round}` };
      // The hand edit is committed first, so etcd ends with the controller's value; its watch event may
      // reach the informer before or after the reply to the controller's write.
      await informer.write([{ put: key, value: ours }], async (ops) => {
        await store.applyBatch([{ put: key, value: { ...record, commit: `hand-${round}` } }]);
        return store.applyBatch(ops);
      });
      events += 2;
      await waitUntil(() => changes.length === events, `round ${round}: both changes delivered`);
      assert.equal(informer.observed().assignments.get('h1')?.get('web')?.record.commit, `ours-${round}`, `round ${round}`);
    }
  });
});
