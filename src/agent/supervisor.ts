// Keeps one job instance running: restart with backoff, crash-loop detection, adoption of an
// instance a previous agent started, and the drain → SIGTERM → SIGKILL stop. Health checks, naming
// and etcd status are layered on top by the agent, which listens to `onStatus`.
//
// The child lives in its own session and writes straight to its log files, so it owes the agent
// nothing: when the agent dies the job keeps running, and the next agent adopts it from the pid
// file. An adopted process is not our child (no 'exit' event), so it is watched by polling its
// (pid, startTime) identity.
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import type { InstanceState, StatusRecord } from '../store/records.js';
import { currentBootId } from './boot-id.js';
import type { StopSignal } from './process-group.js';
import { OS_PROCESS_DRIVER, type DriverProcess, type ProcessDriver } from './process-driver.js';
import { removePidFile, writePidFile, type PidFileRefusal } from './process-identity.js';
import { DEFAULT_RESTART_POLICY, RestartBackoff, type RestartPolicy } from './restart-policy.js';
import { SpawnError, type SpawnSpec } from './spawn-instance.js';

export interface StartSpec extends SpawnSpec {
  readonly pidFile: string;
  readonly specHash: string;
}

/** Healthy/Unhealthy belong to the health checker, not to the supervisor. */
export type SupervisorState = Extract<InstanceState, 'Starting' | 'Running' | 'CrashLoop' | 'Stopped' | 'Failed'>;

export interface SupervisorStatus {
  readonly state: SupervisorState;
  /** What actually runs: after adoption, the pid file's specHash (maybe an older release). */
  readonly specHash?: string;
  readonly pid?: number;
  readonly restarts: number;
  readonly lastExit?: StatusRecord['lastExit'];
  readonly lastError?: string;
  readonly since: string;
  readonly adopted: boolean;
  readonly nextRestartAt?: string;
}

export interface SupervisorLogger {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
}

export interface SupervisorOptions {
  /** The job's name, for logs. */
  readonly name: string;
  readonly policy?: Partial<RestartPolicy>;
  /** How often an adopted process is checked for life. */
  readonly pollIntervalMs?: number;
  /** Called first in stop(): the agent deregisters the endpoint from naming here. */
  readonly beforeStop?: () => Promise<void> | void;
  /** Right after each spawn, e.g. to apply cgroup limits. Errors are logged, never fatal. */
  readonly afterSpawn?: (pid: number) => Promise<void> | void;
  readonly onStatus?: (status: SupervisorStatus) => void;
  readonly logger?: SupervisorLogger;
  /** Variables passed from the agent's own environment unless the job sets them. */
  readonly inheritEnv?: readonly string[];
  readonly now?: () => Date;
  /** Who runs the processes: the OS unless a simulator says otherwise. */
  readonly driver?: ProcessDriver;
}

export interface StopOptions {
  readonly drainMs: number;
  readonly termTimeoutMs: number;
  /** How long SIGKILL may take before stop() gives up (a process stuck in the kernel). */
  readonly killTimeoutMs?: number;
}

export interface StopResult {
  readonly signals: readonly StopSignal[];
}

export type AdoptResult = { readonly adopted: true; readonly pid: number; readonly specHash: string } | { readonly adopted: false; readonly reason: PidFileRefusal };

export type SupervisorErrorCode = 'E_INVALID_COMMAND' | 'E_ALREADY_STARTED' | 'E_DETACHED' | 'E_STOP_TIMEOUT';

export class SupervisorError extends Error {
  constructor(
    readonly code: SupervisorErrorCode,
    readonly job: string,
    message: string,
  ) {
    super(`${job}: ${message}`);
    this.name = 'SupervisorError';
  }

  toJSON(): { code: string; job: string; message: string } {
    return { code: this.code, job: this.job, message: this.message };
  }
}

type Running = DriverProcess;

const NO_LOGGER: SupervisorLogger = { info: () => {}, warn: () => {} };

export class InstanceSupervisor {
  private readonly log: SupervisorLogger;
  private backoff: RestartBackoff;
  private phase: 'idle' | 'active' | 'stopping' | 'stopped' | 'detached' = 'idle';
  private spec: StartSpec | undefined;
  private running: Running | undefined;
  private current: SupervisorStatus;
  private readonly timers = new Set<NodeJS.Timeout>();
  private pidWrites: Promise<void> = Promise.resolve();
  private launching: Promise<void> | undefined;
  private stopping: Promise<StopResult> | undefined;
  private readonly driver: ProcessDriver;

  constructor(private readonly options: SupervisorOptions) {
    this.driver = options.driver ?? OS_PROCESS_DRIVER;
    this.backoff = new RestartBackoff({ ...DEFAULT_RESTART_POLICY, ...options.policy });
    this.log = options.logger ?? NO_LOGGER;
    this.current = { state: 'Stopped', restarts: 0, since: this.now().toISOString(), adopted: false };
  }

