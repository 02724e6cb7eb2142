// One job's step towards its desired instances: new hosts get the spec at once, removed hosts lose
// it, and changed instances roll in batches of maxParallel, each gated on the previous batch being
// healthy for minHealthySeconds; a batch that misses its deadline fails the rollout and, with
// autoRevert, puts the old spec back. Pure: everything it knows comes in, decisions go out.
import type { RolloutPolicy } from '../model/types.js';
import type { AssignmentRecord, RolloutRecord, StatusRecord } from '../store/records.js';
import { isInstanceUp, type ObservedAssignment } from './observed-state.js';
import type { HashedSpec } from './spec-hash.js';

export type JobHealth = 'Healthy' | 'Progressing' | 'Degraded' | 'Missing';

export type InstanceChange =
  | { readonly kind: 'assign' | 'update' | 'restore' | 'revert'; readonly host: string; readonly record: AssignmentRecord }
  | { readonly kind: 'remove'; readonly host: string; readonly specHash: string };

export interface JobStep {
  readonly changes: readonly InstanceChange[];
  /** Set when this step fails the rollout: the record to keep so the failed spec is not retried. */
  readonly failedRollout?: RolloutRecord;
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
  readonly failed: RolloutRecord | undefined;
  /** The host-independent hash of the job's desired spec (what a failed rollout is remembered by). */
  readonly jobSpecHash: string;
  readonly commit: string;
  readonly nowMs: number;
}

function record(input: JobInput, hashed: HashedSpec, previous?: AssignmentRecord): AssignmentRecord {
  return {
    job: input.job,
    tag: input.tag,
    host: hashed.host,
    spec: hashed.spec,
    specHash: hashed.specHash,
    commit: input.commit,
    assignedAt: new Date(input.nowMs).toISOString(),
    ...(previous ? { previous: { spec: previous.spec, specHash: previous.specHash, commit: previous.commit } } : {}),
  };
}

export function rollJob(input: JobInput): JobStep {
  const changes: InstanceChange[] = [];
  const policy = input.policy;
  const statusOf = (host: string) => input.statuses?.get(host);
  const updates: string[] = [];
  const atDesired: string[] = [];
  for (const [host, hashed] of input.desired) {
    const current = input.current.get(host);
    if (!current) changes.push({ kind: 'assign', host, record: record(input, hashed) });
    else if (!current.intact) changes.push({ kind: 'restore', host, record: record(input, hashed) });
    else if (current.record.specHash !== hashed.specHash) updates.push(host);
    else atDesired.push(host);
  }
  for (const [host, current] of input.current) {
    if (!input.desired.has(host)) changes.push({ kind: 'remove', host, specHash: current.record.specHash });
  }
  const desiredHash = (host: string) => input.desired.get(host)!.specHash;
  const healthy = [...input.desired.keys()].filter((host) => isInstanceUp(statusOf(host), desiredHash(host), input.hasHealthCheck)).length;
  const base = { desired: input.desired.size, healthy };
  if (updates.length === 0 || !policy) {
    const missing = input.desired.size > 0 && [...input.desired.keys()].every((host) => !statusOf(host));
    const pending = changes.some((change) => change.kind !== 'remove') || healthy < input.desired.size;
    const degraded = [...input.desired.keys()].some((host) => ['CrashLoop', 'Failed', 'Unhealthy'].includes(statusOf(host)?.state ?? ''));
    const health: JobHealth = missing ? 'Missing' : degraded ? 'Degraded' : pending ? 'Progressing' : 'Healthy';
    return { changes, health, rolling: false, ...base };
  }

  if (input.failed && input.failed.failedSpecHash === input.jobSpecHash) {
    // This spec failed before and was reverted: hold until a commit changes the job again.
    return { changes, health: 'Degraded', rolling: false, ...base };
  }
  const minHealthyMs = policy.minHealthySeconds * 1000;
  const deadlineMs = policy.progressDeadlineSeconds * 1000;
  // The current batch: instances already moved to the new spec that have not settled yet.
  const unsettled = atDesired.filter((host) => {
    const status = statusOf(host);
    return !(isInstanceUp(status, desiredHash(host), input.hasHealthCheck) && input.nowMs - Date.parse(status!.since) >= minHealthyMs);
  });
  const assignedAt = (host: string) => Date.parse(input.current.get(host)!.record.assignedAt);
  const late = unsettled.filter((host) => input.nowMs - assignedAt(host) > deadlineMs);
  if (late.length > 0) {
    const reason = `batch not healthy within ${policy.progressDeadlineSeconds}s on ${late.sort().join(', ')}`;
    const failedRollout: RolloutRecord = {
      job: input.job,
      failedSpecHash: input.jobSpecHash,
      // A host assigned fresh during the rollout has no previous spec: name one that is reverted.
      revertedTo: policy.autoRevert ? (atDesired.map((host) => input.current.get(host)!.record.previous?.specHash).find(Boolean) ?? '') : '',
      commit: input.commit,
      reason,
      time: new Date(input.nowMs).toISOString(),
    };
    if (policy.autoRevert) {
      for (const host of atDesired) {
        const previous = input.current.get(host)!.record.previous;
        if (!previous) continue;
        const hostFacts = input.current.get(host)!.record.host;
        changes.push({
          kind: 'revert',
          host,
          record: { ...record(input, { host: hostFacts, spec: previous.spec, specHash: previous.specHash }), commit: previous.commit },
        });
      }
    }
    return { changes, failedRollout, health: 'Degraded', rolling: false, ...base };
  }
  if (unsettled.length > 0) {
    const wake = Math.min(
      ...unsettled.map((host) => {
        const status = statusOf(host);
        const settlesAt = isInstanceUp(status, desiredHash(host), input.hasHealthCheck) ? Date.parse(status!.since) + minHealthyMs : Infinity;
        return Math.min(settlesAt, assignedAt(host) + deadlineMs + 1);
      }),
    );
    return { changes, health: 'Progressing', rolling: true, wakeAtMs: wake, ...base };
  }
  for (const host of updates.sort().slice(0, policy.maxParallel)) {
    const current = input.current.get(host)!.record;
    changes.push({ kind: 'update', host, record: record(input, input.desired.get(host)!, current) });
  }
  return { changes, health: 'Progressing', rolling: true, wakeAtMs: input.nowMs + deadlineMs + 1, ...base };
}
