// Watches the job's processes as the machine sees them (/proc, every 100 ms): which pid runs on which
// host, from which release (its cwd is releases/<specHash>), under which agent root. From that:
//  - restarts nobody asked for: a process appears on a host, in the host's own root, running a
//    release that an earlier, now dead, process there already ran. A rollout starts a release the
//    host never ran; a restart (crash, kill, an agent that forgot it adopted) starts one it had.
//  - instances lost / duplicated: fewer live processes than the repo asks for (for longer than a
//    rolling restart's gap), or more at any moment, or two on one host.
//  - CPU of the ygg processes, over windows the scenario marks.
// The same scan feeds the moments the fleet changed (a process came or went), which the
// keepalived observer needs to tell a wrongly dropped real server from a real change.
import path from 'node:path';
import { CLOCK_TICKS_PER_SECOND, processesUnder, type ProcessInfo } from './process-table.js';

export interface JobProcess {
  readonly pid: number;
  readonly startTime: number;
  readonly hostIp: string;
  /** The agent root it runs under (the part of its cwd before /jobs/). */
  readonly root: string;
  readonly specHash: string;
}

export interface InstanceCounts {
  readonly restarts: number;
  /** Largest shortfall of live instances that outlasted the grace period. */
  readonly lost: number;
  /** Largest surplus of live instances (or of instances on one host) seen. */
  readonly duplicated: number;
  readonly restartDetails: readonly string[];
}

const SCAN_INTERVAL_MS = 100;
/** A rolling update stops the old process before starting the new: a gap shorter than this is no loss. */
const LOST_GRACE_MS = 1000;

export class InstanceObserver {
  private timer: NodeJS.Timeout | undefined;
  private live = new Map<string, JobProcess>();
  /** hostIp|root → specHashes that ran there. */
  private readonly ran = new Map<string, Set<string>>();
  private counts = { restarts: 0, lost: 0, duplicated: 0 };
  private restartDetails: string[] = [];
  private deficitSinceMs: number | undefined;
  /** Times a job process appeared or vanished. */
  readonly changesAtMs: number[] = [];
  private readonly cpu = new Map<string, number>();
  private cpuWindow: { startMs: number; ticks: number } | undefined;
  private readonly cpuWindows: { ms: number; ticks: number }[] = [];

  constructor(
    private readonly fleetDir: string,
    /** hostIp → the root that host's own agent runs on: restarts count there. */
    private readonly primaryRoots: ReadonlyMap<string, string>,
    private readonly desiredInstances: () => number,
  ) {}

  start(): void {
    this.scan();
    this.timer = setInterval(() => this.scan(), SCAN_INTERVAL_MS);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** From now on only what happens counts (what bring-up did is not a fault's doing). */
  resetCounts(): void {
    this.counts = { restarts: 0, lost: 0, duplicated: 0 };
    this.restartDetails = [];
    this.deficitSinceMs = undefined;
  }

  counted(): InstanceCounts {
    return { ...this.counts, restartDetails: [...this.restartDetails] };
  }

  processes(): JobProcess[] {
    return [...this.live.values()];
  }

  beginCpuWindow(): void {
    this.cpuWindow = { startMs: Date.now(), ticks: 0 };
  }

  endCpuWindow(): void {
    if (this.cpuWindow) this.cpuWindows.push({ ms: Date.now() - this.cpuWindow.startMs, ticks: this.cpuWindow.ticks });
    this.cpuWindow = undefined;
  }

  /** CPU of the ygg processes over every window so far, in % of one core. */
  cpuPercent(): number {
    const ms = this.cpuWindows.reduce((sum, window) => sum + window.ms, 0);
    const ticks = this.cpuWindows.reduce((sum, window) => sum + window.ticks, 0);
    return ms === 0 ? 0 : (ticks / CLOCK_TICKS_PER_SECOND / (ms / 1000)) * 100;
  }

  private scan(): void {
    const now = Date.now();
    const found = processesUnder(this.fleetDir);
    this.countCpu(found.filter(isYgg));
    const next = new Map<string, JobProcess>();
    for (const info of found) {
      const job = asJobProcess(info);
      if (job) next.set(`${job.pid}:${job.startTime}`, job);
    }
    for (const [key, job] of next) {
      if (this.live.has(key)) continue;
      this.changesAtMs.push(now);
      this.onAppeared(job);
    }
    for (const key of this.live.keys()) if (!next.has(key)) this.changesAtMs.push(now);
    this.live = next;
    this.countInstances(now);
  }

  private onAppeared(job: JobProcess): void {
    const where = `${job.hostIp}|${job.root}`;
    const ran = this.ran.get(where) ?? new Set<string>();
    this.ran.set(where, ran);
    const isPrimary = this.primaryRoots.get(job.hostIp) === job.root;
    if (isPrimary && ran.has(job.specHash)) {
      this.counts.restarts++;
      this.restartDetails.push(`${new Date().toISOString()} ${job.hostIp} pid ${job.pid} ran ${job.specHash.slice(0, 12)} again`);
    }
    ran.add(job.specHash);
  }

  private countInstances(now: number): void {
    const desired = this.desiredInstances();
    const live = this.live.size;
    const perHost = new Map<string, number>();
    for (const job of this.live.values()) perHost.set(job.hostIp, (perHost.get(job.hostIp) ?? 0) + 1);
    const crowded = Math.max(0, ...[...perHost.values()].map((count) => count - 1));
    this.counts.duplicated = Math.max(this.counts.duplicated, live - desired, crowded);
    if (live >= desired) {
      this.deficitSinceMs = undefined;
      return;
    }
    this.deficitSinceMs ??= now;
    if (now - this.deficitSinceMs >= LOST_GRACE_MS) this.counts.lost = Math.max(this.counts.lost, desired - live);
  }

  private countCpu(yggProcesses: ProcessInfo[]): void {
    for (const info of yggProcesses) {
      const key = `${info.pid}:${info.startTime}`;
      const before = this.cpu.get(key);
      this.cpu.set(key, info.cpuTicks);
      // The scan runs from bring-up on, so a process first seen now started since the last scan.
      if (this.cpuWindow) this.cpuWindow.ticks += info.cpuTicks - (before ?? 0);
    }
  }
}

function isYgg(info: ProcessInfo): boolean {
  return info.argv.some((arg) => arg.endsWith('bin/ygg.js'));
}

const RELEASE = /\/jobs\/[^/]+\/releases\/([0-9a-f]{64})$/;

function asJobProcess(info: ProcessInfo): JobProcess | undefined {
  if (!info.argv.includes('bin/server.js')) return undefined;
  const release = RELEASE.exec(info.cwd);
  const hostAt = info.argv.indexOf('--host');
  if (!release || hostAt < 0) return undefined;
  return { pid: info.pid, startTime: info.startTime, hostIp: info.argv[hostAt + 1] ?? '', root: path.resolve(info.cwd.slice(0, release.index)), specHash: release[1]! };
}
