// The controller: fetch the branch → load the commit → reconcile against the etcd mirror → write,
// audited and guarded by leadership. A commit with any error, one the prune guard stops, or one
// whose load or plan throws, is rejected whole and the last good commit stays in force (and keeps
// being reconciled, drift repair included).
import type { Logger } from 'pino';
import type { FleetIndex } from '../model/fleet-index.js';
import type { Model } from '../model/types.js';
import type { BranchHead, ControllerSource } from '../repo/controller-source.js';
import { formatFinding } from '../repo/finding.js';
import type { RepoLoader } from '../repo/load-repo.js';
import type { CommitInfo, RepoFile, RepoSnapshot } from '../repo/source.js';
import type { ControllerMetrics } from '../server/metrics.js';
import type { KeyLayout } from '../store/keys.js';
import type { CommitRef, SyncCurrentRecord, SyncResult } from '../store/records.js';
import type { BatchGuard, EtcdStateStore } from '../store/state-store.js';
import { canonicalJson } from '../plan/canonical-json.js';
import { loadFailure, rejection, rejectionAudit, unreadCommit, type CommitRejection } from './commit-rejection.js';
import type { FleetInformer } from './fleet-informer.js';
import { PRUNE_OVERRIDE_TOKEN, reconcileFleet, type JobSummary, type ReconcileOutput } from './reconcile-fleet.js';
import { describeMissingSecrets, resolveSecrets } from './resolve-secrets.js';
import type { SecretVersion } from '../store/secret-store.js';
import { syncHosts } from './sync-hosts.js';
import { syncZones } from './sync-zones.js';
import { describePartition, type LostIdc } from './reschedule-lost-hosts.js';
import { jobsInForce, type JobInForce } from './fleet-status.js';
import { AuditedWriter } from './audited-writer.js';
import { chunkWrites } from './write-chunks.js';
import type { AccessSync } from './access-sync.js';

export interface Leadership {
  isLeader(): boolean;
  /** The compare every write carries, so a deposed leader's writes fail. */
  guard(): BatchGuard;
}

export interface FleetControllerOptions {
  readonly source: ControllerSource;
  readonly loader: RepoLoader;
  readonly store: EtcdStateStore;
  readonly layout: KeyLayout;
  readonly informer: FleetInformer;
  readonly leadership: Leadership;
  readonly metrics: ControllerMetrics;
  readonly logger: Logger;
  readonly now?: () => number;
  /** The version of every secret in the store, read at each reconcile (none: no secret exists). */
  readonly secretVersions?: () => Promise<ReadonlyMap<string, SecretVersion>>;
  /**
   * Signed-commit policy: why a commit must not be applied (unsigned, unknown signer), or undefined when
   * it may. `requiredBy` is the commit in force when that one sets spec.requireSignedCommits: the policy
   * in force governs the next commit, so a commit cannot turn it off for itself.
   */
  readonly refuseCommit?: (sha: string, requiredBy: string | undefined) => Promise<string | undefined>;
  /** etcd's users and roles follow the commit in force (given the root credential). */
  readonly access?: AccessSync;
}

interface LoadedCommit {
  readonly commit: CommitRef;
  readonly model: Model;
  readonly index: FleetIndex;
  readonly snapshot: RepoSnapshot;
}

export interface ReconcileReport {
  readonly commit?: string;
  readonly result: SyncResult | 'Standby';
  readonly writes: number;
  readonly wakeAtMs?: number;
}

const FETCH_REASONS = new Set(['start', 'poll', 'webhook']);
/** The trigger of a change under the secrets' versions/: a commit waiting for a secret may go now. */
export const SECRETS_REASON = 'secrets';
const NO_SECRETS: ReadonlyMap<string, SecretVersion> = new Map();

const referenced = new WeakMap<LoadedCommit, Map<string, RepoFile>>();

/**
 * sha256 → the repo file of every artifact and dependency the commit's jobs take from the repo,
 * built once per commit: agents ask for the same few digests thousands of times.
 */
function referencedFiles(commit: LoadedCommit): Map<string, RepoFile> {
  let files = referenced.get(commit);
  if (!files) {
    const byPath = new Map(commit.snapshot.files.map((file) => [file.path, file]));
    files = new Map();
    const add = (sha256: string, path: string | undefined) => {
      const file = path === undefined ? undefined : byPath.get(path);
      if (file) files!.set(sha256, file);
    };
    for (const job of commit.model.jobs.values()) {
      add(job.spec.artifact.sha256, job.spec.artifact.path);
      for (const dependency of job.spec.dependencies) add(dependency.sha256, dependency.source);
    }
    referenced.set(commit, files);
  }
  return files;
}

