// Runs reconciles one at a time, the way controller-runtime's work queue does for a single key:
// triggers while a reconcile runs collapse into one more run; a failed run is retried with capped
// exponential backoff; a run may ask to be woken at a time (a rollout batch settling).

export interface ReconcileLoopOptions {
  readonly run: (reasons: readonly string[]) => Promise<{ wakeAtMs?: number }>;
  readonly onError: (error: unknown, attempt: number, retryInMs: number) => void;
  readonly initialBackoffMs?: number;
  readonly maxBackoffMs?: number;
  readonly now?: () => number;
}

export class ReconcileLoop {
  private pending = new Set<string>();
  private running: Promise<void> | undefined;
  private wakeTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private failures = 0;
  private stopped = false;

  constructor(private readonly options: ReconcileLoopOptions) {}

  trigger(reason: string): void {
    if (this.stopped) return;
    this.pending.add(reason);
    this.running ??= this.drain().finally(() => (this.running = undefined));
  }

  /** Resolves when no reconcile is running or pending. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.wakeTimer);
    clearTimeout(this.retryTimer);
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
