// Watch fan-out: N simulated agents' etcd sessions against one private etcd, directly and through a
// real `etcd grpc-proxy` (issue 11 item 4). Each session is what a real agent holds open (its own
// client, a lease kept alive at its TTL, watches on agents/<host> and assign/<host>/) plus one watch
// on a key all hosts share (sync/current), to show what the proxy coalesces and what it cannot.
//
//   npm run bench:fanout -- [--hosts 1000] [--workers 4] [--runs 5] [--probes 20] [--idle 30] [--settle 3]
//                           [--lease-ttl 10] [--via direct,proxy] [--dry]
//
// Measures per mode: etcd's watchers and watch streams, gRPC streams started, messages/s and CPU/RSS
// of etcd, the proxy and the workers while idle; a put to sync/current → the last of N hosts seeing
// it (p50/p95/max per run, medians over runs) and the CPU each process used meanwhile; a put to one
// host's assign/ key → that host seeing it. Writes bench/results/watch-fanout.json (keyed by host
// count); the last stdout line is one JSON object with every figure.
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startPrivateEtcd } from '../src/dev/private-etcd.js';
import { connectEtcd } from '../src/store/etcd-connection.js';
import { keyLayout } from '../src/store/keys.js';
import { EtcdStateStore } from '../src/store/state-store.js';
import { readEtcdMetrics, messageRates, type EtcdMetrics } from '../test/fixtures/etcd-metrics.js';
import { startGrpcProxy } from '../test/fixtures/etcd-grpc-proxy.js';
import { benchFlags } from './bench-flags.js';
import { FanoutWorkers } from './fanout-workers.js';
import { cpuSecondsOf, percentiles, rssMbOf, saveResult, type Percentiles } from './fleet-figures.js';
import type { ProbeValue } from './watch-fanout-worker.js';

const values = benchFlags(
  'watch-fanout',
  {
    hosts: { type: 'string', default: '1000' },
    workers: { type: 'string', default: '4' },
    runs: { type: 'string', default: '5' },
    probes: { type: 'string', default: '20' },
    idle: { type: 'string', default: '30' },
    /** Wait after the sessions opened (their watches are created asynchronously) before reading etcd. */
    settle: { type: 'string', default: '3' },
    'lease-ttl': { type: 'string', default: '10' },
    via: { type: 'string', default: 'direct,proxy' },
    /** Print only; write no results file (the bench's own test). */
    dry: { type: 'boolean', default: false },
  },
  ['hosts', 'workers', 'runs', 'probes', 'idle', 'settle', 'lease-ttl'],
);
const hostCount = Number(values.hosts);
const runs = Number(values.runs);
const idleSeconds = Number(values.idle);
const modes = values.via!.split(',') as ('direct' | 'proxy')[];
if (modes.some((mode) => mode !== 'direct' && mode !== 'proxy')) {
  console.error(`watch-fanout: --via takes direct, proxy or both (direct,proxy), not "${values.via}"`);
  process.exit(2);
}
const PREFIX = '/ygg/v1';
const PROBE_TIMEOUT_MS = 30_000;
const hosts = Array.from({ length: hostCount }, (_, index) => `h${String(index).padStart(5, '0')}`);

type ProcessName = 'etcd' | 'proxy' | 'workers';

/** CPU seconds each process group used over a window, and the window's length. */
interface CpuUse {
  readonly wallSeconds: number;
  readonly cpuSeconds: Record<string, number>;
}

function startCpuWindow(pids: Record<ProcessName, readonly number[]>): () => CpuUse {
  const read = () => Object.fromEntries(Object.entries(pids).map(([name, list]) => [name, list.reduce((sum, pid) => sum + cpuSecondsOf(pid), 0)]));
  const start = read();
  const startedAt = performance.now();
  return () => {
    const end = read();
    return { wallSeconds: (performance.now() - startedAt) / 1000, cpuSeconds: Object.fromEntries(Object.keys(end).map((name) => [name, end[name]! - start[name]!])) };
  };
}

