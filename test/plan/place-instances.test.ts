import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildFleetIndex } from '../../src/model/fleet-index.js';
import type { Host, Model } from '../../src/model/types.js';
import { placeInstances, type Placement } from '../../src/plan/place-instances.js';
import { CLUSTER_TAG, host, job, model, placementObject, SERVICE_TAG, treeNode } from '../fixtures/model-builder.js';

function place(built: Model, previous?: Placement): Placement {
  return placeInstances(built, buildFleetIndex(built), previous);
}

/** 2 idcs × 2 racks × `perRack` hosts: lg-r1-1, lg-r1-2, lg-r2-1, …, zw-r2-2. */
function grid(perRack = 2): Host[] {
  const hosts: Host[] = [];
  for (const idc of ['lg', 'zw']) {
    for (const rack of ['r1', 'r2']) {
      for (let number = 1; number <= perRack; number++) hosts.push(host(`${idc}-${rack}-${number}`, { labels: { idc, rack } }));
    }
  }
  return hosts;
}

const labelsOf = (hosts: readonly Host[]) => new Map(hosts.map((item) => [item.name, item.labels]));

/** Names of 12 jobs, so spreading is checked under many different hash orders. */
const JOB_NAMES = Array.from({ length: 12 }, (_, index) => `job-${index}`);

test('a job without replicas runs on every online host of its tree node, sorted by name', () => {
  const built = model({
    hosts: [host('h3'), host('h1'), host('h2', { state: 'spare' }), host('h4', { state: 'maintenance' }), host('h5'), host('other')],
    treeNodes: [treeNode(CLUSTER_TAG, { hosts: ['h3', 'h1', 'h2', 'h4', 'h5'] })],
    jobs: [job('api')],
  });
  assert.deepEqual(placementObject(place(built)), { api: ['h1', 'h3', 'h5'] });
});

test('a tree node with a label selector binds every host whose labels all match', () => {
  const built = model({
    hosts: [
      host('lg-1', { labels: { idc: 'lg', role: 'im' } }),
      host('lg-2', { labels: { idc: 'lg', role: 'im' } }),
      host('lg-3', { labels: { idc: 'lg', role: 'db' } }),
      host('lg-4', { labels: { idc: 'lg', role: 'im' }, state: 'spare' }),
      host('zw-1', { labels: { idc: 'zw', role: 'im' } }),
    ],
    treeNodes: [treeNode(CLUSTER_TAG, { selector: { idc: 'lg', role: 'im' } })],
    jobs: [job('api')],
  });
  assert.deepEqual(placementObject(place(built)), { api: ['lg-1', 'lg-2'] });
});

test('the nearest ancestor tree node wins over a higher one', () => {
  const built = model({
    hosts: [host('c1'), host('c2'), host('s1')],
    treeNodes: [treeNode(CLUSTER_TAG, { hosts: ['c1', 'c2'] }), treeNode(SERVICE_TAG, { hosts: ['s1'] })],
    jobs: [
      job('under-service'),
      job('elsewhere', { tag: `${CLUSTER_TAG}_service.other_job.elsewhere` }),
      job('own-node', { tag: `${SERVICE_TAG}_job.own-node` }),
    ],
  });
  assert.deepEqual(placementObject(place(built)), { 'under-service': ['s1'], elsewhere: ['c1', 'c2'], 'own-node': ['s1'] });
});

test('a job with no tree node above it, or with no online hosts, gets no instances', () => {
  const built = model({
    hosts: [host('h1', { state: 'spare' })],
    treeNodes: [treeNode(CLUSTER_TAG, { hosts: ['h1'] })],
    jobs: [job('idle'), job('orphan', { tag: 'cop.other_owt.x_pdl.y_cluster.z_service.s_job.orphan' }), job('idle-replicas', { replicas: 2 })],
  });
  assert.deepEqual(placementObject(place(built)), { idle: [], orphan: [], 'idle-replicas': [] });
});

