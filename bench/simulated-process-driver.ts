// A process driver that only pretends: "starting" a job gives it a pid-like number and nothing runs;
// its health check and its figures for /metrics are answered from this table (healthy once the
// process is `healthyAfterMs` old).
// Everything around it is the real agent: releases on disk, pid files, etcd status, naming, leases.
// So the fleet simulator can run a thousand real agents on one machine, and measure the control
// plane rather than a thousand copies of a job.
import type { HealthResult } from '../src/agent/health-check.js';
import type { DriverProcess, ProcessDriver } from '../src/agent/process-driver.js';
import type { TerminateResult } from '../src/agent/process-group.js';
import type { ProcessSample } from '../src/agent/process-metrics.js';
import { checkPidFile, type LiveProcess, type PidFileCheck, type ProcessIdentity } from '../src/agent/process-identity.js';
import type { SpawnOptions, SpawnSpec } from '../src/agent/spawn-instance.js';

/** Above Linux's largest pid_max (2^22): a simulated pid can never name a real process. */
const FIRST_PID = 2 ** 22 + 1;

interface SimulatedProcess {
  readonly pid: number;
  /** Where it "runs": a health check names its job by this (the job's `current` directory). */
  readonly cwd: string;
  readonly startedAtMs: number;
  readonly onExit: SpawnOptions['onExit'];
}

export interface SimulatedProcessDriverOptions {
  /** How long after its start a process answers its health check (default 0: at once). */
  readonly healthyAfterMs?: number;
}

export class SimulatedProcessDriver implements ProcessDriver {
  private nextPid = FIRST_PID;
  private readonly byPid = new Map<number, SimulatedProcess>();
  private readonly byCwd = new Map<string, SimulatedProcess>();
  private readonly healthyAfterMs: number;

  constructor(options: SimulatedProcessDriverOptions = {}) {
    this.healthyAfterMs = options.healthyAfterMs ?? 0;
  }

  /** How many simulated processes are alive. */
  get running(): number {
    return this.byPid.size;
  }

  async spawn(spec: SpawnSpec, options: SpawnOptions): Promise<DriverProcess | undefined> {
    if (options.stillWanted?.() === false) return undefined;
    const pid = this.nextPid++;
    const simulated: SimulatedProcess = { pid, cwd: spec.cwd, startedAtMs: Date.now(), onExit: options.onExit };
    this.byPid.set(pid, simulated);
    this.byCwd.set(spec.cwd, simulated);
    // The pid doubles as the start time: unique, so a pid file of an older run never matches.
    return { pid, startTime: pid, processGroup: pid };
  }

  checkPidFile(file: string): Promise<PidFileCheck> {
    return checkPidFile(file, (pid) => this.lookup(pid));
  }

  isAlive(identity: ProcessIdentity): boolean {
    return this.lookup(identity.pid)?.startTime === identity.startTime;
  }

  /** The pid doubles as the start time and the process group (see spawn). */
  private lookup(pid: number): LiveProcess | undefined {
    return this.byPid.has(pid) ? { startTime: pid, processGroup: pid } : undefined;
  }

  async terminateGroup(processGroup: number): Promise<TerminateResult> {
    const simulated = this.byPid.get(processGroup);
    if (simulated === undefined) return { signals: [], gone: true };
    this.byPid.delete(processGroup);
    if (this.byCwd.get(simulated.cwd) === simulated) this.byCwd.delete(simulated.cwd);
    // A real child's 'exit' comes on a later turn of the event loop, never inside kill().
    setImmediate(() => simulated.onExit(null, 'SIGTERM'));
    return { signals: ['SIGTERM'], gone: true };
  }

  /** A pretend process uses nothing; it is as old as it is. */
  async processMetrics(pid: number): Promise<ProcessSample | undefined> {
    const simulated = this.byPid.get(pid);
    if (simulated === undefined) return undefined;
    return { pid, cpuSeconds: 0, rssBytes: 0, openFds: 0, uptimeSeconds: (Date.now() - simulated.startedAtMs) / 1000, startTimeTicks: pid };
  }

  async probeHealth(_check: unknown, _ports: unknown, context: { readonly cwd?: string; readonly signal?: AbortSignal }): Promise<HealthResult> {
    if (context.signal?.aborted) return { healthy: false, detail: 'aborted' };
    const simulated = context.cwd === undefined ? undefined : this.byCwd.get(context.cwd);
    if (simulated === undefined) return { healthy: false, detail: 'no simulated process' };
    const ageMs = Date.now() - simulated.startedAtMs;
    return ageMs >= this.healthyAfterMs ? { healthy: true, detail: 'simulated: healthy' } : { healthy: false, detail: `simulated: starting (${ageMs} ms old)` };
  }
}
