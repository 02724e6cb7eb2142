// The controller's pure step: desired model + observed etcd state → the etcd writes that move the
// fleet one step towards the commit, the audit actions they mean, and per-job health. Level-
// triggered: run it again on the same input after its writes landed and it writes nothing.
import type { FleetIndex } from '../model/fleet-index.js';
import type { Host, Job, Model, Service } from '../model/types.js';
import { canonicalJson } from '../plan/canonical-json.js';
import { placeInstances, type Placement } from '../plan/place-instances.js';
import type { KeyLayout } from '../store/keys.js';
import type { CommitRef, RolloutRecord, StatusRecord, VipRecord } from '../store/records.js';
import { assignmentsByJob, removalsByJob, statusesByJob, type ObservedAssignment, type ObservedState } from './observed-state.js';
import { removalRecord, settleRemovals } from './removal-records.js';
import { rescheduleLostHosts, type LostIdc } from './reschedule-lost-hosts.js';
import { rollJob, type InstanceChange, type JobHealth } from './roll-job.js';
import { hashInstanceSpec, hashJobSpec, type HashedSpec } from './spec-hash.js';

export type StoreOp = { readonly put: string; readonly value: unknown } | { readonly delete: string };

export type AuditAction =
  | { readonly type: 'assign' | 'update' | 'restore' | 'revert' | 'refresh'; readonly job: string; readonly host: string; readonly specHash: string; readonly from?: string }
  | { readonly type: 'remove'; readonly job: string; readonly host: string; readonly specHash: string; readonly orphan?: true }
  | { readonly type: 'removal.settled'; readonly job: string; readonly host: string }
  | { readonly type: 'reschedule'; readonly job: string; readonly from: string; readonly to: string }
  | { readonly type: 'host.lost' | 'host.back' | 'host.cleared'; readonly host: string }
  | { readonly type: 'host.reschedule'; readonly host: string; readonly lostSince: string }
  | {
      readonly type: 'rollout-failed';
      readonly job: string;
      readonly reason: string;
      readonly batch?: number;
      readonly hosts?: readonly string[];
      readonly reverted?: readonly string[];
      readonly revertedTo?: string;
    }
  | { readonly type: 'vip.put' | 'vip.delete'; readonly service: string }
  | { readonly type: 'host.put' | 'host.delete'; readonly host: string }
  | { readonly type: 'zone.put' | 'zone.delete'; readonly zone: string };

export interface JobSummary {
  /** The job's service-tree tag (metrics are labelled by its levels). */
  readonly tag: string;
  readonly health: JobHealth;
  readonly desired: number;
  readonly healthy: number;
  readonly version: string | undefined;
  readonly rolling: boolean;
  /** Instances that do not run the commit's spec yet: missing, on another spec, or still to be removed. */
  readonly outOfSync: number;
}

export interface ReconcileInput {
  readonly model: Model;
  readonly index: FleetIndex;
  readonly commit: CommitRef;
  readonly observed: ObservedState;
  readonly layout: KeyLayout;
  readonly nowMs: number;
  /** The commit message carries the prune override token. */
  readonly allowPrune: boolean;
}

/**
 * The writes of a rollout that just failed (its reverts, then its Failed record): audited under the
 * commit whose rollout failed, not the one in force, which may be a later commit about other jobs.
 */
export interface RolloutFailureWrites {
  /** The Failed record: its commit is the one the writes are audited under. */
  readonly rollout: RolloutRecord;
  readonly ops: readonly StoreOp[];
  readonly opActions: readonly (readonly AuditAction[])[];
}

export interface ReconcileOutput {
  /** The writes audited under the commit in force (rolloutFailures apart). */
  readonly ops: readonly StoreOp[];
  readonly actions: readonly AuditAction[];
  /** The audit actions each op carries out (same order as ops), so each transaction audits itself. */
  readonly opActions: readonly (readonly AuditAction[])[];
  readonly rolloutFailures: readonly RolloutFailureWrites[];
  readonly jobs: ReadonlyMap<string, JobSummary>;
  readonly placement: Placement;
  /** Set when the commit would remove too many instances: nothing is written. */
  readonly pruneRefused?: { readonly removing: number; readonly total: number; readonly maxPercent: number };
  /** Set while so many hosts of an idc are lost that nothing is moved (a partition, not host failures). */
  readonly partition?: readonly LostIdc[];
  readonly wakeAtMs?: number;
}