test('replicas: 2 over 2 idcs × 2 racks puts one instance in each idc', () => {
  const hosts = grid();
  const labels = labelsOf(hosts);
  const built = model({ hosts, treeNodes: [treeNode(CLUSTER_TAG, { hosts: hosts.map((item) => item.name) })], jobs: JOB_NAMES.map((name) => job(name, { replicas: 2 })) });
  for (const [name, placed] of place(built)) {
    assert.equal(placed.length, 2, name);
    assert.deepEqual(placed.map((hostName) => labels.get(hostName)!.idc).sort(), ['lg', 'zw'], `${name}: ${placed.join(', ')}`);
  }
});

test('replicas: 4 over 2 idcs × 2 racks puts one instance in each rack', () => {
  const hosts = grid();
  const labels = labelsOf(hosts);
  const built = model({ hosts, treeNodes: [treeNode(CLUSTER_TAG, { hosts: hosts.map((item) => item.name) })], jobs: JOB_NAMES.map((name) => job(name, { replicas: 4 })) });
  for (const [name, placed] of place(built)) {
    const racks = placed.map((hostName) => `${labels.get(hostName)!.idc}/${labels.get(hostName)!.rack}`).sort();
    assert.deepEqual(racks, ['lg/r1', 'lg/r2', 'zw/r1', 'zw/r2'], `${name}: ${placed.join(', ')}`);
  }
});

test('racks of the same name in different idcs are different racks', () => {
  // Both idcs have a rack r1 only; replicas: 4 over 2 idcs must still take 2 per idc, not crowd one.
  const hosts = ['lg', 'zw'].flatMap((idc) => [1, 2, 3].map((number) => host(`${idc}-${number}`, { labels: { idc, rack: 'r1' } })));
  const labels = labelsOf(hosts);
  const built = model({ hosts, treeNodes: [treeNode(CLUSTER_TAG, { hosts: hosts.map((item) => item.name) })], jobs: JOB_NAMES.map((name) => job(name, { replicas: 4 })) });
  for (const [name, placed] of place(built)) {
    assert.deepEqual(placed.map((hostName) => labels.get(hostName)!.idc).sort(), ['lg', 'lg', 'zw', 'zw'], name);
  }
});

test('replicas above the number of online hosts places on every online host', () => {
  const built = model({
    hosts: [host('h1'), host('h2'), host('h3', { state: 'maintenance' })],
    treeNodes: [treeNode(CLUSTER_TAG, { hosts: ['h1', 'h2', 'h3'] })],
    jobs: [job('api', { replicas: 5 }), job('none', { replicas: 0 })],
  });
  assert.deepEqual(placementObject(place(built)), { api: ['h1', 'h2'], none: [] });
});

test('placement is deterministic: the same input, even rebuilt as new objects, gives the same output', () => {
  const build = () => {
    const hosts = grid(3);
    return model({ hosts, treeNodes: [treeNode(CLUSTER_TAG, { hosts: hosts.map((item) => item.name) })], jobs: JOB_NAMES.map((name) => job(name, { replicas: 3 })) });
  };
  const first = placementObject(place(build()));
  assert.deepEqual(placementObject(place(build())), first);
  const built = build();
  assert.deepEqual(placementObject(place(built)), placementObject(place(built)));
  for (const placed of Object.values(first)) assert.deepEqual([...placed], [...placed].sort());
});

test('different jobs do not all pick the same hosts (each job ranks hosts in its own order)', () => {
  const hosts = grid(4);
  const built = model({ hosts, treeNodes: [treeNode(CLUSTER_TAG, { hosts: hosts.map((item) => item.name) })], jobs: JOB_NAMES.map((name) => job(name, { replicas: 2 })) });
  const distinct = new Set([...place(built).values()].map((placed) => placed.join(',')));
  assert.ok(distinct.size > 1, `all 12 jobs picked ${[...distinct].join(' | ')}`);
});

