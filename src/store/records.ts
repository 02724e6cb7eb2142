// The JSON values stored under each key. Writers build them from these types; readers check them
// (a hand-edited or foreign value must not crash a reader: it is reported and skipped).
import type { Host, JobSpec, Vip } from '../model/types.js';
import type { ResolvedZone } from '../model/zone-records.js';

/** assign/<host>/<job>, written by the controller: what should run there. */
export interface AssignmentRecord {
  readonly job: string;
  readonly tag: string;
  readonly host: Pick<Host, 'name' | 'ip' | 'labels'>;
  /** The job's spec with templates unrendered: the agent renders them with its own directories. */
  readonly spec: JobSpec;
  /** sha256 of the canonical JSON of { job, tag, host, spec }: names the release directory. */
  readonly specHash: string;
  /** The commit this spec comes from (for blame) and when it was written. */
  readonly commit: string;
  readonly assignedAt: string;
  /** The Services naming this job: the agent registers the instance under them while it is healthy. */
  readonly services?: readonly { readonly name: string; readonly port: string }[];
  /** The assignment this one replaced, kept so a failed rollout can put it back as it was. */
  readonly previous?: { readonly tag: string; readonly host: Pick<Host, 'name' | 'ip' | 'labels'>; readonly spec: JobSpec; readonly specHash: string; readonly commit: string };
}

/**
 * assign/<host>/<job> after the controller decided the job no longer runs there. Removal is an
 * explicit act: an agent stops a job only on this record, never because the key vanished (an etcd
 * wipe, a hand delete) or holds something unreadable. The controller deletes it once the agent has
 * removed status/<host>/<job>.
 */
export interface RemovalRecord {
  readonly job: string;
  readonly removed: true;
  readonly commit: string;
  readonly removedAt: string;
}

/** What assign/<host>/<job> holds: a job to run, or the decision to stop it. */
export type AssignmentEntry = AssignmentRecord | RemovalRecord;

export function isRemoval(entry: AssignmentEntry): entry is RemovalRecord {
  return 'removed' in entry;
}

/** hosts/<host>, written by the controller from the Host documents of the commit in force. */
export interface HostRecord {
  readonly name: string;
  readonly ip: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly state: Host['state'];
  readonly commit: string;
}

export type InstanceState = 'Starting' | 'Running' | 'Healthy' | 'Unhealthy' | 'CrashLoop' | 'Stopped' | 'Failed';

/** status/<host>/<job>, written by the agent: what runs there. */
export interface StatusRecord {
  readonly specHash: string;
  readonly release?: string;
  readonly pid?: number;
  readonly state: InstanceState;
  readonly restarts: number;
  readonly lastExit?: { readonly code: number | null; readonly signal: string | null; readonly at: string };
  readonly lastError?: string;
  /** When the instance entered `state`. */
  readonly since: string;
  readonly updatedAt: string;
  /**
   * Process figures that agents before 2026-11-28 rewrote every 30 s (now only on the agent's
   * /metrics: they were the fleet's largest idle etcd write load, read by nobody). Still parsed
   * during an upgrade.
   */
  readonly metrics?: { readonly cpuSeconds: number; readonly rssBytes: number; readonly openFds: number; readonly uptimeSeconds: number };
  /**
   * Set while the instance runs with no assignment behind it (its key vanished or stopped parsing):
   * it keeps running on the last good spec until the controller restores or removes it.
   */
  readonly orphaned?: { readonly since: string; readonly reason: string };
  /** Per cron task: its last run and how it ended. */
  readonly cron?: Readonly<
    Record<
      string,
      {
        readonly lastRun?: string;
        readonly lastExit?: { readonly code: number | null; readonly signal: string | null; readonly timedOut: boolean; readonly error?: string };
        readonly lastDurationMs?: number;
        readonly runs: number;
        readonly skipped: number;
      }
    >
  >;
}

/** agents/<host>, written by the agent under its lease: it is alive, and what the machine is. */
export interface AgentRecord {
  readonly host: string;
  readonly hostname: string;
  readonly ips: readonly string[];
  readonly cpus: number;
  readonly memoryBytes: number;
  readonly diskFreeBytes: number;
  readonly os: string;
  readonly agentVersion: string;
  /** The agent's process, so a restarted agent on the same machine can tell its dead predecessor from a live twin. */
  readonly process?: { readonly pid: number; readonly startTime: number };
  /**
   * Where the agent serves /metrics, `host:port` as its --metrics-listen gave it (the port the one
   * bound). An unspecified host (0.0.0.0, ::) means every address: readers use the Host's ip.
   */
  readonly metricsAddress?: string;
  readonly startedAt: string;
  readonly updatedAt: string;
}

