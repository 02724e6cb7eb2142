// The host agent: makes this host run what etcd assigns to it. It registers the host under a lease,
// watches assign/<host>/, deploys and supervises each job instance, reports status/, and keeps
// naming current. Fail static: what runs keeps running when etcd is unreachable, and an agent
// restart adopts running instances (from the assignments it saved locally) instead of restarting them.
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Etcd3 } from 'etcd3';
import type { Logger } from 'pino';
import { writeFileAtomic } from '../repo/write-file-atomic.js';
import { createConnectionLog } from '../store/connection-log.js';
import { connectEtcd, type EtcdConnectionOptions } from '../store/etcd-connection.js';
import { keyLayout, type KeyLayout } from '../store/keys.js';
import { isAssignmentRecord } from '../store/record-checks.js';
import type { AssignmentRecord } from '../store/records.js';
import { retryWithBackoff } from '../store/retry-with-backoff.js';
import { EtcdStateStore, type LeaseHandle, type WatchEvent, type WatchHandle } from '../store/state-store.js';
import { EtcdUnavailableError } from '../store/store-errors.js';
import { agentRoot, jobPaths } from './agent-layout.js';
import { CgroupLimiter } from './cgroup-limits.js';
import { startLogRotation } from './log-writer.js';
import { JobInstance } from './job-instance.js';
import { readMachineFacts } from './machine-facts.js';
import { NamingRegistration } from './naming-registration.js';
import { prepareRelease } from './prepare-release.js';
import { ProcessGoneError, readProcessMetrics } from './process-metrics.js';
import { StatusWriter } from './status-writer.js';
import { activateRelease, pruneReleases } from './switch-release.js';

export interface HostAgentOptions {
  readonly host: string;
  readonly root: string;
  readonly etcd: EtcdConnectionOptions;
  readonly etcdPrefix: string;
  /** Where repo files (artifacts by path) come from: the controller's /content/<sha256>. */
  readonly controllerUrl?: string;
  readonly leaseTtlSeconds: number;
  readonly agentVersion: string;
  readonly logger: Logger;
  readonly factsIntervalMs?: number;
  /** How often status/ is refreshed with the instances' cpu, memory and fd figures. */
  readonly metricsIntervalMs?: number;
  readonly restartPolicy?: ConstructorParameters<typeof JobInstance>[0]['restartPolicy'];
}

const SAVED_ASSIGNMENT = '.assignment.json';

export class HostAgent {
  private readonly root: string;
  private readonly layout: KeyLayout;
  private readonly instances = new Map<string, JobInstance>();
  private readonly assignments = new Map<string, AssignmentRecord>();
  /** One deploy at a time per job; jobs deploy in parallel. */
  private readonly jobQueues = new Map<string, Promise<void>>();
  private readonly retryTimers = new Map<string, NodeJS.Timeout>();
  private readonly statusWriter: StatusWriter;
  private client: Etcd3 | undefined;
  private store: EtcdStateStore | undefined;
  private lease: LeaseHandle | undefined;
  private naming: NamingRegistration | undefined;
  private watch: WatchHandle | undefined;
  private factsTimer: NodeJS.Timeout | undefined;
  private metricsTimer: NodeJS.Timeout | undefined;
  private readonly startedAt = new Date();
  private readonly abort = new AbortController();
  private readonly limiter: CgroupLimiter;
  private readonly rotation: { stop(): void };

  constructor(private readonly options: HostAgentOptions) {
    this.root = agentRoot(options.root);
    this.layout = keyLayout(options.etcdPrefix);
    // One limiter for the agent: "no cgroup v2 here" is said once, not per job.
    this.limiter = new CgroupLimiter({ onWarning: (error) => options.logger.warn({ event: 'cgroup_unavailable', code: error.code, error: error.message }, 'resource limits not applied') });
    this.rotation = startLogRotation({
      files: () => [...this.instances.values()].flatMap((instance) => instance.logFiles()),
      onError: (error) => options.logger.warn({ event: 'log_rotation_failed', error: error.message }, 'log rotation failed'),
    });
    this.statusWriter = new StatusWriter(options.host, () => this.store, {
      onError: (error) => options.logger.warn({ event: 'status_write_failed', error: (error as Error).message }, 'status not written; kept for later'),
    });
  }

