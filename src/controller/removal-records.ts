// Removal is an explicit act (DESIGN.md §3a): the controller stops a job on a host by putting a
// RemovalRecord in assign/<host>/<job>, never by deleting the key, because agents treat a vanished
// key (an etcd wipe, a hand delete) as "keep running and wait". This module decides the two other
// writes that protocol needs, per job, from observed state alone (level-triggered):
// * an instance an agent still reports although nothing assigns it there and the commit does not
//   want it there (an orphan, e.g. after a wipe of a job since removed) gets a RemovalRecord;
// * a RemovalRecord whose instance the agent has removed (its status is gone) is deleted.
import type { KeyLayout } from '../store/keys.js';
import type { RemovalRecord, StatusRecord } from '../store/records.js';
import type { ObservedAssignment } from './observed-state.js';

export interface RemovalInput {
  readonly job: string;
  /** Hosts the commit places the job on. */
  readonly desiredHosts: ReadonlySet<string>;
  readonly current: ReadonlyMap<string, ObservedAssignment>;
  /** host → the agent's status of this job. */
  readonly statuses: ReadonlyMap<string, StatusRecord> | undefined;
  /** host → the RemovalRecord in assign/<host>/<job>. */
  readonly removals: ReadonlyMap<string, RemovalRecord> | undefined;
  readonly commit: string;
  readonly nowMs: number;
  readonly layout: KeyLayout;
}

export type RemovalWrite =
  | { readonly op: { readonly put: string; readonly value: RemovalRecord }; readonly host: string; readonly specHash: string }
  | { readonly op: { readonly delete: string }; readonly host: string };

export function removalRecord(job: string, commit: string, nowMs: number): RemovalRecord {
  return { job, removed: true, commit, removedAt: new Date(nowMs).toISOString() };
}

export function settleRemovals(input: RemovalInput): RemovalWrite[] {
  const { job, desiredHosts, current, statuses, removals, layout } = input;
  const writes: RemovalWrite[] = [];
  for (const [host, status] of statuses ?? []) {
    if (current.has(host) || removals?.has(host) || desiredHosts.has(host)) continue;
    writes.push({ op: { put: layout.assignment(host, job), value: removalRecord(job, input.commit, input.nowMs) }, host, specHash: status.specHash });
  }
  for (const host of removals?.keys() ?? []) {
    // A host the job is placed on again gets an assignment over the record instead.
    if (statuses?.has(host) || desiredHosts.has(host)) continue;
    writes.push({ op: { delete: layout.assignment(host, job) }, host });
  }
  return writes.sort((a, b) => (a.host < b.host ? -1 : a.host > b.host ? 1 : 0));
}
