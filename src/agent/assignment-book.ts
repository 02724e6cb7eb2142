// What the agent has been told to do per job, and what it was not told. Removal is an explicit act
// (DESIGN.md §3a): only a RemovalRecord stops a job. A key that vanished (an etcd wipe, a hand
// delete) or holds a value that does not parse leaves the last good spec in force and marks the job
// orphaned until the controller restores or removes it.
import { isRemoval, type AssignmentEntry, type AssignmentRecord, type RemovalRecord } from '../store/records.js';

export type JobDecision = { readonly kind: 'run'; readonly record: AssignmentRecord } | { readonly kind: 'remove'; readonly record: RemovalRecord };

export interface Orphan {
  readonly since: string;
  readonly reason: string;
}

export interface PutOptions {
  /**
   * The store was reset (restored from an older snapshot): a record decided before the one in
   * force is history coming back, not a decision. Ignore it; the controller rewrites the truth.
   */
  readonly ignoreOlder?: boolean;
}

export type PutOutcome = 'changed' | 'unchanged' | 'stale';

export class AssignmentBook {
  private readonly decisions = new Map<string, JobDecision>();
  private readonly orphans = new Map<string, Orphan>();

  constructor(private readonly now: () => Date = () => new Date()) {}

  decision(job: string): JobDecision | undefined {
    return this.decisions.get(job);
  }

  /** The record to run: the decision in force unless it is a removal. */
  wanted(job: string): AssignmentRecord | undefined {
    const decision = this.decisions.get(job);
    return decision?.kind === 'run' ? decision.record : undefined;
  }

  orphan(job: string): Orphan | undefined {
    return this.orphans.get(job);
  }

  jobs(): string[] {
    return [...this.decisions.keys()];
  }

  /** A valid value in assign/<host>/<job>: the decision in force from now on, and no longer orphaned. */
  put(job: string, entry: AssignmentEntry, options: PutOptions = {}): PutOutcome {
    const previous = this.decisions.get(job);
    if (options.ignoreOlder && previous && decidedAt(entry) < decidedAt(previous.record)) return 'stale';
    this.orphans.delete(job);
    const next: JobDecision = isRemoval(entry) ? { kind: 'remove', record: entry } : { kind: 'run', record: entry };
    this.decisions.set(job, next);
    return previous && JSON.stringify(previous) === JSON.stringify(next) ? 'unchanged' : 'changed';
  }

  /** The key vanished or stopped parsing: keep the decision, remember why. True when that is news. */
  vanish(job: string, reason: string): boolean {
    if (this.decisions.get(job)?.kind !== 'run') return false;
    const known = this.orphans.get(job);
    if (known?.reason === reason) return false;
    this.orphans.set(job, { since: known?.since ?? this.now().toISOString(), reason });
    return true;
  }

  /** A removal was carried out: the job is forgotten. */
  settle(job: string): void {
    this.decisions.delete(job);
    this.orphans.delete(job);
  }
}

function decidedAt(entry: AssignmentEntry): string {
  return isRemoval(entry) ? entry.removedAt : entry.assignedAt;
}