/** % of one core per process group over several windows together. */
function cpuPercent(windows: readonly CpuUse[]): Record<string, number> {
  const wall = windows.reduce((sum, use) => sum + use.wallSeconds, 0);
  const names = Object.keys(windows[0]?.cpuSeconds ?? {});
  return Object.fromEntries(names.map((name) => [name, Math.round((windows.reduce((sum, use) => sum + use.cpuSeconds[name]!, 0) / wall) * 1000) / 10]));
}

async function measure(via: 'direct' | 'proxy') {
  const workDir = mkdtempSync(path.join(tmpdir(), `ygg-fanout-${via}-`));
  const etcd = await startPrivateEtcd(path.join(workDir, 'etcd'), path.join(workDir, 'etcd.log'));
  const proxy = via === 'proxy' ? await startGrpcProxy(etcd.url, workDir) : undefined;
  const writer = new EtcdStateStore(await connectEtcd({ endpoints: [etcd.url] }), keyLayout(PREFIX));
  let workers: FanoutWorkers | undefined;
  try {
    const baseline = await readEtcdMetrics(etcd.url);
    workers = await FanoutWorkers.start({
      workDir,
      workers: Number(values.workers),
      hosts,
      order: { endpoint: proxy?.url ?? etcd.url, etcdPrefix: PREFIX, leaseTtlSeconds: Number(values['lease-ttl']), factsIntervalMs: 30_000 },
    });
    await sleep(Number(values.settle) * 1000);
    const pids = { etcd: [etcd.child.pid!], proxy: proxy ? [proxy.pid] : [], workers: workers.pids };
    const open = await readEtcdMetrics(etcd.url);
    const idleCpu = startCpuWindow(pids);
    await sleep(idleSeconds * 1000);
    const idleEnd = await readEtcdMetrics(etcd.url);
    const idle = { cpuPercent: cpuPercent([idleCpu()]), ...messageRates(open, idleEnd, idleSeconds), dbGrowthKbPerMinute: round(((idleEnd.dbBytes - open.dbBytes) / 1024 / idleSeconds) * 60) };

    const shared: Percentiles[] = [];
    let missing = 0;
    const busy: CpuUse[] = [];
    for (let probe = 1; probe <= runs; probe++) {
      const seen = workers.sharedProbe(probe, PROBE_TIMEOUT_MS);
      const busyCpu = startCpuWindow(pids);
      const putAt = Date.now();
      await writer.applyBatch([{ put: writer.layout.syncCurrent, value: { probe } satisfies ProbeValue }]);
      const times = await seen;
      busy.push(busyCpu());
      missing += hostCount - times.length;
      if (times.length > 0) shared.push(percentiles(times.map((at) => at - putAt)));
      await sleep(1000);
    }

    const assign: number[] = [];
    const probes = Number(values.probes);
    for (let probe = 1; probe <= probes; probe++) {
      const host = hosts[Math.floor(((probe - 0.5) * hostCount) / probes)]!;
      const seen = workers.assignProbe(probe, host, PROBE_TIMEOUT_MS);
      const putAt = Date.now();
      await writer.applyBatch([{ put: writer.layout.assignment(host, 'fanout-probe'), value: { probe } satisfies ProbeValue }]);
      const at = await seen;
      if (at === undefined) missing++;
      else assign.push(at - putAt);
      await sleep(100);
    }
    return {
      via,
      sessionsOpenMs: workers.startMs,
      server: serverFigures(baseline, open),
      idle: { ...idle, rssMb: { etcd: round(rssMbOf(etcd.child.pid!)), proxy: proxy ? round(rssMbOf(proxy.pid)) : 0, workers: round(pids.workers.reduce((sum, pid) => sum + rssMbOf(pid), 0)) } },
      sharedPutToHostMs: { p50: medianOf(shared, 'p50'), p95: medianOf(shared, 'p95'), max: medianOf(shared, 'max'), worstRunMax: Math.max(...shared.map((run) => run.max)) },
      /** CPU between each put and its last host seeing it: which process was the bottleneck. */
      fanoutCpuPercent: cpuPercent(busy),
      assignPutToHostMs: assign.length > 0 ? percentiles(assign) : undefined,
      missedProbes: missing,
      ...(await workers.failures()),
    };
  } finally {
    await workers?.stop();
    writer.client.close();
    await proxy?.stop();
    etcd.child.kill('SIGTERM');
    await new Promise((resolve) => (etcd.child.exitCode === null ? etcd.child.once('exit', resolve) : resolve(undefined)));
    rmSync(workDir, { recursive: true, force: true });
  }
}

