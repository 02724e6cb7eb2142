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