/** Put this token in a commit message to let it remove more instances than the prune guard allows. */
export const PRUNE_OVERRIDE_TOKEN = '[ygg:allow-prune]';

export function reconcileFleet(input: ReconcileInput): ReconcileOutput {
  const { model, observed, layout, nowMs } = input;
  const current = assignmentsByJob(observed);
  const statuses = statusesByJob(observed);
  const removals = removalsByJob(observed);
  // Only replicas jobs look at where they ran before: build those lists on demand. Where an agent
  // still reports the job and no removal is under way counts too: after an etcd wipe or a hand delete
  // the replicas stay where they run instead of being placed afresh (and moved).
  const previous = {
    get: (job: string) => {
      const reporting = [...(statuses.get(job)?.keys() ?? [])].filter((host) => !removals.get(job)?.has(host));
      const hosts = new Set([...(current.get(job)?.keys() ?? []), ...reporting]);
      return hosts.size > 0 ? [...hosts].sort() : undefined;
    },
  };
  const lostHosts = rescheduleLostHosts({ model, observed, layout, nowMs });
  const placement = placeInstances(model, input.index, previous, lostHosts);

  const writes = new Writes();
  const rolloutFailures: RolloutFailureWrites[] = [];
  // lost/ records first: a host's move is never in etcd without the rate limit counting it.
  for (const { op, action } of lostHosts.writes) writes.add(op, action);
  const jobs = new Map<string, JobSummary>();
  let wakeAtMs = lostHosts.wakeAtMs;
  let currentTotal = 0;
  let desiredTotal = 0;
  // A job with a rollouts/ record but neither in the model nor assigned anywhere still gets a step (that deletes it).
  // So does a job an agent still reports, or one with removal records left to settle.
  const jobNames = new Set([...model.jobs.keys(), ...current.keys(), ...observed.rollouts.keys(), ...statuses.keys(), ...removals.keys()]);
  for (const jobName of [...jobNames].sort()) {
    const job = model.jobs.get(jobName);
    const currentHosts = current.get(jobName) ?? new Map<string, ObservedAssignment>();
    const hostNames = job ? (placement.get(jobName) ?? []) : [];
    const settled = job && settledJob(job, hostNames, model, observed.jobVersions?.get(jobName), lostHosts.lost);
    if (settled) {
      currentTotal += currentHosts.size;
      desiredTotal += hostNames.length;
      jobs.set(jobName, settled);
      continue;
    }
    const desired = new Map<string, HashedSpec>();
    for (const hostName of hostNames) desired.set(hostName, hashInstanceSpec(job!, model.hosts.get(hostName)!));
    currentTotal += currentHosts.size;
    desiredTotal += desired.size;
    const rollout = observed.rollouts.get(jobName);
    const jobSpecHash = job ? hashJobSpec(job) : '';
    const step = rollJob({
      job: jobName,
      tag: job?.tag ?? '',
      policy: job?.spec.rollout,
      hasHealthCheck: job?.spec.health !== undefined,
      desired,
      current: currentHosts,
      statuses: statuses.get(jobName),
      lost: lostHosts.lost,
      rollout,
      jobSpecHash,
      services: servicesOf(model).get(jobName) ?? [],
      commit: input.commit.sha,
      nowMs,
    });
    // A rollout's InProgress record goes before its first batch and a Failed one after the reverts:
    // if the writes are cut between two transactions, the next step neither starts a second batch
    // beside an unrecorded one nor holds a spec whose batch was never reverted.
    // Each later batch rewrites the record the same way, naming the batch and its deadline.
    const batchStarting = step.rollout?.state === 'InProgress';
    if (batchStarting) writes.add({ put: layout.rollout(jobName), value: step.rollout satisfies RolloutRecord });
    const failure = step.rollout?.state === 'Failed' ? new Writes() : undefined;
    for (const change of step.changes) applyChange(change, jobName, input, change.kind === 'revert' && failure ? failure : writes);
    for (const write of settleRemovals({ job: jobName, desiredHosts: new Set(desired.keys()), current: currentHosts, statuses: statuses.get(jobName), removals: removals.get(jobName), commit: input.commit.sha, nowMs, layout })) {
      if ('put' in write.op) writes.add(write.op, { type: 'remove', job: jobName, host: write.host, specHash: 'specHash' in write ? write.specHash : '', orphan: true });
      else writes.add(write.op, { type: 'removal.settled', job: jobName, host: write.host });
    }
    if (job?.spec.replicas !== undefined) for (const move of reschedules(jobName, step.changes, lostHosts.evacuate)) writes.note(move);
    if (failure && step.rollout) {
      failure.add({ put: layout.rollout(jobName), value: step.rollout satisfies RolloutRecord }, rolloutFailed(step.rollout));
      rolloutFailures.push({ rollout: step.rollout, ops: failure.ops, opActions: failure.opActions });
    } else if (step.rollout === null) {
      writes.add({ delete: layout.rollout(jobName) });
    }
    if (step.wakeAtMs !== undefined) wakeAtMs = Math.min(wakeAtMs ?? Infinity, step.wakeAtMs);
    if (job) {
      const outOfSync = outOfSyncInstances(desired, currentHosts, statuses.get(jobName));
      const summary = { tag: job.tag, health: step.health, desired: step.desired, healthy: step.healthy, version: job.spec.version, rolling: step.rolling, outOfSync };
      jobs.set(jobName, summary);
      const version = observed.jobVersions?.get(jobName);
      const quiet = step.changes.length === 0 && step.rollout === undefined && step.wakeAtMs === undefined && !step.rolling;
      if (quiet && version !== undefined) settledJobs.set(job, { version, hosts: hostNames.map((name) => model.hosts.get(name)!), lost: lostAmong(hostNames, lostHosts.lost), summary });
    }
  }
  syncVips(model, input.commit.sha, observed, layout, writes);

  const removing = currentTotal - desiredTotal;
  const maxPercent = model.config.pruneGuard.maxDeletePercent;
  if (!input.allowPrune && currentTotal > 0 && removing > 0 && (removing / currentTotal) * 100 > maxPercent) {
    return { ops: [], actions: [], opActions: [], rolloutFailures: [], jobs, placement, pruneRefused: { removing, total: currentTotal, maxPercent } };
  }
  return {
    ops: writes.ops,
    actions: writes.opActions.flat(),
    opActions: writes.opActions,
    rolloutFailures,
    jobs,
    placement,
    ...(lostHosts.partition ? { partition: lostHosts.partition } : {}),
    ...(wakeAtMs !== undefined ? { wakeAtMs } : {}),
  };
}

