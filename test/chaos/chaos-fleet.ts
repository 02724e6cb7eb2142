// A whole fleet in real processes, for one scenario: etcd (1 or 3 members), the git repo, the
// controller(s), one agent per host on its own root (the director's agent renders keepalived.conf),
// and the observers. Everything lives under one temp dir, which is how clean-up finds every process
// it started, jobs and watchdog-restarted agents included.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from '../fixtures/etcd-server.js';
import { createChaosRepo, DIRECTOR, JOB, WEB_HOSTS, type ChaosRepo } from './chaos-repo.js';
import { waitConverged, type ConvergeResult, type FleetSnapshotSources } from './convergence.js';
import { EndpointProber } from './endpoint-prober.js';
import { EtcdReader } from './etcd-reader.js';
import { startEtcdCluster, type EtcdCluster } from './etcd-members.js';
import { InstanceObserver } from './instance-observer.js';
import { KeepalivedObserver, type KeepalivedFindings } from './keepalived-observer.js';
import { killEverythingUnder, killOnExit } from './process-table.js';
import { LogBook, spawnYgg, type YggProcess } from './ygg-process.js';

export const PREFIX = '/ygg/v1';
/** A fleet that works is up in 5 s on this machine; one that is not up in this long will not come. */
const BRING_UP_TIMEOUT_MS = 20_000;
export const ALL_HOSTS = [...WEB_HOSTS.map((host) => host.name), DIRECTOR.name];

export interface ChaosFleetOptions {
  readonly name: string;
  readonly etcdMembers?: 1 | 3;
  readonly replicas?: number;
  readonly rescheduleAfterSeconds?: number;
  /** Agents with their twin watchdog (default: without, as under systemd). */
  readonly watchdog?: boolean;
  /** The agents' --lease-ttl (default 3s: scenarios about lost agents need it to run out soon). */
  readonly agentLeaseTtl?: string;
  /** The CI form: shorter waits (the scenario decides which). */
  readonly reduced: boolean;
}

export interface FaultWindow {
  readonly startMs: number;
  endMs: number;
}

export class ChaosFleet {
  readonly book = new LogBook();
  readonly controllers = new Map<string, YggProcess>();
  readonly agents = new Map<string, YggProcess>();
  readonly faults: FaultWindow[] = [];
  readonly keepalivedFile: string;
  readonly reader: EtcdReader;
  readonly instances: InstanceObserver;
  readonly prober: EndpointProber;
  readonly keepalived: KeepalivedObserver;
  private readonly controllerPorts = new Map<string, number>();

  private constructor(
    readonly options: ChaosFleetOptions,
    readonly dir: string,
    readonly etcd: EtcdCluster,
    readonly repo: ChaosRepo,
    readonly port: number,
    private readonly guard: { release(): void },
  ) {
    this.keepalivedFile = path.join(dir, 'keepalived.conf');
    this.reader = new EtcdReader(etcd.endpoints.split(','));
    this.instances = new InstanceObserver(dir, new Map(WEB_HOSTS.map((host) => [host.ip, this.rootOf(host.name)])), () => repo.desiredInstances);
    this.prober = new EndpointProber(WEB_HOSTS.map((host) => host.ip), port);
    mkdirSync(path.join(dir, 'scratch'), { recursive: true });
    this.keepalived = new KeepalivedObserver(this.keepalivedFile, path.join(dir, 'scratch'));
  }

  /** Brings the fleet up and waits until it has converged on its first commit. */
  static async start(options: ChaosFleetOptions): Promise<ChaosFleet> {
    const dir = mkdtempSync(path.join(tmpdir(), `ygg-chaos-${options.name}-`));
    const guard = killOnExit(dir);
    let etcd: EtcdCluster | undefined;
    try {
      etcd = await startEtcdCluster(path.join(dir, 'etcd'), options.etcdMembers ?? 1);
      const port = await freePort();
      const repo = createChaosRepo(path.join(dir, 'repo'), { port, ...(options.replicas !== undefined && { replicas: options.replicas }), ...(options.rescheduleAfterSeconds !== undefined && { rescheduleAfterSeconds: options.rescheduleAfterSeconds }) });
      const fleet = new ChaosFleet(options, dir, etcd, repo, port, guard);
      fleet.instances.start();
      fleet.prober.start();
      fleet.keepalived.start();
      await fleet.startController('ctl-a');
      for (const host of ALL_HOSTS) fleet.startAgent(host);
      const up = await fleet.waitConverged(BRING_UP_TIMEOUT_MS);
      if (up.ms === undefined) {
        const logFile = await fleet.close('no bring-up');
        throw new Error(`the fleet did not come up in ${BRING_UP_TIMEOUT_MS / 1000} s: ${up.lastReason} (logs: ${logFile})`);
      }
      fleet.instances.resetCounts();
      fleet.keepalived.resetCounts();
      return fleet;
    } catch (error) {
      await killEverythingUnder(dir);
      await etcd?.close();
      rmSync(dir, { recursive: true, force: true });
      guard.release();
      throw error;
    }
  }