test('adding an online host keeps every existing instance where it was', () => {
  const hosts = grid();
  const names = hosts.map((item) => item.name);
  const jobs = [...JOB_NAMES.map((name) => job(name, { replicas: 2 })), job('everywhere')];
  const before = place(model({ hosts, treeNodes: [treeNode(CLUSTER_TAG, { hosts: names })], jobs }));
  const added = host('lg-r1-9', { labels: { idc: 'lg', rack: 'r1' } });
  const after = place(model({ hosts: [...hosts, added], treeNodes: [treeNode(CLUSTER_TAG, { hosts: [...names, added.name] })], jobs }), before);
  for (const name of JOB_NAMES) assert.deepEqual(after.get(name), before.get(name), name);
  assert.deepEqual(after.get('everywhere'), [...names, added.name].sort());
});

test('removing a host moves only the instance that was on it', () => {
  const hosts = grid();
  const jobs = JOB_NAMES.map((name) => job(name, { replicas: 3 }));
  const before = place(model({ hosts, treeNodes: [treeNode(CLUSTER_TAG, { hosts: hosts.map((item) => item.name) })], jobs }));
  const removed = 'lg-r1-1';
  const remaining = hosts.filter((item) => item.name !== removed);
  const after = place(model({ hosts: remaining, treeNodes: [treeNode(CLUSTER_TAG, { hosts: remaining.map((item) => item.name) })], jobs }), before);
  let moved = 0;
  for (const name of JOB_NAMES) {
    const previous = before.get(name)!;
    const next = after.get(name)!;
    assert.equal(next.length, 3, name);
    assert.ok(!next.includes(removed), name);
    const kept = previous.filter((hostName) => hostName !== removed);
    for (const hostName of kept) assert.ok(next.includes(hostName), `${name}: ${hostName} moved`);
    if (previous.includes(removed)) moved++;
    else assert.deepEqual(next, previous, name);
  }
  assert.ok(moved > 0, 'the removed host carried no instance: the test proves nothing');
});

test('shrinking replicas keeps a subset of the previous hosts, still spread across idcs', () => {
  const hosts = grid();
  const labels = labelsOf(hosts);
  const node = treeNode(CLUSTER_TAG, { hosts: hosts.map((item) => item.name) });
  const before = place(model({ hosts, treeNodes: [node], jobs: JOB_NAMES.map((name) => job(name, { replicas: 4 })) }));
  const after = place(model({ hosts, treeNodes: [node], jobs: JOB_NAMES.map((name) => job(name, { replicas: 2 })) }), before);
  for (const name of JOB_NAMES) {
    const next = after.get(name)!;
    assert.equal(next.length, 2, name);
    for (const hostName of next) assert.ok(before.get(name)!.includes(hostName), `${name}: ${hostName} is new`);
    assert.deepEqual(next.map((hostName) => labels.get(hostName)!.idc).sort(), ['lg', 'zw'], name);
  }
});

test('growing replicas keeps every previous host', () => {
  const hosts = grid();
  const node = treeNode(CLUSTER_TAG, { hosts: hosts.map((item) => item.name) });
  const before = place(model({ hosts, treeNodes: [node], jobs: JOB_NAMES.map((name) => job(name, { replicas: 2 })) }));
  const after = place(model({ hosts, treeNodes: [node], jobs: JOB_NAMES.map((name) => job(name, { replicas: 5 })) }), before);
  for (const name of JOB_NAMES) {
    const next = after.get(name)!;
    assert.equal(next.length, 5, name);
    for (const hostName of before.get(name)!) assert.ok(next.includes(hostName), `${name}: lost ${hostName}`);
  }
});

test('previous hosts are kept even when a fresh placement would pick others', () => {
  const hosts = grid();
  const node = treeNode(CLUSTER_TAG, { hosts: hosts.map((item) => item.name) });
  const built = model({ hosts, treeNodes: [node], jobs: [job('api', { replicas: 2 })] });
  const fresh = place(built).get('api')!;
  // Two hosts in other racks than the fresh pick, one per idc, are kept as they are.
  const previous = ['lg-r1-2', 'zw-r2-2'].every((name) => fresh.includes(name)) ? ['lg-r2-2', 'zw-r1-2'] : ['lg-r1-2', 'zw-r2-2'];
  assert.deepEqual(place(built, new Map([['api', previous]])).get('api'), previous);
});