/**
 * Jobs whose last step changed nothing, with what that step saw: the same job object on the same
 * host objects, the same of them lost, and the same etcd version of the job, give the same (empty)
 * step again. Most of a large fleet is settled, so a reconcile only works on the jobs something
 * happened to.
 */
const settledJobs = new WeakMap<Job, { version: number; hosts: readonly Host[]; lost: readonly string[]; summary: JobSummary }>();

function settledJob(job: Job, hostNames: readonly string[], model: Model, version: number | undefined, lost: ReadonlySet<string>): JobSummary | undefined {
  const settled = settledJobs.get(job);
  if (!settled || version === undefined || settled.version !== version || settled.hosts.length !== hostNames.length) return undefined;
  for (let index = 0; index < hostNames.length; index++) if (settled.hosts[index] !== model.hosts.get(hostNames[index]!)) return undefined;
  const nowLost = lostAmong(hostNames, lost);
  if (nowLost.length !== settled.lost.length || nowLost.some((name, index) => name !== settled.lost[index])) return undefined;
  return settled.summary;
}

const NOT_LOST: readonly string[] = [];

function lostAmong(hostNames: readonly string[], lost: ReadonlySet<string>): readonly string[] {
  return lost.size === 0 ? NOT_LOST : hostNames.filter((name) => lost.has(name));
}

