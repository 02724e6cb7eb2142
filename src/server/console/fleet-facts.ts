// What every console view starts from, computed once per change of the controller's state rather
// than once per request: the status summary (as /api/status has it) and each job's sync verdict.
import { fleetStatus, jobsInForce } from '../../controller/fleet-status.js';
import type { ControllerStatus, JobHealth } from '../controller-status.js';
import type { ConsoleSource, ConsoleState } from './console-source.js';

/**
 * Whether a job's instances are what the commit in force asks for: `Progressing` while a rollout
 * runs, `Failed` when one failed (and is held), `OutOfSync` when it is assigned elsewhere than the
 * commit places it (or not in the commit at all: being removed), `Unknown` before a reconcile.
 */
export type JobSync = 'Synced' | 'Progressing' | 'OutOfSync' | 'Failed' | 'Unknown';

export interface FleetFacts {
  readonly state: ConsoleState;
  /** /api/status without the audit history (which is not in memory). */
  readonly status: ControllerStatus;
  readonly health: ReadonlyMap<string, JobHealth>;
  readonly sync: ReadonlyMap<string, JobSync>;
}

export function jobSync(name: string, state: ConsoleState, assigned: number): JobSync {
  const rollout = state.observed.rollouts.get(name);
  if (rollout?.state === 'Failed') return 'Failed';
  const summary = state.jobSummaries.get(name);
  if (rollout || summary?.rolling) return 'Progressing';
  if (!state.inForce) return 'Unknown';
  if (!state.inForce.model.jobs.has(name)) return 'OutOfSync';
  if (!summary) return 'Unknown';
  return summary.desired === assigned ? 'Synced' : 'OutOfSync';
}

function computeFacts(state: ConsoleState): FleetFacts {
  const status = fleetStatus(state.current, state.observed, [], jobsInForce(state.inForce?.model, state.jobSummaries));
  const health = new Map(status.jobs.map((job) => [job.name, job]));
  const sync = new Map<string, JobSync>();
  for (const job of status.jobs) sync.set(job.name, jobSync(job.name, state, job.desired));
  for (const name of state.inForce?.model.jobs.keys() ?? []) if (!sync.has(name)) sync.set(name, jobSync(name, state, 0));
  return { state, status, health, sync };
}

/** FleetFacts, recomputed only when the mirror changed or the controller reconciled since. */
export class FleetFactsCache {
  private changes = 0;
  private cached: { readonly changes: number; readonly inForce: unknown; readonly summaries: unknown; readonly facts: FleetFacts } | undefined;

  constructor(private readonly source: ConsoleSource) {
    source.subscribe(() => this.changes++);
  }

  facts(): FleetFacts {
    const state = this.source.state();
    const cached = this.cached;
    // The commit in force and the reconcile's summaries are new objects whenever they change.
    if (cached && cached.changes === this.changes && cached.inForce === state.inForce?.model && cached.summaries === state.jobSummaries) return cached.facts;
    const facts = computeFacts(state);
    this.cached = { changes: this.changes, inForce: state.inForce?.model, summaries: state.jobSummaries, facts };
    return facts;
  }
}
