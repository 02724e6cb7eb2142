// The host agent: makes this host run what etcd assigns to it. It registers the host under a lease,
// watches assign/<host>/, deploys and supervises each job instance, reports status/, and keeps
// naming current. Fail static: what runs keeps running when etcd is unreachable, and an agent
// restart adopts running instances (from the assignments it saved locally) instead of restarting them.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import PQueue from 'p-queue';
import type { Logger } from 'pino';
import type { EtcdConnectionOptions } from '../store/etcd-connection.js';
import { keyLayout, type KeyLayout } from '../store/keys.js';
import type { AssignmentRecord } from '../store/records.js';
import { readSecretValue, SecretError, secretKeys } from '../store/secret-store.js';
import { agentRoot } from './agent-layout.js';
import { removePartialDownloads } from './artifact-cache.js';
import { AgentSession } from './agent-session.js';
import { AssignmentBook } from './assignment-book.js';
import { AssignmentEvents } from './assignment-events.js';
import { HostClaimedError, lockAgentRoot } from './host-claim.js';
import { CgroupLimiter } from './cgroup-limits.js';
import { startLogRotation } from './log-writer.js';
import { JobInstance } from './job-instance.js';
import { JobWorkQueue } from './job-work-queue.js';
import { prepareRelease } from './prepare-release.js';
import type { ProcessDriver } from './process-driver.js';
import { forgetAssignment, readSavedAssignments, saveAssignment } from './saved-assignments.js';
import { StatusWriter } from './status-writer.js';
import { activateRelease, pruneReleases, removeJobReleases } from './switch-release.js';
import { DeployRetries } from './deploy-retry.js';

export interface HostAgentOptions {
  readonly host: string;
  readonly root: string;
  readonly etcd: EtcdConnectionOptions;
  readonly etcdPrefix: string;
  /** Where repo files (artifacts by path) come from: the controller's /content/<sha256>. */
  readonly controllerUrl?: string;
  readonly leaseTtlSeconds: number;
  readonly agentVersion: string;
  /** Where this agent serves /metrics (`host:port`), published in agents/<host>. */
  readonly metricsAddress?: string;
  /** Names the host already (`ygg agent` binds `host`): no line logged here repeats it. */
  readonly logger: Logger;
  readonly factsIntervalMs?: number;
  readonly restartPolicy?: ConstructorParameters<typeof JobInstance>[0]['restartPolicy'];
  /** Runs the jobs' processes; the OS by default (the fleet simulator swaps in a pretend one). */
  readonly processDriver?: ProcessDriver;
  /** Another agent serves this host: the agent cannot go on (the command exits 1). */
  readonly onFatal?: (error: HostClaimedError) => void;
}

/** Enough to keep a host's disk and the artifact server busy, few enough not to swamp either. */
export const PARALLEL_PREPARATIONS = 4;
/**
 * How often agents/<host> is rewritten with fresh facts (disk, memory). Liveness is the lease, and a
 * lost lease or vanished key re-registers at once, so this only keeps figures fresh: every 30 s it was
 * the fleet's largest idle write (33 puts/s per 1,000 hosts, decoded by the controller and renderers).
 */
export const FACTS_INTERVAL_MS = 300_000;

export class HostAgent {
  private readonly root: string;
  private readonly layout: KeyLayout;
  private readonly instances = new Map<string, JobInstance>();
  private readonly book = new AssignmentBook();
  private readonly events: AssignmentEvents;
  /** One reconcile at a time per job; jobs reconcile in parallel. */
  private readonly work: JobWorkQueue;
  /**
   * Release preparations (fetch, verify, unpack, render) at once, across jobs: a host given 20 jobs
   * at once (a fresh host, a fleet start) would otherwise fetch and unpack all 20 together, every
   * host of the fleet hitting the artifact server at the same moment. Stops and starts are not
   * bounded here: a stop waits out its drain, and one job's drain must not hold another's deploy.
   */
  private readonly preparations = new PQueue({ concurrency: PARALLEL_PREPARATIONS });
  /** Failed deploys in a row per job and spec: the next retry waits longer. */
  private readonly retries = new DeployRetries();
  private readonly statusWriter: StatusWriter;
  private readonly session: AgentSession;
  private readonly startedAt = new Date();
  private readonly abort = new AbortController();
  private readonly limiter: CgroupLimiter;
  private readonly rotation: { stop(): void };

