// The fleet simulator's other processes: the worker processes that run the simulated hosts (the
// hosts to be lost in a worker of their own, so killing it is a crash of exactly those hosts), and
// the director's real renderer (`ygg render keepalived`, compiled, with its keepalived -t check).
// Their stderr goes to files in the work dir. Also the idle figures, which need all of them.
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { openSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { EtcdServer } from '../test/fixtures/etcd-server.js';
import { cpuSecondsOf, rssMbOf, type ResourceSampler } from './fleet-figures.js';
import type { WorkerOrders, WorkerReply } from './fleet-sim-worker.js';

const REPO_ROOT = path.resolve(import.meta.dirname, '..');

export interface FleetProcessOptions {
  readonly workDir: string;
  readonly etcd: EtcdServer;
  readonly prefix: string;
  readonly controllerUrl: string;
  readonly director: string;
  readonly hosts: readonly string[];
  readonly lostHosts: ReadonlySet<string>;
  readonly workers: number;
  readonly leaseTtlSeconds: number;
  readonly healthyAfterMs: number;
  /** Where the workers write CPU profiles (node --cpu-prof), if anywhere. */
  readonly cpuProfileDir?: string;
}

export interface IdleFigures {
  readonly controllerCpuPercent: number;
  readonly controllerRssMb: number;
  /** CPU of one simulated agent: the workers' CPU over the agents they run. */
  readonly agentCpuPercentEach: number;
  readonly workerRssMb: number[];
  readonly etcdRequestsPerSecond: number;
  readonly etcdRssMb: number;
  readonly rendererCpuPercent: number;
  readonly rendererRssMb: number;
}

export async function startFleetProcesses(options: FleetProcessOptions) {
  const stderrFile = (name: string) => openSync(path.join(options.workDir, `${name}.log`), 'a');
  const renderer = spawn(process.execPath, [path.join(REPO_ROOT, 'bin/ygg.js'), 'render', 'keepalived', '--director', options.director, '--out', path.join(options.workDir, `keepalived-${options.director}.conf`), '--etcd', options.etcd.url, '--etcd-prefix', options.prefix, '--log-level', 'warn'], { stdio: ['ignore', 'ignore', stderrFile('renderer')] });

  const kept = options.hosts.filter((host) => !options.lostHosts.has(host));
  const shares: string[][] = Array.from({ length: options.workers }, () => []);
  kept.forEach((host, index) => shares[index % options.workers]!.push(host));
  const lostShare = options.hosts.filter((host) => options.lostHosts.has(host));
  const workers: { child: ChildProcess; hosts: number; logFile: string }[] = [];
  const ready: Promise<void>[] = [];
  for (const [index, hosts] of [...shares, lostShare].entries()) {
    if (hosts.length === 0) continue;
    const orders: WorkerOrders = { etcdUrl: options.etcd.url, etcdPrefix: options.prefix, controllerUrl: options.controllerUrl, rootDir: path.join(options.workDir, 'hosts'), hosts, leaseTtlSeconds: options.leaseTtlSeconds, healthyAfterMs: options.healthyAfterMs };
    const child = fork(path.join(import.meta.dirname, 'fleet-sim-worker.ts'), [JSON.stringify(orders)], { execArgv: ['--import', 'tsx', ...(options.cpuProfileDir ? ['--cpu-prof', '--cpu-prof-dir', options.cpuProfileDir] : [])], stdio: ['ignore', 'ignore', stderrFile(`worker-${index}`), 'ipc'] });
    workers.push({ child, hosts: hosts.length, logFile: path.join(options.workDir, `worker-${index}.log`) });
    ready.push(replyOf(child, 'ready').then(() => undefined));
  }
  const lostWorker = lostShare.length > 0 ? workers[workers.length - 1]! : undefined;
  await Promise.all(ready);

  const usage = async () => Promise.all(workers.filter((worker) => worker.child.exitCode === null && worker.child.signalCode === null).map(async (worker) => ({ ...(await replyOf(worker.child, 'usage', { type: 'usage' })), hosts: worker.hosts })));
  const etcdPid = findPid((cmdline) => cmdline.includes('etcd') && cmdline.includes(options.etcd.dataDir));

  return {
    workerCount: shares.filter((share) => share.length > 0).length,
    /** The agents' failed deploys so far, by error (the workers log warnings and errors only). */
    failedDeploys(): Map<string, number> {
      const counts = new Map<string, number>();
      for (const worker of workers) {
        for (const line of readFileSync(worker.logFile, 'utf8').split('\n')) {
          if (!line.includes('"deploy_failed"')) continue;
          const error = String((JSON.parse(line) as { error?: unknown }).error).replace(/[0-9a-f]{64}/g, '<sha256>');
          counts.set(error, (counts.get(error) ?? 0) + 1);
        }
      }
      return counts;
    },
    /** The workers' CPU time so far (user + system), in seconds. */
    async workerCpuSeconds(): Promise<number> {
      return (await usage()).reduce((sum, worker) => sum + worker.cpuMicros, 0) / 1e6;
    },
    /** etcd's revision, the Txn RPCs it answered and its CPU time so far: the cost of a rollout's writes. */
    async etcdWrites(): Promise<{ revision: number; txns: number; cpuSeconds: number }> {
      const text = await (await fetch(`${options.etcd.url}/metrics`)).text();
      const revision = Number(/^etcd_debugging_mvcc_current_revision (\S+)$/m.exec(text)?.[1] ?? NaN);
      const txns = [...text.matchAll(/^grpc_server_handled_total\{[^}]*grpc_method="Txn"[^}]*\} (\S+)$/gm)].reduce((sum, match) => sum + Number(match[1]), 0);
      return { revision, txns, cpuSeconds: etcdPid === undefined ? NaN : cpuSecondsOf(etcdPid) };
    },
    killLostWorker(): void {
      lostWorker?.child.kill('SIGKILL');
    },
    /** Sleeps `seconds` with the fleet idle and reports what it cost. */
    async measureIdle(seconds: number, sampler: ResourceSampler): Promise<IdleFigures> {
      const before = await usage();
      const etcdBefore = await etcdMessages(options.etcd.url);
      const rendererBefore = cpuSecondsOf(renderer.pid!);
      sampler.reset();
      await sleep(seconds * 1000);
      const controller = sampler.read();
      const after = await usage();
      const etcdAfter = await etcdMessages(options.etcd.url);
      const agents = after.reduce((sum, worker) => sum + worker.hosts, 0);
      const workerCpuMicros = after.reduce((sum, worker, index) => sum + worker.cpuMicros - before[index]!.cpuMicros, 0);
      return {
        controllerCpuPercent: controller.cpuPercent,
        controllerRssMb: process.memoryUsage().rss / 2 ** 20,
        agentCpuPercentEach: (workerCpuMicros / 1000 / (seconds * 1000) / agents) * 100,
        workerRssMb: after.map((worker) => worker.rssBytes / 2 ** 20),
        etcdRequestsPerSecond: (etcdAfter - etcdBefore) / seconds,
        etcdRssMb: etcdPid === undefined ? 0 : rssMbOf(etcdPid),
        rendererCpuPercent: ((cpuSecondsOf(renderer.pid!) - rendererBefore) / seconds) * 100,
        rendererRssMb: rssMbOf(renderer.pid!),
      };
    },
    async stop(): Promise<void> {
      // SIGKILL, not a graceful close: everything the agents hold (their private etcd, the temp
      // dir) goes next, and closing 1,000 agents' leases and clients took ~10 s of the run's wall time.
      // Profiled workers get SIGTERM: a killed process writes no --cpu-prof profile.
      const children = [...workers.map((worker) => worker.child), renderer].filter((child) => child.exitCode === null && child.signalCode === null);
      const exits = children.map((child) => new Promise((resolve) => child.once('exit', resolve)));
      for (const child of children) child.kill(options.cpuProfileDir && child !== renderer ? 'SIGTERM' : 'SIGKILL');
      await Promise.all(exits);
    },
  };
}

function replyOf<T extends WorkerReply['type']>(child: ChildProcess, type: T, ask?: object): Promise<Extract<WorkerReply, { type: T }>> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: WorkerReply) => {
      if (message.type !== type) return;
      child.off('message', onMessage);
      child.off('exit', onExit);
      resolve(message as Extract<WorkerReply, { type: T }>);
    };
    const onExit = (code: number | null) => reject(new Error(`worker exited (${code}) before "${type}"; see its log in the work dir`));
    child.on('message', onMessage);
    child.once('exit', onExit);
    if (ask) child.send(ask);
  });
}

/** Every gRPC message etcd received (unary requests and stream messages: watches, lease keep-alives). */
async function etcdMessages(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  let total = 0;
  for (const match of text.matchAll(/^grpc_server_msg_received_total\{[^}]*\} (\S+)$/gm)) total += Number(match[1]);
  return total;
}

function findPid(matches: (cmdline: string) => boolean): number | undefined {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (matches(readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' '))) return Number(entry);
    } catch {
      // gone meanwhile
    }
  }
  return undefined;
}