/** naming/<service>/<host>:<port>, written by the agent under its lease while the instance is healthy. */
export interface NamingRecord {
  readonly ip: string;
  readonly port: number;
  readonly weight: number;
  readonly host: string;
  readonly job: string;
  readonly specHash: string;
  /** The job's service-tree tag (agents before it was added leave it out). */
  readonly tag?: string;
}

/** vips/<service>, written by the controller from Service documents. */
export interface VipRecord {
  readonly service: string;
  readonly job: string;
  readonly port: string;
  readonly vip: Vip;
  readonly directors: readonly string[];
  readonly commit: string;
}

/**
 * zones/<origin>, written by the controller from the Zone documents of the commit in force, resolved
 * (globs expanded, defaults filled): renderers make the zone file of it and the live naming.
 */
export interface ZoneRecord extends ResolvedZone {
  /** The commit that last changed it. */
  readonly commit: string;
}

export type SyncResult = 'Synced' | 'Progressing' | 'Rejected' | 'Failed';

/** What an audit record says a reconcile did: a sync result, or the revert of a rollout that failed. */
export type AuditOutcome = SyncResult | 'RolloutFailed';

export interface CommitRef {
  readonly sha: string;
  readonly author: string;
  readonly email: string;
  readonly message: string;
  readonly timestamp: number;
}

/** sync/current, written by the controller: the commit in force and how the last reconcile went. */
export interface SyncCurrentRecord {
  /** The last good commit: the one in force. */
  readonly commit: CommitRef;
  readonly result: SyncResult;
  readonly time: string;
  /** Set when the newest commit seen was rejected: it and its problems. */
  readonly rejected?: { readonly commit: CommitRef; readonly errors: readonly string[] };
}

/** sync/history/<time>-<sha>, written by the controller for every reconcile that changed something. */
export interface SyncHistoryRecord {
  readonly commit: CommitRef;
  readonly time: string;
  readonly trigger: string;
  readonly actions: readonly unknown[];
  readonly outcome: AuditOutcome;
  readonly note?: string;
}

/**
 * rollouts/<job>, written by the controller while a job rolls to a new spec (InProgress) and when a
 * rollout failed (Failed: the spec is not retried until a commit changes the job again). Deleted
 * when the rollout completes. Without it a finished rollout and its last batch look the same.
 */
export interface RolloutRecord {
  readonly job: string;
  /** hashJobSpec of the spec being rolled out, host-independent. */
  readonly jobSpecHash: string;
  readonly state: 'InProgress' | 'Failed';
  readonly commit: string;
  readonly startedAt: string;
  /**
   * The batch last started (1-based) out of the batches the rollout needs, the instances it rolls
   * and when that batch fails unless healthy. Absent in records written before they were kept.
   */
  readonly batch?: number;
  readonly batches?: number;
  readonly total?: number;
  readonly deadline?: string;
  /** Failed only: why and when. */
  readonly reason?: string;
  readonly failedAt?: string;
  /** Failed only: the hosts whose instance was not healthy in time. */
  readonly failedHosts?: readonly string[];
  /** Failed only: instances that were healthy on the new spec when it failed. */
  readonly done?: number;
  /** Failed with autoRevert: the hosts put back on their previous spec, and that spec's commit. */
  readonly revertedHosts?: readonly string[];
  readonly revertedTo?: string;
}

/**
 * lost/<host>, written by the controller when it first sees a host assigned without a live agent and
 * deleted when the agent is back. In etcd, not in the controller's memory, so a new leader keeps
 * the clock running instead of starting it again.
 */
export interface LostHostRecord {
  readonly host: string;
  /** When the controller first saw the host without its agent. */
  readonly since: string;
  /** When its replicas were released to move to other hosts: counts against reschedule.maxHostsPercentPerMinute. */
  readonly rescheduledAt?: string;
  /**
   * Lost during a partition of its idc. When the partition heals its clock starts again: hosts come
   * back one by one, and the last ones must not look like long-dead single failures.
   */
  readonly partitioned?: true;
}
