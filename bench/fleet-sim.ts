// The fleet simulator: a private etcd, the real controller (in this process, alone: the observer
// that times convergence runs in its own), a real keepalived renderer for a director (`ygg render
// keepalived`, its own process), and N simulated hosts — real HostAgents with the
// SimulatedProcessDriver — spread over a few worker processes. Measures what users feel: commit →
// every instance on the new spec healthy → naming → the director's config.
//
//   npm run bench:fleet -- [--hosts 1000] [--jobs-per-host 10] [--workers 4] [--runs 7] [--idle 60] [--quick]
//                          [--worker-cpu-prof DIR]   (and `node --cpu-prof` for the controller's process)
//
// Prints a line per scenario, writes bench/results/<scenario>.json (keyed by host count), and ends
// with one JSON line: {"hosts":N,"instances":…,"oneJobConvergeMs":{"p50":…,"p95":…},…}.
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { ECHO_ARTIFACT, ECHO_SHA256 } from '../test/fixtures/agent-harness.js';
import { startEtcd } from '../test/fixtures/etcd-server.js';
import { benchFlags } from './bench-flags.js';
import { runController } from './compiled.js';
import type { InstanceKey } from './fleet-observer.js';
import type { ObserverRule } from './fleet-observer-process.js';
import { startFleetProcesses } from './fleet-processes.js';
import { percentiles, ResourceSampler, saveResult, type Percentiles } from './fleet-figures.js';
import { startRemoteObserver } from './remote-observer.js';
import { commitSimFleet, DIRECTORS, hostName, simJobs, type SimFleetShape } from './sim-fleet-repo.js';

const values = benchFlags(
  'fleet-sim',
  {
    hosts: { type: 'string', default: '1000' },
    'jobs-per-host': { type: 'string', default: '10' },
    'cluster-size': { type: 'string', default: '100' },
    workers: { type: 'string', default: '4' },
    runs: { type: 'string' },
    idle: { type: 'string' },
    'lease-ttl': { type: 'string', default: '10' },
    'healthy-after-ms': { type: 'string', default: '0' },
    quick: { type: 'boolean', default: false },
    'worker-cpu-prof': { type: 'string' },
  },
  ['hosts', 'jobs-per-host', 'cluster-size', 'workers', 'runs', 'idle', 'lease-ttl', 'healthy-after-ms'],
);
const quick = values.quick!;
const shape: SimFleetShape = { hosts: Number(values.hosts), jobsPerCluster: Number(values['jobs-per-host']), clusterSize: Number(values['cluster-size']), artifact: { file: ECHO_ARTIFACT, sha256: ECHO_SHA256 } };
const runs = Number(values.runs ?? (quick ? 3 : 7));
const idleSeconds = Number(values.idle ?? (quick ? 10 : 60));
const leaseTtlSeconds = Number(values['lease-ttl']);
const DIRECTOR = DIRECTORS[0];
const jobs = simJobs(shape);
const instanceCount = jobs.reduce((sum, job) => sum + job.hosts.length, 0);
/** Every 10th host (spread over clusters and idcs) runs in a worker of its own, killed in "hosts lost". */
const lostHosts = new Set(Array.from({ length: shape.hosts }, (_, index) => index).filter((index) => index % 10 === 5).map(hostName));
const instancesOf = (names: ReadonlySet<string>): InstanceKey[] => jobs.filter((job) => names.has(job.job)).flatMap((job) => job.hosts.map((host) => `${hostName(host)}/${job.job}`));
const log = (line: string) => console.log(`[fleet-sim ${((performance.now() - benchStart) / 1000).toFixed(1)} s] ${line}`);
const benchStart = performance.now();

const workDir = mkdtempSync(path.join(tmpdir(), 'ygg-fleet-sim-'));
const repo = path.join(workDir, 'repo');
const versions = new Map(jobs.map((job) => [job.job, '1.0.0']));
let commits = 0;
const commit = (message: string) => commitSimFleet(repo, shape, message, (job) => versions.get(job)!);
commit('the simulated fleet');