  /** Adopts what runs, then connects to etcd in the background (retrying for ever). */
  async start(): Promise<void> {
    // A fresh host has no root yet; the host facts (disk free under it) cannot be read without it.
    await mkdir(this.root, { recursive: true });
    await this.adoptSavedInstances();
    void this.connect().catch((error: unknown) => {
      if (!this.abort.signal.aborted) this.options.logger.error({ event: 'agent_connect_failed', error: (error as Error).message }, 'cannot connect to etcd');
    });
  }

  /** Stops watching; instances keep running (an agent restart must not restart jobs). */
  async close(): Promise<void> {
    this.abort.abort();
    clearInterval(this.factsTimer);
    clearInterval(this.metricsTimer);
    this.rotation.stop();
    for (const timer of this.retryTimers.values()) clearTimeout(timer);
    await this.watch?.close();
    await Promise.all(this.jobQueues.values());
    await Promise.all([...this.instances.values()].map((instance) => instance.detach()));
    await this.statusWriter.close();
    // Released, not revoked: naming entries stay until the TTL, bridging to the next agent.
    this.lease?.release();
    this.client?.close();
  }

  instancesByJob(): ReadonlyMap<string, JobInstance> {
    return this.instances;
  }

  private async adoptSavedInstances(): Promise<void> {
    const runDir = path.dirname(jobPaths(this.root, 'x').pidFile);
    const names = await readdir(runDir).catch(() => [] as string[]);
    for (const name of names.filter((file) => file.endsWith(SAVED_ASSIGNMENT))) {
      const saved = JSON.parse(await readFile(path.join(runDir, name), 'utf8')) as unknown;
      if (!isAssignmentRecord(saved)) continue;
      this.assignments.set(saved.job, saved);
      await this.deploy(saved, { adopt: true });
    }
  }

  private async connect(): Promise<void> {
    const { logger } = this.options;
    this.client = await retryWithBackoff(() => connectEtcd(this.options.etcd), {
      signal: this.abort.signal,
      maxMs: 5000,
      onRetry: (error, attempt, delayMs) => logger.warn({ event: 'etcd_unavailable', attempt, retryInMs: delayMs, error: (error as Error).message }, 'etcd unreachable; jobs keep running'),
    });
    this.store = new EtcdStateStore(this.client, this.layout);
    // Assignments first: they carry the address the fleet knows this host by, for naming.
    const read = await retryWithBackoff(() => this.store!.getPrefixJson(this.layout.assignments(this.options.host), isAssignmentRecord), { signal: this.abort.signal, maxMs: 5000 });
    const assigned = new Map([...read.entries].map(([key, entry]) => [key.slice(this.layout.assignments(this.options.host).length), entry.value]));
    await retryWithBackoff(() => this.register(), { signal: this.abort.signal, maxMs: 5000, onRetry: (error, attempt, delayMs) => this.logRegisterRetry(error, attempt, delayMs) });
    this.replaceAssignments(assigned);
    const connectionLog = createConnectionLog(logger, { consequence: 'jobs keep running' });
    this.abort.signal.addEventListener('abort', () => connectionLog.close(), { once: true });
    this.watch = this.store.watchPrefix<AssignmentRecord>(this.layout.assignments(this.options.host), read.revision, (event) => this.onAssignmentEvent(event), {
      check: isAssignmentRecord,
      onConnectionChange: (connected) => {
        connectionLog.report(connected);
        if (connected) this.statusWriter.flushSoon();
      },
    });
    this.factsTimer = setInterval(() => void this.putFacts().catch(() => undefined), this.options.factsIntervalMs ?? 30_000);
    this.metricsTimer = setInterval(() => void this.reportMetrics(), this.options.metricsIntervalMs ?? 30_000);
    this.statusWriter.flushSoon();
    logger.info({ event: 'agent_registered', host: this.options.host, lease: this.lease?.id }, 'agent registered');
  }