/** What the sessions opened on etcd itself (the baseline subtracted: the proxy's own watch). */
function serverFigures(baseline: EtcdMetrics, open: EtcdMetrics) {
  const started = (method: string) => (open.started.get(method) ?? 0) - (baseline.started.get(method) ?? 0);
  const watchers = open.watchers - baseline.watchers;
  return {
    watchers,
    /** Each host's two own watches cannot be shared; what is left serves the N watches of sync/current. */
    sharedKeyWatchers: watchers - 2 * hostCount,
    watchStreams: open.watchStreams - baseline.watchStreams,
    watchStreamsStarted: started('Watch'),
    leaseKeepAliveStreamsStarted: started('LeaseKeepAlive'),
  };
}

function medianOf(runsOf: readonly Percentiles[], field: keyof Percentiles): number {
  return percentiles(runsOf.map((run) => run[field])).p50;
}

function round(value: number): number {
  return Math.round(value);
}

const results = [];
for (const via of modes) {
  const loadBefore = loadavg()[0]!;
  const figures = await measure(via);
  const result = { ...figures, loadAverage: { before: round2(loadBefore), after: round2(loadavg()[0]!) } };
  results.push(result);
  console.log(describe(result));
}
if (!values.dry) saveResult('watch-fanout', hostCount, { runs, idleSeconds, workers: Number(values.workers), modes: results });
console.log(JSON.stringify({ hosts: hostCount, runs, modes: results }));

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}

function describe(result: Awaited<ReturnType<typeof measure>> & { loadAverage: { before: number; after: number } }): string {
  const { server, idle } = result;
  return [
    `${result.via} — ${hostCount} sessions open in ${(result.sessionsOpenMs / 1000).toFixed(1)} s (load ${result.loadAverage.before} → ${result.loadAverage.after})`,
    `  etcd: ${server.watchers} watchers (${server.sharedKeyWatchers} for the ${hostCount} watches of sync/current) on ${server.watchStreams} watch streams; streams started: Watch ${server.watchStreamsStarted}, LeaseKeepAlive ${server.leaseKeepAliveStreamsStarted}`,
    `  idle: etcd ${idle.total} msgs/s ${JSON.stringify(idle.byMethod)}, db +${idle.dbGrowthKbPerMinute} KB/min; CPU % ${JSON.stringify(idle.cpuPercent)}; RSS MB ${JSON.stringify(idle.rssMb)}`,
    `  shared put → host, median over ${runs} runs: p50 ${result.sharedPutToHostMs.p50} ms, p95 ${result.sharedPutToHostMs.p95} ms, last ${result.sharedPutToHostMs.max} ms (worst run ${result.sharedPutToHostMs.worstRunMax} ms); CPU % meanwhile ${JSON.stringify(result.fanoutCpuPercent)}`,
    `  assign put → its host: ${result.assignPutToHostMs ? `p50 ${result.assignPutToHostMs.p50} ms, p95 ${result.assignPutToHostMs.p95} ms, max ${result.assignPutToHostMs.max} ms` : 'none seen'}; missed probes ${result.missedProbes}, leases lost ${result.leasesLost}, watch errors ${result.watchErrors}, watch resyncs ${result.resyncs}`,
  ].join('\n');
}