const etcd = await startEtcd();
const prefix = '/ygg/v1';
const observer = await startRemoteObserver(etcd.url, prefix, workDir);
const controller = await runController({
  repo,
  branch: 'main',
  cacheDir: path.join(workDir, 'controller-cache'),
  etcd: { endpoints: [etcd.url] },
  etcdPrefix: prefix,
  intervalMs: 3_600_000,
  listen: { host: '127.0.0.1', port: 0 },
  id: 'fleet-sim',
  leaseTtlSeconds: 10,
  // stderr: stdout ends with the one JSON line
  logger: pino({ level: process.env['YGG_BENCH_LOG'] ?? 'warn' }, pino.destination(2)),
});
const fleet = await startFleetProcesses({ workDir, etcd, prefix, controllerUrl: controller.url!, director: DIRECTOR, hosts: Array.from({ length: shape.hosts }, (_, index) => hostName(index)), lostHosts, workers: Number(values.workers), leaseTtlSeconds, healthyAfterMs: Number(values['healthy-after-ms']), ...(values['worker-cpu-prof'] ? { cpuProfileDir: path.resolve(values['worker-cpu-prof']) } : {}) });
const sampler = new ResourceSampler();

/** Follows `rule` from now on; `done` resolves when the director's config caught up. */
const follow = (rule: ObserverRule, timeoutMs: number) => observer.follow(rule, DIRECTOR, timeoutMs);

/** Commits new versions of `names`, triggers the controller, and follows the rollout to the config. */
async function rollOut(names: ReadonlySet<string>, timeoutMs: number) {
  commits++;
  for (const name of names) versions.set(name, `1.${commits}.0`);
  commit(`bump ${names.size} job(s)`);
  const writesBefore = await observer.writes();
  const etcdBefore = await fleet.etcdWrites();
  const workerCpuBefore = await fleet.workerCpuSeconds();
  const following = (await follow({ kind: 'rollout', instances: instancesOf(names), first: false }, timeoutMs)).done;
  sampler.reset();
  const started = performance.now();
  controller.loop.trigger('webhook');
  await controller.loop.idle();
  const controllerStepMs = performance.now() - started;
  const times = await following;
  const usage = sampler.read();
  const workerCpuSeconds = (await fleet.workerCpuSeconds()) - workerCpuBefore;
  const etcdAfter = await fleet.etcdWrites();
  const writes = Object.fromEntries([...(await observer.writes())].map(([kind, count]) => [kind, count - (writesBefore.get(kind) ?? 0)]).filter(([, count]) => count !== 0));
  return { ...times, controllerStepMs, writes, revisions: etcdAfter.revision - etcdBefore.revision, txns: etcdAfter.txns - etcdBefore.txns, etcdCpuSeconds: etcdAfter.cpuSeconds - etcdBefore.cpuSeconds, workerCpuSeconds, ...usage };
}