  get status(): SupervisorStatus {
    return this.current;
  }

  async start(spec: StartSpec): Promise<void> {
    this.begin(spec);
    this.update({ state: 'Starting', specHash: spec.specHash, adopted: false });
    await this.launch();
  }

  /**
   * Takes over the instance named by spec.pidFile if that very process still runs (same pid AND
   * start time); otherwise starts spec afresh. A live process is adopted whatever its specHash:
   * status.specHash then says which release runs, and rolling it is the agent's decision.
   */
  async adopt(spec: StartSpec): Promise<AdoptResult> {
    this.begin(spec);
    const check = await this.driver.checkPidFile(spec.pidFile);
    if (check.alive) {
      const { record } = check;
      const running: Running = { pid: record.pid, processGroup: check.processGroup, startTime: record.startTime };
      this.running = running;
      // Not logged here: the agent logs the adoption once, with the assignment it adopted for.
      this.update({ state: 'Running', pid: record.pid, specHash: record.specHash, adopted: true });
      this.watchAdopted(running);
      this.armReset(running);
      return { adopted: true, pid: record.pid, specHash: record.specHash };
    }
    this.log.info({ event: 'instance_not_adopted', job: this.options.name, pidFile: spec.pidFile, reason: check.reason }, 'not adopted, starting afresh');
    this.update({ state: 'Starting', specHash: spec.specHash, adopted: false });
    await this.launch();
    return { adopted: false, reason: check.reason };
  }

  /** beforeStop → wait drainMs → SIGTERM to the group → SIGKILL after termTimeoutMs. Never restarts after. */
  stop(options: StopOptions): Promise<StopResult> {
    if (this.phase === 'detached') return Promise.reject(new SupervisorError('E_DETACHED', this.options.name, 'a detached supervisor cannot stop'));
    this.stopping ??= this.runStop(options);
    return this.stopping;
  }

  /**
   * Forgets the instance and leaves it running, as a dying agent would: timers and listeners go,
   * the pid file stays for the next supervisor to adopt from. For agent shutdown and upgrade.
   */
  detach(): void {
    this.phase = 'detached';
    this.clearTimers();
    this.running?.child?.removeAllListeners('exit');
    this.running = undefined;
  }

  private begin(spec: StartSpec): void {
    if (spec.command.length === 0 || spec.command[0] === '' || spec.command.some((part) => typeof part !== 'string' || part.includes('\0'))) {
      throw new SupervisorError('E_INVALID_COMMAND', this.options.name, `command must be a non-empty argv of strings, got ${JSON.stringify(spec.command)}`);
    }
    if (this.phase === 'active' || this.phase === 'stopping' || this.phase === 'detached') {
      throw new SupervisorError('E_ALREADY_STARTED', this.options.name, `cannot start: supervisor is ${this.phase}`);
    }
    this.phase = 'active';
    this.spec = spec;
    this.stopping = undefined;
    this.backoff = new RestartBackoff(this.backoff.policy);
    this.current = { ...this.current, restarts: 0, lastError: undefined };
  }

  private launch(): Promise<void> {
    this.launching = this.spawnOnce().finally(() => {
      this.launching = undefined;
    });
    return this.launching;
  }

  private async spawnOnce(): Promise<void> {
    const spec = this.spec as StartSpec;
    let running: Running | undefined;
    // An exit can arrive before spawn returns (while it closes the log descriptors).
    let earlyExit: [number | null, string | null] | undefined;
    try {
      const spawned = await this.driver.spawn(spec, {
        onExit: (code, signal) => (running === undefined ? (earlyExit = [code, signal]) : this.onExit(running, code, signal)),
        stillWanted: () => this.phase === 'active',
        inheritEnv: this.options.inheritEnv,
      });
      if (spawned === undefined) return;
      running = spawned;
    } catch (error) {
      if (!(error instanceof SpawnError)) throw error;
      this.log.warn({ job: this.options.name, err: error }, error.message);
      if (error.permanent) {
        this.phase = 'stopped';
        this.update({ state: 'Failed', pid: undefined, lastError: error.message, nextRestartAt: undefined });
      } else {
        this.update({ lastError: error.message });
        this.scheduleRestart();
      }
      return;
    }
    const { pid } = running;
    this.running = running;
    if (earlyExit !== undefined) return this.onExit(running, ...earlyExit);
    this.armReset(running);
    try {
      await this.options.afterSpawn?.(pid);
    } catch (error) {
      this.log.warn({ job: this.options.name, pid, err: error }, 'afterSpawn hook failed');
    }
    const bootId = await currentBootId();
    const record = { pid, startTime: running.startTime, specHash: spec.specHash, startedAt: this.now().toISOString(), command: spec.command, ...(bootId !== undefined && { bootId }) };
    // Serialised, so an older write can never land after a newer one.
    this.pidWrites = this.pidWrites
      .then(() => writePidFile(spec.pidFile, record))
      .catch((error: unknown) => this.update({ lastError: `cannot write pid file ${spec.pidFile}: ${describe(error)}` }));
    await this.pidWrites;
    // Reported only now, so a Running instance always has its pid file: an agent crash cannot orphan it.
    if (this.running !== running || this.phase !== 'active') return;
    this.update({ state: this.backoff.crashLooping ? 'CrashLoop' : 'Running', pid, specHash: spec.specHash, adopted: false, nextRestartAt: undefined });
    // A first start is the agent's to log (it knows why: a deploy); restarts after an exit are ours.
    if (this.current.restarts > 0) this.log.info({ event: 'instance_restarted', job: this.options.name, pid, restarts: this.current.restarts }, 'instance restarted');
  }