  /** agents/<host> under a fresh lease; after a lease loss, again, and the naming entries with it. */
  private async register(): Promise<void> {
    const store = this.store!;
    const lease = await store.grantLease(this.options.leaseTtlSeconds);
    this.lease = lease;
    try {
      await this.putFacts();
      if (this.naming) await this.naming.reassert(lease.id);
      else this.ensureNaming([...this.assignments.values()][0]?.host.ip);
    } catch (error) {
      // The next attempt grants another lease: this one must not stay alive (kept alive, it never expires).
      void lease.revoke().catch(() => undefined);
      throw error;
    }
    await Promise.all([...this.instances.values()].map((instance) => instance.registerIfHealthy().catch(() => undefined)));
    lease.onLost(() => {
      if (this.abort.signal.aborted) return;
      this.options.logger.warn({ event: 'lease_lost', lease: lease.id }, 'agent lease lost; re-registering');
      void retryWithBackoff(() => this.register(), { signal: this.abort.signal, maxMs: 5000, onRetry: (error, attempt, delayMs) => this.logRegisterRetry(error, attempt, delayMs) }).catch(() => undefined);
    });
  }

  private logRegisterRetry(error: unknown, attempt: number, delayMs: number): void {
    // etcd being down is said once, by the connection log; each retry is only worth a debug line
    this.options.logger[error instanceof EtcdUnavailableError ? 'debug' : 'warn']({ event: 'agent_register_failed', attempt, retryInMs: delayMs, error: (error as Error).message }, 'cannot register the agent; retrying');
  }

  private async putFacts(): Promise<void> {
    const facts = await readMachineFacts(this.options.host, this.root, this.options.agentVersion, this.startedAt);
    await this.store!.applyBatch([{ put: this.layout.agent(this.options.host), value: facts, lease: this.lease!.id }]);
  }

  /**
   * Naming records carry the address the fleet knows this host by (the Host document's ip, which
   * every assignment repeats), so registration starts with the first assignment seen.
   */
  private ensureNaming(ip: string | undefined): void {
    if (this.naming || !ip || !this.store || !this.lease) return;
    this.naming = new NamingRegistration({ store: this.store, host: this.options.host, ip, leaseId: this.lease.id });
  }

  private onAssignmentEvent(event: WatchEvent<AssignmentRecord>): void {
    const prefix = this.layout.assignments(this.options.host);
    if (event.type === 'resync') {
      this.replaceAssignments(new Map([...event.entries].map(([key, entry]) => [key.slice(prefix.length), entry.value])));
      return;
    }
    const job = event.key.slice(prefix.length);
    if (event.type === 'put') this.assignments.set(job, event.value);
    else this.assignments.delete(job); // delete, or a value that is not an assignment
    this.schedule(job);
  }

  private replaceAssignments(next: Map<string, AssignmentRecord>): void {
    const jobs = new Set([...this.assignments.keys(), ...next.keys(), ...this.instances.keys()]);
    this.assignments.clear();
    for (const [job, record] of next) this.assignments.set(job, record);
    for (const job of jobs) this.schedule(job);
  }

  private schedule(job: string): void {
    clearTimeout(this.retryTimers.get(job));
    const previous = this.jobQueues.get(job) ?? Promise.resolve();
    const next = previous.then(() => this.reconcileJob(job)).catch((error: unknown) => {
      this.options.logger.error({ event: 'job_reconcile_failed', job, error: (error as Error).message }, 'job reconcile failed');
    });
    this.jobQueues.set(job, next);
  }

