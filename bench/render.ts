// Render benchmark (not a test): a VIP with 1,000 real servers on a private etcd. Prints the median
// of 20 renders (renderConfig alone, and render + keepalived -t + write) and the time from
// deregistering one endpoint to the new file being in place, with min wait 200 ms.
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { keepalivedAvailable, keepalivedCheck } from '../src/render/check-commands.js';
import { DebouncedRenderer } from '../src/render/debounced-renderer.js';
import { EndpointView } from '../src/render/endpoint-view.js';
import { renderConfig } from '../src/render/render-config.js';
import { connectEtcd } from '../src/store/etcd-connection.js';
import { keyLayout } from '../src/store/keys.js';
import { EtcdStateStore } from '../src/store/state-store.js';
import { startEtcd } from '../test/fixtures/etcd-server.js';
import { namingRecord, vipRecord } from '../test/render/render-records.js';
import { median } from './synthetic-fleet.js';

const SERVERS = 1000;

const etcd = await startEtcd();
const client = await connectEtcd({ endpoints: [etcd.url] });
try {
  const layout = keyLayout('/ygg-bench/render');
  const store = new EtcdStateStore(client, layout);
  const ip = (index: number) => `10.${Math.floor(index / 250)}.${index % 250}.1`;
  await store.applyBatch([
    { put: layout.vip('web'), value: vipRecord('web', '192.0.2.10', ['lb1']) },
    ...Array.from({ length: SERVERS }, (_, index) => ({ put: layout.naming('web', `h${index}`, 80), value: namingRecord(`h${index}`, ip(index)) })),
  ]);
  const view = new EndpointView(store, layout);
  await view.start();
  const template = readFileSync(new URL('../templates/keepalived.conf.hbs', import.meta.url), 'utf8');
  const data = view.current('lb1');
  const renderTimes: number[] = [];
  for (let run = 0; run < 20; run++) {
    const started = performance.now();
    renderConfig(template, data);
    renderTimes.push(performance.now() - started);
  }
  const target = path.join(mkdtempSync(path.join(os.tmpdir(), 'ygg-bench-render-')), 'keepalived.conf');
  const check = (await keepalivedAvailable()) ? keepalivedCheck() : undefined;
  const renderer = new DebouncedRenderer({ view, director: 'lb1', templateText: template, target, minWaitMs: 200, maxWaitMs: 2000, ...(check && { write: { check } }) });
  await renderer.start();
  const deregisterTimes: number[] = [];
  for (let run = 0; run < 5; run++) {
    const removed = ip(run);
    const started = performance.now();
    await client.delete().key(layout.naming('web', `h${run}`, 80));
    while (readFileSync(target, 'utf8').includes(`real_server ${removed} 80`)) await new Promise((resolve) => setTimeout(resolve, 2));
    deregisterTimes.push(performance.now() - started);
  }
  await renderer.stop();
  await view.close();
  console.log(`render: ${SERVERS} real servers, renderConfig median of 20: ${median(renderTimes).toFixed(1)} ms`);
  console.log(`deregister → new file in place (min wait 200 ms, keepalived -t ${check ? 'on' : 'off'}), median of 5: ${median(deregisterTimes).toFixed(0)} ms (each: ${deregisterTimes.map((ms) => ms.toFixed(0)).join(', ')})`);
} finally {
  client.close();
  await etcd.stop();
}
