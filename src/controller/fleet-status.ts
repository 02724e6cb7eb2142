// The fleet's status as operators read it (ygg status, /api/status, the status page), derived from
// etcd alone: what is assigned, what the agents report, which agents are alive, the audit trail.
import type { ControllerStatus, HistoryEntry, JobHealth } from '../server/controller-status.js';
import type { RolloutRecord, SyncCurrentRecord, SyncHistoryRecord } from '../store/records.js';
import { assignmentsByJob, isInstanceUp, type ObservedState } from './observed-state.js';

const BROKEN_STATES = new Set(['CrashLoop', 'Failed', 'Unhealthy']);

export function summarizeJobs(observed: ObservedState, rollouts: ReadonlyMap<string, RolloutRecord>): JobHealth[] {
  const jobs: JobHealth[] = [];
  for (const [name, hosts] of [...assignmentsByJob(observed)].sort(([a], [b]) => (a < b ? -1 : 1))) {
    let healthy = 0;
    let progressing = 0;
    let reported = 0;
    let broken = false;
    let lost = false;
    const versions = new Set<string>();
    for (const [host, { record }] of hosts) {
      versions.add(record.spec.version);
      // A lost host's status is stale: its instance counts as down, whatever it last said.
      if (!observed.liveAgents.has(host)) {
        lost = true;
        continue;
      }
      const status = observed.statuses.get(host)?.get(name);
      if (status) reported++;
      if (isInstanceUp(status, record.specHash, record.spec.health !== undefined)) healthy++;
      else if (status && BROKEN_STATES.has(status.state)) broken = true;
      else progressing++;
    }
    const state = lost ? 'Degraded' : reported === 0 ? 'Missing' : broken || rollouts.has(name) ? 'Degraded' : healthy < hosts.size ? 'Progressing' : 'Healthy';
    jobs.push({ name, desired: hosts.size, healthy, progressing, state, version: [...versions].sort().join(', ') });
  }
  return jobs;
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

export function fleetStatus(current: SyncCurrentRecord | undefined, observed: ObservedState, history: readonly SyncHistoryRecord[]): ControllerStatus {
  const jobs = summarizeJobs(observed, observed.rollouts);
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
