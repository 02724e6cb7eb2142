// A commit the controller will not apply, and why: findings of the loader, the prune guard, or a
// load that failed outright (anything thrown while reading, checking or planning it). The reasons
// go to sync/current and to one audit record; a failed load is also what /readyz reports.
import type { CommitRef, SyncHistoryRecord } from '../store/records.js';

/** sync/current holds the reasons; a hostile commit with a million findings must still fit in one etcd value. */
export const MAX_STORED_REASONS = 100;
/** The audit record's note names the first few; sync/current has the rest. */
const REASONS_IN_NOTE = 5;
const MAX_REASON_CHARS = 1000;

export interface CommitRejection {
  readonly commit: CommitRef;
  readonly errors: readonly string[];
  /**
   * Set when loading the commit failed (something threw): the controller, not the commit, may be at
   * fault, or a read may have failed for a while, so the next fetch tries the commit again.
   */
  readonly loadFailure?: string;
  /** Set when the commit references secrets the store lacks: tried again once secrets change. */
  readonly awaitsSecrets?: boolean;
  /** What was thrown, for the log's stack trace. */
  readonly cause?: unknown;
  /** Whether the audit record of this rejection is written. */
  audited: boolean;
}

export function rejection(commit: CommitRef, reasons: readonly string[]): CommitRejection {
  return { commit, errors: boundReasons(reasons), audited: false };
}

export function loadFailure(commit: CommitRef, error: unknown): CommitRejection {
  const reason = `the controller failed to load this commit: ${describeError(error)}`;
  return { commit, errors: boundReasons([reason]), loadFailure: reason, cause: error, audited: false };
}

/** What a commit that could not even be read is known by: its sha alone. */
export function unreadCommit(sha: string): CommitRef {
  return { sha, author: '', email: '', message: '', timestamp: 0 };
}

export function rejectionAudit(rejected: CommitRejection, time: Date, trigger: string): SyncHistoryRecord {
  const shown = rejected.errors.slice(0, REASONS_IN_NOTE).join('; ');
  const more = rejected.errors.length > REASONS_IN_NOTE ? ` (and ${rejected.errors.length - REASONS_IN_NOTE} more in sync/current)` : '';
  return { commit: rejected.commit, time: time.toISOString(), trigger, actions: [], outcome: 'Rejected', note: `rejected: ${shown}${more}` };
}

function boundReasons(reasons: readonly string[]): string[] {
  const bounded = reasons.slice(0, MAX_STORED_REASONS).map((reason) => (reason.length > MAX_REASON_CHARS ? `${reason.slice(0, MAX_REASON_CHARS - 3)}...` : reason));
  if (reasons.length > MAX_STORED_REASONS) bounded.push(`... and ${reasons.length - MAX_STORED_REASONS} more`);
  return bounded;
}

function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as { code?: unknown }).code;
  return `${error.name}${typeof code === 'string' ? ` ${code}` : ''}: ${error.message.split('\n')[0]}`;
}
