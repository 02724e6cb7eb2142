// "etcd down at start → retry with backoff, not a crash": capped exponential backoff with jitter,
// so a fleet of agents restarted together does not hammer etcd in lockstep.
import { RetryAbortedError, StoreError } from './store-errors.js';

export interface RetryOptions {
  /** First delay; doubles per attempt up to maxMs. */
  readonly initialMs?: number;
  readonly maxMs?: number;
  readonly signal?: AbortSignal;
  /** Called before each wait, e.g. to log "etcd unreachable, retrying in 800 ms". */
  readonly onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
  /** Default: retry anything except a StoreError that says waiting cannot help (bad password, TLS). */
  readonly shouldRetry?: (error: unknown) => boolean;
  /** Injected for tests; defaults to Math.random. */
  readonly random?: () => number;
}

export function isRetryable(error: unknown): boolean {
  return !(error instanceof StoreError) || error.retryable;
}

/** The delay before retry number `attempt` (1-based): half fixed, half random, so it never collapses to 0. */
export function backoffDelayMs(attempt: number, initialMs: number, maxMs: number, random: () => number): number {
  const ceiling = Math.min(maxMs, initialMs * 2 ** Math.min(attempt - 1, 30));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

export async function retryWithBackoff<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const { initialMs = 100, maxMs = 5000, signal, onRetry, shouldRetry = isRetryable, random = Math.random } = options;
  for (let attempt = 1; ; attempt++) {
    if (signal?.aborted) throw new RetryAbortedError();
    try {
      return await fn(attempt);
    } catch (error) {
      if (!shouldRetry(error)) throw error;
      if (signal?.aborted) throw new RetryAbortedError({ cause: error });
      const delayMs = backoffDelayMs(attempt, initialMs, maxMs, random);
      onRetry?.(error, attempt, delayMs);
      if (!(await sleep(delayMs, signal))) throw new RetryAbortedError({ cause: error });
    }
  }
}

/** Resolves true after `ms`, or false as soon as the signal aborts. */
function sleep(ms: number, signal: AbortSignal | undefined): Promise<boolean> {
  return new Promise((resolve) => {
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