/** Everything the run started, stopped once: at the end, or on Ctrl-C (no etcd or worker left behind). */
let stopping: Promise<void> | undefined;
const stopAll = () =>
  (stopping ??= (async () => {
    const started = performance.now();
    await fleet.stop();
    await controller.close();
    await observer.close();
    await etcd.stop();
    log(`stopped in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    // The figures are taken: the work dir (every host's releases; ~20 s to remove at 1,000 hosts)
    // goes with a detached `rm -rf` that outlives this process, so the run ends now.
    spawn('rm', ['-rf', '--', workDir], { detached: true, stdio: 'ignore' }).unref();
  })());
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    log(`${signal}: stopping the fleet, the controller and etcd`);
    void stopAll().finally(() => process.exit(130));
  });
}

let summary: object | undefined;
try {
  log(`${shape.hosts} hosts (${fleet.workerCount} workers + ${lostHosts.size} hosts to lose), ${jobs.length} jobs, ${instanceCount} instances; etcd ${etcd.url}`);
  const initial = await (await follow({ kind: 'rollout', instances: instancesOf(new Set(versions.keys())), first: true }, 900_000)).done;
  log(`initial deploy: healthy ${(initial.healthyMs / 1000).toFixed(1)} s, naming ${(initial.namingMs / 1000).toFixed(1)} s, config ${(initial.configMs / 1000).toFixed(1)} s; bench process RSS ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MB`);
  const failedDeploys = fleet.failedDeploys();
  log(`failed deploys during it: ${[...failedDeploys.values()].reduce((sum, count) => sum + count, 0)} ${JSON.stringify(Object.fromEntries(failedDeploys))}`);
  saveResult('initial-deploy', shape.hosts, { instances: instanceCount, ...initial, failedDeploys: Object.fromEntries(failedDeploys) });

  const oneJob = [];
  for (let run = 0; run < runs; run++) {
    const result = await rollOut(new Set([jobs[(run * 7) % jobs.length]!.job]), 120_000);
    oneJob.push(result);
    log(`one job (${jobs[0]!.hosts.length} instances): healthy ${result.healthyMs.toFixed(0)} ms, naming ${result.namingMs.toFixed(0)} ms, config ${result.configMs.toFixed(0)} ms; controller step ${result.controllerStepMs.toFixed(0)} ms; writes ${JSON.stringify(result.writes)}`);
  }
  const oneJobFigures = {
    instances: jobs[0]!.hosts.length,
    healthyMs: percentiles(oneJob.map((r) => r.healthyMs)),
    configMs: percentiles(oneJob.map((r) => r.configMs)),
    controllerStepMs: percentiles(oneJob.map((r) => r.controllerStepMs)),
    runs: oneJob,
  };
  saveResult('one-job', shape.hosts, oneJobFigures);

  const allJobs = [];
  for (let run = 0; run < (quick ? 1 : 2); run++) {
    const result = await rollOut(new Set(versions.keys()), 900_000);
    allJobs.push(result);
    log(`all jobs (${instanceCount} instances): healthy ${(result.healthyMs / 1000).toFixed(1)} s, config ${(result.configMs / 1000).toFixed(1)} s; writes ${JSON.stringify(result.writes)}, ${result.revisions} revisions, ${result.txns} Txn RPCs; workers ${result.workerCpuSeconds.toFixed(1)} CPU-s, etcd ${result.etcdCpuSeconds.toFixed(1)} CPU-s; bench process peak RSS ${result.peakRssMb.toFixed(0)} MB, CPU ${result.cpuPercent.toFixed(0)} %`);
  }
  saveResult('all-jobs', shape.hosts, { instances: instanceCount, configMs: percentiles(allJobs.map((r) => r.configMs)), runs: allJobs });

  const idle = await fleet.measureIdle(idleSeconds, sampler);
  log(`idle ${idleSeconds} s: controller (bench process) ${idle.controllerCpuPercent.toFixed(2)} % CPU, RSS ${idle.controllerRssMb.toFixed(0)} MB; agents ${idle.agentCpuPercentEach.toFixed(3)} % CPU each (${shape.jobsPerCluster} instances), workers RSS ${idle.workerRssMb.map((mb) => mb.toFixed(0)).join('/')} MB; etcd ${idle.etcdRequestsPerSecond.toFixed(0)} requests/s, RSS ${idle.etcdRssMb.toFixed(0)} MB`);
  saveResult('idle', shape.hosts, { seconds: idleSeconds, ...idle });

  const lostKeys = jobs.flatMap((job) => job.hosts.map(hostName).filter((host) => lostHosts.has(host)).map((host) => `${host}/${job.job}`));
  const following = (await follow({ kind: 'lost', instances: lostKeys }, leaseTtlSeconds * 1000 + 60_000)).done;
  fleet.killLostWorker();
  const lost = await following;
  log(`${lostHosts.size} hosts lost (lease TTL ${leaseTtlSeconds} s): out of naming ${lost.namingMs.toFixed(0)} ms, director config ${lost.configMs.toFixed(0)} ms`);
  saveResult('hosts-lost', shape.hosts, { hosts: lostHosts.size, leaseTtlSeconds, ...lost });

  summary = {
    hosts: shape.hosts,
    instances: instanceCount,
    oneJobConvergeMs: pick(oneJobFigures.configMs),
    allJobsConvergeMs: Math.round(allJobs[0]!.configMs),
    hostsLostToConfigMs: Math.round(lost.configMs),
    controllerRssMb: Math.round(Math.max(...allJobs.map((r) => r.peakRssMb))),
    idleControllerCpuPct: Number(idle.controllerCpuPercent.toFixed(2)),
  };
} finally {
  await stopAll();
}

console.log(JSON.stringify(summary));

function pick(figures: Percentiles): { p50: number; p95: number } {
  return { p50: Math.round(figures.p50), p95: Math.round(figures.p95) };
}
