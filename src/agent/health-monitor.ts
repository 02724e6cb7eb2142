// The monitor that runs a job's health check on its interval and reports transitions between
// healthy and unhealthy; naming registration follows them.
import type { HealthCheck } from '../model/types.js';
import { runHealthCheck, type HealthCheckContext, type HealthResult } from './health-check.js';

export type HealthState = 'unknown' | 'healthy' | 'unhealthy';

export interface HealthTransition {
  readonly from: HealthState;
  readonly to: 'healthy' | 'unhealthy';
  readonly result: HealthResult;
  readonly at: Date;
}

export interface HealthMonitorOptions {
  readonly check: HealthCheck;
  readonly ports: Readonly<Record<string, number>>;
  readonly context: Omit<HealthCheckContext, 'signal'>;
  /** Consecutive successes before healthy. Default 1: registering quickly is what rollouts wait for. */
  readonly healthyThreshold?: number;
  /** Consecutive failures before unhealthy. Default 2: one lost probe should not drain an instance. */
  readonly unhealthyThreshold?: number;
  /** Replaces runHealthCheck (tests, or a check done another way). */
  readonly probe?: (signal: AbortSignal) => Promise<HealthResult>;
}

/**
 * Runs the check every intervalSeconds, measured start to start, never two at once (a check slower
 * than the interval delays the next one), and reports transitions between healthy and unhealthy.
 * Starts `unknown`: a fresh instance is neither registered nor counted as failing until it has
 * been checked enough times to say.
 */
export class HealthMonitor {
  private stateValue: HealthState = 'unknown';
  private successes = 0;
  private failures = 0;
  private last: HealthResult | undefined;
  private lastDurationMs: number | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private readonly abort = new AbortController();
  private started = false;
  private readonly listeners = new Set<(transition: HealthTransition) => void>();
  private readonly healthyThreshold: number;
  private readonly unhealthyThreshold: number;

  constructor(private readonly options: HealthMonitorOptions) {
    this.healthyThreshold = Math.max(1, options.healthyThreshold ?? 1);
    this.unhealthyThreshold = Math.max(1, options.unhealthyThreshold ?? 2);
  }

  get state(): HealthState {
    return this.stateValue;
  }

  get lastResult(): HealthResult | undefined {
    return this.last;
  }

  /** How long the last finished check took, in seconds (for /metrics); undefined before the first. */
  get lastCheckSeconds(): number | undefined {
    return this.lastDurationMs === undefined ? undefined : this.lastDurationMs / 1000;
  }

  get consecutiveFailures(): number {
    return this.failures;
  }

  /** Calls `listener` on every transition; returns an unsubscribe. */
  onTransition(listener: (transition: HealthTransition) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The first check runs at once: a healthy instance should be registered without waiting an interval. */
  start(): void {
    if (this.started || this.abort.signal.aborted) return;
    this.started = true;
    this.tick();
  }

  /** Stops scheduling and aborts a check in flight; resolves when it has ended. No transition follows. */
  async stop(): Promise<void> {
    this.abort.abort();
    clearTimeout(this.timer);
    await this.running;
  }

  private tick(): void {
    const startedAt = Date.now();
    this.running = this.checkOnce().finally(() => {
      this.running = undefined;
      if (this.abort.signal.aborted) return;
      const delayMs = Math.max(0, this.options.check.intervalSeconds * 1000 - (Date.now() - startedAt));
      this.timer = setTimeout(() => this.tick(), delayMs);
    });
  }

  private async checkOnce(): Promise<void> {
    const signal = this.abort.signal;
    const startedAt = performance.now();
    let result: HealthResult;
    try {
      result = this.options.probe
        ? await this.options.probe(signal)
        : await runHealthCheck(this.options.check, this.options.ports, { ...this.options.context, signal });
    } catch (error) {
      // a wrong spec never heals by retrying, but it is still a failing instance, not a dead monitor
      result = { healthy: false, detail: (error as Error).message };
    }
    if (signal.aborted) return;
    this.lastDurationMs = performance.now() - startedAt;
    this.record(result);
  }

  private record(result: HealthResult): void {
    this.last = result;
    if (result.healthy) {
      this.successes += 1;
      this.failures = 0;
      if (this.stateValue !== 'healthy' && this.successes >= this.healthyThreshold) this.transition('healthy', result);
    } else {
      this.failures += 1;
      this.successes = 0;
      if (this.stateValue !== 'unhealthy' && this.failures >= this.unhealthyThreshold) this.transition('unhealthy', result);
    }
  }

  private transition(to: 'healthy' | 'unhealthy', result: HealthResult): void {
    const from = this.stateValue;
    this.stateValue = to;
    const transition: HealthTransition = { from, to, result, at: new Date() };
    for (const listener of this.listeners) {
      try {
        listener(transition);
      } catch {
        // a failing listener must not stop the checks; listeners handle their own errors
      }
    }
  }
}
