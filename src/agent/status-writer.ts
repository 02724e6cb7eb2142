// Writes status/<host>/<job> from the agent's instances: the newest status per job, batched, and
// kept when etcd is unreachable (fail static) to be written when it returns.
import type { KeyLayout } from '../store/keys.js';
import type { InstanceState, StatusRecord } from '../store/records.js';
import type { BatchOp } from '../store/state-store.js';

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

export class StatusWriter {
  /** job → the status to write (null: delete the key). */
  private pending = new Map<string, StatusRecord | null>();
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

  constructor(
    private readonly host: string,
    private readonly store: () => StatusStore | undefined,
    private readonly options: { readonly debounceMs?: number; readonly onError?: (error: unknown) => void } = {},
  ) {}

  private get debounceMs(): number {
    return this.options.debounceMs ?? 100;
  }

  /**
   * A change to a decisive state is written at once when nothing was written in the last debounce
   * window (a rollout batch waits on it), else at the window's end; anything else waits a whole
   * window, so an instance's Stopped/Starting/Running/Healthy, or many jobs changing together, are
   * still one write.
   */
  set(job: string, status: StatusRecord | null): void {
    this.pending.set(job, status);
    // After a failed write the backoff stands: urgency must not hammer an etcd that is down.
    if (this.isNews(job, status) && this.failures === 0) this.schedule(this.windowLeftMs(), { sooner: true });
    else this.schedule(this.debounceMs);
  }

  /** Writes whatever is pending now (etcd came back). */
  flushSoon(): void {
    this.schedule(0);
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
    const dueAt = performance.now() + delayMs;
    if (this.timer && !(sooner && dueAt < this.dueAt)) return;
    clearTimeout(this.timer);
    this.dueAt = dueAt;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flushing ??= this.flush().finally(() => (this.flushing = undefined));
    }, delayMs);
  }

  private async flush(): Promise<void> {
    const store = this.store();
    if (!store || this.pending.size === 0) return;
    this.lastFlushAt = performance.now();
    const batch = this.pending;
    this.pending = new Map();
    const ops: BatchOp[] = [...batch].map(([job, status]) => (status ? { put: store.layout.status(this.host, job), value: status } : { delete: store.layout.status(this.host, job) }));
    try {
      await store.applyBatch(ops);
      this.failures = 0;
    } catch (error) {
      // Keep what failed unless something newer came meanwhile; retry with backoff.
      for (const [job, status] of batch) if (!this.pending.has(job)) this.pending.set(job, status);
      this.failures++;
      this.options.onError?.(error);
      this.schedule(Math.min(10_000, 250 * 2 ** this.failures));
      return;
    }
    for (const [job, status] of batch) {
      if (status) this.written.set(job, specState(status));
      else this.written.delete(job);
    }
    // What came during the write: a decisive change goes out at the window's end, the rest a window later.
    const urgent = [...this.pending].some(([job, status]) => this.isNews(job, status));
    if (this.pending.size > 0) this.schedule(urgent ? this.windowLeftMs() : this.debounceMs);
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