  constructor(private readonly options: HostAgentOptions) {
    this.root = agentRoot(options.root);
    this.layout = keyLayout(options.etcdPrefix);
    this.work = new JobWorkQueue(
      (job) => this.reconcileJob(job),
      (job, error) => options.logger.error({ event: 'job_reconcile_failed', job, error: (error as Error).message }, 'job reconcile failed'),
    );
    this.events = new AssignmentEvents({
      book: this.book,
      prefix: this.layout.assignments(options.host),
      logger: options.logger,
      runningJobs: () => this.instances.keys(),
      schedule: (job) => this.schedule(job),
      reportStatus: (job) => this.reportStatus(job),
    });
    // One limiter for the agent: "no cgroup v2 here" is said once, not per job.
    this.limiter = new CgroupLimiter({ onWarning: (error) => options.logger.warn({ event: 'cgroup_unavailable', code: error.code, error: error.message }, 'resource limits not applied') });
    this.rotation = startLogRotation({
      files: () => [...this.instances.values()].flatMap((instance) => instance.logFiles()),
      onError: (error) => options.logger.warn({ event: 'log_rotation_failed', error: error.message }, 'log rotation failed'),
    });
    this.statusWriter = new StatusWriter(options.host, () => this.session.batcher, {
      onError: (error) => options.logger.warn({ event: 'status_write_failed', error: (error as Error).message }, 'status not written; kept for later'),
    });
    this.session = new AgentSession({
      host: options.host,
      root: this.root,
      layout: this.layout,
      etcd: options.etcd,
      agentVersion: options.agentVersion,
      startedAt: this.startedAt,
      ...(options.metricsAddress !== undefined ? { metricsAddress: options.metricsAddress } : {}),
      leaseTtlSeconds: options.leaseTtlSeconds,
      factsIntervalMs: options.factsIntervalMs ?? FACTS_INTERVAL_MS,
      logger: options.logger,
      signal: this.abort.signal,
      statusWriter: this.statusWriter,
      events: this.events,
      running: () => this.instances.keys(),
      hostIp: () => this.book.jobs().map((job) => this.book.wanted(job)?.host.ip).find((ip) => ip !== undefined),
      rewriteStatus: (job) => {
        if (!this.instances.has(job)) return; // a removed job's key, deleted by this agent
        this.statusWriter.forget(job);
        this.reportStatus(job);
      },
      onRegistered: () => this.onRegistered(),
      onFatal: (error) => options.onFatal?.(error),
    });
  }

  /** Adopts what runs, then connects to etcd in the background (retrying for ever). */
  async start(): Promise<void> {
    // A fresh host has no root yet; the host facts (disk free under it) cannot be read without it.
    await mkdir(path.join(this.root, 'run'), { recursive: true });
    try {
      await lockAgentRoot(this.root, this.options.host);
    } catch (error) {
      this.rotation.stop();
      throw error;
    }
    // Holding the root, before any deploy: a partial download now is one a crashed agent left.
    const partial = await removePartialDownloads(this.root).catch((error: unknown) => {
      this.options.logger.warn({ event: 'partial_downloads_kept', error: (error as Error).message }, 'cannot remove unfinished downloads');
      return [];
    });
    if (partial.length > 0) this.options.logger.info({ event: 'partial_downloads_removed', files: partial }, 'removed downloads a previous agent left unfinished');
    await this.adoptSavedInstances();
    void this.session.connect().catch((error: unknown) => {
      if (!this.abort.signal.aborted && !(error instanceof HostClaimedError)) this.options.logger.error({ event: 'agent_connect_failed', error: (error as Error).message }, 'cannot connect to etcd');
    });
  }

  /** Stops watching; instances keep running (an agent restart must not restart jobs). */
  async close(): Promise<void> {
    this.abort.abort();
    this.rotation.stop();
    this.retries.close();
    await this.session.stopWatching();
    await this.work.onIdle();
    await Promise.all([...this.instances.values()].map((instance) => instance.detach()));
    await this.statusWriter.close();
    await this.session.close();
  }

  instancesByJob(): ReadonlyMap<string, JobInstance> {
    return this.instances;
  }

  /** Running with no assignment behind it (its key vanished or stopped parsing). */
  isOrphaned(job: string): boolean {
    return this.book.orphan(job) !== undefined;
  }

  private async adoptSavedInstances(): Promise<void> {
    for (const saved of await readSavedAssignments(this.root)) {
      this.book.put(saved.job, saved);
      await this.deploy(saved, { adopt: true });
    }
  }

  /** Under a new lease (naming already put back by the session): every status and naming entry again. */
  private async onRegistered(): Promise<void> {
    for (const job of this.instances.keys()) this.reportStatus(job);
    await Promise.all([...this.instances.values()].map((instance) => instance.registerIfHealthy().catch(() => undefined)));
  }

