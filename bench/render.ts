// Render benchmark (not a test): VIPs with real servers on a private etcd, the renderer in-process.
// `--servers N --vips V` (default 1,000 behind 1 VIP; issue 11 measures 10,000 behind 100).
// Prints the median of each stage of one render (view → render data, validation and template view,
// handlebars, the render gate, temp file + fsync, keepalived -t, backup + rename + directory fsync,
// the status put), then the time from deregistering one endpoint to the new file being in place
// through the DebouncedRenderer (min wait 200 ms unless --min-wait-ms).
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { keepalivedAvailable, keepalivedCheck } from '../src/render/check-commands.js';
import { usableEndpoints } from '../src/render/check-endpoint.js';
import { DebouncedRenderer } from '../src/render/debounced-renderer.js';
import { EndpointView } from '../src/render/endpoint-view.js';
import { keepalivedView } from '../src/render/render-config.js';
import { InventoryMemo } from '../src/render/inventory-memo.js';
import { KEEPALIVED_FORMAT } from '../src/render/render-formats.js';
import { judgeRender } from '../src/render/render-gate.js';
import { renderTemplate } from '../src/render/render-template.js';
import { writeCheckedFile } from '../src/render/write-checked-file.js';
import { connectEtcd } from '../src/store/etcd-connection.js';
import { keyLayout } from '../src/store/keys.js';
import { EtcdStateStore, type BatchOp } from '../src/store/state-store.js';
import { startEtcd } from '../test/fixtures/etcd-server.js';
import { hostRecord, namingRecord, vipRecord } from '../test/render/render-records.js';
import { median } from './synthetic-fleet.js';

const { values: args } = parseArgs({ options: { servers: { type: 'string', default: '1000' }, vips: { type: 'string', default: '1' }, runs: { type: 'string', default: '20' }, 'min-wait-ms': { type: 'string', default: '200' } } });
const SERVERS = Number(args.servers);
const VIPS = Number(args.vips);
const RUNS = Number(args.runs);
const PER_VIP = Math.ceil(SERVERS / VIPS);
const DIRECTOR = 'lb1';

const service = (index: number) => `web${String(index).padStart(3, '0')}`;
const host = (index: number) => `h${index}`;
const ip = (index: number) => `10.${Math.floor(index / 62500)}.${Math.floor(index / 250) % 250}.${(index % 250) + 1}`;
const vipOf = (index: number) => Math.floor(index / PER_VIP);

