// One job's step towards its desired instances: new hosts get the spec at once, removed hosts lose
// it, and changed instances roll in batches of maxParallel, each gated on the previous batch being
// healthy for minHealthySeconds; a batch that misses its deadline fails the rollout and, with
// autoRevert, puts the old spec back. rollouts/<job> names each batch as it starts and, when the
// rollout fails, the late hosts, what they were doing and what was reverted, for people to follow.
// Pure: everything it knows comes in, decisions go out.
import { drainSecondsOf } from '../model/drain-seconds.js';
import type { RolloutPolicy } from '../model/types.js';
import type { AssignmentRecord, RolloutRecord, StatusRecord } from '../store/records.js';
import { isInstanceUp, type ObservedAssignment } from './observed-state.js';
import type { HashedSpec } from './spec-hash.js';
import { canonicalJson } from '../plan/canonical-json.js';
import { batchProgress, countDone, isRolledUpdate, lateReason } from './rollout-progress.js';

export type JobHealth = 'Healthy' | 'Progressing' | 'Degraded' | 'Missing';

export type InstanceChange =
  /** refresh: same specHash, other Services naming the job or another drain: rewritten without a restart. */
  | { readonly kind: 'assign' | 'update' | 'restore' | 'revert' | 'refresh'; readonly host: string; readonly record: AssignmentRecord }
  | { readonly kind: 'remove'; readonly host: string; readonly specHash: string };

export interface JobStep {
  readonly changes: readonly InstanceChange[];
  /** What rollouts/<job> must become: a record to put, null to delete it, undefined to leave it. */
  readonly rollout?: RolloutRecord | null;
  readonly health: JobHealth;
  readonly desired: number;
  readonly healthy: number;
  readonly rolling: boolean;
  /** When something time-based happens next (a batch may become settled or miss its deadline). */
  readonly wakeAtMs?: number;
}

export interface JobInput {
  readonly job: string;
  readonly tag: string;
  readonly policy: RolloutPolicy | undefined;
  readonly hasHealthCheck: boolean;
  /** host → what should run there (absent: the job is gone from the repo). */
  readonly desired: ReadonlyMap<string, HashedSpec>;
  readonly current: ReadonlyMap<string, ObservedAssignment>;
  readonly statuses: ReadonlyMap<string, StatusRecord> | undefined;
  /** Hosts without a live agent: what their statuses say is stale, so none of their instances is up. */
  readonly lost: ReadonlySet<string>;
  /** rollouts/<job>: the rollout in progress, or the one that failed. */
  readonly rollout: RolloutRecord | undefined;
  /** The host-independent hash of the job's desired spec (what a rollout is tracked by). */
  readonly jobSpecHash: string;
  /** The Services naming the job, sorted: written into its assignments for the agents. */
  readonly services: readonly { readonly name: string; readonly port: string }[];
  readonly commit: string;
  readonly nowMs: number;
}

const BROKEN_STATES = new Set(['CrashLoop', 'Failed', 'Unhealthy']);

/** What makes one version of an instance: the record's `previous` keeps exactly this. */
type SpecVersion = NonNullable<AssignmentRecord['previous']>;

function versionOf(record: AssignmentRecord): SpecVersion {
  return { tag: record.tag, host: record.host, spec: record.spec, specHash: record.specHash, commit: record.commit };
}

/** An assignment of `version`, written now, remembering the record it replaces (for a revert). */
function assignment(input: JobInput, version: SpecVersion, replaced?: AssignmentRecord): AssignmentRecord {
  return {
    job: input.job,
    ...version,
    assignedAt: new Date(input.nowMs).toISOString(),
    ...(input.services.length > 0 ? { services: input.services } : {}),
    ...(replaced ? { previous: versionOf(replaced) } : {}),
  };
}

function record(input: JobInput, hashed: HashedSpec, replaced?: AssignmentRecord): AssignmentRecord {
  return assignment(input, { tag: input.tag, host: hashed.host, spec: hashed.spec, specHash: hashed.specHash, commit: input.commit }, replaced);
}

/** The replaced assignment, put back exactly (tag and host facts included, so it stays intact). */
function reverted(input: JobInput, current: AssignmentRecord): AssignmentRecord | undefined {
  return current.previous ? assignment(input, current.previous) : undefined;
}