function commitRef(info: CommitInfo): CommitRef {
  return { sha: info.sha, author: info.author, email: info.email, message: info.message, timestamp: info.timestamp };
}

export class FleetController {
  private head: BranchHead | undefined;
  private lastGood: LoadedCommit | undefined;
  private rejected: CommitRejection | undefined;
  private lastJobs: ReadonlyMap<string, JobSummary> = new Map();
  /** A force-push is seen by one fetch only: keep its note until an audit record carries it, even if that write fails. */
  private forcePushNote: string | undefined;
  /** The partition last logged, so the warning comes once per change, not once per reconcile. */
  private partitionNote: string | undefined;
  private readonly now: () => number;
  private readonly writer: AuditedWriter;
  /** Read at the start of each reconcile: a reconcile that cannot read them does not run. */
  private secretVersions = NO_SECRETS;

  constructor(private readonly options: FleetControllerOptions) {
    this.now = options.now ?? Date.now;
    this.writer = new AuditedWriter(options);
    // Only the leader speaks for the fleet: a standby's figures would be stale duplicates.
    options.metrics.observeJobs(() => (options.leadership.isLeader() ? this.lastJobs : new Map()));
  }

  jobs(): ReadonlyMap<string, JobSummary> {
    return this.lastJobs;
  }

  /** The jobs of the commit in force, as its last reconcile counted them: status lists even those with nothing assigned. */
  jobsInForce(): ReadonlyMap<string, JobInForce> {
    return jobsInForce(this.lastGood?.model, this.lastJobs);
  }


  /** The commit in force and its model, for the console; undefined until one loaded (or on a standby). */
  inForce(): { readonly commit: CommitRef; readonly model: Model; readonly index: FleetIndex } | undefined {
    const inForce = this.lastGood;
    return inForce && { commit: inForce.commit, model: inForce.model, index: inForce.index };
  }

  /** A file of the commit in force that a job names as artifact or dependency, by its sha256. */
  async content(sha256: string): Promise<Uint8Array | undefined> {
    const inForce = this.lastGood;
    if (!inForce) return undefined;
    const file = referencedFiles(inForce).get(sha256);
    return file ? inForce.snapshot.readBytes(file) : undefined;
  }

  /**
   * Why the newest commit cannot be loaded (something threw while loading or planning it), while
   * that lasts; undefined when it loaded, even if it was then rejected for its findings.
   */
  loadFailure(): string | undefined {
    const rejected = this.rejected;
    return rejected?.loadFailure && `commit ${rejected.commit.sha.slice(0, 12)}: ${rejected.loadFailure}`;
  }

  async reconcile(reasons: readonly string[]): Promise<ReconcileReport> {
    const { leadership, metrics, logger } = this.options;
    if (!leadership.isLeader()) return { result: 'Standby', writes: 0 };
    const started = this.now();
    this.secretVersions = (await this.options.secretVersions?.()) ?? NO_SECRETS;
    const fetching = !this.head || reasons.some((reason) => FETCH_REASONS.has(reason));
    if (fetching) {
      const head = await this.fetchHead();
      if (head?.forced) this.forcePushNote = `force-push: ${this.options.source.branch} moved from ${head.previous?.slice(0, 12)} to ${head.sha.slice(0, 12)}, which does not descend from it`;
      if (head) this.head = head;
    }
    await this.restoreLastGood();
    const target = await this.loadHead(fetching, reasons.includes(SECRETS_REASON));
    const observed = this.options.informer.observed();
    let output: ReconcileOutput | undefined;
    let inForce = this.lastGood;
    const candidate = target && this.planCommit(target, observed);
    if (candidate?.pruneRefused) {
      const { removing, total, maxPercent } = candidate.pruneRefused;
      this.reject(rejection(target!.commit, [`the commit would remove ${removing} of ${total} instances (${((removing / total) * 100).toFixed(0)}% > pruneGuard.maxDeletePercent ${maxPercent}%); put ${PRUNE_OVERRIDE_TOKEN} in the commit message to allow it`]));
    } else if (candidate) {
      output = candidate;
      inForce = target;
      this.rejected = undefined;
    }
    if (!output && inForce) output = this.reconcileCommit(inForce, observed);
    await this.auditRejection(reasons);
    if (!output || !inForce) {
      metrics.countReconcile('rejected', (this.now() - started) / 1000);
      await this.writeCurrent(undefined, 'Rejected');
      return { result: 'Rejected', writes: 0 };
    }
    this.lastGood = inForce;
    this.lastJobs = output.jobs;
    this.notePartition(output.partition);
    // A rollout that failed (and is held) is a failure to sync, not progress.
    const failedRollout = output.rolloutFailures.length > 0 || [...observed.rollouts.values()].some((rollout) => rollout.state === 'Failed');
    const result: SyncResult = failedRollout ? 'Failed' : [...output.jobs.values()].some((job) => job.rolling || job.health !== 'Healthy') ? 'Progressing' : 'Synced';
    // Before the writes: a host this commit adds can read its assignments as soon as they exist.
    const accessNote = await this.options.access?.sync({ sha: inForce.commit.sha, model: inForce.model, index: inForce.index, allowMassRevocation: inForce.commit.message.includes(PRUNE_OVERRIDE_TOKEN) }, observed);
    const failed = await this.writer.writeRolloutFailures(output.rolloutFailures, inForce.commit, reasons.join(','), this.now());
    const note = [this.forcePushNote, accessNote].filter((part) => part !== undefined).join('; ');
    const writes = failed + (await this.write(output, inForce.commit, reasons, result, note || undefined));
    this.forcePushNote = undefined;
    await this.writeCurrent(inForce.commit, this.rejected ? 'Rejected' : result);
    metrics.rolloutsInProgress.set([...output.jobs.values()].filter((job) => job.rolling).length);
    metrics.countReconcile(writes > 0 ? 'applied' : 'unchanged', (this.now() - started) / 1000);
    logger.info({ event: 'reconciled', commit: inForce.commit.sha, reasons, writes, result, rejected: this.rejected?.commit.sha }, 'reconciled');
    return { commit: inForce.commit.sha, result, writes, ...(output.wakeAtMs !== undefined ? { wakeAtMs: output.wakeAtMs } : {}) };
  }

