// What the console reads: the controller's in-memory state (the etcd mirror and the commit in
// force), never etcd per request, except the audit history, which is too long to keep in memory
// and is read a page at a time.
import type { MirrorChange, MirrorExtras } from '../../controller/fleet-informer.js';
import type { ObservedState } from '../../controller/observed-state.js';
import type { JobSummary } from '../../controller/reconcile-fleet.js';
import type { FleetIndex } from '../../model/fleet-index.js';
import type { Model } from '../../model/types.js';
import type { KeyLayout } from '../../store/keys.js';
import type { CommitRef, SyncCurrentRecord, SyncHistoryRecord } from '../../store/records.js';

export interface CommitInForce {
  readonly commit: CommitRef;
  readonly model: Model;
  readonly index: FleetIndex;
}

/** One moment of the controller's state; every field is a live view, read it at once. */
export interface ConsoleState {
  readonly current: SyncCurrentRecord | undefined;
  readonly observed: ObservedState;
  readonly extras: MirrorExtras;
  /** Undefined until the controller loaded a commit, and on a standby controller. */
  readonly inForce: CommitInForce | undefined;
  /** The controller's last reconcile, per job (rolling or not). */
  readonly jobSummaries: ReadonlyMap<string, JobSummary>;
}

export interface HistoryPage {
  /** Newest first, each with the key it is stored under (the cursor for the next page). */
  readonly records: readonly { readonly key: string; readonly record: SyncHistoryRecord }[];
  /** Where the next page starts (absent: no more), which a left-out garbled value does not move. */
  readonly next?: string | undefined;
}

export interface ConsoleSource {
  readonly layout: KeyLayout;
  state(): ConsoleState;
  /** Every change to the mirror; returns the unsubscribe function. */
  subscribe(listener: (change: MirrorChange) => void): () => void;
  /** Audit records older than the key `before` (all when absent), newest first. */
  readHistory(limit: number, before: string | undefined): Promise<HistoryPage>;
}