const etcd = await startEtcd();
const client = await connectEtcd({ endpoints: [etcd.url] });
try {
  const layout = keyLayout('/ygg-bench/render');
  const store = new EtcdStateStore(client, layout);
  const ops: BatchOp[] = [
    ...Array.from({ length: VIPS }, (_, index) => ({ put: layout.vip(service(index)), value: { ...vipRecord(service(index), `192.0.2.${index + 1}`, [DIRECTOR]), job: service(index) } })),
    // Live agents (and their hosts): an endpoint that vanishes while its host's agent is gone is kept.
    ...Array.from({ length: SERVERS }, (_, index) => ({ put: layout.agent(host(index)), value: { host: host(index) } })),
    ...Array.from({ length: SERVERS }, (_, index) => ({ put: layout.host(host(index)), value: hostRecord(host(index), ip(index)) })),
    ...Array.from({ length: SERVERS }, (_, index) => ({ put: layout.naming(service(vipOf(index)), host(index), 80), value: namingRecord(host(index), ip(index), 80, service(vipOf(index))) })),
  ];
  for (let start = 0; start < ops.length; start += 500) await store.applyBatch(ops.slice(start, start + 500));
  const view = new EndpointView(store, layout);
  await view.start();
  const template = readFileSync(new URL('../templates/keepalived.conf.hbs', import.meta.url), 'utf8');
  const directory = mkdtempSync(path.join(os.tmpdir(), 'ygg-bench-render-'));
  const target = path.join(directory, 'keepalived.conf');
  const check = (await keepalivedAvailable()) ? keepalivedCheck() : undefined;

  // One render, stage by stage, RUNS times (the file in place is the previous run's: the gate compares with it).
  const stages = new Map<string, number[]>();
  const timed = async <T>(stage: string, work: () => T | Promise<T>): Promise<T> => {
    const started = performance.now();
    const result = await work();
    stages.set(stage, [...(stages.get(stage) ?? []), performance.now() - started]);
    return result;
  };
  let bytes = 0;
  // As the renderer reads them: the file in place is the previous run's render, read back.
  const inventories = new InventoryMemo(KEEPALIVED_FORMAT.inventory);
  for (let run = 0; run < RUNS; run++) {
    const started = performance.now();
    const raw = await timed('view → render data', () => view.current(DIRECTOR));
    const data = await timed('usable endpoints (skip bad entries)', () => usableEndpoints(raw));
    const prepared = await timed('validate + template view', () => keepalivedView(data));
    const content = await timed('handlebars', () => renderTemplate(template, prepared));
    bytes = content.length;
    await timed('render gate (read file, inventories, judge)', async () => {
      const existing = await fs.readFile(target, 'utf8').catch(() => '');
      const facts = view.facts();
      return judgeRender({
        reference: inventories.inventory(existing),
        proposed: inventories.inventory(content),
        declared: KEEPALIVED_FORMAT.declaredGroups(data),
        store: { connected: facts.connected, revision: facts.revision, sourceRecords: facts.vipRecords },
        deregistered: () => false,
      });
    });
    // writeCheckedFile's steps, split (it skips an unchanged file, so each run writes anew).
    const temporary = path.join(directory, `.keepalived.conf.${randomBytes(4).toString('hex')}.tmp`);
    await timed('temp file write + fsync', async () => {
      const handle = await fs.open(temporary, 'wx', 0o644);
      await handle.writeFile(content);
      await handle.sync();
      await handle.close();
    });
    if (check) await timed('keepalived -t', () => check(temporary));
    await timed('.bak + rename + directory fsync', async () => {
      const previous = await fs.readFile(target).catch(() => undefined);
      if (previous) await fs.writeFile(`${target}.bak`, previous);
      await fs.rename(temporary, target);
      const handle = await fs.open(directory, 'r');
      await handle.sync();
      await handle.close();
    });
    await timed('status put', () => store.applyBatch([{ put: layout.status(DIRECTOR, '_render'), value: { run, at: new Date().toISOString() } }]));
    stages.set('total', [...(stages.get('total') ?? []), performance.now() - started]);
  }
  // writeCheckedFile as the renderer calls it, on an unchanged file (read + compare only).
  const unchanged = await timed('writeCheckedFile, content unchanged', async () => writeCheckedFile(target, readFileSync(target, 'utf8')));
  if (unchanged.changed) throw new Error('expected an unchanged file');

  const minWaitMs = Number(args['min-wait-ms']);
  const renderer = new DebouncedRenderer({ view, director: DIRECTOR, templateText: template, target, minWaitMs, maxWaitMs: 2000, ...(check && { write: { check } }) });
  await renderer.start();
  const deregisterTimes: number[] = [];
  for (let run = 0; run < 5; run++) {
    const index = run * PER_VIP;
    const removed = `real_server ${ip(index)} 80`;
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const writes = renderer.status.writes;
    const started = performance.now();
    await client.delete().key(layout.naming(service(vipOf(index)), host(index), 80));
    // Polls the renderer's counter, not the file: reading 1.4 MB every 2 ms would slow the renderer it times.
    while (renderer.status.writes === writes) {
      if (performance.now() - started > 10_000) throw new Error(`no new file 10 s after deregistering ${removed}: ${JSON.stringify(renderer.status)}`);
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    if (readFileSync(target, 'utf8').includes(removed)) throw new Error(`${removed} is still in the new file`);
    deregisterTimes.push(performance.now() - started);
  }
  await renderer.stop();
  await view.close();
  console.log(`render: ${SERVERS} real servers behind ${VIPS} VIP(s), ${(bytes / 1024).toFixed(0)} KiB, median of ${RUNS} (min–max), ms:`);
  for (const [stage, samples] of stages) console.log(`  ${stage.padEnd(48)} ${median(samples).toFixed(1).padStart(7)}  (${Math.min(...samples).toFixed(1)}–${Math.max(...samples).toFixed(1)})`);
  console.log(`deregister → new file in place (min wait ${minWaitMs} ms, keepalived -t ${check ? 'on' : 'off'}), median of 5: ${median(deregisterTimes).toFixed(0)} ms (each: ${deregisterTimes.map((ms) => ms.toFixed(0)).join(', ')})`);
} finally {
  client.close();
  await etcd.stop();
}
