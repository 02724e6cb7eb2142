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

export interface JobHealth {
  readonly name: string;
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
