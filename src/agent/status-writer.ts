// Writes status/<host>/<job> from the agent's instances: the newest status per job, batched, and
// kept when etcd is unreachable (fail static) to be written when it returns. A status due soon rides
// in a transaction another writer of the host sends anyway (an instance's naming entry: see
// HostWriteBatcher), so turning Healthy costs the fleet one revision, not two.
import type { KeyLayout } from '../store/keys.js';
import type { InstanceState, StatusRecord } from '../store/records.js';
import type { BatchOp } from '../store/state-store.js';
import type { Ride } from './host-write-batcher.js';

export interface StatusStore {
  readonly layout: KeyLayout;
  applyBatch(ops: readonly BatchOp[]): Promise<unknown>;
}

/**
 * The states the controller acts on: a rollout's next batch waits for Healthy (or Running without a
 * check, which the agent reports as Healthy), a failed or crashing instance fails it. Starting, a
 * Running still waiting for its first check, and Stopped are steps on the way to one of these.
 */
const DECISIVE: ReadonlySet<InstanceState> = new Set(['Healthy', 'Unhealthy', 'CrashLoop', 'Failed']);

/**
 * How long a step on the way (Starting, Stopped, a Running still waiting for its check) may wait.
 * Only people read steps (the console); at 1 s a loaded host (1,000 simulated on 2 cores) still
 * wrote 1.7 statuses per instance when rolling everything, its deploys outlasting the wait.
 */
export const STEP_DELAY_MS = 2_000;

interface PendingStatus {
  readonly status: StatusRecord | null;
  /** When it must be written (performance.now()). */
  readonly dueAt: number;
  /** Which set() it came from: a failed write is put back only if nothing newer was set since. */
  readonly sequence: number;
}

export class StatusWriter {
  /** job → the status to write (null: delete the key) and when. */
  private pending = new Map<string, PendingStatus>();
  /**
   * job → the spec and state last written: a decisive state already there is no news (a metrics
   * refresh), the same state on a new spec is (a rollout's instance healthy again).
   */
  private readonly written = new Map<string, string>();
  private timer: NodeJS.Timeout | undefined;
  /** When the armed timer fires (performance.now()). */
  private dueAt = 0;
  /** When the last flush started: at most one write per debounce window, however urgent. */
  private lastFlushAt = -Infinity;
  private flushing: Promise<void> | undefined;
  private failures = 0;
  private closed = false;
  /** Counts set() calls; job → the sequence of its newest status. */
  private sequence = 0;
  private readonly newest = new Map<string, number>();

  constructor(
    private readonly host: string,
    private readonly store: () => StatusStore | undefined,
    private readonly options: { readonly debounceMs?: number; readonly stepDelayMs?: number; readonly onError?: (error: unknown) => void } = {},
  ) {}

  private get debounceMs(): number {
    return this.options.debounceMs ?? 100;
  }

  /**
   * A change to a decisive state is written at once when nothing was written in the last debounce
   * window (a rollout batch waits on it), else at the window's end. A deleted key waits a window.
   * A step on the way waits STEP_DELAY_MS from the first unwritten change: an instance usually
   * reaches a decisive state by then, and its steps are never written at all. A write carries only
   * what is due: a busy host's decisive changes used to take every other job's steps along,
   * which were then written again (2.6 writes per instance when rolling everything, ~1.1 for one job).
   */
  set(job: string, status: StatusRecord | null): void {
    const now = performance.now();
    // After a failed write the backoff stands: urgency must not hammer an etcd that is down.
    const urgent = this.isNews(job, status) && this.failures === 0;
    const delayMs = urgent ? this.windowLeftMs() : status === null ? this.debounceMs : (this.options.stepDelayMs ?? STEP_DELAY_MS);
    // Never later than already promised: a stream of steps is still written every STEP_DELAY_MS.
    const dueAt = Math.min(this.pending.get(job)?.dueAt ?? Infinity, now + delayMs);
    const sequence = ++this.sequence;
    this.newest.set(job, sequence);
    this.pending.set(job, { status, dueAt, sequence });
    this.schedule(dueAt - now, { sooner: this.failures === 0 });
  }

  /** The job's key no longer holds what was written (deleted by hand): its next status is news. */
  forget(job: string): void {
    this.written.delete(job);
  }