  private notePartition(partition: readonly LostIdc[] | undefined): void {
    const { metrics, logger } = this.options;
    metrics.rescheduleHeldIdcs.set(partition?.length ?? 0);
    const note = partition && describePartition(partition);
    if (note === this.partitionNote) return;
    if (note) logger.warn({ event: 'reschedule_held', idcs: partition }, note);
    else logger.info({ event: 'reschedule_resumed' }, 'no idc looks partitioned any more: rescheduling resumes');
    this.partitionNote = note;
  }

  /** Fail static: a fetch that fails leaves the last fetched head in force. */
  private async fetchHead(): Promise<BranchHead | undefined> {
    try {
      return await this.options.source.fetchHead();
    } catch (error) {
      this.options.logger.warn({ event: 'fetch_failed', source: this.options.source.label, error: (error as Error).message }, 'fetch failed; keeping the last fetched head');
      if (!this.head) throw error;
      return undefined;
    }
  }

  /** After a restart, the commit in force is the one sync/current names. */
  private async restoreLastGood(): Promise<void> {
    if (this.lastGood) return;
    const sha = this.options.informer.current()?.commit.sha;
    if (!sha || sha === this.head?.sha) return;
    const loaded = await this.load(sha);
    if ('model' in loaded) this.lastGood = loaded;
  }

  /** A rejected head is not loaded again, except one whose load failed, at the next fetch. */
  private async loadHead(fetching: boolean, secretsChanged: boolean): Promise<LoadedCommit | undefined> {
    if (!this.head) return undefined;
    if (this.lastGood?.commit.sha === this.head.sha) return this.lastGood;
    const retry = (this.rejected?.loadFailure && fetching) || (this.rejected?.awaitsSecrets && (fetching || secretsChanged));
    if (this.rejected?.commit.sha === this.head.sha && !retry) return undefined;
    const loaded = await this.load(this.head.sha);
    if ('model' in loaded) return loaded;
    this.reject(loaded);
    return undefined;
  }

  /** Never throws: whatever goes wrong reading or checking the commit rejects it. */
  private async load(sha: string): Promise<LoadedCommit | CommitRejection> {
    let commit = unreadCommit(sha);
    try {
      const snapshot = await this.options.source.snapshotOf(sha);
      if (snapshot.commit) commit = commitRef(snapshot.commit);
      const inForce = this.lastGood;
      const refused = await this.options.refuseCommit?.(sha, inForce?.model.config.requireSignedCommits ? inForce.commit.sha : undefined);
      if (refused !== undefined) return rejection(commit, [refused]);
      const result = await this.options.loader.load(snapshot);
      if (result.model && result.index) return { commit, model: result.model, index: result.index, snapshot };
      return rejection(commit, result.findings.filter((finding) => finding.severity === 'error').map(formatFinding));
    } catch (error) {
      return loadFailure(commit, error);
    }
  }

