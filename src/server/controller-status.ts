// The controller's view of the world, as the HTTP face shows it (/api/status and the status page).
// The controller builds it from etcd; this module only names its shape so both sides agree.

export type SyncResult = 'Synced' | 'OutOfSync' | 'Progressing' | 'Rejected' | 'Unknown';

export type JobState = 'Healthy' | 'Progressing' | 'Degraded' | 'Missing';

/** The commit in force: the last one that loaded cleanly, not necessarily the branch head. */
export interface CommitInfo {
  readonly sha: string;
  readonly author: string;
  readonly message: string;
  /** ISO-8601 commit time. */
  readonly time: string;
}

/** A commit that failed validation; it was not applied, the commit in force stays. */
export interface RejectedCommit {
  readonly sha: string;
  readonly errors: readonly string[];
}

/**
 * A job's rollout as people follow it: which batch, how far, until when, and when it failed, why,
 * on which hosts and what was put back.
 */
export interface RolloutView {
  /** The commit whose spec is being (or failed to be) rolled out. */
  readonly commit: string;
  readonly state: 'InProgress' | 'Failed';
  readonly startedAt: string;
  /** 1-based batch in progress (the last one when failed), out of `batches`. */
  readonly batch: number;
  readonly batches: number;
  /** Instances healthy on the new spec, out of `total` instances to roll. */
  readonly done: number;
  readonly total: number;
  /** ISO time the batch in progress fails unless healthy (progressDeadlineSeconds). */
  readonly deadline?: string;
  readonly failure?: {
    readonly reason: string;
    readonly failedAt: string;
    /** Hosts whose instance did not become healthy in time. */
    readonly hosts: readonly string[];
    /** The commit whose spec autoRevert put back on the hosts already rolled; absent: nothing reverted. */
    readonly revertedTo?: string;
    /** The hosts autoRevert put back on that spec. */
    readonly revertedHosts?: readonly string[];
  };
}

export interface JobHealth {
  readonly name: string;
  /** The job's service-tree tag (cop.….job.<name>), when the commit in force names it. */
  readonly tag?: string;
  /** The rollout in progress or the last one that failed. */
  readonly rollout?: RolloutView;
  /** Instances the commit in force asks for. */
  readonly desired: number;
  /** Instances reporting the desired spec healthy. */
  readonly healthy: number;
  /** Instances being rolled to the desired spec. */
  readonly progressing: number;
  readonly state: JobState;
  readonly version: string;
}

/** One `sync/history/<time>-<sha>` audit record, summarised. */
export interface HistoryEntry {
  /** ISO-8601 time of the reconcile. */
  readonly time: string;
  readonly sha: string;
  readonly author: string;
  readonly message: string;
  readonly outcome: string;
  /** How many actions the reconcile carried out. */
  readonly actions: number;
}

export interface ControllerStatus {
  readonly commit: CommitInfo | null;
  readonly result: SyncResult;
  readonly rejected?: RejectedCommit;
  readonly jobs: readonly JobHealth[];
  readonly lostHosts: readonly string[];
  readonly history: readonly HistoryEntry[];
}
