// When to restart an instance that exited, and when its exits amount to a crash loop. Pure: the
// caller passes the time in, so the backoff sequence is tested with plain numbers.
//
// Exponential backoff (1 s, 2 s, 4 s … capped) keeps a broken job from burning the host; resetting
// it once the process has stayed up for a while keeps a job that crashes once a week from paying
// for last week's crashes. A crash loop is only a label: the job is still retried, at the capped
// backoff, because a dependency that comes back (a database, a mount) heals it without anyone acting.

export interface RestartPolicy {
  readonly initialBackoffMs: number;
  readonly maxBackoffMs: number;
  /** Up this long → past exits stop counting (backoff and crash-loop count reset). */
  readonly resetAfterMs: number;
  /** More exits than this within crashLoopWindowMs is a crash loop. */
  readonly crashLoopExits: number;
  readonly crashLoopWindowMs: number;
}

export const DEFAULT_RESTART_POLICY: RestartPolicy = {
  initialBackoffMs: 1_000,
  maxBackoffMs: 60_000,
  resetAfterMs: 10_000,
  crashLoopExits: 5,
  crashLoopWindowMs: 60_000,
};

export interface RestartDecision {
  readonly delayMs: number;
  readonly crashLoop: boolean;
}

export class RestartBackoff {
  private attempt = 0;
  private exitTimesMs: number[] = [];
  private looping = false;

  constructor(readonly policy: RestartPolicy = DEFAULT_RESTART_POLICY) {}

  /** True from the exit that crossed the threshold until reset(). */
  get crashLooping(): boolean {
    return this.looping;
  }

  /** Records an exit at nowMs; returns how long to wait before the next start. */
  recordExit(nowMs: number): RestartDecision {
    const { initialBackoffMs, maxBackoffMs, crashLoopExits, crashLoopWindowMs } = this.policy;
    this.exitTimesMs = [...this.exitTimesMs.filter((at) => nowMs - at < crashLoopWindowMs), nowMs];
    if (this.exitTimesMs.length > crashLoopExits) this.looping = true;
    // The exponent stops growing at the cap, so a job looping for months cannot overflow it.
    const delayMs = Math.min(initialBackoffMs * 2 ** this.attempt, maxBackoffMs);
    if (delayMs < maxBackoffMs) this.attempt += 1;
    return { delayMs, crashLoop: this.looping };
  }

  /** The process stayed up for resetAfterMs: forget its past exits. */
  reset(): void {
    this.attempt = 0;
    this.exitTimesMs = [];
    this.looping = false;
  }
}
