// One job instance on this host, the way operators think of it: its process (supervised), its health
// check, its cron tasks and its naming entries, summed up as one StatusRecord.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { drainSecondsOf } from '../model/drain-seconds.js';
import type { InstanceSpec } from '../plan/render-instance.js';
import type { AssignmentRecord, StatusRecord } from '../store/records.js';
import { jobPaths } from './agent-layout.js';
import type { CgroupLimiter } from './cgroup-limits.js';
import { CronRunner } from './cron-runner.js';
import type { HealthCheckContext } from './health-check.js';
import { HealthMonitor, type HealthState } from './health-monitor.js';
import type { NamingRegistration } from './naming-registration.js';
import { OS_PROCESS_DRIVER, type ProcessDriver } from './process-driver.js';
import type { ProcessSample } from './process-metrics.js';
import { jobEnvironment } from './spawn-instance.js';
import { InstanceSupervisor, type StartSpec, type SupervisorStatus } from './supervisor.js';

export interface JobInstanceOptions {
  readonly root: string;
  readonly assignment: AssignmentRecord;
  readonly rendered: InstanceSpec;
  readonly naming: () => NamingRegistration | undefined;
  readonly logger: Logger;
  readonly onStatus: (status: StatusRecord) => void;
  /** Resource limits (cgroup v2) for the job's process, applied right after each spawn. */
  readonly limiter?: CgroupLimiter;
  /** Tests shorten the restart backoff. */
  readonly restartPolicy?: ConstructorParameters<typeof InstanceSupervisor>[0]['policy'];
  /** Starts, stops and probes the process: the OS unless a simulator says otherwise. */
  readonly driver?: ProcessDriver;
}

/** How long SIGTERM may take before SIGKILL. */
export const TERM_TIMEOUT_MS = 10_000;
/** How often a starting instance's health check is tried, until it first passes (see awaitStartup). */
export const STARTUP_PROBE_MS = 100;

export class JobInstance {
  readonly job: string;
  readonly specHash: string;
  private assignment: AssignmentRecord;
  private readonly supervisor: InstanceSupervisor;
  private readonly cron: CronRunner | undefined;
  /** The health of the process that runs now (its pid is `monitoredPid`), from its own monitor. */
  private healthState: HealthState = 'unknown';
  private monitor: HealthMonitor | undefined;
  private monitoredPid: number | undefined;
  private supervised: SupervisorStatus | undefined;
  private lastError: string | undefined;
  /** A newer assignment this host could not deploy: reported (Failed) while this release keeps running. */
  private deployError: string | undefined;
  private readonly healthContext: HealthCheckContext;
  /** Set once the process is up (started or adopted); aborted when the instance stops or is let go. */
  private companionsStarted = false;
  private readonly companions = new AbortController();
  private readonly driver: ProcessDriver;

  constructor(private readonly options: JobInstanceOptions) {
    this.driver = options.driver ?? OS_PROCESS_DRIVER;
    const { rendered, root } = options;
    this.assignment = options.assignment;
    this.job = options.assignment.job;
    this.specHash = options.assignment.specHash;
    const paths = jobPaths(root, this.job);
    const env = jobEnvironment(rendered.env);
    this.supervisor = new InstanceSupervisor({
      name: this.job,
      driver: this.driver,
      ...(options.restartPolicy ? { policy: options.restartPolicy } : {}),
      beforeStop: () => this.deregister(),
      afterSpawn: async (pid) => {
        await options.limiter?.apply(this.job, pid, rendered.resources ?? {});
      },
      onStatus: (status) => {
        const was = this.isHealthy();
        this.supervised = status;
        this.followProcess(status.pid);
        // The state alone can change isHealthy (CrashLoop → Running after resetAfterMs).
        this.syncNaming(was);
        this.report();
      },
      logger: options.logger,
    });
    // The IP naming registers for this instance, so a check passes only where traffic can arrive.
    this.healthContext = { hostIp: options.assignment.host.ip, cwd: paths.current, env };
    this.cron = rendered.cron.length > 0 ? new CronRunner({ job: this.job, tasks: rendered.cron, cwd: paths.current, env, logDir: paths.logDir, onRunEnd: () => this.report() }) : undefined;
  }

  private startSpec(): StartSpec {
    const paths = jobPaths(this.options.root, this.job);
    return { command: this.options.rendered.command, env: this.options.rendered.env, cwd: paths.current, logDir: paths.logDir, pidFile: paths.pidFile, specHash: this.specHash };
  }

