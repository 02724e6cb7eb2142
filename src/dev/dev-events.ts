// What a dev run reports, as plain data: the terminal prints it as lines (or a live block on a TTY),
// `--output json` prints each as one JSON line. Pure: the changes between two fleet status
// readings become events here, nothing else.
import type { ControllerStatus, JobHealth } from '../server/controller-status.js';
import type { RolloutRecord } from '../store/records.js';

export interface JobProgress {
  readonly job: string;
  readonly state: JobHealth['state'];
  readonly healthy: number;
  readonly desired: number;
  readonly version: string;
  /** A rollout in progress or failed (rollouts/<job>); its batches and progress when the status carries them. */
  readonly rollout?: {
    readonly state: RolloutRecord['state'];
    readonly commit: string;
    readonly reason?: string;
    readonly batch?: number;
    readonly batches?: number;
    /** Instances healthy on the new spec, out of `total`. */
    readonly done?: number;
    readonly total?: number;
  };
}

export type DevEvent =
  | { readonly event: 'starting'; readonly dir: string; readonly repo: string; readonly created: boolean }
  | { readonly event: 'recovered'; readonly pid: number; readonly processes: number; readonly jobs: number }
  | { readonly event: 'warning'; readonly message: string }
  | { readonly event: 'started'; readonly what: string; readonly detail: string }
  | { readonly event: 'job'; readonly progress: JobProgress }
  | { readonly event: 'commit_applied'; readonly sha: string; readonly message: string }
  | { readonly event: 'commit_rejected'; readonly sha: string; readonly errors: readonly string[] }
  | { readonly event: 'plan'; readonly base: string; readonly text: string; readonly empty: boolean }
  | { readonly event: 'plan_invalid'; readonly errors: readonly string[] }
  | { readonly event: 'converged'; readonly seconds: number; readonly jobs: number; readonly consoleUrl: string; readonly etcdUrl: string; readonly paths: Readonly<Record<string, string>>; readonly etcdCredentials?: string }
  | { readonly event: 'settled'; readonly jobs: number; readonly commit: string }
  | { readonly event: 'exited'; readonly name: string; readonly code: number | string; readonly logFile: string }
  | { readonly event: 'stopping'; readonly reason: string }
  | { readonly event: 'stopped'; readonly processes: number; readonly jobs: number };

export function jobProgress(job: JobHealth, record: RolloutRecord | undefined): JobProgress {
  const view = job.rollout;
  const rollout: JobProgress['rollout'] = view
    ? { state: view.state, commit: view.commit, ...(view.failure ? { reason: view.failure.reason } : {}), batch: view.batch, batches: view.batches, done: view.done, total: view.total }
    : record && { state: record.state, commit: record.commit, ...(record.reason ? { reason: record.reason } : {}) };
  return { job: job.name, state: job.state, healthy: job.healthy, desired: job.desired, version: job.version, ...(rollout ? { rollout } : {}) };
}

export interface FleetReading {
  readonly status: ControllerStatus;
  readonly rollouts: ReadonlyMap<string, RolloutRecord>;
}

/** Every job is healthy on the commit in force (and there is at least one job). */
export function isSettled(status: ControllerStatus): boolean {
  return status.result === 'Synced' && status.jobs.length > 0 && status.jobs.every((job) => job.state === 'Healthy');
}

/** The events between two readings: jobs whose progress changed, a commit applied, a commit rejected. */
export function fleetEvents(previous: FleetReading | undefined, next: FleetReading): DevEvent[] {
  const events: DevEvent[] = [];
  const before = new Map(previous?.status.jobs.map((job) => [job.name, jobProgress(job, previous.rollouts.get(job.name))]));
  for (const job of next.status.jobs) {
    const progress = jobProgress(job, next.rollouts.get(job.name));
    if (JSON.stringify(before.get(job.name)) !== JSON.stringify(progress)) events.push({ event: 'job', progress });
  }
  const commit = next.status.commit;
  if (commit && commit.sha !== previous?.status.commit?.sha) events.push({ event: 'commit_applied', sha: commit.sha, message: commit.message });
  const rejected = next.status.rejected;
  if (rejected && rejected.sha !== previous?.status.rejected?.sha) events.push({ event: 'commit_rejected', sha: rejected.sha, errors: rejected.errors });
  return events;
}
