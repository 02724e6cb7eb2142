// The controller's pure step: desired model + observed etcd state → the etcd writes that move the
// fleet one step towards the commit, the audit actions they mean, and per-job health. Level-
// triggered: run it again on the same input after its writes landed and it writes nothing.
import type { FleetIndex } from '../model/fleet-index.js';
import type { Model } from '../model/types.js';
import { canonicalJson } from '../plan/canonical-json.js';
import { placeInstances, type Placement } from '../plan/place-instances.js';
import type { KeyLayout } from '../store/keys.js';
import type { CommitRef, RolloutRecord, StatusRecord, VipRecord } from '../store/records.js';
import { assignmentsByJob, type ObservedAssignment, type ObservedState } from './observed-state.js';
import { rollJob, type InstanceChange, type JobHealth } from './roll-job.js';
import { hashInstanceSpec, hashJobSpec, type HashedSpec } from './spec-hash.js';

export type StoreOp = { readonly put: string; readonly value: unknown } | { readonly delete: string };

export type AuditAction =
  | { readonly type: 'assign' | 'update' | 'restore' | 'revert'; readonly job: string; readonly host: string; readonly specHash: string; readonly from?: string }
  | { readonly type: 'remove'; readonly job: string; readonly host: string; readonly specHash: string }
  | { readonly type: 'reschedule'; readonly job: string; readonly from: string; readonly to: string }
  | { readonly type: 'rollout-failed'; readonly job: string; readonly reason: string }
  | { readonly type: 'vip.put' | 'vip.delete'; readonly service: string };