/**
 * The same spec with other Services naming it, or another drainSeconds: rewrite the record (no
 * restart) so the agent registers under the right names and drains as long as the repo now says when
 * it next stops the instance. The other fields the hash leaves out (the rest of rollout, replicas)
 * are not the agent's business and are not rewritten, so scaling a job touches only the instances it
 * adds or removes.
 */
function refreshed(input: JobInput, current: AssignmentRecord, desired: HashedSpec): AssignmentRecord | undefined {
  const drainSeconds = drainSecondsOf(desired.spec.rollout);
  const drainChanged = drainSecondsOf(current.spec.rollout) !== drainSeconds;
  if (!drainChanged && canonicalJson(current.services ?? []) === canonicalJson(input.services)) return undefined;
  const { services: _services, ...rest } = current;
  const spec = drainChanged ? { ...current.spec, rollout: { ...current.spec.rollout, drainSeconds } } : current.spec;
  return { ...rest, spec, ...(input.services.length > 0 ? { services: input.services } : {}) };
}

export function rollJob(input: JobInput): JobStep {
  const changes: InstanceChange[] = [];
  const policy = input.policy;
  const statusOf = (host: string) => (input.lost.has(host) ? undefined : input.statuses?.get(host));
  const updates: string[] = [];
  const atDesired: string[] = [];
  for (const [host, hashed] of input.desired) {
    const current = input.current.get(host);
    if (!current) changes.push({ kind: 'assign', host, record: record(input, hashed) });
    else if (!current.intact) changes.push({ kind: 'restore', host, record: record(input, hashed) });
    else if (current.record.specHash !== hashed.specHash) updates.push(host);
    else {
      atDesired.push(host);
      const refresh = refreshed(input, current.record, hashed);
      if (refresh) changes.push({ kind: 'refresh', host, record: refresh });
    }
  }
  for (const [host, current] of input.current) {
    if (!input.desired.has(host)) changes.push({ kind: 'remove', host, specHash: current.record.specHash });
  }
  const desiredHash = (host: string) => input.desired.get(host)!.specHash;
  const healthy = [...input.desired.keys()].filter((host) => isInstanceUp(statusOf(host), desiredHash(host), input.hasHealthCheck)).length;
  const base = { desired: input.desired.size, healthy };
  const tracked = input.rollout?.jobSpecHash === input.jobSpecHash ? input.rollout : undefined;
  // A record about another spec is stale: a new commit changed the job.
  const stale = input.rollout && !tracked ? { rollout: null } : {};

  if (tracked?.state === 'Failed' && updates.length > 0) {
    // This spec failed before and was reverted: hold until a commit changes the job again.
    return { changes, health: 'Degraded', rolling: false, ...base };
  }
  const missing = input.desired.size > 0 && [...input.desired.keys()].every((host) => !statusOf(host) && !input.lost.has(host));
  const pending = changes.some((change) => change.kind !== 'remove') || healthy < input.desired.size;
  const degraded = [...input.desired.keys()].some((host) => input.lost.has(host) || BROKEN_STATES.has(statusOf(host)?.state ?? ''));
  const settledHealth: JobHealth = missing ? 'Missing' : degraded || tracked?.state === 'Failed' ? 'Degraded' : pending ? 'Progressing' : 'Healthy';
  if (!policy || (updates.length === 0 && tracked?.state !== 'InProgress')) {
    return { changes, health: settledHealth, rolling: false, ...(tracked?.state === 'Failed' ? {} : stale), ...base };
  }

  const minHealthyMs = policy.minHealthySeconds * 1000;
  const deadlineMs = policy.progressDeadlineSeconds * 1000;
  const startedAt = new Date(input.nowMs).toISOString();
  if (tracked?.state !== 'InProgress') {
    // A new rollout: the instances already on this spec are not a batch of it.
    return nextBatch(input, updates, policy, changes, base, { job: input.job, jobSpecHash: input.jobSpecHash, state: 'InProgress', commit: input.commit, startedAt }, 0);
  }
  // The instances this rollout moved (or assigned) since it started; ones on the spec from before,
  // such as a completed rollout of the same spec, are not part of it: not waited for, not reverted.
  // (An unreadable startedAt counts every instance on the spec, as a rollout without a start would.)
  const startedAtMs = Date.parse(tracked.startedAt) || 0;
  const assignedAt = (host: string) => Date.parse(input.current.get(host)!.record.assignedAt);
  const rolled = atDesired.filter((host) => assignedAt(host) >= startedAtMs);
  // The current batch: instances moved to the new spec that have not been healthy long enough, as
  // their agents last said (an agent gone for a moment does not unsettle what it reported).
  const reported = (host: string) => input.statuses?.get(host);
  const unsettled = rolled.filter((host) => {
    const status = reported(host);
    return !(isInstanceUp(status, desiredHash(host), input.hasHealthCheck) && input.nowMs - Date.parse(status!.since) >= minHealthyMs);
  });
  // A host whose agent is gone cannot show its instance healthy: it holds the rollout, never fails it
  // (failing would revert, and so restart, every instance already rolled on the live hosts).
  const late = unsettled.filter((host) => !input.lost.has(host) && input.nowMs - assignedAt(host) > deadlineMs).sort();
  const rolledRecords = () => rolled.map((host) => input.current.get(host)!.record);
  if (late.length > 0) {
    const lateInstances = late.map((host) => ({ host, status: reported(host), specHash: desiredHash(host), up: isInstanceUp(reported(host), desiredHash(host), input.hasHealthCheck) }));
    const revertedHosts: string[] = [];
    let revertedTo: string | undefined;
    if (policy.autoRevert) {
      for (const host of rolled) {
        const back = reverted(input, input.current.get(host)!.record);
        if (!back) continue;
        changes.push({ kind: 'revert', host, record: back });
        revertedHosts.push(host);
        revertedTo ??= back.commit;
      }
    }
    const failed: RolloutRecord = {
      ...tracked,
      state: 'Failed',
      reason: lateReason(lateInstances, policy.progressDeadlineSeconds, policy.minHealthySeconds, input.nowMs),
      failedAt: new Date(input.nowMs).toISOString(),
      failedHosts: late,
      done: countDone(rolledRecords(), startedAtMs, reported),
      ...(revertedTo !== undefined ? { revertedHosts: revertedHosts.sort(), revertedTo } : {}),
    };
    return { changes, rollout: failed, health: 'Degraded', rolling: false, ...base };
  }
  if (unsettled.length > 0) {
    const wake = Math.min(
      ...unsettled.map((host) => {
        const status = reported(host);
        const settlesAt = isInstanceUp(status, desiredHash(host), input.hasHealthCheck) ? Date.parse(status!.since) + minHealthyMs : Infinity;
        return Math.min(settlesAt, assignedAt(host) + deadlineMs + 1);
      }),
    );
    return { changes, health: 'Progressing', rolling: true, wakeAtMs: wake, ...base };
  }
  if (updates.length === 0) {
    // Every batch settled: the rollout is complete.
    return { changes, rollout: null, health: settledHealth, rolling: false, ...base };
  }
  const rolledUpdates = rolledRecords().filter((current) => isRolledUpdate(current, startedAtMs)).length;
  return nextBatch(input, updates, policy, changes, base, tracked, rolledUpdates);
}

/** Writes the next batch and the rollout's record, which now names that batch and its deadline. */
function nextBatch(
  input: JobInput,
  updates: string[],
  policy: RolloutPolicy,
  changes: InstanceChange[],
  base: { desired: number; healthy: number },
  rollout: RolloutRecord,
  rolledUpdates: number,
): JobStep {
  const batch = updates.sort().slice(0, policy.maxParallel);
  for (const host of batch) {
    const current = input.current.get(host)!.record;
    changes.push({ kind: 'update', host, record: record(input, input.desired.get(host)!, current) });
  }
  const deadlineAtMs = input.nowMs + policy.progressDeadlineSeconds * 1000;
  const progress = batchProgress(rolledUpdates, batch.length, updates.length, policy.maxParallel);
  return { changes, rollout: { ...rollout, ...progress, deadline: new Date(deadlineAtMs).toISOString() }, health: 'Progressing', rolling: true, wakeAtMs: deadlineAtMs + 1, ...base };
}
