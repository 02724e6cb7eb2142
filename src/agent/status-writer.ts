// Writes status/<host>/<job> from the agent's instances: the newest status per job, batched, and
// kept when etcd is unreachable (fail static) to be written when it returns.
import type { KeyLayout } from '../store/keys.js';
import type { StatusRecord } from '../store/records.js';
import type { BatchOp } from '../store/state-store.js';

export interface StatusStore {
  readonly layout: KeyLayout;
  applyBatch(ops: readonly BatchOp[]): Promise<unknown>;
}

export class StatusWriter {
  /** job → the status to write (null: delete the key). */
  private pending = new Map<string, StatusRecord | null>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private failures = 0;
  private closed = false;

  constructor(
    private readonly host: string,
    private readonly store: () => StatusStore | undefined,
    private readonly options: { readonly debounceMs?: number; readonly onError?: (error: unknown) => void } = {},
  ) {}

  set(job: string, status: StatusRecord | null): void {
    this.pending.set(job, status);
    this.schedule(this.options.debounceMs ?? 100);
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

  private schedule(delayMs: number): void {
    // Closed: a flush that failed while closing must not retry for ever against a closed client.
    if (this.timer || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flushing ??= this.flush().finally(() => (this.flushing = undefined));
    }, delayMs);
  }

  private async flush(): Promise<void> {
    const store = this.store();
    if (!store || this.pending.size === 0) return;
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
    if (this.pending.size > 0) this.schedule(this.options.debounceMs ?? 100);
  }
}