  rootOf(host: string): string {
    return path.join(this.dir, 'roots', host);
  }

  get controllerUrl(): string {
    return `http://127.0.0.1:${this.controllerPorts.get('ctl-a')}`;
  }

  /** `ygg controller` with id `id`, on the same HTTP port as before when it is a restart. */
  async startController(id: string): Promise<YggProcess> {
    const port = this.controllerPorts.get(id) ?? (await freePort());
    this.controllerPorts.set(id, port);
    const controller = spawnYgg(id, ['controller', '--repo', this.repo.dir, '--etcd', this.etcd.endpoints, '--interval', '1s', '--lease-ttl', '2s',
      '--listen', `127.0.0.1:${port}`, '--cache-dir', path.join(this.dir, `cache-${id}`), '--id', id], this.book);
    this.controllers.set(id, controller);
    return controller;
  }

  /** `ygg agent` for `host` on its root (or `root`); the director's renders keepalived.conf. */
  startAgent(host: string, options: { root?: string; source?: string; watchdog?: boolean } = {}): YggProcess {
    const watchdog = options.watchdog ?? this.options.watchdog ?? false;
    const args = ['agent', '--host', host, '--root', options.root ?? this.rootOf(host), '--etcd', this.etcd.endpoints, '--controller', this.controllerUrl,
      '--metrics-listen', '127.0.0.1:0', '--lease-ttl', this.options.agentLeaseTtl ?? '3s', ...(watchdog ? [] : ['--no-watchdog']),
      ...(host === DIRECTOR.name ? ['--render-keepalived', this.keepalivedFile] : [])];
    const agent = spawnYgg(options.source ?? `agent ${host}`, args, this.book);
    if (!options.source) this.agents.set(host, agent);
    return agent;
  }

  snapshotSources(): FleetSnapshotSources {
    return {
      reader: this.reader,
      prefix: PREFIX,
      job: JOB,
      port: this.port,
      desiredInstances: this.repo.desiredInstances,
      processes: () => this.instances.processes(),
      probeHealthy: () => this.prober.probeAll(),
      realServers: () => this.keepalived.current(),
    };
  }

  waitConverged(timeoutMs: number, settleMs = 0): Promise<ConvergeResult> {
    return waitConverged(this.snapshotSources(), () => this.repo.head(), timeoutMs, settleMs);
  }

  /** Marks a fault window (for log lines and CPU) around `act`. */
  async fault<T>(act: () => Promise<T>): Promise<T> {
    const window: FaultWindow = { startMs: Date.now(), endMs: 0 };
    this.faults.push(window);
    this.instances.beginCpuWindow();
    try {
      return await act();
    } finally {
      window.endMs = Date.now();
      this.instances.endCpuWindow();
    }
  }

  /** Log lines per second of the ygg processes over the fault windows (watchdog-started agents log to their root). */
  logLinesPerSecond(): number {
    const seconds = this.faults.reduce((sum, window) => sum + (window.endMs - window.startMs) / 1000, 0);
    if (seconds === 0) return 0;
    const inWindow = (atMs: number) => this.faults.some((window) => atMs >= window.startMs && atMs <= window.endMs);
    let lines = this.book.entries.filter((entry) => inWindow(entry.atMs)).length;
    for (const host of ALL_HOSTS) {
      const file = path.join(this.rootOf(host), 'log', 'agent.log');
      if (!existsSync(file)) continue;
      for (const line of readFileSync(file, 'utf8').split('\n')) {
        const time = /"time":(\d+)/.exec(line)?.[1];
        if (time !== undefined && inWindow(Number(time))) lines++;
      }
    }
    return lines / seconds;
  }

  keepalivedFindings(): Promise<KeepalivedFindings> {
    const changesAtMs = [...this.instances.changesAtMs, ...this.prober.timeline.map((change) => change.atMs)];
    return this.keepalived.findings((atMs) => this.prober.healthyAt(atMs), changesAtMs);
  }

  /** Stops everything; keeps the log book in the temp dir's sibling when `failure` is given (or always, with YGG_CHAOS_KEEP_LOGS). */
  async close(failure?: unknown): Promise<string | undefined> {
    this.instances.stop();
    this.prober.stop();
    this.keepalived.stop();
    // A deliberate stop marker first, so twin watchdogs do not restart what is being killed.
    for (const host of ALL_HOSTS) {
      if (existsSync(path.join(this.rootOf(host), 'run'))) writeFileSync(path.join(this.rootOf(host), 'run', 'agent.stop'), '');
    }
    await Promise.all([...this.controllers.values(), ...this.agents.values()].map((process) => process.kill()));
    await killEverythingUnder(this.dir);
    await this.etcd.close();
    this.guard.release();
    let logFile: string | undefined;
    if (failure !== undefined || process.env['YGG_CHAOS_KEEP_LOGS']) {
      logFile = `${this.dir}.log`;
      writeFileSync(logFile, this.book.entries.map((entry) => `${new Date(entry.atMs).toISOString()} [${entry.source}] ${entry.text}`).join('\n'));
    }
    rmSync(this.dir, { recursive: true, force: true });
    return logFile;
  }
}
