// What the controller sees in etcd, as plain data for the pure reconcile step.
import type { AssignmentRecord, RolloutRecord, StatusRecord, VipRecord } from '../store/records.js';

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
  /** Hosts whose agent lease is alive. */
  readonly liveAgents: ReadonlySet<string>;
  /** lost/<host>: hosts the controller has seen assigned without a live agent, and since when (ms since epoch). */
  readonly lostSince: ReadonlyMap<string, number>;
  /** lost/<host>: lost hosts whose replicas were released to move elsewhere, and when (ms since epoch). */
  readonly rescheduledAt: ReadonlyMap<string, number>;
  readonly rollouts: ReadonlyMap<string, RolloutRecord>;
  readonly vips: ReadonlyMap<string, VipRecord>;
  /** job → host → assignment, when the source keeps that index (the informer does). */
  readonly byJob?: ReadonlyMap<string, ReadonlyMap<string, ObservedAssignment>>;
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
  if (observed.byJob) return observed.byJob;
  const byJob = new Map<string, Map<string, ObservedAssignment>>();
  for (const [host, jobs] of observed.assignments) {
    for (const [job, assignment] of jobs) {
      let hosts = byJob.get(job);
      if (!hosts) {
        hosts = new Map();
        byJob.set(job, hosts);
      }
      hosts.set(host, assignment);
    }
  }
  return byJob;
}

/** An instance counts as up when it runs the given spec healthy, or merely running if the job has no health check. */
export function isInstanceUp(status: StatusRecord | undefined, specHash: string, hasHealthCheck: boolean): boolean {
  if (!status || status.specHash !== specHash) return false;
  return status.state === 'Healthy' || (!hasHealthCheck && status.state === 'Running');
}
