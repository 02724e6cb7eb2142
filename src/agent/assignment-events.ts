// assign/<host>/ as the agent's watch delivers it, turned into decisions in the AssignmentBook: a
// valid value is the decision in force; a delete, an unreadable value or a key missing from a whole
// read orphans the job (it keeps running); after a reset, a record older than the one in force is
// history coming back and is ignored. Jobs whose decision changed are handed to `schedule`.
import type { Logger } from 'pino';
import type { AssignmentEntry, StatusRecord } from '../store/records.js';
import type { SkippedEntry, WatchEvent } from '../store/state-store.js';
import type { AssignmentBook } from './assignment-book.js';

export interface AssignmentEventsOptions {
  readonly book: AssignmentBook;
  /** assign/<host>/: stripped from keys to get job names. */
  readonly prefix: string;
  readonly logger: Logger;
  /** Jobs the agent runs: missing from a whole read, they are orphaned too. */
  readonly runningJobs: () => Iterable<string>;
  readonly schedule: (job: string) => void;
  /** The job's orphan mark changed: report its status again. */
  readonly reportStatus: (job: string) => void;
}

export type AssignmentRead = { readonly entries: ReadonlyMap<string, { readonly value: AssignmentEntry }>; readonly skipped: readonly SkippedEntry[] };

export class AssignmentEvents {
  constructor(private readonly options: AssignmentEventsOptions) {}

  onEvent(event: WatchEvent<AssignmentEntry>): void {
    if (event.type === 'resync') {
      this.replace(event, event.reason);
      return;
    }
    const job = this.jobOf(event.key);
    if (event.type === 'put') this.put(job, event.value, false);
    else this.vanish(job, event.type === 'delete' ? 'its assign key was deleted' : `its assign key holds an invalid value (${event.problem})`);
  }

  /**
   * A whole read of assign/<host>/: what is there is in force, what is missing or unreadable is
   * orphaned. The agent's first read and a read after a reset may meet history (etcd restored from an
   * older backup): a record decided before the one the agent runs is ignored.
   */
  replace(read: AssignmentRead, why: 'first' | 'compacted' | 'reset'): void {
    const reset = why === 'reset';
    const present = new Set<string>();
    for (const [key, entry] of read.entries) {
      present.add(this.jobOf(key));
      this.put(this.jobOf(key), entry.value, why !== 'compacted');
    }
    const invalid = new Map(read.skipped.map((skipped) => [this.jobOf(skipped.key), skipped.problem]));
    for (const job of new Set([...this.options.book.jobs(), ...this.options.runningJobs()])) {
      if (present.has(job)) continue;
      const problem = invalid.get(job);
      this.vanish(job, problem ? `its assign key holds an invalid value (${problem})` : reset ? 'etcd was reset and no longer holds its assign key' : 'its assign key is missing');
    }
  }

  /** The instance's status, marked orphaned while nothing assigns it. */
  withOrphan(job: string, status: StatusRecord): StatusRecord {
    const orphan = this.options.book.orphan(job);
    if (orphan) return { ...status, orphaned: orphan };
    if (!status.orphaned) return status;
    const { orphaned: _cleared, ...rest } = status;
    return rest;
  }

  private put(job: string, entry: AssignmentEntry, ignoreOlder: boolean): void {
    const { book, logger } = this.options;
    const wasOrphan = book.orphan(job);
    const outcome = book.put(job, entry, { ignoreOlder });
    if (outcome === 'stale') {
      logger.warn({ event: 'assignment_stale', job }, 'etcd holds an assignment older than the one in force (restored from an older state?); kept running, waiting for the controller');
      return;
    }
    if (wasOrphan) logger.info({ event: 'assignment_restored', job }, 'assignment back: no longer orphaned');
    // The same decision again (a resync, the first read after adopting) changes nothing to run.
    if (outcome === 'unchanged') {
      if (wasOrphan) this.options.reportStatus(job);
      return;
    }
    this.options.schedule(job);
  }

  private vanish(job: string, reason: string): void {
    if (!this.options.book.vanish(job, reason)) return;
    this.options.logger.warn({ event: 'instance_orphaned', job, reason }, `${job}: ${reason}; keeps running on its last spec until the controller restores or removes it`);
    this.options.reportStatus(job);
  }

  private jobOf(key: string): string {
    return key.slice(this.options.prefix.length);
  }
}