  private schedule(job: string): void {
    this.retries.cancel(job);
    this.work.schedule(job);
  }

  private async reconcileJob(job: string): Promise<void> {
    if (this.abort.signal.aborted) return;
    const decision = this.book.decision(job);
    const running = this.instances.get(job);
    if (decision?.kind === 'remove') {
      if (running) {
        this.options.logger.info({ event: 'instance_removing', job, commit: decision.record.commit }, 'removed by the controller: draining and stopping');
        await running.stop();
        this.instances.delete(job);
      }
      if (!(await removeJobReleases(this.root, job))) this.options.logger.warn({ event: 'releases_kept', job }, 'its pid file is still there: releases of the removed job kept');
      this.book.settle(job);
      this.retries.forget(job);
      await forgetAssignment(this.root, job);
      this.statusWriter.set(job, null);
      return;
    }
    const wanted = decision?.record;
    if (!wanted) return;
    if (running && running.specHash === wanted.specHash) {
      running.setDeployError(undefined); // back to what runs (e.g. the controller reverted)
      await saveAssignment(this.root, wanted); // services may have changed
      running.updateAssignment(wanted);
      this.reportStatus(job);
      return;
    }
    await this.deploy(wanted, { adopt: false });
  }

  private reportStatus(job: string): void {
    const instance = this.instances.get(job);
    if (instance) this.statusWriter.set(job, this.events.withOrphan(job, instance.status()));
  }

  /** Prepares the release and (re)starts the instance on it; a failed prepare leaves the old one running. */
  private async deploy(wanted: AssignmentRecord, { adopt }: { adopt: boolean }): Promise<void> {
    const { logger } = this.options;
    const job = wanted.job;
    let prepared;
    try {
      prepared = await this.preparations.add(() =>
        prepareRelease(wanted, {
          root: this.root,
          fetchUrl: (source) => this.fetchUrl(source),
          signal: this.abort.signal,
          readSecret: (name, version) => {
            const client = this.session.etcd;
            if (!client) throw new SecretError('E_SECRET_MISSING', `secret ${name}: not connected to etcd yet`, name);
            return readSecretValue(client, secretKeys(this.layout.prefix), name, version);
          },
        }),
      );
    } catch (error) {
      const message = (error as Error).message;
      const retryable = (error as { retryable?: boolean }).retryable === true;
      const retryInMs = this.retries.failed(job, wanted.specHash, retryable, () => this.schedule(job));
      logger.error({ event: 'deploy_failed', job, specHash: wanted.specHash, code: (error as { code?: string }).code, error: message, retryable, retryInMs }, 'deploy failed; the old release keeps running');
      const running = this.instances.get(job);
      const now = new Date().toISOString();
      if (running) running.setDeployError(`deploy of ${wanted.specHash.slice(0, 12)} failed: ${message}`);
      else this.statusWriter.set(job, { specHash: wanted.specHash, state: 'Failed', restarts: 0, lastError: message, since: now, updatedAt: now });
      return;
    }
    this.retries.forget(job);
    this.session.ensureNaming(wanted.host.ip);
    const previous = this.instances.get(job);
    if (previous) await previous.stop();
    await activateRelease(this.root, job, wanted.specHash);
    const instance = new JobInstance({
      root: this.root,
      assignment: wanted,
      rendered: prepared.rendered,
      naming: () => this.session.namingRegistration,
      logger,
      onStatus: (status) => this.statusWriter.set(job, this.events.withOrphan(job, status)),
      limiter: this.limiter,
      ...(this.options.restartPolicy ? { restartPolicy: this.options.restartPolicy } : {}),
      ...(this.options.processDriver ? { driver: this.options.processDriver } : {}),
    });
    this.instances.set(job, instance);
    const adopted = adopt && (await instance.adopt());
    if (!adopted) await instance.start();
    await saveAssignment(this.root, wanted);
    logger.info({ event: adopted ? 'instance_adopted' : 'instance_started', job, specHash: wanted.specHash, pid: instance.pid() }, adopted ? 'adopted running instance' : 'instance started');
    await pruneReleases(this.root, job).catch(() => undefined);
  }

  private fetchUrl(source: { url?: string; sha256: string }): string {
    if (source.url) return source.url;
    if (!this.options.controllerUrl) throw new Error('the artifact is a repo path but no --controller URL was given to fetch it from');
    return `${this.options.controllerUrl.replace(/\/$/, '')}/content/${source.sha256}`;
  }

}