  private async reconcileJob(job: string): Promise<void> {
    if (this.abort.signal.aborted) return;
    const wanted = this.assignments.get(job);
    const running = this.instances.get(job);
    if (!wanted) {
      if (!running) return;
      this.options.logger.info({ event: 'instance_removing', job }, 'assignment gone: draining and stopping');
      await running.stop();
      this.instances.delete(job);
      await rm(this.savedAssignmentPath(job), { force: true });
      this.statusWriter.set(job, null);
      return;
    }
    if (running && running.specHash === wanted.specHash) {
      running.setDeployError(undefined); // back to what runs (e.g. the controller reverted)
      await this.save(wanted); // services may have changed
      running.updateAssignment(wanted);
      return;
    }
    await this.deploy(wanted, { adopt: false });
  }

  /** Prepares the release and (re)starts the instance on it; a failed prepare leaves the old one running. */
  private async deploy(wanted: AssignmentRecord, { adopt }: { adopt: boolean }): Promise<void> {
    const { logger } = this.options;
    const job = wanted.job;
    let prepared;
    try {
      prepared = await prepareRelease(wanted, { root: this.root, fetchUrl: (source) => this.fetchUrl(source), signal: this.abort.signal });
    } catch (error) {
      const message = (error as Error).message;
      const retryable = (error as { retryable?: boolean }).retryable === true;
      logger.error({ event: 'deploy_failed', job, specHash: wanted.specHash, code: (error as { code?: string }).code, error: message, retryable }, 'deploy failed; the old release keeps running');
      const running = this.instances.get(job);
      const now = new Date().toISOString();
      if (running) running.setDeployError(`deploy of ${wanted.specHash.slice(0, 12)} failed: ${message}`);
      else this.statusWriter.set(job, { specHash: wanted.specHash, state: 'Failed', restarts: 0, lastError: message, since: now, updatedAt: now });
      if (retryable) this.retryTimers.set(job, setTimeout(() => this.schedule(job), 10_000));
      return;
    }
    this.ensureNaming(wanted.host.ip);
    const previous = this.instances.get(job);
    if (previous) await previous.stop();
    await activateRelease(this.root, job, wanted.specHash);
    const instance = new JobInstance({
      root: this.root,
      assignment: wanted,
      rendered: prepared.rendered,
      naming: () => this.naming,
      logger,
      onStatus: (status) => this.statusWriter.set(job, status),
      limiter: this.limiter,
      ...(this.options.restartPolicy ? { restartPolicy: this.options.restartPolicy } : {}),
    });
    this.instances.set(job, instance);
    const adopted = adopt && (await instance.adopt());
    if (!adopted) await instance.start();
    await this.save(wanted);
    logger.info({ event: adopted ? 'instance_adopted' : 'instance_started', job, specHash: wanted.specHash, pid: instance.pid() }, adopted ? 'adopted running instance' : 'instance started');
    await pruneReleases(this.root, job).catch(() => undefined);
  }

  /** status/ carries the same per-instance figures as /metrics, at a modest interval. */
  private async reportMetrics(): Promise<void> {
    for (const [job, instance] of this.instances) {
      const pid = instance.pid();
      if (pid === undefined) continue;
      try {
        const { cpuSeconds, rssBytes, openFds, uptimeSeconds } = await readProcessMetrics(pid);
        this.statusWriter.set(job, { ...instance.status(), metrics: { cpuSeconds, rssBytes, openFds, uptimeSeconds } });
      } catch (error) {
        if (!(error instanceof ProcessGoneError)) throw error;
      }
    }
  }

  private fetchUrl(source: { url?: string; sha256: string }): string {
    if (source.url) return source.url;
    if (!this.options.controllerUrl) throw new Error('the artifact is a repo path but no --controller URL was given to fetch it from');
    return `${this.options.controllerUrl.replace(/\/$/, '')}/content/${source.sha256}`;
  }

  private savedAssignmentPath(job: string): string {
    return jobPaths(this.root, job).pidFile.replace(/\.json$/, SAVED_ASSIGNMENT);
  }

  private save(assignment: AssignmentRecord): Promise<void> {
    return writeFileAtomic(this.savedAssignmentPath(assignment.job), JSON.stringify(assignment));
  }
}
