// How long a stopping instance stays out of naming before SIGTERM. The loader fills in the schema's
// default (2 s), but an assignment written by a controller from before rollout.drainSeconds carries
// none: agent and controller both read it through here, so such a record means the same to both.

export const DEFAULT_DRAIN_SECONDS = 2;

export function drainSecondsOf(rollout: { readonly drainSeconds?: number }): number {
  return rollout.drainSeconds ?? DEFAULT_DRAIN_SECONDS;
}