test('a previous host that went into maintenance is replaced, the others stay', () => {
  const hosts = grid();
  const node = treeNode(CLUSTER_TAG, { hosts: hosts.map((item) => item.name) });
  const jobs = JOB_NAMES.map((name) => job(name, { replicas: 2 }));
  const before = place(model({ hosts, treeNodes: [node], jobs }));
  const target = before.get('job-0')![0]!;
  const changed = hosts.map((item) => (item.name === target ? host(item.name, { labels: { ...item.labels }, state: 'maintenance' }) : item));
  const after = place(model({ hosts: changed, treeNodes: [node], jobs }), before);
  for (const name of JOB_NAMES) {
    const previous = before.get(name)!;
    const next = after.get(name)!;
    assert.equal(next.length, 2, name);
    assert.ok(!next.includes(target), `${name} still on ${target}`);
    for (const hostName of previous) if (hostName !== target) assert.ok(next.includes(hostName), `${name}: ${hostName} moved`);
  }
});

/** 2 idcs × 2 racks × 2 hosts, one job with 2 replicas, and where it landed. */
function placedPair() {
  const hosts = grid();
  const built = model({ hosts, treeNodes: [treeNode(CLUSTER_TAG, { hosts: hosts.map((item) => item.name) })], jobs: [job('api', { replicas: 2 }), job('everywhere')] });
  const index = buildFleetIndex(built);
  return { hosts, built, index, before: placeInstances(built, index) };
}

test('a replica on an evacuated host moves to a host that is not lost; the other replica and every-host jobs stay', () => {
  const { hosts, built, index, before } = placedPair();
  const [gone, stays] = before.get('api')!;
  // Every host but `stays` is lost; only one that is not lost can take the replica.
  const spare = hosts.map((item) => item.name).find((name) => name !== gone && name !== stays)!;
  const lost = new Set(hosts.map((item) => item.name).filter((name) => name !== stays && name !== spare));
  const after = placeInstances(built, index, before, { lost, evacuate: new Set([gone!]) });
  assert.deepEqual(after.get('api'), [spare, stays!].sort());
  assert.deepEqual(after.get('everywhere'), before.get('everywhere'));
});

test('a replica on an evacuated host with nowhere to go stays there: never an unassign without a replacement', () => {
  const { hosts, built, index, before } = placedPair();
  const names = hosts.map((item) => item.name);
  const [first, second] = before.get('api')!;
  const everyoneLost = placeInstances(built, index, before, { lost: new Set(names), evacuate: new Set([first!, second!]) });
  assert.deepEqual(everyoneLost.get('api'), before.get('api'));
  // With one host left to take a replica, one moves there and the other stays where it is.
  const free = names.find((name) => name !== first && name !== second)!;
  const oneFree = placeInstances(built, index, before, { lost: new Set(names.filter((name) => name !== free)), evacuate: new Set([first!, second!]) });
  const placed = oneFree.get('api')!;
  assert.equal(placed.length, 2);
  assert.ok(placed.includes(free), placed.join(', '));
  assert.ok(placed.includes(first!) !== placed.includes(second!), placed.join(', '));
});

test('a lost host keeps its replicas until evacuated, but gets no new ones', () => {
  const { hosts, built, before } = placedPair();
  const placed = before.get('api')!;
  const grown = model({ hosts, treeNodes: [...built.treeNodes.values()], jobs: [job('api', { replicas: 8 }), job('everywhere')] });
  const growIndex = buildFleetIndex(grown);
  const lostName = hosts.map((item) => item.name).find((name) => !placed.includes(name))!;
  const kept = placeInstances(grown, growIndex, before, { lost: new Set([lostName, placed[0]!]), evacuate: new Set() });
  assert.deepEqual(kept.get('api'), hosts.map((item) => item.name).filter((name) => name !== lostName).sort());
});