  private onExit(running: Running, code: number | null, signal: string | null): void {
    if (this.running !== running) return;
    this.running = undefined;
    this.clearTimers();
    this.update({ pid: undefined, lastExit: { code, signal, at: this.now().toISOString() } });
    if (this.phase !== 'active') return;
    this.log.warn({ event: 'instance_exited', job: this.options.name, pid: running.pid, code, signal }, 'instance exited');
    this.scheduleRestart();
  }

  private scheduleRestart(): void {
    const { delayMs, crashLoop } = this.backoff.recordExit(Date.now());
    const nextRestartAt = new Date(this.now().getTime() + delayMs).toISOString();
    this.update({ state: crashLoop ? 'CrashLoop' : 'Starting', nextRestartAt });
    this.after(delayMs, () => {
      if (this.phase !== 'active') return;
      this.update({ restarts: this.current.restarts + 1 });
      void this.launch();
    });
  }

  /** After resetAfterMs up, past failures stop counting: the next crash restarts after initialBackoffMs. */
  private armReset(running: Running): void {
    this.after(this.backoff.policy.resetAfterMs, () => {
      if (this.running !== running) return;
      this.backoff.reset();
      if (this.current.state === 'CrashLoop') this.update({ state: 'Running' });
    });
  }

  private watchAdopted(running: Running): void {
    const check = (): void => {
      // Not our child, so its exit status is unknowable: recorded as code null, signal null.
      if (this.driver.isAlive(running)) this.after(this.options.pollIntervalMs ?? 1_000, check);
      else this.onExit(running, null, null);
    };
    this.after(this.options.pollIntervalMs ?? 1_000, check);
  }

  private async runStop(options: StopOptions): Promise<StopResult> {
    this.phase = 'stopping';
    this.clearTimers();
    await this.launching;
    try {
      await this.options.beforeStop?.();
    } catch (error) {
      this.update({ lastError: `beforeStop failed: ${describe(error)}` });
    }
    await sleep(options.drainMs);
    let signals: readonly StopSignal[] = [];
    const running = this.running;
    if (running !== undefined) {
      const result = await this.driver.terminateGroup(running.processGroup, { termTimeoutMs: options.termTimeoutMs, killTimeoutMs: options.killTimeoutMs ?? 10_000 });
      signals = result.signals;
      if (!result.gone) {
        const error = new SupervisorError('E_STOP_TIMEOUT', this.options.name, `process group ${running.processGroup} survived SIGKILL`);
        this.update({ lastError: error.message });
        throw error;
      }
      // Dead is not yet reaped: wait for our own child's 'exit' so lastExit says how it ended.
      const child = running.child;
      if (child !== undefined && child.exitCode === null && child.signalCode === null) {
        const done = new AbortController();
        await Promise.race([once(child, 'exit', { signal: done.signal }), sleep(1_000, undefined, { signal: done.signal })]);
        done.abort();
      }
      this.running = undefined;
    }
    this.clearTimers();
    await this.pidWrites;
    if (this.spec !== undefined) await removePidFile(this.spec.pidFile);
    this.phase = 'stopped';
    this.update({ state: 'Stopped', pid: undefined, nextRestartAt: undefined });
    this.log.info({ event: 'instance_stopped', job: this.options.name, signals }, 'instance stopped');
    return { signals };
  }

  private update(patch: Partial<SupervisorStatus>): void {
    const next = { ...this.current, ...patch };
    if (patch.state !== undefined && patch.state !== this.current.state) next.since = this.now().toISOString();
    this.current = next;
    try {
      this.options.onStatus?.(next);
    } catch (error) {
      // A listener's bug must not take the guardian (and with it every job's restarts) down.
      this.log.warn({ job: this.options.name, err: error }, 'onStatus listener failed');
    }
  }

  private after(delayMs: number, run: () => void): void {
    if (this.phase === 'detached') return; // a launch that was in flight when detach() came
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      run();
    }, delayMs);
    this.timers.add(timer);
  }

  private clearTimers(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  private now(): Date {
    return this.options.now?.() ?? new Date();
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
