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
  /** The audit actions each op carries out (same order as ops), so each transaction audits itself. */
  readonly opActions: readonly (readonly AuditAction[])[];
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

  const writes = new Writes();
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
    for (const change of step.changes) applyChange(change, jobName, layout, writes);
    if (job?.spec.replicas !== undefined) for (const move of reschedules(jobName, step.changes, unavailable)) writes.note(move);
    if (step.failedRollout) {
      writes.add({ put: layout.rollout(jobName), value: step.failedRollout satisfies RolloutRecord }, { type: 'rollout-failed', job: jobName, reason: step.failedRollout.reason });
    } else if (failed && failed.failedSpecHash !== jobSpecHash) {
      writes.add({ delete: layout.rollout(jobName) }); // a new spec gets a fresh attempt
    }
    if (step.wakeAtMs !== undefined) wakeAtMs = Math.min(wakeAtMs ?? Infinity, step.wakeAtMs);
    if (job) jobs.set(jobName, { health: step.health, desired: step.desired, healthy: step.healthy, version: job.spec.version, rolling: step.rolling });
  }
  syncVips(model, input.commit.sha, observed, layout, writes);

  const removing = currentTotal - desiredTotal;
  const maxPercent = model.config.pruneGuard.maxDeletePercent;
  if (!input.allowPrune && currentTotal > 0 && removing > 0 && (removing / currentTotal) * 100 > maxPercent) {
    return { ops: [], actions: [], opActions: [], jobs, placement, pruneRefused: { removing, total: currentTotal, maxPercent } };
  }
  return { ops: writes.ops, actions: writes.opActions.flat(), opActions: writes.opActions, jobs, placement, ...(wakeAtMs !== undefined ? { wakeAtMs } : {}) };
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

function collectStatuses(observed: ObservedState, job: string, hosts: readonly string[]): Map<string, StatusRecord> {
  const statuses = new Map<string, StatusRecord>();
  for (const host of hosts) {
    const status = observed.statuses.get(host)?.get(job);
    if (status) statuses.set(host, status);
  }
  return statuses;
}

function applyChange(change: InstanceChange, job: string, layout: KeyLayout, writes: Writes): void {
  const key = layout.assignment(change.host, job);
  if (change.kind === 'remove') {
    writes.add({ delete: key }, { type: 'remove', job, host: change.host, specHash: change.specHash });
    return;
  }
  const from = change.kind === 'update' ? change.record.previous?.specHash : undefined;
  writes.add({ put: key, value: change.record }, { type: change.kind, job, host: change.host, specHash: change.record.specHash, ...(from ? { from } : {}) });
}

/** A replica leaving a lost host for another one is one move, recorded as such. */
function reschedules(job: string, changes: readonly InstanceChange[], unavailable: ReadonlySet<string>): AuditAction[] {
  const from = changes.filter((change) => change.kind === 'remove' && unavailable.has(change.host)).map((change) => change.host);
  const to = changes.filter((change) => change.kind === 'assign').map((change) => change.host);
  return from.flatMap((host, index) => (to[index] ? [{ type: 'reschedule' as const, job, from: host, to: to[index]! }] : []));
}

function syncVips(model: Model, commit: string, observed: ObservedState, layout: KeyLayout, writes: Writes): void {
  for (const service of model.services.values()) {
    if (!service.vip) continue;
    const record: VipRecord = { service: service.name, job: service.job, port: service.port, vip: service.vip, directors: service.directors, commit };
    const existing = observed.vips.get(service.name);
    if (existing && canonicalJson({ ...existing, commit }) === canonicalJson(record)) continue;
    writes.add({ put: layout.vip(service.name), value: record }, { type: 'vip.put', service: service.name });
  }
  for (const service of observed.vips.keys()) {
    if (model.services.get(service)?.vip) continue;
    writes.add({ delete: layout.vip(service) }, { type: 'vip.delete', service });
  }
}