  async start(): Promise<void> {
    await this.supervisor.start(this.startSpec());
    await this.startCompanions();
  }

  /** Takes over the process a previous agent started, without restarting it; false when none is alive. */
  async adopt(): Promise<boolean> {
    const result = await this.supervisor.adopt(this.startSpec());
    if (!result.adopted) return false;
    await this.startCompanions();
    return true;
  }

  private async startCompanions(): Promise<void> {
    if (this.companions.signal.aborted) return;
    await this.cron?.start();
    this.companionsStarted = true;
    const was = this.isHealthy();
    this.followProcess(this.supervised?.pid);
    this.syncNaming(was);
    this.report();
  }

  /**
   * Health belongs to one run of the process. A new pid (a restart after a crash or a kill) starts
   * from `unknown` with a monitor of its own: a monitor kept across runs may never see the gap
   * between them, and would then never report the new process healthy. Without a check, a running
   * process is all there is to know.
   */
  private followProcess(pid: number | undefined): void {
    if (!this.companionsStarted || pid === this.monitoredPid) return;
    this.monitoredPid = pid;
    void this.monitor?.stop();
    this.monitor = undefined;
    this.lastError = undefined;
    const check = this.options.rendered.health;
    this.healthState = pid !== undefined && !check ? 'healthy' : 'unknown';
    if (pid === undefined || !check || this.companions.signal.aborted) return;
    // One failed probe removes the endpoint: "removed from naming within one interval".
    const ports = this.options.rendered.ports;
    const monitor = new HealthMonitor({ check, ports, context: this.healthContext, unhealthyThreshold: 1, probe: (signal) => this.driver.probeHealth(check, ports, { ...this.healthContext, signal }) });
    this.monitor = monitor;
    monitor.onTransition((transition) => {
      if (this.monitor !== monitor) return;
      this.lastError = transition.to === 'unhealthy' ? `health check: ${transition.result.detail}` : undefined;
      this.setHealth(transition.to);
      this.report();
    });
    void this.awaitStartup(monitor).then(() => this.monitor === monitor && monitor.start());
  }

  /**
   * A process just spawned is not listening yet, so the monitor's first probe would fail: the
   * instance would be reported Unhealthy and stay out of naming for a whole interval. Until the
   * check first passes (at most one interval) it is tried every STARTUP_PROBE_MS, quietly; then the
   * monitor takes over, its first probe at once. An adopted process passes on the first try.
   */
  private async awaitStartup(monitor: HealthMonitor): Promise<void> {
    const check = this.options.rendered.health!;
    const signal = this.companions.signal;
    const deadline = Date.now() + check.intervalSeconds * 1000;
    while (this.monitor === monitor && !signal.aborted && Date.now() < deadline) {
      const result = await this.driver.probeHealth(check, this.options.rendered.ports, { ...this.healthContext, signal }).catch(() => ({ healthy: false }));
      if (result.healthy) return;
      await sleep(STARTUP_PROBE_MS, undefined, { signal }).catch(() => undefined);
    }
  }

  /** Stops watching health; the next process (if any) is not monitored. */
  private async stopCompanions(): Promise<void> {
    this.companions.abort();
    const monitor = this.monitor;
    this.monitor = undefined;
    await this.cron?.stop();
    await monitor?.stop();
  }

  /**
   * Drain: leave naming, wait, SIGTERM, SIGKILL. The data and log directories stay. The wait is this
   * instance's own rollout.drainSeconds, also when a newer spec replaces it: the drain serves the
   * clients of the process being stopped, so the spec that process runs under says how long they
   * need (and a removal record carries no spec at all). A change of drainSeconds alone restarts
   * nothing and reaches the running instance through updateAssignment, so it holds for its next stop.
   */
  async stop(): Promise<void> {
    await this.stopCompanions();
    await this.supervisor.stop({ drainMs: drainSecondsOf(this.assignment.spec.rollout) * 1000, termTimeoutMs: TERM_TIMEOUT_MS });
    await this.options.limiter?.remove(this.job);
  }

  /** The files the agent rotates: the process's stdout/stderr and each cron task's log. */
  logFiles(): string[] {
    const { logDir } = jobPaths(this.options.root, this.job);
    return [`${logDir}/stdout.log`, `${logDir}/stderr.log`, ...this.options.rendered.cron.map((task) => `${logDir}/cron-${task.name}.log`)];
  }

  /** The agent is going away, the process is not: stop watching it, leave it running. */
  async detach(): Promise<void> {
    await this.stopCompanions();
    this.supervisor.detach();
  }