export interface JobSummary {
  readonly health: JobHealth;
  readonly desired: number;
  readonly healthy: number;
  readonly version: string | undefined;
  readonly rolling: boolean;
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

export interface ReconcileOutput {
  readonly ops: readonly StoreOp[];
  readonly actions: readonly AuditAction[];
  readonly jobs: ReadonlyMap<string, JobSummary>;
  readonly placement: Placement;
  /** Set when the commit would remove too many instances: nothing is written. */
  readonly pruneRefused?: { readonly removing: number; readonly total: number; readonly maxPercent: number };
  readonly wakeAtMs?: number;
}

/** Put this token in a commit message to let it remove more instances than the prune guard allows. */
export const PRUNE_OVERRIDE_TOKEN = '[ygg:allow-prune]';

export function reconcileFleet(input: ReconcileInput): ReconcileOutput {
  const { model, observed, layout, nowMs } = input;
  const current = assignmentsByJob(observed);
  const previous = new Map([...current].map(([job, hosts]) => [job, [...hosts.keys()].sort()]));
  const rescheduleAfterMs = model.config.rescheduleAfterSeconds * 1000;
  const unavailable = new Set([...observed.lostSince].filter(([, since]) => nowMs - since >= rescheduleAfterMs).map(([host]) => host));
  const placement = placeInstances(model, input.index, previous, unavailable);

  const ops: StoreOp[] = [];
  const actions: AuditAction[] = [];
  const jobs = new Map<string, JobSummary>();
  let wakeAtMs: number | undefined;
  let currentTotal = 0;
  let desiredTotal = 0;
  const jobNames = new Set([...model.jobs.keys(), ...current.keys()]);
  for (const jobName of [...jobNames].sort()) {
    const job = model.jobs.get(jobName);
    const currentHosts = current.get(jobName) ?? new Map<string, ObservedAssignment>();
    const desired = new Map<string, HashedSpec>();
    for (const hostName of job ? (placement.get(jobName) ?? []) : []) desired.set(hostName, hashInstanceSpec(job!, model.hosts.get(hostName)!));
    currentTotal += currentHosts.size;
    desiredTotal += desired.size;
    const failed = observed.rollouts.get(jobName);
    const jobSpecHash = job ? hashJobSpec(job) : '';
    const step = rollJob({
      job: jobName,
      tag: job?.tag ?? '',
      policy: job?.spec.rollout,
      hasHealthCheck: job?.spec.health !== undefined,
      desired,
      current: currentHosts,
      statuses: collectStatuses(observed, jobName, [...desired.keys()]),
      failed,
      jobSpecHash,
      commit: input.commit.sha,
      nowMs,
    });
    for (const change of step.changes) applyChange(change, jobName, layout, ops, actions);
    if (job?.spec.replicas !== undefined) actions.push(...reschedules(jobName, step.changes, unavailable));
    if (step.failedRollout) {
      ops.push({ put: layout.rollout(jobName), value: step.failedRollout satisfies RolloutRecord });
      actions.push({ type: 'rollout-failed', job: jobName, reason: step.failedRollout.reason });
    } else if (failed && failed.failedSpecHash !== jobSpecHash) {
      ops.push({ delete: layout.rollout(jobName) }); // a new spec gets a fresh attempt
    }
    if (step.wakeAtMs !== undefined) wakeAtMs = Math.min(wakeAtMs ?? Infinity, step.wakeAtMs);
    if (job) jobs.set(jobName, { health: step.health, desired: step.desired, healthy: step.healthy, version: job.spec.version, rolling: step.rolling });
  }
  syncVips(model, input.commit.sha, observed, layout, ops, actions);

  const removing = currentTotal - desiredTotal;
  const maxPercent = model.config.pruneGuard.maxDeletePercent;
  if (!input.allowPrune && currentTotal > 0 && removing > 0 && (removing / currentTotal) * 100 > maxPercent) {
    return { ops: [], actions: [], jobs, placement, pruneRefused: { removing, total: currentTotal, maxPercent } };
  }
  return { ops, actions, jobs, placement, ...(wakeAtMs !== undefined ? { wakeAtMs } : {}) };
}

function collectStatuses(observed: ObservedState, job: string, hosts: readonly string[]): Map<string, StatusRecord> {
  const statuses = new Map<string, StatusRecord>();
  for (const host of hosts) {
    const status = observed.statuses.get(host)?.get(job);
    if (status) statuses.set(host, status);
  }
  return statuses;
}

function applyChange(change: InstanceChange, job: string, layout: KeyLayout, ops: StoreOp[], actions: AuditAction[]): void {
  const key = layout.assignment(change.host, job);
  if (change.kind === 'remove') {
    ops.push({ delete: key });
    actions.push({ type: 'remove', job, host: change.host, specHash: change.specHash });
    return;
  }
  ops.push({ put: key, value: change.record });
  const from = change.kind === 'update' ? change.record.previous?.specHash : undefined;
  actions.push({ type: change.kind, job, host: change.host, specHash: change.record.specHash, ...(from ? { from } : {}) });
}

/** A replica leaving a lost host for another one is one move, recorded as such. */
function reschedules(job: string, changes: readonly InstanceChange[], unavailable: ReadonlySet<string>): AuditAction[] {
  const from = changes.filter((change) => change.kind === 'remove' && unavailable.has(change.host)).map((change) => change.host);
  const to = changes.filter((change) => change.kind === 'assign').map((change) => change.host);
  return from.flatMap((host, index) => (to[index] ? [{ type: 'reschedule' as const, job, from: host, to: to[index]! }] : []));
}

function syncVips(model: Model, commit: string, observed: ObservedState, layout: KeyLayout, ops: StoreOp[], actions: AuditAction[]): void {
  for (const service of model.services.values()) {
    if (!service.vip) continue;
    const record: VipRecord = { service: service.name, job: service.job, port: service.port, vip: service.vip, directors: service.directors, commit };
    const existing = observed.vips.get(service.name);
    if (existing && canonicalJson({ ...existing, commit }) === canonicalJson(record)) continue;
    ops.push({ put: layout.vip(service.name), value: record });
    actions.push({ type: 'vip.put', service: service.name });
  }
  for (const service of observed.vips.keys()) {
    if (model.services.get(service)?.vip) continue;
    ops.push({ delete: layout.vip(service) });
    actions.push({ type: 'vip.delete', service });
  }
}
