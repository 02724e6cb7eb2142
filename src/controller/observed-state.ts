// What the controller sees in etcd, as plain data for the pure reconcile step.
import type { AssignmentRecord, HostRecord, RemovalRecord, RolloutRecord, StatusRecord, VipRecord, ZoneRecord } from '../store/records.js';

export interface ObservedAssignment {
  readonly record: AssignmentRecord;
  /** False when the value does not hash to its own specHash: someone edited it by hand. */
  readonly intact: boolean;
}

export interface ObservedState {
  /** host → job → assignment. */
  readonly assignments: ReadonlyMap<string, ReadonlyMap<string, ObservedAssignment>>;
  /** host → job → status reported by the agent. */
  readonly statuses: ReadonlyMap<string, ReadonlyMap<string, StatusRecord>>;
  /** host → job → the RemovalRecord the controller wrote (the agent stops the job on it). */
  readonly removals?: ReadonlyMap<string, ReadonlyMap<string, RemovalRecord>>;
  /** hosts/<host>: the Host records the controller last wrote. */
  readonly hosts?: ReadonlyMap<string, HostRecord>;
  /** zones/<origin>: the Zone records the controller last wrote. */
  readonly zones?: ReadonlyMap<string, ZoneRecord>;
  /** Hosts whose agent lease is alive. */
  readonly liveAgents: ReadonlySet<string>;
  /** lost/<host>: hosts the controller has seen assigned without a live agent, and since when (ms since epoch). */
  readonly lostSince: ReadonlyMap<string, number>;
  /** lost/<host>: lost hosts whose replicas were released to move elsewhere, and when (ms since epoch). */
  readonly rescheduledAt: ReadonlyMap<string, number>;
  /** lost/<host>: lost hosts whose idc looked partitioned (their clock restarts when it heals). */
  readonly partitionedHosts?: ReadonlySet<string>;
  readonly rollouts: ReadonlyMap<string, RolloutRecord>;
  readonly vips: ReadonlyMap<string, VipRecord>;
  /** job → host → assignment, when the source keeps that index (the informer does). */
  readonly byJob?: ReadonlyMap<string, ReadonlyMap<string, ObservedAssignment>>;
  /** job → host → status, and job → host → removal, when the source keeps those indexes. */
  readonly statusesByJob?: ReadonlyMap<string, ReadonlyMap<string, StatusRecord>>;
  readonly removalsByJob?: ReadonlyMap<string, ReadonlyMap<string, RemovalRecord>>;
  /**
   * job → a number that changes whenever anything about the job in etcd changes (an assignment,
   * a status, its rollout record). Lets a reconcile skip jobs nothing happened to.
   */
  readonly jobVersions?: ReadonlyMap<string, number>;
}

export const EMPTY_OBSERVED: ObservedState = {
  assignments: new Map(),
  statuses: new Map(),
  liveAgents: new Set(),
  lostSince: new Map(),
  rescheduledAt: new Map(),
  rollouts: new Map(),
  vips: new Map(),
};

/** job → host → assignment, the view rollouts need. */
export function assignmentsByJob(observed: ObservedState): ReadonlyMap<string, ReadonlyMap<string, ObservedAssignment>> {
  return observed.byJob ?? invert(observed.assignments);
}

export function statusesByJob(observed: ObservedState): ReadonlyMap<string, ReadonlyMap<string, StatusRecord>> {
  return observed.statusesByJob ?? invert(observed.statuses);
}

export function removalsByJob(observed: ObservedState): ReadonlyMap<string, ReadonlyMap<string, RemovalRecord>> {
  return observed.removalsByJob ?? invert(observed.removals ?? new Map());
}

/** host → job → T as job → host → T. */
function invert<T>(byHost: ReadonlyMap<string, ReadonlyMap<string, T>>): Map<string, Map<string, T>> {
  const byJob = new Map<string, Map<string, T>>();
  for (const [host, jobs] of byHost) {
    for (const [job, value] of jobs) {
      let hosts = byJob.get(job);
      if (!hosts) {
        hosts = new Map();
        byJob.set(job, hosts);
      }
      hosts.set(host, value);
    }
  }
  return byJob;
}

/** An instance counts as up when it runs the given spec healthy, or merely running if the job has no health check. */
export function isInstanceUp(status: StatusRecord | undefined, specHash: string, hasHealthCheck: boolean): boolean {
  if (!status || status.specHash !== specHash) return false;
  return status.state === 'Healthy' || (!hasHealthCheck && status.state === 'Running');
}