  /** Same spec, new record (e.g. other Services name the job): re-register under the new names. */
  updateAssignment(assignment: AssignmentRecord): void {
    const before = JSON.stringify(this.assignment.services ?? []);
    this.assignment = assignment;
    if (before !== JSON.stringify(assignment.services ?? [])) void this.registerIfHealthy().catch(() => undefined);
  }

  /** Sets (or clears, with undefined) the failure to deploy a newer assignment, and reports it. */
  setDeployError(message: string | undefined): void {
    if (this.deployError === message) return;
    this.deployError = message;
    this.report();
  }

  pid(): number | undefined {
    return this.supervised?.pid;
  }

  /** The running process's figures (cpu, memory, fds, uptime); undefined when none runs. */
  async processMetrics(): Promise<ProcessSample | undefined> {
    const pid = this.pid();
    return pid === undefined ? undefined : this.driver.processMetrics(pid);
  }

  /** The job's tag and version as the assignment in force names them (for /metrics labels). */
  identity(): { readonly tag: string; readonly version: string } {
    return { tag: this.assignment.tag, version: this.assignment.spec.version };
  }

  /** How long the last health check of the running process took, in seconds; undefined before one finished. */
  lastHealthCheckSeconds(): number | undefined {
    return this.monitor?.lastCheckSeconds;
  }

  isHealthy(): boolean {
    return this.healthState === 'healthy' && this.supervised?.state === 'Running';
  }

  /** Puts (or removes) the endpoints in naming, e.g. after etcd returned or the lease changed. */
  async registerIfHealthy(): Promise<void> {
    await this.options.naming()?.setHealthy({ job: this.job, specHash: this.specHash, tag: this.assignment.tag }, this.endpoints(), this.isHealthy());
  }

  status(): StatusRecord {
    const supervised = this.supervised;
    const now = new Date().toISOString();
    const running = supervised?.state === 'Running';
    const state = !supervised ? 'Starting' : running ? (this.healthState === 'healthy' ? 'Healthy' : this.healthState === 'unhealthy' ? 'Unhealthy' : 'Running') : supervised.state;
    const lastError = this.deployError ?? this.lastError ?? supervised?.lastError;
    return {
      specHash: supervised?.specHash ?? this.specHash,
      release: this.specHash,
      ...(supervised?.pid !== undefined ? { pid: supervised.pid } : {}),
      // The controller sees the newer spec failed on this host (its rollout fails and reverts); the
      // process and its naming entry are untouched.
      state: this.deployError ? 'Failed' : state,
      restarts: supervised?.restarts ?? 0,
      ...(supervised?.lastExit ? { lastExit: supervised.lastExit } : {}),
      ...(lastError ? { lastError } : {}),
      since: supervised?.since ?? now,
      updatedAt: now,
      ...(this.cron ? { cron: this.cronStatus() } : {}),
    };
  }

  private cronStatus(): NonNullable<StatusRecord['cron']> {
    return Object.fromEntries(
      Object.entries(this.cron!.status()).map(([name, task]) => [
        name,
        {
          ...(task.lastRun ? { lastRun: task.lastRun } : {}),
          ...(task.lastExit ? { lastExit: task.lastExit } : {}),
          ...(task.lastDurationMs !== undefined ? { lastDurationMs: task.lastDurationMs } : {}),
          runs: task.runs,
          skipped: task.skipped,
        },
      ]),
    );
  }

  private endpoints(): { service: string; port: number }[] {
    const ports = this.options.rendered.ports;
    return (this.assignment.services ?? []).flatMap(({ name, port }) => (ports[port] === undefined ? [] : [{ service: name, port: ports[port]! }]));
  }

  private setHealth(state: HealthState): void {
    const was = this.isHealthy();
    this.healthState = state;
    this.syncNaming(was);
  }

  private syncNaming(was: boolean): void {
    if (was === this.isHealthy()) return;
    this.registerIfHealthy().catch((error: unknown) => this.options.logger.warn({ event: 'naming_failed', job: this.job, error: (error as Error).message }, 'naming not updated; redone when etcd is back'));
  }

  private async deregister(): Promise<void> {
    try {
      await this.options.naming()?.deregister(this.job);
    } catch (error) {
      // etcd down: the entries expire with the agent's lease; the drain goes on.
      this.options.logger.warn({ event: 'deregister_failed', job: this.job, error: (error as Error).message }, 'could not deregister before stopping');
    }
  }

  private report(): void {
    this.options.onStatus(this.status());
  }
}
