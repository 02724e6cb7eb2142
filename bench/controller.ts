// Controller benchmark with a real etcd and the synthetic 10,000-job fleet: initial sync, then a
// commit touching one job — time from "commit seen" to its assignments written, and how many etcd
// writes that took — and the CPU an idle controller uses. Prints figures; not a test.
//
//   npm run build && node --expose-gc --import tsx bench/controller.ts [--jobs 10000] [--hosts 5000]
// YGG_BENCH_HEAP_SNAPSHOT=DIR writes a heap snapshot of the process after the initial sync;
// YGG_BENCH_MALLOC_TRIM=1 (needs gdb) measures how much of the RSS is memory malloc holds free.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { writeHeapSnapshot } from 'node:v8';
import pino from 'pino';
import { startEtcd } from '../test/fixtures/etcd-server.js';
import { runController } from './compiled.js';
import { memoryBreakdown } from './memory-breakdown.js';
import { median, syntheticFleet } from './synthetic-fleet.js';

const fleet = await syntheticFleet();
const { jobs, hosts, runs, dir: fleetDir } = fleet;
const git = (...args: string[]) => execFileSync('git', args, { cwd: fleetDir, encoding: 'utf8' }).trim();
git('branch', '-f', 'bench', fleet.baseCommit);
const etcd = await startEtcd();
const cacheDir = mkdtempSync(path.join(tmpdir(), 'ygg-bench-controller-'));
// Writes are counted by etcd itself (its put and delete counters), not by a watch in this process:
// a second watch would decode all 85,000 values here and its buffers would count as the controller's.
async function writesSoFar(): Promise<number> {
  const text = await (await fetch(`${etcd.url}/metrics`)).text();
  return ['put', 'delete'].reduce((sum, kind) => sum + Number(new RegExp(`^etcd_mvcc_${kind}_total (\\S+)$`, 'm').exec(text)?.[1] ?? 0), 0);
}
let puts = 0;

/** Resolves once etcd has taken no write for 500 ms. */
async function quiet(): Promise<void> {
  for (let last = -1; last !== puts; ) {
    last = puts;
    await new Promise((resolve) => setTimeout(resolve, 500));
    puts = await writesSoFar();
  }
}

const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MB`;
let peakRss = 0;
const rssSampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 100);

try {
  console.log(`fleet: ${jobs} jobs, ${hosts} hosts; etcd ${etcd.url}; node ${process.version}; ${new Date().toISOString()}`);
  let started = performance.now();
  const running = await runController({
    repo: fleetDir,
    branch: 'bench',
    cacheDir,
    etcd: { endpoints: [etcd.url] },
    etcdPrefix: '/ygg/v1',
    intervalMs: 3_600_000,
    id: 'bench',
    leaseTtlSeconds: 15,
    logger: pino({ level: process.env.YGG_BENCH_LOG ?? 'warn' }),
  });
  await new Promise((resolve) => setTimeout(resolve, 200));
  await running.loop.idle();
  await quiet();
  console.log(`initial sync (load, place, write every assignment): ${((performance.now() - started) / 1000).toFixed(1)} s, ${puts} etcd writes; peak RSS ${mb(peakRss)}`);
  console.log(memoryBreakdown('after the initial sync'));
  const snapshotDir = process.env['YGG_BENCH_HEAP_SNAPSHOT'];
  if (snapshotDir) console.log(`heap snapshot: ${writeHeapSnapshot(path.join(snapshotDir, `controller-${jobs}.heapsnapshot`))}`);

  // Commit touching one job, then back, alternating: each is "seen" when the loop is triggered.
  const samples: number[] = [];
  const writes: number[] = [];
  for (let run = 0; run < runs * 2; run++) {
    git('update-ref', 'refs/heads/bench', run % 2 === 0 ? fleet.headCommit : fleet.baseCommit);
    await quiet(); // let the previous round's watch echoes arrive
    const before = puts;
    started = performance.now();
    running.loop.trigger('webhook');
    await running.loop.idle();
    samples.push(performance.now() - started);
    await quiet();
    writes.push(puts - before);
  }
  console.log(`commit touching one job → its assignments written: median ${median(samples).toFixed(0)} ms (min ${Math.min(...samples).toFixed(0)}, max ${Math.max(...samples).toFixed(0)}); etcd writes per reconcile: ${[...new Set(writes)].join('/')} (first rollout batch + audit record + sync/current)`);

  clearInterval(rssSampler);
  console.log(memoryBreakdown('after the commits'));
  const cpuBefore = process.cpuUsage();
  const idleStart = performance.now();
  // 40 s: the parse worker a load used stops after 30 s idle, so the RSS below is the idle controller's.
  await new Promise((resolve) => setTimeout(resolve, 40_000));
  const cpu = process.cpuUsage(cpuBefore);
  const percent = ((cpu.user + cpu.system) / 1000 / (performance.now() - idleStart)) * 100;
  console.log(`idle controller (etcd watch open, no polling due): ${percent.toFixed(2)} % of one core over 40 s`);
  const { rss, heapUsed, heapTotal, external } = process.memoryUsage();
  console.log(`RSS: peak ${mb(peakRss)} (sync and commits), idle ${mb(rss)} (main thread heap ${mb(heapUsed)} used of ${mb(heapTotal)}, external ${mb(external)})`);
  console.log(memoryBreakdown('idle 40 s'));
  // Whether V8 collected during the idle minute decides the figure above; with `node --expose-gc`
  // the live heap and the RSS after a full collection compare runs fairly.
  const collect = (globalThis as { gc?: () => void }).gc;
  if (collect) {
    collect();
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const after = process.memoryUsage();
    console.log(`after a full GC: RSS ${mb(after.rss)}, live heap ${mb(after.heapUsed)} of ${mb(after.heapTotal)}`);
    console.log(memoryBreakdown('after a full GC'));
    // One forced GC frees but seldom compacts: pages of a heap that just shrank stay committed. A
    // second (and V8's sweeping, meanwhile) shows what an idle controller settles to.
    collect();
    await new Promise((resolve) => setTimeout(resolve, 2000));
    console.log(memoryBreakdown('after a second full GC'));
    if (process.env['YGG_BENCH_MALLOC_TRIM']) {
      // glibc keeps freed memory for reuse; malloc_trim(0) gives back every free page: what it
      // returns was free but resident (gdb calls it in this process, as root or with ptrace allowed).
      execFileSync('gdb', ['-p', String(process.pid), '-batch', '-ex', 'call (int)malloc_trim(0)'], { stdio: 'ignore' });
      console.log(memoryBreakdown('after malloc_trim(0)'));
    }
  }
  await running.close();
} finally {
  clearInterval(rssSampler);
  await etcd.stop();
  rmSync(cacheDir, { recursive: true, force: true });
}