  /** The plan of a new commit; a throw rejects the commit (the last good one is planned instead). */
  private planCommit(target: LoadedCommit, observed: ReturnType<FleetInformer['observed']>): ReconcileOutput | undefined {
    // Rejected rather than held: nothing of the commit could be half-applied, and sync/current says
    // which secret to set. The commit in force is never rejected: its missing secrets are held.
    const missing = target === this.lastGood ? [] : resolveSecrets(target.model, this.secretVersions, observed).missing;
    if (missing.length > 0) {
      this.reject({ ...rejection(target.commit, describeMissingSecrets(missing)), awaitsSecrets: true });
      return undefined;
    }
    try {
      return this.reconcileCommit(target, observed);
    } catch (error) {
      if (target === this.lastGood) throw error; // nothing to fall back to: the loop retries
      this.reject(loadFailure(target.commit, error));
      return undefined;
    }
  }

  /** The same verdict on the same commit is logged, counted and audited once. */
  private reject(next: CommitRejection): void {
    const { metrics, logger } = this.options;
    const previous = this.rejected;
    if (previous?.commit.sha === next.commit.sha && previous.loadFailure === next.loadFailure) return;
    this.rejected = next;
    metrics.rejectedCommitsTotal.inc();
    if (next.cause !== undefined) {
      const stack = next.cause instanceof Error ? next.cause.stack : undefined;
      logger.error({ event: 'commit_load_failed', commit: next.commit.sha, error: next.loadFailure, stack }, `commit ${next.commit.sha.slice(0, 12)} could not be loaded`);
    }
    logger.warn({ event: 'commit_rejected', commit: next.commit.sha, errors: next.errors.slice(0, 20) }, `commit ${next.commit.sha.slice(0, 12)} rejected`);
  }

  /** One audit record per rejection; written again by the next reconcile if this write fails. */
  private async auditRejection(reasons: readonly string[]): Promise<void> {
    const { store, layout, leadership } = this.options;
    const rejected = this.rejected;
    if (!rejected || rejected.audited) return;
    const audit = rejectionAudit(rejected, new Date(this.now()), reasons.join(','));
    await store.applyBatch([{ put: layout.syncHistory(new Date(audit.time), rejected.commit.sha), value: audit }], leadership.guard());
    rejected.audited = true;
  }

  private reconcileCommit(target: LoadedCommit, observed: ReturnType<FleetInformer['observed']>): ReconcileOutput {
    const output = reconcileFleet({
      model: resolveSecrets(target.model, this.secretVersions, observed).model,
      index: target.index,
      commit: target.commit,
      observed,
      layout: this.options.layout,
      nowMs: this.now(),
      allowPrune: target.commit.message.includes(PRUNE_OVERRIDE_TOKEN),
    });
    if (output.pruneRefused) return output;
    const hosts = syncHosts(target.model, target.commit.sha, observed.hosts ?? new Map(), this.options.layout);
    const zones = syncZones(target.model, target.commit.sha, observed.zones ?? new Map(), this.options.layout);
    const registry = [...hosts.opActions, ...zones.opActions];
    if (registry.length === 0) return output;
    return { ...output, ops: [...output.ops, ...hosts.ops, ...zones.ops], opActions: [...output.opActions, ...registry], actions: [...output.actions, ...registry.flat()] };
  }

  private async write(output: ReconcileOutput, commit: CommitRef, reasons: readonly string[], outcome: SyncResult, note: string | undefined): Promise<number> {
    const context = { layout: this.options.layout, commit, trigger: reasons.join(','), outcome, nowMs: this.now(), ...(note ? { note } : {}) };
    const chunks = chunkWrites(output.ops, output.opActions, context);
    // A force-push is audited even when the new head changes nothing.
    if (chunks.length === 0 && note) chunks.push({ ops: [], after: [], audit: { commit, time: new Date(context.nowMs).toISOString(), trigger: context.trigger, actions: [], outcome, note } });
    return this.writer.write(chunks);
  }

  /** sync/current changes only when the commit in force, the result or the rejection changes. */
  private async writeCurrent(commit: CommitRef | undefined, result: SyncResult): Promise<void> {
    const { store, layout, informer, leadership } = this.options;
    const inForce = commit ?? informer.current()?.commit;
    if (!inForce) return;
    const next: SyncCurrentRecord = {
      commit: inForce,
      result,
      time: new Date(this.now()).toISOString(),
      ...(this.rejected ? { rejected: { commit: this.rejected.commit, errors: this.rejected.errors } } : {}),
    };
    const previous = informer.current();
    if (previous && canonicalJson({ ...previous, time: '' }) === canonicalJson({ ...next, time: '' })) return;
    const op = { put: layout.syncCurrent, value: next };
    await informer.write([op], (ops) => store.applyBatch(ops, leadership.guard()));
  }
}
