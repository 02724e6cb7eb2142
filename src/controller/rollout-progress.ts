// How far a rollout got, in the words people follow it by: which batch of how many, how many
// instances are done, and, when a batch misses its deadline, what each late instance was doing.
// Pure: the controller stores what this computes in rollouts/<job>, status readers count from etcd.
import type { AssignmentRecord, StatusRecord } from '../store/records.js';
import { isInstanceUp } from './observed-state.js';

/** Hosts named in a failure reason; the record's failedHosts keeps them all. */
const HOSTS_IN_REASON = 5;
const MAX_ERROR_CHARS = 120;

export interface BatchProgress {
  readonly batch: number;
  readonly batches: number;
  readonly total: number;
}

/**
 * The batch about to start, counted from what the fleet shows rather than from a stored counter:
 * a write cut between two transactions, or a new leader, counts the same batches again.
 */
export function batchProgress(rolledUpdates: number, batchSize: number, remaining: number, maxParallel: number): BatchProgress {
  const batch = Math.ceil((rolledUpdates + batchSize) / maxParallel);
  return { batch, batches: batch + Math.ceil((remaining - batchSize) / maxParallel), total: rolledUpdates + remaining };
}

/**
 * An instance this rollout moved from another spec: updated (so it remembers the spec it replaced)
 * since the rollout started. Instances assigned fresh are not counted, and neither are reverted ones
 * (a revert keeps no previous), so this holds in etcd after a failure as well as during the rollout.
 */
export function isRolledUpdate(record: AssignmentRecord, startedAtMs: number): boolean {
  return record.previous !== undefined && Date.parse(record.assignedAt) >= startedAtMs;
}

/** Rolled updates whose instance is up on the spec it was given. */
export function countDone(records: Iterable<AssignmentRecord>, startedAtMs: number, statusOf: (host: string) => StatusRecord | undefined): number {
  let done = 0;
  for (const record of records) {
    if (isRolledUpdate(record, startedAtMs) && isInstanceUp(statusOf(record.host.name), record.specHash, record.spec.health !== undefined)) done++;
  }
  return done;
}

export interface LateInstance {
  readonly host: string;
  readonly status: StatusRecord | undefined;
  /** The spec the host was given in this rollout. */
  readonly specHash: string;
  /** Up on that spec, only not for minHealthySeconds yet. */
  readonly up: boolean;
}

/** `h1 not healthy within 300s (CrashLoop: exit 1)`; with several hosts each says what it was doing. */
export function lateReason(late: readonly LateInstance[], deadlineSeconds: number, minHealthySeconds: number, nowMs: number): string {
  const shown = late.slice(0, HOSTS_IN_REASON);
  const more = late.length > shown.length ? ` and ${late.length - shown.length} more` : '';
  const doing = (instance: LateInstance) => instanceDoing(instance, minHealthySeconds, nowMs);
  const details = shown.length === 1 ? doing(shown[0]!) : shown.map((instance) => `${instance.host} ${doing(instance)}`).join('; ');
  return `${shown.map((instance) => instance.host).join(', ')}${more} not healthy within ${deadlineSeconds}s (${details})`;
}

function instanceDoing({ status, specHash, up }: LateInstance, minHealthySeconds: number, nowMs: number): string {
  if (!status) return 'no status reported';
  if (status.specHash !== specHash) return 'still on its previous spec';
  if (up) return `${status.state} for ${Math.floor((nowMs - Date.parse(status.since)) / 1000)}s of ${minHealthySeconds}s`;
  const error = status.lastError ?? exitOf(status.lastExit);
  return error ? `${status.state}: ${error.length > MAX_ERROR_CHARS ? `${error.slice(0, MAX_ERROR_CHARS - 3)}...` : error}` : status.state;
}

function exitOf(lastExit: StatusRecord['lastExit']): string | undefined {
  if (!lastExit) return undefined;
  return lastExit.signal ? `killed by ${lastExit.signal}` : `exit ${lastExit.code}`;
}
