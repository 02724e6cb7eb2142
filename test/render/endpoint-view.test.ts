import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EndpointView } from '../../src/render/endpoint-view.js';
import { keyLayout, type KeyLayout } from '../../src/store/keys.js';
import { EtcdStateStore } from '../../src/store/state-store.js';
import { uniquePrefix, useSharedEtcd } from '../fixtures/etcd-server.js';
import { waitFor } from '../store/wait-for.js';
import { namingRecord as naming, vipRecord } from './render-records.js';

const etcd = useSharedEtcd();

async function setup(): Promise<{ layout: KeyLayout; store: EtcdStateStore; view: EndpointView }> {
  const layout = keyLayout(uniquePrefix('view'));
  const store = new EtcdStateStore(etcd.client, layout);
  return { layout, store, view: new EndpointView(store, layout) };
}

test('builds sorted RenderData for a director from vips/ and naming/, and follows changes', async () => {
  const { layout, store, view } = await setup();
  await store.applyBatch([
    { put: layout.vip('web'), value: vipRecord('web', '192.0.2.10', ['lb1']) },
    { put: layout.vip('api'), value: vipRecord('api', '192.0.2.11', ['lb1', 'lb2'], 'c2') },
    { put: layout.vip('other'), value: vipRecord('other', '192.0.2.12', ['lb2']) },
    { put: layout.naming('web', 'h10', 80), value: naming('h10', '10.0.0.10', 80) },
    { put: layout.naming('web', 'h9', 81), value: naming('h9', '10.0.0.9', 81) },
    { put: layout.naming('web', 'h9', 80), value: naming('h9', '10.0.0.9', 80) },
    { put: layout.naming('dns-only', 'h1', 53), value: naming('h1', '10.0.0.1', 53) },
    // their agents are alive: an entry deleted is gone (one of a host whose agent is gone is kept)
    ...['h1', 'h9', 'h10'].map((host) => ({ put: layout.agent(host), value: { host } })),
  ]);
  await view.start();
  try {
    const data = view.current('lb1');
    assert.equal(data.director, 'lb1');
    assert.deepEqual(data.services.map((service) => service.name), ['api', 'web']);
    const web = data.services.find((service) => service.name === 'web')!;
    assert.deepEqual(web.endpoints.map((endpoint) => `${endpoint.ip}:${endpoint.port}`), ['10.0.0.9:80', '10.0.0.9:81', '10.0.0.10:80']);
    assert.equal(web.vip?.address, '192.0.2.10');
    assert.match(data.revision, /^\d+$/);
    // every service, with or without a VIP, for fleet-wide files
    assert.deepEqual(view.current().services.map((service) => service.name), ['api', 'dns-only', 'other', 'web']);

    let changes = 0;
    view.on('changed', () => changes++);
    const before = BigInt(data.revision);
    await etcd.client.delete().key(layout.naming('web', 'h9', 81));
    await etcd.client.put(`${layout.prefix}status/lb1/unrelated`).value('{}');
    await etcd.client.delete().key(layout.vip('api'));
    // one watch per range: the naming delete and the VIP delete may arrive in either order
    const endpointsOf = (service: { endpoints: readonly { ip: string; port: number }[] }) => service.endpoints.map((endpoint) => `${endpoint.ip}:${endpoint.port}`);
    await waitFor(() => view.current('lb1').services.length === 1 && !endpointsOf(view.current('lb1').services[0]!).includes('10.0.0.9:81'), 'the api VIP and h9:81 to go');
    const after = view.current('lb1');
    assert.deepEqual(after.services[0]!.endpoints.map((endpoint) => `${endpoint.ip}:${endpoint.port}`), ['10.0.0.9:80', '10.0.0.10:80']);
    assert.ok(BigInt(after.revision) > before);
    assert.equal(changes, 2, 'keys outside vips/ and naming/ do not count as changes');
  } finally {
    await view.close();
  }
});

test('identical etcd content gives identical data', async () => {
  const { layout, store, view } = await setup();
  await store.applyBatch([
    { put: layout.vip('web'), value: vipRecord('web', '192.0.2.10', ['lb1']) },
    { put: layout.naming('web', 'h2', 80), value: naming('h2', '10.0.0.2', 80) },
    { put: layout.naming('web', 'h1', 80), value: naming('h1', '10.0.0.1', 80) },
  ]);
  await view.start();
  const second = new EndpointView(store, layout);
  await second.start();
  try {
    assert.equal(JSON.stringify(view.current('lb1')), JSON.stringify(second.current('lb1')));
  } finally {
    await view.close();
    await second.close();
  }
});

test('a malformed record is reported and left out', async () => {
  const layout = keyLayout(uniquePrefix('view'));
  const store = new EtcdStateStore(etcd.client, layout);
  const problems: string[] = [];
  const view = new EndpointView(store, layout, { onProblem: (key) => problems.push(key) });
  await etcd.client.put(layout.naming('web', 'h1', 80)).value('{"ip":1}');
  await view.start();
  try {
    assert.deepEqual(view.current().services, []);
    assert.deepEqual(problems, [layout.naming('web', 'h1', 80)]);
  } finally {
    await view.close();
  }
});