/** Desired hosts whose agent reports another spec (or none), plus hosts the job must leave. */
function outOfSyncInstances(desired: ReadonlyMap<string, HashedSpec>, current: ReadonlyMap<string, ObservedAssignment>, statuses: ReadonlyMap<string, StatusRecord> | undefined): number {
  let count = 0;
  for (const [host, hashed] of desired) if (statuses?.get(host)?.specHash !== hashed.specHash) count++;
  for (const host of current.keys()) if (!desired.has(host)) count++;
  return count;
}

/** Ops and the audit actions they carry out, kept in step. */
class Writes {
  readonly ops: StoreOp[] = [];
  readonly opActions: AuditAction[][] = [];

  add(op: StoreOp, ...actions: AuditAction[]): void {
    this.ops.push(op);
    this.opActions.push(actions);
  }

  /** An action made of several ops (a reschedule) rides with the last of them. */
  note(action: AuditAction): void {
    this.opActions[this.opActions.length - 1]?.push(action);
  }
}

function applyChange(change: InstanceChange, job: string, input: ReconcileInput, writes: Writes): void {
  const key = input.layout.assignment(change.host, job);
  if (change.kind === 'remove') {
    writes.add({ put: key, value: removalRecord(job, input.commit.sha, input.nowMs) }, { type: 'remove', job, host: change.host, specHash: change.specHash });
    return;
  }
  const from = change.kind === 'update' ? change.record.previous?.specHash : undefined;
  writes.add({ put: key, value: change.record }, { type: change.kind, job, host: change.host, specHash: change.record.specHash, ...(from ? { from } : {}) });
}

function rolloutFailed(rollout: RolloutRecord): AuditAction {
  return {
    type: 'rollout-failed',
    job: rollout.job,
    reason: rollout.reason ?? '',
    ...(rollout.batch !== undefined ? { batch: rollout.batch } : {}),
    hosts: rollout.failedHosts ?? [],
    reverted: rollout.revertedHosts ?? [],
    ...(rollout.revertedTo !== undefined ? { revertedTo: rollout.revertedTo } : {}),
  };
}

/** A replica leaving a lost host for another one is one move, recorded as such. */
function reschedules(job: string, changes: readonly InstanceChange[], evacuate: ReadonlySet<string>): AuditAction[] {
  const from = changes.filter((change) => change.kind === 'remove' && evacuate.has(change.host)).map((change) => change.host);
  const to = changes.filter((change) => change.kind === 'assign').map((change) => change.host);
  return from.flatMap((host, index) => (to[index] ? [{ type: 'reschedule' as const, job, from: host, to: to[index]! }] : []));
}

const servicesByModel = new WeakMap<Model, Map<string, { name: string; port: string }[]>>();

/** job → the Services naming it, sorted by name (once per model). */
function servicesOf(model: Model): Map<string, { name: string; port: string }[]> {
  let byJob = servicesByModel.get(model);
  if (!byJob) {
    byJob = new Map();
    for (const service of [...model.services.values()].sort((a, b) => (a.name < b.name ? -1 : 1))) {
      byJob.set(service.job, [...(byJob.get(service.job) ?? []), { name: service.name, port: service.port }]);
    }
    servicesByModel.set(model, byJob);
  }
  return byJob;
}

/** The etcd record each Service object was last found to match: no need to compare again. */
const matchingVips = new WeakMap<Service, VipRecord>();

function syncVips(model: Model, commit: string, observed: ObservedState, layout: KeyLayout, writes: Writes): void {
  for (const service of model.services.values()) {
    if (!service.vip) continue;
    const existing = observed.vips.get(service.name);
    if (existing && matchingVips.get(service) === existing) continue;
    const record: VipRecord = { service: service.name, job: service.job, port: service.port, vip: service.vip, directors: service.directors, commit };
    if (existing && canonicalJson({ ...existing, commit }) === canonicalJson(record)) {
      matchingVips.set(service, existing);
      continue;
    }
    writes.add({ put: layout.vip(service.name), value: record }, { type: 'vip.put', service: service.name });
  }
  for (const service of observed.vips.keys()) {
    if (model.services.get(service)?.vip) continue;
    writes.add({ delete: layout.vip(service) }, { type: 'vip.delete', service });
  }
}