  /** Writes whatever is pending now (etcd came back). */
  flushSoon(): void {
    for (const [job, entry] of this.pending) this.pending.set(job, { ...entry, dueAt: 0 });
    this.schedule(0, { sooner: true });
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.flushing;
  }

  /** Arms the timer unless one is armed; `sooner` moves an armed one earlier (never later). */
  private schedule(delayMs: number, { sooner = false } = {}): void {
    // Closed: a flush that failed while closing must not retry for ever against a closed client.
    if (this.closed) return;
    const dueAt = performance.now() + Math.max(0, delayMs);
    if (this.timer && !(sooner && dueAt < this.dueAt)) return;
    clearTimeout(this.timer);
    this.dueAt = dueAt;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flushing ??= this.flush().finally(() => (this.flushing = undefined));
    }, Math.max(0, delayMs));
  }

  /**
   * What another writer's transaction may carry (see HostWriteBatcher): statuses held only by the
   * debounce window, due within it anyway. Steps keep their delay, and after a failure the backoff
   * stands.
   */
  takeAlong(busy: (key: string) => boolean): Ride | undefined {
    if (this.closed || this.failures > 0) return undefined;
    return this.collect(performance.now() + this.debounceMs, busy);
  }

  private async flush(): Promise<void> {
    const store = this.store();
    if (!store || this.pending.size === 0) return;
    // Timers fire a little early or late; what falls due within a millisecond goes now.
    const ride = this.collect(performance.now() + 1);
    if (!ride) return this.scheduleNext();
    this.lastFlushAt = performance.now();
    try {
      await store.applyBatch(ride.ops);
    } catch (error) {
      return ride.failed(error);
    }
    ride.written();
  }

  /** Takes what falls due by `horizon` (and is not `busy`) out of pending, to be written by whoever sends it. */
  private collect(horizon: number, busy: (key: string) => boolean = () => false): Ride | undefined {
    const store = this.store();
    const batch = new Map([...this.pending].filter(([job, entry]) => entry.dueAt <= horizon && !(store && busy(store.layout.status(this.host, job)))));
    if (!store || batch.size === 0) return undefined;
    for (const job of batch.keys()) this.pending.delete(job);
    const ops: BatchOp[] = [...batch].map(([job, { status }]) => (status ? { put: store.layout.status(this.host, job), value: status } : { delete: store.layout.status(this.host, job) }));
    return { ops, written: () => this.succeeded(batch), failed: (error) => this.failed(batch, error) };
  }

  private succeeded(batch: ReadonlyMap<string, PendingStatus>): void {
    this.failures = 0;
    for (const [job, { status, sequence }] of batch) {
      if (status) this.written.set(job, specState(status));
      else this.written.delete(job);
      if (this.newest.get(job) === sequence) this.newest.delete(job);
    }
    this.scheduleNext();
  }

  /** Keeps what failed unless something newer was set meanwhile (pending, or in a later write); retries it with backoff. */
  private failed(batch: ReadonlyMap<string, PendingStatus>, error: unknown): void {
    for (const [job, entry] of batch) if (this.newest.get(job) === entry.sequence) this.pending.set(job, { ...entry, dueAt: 0 });
    this.failures++;
    this.options.onError?.(error);
    this.schedule(Math.min(10_000, 250 * 2 ** this.failures));
  }

  /** Arms the timer for the earliest pending entry; a decisive one no sooner than the window's end. */
  private scheduleNext(): void {
    if (this.pending.size === 0) return;
    const earliest = Math.min(...[...this.pending.values()].map((entry) => entry.dueAt));
    this.schedule(Math.max(earliest - performance.now(), this.windowLeftMs()), { sooner: true });
  }

  /** A decisive state this job's key does not hold yet. */
  private isNews(job: string, status: StatusRecord | null): boolean {
    return status !== null && DECISIVE.has(status.state) && this.written.get(job) !== specState(status);
  }

  /** How long until a debounce window has passed since the last write began (0 when it has). */
  private windowLeftMs(): number {
    return Math.max(0, this.lastFlushAt + this.debounceMs - performance.now());
  }
}

function specState(status: StatusRecord): string {
  return `${status.specHash} ${status.state}`;
}
