// When to try a failed deploy again (an artifact fetch that hit a reset, a 503, a full disk). The
// agents of a fleet fail together — the artifact server restarted, a shared connection was cut — so
// a fixed delay brings them all back at once and makes a blip of a second cost ten. Exponential from
// 1 s to 30 s, each delay spread over its upper half so the fleet does not retry in step. Pure.

export const DEPLOY_RETRY = { initialMs: 1_000, maxMs: 30_000 } as const;

/** The wait before the next attempt, after `failures` (≥ 1) failed ones in a row. */
export function deployRetryDelayMs(failures: number, random: () => number = Math.random): number {
  const base = Math.min(DEPLOY_RETRY.maxMs, DEPLOY_RETRY.initialMs * 2 ** Math.max(0, failures - 1));
  return Math.round(base / 2 + (base / 2) * random());
}

/**
 * Failed deploys in a row per job, and the timer of each job's next attempt. The count is per spec:
 * a new assignment starts again from the shortest delay (a fix should not wait out the backoff of
 * the spec it replaces), and a removed job leaves nothing behind.
 */
export class DeployRetries {
  private readonly failures = new Map<string, { readonly specHash: string; readonly count: number }>();
  private readonly timers = new Map<string, NodeJS.Timeout>();

  /** Counts a failure; when retryable, `retry` runs after the backoff delay, which is returned. */
  failed(job: string, specHash: string, retryable: boolean, retry: () => void): number | undefined {
    const previous = this.failures.get(job);
    const count = previous?.specHash === specHash ? previous.count + 1 : 1;
    this.failures.set(job, { specHash, count });
    if (!retryable) return undefined;
    const delayMs = deployRetryDelayMs(count);
    this.cancel(job);
    this.timers.set(job, setTimeout(retry, delayMs));
    return delayMs;
  }

  /** A pending retry is no longer needed (the job is reconciled now). */
  cancel(job: string): void {
    clearTimeout(this.timers.get(job));
    this.timers.delete(job);
  }

  /** The job deployed, or left the host: forget its failures. */
  forget(job: string): void {
    this.cancel(job);
    this.failures.delete(job);
  }

  close(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }
}
