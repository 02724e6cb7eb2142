// Runs reconciles one at a time, the way controller-runtime's work queue does for a single key:
// triggers while a reconcile runs collapse into one more run; a failed run is retried with capped
// exponential backoff; a run may ask to be woken at a time (a rollout batch settling).
//
// Observed changes (the fleet's status writes) come in bursts — a rollout batch's 25 instances report
// Starting, Running, Healthy within ~100-200 ms — and are settled into one reconcile: `settleQuietMs`
// after the burst's last change, and at the latest `settleMaxMs` after its first, so a steady trickle
// (agents refreshing their facts) cannot hold a rollout's next batch back. The quiet edge is what
// hands a batch on: after its last Healthy nothing else comes, and the next batch is written ~20 ms
// later instead of whenever the timer armed by the batch's first status runs out (7-100 ms, measured
// on a rollout's status stream at 100 hosts, with the same 6-9 reconciles per 4-batch rollout).

export interface ReconcileLoopOptions {
  readonly run: (reasons: readonly string[]) => Promise<{ wakeAtMs?: number }>;
  readonly onError: (error: unknown, attempt: number, retryInMs: number) => void;
  readonly initialBackoffMs?: number;
  readonly maxBackoffMs?: number;
  /** observe(): a burst of changes is one reconcile this long after its last change; default 20 ms. */
  readonly settleQuietMs?: number;
  /** observe(): and at the latest this long after its first; default 100 ms. */
  readonly settleMaxMs?: number;
  readonly now?: () => number;
}

export const DEFAULT_SETTLE_QUIET_MS = 20;
export const DEFAULT_SETTLE_MAX_MS = 100;

export class ReconcileLoop {
  private pending = new Set<string>();
  private running: Promise<void> | undefined;
  private wakeTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private settleTimer: NodeJS.Timeout | undefined;
  /** When the burst being settled began. */
  private settleStartedAt: number | undefined;
  private failures = 0;
  private stopped = false;

  constructor(private readonly options: ReconcileLoopOptions) {}

  trigger(reason: string): void {
    if (this.stopped) return;
    this.pending.add(reason);
    this.running ??= this.drain().finally(() => (this.running = undefined));
  }

  /** An observed change: settled with the rest of its burst into one trigger (see above). */
  observe(reason: string): void {
    if (this.stopped) return;
    const now = (this.options.now ?? Date.now)();
    this.settleStartedAt ??= now;
    const dueAt = Math.min(now + (this.options.settleQuietMs ?? DEFAULT_SETTLE_QUIET_MS), this.settleStartedAt + (this.options.settleMaxMs ?? DEFAULT_SETTLE_MAX_MS));
    clearTimeout(this.settleTimer);
    this.settleTimer = setTimeout(() => {
      this.settleTimer = undefined;
      this.settleStartedAt = undefined;
      this.trigger(reason);
    }, Math.max(0, dueAt - now));
  }

  /** Resolves when no reconcile is running or pending. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.wakeTimer);
    clearTimeout(this.retryTimer);
    clearTimeout(this.settleTimer);
    await this.idle();
  }

  private async drain(): Promise<void> {
    while (this.pending.size > 0 && !this.stopped) {
      const reasons = [...this.pending];
      this.pending.clear();
      try {
        const { wakeAtMs } = await this.options.run(reasons);
        this.failures = 0;
        if (wakeAtMs !== undefined) this.wakeAt(wakeAtMs);
      } catch (error) {
        this.failures++;
        const initial = this.options.initialBackoffMs ?? 500;
        const delay = Math.min(this.options.maxBackoffMs ?? 30_000, initial * 2 ** (this.failures - 1));
        this.options.onError(error, this.failures, delay);
        clearTimeout(this.retryTimer);
        // The failed reasons come back with the retry: level-triggered, nothing is lost.
        this.retryTimer = setTimeout(() => reasons.forEach((reason) => this.trigger(reason)), delay);
      }
    }
  }

  private wakeAt(atMs: number): void {
    const now = (this.options.now ?? Date.now)();
    clearTimeout(this.wakeTimer);
    this.wakeTimer = setTimeout(() => this.trigger('timer'), Math.max(0, Math.min(atMs - now, 2 ** 31 - 1)));
  }
}
