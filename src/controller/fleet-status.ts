// The fleet's status as operators read it (ygg status, /api/status, the status page), derived from
// etcd alone: what is assigned, what the agents report, which agents are alive, the audit trail.
import type { ControllerStatus, HistoryEntry, JobHealth, RolloutView } from '../server/controller-status.js';
import type { RolloutRecord, StatusRecord, SyncCurrentRecord, SyncHistoryRecord } from '../store/records.js';
import { assignmentsByJob, isInstanceUp, removalsByJob, statusesByJob, type ObservedAssignment, type ObservedState } from './observed-state.js';
import { countDone } from './rollout-progress.js';
import type { Model } from '../model/types.js';

const BROKEN_STATES = new Set(['CrashLoop', 'Failed', 'Unhealthy']);
const NO_ASSIGNMENTS: ReadonlyMap<string, ObservedAssignment> = new Map();

/** What the controller knows of a job from the commit in force (the CLI, reading etcd alone, does not). */
export interface JobInForce {
  readonly tag: string;
  readonly desired: number;
  readonly version?: string;
}

/** The jobs of a commit in force, with the instance counts of its last reconcile (none yet: 0). */
export function jobsInForce(model: Pick<Model, 'jobs'> | undefined, summaries: ReadonlyMap<string, { readonly desired: number }>): Map<string, JobInForce> {
  const jobs = new Map<string, JobInForce>();
  for (const job of model?.jobs.values() ?? []) jobs.set(job.name, { tag: job.tag, desired: summaries.get(job.name)?.desired ?? 0, version: job.spec.version });
  return jobs;
}

/**
 * Every job someone should hear about: assigned, in the commit in force, rolling, or still reported
 * by an agent with no assignment behind it (a wiped or hand-deleted key). A job with nothing healthy,
 * or nothing assigned yet, is listed as Degraded or Missing, never left out.
 */
export function summarizeJobs(observed: ObservedState, rollouts: ReadonlyMap<string, RolloutRecord>, inForce: ReadonlyMap<string, JobInForce> = new Map()): JobHealth[] {
  const assigned = assignmentsByJob(observed);
  const reported = statusesByJob(observed);
  const removing = removalsByJob(observed);
  const orphaned = [...reported].filter(([name, hosts]) => [...hosts.keys()].some((host) => !assigned.get(name)?.has(host) && !removing.get(name)?.has(host)));
  const names = new Set([...assigned.keys(), ...inForce.keys(), ...rollouts.keys(), ...orphaned.map(([name]) => name)]);
  return [...names].sort().map((name) => summarizeJob(name, assigned.get(name) ?? NO_ASSIGNMENTS, observed, rollouts.get(name), inForce.get(name)));
}

function summarizeJob(name: string, hosts: ReadonlyMap<string, ObservedAssignment>, observed: ObservedState, rollout: RolloutRecord | undefined, inForce: JobInForce | undefined): JobHealth {
  let healthy = 0;
  let progressing = 0;
  let reported = 0;
  let broken = false;
  let lost = false;
  const versions = new Set<string>();
  const statusOf = (host: string) => (observed.liveAgents.has(host) ? observed.statuses.get(host)?.get(name) : undefined);
  for (const [host, { record }] of hosts) {
    versions.add(record.spec.version);
    // A lost host's status is stale: its instance counts as down, whatever it last said.
    if (!observed.liveAgents.has(host)) {
      lost = true;
      continue;
    }
    const status = statusOf(host);
    if (status) reported++;
    if (isInstanceUp(status, record.specHash, record.spec.health !== undefined)) healthy++;
    else if (status && BROKEN_STATES.has(status.state)) broken = true;
    else progressing++;
  }
  // A rollout in progress is progress (the exit code says so); one that failed leaves the job degraded.
  const desired = inForce?.desired ?? hosts.size;
  const state = lost ? 'Degraded' : reported === 0 ? 'Missing' : broken || rollout?.state === 'Failed' ? 'Degraded' : healthy < Math.max(desired, hosts.size) ? 'Progressing' : 'Healthy';
  const tag = inForce?.tag ?? hosts.values().next().value?.record.tag;
  return {
    name,
    ...(tag ? { tag } : {}),
    ...(rollout ? { rollout: rolloutView(rollout, hosts, statusOf) } : {}),
    desired,
    healthy,
    progressing,
    state,
    version: versions.size > 0 ? [...versions].sort().join(', ') : (inForce?.version ?? ''),
  };
}

/** rollouts/<job> as people follow it; a record from before batches were kept counts as one batch. */
export function rolloutView(record: RolloutRecord, hosts: ReadonlyMap<string, ObservedAssignment>, statusOf: (host: string) => StatusRecord | undefined): RolloutView {
  const startedAtMs = Date.parse(record.startedAt) || 0;
  const batch = record.batch ?? 1;
  const live = () => countDone([...hosts.values()].map(({ record: assignment }) => assignment), startedAtMs, statusOf);
  return {
    commit: record.commit,
    state: record.state,
    startedAt: record.startedAt,
    batch,
    batches: record.batches ?? batch,
    done: record.state === 'Failed' ? (record.done ?? 0) : live(),
    total: record.total ?? hosts.size,
    ...(record.state === 'InProgress' && record.deadline !== undefined ? { deadline: record.deadline } : {}),
    ...(record.state === 'Failed'
      ? {
          failure: {
            reason: record.reason ?? 'no reason recorded',
            failedAt: record.failedAt ?? record.startedAt,
            hosts: record.failedHosts ?? [],
            ...(record.revertedTo !== undefined ? { revertedTo: record.revertedTo, revertedHosts: record.revertedHosts ?? [] } : {}),
          },
        }
      : {}),
  };
}

/** Hosts that should run something but whose agent holds no lease. */
export function lostHosts(observed: ObservedState): string[] {
  return [...observed.assignments.keys()].filter((host) => !observed.liveAgents.has(host)).sort();
}

export function summarizeHistory(records: readonly SyncHistoryRecord[], limit = 20): HistoryEntry[] {
  return [...records]
    .sort((a, b) => (a.time < b.time ? 1 : a.time > b.time ? -1 : 0))
    .slice(0, limit)
    .map((record) => ({
      time: record.time,
      sha: record.commit.sha,
      author: record.commit.author,
      message: record.commit.message.split('\n')[0]!,
      outcome: record.outcome,
      actions: record.actions.length,
    }));
}

export function fleetStatus(
  current: SyncCurrentRecord | undefined,
  observed: ObservedState,
  history: readonly SyncHistoryRecord[],
  inForce?: ReadonlyMap<string, JobInForce>,
): ControllerStatus {
  const jobs = summarizeJobs(observed, observed.rollouts, inForce);
  const settled = jobs.every((job) => job.state === 'Healthy');
  const result = !current ? 'Unknown' : current.rejected ? 'Rejected' : current.result === 'Synced' && settled ? 'Synced' : current.result === 'Progressing' ? 'Progressing' : 'OutOfSync';
  return {
    commit: current
      ? { sha: current.commit.sha, author: current.commit.author, message: current.commit.message.split('\n')[0]!, time: new Date(current.commit.timestamp * 1000).toISOString() }
      : null,
    result,
    ...(current?.rejected ? { rejected: { sha: current.rejected.commit.sha, errors: current.rejected.errors } } : {}),
    jobs,
    lostHosts: lostHosts(observed),
    history: summarizeHistory(history),
  };
}
